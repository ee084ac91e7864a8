package responder

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/policies"
)

// recordPolicy makes the recorder act on the alert's pod, or on the process
// when the alert names no pod.
const recordPolicy = `package riposte.policies.record

actions contains {
	"actionner": "test:record",
	"target": {"kind": "pod", "namespace": input.kubernetes.namespace, "name": input.kubernetes.pod},
	"reason": "recording",
} if input.kubernetes.pod != ""

actions contains {
	"actionner": "test:record",
	"target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]},
} if not input.kubernetes

actions contains {
	"actionner": "test:record",
	"target": {"kind": "node", "node": "protected-by-policy"},
	"dry_run": true,
} if "ask_dry_run" in input.alert.tags
`

func choice(policy, actionner string, target actionners.Target) policies.Choice {
	return policies.Choice{Policy: policy, Action: actionners.Action{Actionner: actionner, Target: target}}
}

func TestGuardOrderAndEffects(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := actionners.Target{Kind: "pod", Namespace: "shop", Name: "web-1"}
	tests := []struct {
		name      string
		opts      GuardOptions
		choice    policies.Choice
		k8s       *policies.Kubernetes
		wantBlock bool
		wantDry   bool
		wantGuard string
	}{
		{"global dry run", GuardOptions{}, choice("p", "a", pod), nil, false, true, GuardDryRun},
		{"acting", GuardOptions{Act: true}, choice("p", "a", pod), nil, false, false, ""},
		{"policy dry run", GuardOptions{Act: true, DryRunPolicies: []string{"p"}}, choice("p", "a", pod), nil, false, true, GuardPolicyDryRun},
		{"actionner dry run", GuardOptions{Act: true, DryRunActionners: []string{"a"}}, choice("p", "a", pod), nil, false, true, GuardActionDryRun},
		{"target in kube-system", GuardOptions{Act: true}, choice("p", "a", actionners.Target{Kind: "pod", Namespace: "kube-system", Name: "coredns"}), nil, true, false, GuardProtectedNamespace},
		{"alert pod in own namespace", GuardOptions{Act: true, OwnNamespace: "sec"}, choice("p", "a", actionners.Target{Kind: "process", PID: 9}), &policies.Kubernetes{Namespace: "sec", Pod: "riposte-x"}, true, false, GuardProtectedNamespace},
		{"riposte namespace by default", GuardOptions{Act: true}, choice("p", "a", pod), &policies.Kubernetes{Namespace: "riposte"}, true, false, GuardProtectedNamespace},
		{"custom namespaces replace defaults", GuardOptions{Act: true, ProtectedNamespaces: []string{"prod"}}, choice("p", "a", actionners.Target{Kind: "pod", Namespace: "kube-system"}), nil, false, false, ""},
		{"protected label", GuardOptions{Act: true}, choice("p", "a", pod), &policies.Kubernetes{Namespace: "shop", Pod: "web-1", Labels: map[string]string{"riposte.io/protected": "true"}}, true, false, GuardProtectedLabel},
		{"label wildcard", GuardOptions{Act: true, ProtectedLabels: map[string]string{"tier": "*"}}, choice("p", "a", pod), &policies.Kubernetes{Namespace: "shop", Labels: map[string]string{"tier": "db"}}, true, false, GuardProtectedLabel},
		{"label value differs", GuardOptions{Act: true}, choice("p", "a", pod), &policies.Kubernetes{Namespace: "shop", Labels: map[string]string{"riposte.io/protected": "false"}}, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustApply(t, newGuards(tt.opts), tt.choice, tt.k8s, now)
			if v.block != tt.wantBlock {
				t.Errorf("block = %v, want %v (hits %+v)", v.block, tt.wantBlock, v.hits)
			}
			if v.dryRun != tt.wantDry {
				t.Errorf("dryRun = %v, want %v (hits %+v)", v.dryRun, tt.wantDry, v.hits)
			}
			if tt.wantGuard == "" {
				if len(v.hits) != 0 {
					t.Errorf("hits = %+v, want none", v.hits)
				}
				return
			}
			if len(v.hits) == 0 || v.hits[0].Guard != tt.wantGuard {
				t.Errorf("hits = %+v, want %s first", v.hits, tt.wantGuard)
			}
		})
	}
}

func mustApply(t *testing.T, g *guards, c policies.Choice, k8s *policies.Kubernetes, now time.Time) verdict {
	t.Helper()
	v, err := g.apply(context.Background(), c, k8s, now, now)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return v
}

func TestGuardCooldown(t *testing.T) {
	g := newGuards(GuardOptions{Act: true, Cooldown: time.Minute})
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := choice("p", "a", actionners.Target{Kind: "process", PID: 42})
	if v := mustApply(t, g, c, nil, now); v.block {
		t.Fatalf("first action blocked: %+v", v.hits)
	}
	v := mustApply(t, g, c, nil, now.Add(30*time.Second))
	if !v.block || v.hits[0].Guard != GuardCooldown {
		t.Errorf("second action within cooldown: %+v", v)
	}
	other := choice("p", "a", actionners.Target{Kind: "process", PID: 43})
	if v := mustApply(t, g, other, nil, now.Add(30*time.Second)); v.block {
		t.Errorf("other target blocked: %+v", v.hits)
	}
	if v := mustApply(t, g, c, nil, now.Add(61*time.Second)); v.block {
		t.Errorf("action after cooldown blocked: %+v", v.hits)
	}
}

func TestGuardStaleAlert(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	c := choice("p", "a", actionners.Target{Kind: "process", PID: 42})
	tests := []struct {
		name      string
		maxAge    time.Duration
		alertTime time.Time
		wantBlock bool
		wantWords string
	}{
		{"fresh", 10 * time.Minute, now.Add(-time.Minute), false, ""},
		{"at the limit", 10 * time.Minute, now.Add(-10 * time.Minute), false, ""},
		{"older than the limit", 10 * time.Minute, now.Add(-11 * time.Minute), true, "11m0s old"},
		{"slightly ahead", 10 * time.Minute, now.Add(time.Minute), false, ""},
		{"ahead by more than the limit", 10 * time.Minute, now.Add(11 * time.Minute), true, "11m0s in the future"},
		{"no alert time", 10 * time.Minute, time.Time{}, false, ""},
		{"guard off", 0, now.Add(-24 * time.Hour), false, ""},
		{"guard off, ahead", 0, now.Add(24 * time.Hour), false, ""},
		{"guard off, negative", -time.Second, now.Add(-24 * time.Hour), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuards(GuardOptions{Act: true, MaxAlertAge: tt.maxAge})
			v, err := g.apply(context.Background(), c, nil, tt.alertTime, now)
			if err != nil {
				t.Fatal(err)
			}
			if v.block != tt.wantBlock {
				t.Fatalf("block = %v, want %v (hits %+v)", v.block, tt.wantBlock, v.hits)
			}
			if tt.wantBlock && (v.hits[0].Guard != GuardStaleAlert || !strings.Contains(v.hits[0].Reason, tt.wantWords)) {
				t.Errorf("hits = %+v, want %s with %q", v.hits, GuardStaleAlert, tt.wantWords)
			}
		})
	}

	// A blocked stale alert does not start the cooldown of its target.
	g := newGuards(GuardOptions{Act: true, MaxAlertAge: time.Minute, Cooldown: time.Hour})
	if v, _ := g.apply(context.Background(), c, nil, now.Add(-time.Hour), now); !v.block {
		t.Fatalf("stale alert not blocked: %+v", v.hits)
	}
	if v, _ := g.apply(context.Background(), c, nil, now, now); v.block {
		t.Errorf("fresh alert after a stale one blocked: %+v", v.hits)
	}
}

func TestGuardCircuitBreaker(t *testing.T) {
	g := newGuards(GuardOptions{Act: true, Cooldown: -1, RateLimit: 1, RateBurst: 3, BreakerDuration: time.Minute})
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if v := mustApply(t, g, choice("p", "a", actionners.Target{Kind: "process", PID: 100 + i}), nil, now); v.dryRun {
			t.Fatalf("action %d within burst made dry run: %+v", i, v.hits)
		}
	}
	v := mustApply(t, g, choice("p", "a", actionners.Target{Kind: "process", PID: 200}), nil, now)
	if !v.dryRun || v.hits[0].Guard != GuardCircuitBreaker {
		t.Fatalf("action over the limit: %+v", v)
	}
	if !v.breakerOpened {
		t.Error("the action that opened the breaker does not say so")
	}
	// Tokens refill, but the breaker stays open for its duration.
	v = mustApply(t, g, choice("p", "a", actionners.Target{Kind: "process", PID: 201}), nil, now.Add(30*time.Second))
	if !v.dryRun || !strings.Contains(v.hits[0].Reason, "open until") {
		t.Errorf("action while breaker open: %+v", v)
	}
	if v.breakerOpened {
		t.Error("an action while the breaker is open says it opened it")
	}
	summary := actionsSummary([]ActionRecord{{Policy: "p", Action: actionners.Action{Actionner: "a", Target: actionners.Target{Kind: "process", PID: 201}},
		Guards: v.hits, DryRun: true, Result: actionners.Result{Outcome: actionners.OutcomeDryRun}}})
	if !strings.Contains(summary, "dry-run (circuit-breaker: action rate limit exceeded") {
		t.Errorf("summary = %q, want the breaker named", summary)
	}
	if v := mustApply(t, g, choice("p", "a", actionners.Target{Kind: "process", PID: 202}), nil, now.Add(61*time.Second)); v.dryRun {
		t.Errorf("action after breaker closed made dry run: %+v", v.hits)
	}
}

func TestBurstGivesOneAction(t *testing.T) {
	e := newEnv(t, true)
	rec := &recorder{name: "test:record"}
	reg := defaultRegistry(t, rec)
	decisions := e.decisions(t)
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, Guards: GuardOptions{Act: true},
		Policies: loadPolicies(t, reg, map[string]string{"record.rego": recordPolicy})})

	const n = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var batch = shellAlerts(n, 4242)
	pub := newPublisher(e)
	for i, err := range pub.PublishBatch(ctx, batch) {
		if err != nil {
			t.Fatalf("publish alert %d: %v", i, err)
		}
	}

	counts := map[string]int{}
	timeout := time.After(60 * time.Second)
	for range n {
		select {
		case d := <-decisions:
			counts[d.Outcome]++
			if d.Outcome == OutcomeSkipped && (len(d.Actions) != 1 || d.Actions[0].Guards[0].Guard != GuardCooldown) {
				t.Errorf("skipped decision without the cooldown guard: %+v", d.Actions)
			}
		case <-timeout:
			t.Fatalf("got %v decisions, want %d", counts, n)
		}
	}
	if counts[OutcomeActed] != 1 || counts[OutcomeSkipped] != n-1 {
		t.Errorf("outcomes = %v, want 1 acted and %d skipped", counts, n-1)
	}
	if got := rec.count(); got != 1 {
		t.Errorf("recorder ran %d times, want 1", got)
	}
}

func TestKubeSystemNeverActs(t *testing.T) {
	e := newEnv(t, true)
	rec := &recorder{name: "test:record"}
	reg := defaultRegistry(t, rec)
	decisions := e.decisions(t)
	// A policy that tries everything on the alert's pod, plus the default
	// kill policy, with acting enabled and no cooldown.
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, Guards: GuardOptions{Act: true, Cooldown: -1, RateLimit: -1},
		Policies: loadPolicies(t, reg, map[string]string{"record.rego": recordPolicy, "kill.rego": killEverything})})

	a := shellAlert(4242)
	a.OutputFields["k8s.ns.name"] = "kube-system"
	a.OutputFields["k8s.pod.name"] = "coredns-1"
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeSkipped {
		t.Errorf("outcome = %q, want skipped", d.Outcome)
	}
	if len(d.Actions) != 2 {
		t.Fatalf("actions = %+v, want the recorder and the kill", d.Actions)
	}
	for _, act := range d.Actions {
		if act.Result.Outcome != actionners.OutcomeSkipped || len(act.Guards) != 1 || act.Guards[0].Guard != GuardProtectedNamespace {
			t.Errorf("action %s on %s: outcome %s, guards %+v; want blocked by protected-namespace", act.Actionner, act.Target, act.Result.Outcome, act.Guards)
		}
	}
	if got := rec.count(); got != 0 {
		t.Errorf("recorder ran %d times in kube-system", got)
	}
}

// killEverything kills the process of every alert, whatever its namespace.
const killEverything = `package riposte.policies.kill_everything

actions contains {
	"actionner": "process:kill",
	"target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]},
} if true
`

func TestPolicyAskedDryRunRecorded(t *testing.T) {
	e := newEnv(t, true)
	rec := &recorder{name: "test:record"}
	reg := defaultRegistry(t, rec)
	decisions := e.decisions(t)
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, Guards: GuardOptions{Act: true},
		Policies: loadPolicies(t, reg, map[string]string{"record.rego": recordPolicy})})

	a := shellAlert(777)
	a.Tags = append(a.Tags, "ask_dry_run")
	publish(t, e, a)
	d := waitDecision(t, decisions, a.UUID)
	if d.Outcome != OutcomeActed || len(d.Actions) != 2 {
		t.Fatalf("decision = %+v, want one acted and one dry-run action", d)
	}
	var dry ActionRecord
	for _, act := range d.Actions {
		if act.Target.Kind == "node" {
			dry = act
		}
	}
	if !dry.DryRun || dry.Result.Outcome != actionners.OutcomeDryRun || dry.Guards[0].Guard != GuardActionDryRun {
		t.Errorf("policy-asked dry run recorded as %+v", dry)
	}
	if got := rec.count(); got != 1 {
		t.Errorf("recorder ran %d times, want 1", got)
	}
}

func TestSharedCooldownAcrossReplicas(t *testing.T) {
	e := newEnv(t, true)
	rec := &recorder{name: "test:record"}
	reg := defaultRegistry(t, rec)
	decisions := e.decisions(t)
	set := loadPolicies(t, reg, map[string]string{"record.rego": recordPolicy})
	for _, name := range []string{"replica-a", "replica-b"} {
		startResponder(t, Options{JS: e.conn.JS, Registry: reg, Policies: set, Name: name, Concurrency: 4,
			Guards: GuardOptions{Act: true, SharedCooldown: true}})
	}

	const n = 300
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, err := range newPublisher(e).PublishBatch(ctx, shellAlerts(n, 4242)) {
		if err != nil {
			t.Fatalf("publish alert %d: %v", i, err)
		}
	}

	replicas := map[string]int{}
	acted := 0
	timeout := time.After(60 * time.Second)
	for range n {
		select {
		case d := <-decisions:
			replicas[d.Responder]++
			if d.Outcome == OutcomeActed {
				acted++
			}
		case <-timeout:
			t.Fatalf("decisions by replica %v, want %d in all", replicas, n)
		}
	}
	if acted != 1 {
		t.Errorf("%d acted decisions, want 1", acted)
	}
	if got := rec.count(); got != 1 {
		t.Errorf("recorder ran %d times across two replicas, want 1", got)
	}
	t.Logf("decisions by replica: %v", replicas)
}

// TestStaleAlertNeverActs stores an alert from two hours ago, as a new
// consumer finds in a stream that kept its alerts, and one from now. Only the
// fresh one acts.
func TestStaleAlertNeverActs(t *testing.T) {
	e := newEnv(t, true)
	rec := &recorder{name: "test:record"}
	reg := defaultRegistry(t, rec)
	decisions := e.decisions(t)
	startResponder(t, Options{JS: e.conn.JS, Registry: reg, Guards: GuardOptions{Act: true, MaxAlertAge: 10 * time.Minute},
		Policies: loadPolicies(t, reg, map[string]string{"record.rego": recordPolicy})})

	stale := shellAlert(4242)
	stale.Time = time.Now().Add(-2 * time.Hour)
	publish(t, e, stale)
	d := waitDecision(t, decisions, stale.UUID)
	if d.Outcome != OutcomeSkipped {
		t.Errorf("stale alert: outcome = %q, want skipped", d.Outcome)
	}
	if len(d.Actions) != 1 || len(d.Actions[0].Guards) != 1 || d.Actions[0].Guards[0].Guard != GuardStaleAlert {
		t.Errorf("stale alert: actions = %+v, want one blocked by %s", d.Actions, GuardStaleAlert)
	}
	if got := rec.count(); got != 0 {
		t.Errorf("recorder ran %d times for the stale alert", got)
	}

	fresh := shellAlert(4343)
	publish(t, e, fresh)
	if d := waitDecision(t, decisions, fresh.UUID); d.Outcome != OutcomeActed {
		t.Errorf("fresh alert: outcome = %q, want acted (actions %+v)", d.Outcome, d.Actions)
	}
	if got := rec.count(); got != 1 {
		t.Errorf("recorder ran %d times, want 1 for the fresh alert", got)
	}
}

// TestDryRunNeverBlocksRealAction runs a dry-run action and then the same
// action of another policy that acts: the dry run must not start the
// cooldown of real actions.
func TestDryRunNeverBlocksRealAction(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := actionners.Target{Kind: "pod", Namespace: "shop", Name: "web-1"}
	g := newGuards(GuardOptions{Act: true, DryRunPolicies: []string{"preview"}, Cooldown: time.Minute})

	v := mustApply(t, g, choice("preview", "kubernetes:label", pod), nil, now)
	if v.block || !v.dryRun {
		t.Fatalf("dry-run policy: %+v, want a dry run", v)
	}
	v = mustApply(t, g, choice("acting", "kubernetes:label", pod), nil, now.Add(time.Second))
	if v.block || v.dryRun {
		t.Fatalf("acting policy after a dry run: %+v, want it to act", v)
	}
	// A second dry run within the cooldown is blocked as a real one would
	// be, and its reason states that nothing ran.
	v = mustApply(t, g, choice("preview", "kubernetes:label", pod), nil, now.Add(2*time.Second))
	if !v.block || !strings.Contains(v.hits[0].Reason, "was recorded as a dry run") {
		t.Errorf("second dry run: %+v, want blocked by the dry-run cooldown", v)
	}
}

func TestBreakerDryRunStartsNoRealCooldown(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	g := newGuards(GuardOptions{Act: true, Cooldown: time.Minute, RateLimit: 1, RateBurst: 1, BreakerDuration: time.Second})
	first := choice("p", "a", actionners.Target{Kind: "process", PID: 1})
	if v := mustApply(t, g, first, nil, now); v.dryRun || v.block {
		t.Fatalf("first action: %+v", v)
	}
	target := choice("p", "a", actionners.Target{Kind: "process", PID: 2})
	if v := mustApply(t, g, target, nil, now); !v.dryRun {
		t.Fatalf("action over the rate limit: %+v, want a dry run by the breaker", v)
	}
	// Once the breaker closed, the same action acts: the dry run of the
	// breaker did not start its cooldown.
	if v := mustApply(t, g, target, nil, now.Add(5*time.Second)); v.dryRun || v.block {
		t.Errorf("action after the breaker closed: %+v, want it to act", v)
	}
}

func TestCooldownKeyIncludesParameters(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := actionners.Target{Kind: "pod", Namespace: "shop", Name: "web-1"}
	g := newGuards(GuardOptions{Act: true, Cooldown: time.Minute})
	label := func(policy, value string) policies.Choice {
		c := choice(policy, "kubernetes:label", pod)
		c.Parameters = map[string]any{"labels": map[string]any{"team": value}}
		return c
	}
	if v := mustApply(t, g, label("a", "sec"), nil, now); v.block {
		t.Fatalf("first label: %+v", v)
	}
	if v := mustApply(t, g, label("b", "ops"), nil, now); v.block {
		t.Errorf("other label on the same pod blocked: %+v", v.hits)
	}
	if v := mustApply(t, g, label("b", "sec"), nil, now); !v.block {
		t.Errorf("same label on the same pod not blocked by the cooldown")
	}
}

func TestProtectedLabelReadFromCluster(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pods := map[string]map[string]string{
		"shop/db-0":  {"riposte.io/protected": "true"},
		"shop/web-1": {"app": "web"},
	}
	lookup := func(_ context.Context, namespace, name string) (map[string]string, error) {
		if namespace == "shop" && name == "broken" {
			return nil, errors.New("connection refused")
		}
		return pods[namespace+"/"+name], nil
	}
	g := newGuards(GuardOptions{Act: true, Cooldown: -1, PodLabels: lookup})
	tests := []struct {
		name      string
		target    actionners.Target
		k8s       *policies.Kubernetes
		wantBlock string
	}{
		{"protected target", actionners.Target{Kind: "pod", Namespace: "shop", Name: "db-0"}, nil, "pod shop/db-0 has protected label riposte.io/protected=true"},
		{"protected alert pod", actionners.Target{Kind: "process", PID: 42}, &policies.Kubernetes{Namespace: "shop", Pod: "db-0"}, "pod shop/db-0 has protected label"},
		{"unprotected pod", actionners.Target{Kind: "pod", Namespace: "shop", Name: "web-1"}, nil, ""},
		{"missing pod", actionners.Target{Kind: "pod", Namespace: "shop", Name: "gone"}, nil, ""},
		{"unreadable labels", actionners.Target{Kind: "pod", Namespace: "shop", Name: "broken"}, nil, "could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustApply(t, g, choice("p", "kubernetes:label", tt.target), tt.k8s, now)
			if tt.wantBlock == "" {
				if v.block {
					t.Errorf("blocked: %+v", v.hits)
				}
				return
			}
			if !v.block || v.hits[0].Guard != GuardProtectedLabel || !strings.Contains(v.hits[0].Reason, tt.wantBlock) {
				t.Errorf("verdict = %+v, want blocked by %s with %q", v, GuardProtectedLabel, tt.wantBlock)
			}
		})
	}
}
