package responder

import (
	"fmt"
	"strings"
	"time"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
)

// Decision outcomes, from the most to the least significant. A decision's
// outcome is the first that applies to any of its actions.
const (
	// OutcomeError means the policies could not be evaluated on the alert,
	// or chose only actions that are not well formed. When other policies
	// chose well-formed actions, the outcome comes from those, and the
	// decision's Error names the malformed ones.
	OutcomeError = "error"
	// OutcomeFailed means an action ran and failed.
	OutcomeFailed = "failed"
	// OutcomeActed means an action ran and succeeded.
	OutcomeActed = "acted"
	// OutcomeDryRun means actions were chosen and only recorded.
	OutcomeDryRun = "dry-run"
	// OutcomeSkipped means every chosen action was blocked by a guard,
	// rejected by its actionner, or found no target.
	OutcomeSkipped = "skipped"
	// OutcomeNoAction means no policy chose an action.
	OutcomeNoAction = "no-action"
)

// Decision records what the responder did with one alert. It is logged,
// published on riposte.decisions.<outcome> and passed to Options.OnDecision.
type Decision struct {
	AlertUUID string         `json:"alert_uuid"`
	Rule      string         `json:"rule"`
	Priority  alert.Priority `json:"priority"`
	Hostname  string         `json:"hostname,omitempty"`
	// Outcome summarizes the actions: one of the Outcome constants.
	Outcome string `json:"outcome"`
	// DryRun is true when the global dry-run guard was on.
	DryRun         bool           `json:"dry_run"`
	PolicyRevision string         `json:"policy_revision"`
	Actions        []ActionRecord `json:"actions"`
	// Error explains OutcomeError.
	Error string `json:"error,omitempty"`
	// Responder names the replica that decided.
	Responder string `json:"responder,omitempty"`
	// Delivery counts deliveries of the alert, 1 for the first.
	Delivery int       `json:"delivery"`
	Time     time.Time `json:"time"`
	Timings  Timings   `json:"timings"`
	// Truncated is true when the stored record had its long strings
	// shortened, or its actions left out, to fit NATS's maximum message
	// size. Only the stored record is shortened.
	Truncated bool `json:"truncated,omitempty"`
}

// ActionRecord is one action a policy chose, with the guards that applied
// and the result.
type ActionRecord struct {
	Policy string `json:"policy"`
	actionners.Action
	// Guards lists the guards that changed the action, in the order applied.
	Guards []GuardHit `json:"guards,omitempty"`
	// DryRun is true when the action was only recorded.
	DryRun bool              `json:"dry_run"`
	Result actionners.Result `json:"result"`
	// IdempotencyKey identifies the action across redeliveries of the alert.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// GuardHit is one guard that changed an action.
type GuardHit struct {
	// Guard is the guard's name, such as "dry-run" or "protected-namespace".
	Guard string `json:"guard"`
	// Effect is "dry-run" when the action was turned into a dry run, or
	// "block" when it was not run at all.
	Effect string `json:"effect"`
	Reason string `json:"reason"`
}

// Guard effects.
const (
	EffectDryRun = "dry-run"
	EffectBlock  = "block"
)

// Timings break down the time from the alert's publication to the decision,
// in nanoseconds.
type Timings struct {
	// Queue is the time from the alert's storage in JetStream to its receipt.
	Queue time.Duration `json:"queue_ns"`
	// Policy is the time spent evaluating policies.
	Policy time.Duration `json:"policy_ns"`
	// Actions is the time spent applying guards and running actions.
	Actions time.Duration `json:"actions_ns"`
	// Total is the time from the alert's storage in JetStream to the decision,
	// before the decision is published.
	Total time.Duration `json:"total_ns"`
}

// summarize sets the decision's outcome from its actions.
func (d *Decision) summarize() {
	if d.Error != "" && len(d.Actions) == 0 {
		d.Outcome = OutcomeError
		return
	}
	if len(d.Actions) == 0 {
		d.Outcome = OutcomeNoAction
		return
	}
	var failed, succeeded, dry bool
	for _, a := range d.Actions {
		switch a.Result.Outcome {
		case actionners.OutcomeFailed:
			failed = true
		case actionners.OutcomeSucceeded:
			succeeded = true
		case actionners.OutcomeDryRun:
			dry = true
		}
	}
	switch {
	case failed:
		d.Outcome = OutcomeFailed
	case succeeded:
		d.Outcome = OutcomeActed
	case dry:
		d.Outcome = OutcomeDryRun
	default:
		d.Outcome = OutcomeSkipped
	}
}

// String formats the decision as one line for people, such as
// `dry-run: rule "Shell spawned in a container" (alert 1f2e...) on node-1:
// process:kill on process 4242 dry-run`.
func (d Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: rule %q (alert %s)", d.Outcome, d.Rule, d.AlertUUID)
	if d.Hostname != "" {
		fmt.Fprintf(&b, " on %s", d.Hostname)
	}
	for i, a := range d.Actions {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s on %s %s", sep, a.Actionner, a.Target, a.Result.Outcome)
		if a.Result.Message != "" && a.Result.Outcome != actionners.OutcomeDryRun {
			fmt.Fprintf(&b, " (%s)", a.Result.Message)
		}
	}
	if d.Error != "" {
		fmt.Fprintf(&b, ": %s", d.Error)
	}
	return b.String()
}
