package policies

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riposte-sec/riposte/actionners"
)

// WatchOptions configure Watch.
type WatchOptions struct {
	// Dir is the policy directory to watch. Required.
	Dir string
	// Registry checks literal actions, as in Options.
	Registry *actionners.Registry
	// Interval is the time between two scans of Dir. Zero means 2 seconds.
	Interval time.Duration
	// Current is the revision in force, so that the first scan does not
	// report it again. Empty means report the first successful load.
	Current string
	// OnReload receives each new set of policies that compiled.
	OnReload func(*Set)
	// OnError receives the error when changed policies fail to load. The
	// previous set stays in force.
	OnError func(error)
	// Reload, when it receives, loads the policies at once, changed or not,
	// as on SIGHUP. A reload that gives the revision in force is reported
	// through OnReload too, so that the caller can confirm it.
	Reload <-chan struct{}
}

// Watch scans the policy directory until ctx ends and loads the policies
// again when a .rego file was added, removed or changed. A change that does
// not compile is reported through OnError and the previous policies stay in
// force. Watch polls file sizes and modification times instead of relying on
// inotify, so it also detects Kubernetes ConfigMap updates, which swap a symbolic
// link.
func Watch(ctx context.Context, opts WatchOptions) error {
	if opts.Dir == "" {
		return errors.New("watch policies: missing directory")
	}
	interval := opts.Interval
	if interval == 0 {
		interval = 2 * time.Second
	}
	loadOpts := Options{Dir: opts.Dir, Registry: opts.Registry}
	// The first scan always loads, and reports the set only when its revision
	// differs from Current, so a change made before Watch started is seen.
	lastRevision := opts.Current
	lastStamp := ""

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		forced := false
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-opts.Reload:
			forced = true
		}
		s, err := stamp(opts.Dir)
		if err != nil {
			if opts.OnError != nil {
				opts.OnError(fmt.Errorf("watch policies: %w", err))
			}
			continue
		}
		if s == lastStamp && !forced {
			continue
		}
		lastStamp = s
		set, err := Load(ctx, loadOpts)
		if err != nil {
			if opts.OnError != nil {
				opts.OnError(err)
			}
			continue
		}
		if set.Revision() == lastRevision && !forced {
			continue
		}
		lastRevision = set.Revision()
		if opts.OnReload != nil {
			opts.OnReload(set)
		}
	}
}

// stamp summarizes the names, sizes and modification times of the .rego
// files under dir, following symbolic links.
func stamp(dir string) (string, error) {
	h := sha256.New()
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipHidden(p != root, d) {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return nil
		}
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
