package responder

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/actionners"
)

// aliasPolicies choose the same action on the same process twice: once
// through the registered name and once through its alias.
var aliasPolicies = map[string]string{
	"by_name.rego": `package riposte.policies.by_name

actions contains {
	"actionner": "test:record",
	"target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]},
}
`,
	"by_alias.rego": `package riposte.policies.by_alias

actions contains {
	"actionner": "test:record-alias",
	"target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]},
}
`,
}

// aliasRegistry returns the default registry plus test:record, which
// test:record-alias also names.
func aliasRegistry(t *testing.T) *actionners.Registry {
	t.Helper()
	reg := defaultRegistry(t, &recorder{name: "test:record"})
	if err := reg.Alias("test:record-alias", "test:record"); err != nil {
		t.Fatal(err)
	}
	return reg
}

func newAliasEvaluator(t *testing.T, guards GuardOptions) (*Evaluator, error) {
	t.Helper()
	reg := aliasRegistry(t)
	return NewEvaluator(EvalOptions{Policies: loadPolicies(t, reg, aliasPolicies), Registry: reg, Guards: guards, Node: "node-1"})
}

// guardHit returns the first hit of guard in rec, or false.
func guardHit(rec ActionRecord, guard string) (GuardHit, bool) {
	for _, h := range rec.Guards {
		if h.Guard == guard {
			return h, true
		}
	}
	return GuardHit{}, false
}

func TestDryRunActionnerAliasMatches(t *testing.T) {
	for _, name := range []string{"test:record", "test:record-alias"} {
		t.Run(name, func(t *testing.T) {
			e, err := newAliasEvaluator(t, GuardOptions{Act: true, Cooldown: -1, DryRunActionners: []string{name}})
			if err != nil {
				t.Fatal(err)
			}
			d := e.Evaluate(context.Background(), shellAlert(4242))
			var chosen int
			for _, rec := range d.Actions {
				if rec.Target.Kind != "process" || rec.Policy == "" || !strings.HasPrefix(rec.Policy, "by_") {
					continue
				}
				chosen++
				if _, ok := guardHit(rec, GuardActionDryRun); !ok {
					t.Errorf("policy %s: guards = %+v, want %s", rec.Policy, rec.Guards, GuardActionDryRun)
				}
			}
			if chosen != 2 {
				t.Errorf("actions of the alias policies = %d, want 2 (decision %+v)", chosen, d)
			}
		})
	}
}

func TestUnknownDryRunActionnerRejected(t *testing.T) {
	_, err := newAliasEvaluator(t, GuardOptions{DryRunActionners: []string{"process:kill", "process:kil"}})
	if err == nil {
		t.Fatal("evaluator accepted dry-run actionner process:kil")
	}
	for _, want := range []string{`"process:kil"`, "process:kill", "kubernetes:isolate", "test:record"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %s", err, want)
		}
	}
}

func TestUnknownDryRunPolicyRejected(t *testing.T) {
	_, err := newAliasEvaluator(t, GuardOptions{DryRunPolicies: []string{"by_name", "by_nmae"}})
	if err == nil {
		t.Fatal("evaluator accepted dry-run policy by_nmae")
	}
	for _, want := range []string{`"by_nmae"`, "by_alias, by_name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %s", err, want)
		}
	}
}

func TestReloadWarnsMissingDryRunPolicy(t *testing.T) {
	var logs bytes.Buffer
	reg := aliasRegistry(t)
	r, err := newResponder(Options{
		Policies: loadPolicies(t, reg, aliasPolicies),
		Registry: reg,
		Guards:   GuardOptions{DryRunPolicies: []string{"by_alias"}},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}

	r.SetPolicies(loadPolicies(t, reg, aliasPolicies))
	if logs.Len() != 0 {
		t.Errorf("reload with the dry-run policy present logged %q", logs.String())
	}

	r.SetPolicies(loadPolicies(t, reg, map[string]string{"by_name.rego": aliasPolicies["by_name.rego"]}))
	line := logs.String()
	if !strings.Contains(line, "level=WARN") {
		t.Errorf("reload without the dry-run policy logged %q, want a warning", line)
	}
	if !strings.Contains(line, "policy=by_alias") {
		t.Errorf("warning %q does not name policy by_alias", line)
	}
}

func TestAliasSharesCooldown(t *testing.T) {
	e, err := newAliasEvaluator(t, GuardOptions{Act: true})
	if err != nil {
		t.Fatal(err)
	}
	a := shellAlert(4242)
	d := e.Evaluate(context.Background(), a)

	var records []ActionRecord
	for _, rec := range d.Actions {
		if strings.HasPrefix(rec.Policy, "by_") {
			records = append(records, rec)
		}
	}
	if len(records) != 2 {
		t.Fatalf("actions of the alias policies = %+v, want 2", records)
	}
	var cooled int
	for _, rec := range records {
		if rec.Actionner != "test:record" {
			t.Errorf("policy %s recorded actionner %s, want the registered name test:record", rec.Policy, rec.Actionner)
		}
		if _, ok := guardHit(rec, GuardCooldown); ok {
			cooled++
		}
	}
	if cooled != 1 {
		t.Errorf("actions blocked by cooldown = %d, want 1 (records %+v)", cooled, records)
	}
	if records[0].IdempotencyKey != records[1].IdempotencyKey {
		t.Errorf("idempotency keys differ: %s and %s", records[0].IdempotencyKey, records[1].IdempotencyKey)
	}
	want := idempotencyKey(a.UUID, actionners.Action{Actionner: "test:record", Target: actionners.Target{Kind: "process", PID: 4242}})
	if !slices.ContainsFunc(records, func(r ActionRecord) bool { return r.IdempotencyKey == want }) {
		t.Errorf("idempotency keys %s, %s; want %s, the key of the registered name", records[0].IdempotencyKey, records[1].IdempotencyKey, want)
	}
}

// TestIdempotencyKeyStable pins the key of one action, so that a change to
// the key derivation, which would run actions again on redelivered alerts
// after an upgrade, shows up here.
func TestIdempotencyKeyStable(t *testing.T) {
	got := idempotencyKey("0b5c2a6e-1f7d-4c1e-9d3a-2f4e6a8b0c1d", actionners.Action{
		Actionner:  "kubernetes:isolate",
		Target:     actionners.Target{Kind: "pod", Namespace: "shop", Name: "web-1"},
		Parameters: map[string]any{"b": 1, "a": "x"},
	})
	if want := "0b5c2a6e-1f7d-4c1e-9d3a-2f4e6a8b0c1d.4f5144199276cc5f"; got != want {
		t.Errorf("idempotencyKey = %s, want %s", got, want)
	}
}
