package responder

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/transport"
)

func newEvaluator(t testing.TB, guards GuardOptions) *Evaluator {
	t.Helper()
	reg := defaultRegistry(t)
	e, err := NewEvaluator(EvalOptions{Policies: loadPolicies(t, reg, nil), Registry: reg, Guards: guards, Node: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEvaluatorNeverActs(t *testing.T) {
	e := newEvaluator(t, GuardOptions{Act: true})
	d := e.Evaluate(context.Background(), shellAlert(4242))
	if d.Outcome != OutcomeDryRun || len(d.Actions) != 1 {
		t.Fatalf("decision = %+v", d)
	}
	act := d.Actions[0]
	if act.Target.PID != 4242 || !act.DryRun || act.Result.Outcome != actionners.OutcomeDryRun {
		t.Errorf("action = %+v", act)
	}
	if len(act.Guards) != 1 || act.Guards[0].Guard != GuardEvaluationOnly {
		t.Errorf("guards = %+v, want evaluation-only alone", act.Guards)
	}
}

func TestDryRunShowsActionnerRejection(t *testing.T) {
	e := newEvaluator(t, GuardOptions{Act: true})
	d := e.Evaluate(context.Background(), shellAlert(1))
	if len(d.Actions) != 1 {
		t.Fatalf("decision = %+v, want one action", d)
	}
	act := d.Actions[0]
	if !act.DryRun || act.Result.Outcome != actionners.OutcomeRejected || !strings.Contains(act.Result.Message, "init process") {
		t.Errorf("kill of pid 1 in dry run = %+v, want the actionner's rejection", act)
	}
	if d.Outcome != OutcomeSkipped {
		t.Errorf("decision outcome = %s, want skipped", d.Outcome)
	}
}

func TestEvaluatorAssignsUUID(t *testing.T) {
	e := newEvaluator(t, GuardOptions{})
	a := shellAlert(1)
	a.UUID = ""
	d := e.Evaluate(context.Background(), a)
	if d.AlertUUID == "" {
		t.Error("decision without alert uuid")
	}
	if a.UUID != "" {
		t.Error("Evaluate changed the caller's alert")
	}
}

func TestEvaluatorShowsGuards(t *testing.T) {
	e := newEvaluator(t, GuardOptions{})
	a := shellAlert(4242)
	a.OutputFields["k8s.ns.name"] = "kube-system"
	d := e.Evaluate(context.Background(), a)
	if d.Outcome != OutcomeSkipped || d.Actions[0].Guards[0].Guard != GuardProtectedNamespace {
		t.Errorf("decision = %+v, want skipped by protected-namespace", d)
	}
}

func TestReplayFileAppliesCooldownInAlertTime(t *testing.T) {
	e := newEvaluator(t, GuardOptions{Cooldown: time.Minute})
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var lines []string
	for i, offset := range []time.Duration{0, 10 * time.Second, 2 * time.Minute} {
		a := shellAlert(4242)
		a.Time = base.Add(offset)
		a.UUID = ""
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(data))
		if i == 0 {
			lines = append(lines, "", `{"rule": "no time"}`)
		}
	}
	var outcomes, messages []string
	stats, err := e.ReplayFile(context.Background(), strings.NewReader(strings.Join(lines, "\n")), func(d Decision) {
		outcomes = append(outcomes, d.Outcome)
		for _, a := range d.Actions {
			messages = append(messages, a.Result.Message)
		}
		if d.AlertUUID == "" {
			t.Error("replayed alert without uuid")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(outcomes, ",") != "dry-run,skipped,dry-run" {
		t.Errorf("outcomes = %v, want the second alert held by the cooldown", outcomes)
	}
	if all := strings.Join(messages, "\n"); !strings.Contains(all, "was recorded as a dry run 10s ago") {
		t.Errorf("cooldown messages %q, want the earlier action named as a dry run", all)
	}

	// With dry run off, the earlier action would have run, but did not.
	acting := newEvaluator(t, GuardOptions{Act: true, Cooldown: time.Minute})
	messages = nil
	if _, err := acting.ReplayFile(context.Background(), strings.NewReader(strings.Join(lines, "\n")), func(d Decision) {
		for _, a := range d.Actions {
			messages = append(messages, a.Result.Message)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(messages, "\n"); !strings.Contains(all, "would have run 10s ago") || strings.Contains(all, " ran ") {
		t.Errorf("cooldown messages %q, want the earlier action named as one that would have run", all)
	}
	if stats.Alerts != 3 || stats.Outcomes[OutcomeDryRun] != 2 {
		t.Errorf("stats = %+v", stats)
	}
	if len(stats.Invalid) != 1 || !strings.HasPrefix(stats.Invalid[0], `line 3: invalid alert: missing "time"`) {
		t.Errorf("invalid = %q", stats.Invalid)
	}
}

func TestReplayStream(t *testing.T) {
	env := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alerts := shellAlerts(20, 0)
	for i, a := range alerts {
		a.OutputFields["proc.pid"] = 100 + i
		if i%2 == 1 {
			a.Rule = "Read sensitive file untrusted"
		}
	}
	for _, err := range newPublisher(env).PublishBatch(ctx, alerts) {
		if err != nil {
			t.Fatal(err)
		}
	}
	e := newEvaluator(t, GuardOptions{})

	stats, err := e.ReplayStream(ctx, env.conn.JS, StreamReplayOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Alerts != 20 || stats.Outcomes[OutcomeDryRun] != 10 || stats.Outcomes[OutcomeNoAction] != 10 {
		t.Errorf("stats = %+v", stats)
	}

	filtered, err := e.ReplayStream(ctx, env.conn.JS, StreamReplayOptions{FilterSubject: "riposte.alerts.*." + transport.RuleToken("Read sensitive file untrusted")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if filtered.Alerts != 10 || filtered.Outcomes[OutcomeNoAction] != 10 {
		t.Errorf("filtered stats = %+v", filtered)
	}

	none, err := e.ReplayStream(ctx, env.conn.JS, StreamReplayOptions{Since: time.Now().Add(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if none.Alerts != 0 {
		t.Errorf("replay since the future decided %d alerts", none.Alerts)
	}
}

func TestKubernetesContextHookFeedsGuards(t *testing.T) {
	reg := defaultRegistry(t)
	e, err := NewEvaluator(EvalOptions{Policies: loadPolicies(t, reg, nil), Registry: reg,
		KubernetesContext: func(_ context.Context, a *alert.Alert) *policies.Kubernetes {
			return &policies.Kubernetes{Namespace: "shop", Pod: "web-1", Labels: map[string]string{"riposte.io/protected": "true"}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	d := e.Evaluate(context.Background(), shellAlert(4242))
	if len(d.Actions) != 1 || d.Actions[0].Guards[0].Guard != GuardProtectedLabel {
		t.Errorf("decision = %+v, want the kill blocked by the label from the hook", d)
	}
}

func TestReplayFileDerivesUUIDFromLine(t *testing.T) {
	e := newEvaluator(t, GuardOptions{})
	line := `{"rule":"Terminal shell in container","priority":"Notice","time":"2024-05-01T12:00:00Z","output_fields":{"proc.pid":4242,"container.id":"0123456789ab"}}`
	var uuids []string
	for range 2 {
		if _, err := e.ReplayFile(context.Background(), strings.NewReader(line+"\n"), func(d Decision) { uuids = append(uuids, d.AlertUUID) }); err != nil {
			t.Fatal(err)
		}
	}
	if len(uuids) != 2 || uuids[0] != uuids[1] {
		t.Fatalf("uuids of one line replayed twice = %v, want the same one twice", uuids)
	}
	if want := alert.ContentUUID([]byte(line)); uuids[0] != want {
		t.Errorf("uuid = %s, want %s, as the webhook derives it", uuids[0], want)
	}
}

func TestCooldownTakesSignalSpellingsAsOne(t *testing.T) {
	reg := defaultRegistry(t)
	policy := `package riposte.policies.signals

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": 4242}, "parameters": {"signal": sig}, "reason": sprintf("%v", [sig])} if {
	some sig in ["SIGKILL", "KILL", "sigkill", "9", 9]
}

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": 4242}, "reason": "default"}

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": 4242}, "parameters": {"signal": "SIGTERM"}}
`
	e, err := NewEvaluator(EvalOptions{Policies: loadPolicies(t, reg, map[string]string{"signals.rego": policy}), Registry: reg,
		Guards: GuardOptions{Act: true, Cooldown: time.Minute}, Node: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	d := e.Evaluate(context.Background(), shellAlert(4242))
	outcomes := map[actionners.Outcome]int{}
	for _, a := range d.Actions {
		outcomes[a.Result.Outcome]++
	}
	// Six ways of writing SIGKILL make one action; SIGTERM is another.
	if len(d.Actions) != 7 || outcomes[actionners.OutcomeDryRun] != 2 || outcomes[actionners.OutcomeSkipped] != 5 {
		t.Errorf("outcomes = %v of %d actions, want 2 dry runs and 5 held by the cooldown", outcomes, len(d.Actions))
	}
}
