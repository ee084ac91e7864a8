package responder

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/actionners/process"
	"github.com/riposte-sec/riposte/actionners/relay"
	"github.com/riposte-sec/riposte/transport"
)

func TestDecisionDryRunByDefault(t *testing.T) {
	e := newEnv(t, false)
	reg := defaultRegistry(t)
	set := loadPolicies(t, reg, nil)
	decisions := e.decisions(t)
	var hooked = make(chan Decision, 1)
	startResponder(t, Options{JS: e.conn.JS, Policies: set, Registry: reg, Node: "node-1",
		OnDecision: func(d Decision) { hooked <- d }})

	a := shellAlert(4242)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)

	if d.Outcome != OutcomeDryRun {
		t.Errorf("outcome = %q, want dry-run", d.Outcome)
	}
	if !d.DryRun {
		t.Error("decision not marked dry_run")
	}
	if d.Rule != a.Rule {
		t.Errorf("rule = %q", d.Rule)
	}
	if d.PolicyRevision != set.Revision() {
		t.Errorf("policy revision = %q, want %q", d.PolicyRevision, set.Revision())
	}
	if len(d.Actions) != 1 {
		t.Fatalf("actions = %+v, want one", d.Actions)
	}
	act := d.Actions[0]
	if act.Actionner != "process:kill" || act.Target.PID != 4242 || !act.DryRun {
		t.Errorf("action = %+v", act)
	}
	if act.Result.Outcome != actionners.OutcomeDryRun {
		t.Errorf("action outcome = %q", act.Result.Outcome)
	}
	if len(act.Guards) == 0 || act.Guards[len(act.Guards)-1].Guard != GuardDryRun {
		t.Errorf("guards = %+v, want the global dry run last", act.Guards)
	}
	if d.Timings.Total <= 0 || d.Timings.Policy <= 0 {
		t.Errorf("timings = %+v", d.Timings)
	}
	select {
	case h := <-hooked:
		if h.AlertUUID != a.UUID {
			t.Errorf("hook got decision for %s", h.AlertUUID)
		}
	case <-time.After(10 * time.Second):
		t.Error("OnDecision was not called")
	}
	waitAcked(t, e)

	// The decision is in the audit trail under its outcome's subject.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg, err := e.streams.Decisions.GetLastMsgForSubject(ctx, transport.DecisionSubject(OutcomeDryRun))
	if err != nil {
		t.Fatalf("decision not stored: %v", err)
	}
	if !strings.Contains(string(msg.Data), a.UUID) {
		t.Errorf("stored decision %s does not name alert %s", msg.Data, a.UUID)
	}
}

// waitAcked waits until the consumer has no unacknowledged or pending alert.
func waitAcked(t testing.TB, e *env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cons, err := e.conn.JS.Consumer(ctx, transport.AlertsStream, "riposte-responder")
		if errors.Is(err, jetstream.ErrConsumerNotFound) && time.Now().Before(deadline) {
			// The responder has not created its consumer yet.
			cancel()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		info, err := cons.Info(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts not acknowledged: %d pending acks, %d pending", info.NumAckPending, info.NumPending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDecisionNoAction(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	decisions := e.decisions(t)
	startResponder(t, Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg})

	a := shellAlert(4242)
	a.Rule = "Read sensitive file untrusted"
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeNoAction || len(d.Actions) != 0 {
		t.Errorf("decision = %+v, want no action", d)
	}
}

func TestKillRealProcessWhenActing(t *testing.T) {
	e := newEnv(t, true)
	decisions := e.decisions(t)

	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The sleeper is a child of the test, so the kill actionner must allow
	// descendants of the current process.
	kill, err := actionners.NewRegistry(newKillAllowingChildren())
	if err != nil {
		t.Fatal(err)
	}
	if err := kubernetes.Register(kill, nil); err != nil {
		t.Fatal(err)
	}
	startResponder(t, Options{JS: e.conn.JS, Policies: loadPolicies(t, kill, nil), Registry: kill,
		Guards: GuardOptions{Act: true}})

	// The sleeper runs on the host, so the alert is about a host program
	// that a default policy kills. The kill actionner checks that the
	// process runs where the alert names, on the host or in a container.
	a := shellAlert(cmd.Process.Pid)
	a.Rule = "Program executed from memory (memfd)"
	a.OutputFields["proc.name"] = "sleep"
	a.OutputFields["container.id"] = "host"
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeActed {
		t.Fatalf("decision = %+v, want acted", d)
	}
	select {
	case err := <-exited:
		ws, _ := err.(*exec.ExitError)
		if ws == nil || ws.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("sleep ended with %v, want SIGKILL", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sleep still runs after an acted decision")
	}
}

func TestInvalidAlertDeadLettered(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	startResponder(t, Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.conn.JS.Publish(ctx, "riposte.alerts.warning.bad", []byte(`{"rule": 42}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg, err := e.streams.DeadLetter.GetLastMsgForSubject(ctx, transport.DeadLetterSubject)
		if err == nil {
			if got := msg.Header.Get(transport.ErrorHeader); !strings.Contains(got, `field "rule"`) {
				t.Errorf("dead-letter error = %q", got)
			}
			if string(msg.Data) != `{"rule": 42}` {
				t.Errorf("dead-letter data = %s", msg.Data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert not dead-lettered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitAcked(t, e)
}

func TestNewRejectsMissingOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "missing JetStream") {
		t.Errorf("New without JetStream: %v", err)
	}
}

func TestPolicyErrorRecorded(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	decisions := e.decisions(t)
	// Built in the rule body, the malformed action escapes the load-time check.
	bad := "package riposte.policies.bad\n\nactions contains a if {\n\ta := {\"target\": {\"kind\": \"node\"}}\n}\n"
	// Another policy's well-formed action is still taken.
	good := "package riposte.policies.good\n\nactions contains {\"actionner\": \"process:kill\", \"target\": {\"kind\": \"process\", \"pid\": 4242}} if true\n"
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, Policies: loadPolicies(t, reg, map[string]string{"bad.rego": bad, "good.rego": good})})

	a := shellAlert(1)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeDryRun {
		t.Errorf("outcome = %q, want dry-run, from the well-formed action", d.Outcome)
	}
	if !strings.Contains(d.Error, "policy bad") || !strings.Contains(d.Error, "actionner null") {
		t.Errorf("error = %q, want it to name the policy and the problem", d.Error)
	}
	if len(d.Actions) != 1 || d.Actions[0].Policy != "good" || d.Actions[0].Result.Outcome != actionners.OutcomeDryRun {
		t.Errorf("actions = %+v, want the dry run of policy good's kill", d.Actions)
	}
	waitAcked(t, e)
}

func TestUnknownActionnerRejected(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	decisions := e.decisions(t)
	// Built in the rule body, the actionner name escapes the load-time check.
	policy := "package riposte.policies.p\n\nactions contains a if {\n\tname := concat(\":\", [\"cloud\", \"terminate\"])\n\ta := {\"actionner\": name, \"target\": {\"kind\": \"pod\", \"namespace\": \"shop\", \"name\": \"web\"}}\n}\n"
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, Guards: GuardOptions{Act: true}, Policies: loadPolicies(t, reg, map[string]string{"p.rego": policy})})

	a := shellAlert(1)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeSkipped || len(d.Actions) != 1 {
		t.Fatalf("decision = %+v, want one skipped action", d)
	}
	res := d.Actions[0].Result
	if res.Outcome != actionners.OutcomeRejected || !strings.Contains(res.Message, `unknown actionner "cloud:terminate"`) {
		t.Errorf("result = %+v", res)
	}
}

func TestSlowPolicyTimesOut(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	decisions := e.decisions(t)
	// Nine million iterations take seconds in OPA's evaluator.
	slow := `package riposte.policies.slow

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": 4242}} if {
	count({1 | some i in numbers.range(1, 3000); some j in numbers.range(1, 3000)}) > 5
}
`
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, PolicyTimeout: 100 * time.Millisecond,
		Policies: loadPolicies(t, reg, map[string]string{"slow.rego": slow})})

	a := shellAlert(4242)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeError || !strings.Contains(d.Error, "took longer than 100ms") {
		t.Errorf("decision = %s: %q, want error naming the time limit", d.Outcome, d.Error)
	}
	if d.Timings.Policy > 5*time.Second {
		t.Errorf("policy evaluation ran %s, past its limit", d.Timings.Policy)
	}
	waitAcked(t, e)
}

func TestDryRunForwardedKillNamesMissingSensor(t *testing.T) {
	e := newEnv(t, true)
	reg, err := actionners.NewRegistry(relay.NewForward(process.NewKill(process.KillOptions{}), e.conn.NC, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := kubernetes.Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	decisions := e.decisions(t)
	startResponder(t, Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg})

	// No sensor serves host actions for node-1, so acting would fail.
	a := shellAlert(4242)
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if len(d.Actions) == 0 {
		t.Fatalf("decision %+v has no action", d)
	}
	kill := d.Actions[0]
	if kill.Result.Outcome != actionners.OutcomeDryRun || !strings.Contains(kill.Result.Message, "no Riposte sensor of node node-1") {
		t.Errorf("dry run of the forwarded kill = %s %q, want dry-run naming the missing sensor", kill.Result.Outcome, kill.Result.Message)
	}
}
