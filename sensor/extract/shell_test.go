package extract

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/defaults"
	"github.com/riposte-sec/riposte/sensor"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// runDefaultRules runs the real sensor with the default rules, every rule
// matching, until the test ends, and returns the channel of their alerts.
func runDefaultRules(t *testing.T) <-chan alert.Alert {
	t.Helper()
	sensortest.RequireRoot(t)
	eng, _, err := rules.Load(rules.Options{Matching: rules.MatchAll}, defaultsFile(t))
	if err != nil {
		t.Fatalf("load default rules: %v", err)
	}

	alerts := make(chan alert.Alert, 1024)
	adapter := New("test-node", NewUsers("/proc"))
	var matches []*rules.Rule
	handler := func(ev *event.Event) {
		adapter.Reset(ev)
		matches = eng.Match(adapter, matches[:0])
		for _, r := range matches {
			select {
			case alerts <- r.Alert(adapter, ev.Time, "test-node"):
			default:
				t.Errorf("alert channel full: lost %q", r.Name)
			}
		}
	}
	s, err := sensor.New(sensor.Config{Handler: handler}, nil)
	if err != nil {
		t.Fatalf("sensor.New: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run ended before ready: %v", err)
	}
	return alerts
}

// TestSensorShellFromShellScript runs a shell script that starts a shell,
// which must not fire "Shell spawned by a non-shell program" although the
// script's process is named after the script, and then starts a shell from
// the test binary, which must fire it.
func TestSensorShellFromShellScript(t *testing.T) {
	alerts := runDefaultRules(t)

	script := filepath.Join(t.TempDir(), "deploy.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsh -c true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(script).CombinedOutput(); err != nil {
		t.Fatalf("run %s: %v: %s", script, err, out)
	}
	marker := "riposte-non-shell-parent-" + sensortest.RandomHex(t, 4)
	if out, err := exec.Command("sh", "-c", "true "+marker).CombinedOutput(); err != nil {
		t.Fatalf("run sh -c: %v: %s", err, out)
	}

	// The script ran before the shell of the test binary, so its alerts,
	// if any, come first.
	deadline := time.After(30 * time.Second)
	for {
		select {
		case a := <-alerts:
			if a.Rule != defaults.ShellSpawnedByNonShell {
				continue
			}
			if a.OutputFields["proc.pname"] == "deploy.sh" {
				t.Errorf("a shell started by the shell script deploy.sh fired %q: %s", a.Rule, a.Output)
			}
			if strings.Contains(a.Output, marker) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q alert for the shell started by the test binary within 30s", defaults.ShellSpawnedByNonShell)
		}
	}
}
