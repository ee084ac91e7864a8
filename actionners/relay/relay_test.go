package relay

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/process"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/transport"
)

func TestSubject(t *testing.T) {
	for host, want := range map[string]string{
		"node-1":                   "riposte.node.node-1.actions",
		"ip-10-0-0-1.ec2.internal": "riposte.node.ip-10-0-0-1_ec2_internal.actions",
		"node *>":                  "riposte.node.x-6e6f6465202a3e.actions",
		"":                         "riposte.node.x-.actions",
	} {
		if got := Subject(host); got != want {
			t.Errorf("Subject(%q) = %q, want %q", host, got, want)
		}
	}
}

// startNATS starts an embedded nats-server and returns two connections to
// it: one for the responder, one for the sensor.
func startNATS(t *testing.T) (responder, sensor *transport.Conn) {
	t.Helper()
	s, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	connect := func() *transport.Conn {
		c, err := transport.Connect(ctx, transport.ConnectOptions{InProcess: s})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(c.Close)
		return c
	}
	return connect(), connect()
}

// serve runs Serve for host until the test ends.
func serve(t *testing.T, conn *transport.Conn, host string, reg *actionners.Registry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, conn.NC, ServeOptions{Host: host, Registry: reg}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	// Serve subscribes before it logs; wait until a request finds it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := conn.NC.Request(Subject(host), []byte("{}"), time.Second)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sensor serving %s within 10s: %v", host, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killRegistry returns the registry of a node that runs process:kill.
func killRegistry(t *testing.T, opts process.KillOptions) *actionners.Registry {
	t.Helper()
	reg, err := actionners.NewRegistry(process.NewKill(opts))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func killRequest(host string, pid int, name string) actionners.Request {
	return actionners.Request{
		Action: actionners.Action{
			Actionner:  process.KillName,
			Target:     actionners.Target{Kind: "process", PID: pid},
			Parameters: map[string]any{"signal": "SIGKILL"},
		},
		Alert: &alert.Alert{UUID: alert.NewUUID(), Rule: "Terminal shell in container", Hostname: host,
			OutputFields: map[string]any{"proc.pid": pid, "proc.name": name}},
	}
}

func TestForwardKillsOnTheAlertsNode(t *testing.T) {
	responderConn, sensorConn := startNATS(t)
	// The sensor may kill the test's own children here.
	reg := killRegistry(t, process.KillOptions{AllowDescendants: true, AllowProcessGroup: true})
	serve(t, sensorConn, "worker-1.cluster.local", reg)
	fwd := NewForward(process.NewKill(process.KillOptions{}), responderConn.NC, 0)

	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- victim.Wait() }()

	res, err := fwd.Run(context.Background(), killRequest("worker-1.cluster.local", victim.Process.Pid, "sleep"))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Outcome != actionners.OutcomeSucceeded || !strings.Contains(res.Message, "SIGKILL") {
		t.Errorf("result = %+v, want succeeded with SIGKILL", res)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("sleep ended with %v, want SIGKILL", err)
		}
	case <-time.After(10 * time.Second):
		_ = victim.Process.Kill()
		t.Fatal("sleep still runs 10s after the relayed kill")
	}

	// The node's own checks still apply: pid 1 is rejected there.
	res, err = fwd.Run(context.Background(), killRequest("worker-1.cluster.local", 1, "init"))
	if err != nil || res.Outcome != actionners.OutcomeRejected {
		t.Errorf("kill of pid 1 = %+v, %v; want rejected by the node", res, err)
	}
}

func TestForwardWithoutSensor(t *testing.T) {
	responderConn, sensorConn := startNATS(t)
	reg := killRegistry(t, process.KillOptions{})
	serve(t, sensorConn, "worker-1", reg)
	fwd := NewForward(process.NewKill(process.KillOptions{}), responderConn.NC, 0)

	_, err := fwd.Run(context.Background(), killRequest("worker-2", 4242, "sh"))
	if err == nil || !strings.Contains(err.Error(), "no Riposte sensor of that node") || !strings.Contains(err.Error(), "worker-2") {
		t.Errorf("err = %v, want no sensor on worker-2", err)
	}
	res, err := fwd.Run(context.Background(), actionners.Request{Action: killRequest("", 4242, "sh").Action})
	if err != nil || res.Outcome != actionners.OutcomeNoTarget {
		t.Errorf("alert without a host = %+v, %v; want no target", res, err)
	}
}

func TestServeRejectsUnknownActionner(t *testing.T) {
	responderConn, sensorConn := startNATS(t)
	reg := killRegistry(t, process.KillOptions{})
	serve(t, sensorConn, "worker-1", reg)
	other := &named{name: "kubernetes:terminate"}
	_, err := NewForward(other, responderConn.NC, 0).Run(context.Background(), actionners.Request{
		Action: actionners.Action{Actionner: other.name, Target: actionners.Target{Kind: "pod", Namespace: "shop", Name: "cart"}},
		Alert:  &alert.Alert{Hostname: "worker-1"},
	})
	if err == nil || !strings.Contains(err.Error(), `does not run "kubernetes:terminate"`) {
		t.Errorf("err = %v, want the node to refuse an actionner it does not run", err)
	}

	_, err = NewForward(process.NewKill(process.KillOptions{}), responderConn.NC, 0).Run(context.Background(), actionners.Request{
		Action: actionners.Action{Actionner: process.KillName, Target: actionners.Target{Kind: "process", PID: 4242}, Parameters: map[string]any{"signal": "SIGNOPE"}},
		Alert:  &alert.Alert{Hostname: "worker-1"},
	})
	if err == nil || !strings.Contains(err.Error(), "SIGNOPE") {
		t.Errorf("err = %v, want the node to reject the invalid signal", err)
	}
}

// named is an actionner that only has a name.
type named struct{ name string }

func (n *named) Name() string                         { return n.name }
func (n *named) Validate(map[string]any) error        { return nil }
func (n *named) Permissions() []actionners.Permission { return nil }
func (n *named) Run(context.Context, actionners.Request) (actionners.Result, error) {
	return actionners.Result{}, errors.New("named actionners do not run")
}

func TestForwardCheckAsksTheAlertsNode(t *testing.T) {
	responderConn, sensorConn := startNATS(t)
	// The node may kill the test's own children here, so that one of them
	// passes every check.
	reg := killRegistry(t, process.KillOptions{AllowDescendants: true, AllowProcessGroup: true})
	serve(t, sensorConn, "worker-1", reg)
	fwd := NewForward(process.NewKill(process.KillOptions{}), responderConn.NC, 0)
	ctx := context.Background()

	// The checks find what the node would find, without acting.
	outcome, reason, err := fwd.Check(ctx, killRequest("worker-1", 1, "init"))
	if err != nil || outcome != actionners.OutcomeRejected || !strings.Contains(reason, "init process") {
		t.Errorf("check of pid 1 = %q, %q, %v; want rejected as the init process", outcome, reason, err)
	}
	outcome, reason, err = fwd.Check(ctx, killRequest("worker-1", 2, "kthreadd"))
	if err != nil || outcome != actionners.OutcomeRejected || !strings.Contains(reason, "kernel thread") {
		t.Errorf("check of pid 2 = %q, %q, %v; want rejected as a kernel thread", outcome, reason, err)
	}
	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = victim.Process.Kill()
		_ = victim.Wait()
	}()
	outcome, reason, err = fwd.Check(ctx, killRequest("worker-1", victim.Process.Pid, "sleep"))
	if err != nil || outcome != "" {
		t.Errorf("check of a killable process = %q, %q, %v; want an empty outcome", outcome, reason, err)
	}
	if err := victim.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the check signalled the process: %v", err)
	}

	// A node without a sensor serving checks leaves the outcome open.
	outcome, reason, err = fwd.Check(ctx, killRequest("worker-2", 1, "init"))
	if err != nil || outcome != "" {
		t.Errorf("check on a node without a sensor = %q, %v; want an empty outcome", outcome, err)
	}
	if !strings.Contains(reason, "no Riposte sensor of node worker-2") {
		t.Errorf("check on a node without a sensor gives the note %q, want it to name the node", reason)
	}
}
