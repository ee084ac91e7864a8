// Package actionners defines how Riposte acts on a decision. An actionner is one
// kind of action, such as killing a process or isolating a pod. The responder
// looks actionners up by name in a [Registry] and validates each action's
// parameters when policies load. It runs the action unless a guard turns it into
// a dry run.
package actionners

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/riposte-sec/riposte/alert"
)

// Errors that callers can test with errors.Is.
var (
	// ErrUnknownActionner means no actionner is registered under the requested name.
	ErrUnknownActionner = errors.New("unknown actionner")
	// ErrInvalidParameters means an action's parameters do not fit its actionner.
	ErrInvalidParameters = errors.New("invalid parameters")
	// ErrNoTarget means the alert does not name the object the action needs.
	ErrNoTarget = errors.New("no target")
	// ErrRejected means the actionner refused to act on the target, for example
	// pid 1, a kernel thread or a static pod.
	ErrRejected = errors.New("rejected")
)

// Action is one action that a policy chose for an alert.
type Action struct {
	// Actionner is the registered name, such as "process:kill".
	Actionner string `json:"actionner"`
	// Target is the object to act on.
	Target Target `json:"target"`
	// Parameters are the actionner's options, as the policy wrote them.
	Parameters map[string]any `json:"parameters,omitempty"`
	// Reason is the policy's explanation of the choice.
	Reason string `json:"reason,omitempty"`
}

// Target names the object an action applies to. Which fields matter depends on
// Kind: "process" uses PID, "pod" uses Namespace, Name and Container, "node" uses
// Node.
type Target struct {
	Kind      string `json:"kind"`
	PID       int    `json:"pid,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Container string `json:"container,omitempty"`
	Node      string `json:"node,omitempty"`
}

// String formats the target for logs, such as "process 4242" or "pod ns/name".
func (t Target) String() string {
	switch t.Kind {
	case "process":
		return fmt.Sprintf("process %d", t.PID)
	case "node":
		return "node " + t.Node
	case "":
		return "none"
	default:
		if t.Namespace != "" {
			return fmt.Sprintf("%s %s/%s", t.Kind, t.Namespace, t.Name)
		}
		return t.Kind + " " + t.Name
	}
}

// Request is the input of an actionner for one action.
type Request struct {
	Action Action
	// Alert is the alert that led to the action.
	Alert *alert.Alert
}

// Outcome is the final state of an action.
type Outcome string

// Outcomes recorded with every decision.
const (
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeFailed    Outcome = "failed"
	OutcomeDryRun    Outcome = "dry-run"
	OutcomeSkipped   Outcome = "skipped"
	OutcomeRejected  Outcome = "rejected"
	OutcomeNoTarget  Outcome = "no target"
)

// Result is the record of an action's effect.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// Message describes the effect or the reason for the outcome.
	Message string `json:"message,omitempty"`
	// Output holds data the action collected, such as command output or logs.
	Output map[string]any `json:"output,omitempty"`
	// Duration is how long the action ran.
	Duration time.Duration `json:"duration_ns"`
}

// Permission is one thing an actionner needs to be allowed to do: a Kubernetes
// RBAC rule, a Linux capability on the host, or both.
type Permission struct {
	APIGroups  []string `json:"apiGroups,omitempty"`
	Resources  []string `json:"resources,omitempty"`
	Verbs      []string `json:"verbs,omitempty"`
	Capability string   `json:"capability,omitempty"`
}

// Actionner is one kind of action.
type Actionner interface {
	// Name returns the registered name, such as "process:kill".
	Name() string
	// Validate checks parameters when policies load, so that a bad parameter stops
	// loading instead of failing when an attack is under way. It returns an error
	// wrapping ErrInvalidParameters.
	Validate(params map[string]any) error
	// Run performs the action. An action that could not run for a reason the
	// caller should record, not retry, returns a Result with OutcomeRejected or
	// OutcomeNoTarget and a nil error.
	Run(ctx context.Context, req Request) (Result, error)
	// Permissions lists what the actionner needs, for RBAC and documentation.
	Permissions() []Permission
}

// Checker is implemented by actionners that can tell, without acting,
// whether Run would reject a request or find no target, so that a dry run
// shows the outcome that acting would have.
type Checker interface {
	// Check returns OutcomeRejected or OutcomeNoTarget with the reason when
	// Run would give that outcome, and an empty outcome when Run would act,
	// with a note in place of the reason when the checks could not run.
	Check(ctx context.Context, req Request) (Outcome, string, error)
}

// Normalizer is implemented by actionners whose parameters can be written in
// several ways, such as a signal as "SIGKILL", "KILL" or 9.
type Normalizer interface {
	// Normalize returns valid parameters in one form, so that the guards
	// take two ways of writing one action as the same action.
	Normalize(params map[string]any) map[string]any
}

// Describer is implemented by actionners that document their parameters.
type Describer interface {
	// Describe returns a one-line summary and the parameters with their meaning.
	Describe() (summary string, params map[string]string)
}

// Registry maps names, and aliases such as Falco Talon's, to actionners.
type Registry struct {
	byName  map[string]Actionner
	aliases map[string]string
}

// NewRegistry returns a registry holding the given actionners.
func NewRegistry(list ...Actionner) (*Registry, error) {
	r := &Registry{byName: map[string]Actionner{}, aliases: map[string]string{}}
	for _, a := range list {
		if err := r.Register(a); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds an actionner; a name may be registered once.
func (r *Registry) Register(a Actionner) error {
	name := a.Name()
	if _, ok := r.byName[name]; ok {
		return fmt.Errorf("register actionner %q: name already registered", name)
	}
	if _, ok := r.aliases[name]; ok {
		return fmt.Errorf("register actionner %q: name already used as an alias", name)
	}
	r.byName[name] = a
	return nil
}

// Alias makes alias resolve to the actionner registered as name.
func (r *Registry) Alias(alias, name string) error {
	if _, ok := r.byName[name]; !ok {
		return fmt.Errorf("alias %q: %w %q", alias, ErrUnknownActionner, name)
	}
	if _, ok := r.byName[alias]; ok {
		return fmt.Errorf("alias %q: name already registered", alias)
	}
	r.aliases[alias] = name
	return nil
}

// Get returns the actionner registered under name or alias.
func (r *Registry) Get(name string) (Actionner, error) {
	if a, ok := r.byName[name]; ok {
		return a, nil
	}
	if target, ok := r.aliases[name]; ok {
		return r.byName[target], nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownActionner, name)
}

// Names returns the registered names, sorted, without aliases.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
