package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
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
	// onReload receives each new set of rules that loaded.
	onReload func(*rules.Engine)
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
	if err != nil {
		w.logger.Error("reload rules: the previous rules stay in force; fix the rules file", "reason", reason, "error", err)
		return
	}
	w.onReload(eng)
	w.logger.Info("rules reloaded", "reason", reason, "rules", len(eng.Rules()))
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
