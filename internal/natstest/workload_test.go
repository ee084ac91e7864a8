package natstest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/internal/natstest"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/transport"
)

// recordActionner is the name of recorder in the registry and the policy.
const recordActionner = "test:record"

// recordAllPolicy chooses the recording actionner for every alert.
const recordAllPolicy = `package riposte.policies.record_all

actions contains {"actionner": "test:record", "target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]}} if true
`

// recorder is an actionner that counts its runs per alert uuid. It stands
// for an action with an effect that must happen exactly once.
type recorder struct {
	mu   sync.Mutex
	runs map[string]int
}

func newRecorder() *recorder { return &recorder{runs: map[string]int{}} }

func (r *recorder) Name() string                         { return recordActionner }
func (r *recorder) Validate(map[string]any) error        { return nil }
func (r *recorder) Permissions() []actionners.Permission { return nil }
func (r *recorder) Run(_ context.Context, req actionners.Request) (actionners.Result, error) {
	r.mu.Lock()
	r.runs[req.Alert.UUID]++
	r.mu.Unlock()
	return actionners.Result{Outcome: actionners.OutcomeSucceeded, Message: "recorded"}, nil
}

func (r *recorder) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.runs))
	for k, v := range r.runs {
		out[k] = v
	}
	return out
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// connectCluster connects to every node of c, so that the client fails over
// to another node when one stops.
func connectCluster(t testing.TB, c *natstest.Cluster, name string) *transport.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: c.URLs(), Name: name, Logger: testLogger()})
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// ensureStreams creates the streams with three replicas in file storage.
func ensureStreams(t testing.TB, conn *transport.Conn) *transport.Streams {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	streams, err := transport.EnsureStreams(ctx, conn.JS, transport.StreamOptions{Replicas: 3})
	if err != nil {
		t.Fatalf("create replicated streams: %v", err)
	}
	return streams
}

// startResponders runs n responders, each on its own connection, that share
// the durable consumer and act on every alert through rec, until the test
// ends. onDecision, when not nil, is called with every recorded decision.
func startResponders(t testing.TB, c *natstest.Cluster, n int, rec *recorder, onDecision func(responder.Decision)) {
	t.Helper()
	reg, err := actionners.NewRegistry(rec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "record.rego"), []byte(recordAllPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := policies.Load(context.Background(), policies.Options{Dir: dir, Registry: reg})
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	for i := range n {
		name := "responder-" + strconv.Itoa(i+1)
		conn := connectCluster(t, c, name)
		r, err := responder.New(responder.Options{
			JS:       conn.JS,
			Policies: set,
			Registry: reg,
			Name:     name,
			Node:     "test-node",
			Logger:   testLogger().With("responder", name),
			Guards:   responder.GuardOptions{Act: true, Cooldown: -1, RateLimit: -1},
			AckWait:  15 * time.Second,
			// Deliveries are not bounded lower, so that no alert reaches
			// the dead-letter stream while a node is down.
			MaxDeliver: 1000,
			OnDecision: onDecision,
		})
		if err != nil {
			t.Fatalf("new responder: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("%s did not stop within 60s", name)
			}
		})
	}
}

// newAlert returns an alert like a sensor's, with a new uuid.
func newAlert(sensor, i int) *alert.Alert {
	return &alert.Alert{
		UUID:     alert.NewUUID(),
		Rule:     "Shell spawned in a container",
		Priority: alert.PriorityNotice,
		Time:     time.Now().UTC(),
		Source:   "syscall",
		Hostname: "node-" + strconv.Itoa(sensor),
		Output:   "A shell was spawned in a container (user=root shell=sh parent=runc cmdline=sh -c id)",
		Tags:     []string{"container", "shell", "mitre_execution"},
		OutputFields: map[string]any{
			"container.id": "0123456789ab",
			"proc.pid":     1000 + i,
			"proc.name":    "sh",
			"user.name":    "root",
		},
	}
}

// publishUntilStored publishes alerts in batches like a sensor: alerts whose
// publish failed, as while a node is down, are published again with the same
// uuid until JetStream acknowledges them, and duplicate detection stores each
// once. It returns the number of failed publish attempts.
func publishUntilStored(ctx context.Context, pub *transport.Publisher, alerts []*alert.Alert) (retries int, err error) {
	pending := alerts
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return retries, err
		}
		batchCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		errs := pub.PublishBatch(batchCtx, pending)
		cancel()
		var failed []*alert.Alert
		for i, err := range errs {
			if err != nil {
				failed = append(failed, pending[i])
			}
		}
		retries += len(failed)
		if len(failed) > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		pending = failed
	}
	return retries, nil
}

// streamMsgs returns the number of messages in a stream, retrying while the
// cluster elects a leader.
func streamMsgs(t testing.TB, s jetstream.Stream) uint64 {
	t.Helper()
	var lastErr error
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		info, err := s.Info(ctx)
		cancel()
		if err == nil {
			return info.State.Msgs
		}
		lastErr = err
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("stream info: %v", lastErr)
	return 0
}

// readDecisions reads every decision on the decisions stream and counts them
// by alert uuid and by outcome.
func readDecisions(t testing.TB, s jetstream.Stream, total uint64) (perAlert map[string]int, outcomes map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()

	perAlert = map[string]int{}
	outcomes = map[string]int{}
	var d responder.Decision
	for i := uint64(0); i < total; i++ {
		// The ordered consumer recreates itself after an error, such as no
		// responders while a stream leader changes, so try again a few times.
		var msg jetstream.Msg
		for attempt := 1; ; attempt++ {
			msg, err = it.Next(jetstream.NextMaxWait(30 * time.Second))
			if err == nil {
				break
			}
			if attempt == 10 {
				t.Fatalf("read decision %d of %d: %v", i+1, total, err)
			}
			time.Sleep(time.Second)
		}

		d = responder.Decision{}
		if err := json.Unmarshal(msg.Data(), &d); err != nil {
			t.Fatalf("decode decision %d: %v", i+1, err)
		}
		perAlert[d.AlertUUID]++
		outcomes[d.Outcome]++
	}
	return perAlert, outcomes
}
