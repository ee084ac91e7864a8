package detector

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

const testRules = `
- rule: Shell in container
  desc: a shell ran in a container
  condition: evt.type = execve and container.id != host and proc.name = sh
  output: shell in container (proc=%proc.name parent=%proc.pname container=%container.id)
  priority: WARNING
  tags: [container, shell]
`

func loadEngine(t *testing.T) *rules.Engine {
	t.Helper()
	eng, _, err := rules.Load(rules.Options{}, rules.File{Name: "test_rules.yaml", Content: []byte(testRules)})
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	return eng
}

// collector is a Sink that records alerts.
type collector struct {
	mu     sync.Mutex
	alerts []*alert.Alert
	err    error
	block  chan struct{}
}

func (c *collector) Deliver(_ context.Context, a *alert.Alert) error {
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.alerts = append(c.alerts, a)
	return nil
}

func (c *collector) snapshot() []*alert.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*alert.Alert(nil), c.alerts...)
}

func shellEvent(container string) *rulestest.Event {
	return rulestest.New("execve", "proc.name", "sh", "proc.pname", "nginx", "container.id", container)
}

func TestDetectorDeliversAlert(t *testing.T) {
	sink := &collector{}
	d, err := New(Options{Engine: loadEngine(t), Sink: sink, Hostname: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	when := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)
	d.Handle(shellEvent("0123456789ab"), when)
	d.Handle(shellEvent("host"), when)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	got := sink.snapshot()
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1", len(got))
	}
	a := got[0]
	if a.Rule != "Shell in container" {
		t.Errorf("rule = %q", a.Rule)
	}
	if a.Hostname != "node-1" {
		t.Errorf("hostname = %q", a.Hostname)
	}
	if len(a.UUID) != 36 {
		t.Errorf("uuid = %q, want a uuid", a.UUID)
	}
	if !a.Time.Equal(when) {
		t.Errorf("time = %v, want %v", a.Time, when)
	}
	if a.Priority != alert.PriorityWarning {
		t.Errorf("priority = %v", a.Priority)
	}
	if got := a.OutputFields["proc.pname"]; got != "nginx" {
		t.Errorf("output_fields[proc.pname] = %v", got)
	}
	if got := a.OutputFields["container.id"]; got != "0123456789ab" {
		t.Errorf("output_fields[container.id] = %v", got)
	}
	st := d.Stats()
	if st.Events != 2 || st.Matches != 1 || st.Delivered != 1 {
		t.Errorf("stats = %+v, want 2 events, 1 match, 1 delivered", st)
	}
}

func TestDetectorCountsDropsWhenQueueFull(t *testing.T) {
	sink := &collector{}
	d, err := New(Options{Engine: loadEngine(t), Sink: sink, QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Run is not started, so the queue fills after two alerts.
	for range 5 {
		d.Handle(shellEvent("0123456789ab"), time.Now())
	}
	if st := d.Stats(); st.Dropped != 3 {
		t.Fatalf("dropped = %d, want 3", st.Dropped)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(sink.snapshot()); got != 2 {
		t.Fatalf("delivered %d queued alerts on stop, want 2", got)
	}
}

func TestDetectorPassesEveryAlertToOnAlert(t *testing.T) {
	var seen []string
	d, err := New(Options{Engine: loadEngine(t), Sink: &collector{}, QueueSize: 2,
		OnAlert: func(a *alert.Alert) { seen = append(seen, a.UUID) }})
	if err != nil {
		t.Fatal(err)
	}
	// Run is not started: the queue holds two alerts, and OnAlert receives all
	// five, the dropped ones included, with their uuids set.
	for range 5 {
		d.Handle(shellEvent("0123456789ab"), time.Now())
	}
	d.Raise(&alert.Alert{Rule: "Raised"})
	if len(seen) != 6 {
		t.Fatalf("OnAlert saw %d alerts, want 6", len(seen))
	}
	for i, uuid := range seen {
		if uuid == "" {
			t.Errorf("alert %d reached OnAlert without a uuid", i)
		}
	}
}

func TestDetectorCountsSinkErrors(t *testing.T) {
	sink := &collector{err: errors.New("nats unavailable")}
	d, err := New(Options{Engine: loadEngine(t), Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	d.Handle(shellEvent("0123456789ab"), time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st.SinkErrors != 1 || st.Delivered != 0 {
		t.Fatalf("stats = %+v, want 1 sink error and nothing delivered", st)
	}
}

func TestDetectorLogsAlertsLostAtShutdown(t *testing.T) {
	sink := &collector{err: errors.New("nats unavailable")}
	var logs strings.Builder
	d, err := New(Options{Engine: loadEngine(t), Sink: sink, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d.Handle(shellEvent("0123456789ab"), time.Now())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `msg="alerts not delivered at shutdown" alerts=3`) {
		t.Errorf("no count of the alerts lost at shutdown in the log:\n%s", logs.String())
	}
}

func TestDetectorSwapsEngine(t *testing.T) {
	sink := &collector{}
	d, err := New(Options{Engine: loadEngine(t), Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	empty, _, err := rules.Load(rules.Options{}, rules.File{Name: "empty.yaml", Content: []byte("[]")})
	if err != nil {
		t.Fatal(err)
	}
	d.SetEngine(empty)
	d.Handle(shellEvent("0123456789ab"), time.Now())
	if st := d.Stats(); st.Matches != 0 {
		t.Fatalf("matches = %d after swapping in an empty engine, want 0", st.Matches)
	}
}

func TestNewRequiresSink(t *testing.T) {
	if _, err := New(Options{Engine: loadEngine(t)}); !errors.Is(err, ErrNoSink) {
		t.Fatalf("New without sink: err = %v, want ErrNoSink", err)
	}
}

// flakySink fails a given number of times, then accepts.
type flakySink struct {
	failures int
	calls    int
}

func (f *flakySink) Deliver(context.Context, *alert.Alert) error {
	f.calls++
	if f.calls <= f.failures {
		return errors.New("no responders available for request")
	}
	return nil
}

func TestRetryDeliversAfterFailures(t *testing.T) {
	inner := &flakySink{failures: 3}
	sink := Retry(inner, RetryOptions{MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond})
	if err := sink.Deliver(context.Background(), &alert.Alert{UUID: "u1"}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if inner.calls != 4 {
		t.Errorf("calls = %d, want 4", inner.calls)
	}
}

func TestRetryGivesUpAfterMaxElapsed(t *testing.T) {
	inner := &flakySink{failures: 1 << 30}
	sink := Retry(inner, RetryOptions{MinDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxElapsed: 20 * time.Millisecond})
	if err := sink.Deliver(context.Background(), &alert.Alert{UUID: "u1"}); err == nil {
		t.Fatal("Deliver succeeded against a sink that always fails")
	}
	if inner.calls < 2 {
		t.Errorf("calls = %d, want retries", inner.calls)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	inner := &flakySink{failures: 1 << 30}
	sink := Retry(inner, RetryOptions{MinDelay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	if err := sink.Deliver(ctx, &alert.Alert{UUID: "u1"}); err == nil {
		t.Fatal("Deliver succeeded against a sink that always fails")
	}
	if inner.calls != 1 {
		t.Errorf("calls = %d, want 1 before the context ended", inner.calls)
	}
}

func TestDetectorRaise(t *testing.T) {
	sink := &collector{}
	d, err := New(Options{Engine: loadEngine(t), Sink: sink, Hostname: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	d.Raise(&alert.Alert{Rule: "Riposte internal: syscall event drop", Source: "internal"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	got := sink.snapshot()
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1", len(got))
	}
	if got[0].UUID == "" || got[0].Hostname != "node-1" {
		t.Errorf("raised alert = %+v, want a uuid and hostname node-1", got[0])
	}
}
