package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/transport"
)

// killContainerShell kills the shell of one container, named by its id, so
// that the test acts on nothing else of the host.
const killContainerShell = `package riposte.policies.test_kill

actions contains {
	"actionner": "process:kill",
	"target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]},
	"reason": "test",
} if {
	input.alert.rule == "Shell spawned in a container"
	input.alert.output_fields["container.id"] == %q
}
`

// TestResponderKillsThroughSensor runs `riposte sensor` and `riposte
// responder`, acting, against one NATS server, as on a cluster where the
// responder runs on another node than the alert. A shell started in a
// kubelet-like cgroup raises an alert. The responder sends the kill to the
// sensor of the alert's host, which signals the shell.
func TestResponderKillsThroughSensor(t *testing.T) {
	requireRoot(t)
	server, err := transport.StartServer(transport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	containerID := randomHex(t, 32)
	policyDir := t.TempDir()
	policy := fmt.Sprintf(killContainerShell, containerID[:12])
	if err := os.WriteFile(filepath.Join(policyDir, "kill.rego"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()

	sensor := viper.New()
	sensor.Set("nats.url", server.ClientURL())
	sensor.Set("nats.replicas", 1)
	sensor.Set("rules.defaults", true)
	sensor.Set("output", "none")
	sensor.Set("serve-host-actions", true)
	sensorDone := make(chan error, 1)
	go func() { sensorDone <- runSensor(ctx, sensor, discard) }()

	resp := viper.New()
	resp.Set("nats.url", server.ClientURL())
	resp.Set("nats.replicas", 1)
	resp.Set("dry-run", false)
	resp.Set("policies.dir", policyDir)
	resp.Set("host-actions", "sensor")
	resp.Set("webhook.addr", "")
	resp.Set("metrics.addr", "")
	resp.Set("kubeconfig", "")
	t.Setenv("KUBECONFIG", "")
	respDone := make(chan error, 1)
	go func() { respDone <- runResponder(ctx, resp, discard) }()
	defer func() {
		cancel()
		for name, done := range map[string]chan error{"sensor": sensorDone, "responder": respDone} {
			if err := <-done; err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}()

	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: server.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	decisions, err := waitForStream(ctx, t, conn.JS, transport.DecisionsStream).OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}

	// The shell blocks opening a FIFO, with no child, until it is killed.
	// setsid -f detaches it from the test, whose descendants the sensor
	// refuses to kill.
	fifo := filepath.Join(t.TempDir(), "hold")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	defer releaseFIFO(fifo)
	var join strings.Builder
	for _, dir := range makeKubeletCgroups(t, containerID) {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs && ", dir)
	}
	shell := join.String() + "exec /bin/sh -c 'read line < " + fifo + "'"

	deadline := time.Now().Add(e2eTimeout)
	for time.Now().Before(deadline) {
		// The sensor may still be attaching: start shells until one is
		// decided on. A shell that is never killed ends at cleanup.
		// The shell keeps its standard streams, so they must not be pipes
		// that the test waits on.
		if err := exec.Command("setsid", "-f", "/bin/sh", "-c", shell).Run(); err != nil {
			t.Fatalf("start shell in container cgroup: %v", err)
		}
		msg, err := decisions.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			continue
		}
		var d struct {
			Rule    string `json:"rule"`
			Outcome string `json:"outcome"`
			Actions []struct {
				Result struct {
					Outcome string         `json:"outcome"`
					Message string         `json:"message"`
					Output  map[string]any `json:"output"`
				} `json:"result"`
			} `json:"actions"`
		}
		if err := json.Unmarshal(msg.Data(), &d); err != nil {
			t.Fatalf("decode decision %s: %v", msg.Data(), err)
		}
		if d.Rule != "Shell spawned in a container" || d.Outcome == "no-action" {
			continue // other activity of the host
		}
		if len(d.Actions) != 1 || d.Actions[0].Result.Outcome != "succeeded" {
			t.Fatalf("decision = %s, want one succeeded kill", msg.Data())
		}
		pid, _ := d.Actions[0].Result.Output["pid"].(float64)
		if pid == 0 {
			t.Fatalf("kill result %s names no pid", msg.Data())
		}
		waitGone(t, int(pid))
		return
	}
	t.Fatalf("no decision on the container shell within %v", e2eTimeout)
}

// waitGone waits until pid no longer runs a shell: killed and reaped, or a
// zombie.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs 10s after its kill: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// releaseFIFO ends every shell still waiting on fifo.
func releaseFIFO(fifo string) {
	for range 100 {
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return // no reader left
		}
		_, _ = f.WriteString("\n")
		f.Close()
		time.Sleep(10 * time.Millisecond)
	}
}
