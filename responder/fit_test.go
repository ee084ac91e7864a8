package responder

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/riposte-sec/riposte/actionners"
)

func TestFitDecisionKeepsSmallRecord(t *testing.T) {
	d := &Decision{AlertUUID: "a", Rule: "r", Outcome: OutcomeDryRun}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := fitDecision(d, data, 1<<20); string(got) != string(data) {
		t.Errorf("small decision changed: %s", got)
	}
}

func TestFitDecisionShortensLongStrings(t *testing.T) {
	long := strings.Repeat("é", 400_000) // 800,000 bytes
	d := &Decision{AlertUUID: "a", Rule: "r", Outcome: OutcomeDryRun, Actions: []ActionRecord{
		{Policy: "p", Action: actionners.Action{Actionner: "test:record", Reason: long, Target: actionners.Target{Kind: "pod", Name: long}}},
		{Policy: "p", Action: actionners.Action{Actionner: "test:record", Reason: "short"}},
	}}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}

	got := fitDecision(d, data, 1<<20)
	if len(got) > 1<<20-headerRoom {
		t.Fatalf("fitted decision is %d bytes, over the limit", len(got))
	}
	if !utf8.Valid(got) {
		t.Error("fitted decision is not valid UTF-8: a character was cut")
	}

	var back Decision
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("fitted decision does not decode: %v", err)
	}
	if !back.Truncated {
		t.Error("fitted decision not marked truncated")
	}
	if len(back.Actions) != 2 {
		t.Fatalf("fitted decision has %d actions, want 2", len(back.Actions))
	}
	if !strings.Contains(back.Actions[0].Reason, "bytes cut)") || len(back.Actions[0].Reason) > 5000 {
		t.Errorf("long reason not shortened: %d bytes", len(back.Actions[0].Reason))
	}
	if back.Actions[1].Reason != "short" || back.AlertUUID != "a" || back.Outcome != OutcomeDryRun {
		t.Errorf("short fields changed: %+v", back)
	}
}

func TestFitDecisionKeepsIdentifiersWhole(t *testing.T) {
	when := time.Date(2025, 12, 5, 0, 44, 12, 123456789, time.FixedZone("", 3600))
	d := &Decision{AlertUUID: "0b9f0c1e-5a3d-4f7e-9a51-2f0d6b8e1c11", Rule: "r", Outcome: OutcomeDryRun,
		PolicyRevision: "sha256:" + strings.Repeat("ab", 32), Time: when}
	for range 3000 {
		d.Actions = append(d.Actions, ActionRecord{Policy: "p", IdempotencyKey: "0b9f0c1e-5a3d-4f7e-9a51-2f0d6b8e1c11.9f2c4b1a0d3e5f67",
			Action: actionners.Action{Actionner: "test:record", Reason: strings.Repeat("r", 300)}})
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	got := fitDecision(d, data, 1<<20)
	var back Decision
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("fitted decision does not decode: %v", err)
	}
	if !back.Truncated || len(back.Actions) != 3000 {
		t.Fatalf("fitted decision: truncated %v, %d actions; want shortened with 3000 actions", back.Truncated, len(back.Actions))
	}
	if back.AlertUUID != d.AlertUUID || back.PolicyRevision != d.PolicyRevision || !back.Time.Equal(when) {
		t.Errorf("identifiers changed: uuid %q, revision %q, time %v", back.AlertUUID, back.PolicyRevision, back.Time)
	}
	if back.Actions[0].IdempotencyKey != d.Actions[0].IdempotencyKey {
		t.Errorf("idempotency key changed: %q", back.Actions[0].IdempotencyKey)
	}
}

func TestFitDecisionLeavesOutActionsAsLastResort(t *testing.T) {
	d := &Decision{AlertUUID: "a", Rule: "r", Outcome: OutcomeDryRun}
	for range 10_000 {
		d.Actions = append(d.Actions, ActionRecord{Policy: "p", Action: actionners.Action{Actionner: "test:record", Reason: "recording"}})
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	const maxPayload = 64 << 10
	got := fitDecision(d, data, maxPayload)
	var back Decision
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("fitted decision does not decode: %v", err)
	}
	if len(got) > maxPayload || !back.Truncated || len(back.Actions) != 0 {
		t.Errorf("fitted decision: %d bytes, truncated %v, %d actions; want the record without actions", len(got), back.Truncated, len(back.Actions))
	}
	if !strings.Contains(back.Error, "10000 actions") || back.AlertUUID != "a" || back.Outcome != OutcomeDryRun {
		t.Errorf("record lost its facts: %+v", back)
	}
}

const quotePolicy = `package riposte.policies.quote

actions contains {
	"actionner": "test:record",
	"target": {"kind": "process", "pid": 4242},
	"parameters": {"note": input.alert.output_fields["proc.cmdline"]},
	"reason": sprintf("first: %s", [input.alert.output_fields["proc.cmdline"]]),
}

actions contains {
	"actionner": "test:record",
	"target": {"kind": "process", "pid": 4243},
	"reason": sprintf("second: %s", [input.alert.output_fields["proc.cmdline"]]),
}
`

func TestOversizedDecisionStored(t *testing.T) {
	e := newEnv(t, true)
	rec := &recorder{name: "test:record"}
	reg := defaultRegistry(t, rec)
	decisions := e.decisions(t)
	startResponder(t, Options{JS: e.conn.JS, Registry: reg,
		Policies: loadPolicies(t, reg, map[string]string{"quote.rego": quotePolicy})})

	// The alert fits in a NATS message; its decision quotes the command
	// line three times and does not.
	a := shellAlert(4242)
	a.OutputFields["proc.cmdline"] = strings.Repeat("x", 600_000)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if !d.Truncated {
		t.Error("stored decision not marked truncated")
	}
	if d.Outcome != OutcomeDryRun || len(d.Actions) != 2 {
		t.Errorf("stored decision: outcome %s with %d actions, want dry-run with 2", d.Outcome, len(d.Actions))
	}
	waitAcked(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := e.streams.DeadLetter.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("%d dead letters, want none", info.State.Msgs)
	}
}
