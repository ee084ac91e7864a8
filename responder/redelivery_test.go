package responder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/transport"
)

// waitDeadLetter returns the first dead-lettered message.
func waitDeadLetter(t testing.TB, e *env) *jetstream.RawStreamMsg {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		msg, err := e.streams.DeadLetter.GetLastMsgForSubject(ctx, transport.DeadLetterSubject)
		cancel()
		if err == nil {
			return msg
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing dead-lettered within 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMaxDeliveriesDeadLettered(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	opts := Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg,
		AckWait: time.Second, MaxDeliver: 1}
	probe, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}

	// A responder that takes the alert and dies before acknowledging it is
	// played by fetching the alert from the shared consumer without an ack.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cons, err := e.conn.JS.CreateOrUpdateConsumer(ctx, transport.AlertsStream, probe.consumerConfig())
	if err != nil {
		t.Fatal(err)
	}
	a := shellAlert(4242)
	publish(t, e, a)
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
	}

	startResponder(t, opts)
	msg := waitDeadLetter(t, e)
	if got := msg.Header.Get(transport.ErrorHeader); !strings.Contains(got, "delivered 1 times without a decision") {
		t.Errorf("dead-letter error = %q", got)
	}
	if got := msg.Header.Get(transport.SubjectHeader); got != transport.AlertSubject(a) {
		t.Errorf("dead-letter subject header = %q", got)
	}
	if !strings.Contains(string(msg.Data), a.UUID) {
		t.Errorf("dead-letter data = %s", msg.Data)
	}
}

// panicker panics on its first run, then succeeds.
type panicker struct{ runs int }

func (p *panicker) Name() string                         { return "test:panic" }
func (p *panicker) Validate(map[string]any) error        { return nil }
func (p *panicker) Permissions() []actionners.Permission { return nil }
func (p *panicker) Run(context.Context, actionners.Request) (actionners.Result, error) {
	p.runs++
	if p.runs == 1 {
		panic("actionner bug")
	}
	return actionners.Result{Outcome: actionners.OutcomeSucceeded}, nil
}

func TestPanicLeavesAlertForRedelivery(t *testing.T) {
	e := newEnv(t, true)
	p := &panicker{}
	reg := defaultRegistry(t, p)
	decisions := e.decisions(t)
	policy := "package riposte.policies.p\n\nactions contains {\"actionner\": \"test:panic\", \"target\": {\"kind\": \"node\", \"node\": \"n\"}} if true\n"
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, Guards: GuardOptions{Act: true}, Concurrency: 1,
		Policies: loadPolicies(t, reg, map[string]string{"p.rego": policy})})

	a := shellAlert(1)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Delivery != 2 {
		t.Errorf("decision at delivery %d, want 2", d.Delivery)
	}
	// The action claimed its idempotency key before it panicked, so the
	// redelivery records it as skipped instead of running it again.
	if len(d.Actions) != 1 || d.Actions[0].Result.Outcome != actionners.OutcomeSkipped {
		t.Errorf("actions = %+v, want one skipped", d.Actions)
	}
	if p.runs != 1 {
		t.Errorf("actionner ran %d times, want 1", p.runs)
	}
}

// slowRecorder records each request and then takes its time, as a forensic
// script or a log collection may.
type slowRecorder struct {
	recorder
	delay time.Duration
}

func (s *slowRecorder) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	res, err := s.recorder.Run(ctx, req)
	time.Sleep(s.delay)
	return res, err
}

func TestSlowActionIsNotRedelivered(t *testing.T) {
	e := newEnv(t, true)
	rec := &slowRecorder{recorder: recorder{name: "test:record"}, delay: 2500 * time.Millisecond}
	reg := defaultRegistry(t, rec)
	set := loadPolicies(t, reg, map[string]string{"record.rego": recordPolicy})
	var decided atomic.Int32
	for _, name := range []string{"responder-1", "responder-2"} {
		startResponder(t, Options{JS: e.conn.JS, Registry: reg, Policies: set, Name: name,
			Guards: GuardOptions{Act: true}, AckWait: time.Second,
			OnDecision: func(Decision) { decided.Add(1) }})
	}
	decisions := e.decisions(t)

	a := shellAlert(4242)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeActed || d.Delivery != 1 {
		t.Errorf("decision = %s on delivery %d, want acted on the first", d.Outcome, d.Delivery)
	}
	// A redelivery after the acknowledgement wait would show as a second
	// decision, recorded as skipped, by either replica.
	time.Sleep(2 * time.Second)
	if n := decided.Load(); n != 1 {
		t.Errorf("%d decisions recorded, want 1: the alert was redelivered while its action ran", n)
	}
	if n := rec.count(); n != 1 {
		t.Errorf("action ran %d times, want 1", n)
	}
}

func TestStoredDecisionNotRepeated(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// An earlier delivery of the first alert stored its decision and
	// stopped before acknowledging the alert. JetStream stored the decision
	// of the third alert too, but this process saw the publish fail, as
	// when the acknowledgement is lost in a NATS outage.
	stored, fresh, lostAck := shellAlert(4242), shellAlert(4243), shellAlert(4244)
	var earlier []byte
	for _, a := range []*alert.Alert{stored, lostAck} {
		data, err := json.Marshal(Decision{AlertUUID: a.UUID, Rule: a.Rule, Outcome: OutcomeDryRun, Delivery: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.conn.JS.Publish(ctx, transport.DecisionSubject(OutcomeDryRun), data, jetstream.WithMsgID(a.UUID)); err != nil {
			t.Fatal(err)
		}
		if earlier == nil {
			earlier = data
		}
	}
	publish(t, e, stored)
	publish(t, e, fresh)
	publish(t, e, lostAck)

	promReg := prometheus.NewRegistry()
	metrics, err := NewMetrics(promReg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notified []string
	r, err := New(Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg, Metrics: metrics, Logger: testLogger(t),
		OnDecision: func(d Decision) {
			mu.Lock()
			defer mu.Unlock()
			notified = append(notified, d.AlertUUID)
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.unconfirmed.add(lostAck.UUID)
	startResponderWith(t, r)
	waitAcked(t, e)

	mu.Lock()
	slices.Sort(notified)
	want := []string{fresh.UUID, lostAck.UUID}
	slices.Sort(want)
	if !slices.Equal(notified, want) {
		t.Errorf("decisions passed on = %v, want those of %s and %s", notified, fresh.UUID, lostAck.UUID)
	}
	mu.Unlock()
	if got := counterValue(t, metrics.duplicates); got != 1 {
		t.Errorf("duplicate decisions counted = %v, want 1", got)
	}
	info, err := e.streams.Decisions.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 3 {
		t.Errorf("decisions stored = %d, want 3: one per alert", info.State.Msgs)
	}
	msg, err := e.streams.Decisions.GetMsg(ctx, info.State.FirstSeq)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg.Data, earlier) {
		t.Errorf("first stored decision = %s, want the earlier delivery's", msg.Data)
	}
}

func TestUnconfirmedSetKeepsNewest(t *testing.T) {
	var u unconfirmedSet
	for i := range maxUnconfirmed + 10 {
		u.add(fmt.Sprint(i))
	}
	if u.take("0") || u.take("9") {
		t.Error("the oldest uuids were kept past the limit")
	}
	if !u.take("10") || !u.take(fmt.Sprint(maxUnconfirmed+9)) {
		t.Error("uuids within the limit were dropped")
	}
	if u.take("10") {
		t.Error("a taken uuid is still in the set")
	}
	for i := range 3 * maxUnconfirmed {
		id := fmt.Sprint("t", i)
		u.add(id)
		u.take(id)
	}
	if len(u.order) > 2*maxUnconfirmed {
		t.Errorf("order holds %d uuids, want at most %d", len(u.order), 2*maxUnconfirmed)
	}
}
