package responder

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/actionners/process"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/transport"
)

// env is an embedded nats-server with the streams, and a connection to it.
type env struct {
	server  *transport.Server
	conn    *transport.Conn
	streams *transport.Streams
}

func newEnv(t testing.TB, memory bool) *env {
	t.Helper()
	s, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := transport.Connect(ctx, transport.ConnectOptions{InProcess: s})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(c.Close)
	streams, err := transport.EnsureStreams(ctx, c.JS, transport.StreamOptions{Memory: memory})
	if err != nil {
		t.Fatalf("create streams: %v", err)
	}
	return &env{server: s, conn: c, streams: streams}
}

// recorder is an actionner that appends each request to a list. It stands
// for any action with an effect that must not happen twice.
type recorder struct {
	name string
	mu   sync.Mutex
	runs []actionners.Request
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Validate(params map[string]any) error {
	for k := range params {
		if k != "note" {
			return fmt.Errorf("%w: unknown parameter %q", actionners.ErrInvalidParameters, k)
		}
	}
	return nil
}
func (r *recorder) Run(_ context.Context, req actionners.Request) (actionners.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, req)
	return actionners.Result{Outcome: actionners.OutcomeSucceeded, Message: "recorded"}, nil
}
func (r *recorder) Permissions() []actionners.Permission { return nil }

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.runs)
}

func defaultRegistry(t testing.TB, extra ...actionners.Actionner) *actionners.Registry {
	t.Helper()
	list := append([]actionners.Actionner{process.NewKill(process.KillOptions{})}, extra...)
	reg, err := actionners.NewRegistry(list...)
	if err != nil {
		t.Fatal(err)
	}
	// The default policies name the Kubernetes actionners; without a client
	// they validate parameters but never run.
	if err := kubernetes.Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	return reg
}

func loadPolicies(t testing.TB, reg *actionners.Registry, files map[string]string) *policies.Set {
	t.Helper()
	opts := policies.Options{Registry: reg}
	if files != nil {
		dir := t.TempDir()
		for name, text := range files {
			if err := os.WriteFile(dir+"/"+name, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		opts.Dir = dir
	}
	set, err := policies.Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	return set
}

// startResponder runs a responder until the test ends.
func startResponder(t testing.TB, opts Options) *Responder {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatalf("new responder: %v", err)
	}
	return startResponderWith(t, r)
}

// startResponderWith runs r until the test ends.
func startResponderWith(t testing.TB, r *Responder) *Responder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("responder Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("responder did not stop within 30s")
		}
	})
	return r
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// decisions subscribes to every decision and returns a channel of them.
func (e *env) decisions(t testing.TB) <-chan Decision {
	t.Helper()
	ch := make(chan Decision, 10000)
	sub, err := e.conn.NC.Subscribe(transport.DecisionsSubjectPrefix+".>", func(m *nats.Msg) {
		var d Decision
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Errorf("decode decision %s: %v", m.Data, err)
			return
		}
		ch <- d
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := e.conn.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

// waitDecision returns the first decision about the alert with the given
// uuid, failing the test after a generous timeout.
func waitDecision(t testing.TB, ch <-chan Decision, uuid string) Decision {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case d := <-ch:
			if d.AlertUUID == uuid {
				return d
			}
		case <-timeout:
			t.Fatalf("no decision for alert %s within 30s", uuid)
		}
	}
}

func shellAlert(pid int) *alert.Alert {
	return &alert.Alert{
		UUID:     alert.NewUUID(),
		Rule:     "Shell spawned in a container",
		Priority: alert.PriorityNotice,
		Time:     time.Now().UTC(),
		Source:   "syscall",
		Hostname: "node-1",
		Output:   "A shell was spawned in a container",
		Tags:     []string{"container", "shell"},
		OutputFields: map[string]any{
			"container.id": "0123456789ab",
			"proc.pid":     pid,
			"proc.name":    "sh",
		},
	}
}

func publish(t testing.TB, e *env, a *alert.Alert) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := transport.NewPublisher(e.conn.JS).Publish(ctx, a); err != nil {
		t.Fatalf("publish alert: %v", err)
	}
}

func newKillAllowingChildren() actionners.Actionner {
	return process.NewKill(process.KillOptions{AllowDescendants: true})
}

func shellAlerts(n, pid int) []*alert.Alert {
	list := make([]*alert.Alert, n)
	for i := range list {
		list[i] = shellAlert(pid)
	}
	return list
}

func newPublisher(e *env) *transport.Publisher {
	return transport.NewPublisher(e.conn.JS)
}
