package responder

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/transport"
)

// startRecoveringResponder runs a responder with a Recovery on e and waits
// until it is ready.
func startRecoveringResponder(t *testing.T, e *env) *Responder {
	t.Helper()
	reg := defaultRegistry(t)
	// A short acknowledgement wait bounds the wait for the acknowledgement
	// of a decision that no stream stores.
	r := startResponder(t, Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg, Node: "node-1", AckWait: 2 * time.Second,
		Recovery: transport.NewRecovery(e.conn.JS, transport.StreamOptions{Memory: true}, testLogger(t))})
	waitReady(t, r)
	return r
}

func waitReady(t *testing.T, r *Responder) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := r.Check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("responder not ready after 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestResponderRecreatesDeletedConsumer(t *testing.T) {
	e := newEnv(t, true)
	decisions := e.decisions(t)
	r := startRecoveringResponder(t, e)
	first := shellAlert(4242)
	publish(t, e, first)
	waitDecision(t, decisions, first.UUID)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.conn.JS.DeleteConsumer(ctx, transport.AlertsStream, "riposte-responder"); err != nil {
		t.Fatal(err)
	}
	second := shellAlert(4243)
	publish(t, e, second)
	waitDecision(t, decisions, second.UUID)
	waitReady(t, r)
}

// TestResponderRecreatesDecisionsStream deletes only the decisions stream:
// recording a decision fails, and the redelivered alert finds the stream
// recreated.
func TestResponderRecreatesDecisionsStream(t *testing.T) {
	e := newEnv(t, true)
	decisions := e.decisions(t)
	startRecoveringResponder(t, e)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.conn.JS.DeleteStream(ctx, transport.DecisionsStream); err != nil {
		t.Fatal(err)
	}
	a := shellAlert(4242)
	publish(t, e, a)
	// The decisions subscription also receives the decision whose record
	// failed, so only the stored decision counts.
	deadline := time.Now().Add(60 * time.Second)
	for {
		stream, err := e.conn.JS.Stream(ctx, transport.DecisionsStream)
		if err == nil {
			if _, err := stream.GetLastMsgForSubject(ctx, transport.DecisionsSubjectPrefix+".>"); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no decision stored in stream %s within 60s: %v", transport.DecisionsStream, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var stored bool
	for !stored {
		d := waitDecision(t, decisions, a.UUID)
		stored = d.Delivery >= 2
	}
}

// TestRecreatedConsumerRunsActionOnce deletes the consumer after an action
// ran. The recreated consumer delivers the stored alert again, and the
// actions bucket must keep the action from running a second time.
func TestRecreatedConsumerRunsActionOnce(t *testing.T) {
	e := newEnv(t, true)
	rec := &recorder{name: "test:record"}
	reg := defaultRegistry(t, rec)
	decisions := e.decisions(t)
	r := startResponder(t, Options{JS: e.conn.JS, Registry: reg, Node: "node-1",
		Policies: loadPolicies(t, reg, map[string]string{"record.rego": recordPolicy}),
		// Without a cooldown, only the actions bucket stops a second run.
		Guards:   GuardOptions{Act: true, Cooldown: -1},
		Recovery: transport.NewRecovery(e.conn.JS, transport.StreamOptions{Memory: true}, testLogger(t))})
	waitReady(t, r)

	a := shellAlert(4242)
	publish(t, e, a)
	if d := waitDecision(t, decisions, a.UUID); d.Outcome != OutcomeActed {
		t.Fatalf("first decision outcome = %q, want %q", d.Outcome, OutcomeActed)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.conn.JS.DeleteConsumer(ctx, transport.AlertsStream, "riposte-responder"); err != nil {
		t.Fatal(err)
	}
	d := waitDecision(t, decisions, a.UUID)
	if len(d.Actions) != 1 {
		t.Fatalf("second decision actions = %+v, want one", d.Actions)
	}
	if msg := d.Actions[0].Result.Message; !strings.HasPrefix(msg, "recorded by an earlier delivery") {
		t.Errorf("second decision action message = %q, want the result of the earlier delivery", msg)
	}
	if got := rec.count(); got != 1 {
		t.Errorf("recorder ran %d times, want 1", got)
	}
}
