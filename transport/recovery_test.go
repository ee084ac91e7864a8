package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/alert"
)

// syncBuffer is a bytes.Buffer that a logger and a test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func bufferLogger() (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

func testAlert() *alert.Alert {
	return &alert.Alert{
		Rule:     "Shell spawned in a container",
		Priority: alert.PriorityNotice,
		Time:     time.Now().UTC(),
		Source:   "syscall",
		Hostname: "node-1",
		Output:   "A shell was spawned in a container",
	}
}

// deleteStreams removes every stream and the actions bucket, as a server that
// restarts without its JetStream storage does.
func deleteStreams(ctx context.Context, t *testing.T, js jetstream.JetStream) {
	t.Helper()
	for _, name := range []string{AlertsStream, DecisionsStream, DeadLetterStream} {
		if err := js.DeleteStream(ctx, name); err != nil {
			t.Fatalf("delete stream %s: %v", name, err)
		}
	}
	if err := js.DeleteKeyValue(ctx, ActionsBucket); err != nil {
		t.Fatalf("delete bucket %s: %v", ActionsBucket, err)
	}
}

func TestIsMissing(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("publish alert: %w", jetstream.ErrNoStreamResponse), true},
		{fmt.Errorf("pull: %w", nats.ErrNoResponders), true},
		{jetstream.ErrStreamNotFound, true},
		{jetstream.ErrConsumerNotFound, true},
		{jetstream.ErrConsumerDeleted, true},
		{jetstream.ErrBucketNotFound, true},
		{nats.ErrTimeout, false},
		{context.DeadlineExceeded, false},
		{errors.New("stream not found"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsMissing(tt.err); got != tt.want {
			t.Errorf("IsMissing(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestPublisherRecreatesDeletedStreams(t *testing.T) {
	s := startServer(t)
	c := connect(t, ConnectOptions{InProcess: s})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := StreamOptions{Memory: true, AlertsMaxAge: time.Hour}
	if _, err := EnsureStreams(ctx, c.JS, opts); err != nil {
		t.Fatal(err)
	}
	deleteStreams(ctx, t, c.JS)

	log, logs := bufferLogger()
	p := NewPublisher(c.JS).WithRecovery(NewRecovery(c.JS, opts, log))
	// Concurrent publishes that all find the streams missing make one
	// recovery between them.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = p.Publish(ctx, testAlert())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("publish %d after the streams were deleted: %v", i, err)
		}
	}

	stream, err := c.JS.Stream(ctx, AlertsStream)
	if err != nil {
		t.Fatalf("stream %s not recreated: %v", AlertsStream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(len(errs)) {
		t.Errorf("stream %s holds %d alerts, want %d", AlertsStream, info.State.Msgs, len(errs))
	}
	if info.Config.Storage != jetstream.MemoryStorage {
		t.Errorf("recreated stream storage = %v, want memory as in the options", info.Config.Storage)
	}
	if info.Config.MaxAge != time.Hour {
		t.Errorf("recreated stream max age = %v, want 1h as in the options", info.Config.MaxAge)
	}
	if _, err := c.JS.KeyValue(ctx, ActionsBucket); err != nil {
		t.Errorf("bucket %s not recreated: %v", ActionsBucket, err)
	}
	if n := strings.Count(logs.String(), "recreated missing JetStream streams"); n != 1 {
		t.Errorf("logged %d recoveries, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), AlertsStream) {
		t.Errorf("recovery log does not name stream %s:\n%s", AlertsStream, logs)
	}
}

func TestPublishBatchRecreatesDeletedStreams(t *testing.T) {
	s := startServer(t)
	c := connect(t, ConnectOptions{InProcess: s})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := StreamOptions{Memory: true}
	if _, err := EnsureStreams(ctx, c.JS, opts); err != nil {
		t.Fatal(err)
	}
	deleteStreams(ctx, t, c.JS)

	p := NewPublisher(c.JS).WithRecovery(NewRecovery(c.JS, opts, nil))
	alerts := []*alert.Alert{testAlert(), testAlert(), testAlert()}
	for i, err := range p.PublishBatch(ctx, alerts) {
		if err != nil {
			t.Errorf("batch alert %d after the streams were deleted: %v", i, err)
		}
	}
}

func TestRecoveryOnRecoverRuns(t *testing.T) {
	s := startServer(t)
	c := connect(t, ConnectOptions{InProcess: s})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := NewRecovery(c.JS, StreamOptions{Memory: true}, nil)
	calls := 0
	r.OnRecover(func(context.Context) error {
		calls++
		return nil
	})
	if err := r.Recover(ctx, jetstream.ErrConsumerNotFound); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if calls != 1 {
		t.Errorf("OnRecover function ran %d times, want 1", calls)
	}
	// A second call within the interval makes no attempt.
	if err := r.Recover(ctx, jetstream.ErrConsumerNotFound); err != nil {
		t.Errorf("second Recover: %v", err)
	}
	if calls != 1 {
		t.Errorf("OnRecover function ran %d times within the interval, want 1", calls)
	}
	if err := r.Recover(ctx, nats.ErrTimeout); err == nil {
		t.Error("Recover of a timeout returned nil, want an error")
	}
}

// TestRecoveryCheckWhileStreamsMissing uses options that the server rejects,
// because a single server has no room for 3 replicas, so that the streams
// stay missing.
func TestRecoveryCheckWhileStreamsMissing(t *testing.T) {
	s := startServer(t)
	c := connect(t, ConnectOptions{InProcess: s})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log, logs := bufferLogger()
	r := NewRecovery(c.JS, StreamOptions{Memory: true, Replicas: 3}, log)

	err := r.Check(ctx)
	if err == nil {
		t.Fatal("Check with the streams missing returned nil, want an error")
	}
	if !strings.Contains(err.Error(), AlertsStream) {
		t.Errorf("Check error %q does not name stream %s", err, AlertsStream)
	}
	if !strings.Contains(logs.String(), "recreate JetStream streams failed") {
		t.Errorf("failed recovery not logged:\n%s", logs)
	}

	p := NewPublisher(c.JS).WithRecovery(r)
	for range publishFailingAfter {
		if _, err := p.Publish(ctx, testAlert()); err == nil {
			t.Fatal("publish without streams returned nil, want an error")
		}
	}
	if n := strings.Count(logs.String(), "publish alerts to NATS failing"); n != 1 {
		t.Errorf("logged %d publish warnings for %d failures in a row, want 1:\n%s", n, publishFailingAfter, logs)
	}
	if !strings.Contains(logs.String(), "no response from stream") {
		t.Errorf("publish warning does not name the error:\n%s", logs)
	}
	if n := strings.Count(logs.String(), "recreate JetStream streams failed"); n != 1 {
		t.Errorf("logged %d failed recoveries within %v, want 1:\n%s", n, warnInterval, logs)
	}

	// Streams that exist again make Check pass only once a publish succeeds.
	if _, err := EnsureStreams(ctx, c.JS, StreamOptions{Memory: true}); err != nil {
		t.Fatal(err)
	}
	err = r.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "publishes failed") {
		t.Errorf("Check after %d failed publishes = %v, want an error about failing publishes", publishFailingAfter, err)
	}
	if _, err := p.Publish(ctx, testAlert()); err != nil {
		t.Fatalf("publish with the streams back: %v", err)
	}
	if err := r.Check(ctx); err != nil {
		t.Errorf("Check after a successful publish: %v", err)
	}
}
