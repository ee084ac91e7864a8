package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/riposte-sec/riposte/rules"
)

// rulesWatchInterval is the time between two checks of the rules files.
var rulesWatchInterval = 2 * time.Second

// ruleWatcher loads the rules again when a rules file changes, or at once on
// SIGHUP, as Falco does. Rules that fail to load leave the previous ones in
// force.
type ruleWatcher struct {
	withDefaults bool
	paths        []string
	ruleOpts     ruleOptions
	logger       *slog.Logger
	// onReload puts each new set of rules that loaded in force. An error
	// leaves the previous rules in force and counts as a failed reload.
	onReload func(*rules.Engine) error
	// loads records the outcome of every reload.
	loads *ruleLoads
}

// Run watches until ctx ends.
func (w *ruleWatcher) Run(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ticker := time.NewTicker(rulesWatchInterval)
	defer ticker.Stop()

	last := w.stamp()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			last = w.stamp()
			w.reload("SIGHUP")
		case <-ticker.C:
			if s := w.stamp(); s != last {
				last = s
				w.reload("a rules file changed")
			}
		}
	}
}

func (w *ruleWatcher) reload(reason string) {
	eng, err := loadRuleFiles(w.withDefaults, w.paths, w.ruleOpts, w.logger)
	if err == nil {
		err = w.onReload(eng)
	}
	if err != nil {
		w.loads.reloadFailed()
		w.logger.Error("reload rules: the previous rules stay in force; fix the rules file", "reason", reason, "error", err)
		return
	}
	w.loads.loaded(time.Now())
	w.logger.Info("rules reloaded", "reason", reason, "rules", len(eng.Rules()))
}

// ruleLoads counts the reloads of the rules by outcome and records the time
// of the last successful load. It is safe for concurrent use.
type ruleLoads struct {
	succeeded, failed atomic.Uint64
	// lastSuccess is the Unix time in nanoseconds of the last successful
	// load, at start or on reload.
	lastSuccess atomic.Int64
	// lastFailed is set while the last reload failed.
	lastFailed atomic.Bool
}

// started records the load of the rules at start, which is no reload.
func (l *ruleLoads) started(t time.Time) {
	l.lastSuccess.Store(t.UnixNano())
}

// loaded records a successful reload at t.
func (l *ruleLoads) loaded(t time.Time) {
	l.succeeded.Add(1)
	l.lastSuccess.Store(t.UnixNano())
	l.lastFailed.Store(false)
}

// reloadFailed records a reload that left the previous rules in force.
func (l *ruleLoads) reloadFailed() {
	l.failed.Add(1)
	l.lastFailed.Store(true)
}

// stamp describes the rules files by name, size and modification time, so
// that an edit, a new file in a rules directory, or a Kubernetes ConfigMap
// update, which swaps a symbolic link, changes it.
func (w *ruleWatcher) stamp() string {
	paths, err := expandRulePaths(w.paths)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", p, err)
			continue
		}
		fmt.Fprintf(&b, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}
