package sensor

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/extract"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// TestStableRuleRedirectToNetwork runs Falco's stable rules on the sensor
// and makes a process in a kubelet-like cgroup connect to a TCP listener
// and dup2 the socket onto its standard output, the pattern of a reverse
// shell. It expects "Redirect STDOUT/STDIN to Network Connection in
// Container" with the connection in its fields.
func TestStableRuleRedirectToNetwork(t *testing.T) {
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	sensortest.RequireRoot(t)
	eng, _, err := rules.LoadFiles(rules.Options{Matching: rules.MatchAll}, filepath.Join(dir, "falco_rules.yaml"))
	if err != nil {
		t.Fatalf("load stable rules: %v", err)
	}

	alerts := make(chan alert.Alert, 1024)
	adapter := extract.New("test-node", extract.NewUsers("/proc"))
	var matches []*rules.Rule
	s, err := New(Config{
		Syscalls: extract.SensorTypes(eng.EventTypes()),
		Handler: func(ev *event.Event) {
			adapter.Reset(ev)
			matches = eng.Match(adapter, matches[:0])
			for _, r := range matches {
				select {
				case alerts <- r.Alert(adapter, ev.Time, "test-node"):
				default:
				}
			}
		},
	}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
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
	<-s.Ready()

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	id := sensortest.RandomHex(t, 32)
	cg := sensortest.KubeletCgroup(t, sensortest.Hierarchies(t)[0], id)
	cmd := sensortest.CommandInCgroup(cg, "exec "+os.Args[0]+" -test.run=^$ "+ln.Addr().String())
	cmd.Env = append(os.Environ(), helperEnv+"=connect-dup")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper in cgroup: %v: %s", err, out)
	}

	deadline := time.After(waitTimeout)
	for {
		select {
		case a := <-alerts:
			if a.Rule != "Redirect STDOUT/STDIN to Network Connection in Container" {
				continue
			}
			if got := a.OutputFields["fd.type"]; got != "ipv4" {
				t.Errorf("fd.type = %v, want ipv4", got)
			}
			if got, ok := a.OutputFields["fd.rport"].(uint64); !ok || int(got) != ln.Addr().(*net.TCPAddr).Port {
				t.Errorf("fd.rport = %v (%T), want %d", a.OutputFields["fd.rport"], a.OutputFields["fd.rport"], ln.Addr().(*net.TCPAddr).Port)
			}
			if got := a.OutputFields["fd.l4proto"]; got != "tcp" {
				t.Errorf("fd.l4proto = %v, want tcp", got)
			}
			return
		case <-deadline:
			t.Fatalf("no redirect alert within %v", waitTimeout)
		}
	}
}
