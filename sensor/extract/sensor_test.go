package extract

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/sensor"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// TestSensorShellInContainer runs the real sensor with the default rules,
// starts `sh -c id` in a kubelet-like cgroup, and expects the container
// shell rule to fire with the short container id and the parent's name.
func TestSensorShellInContainer(t *testing.T) {
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
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run ended before ready: %v", err)
	}

	self, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range sensortest.Hierarchies(t) {
		id := sensortest.RandomHex(t, 32)
		dir := sensortest.KubeletCgroup(t, root, id)
		if out, err := sensortest.CommandInCgroup(dir, "id").CombinedOutput(); err != nil {
			t.Fatalf("run sh -c id in %s: %v: %s", dir, err, out)
		}

		deadline := time.After(30 * time.Second)
	wait:
		for {
			select {
			case a := <-alerts:
				if a.Rule != "Shell spawned in a container" || a.OutputFields["container.id"] != id[:12] {
					continue
				}
				if got, want := a.OutputFields["proc.pname"], strings.TrimSpace(string(self)); got != want {
					t.Errorf("%s: proc.pname = %v, want %s", root, got, want)
				}
				if got := a.OutputFields["user.name"]; got != "root" {
					t.Errorf("%s: user.name = %v, want root", root, got)
				}
				break wait
			case <-deadline:
				t.Fatalf("%s: no container shell alert for container %s within 30s", root, id[:12])
			}
		}
	}
}
