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

// TestSensorShellFromShellScript runs shell scripts with the #! lines
// #!/bin/sh and #!/usr/bin/env bash that start a shell, which must not fire
// "Shell spawned by a non-shell program" although the script's process is
// named after the script or starts as env. It then starts a shell from the
// test binary, directly and through env, which must fire it.
func TestSensorShellFromShellScript(t *testing.T) {
	alerts := runDefaultRules(t)

	dir := t.TempDir()
	scripts := map[string]string{
		filepath.Join(dir, "deploy.sh"):     "#!/bin/sh\nsh -c true\n",
		filepath.Join(dir, "env-deploy.sh"): "#!/usr/bin/env bash\nsh -c true\n",
	}
	for script, text := range scripts {
		if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(script).CombinedOutput(); err != nil {
			t.Fatalf("run %s: %v: %s", script, err, out)
		}
	}
	envMarker := "riposte-env-shell-" + sensortest.RandomHex(t, 4)
	if out, err := exec.Command("env", "bash", "-c", "true "+envMarker).CombinedOutput(); err != nil {
		t.Fatalf("run env bash -c: %v: %s", err, out)
	}
	marker := "riposte-non-shell-parent-" + sensortest.RandomHex(t, 4)
	if out, err := exec.Command("sh", "-c", "true "+marker).CombinedOutput(); err != nil {
		t.Fatalf("run sh -c: %v: %s", err, out)
	}

	// The scripts ran before the shells of the test binary, so their
	// alerts, if any, come first.
	sawEnv := false
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
			if strings.Contains(a.Output, "env-deploy.sh") {
				t.Errorf("the shell of the script env-deploy.sh (#!/usr/bin/env bash) fired %q: %s", a.Rule, a.Output)
			}
			sawEnv = sawEnv || strings.Contains(a.Output, envMarker)
			if strings.Contains(a.Output, marker) {
				if !sawEnv {
					t.Errorf("no %q alert for env bash -c run by the test binary", defaults.ShellSpawnedByNonShell)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no %q alert for the shell started by the test binary within 30s", defaults.ShellSpawnedByNonShell)
		}
	}
}
