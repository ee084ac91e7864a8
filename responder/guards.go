package responder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/policies"
)

// Guard names recorded in GuardHit.Guard.
const (
	GuardDryRun             = "dry-run"
	GuardPolicyDryRun       = "policy-dry-run"
	GuardActionDryRun       = "action-dry-run"
	GuardProtectedNamespace = "protected-namespace"
	GuardProtectedLabel     = "protected-label"
	GuardCooldown           = "cooldown"
	GuardCircuitBreaker     = "circuit-breaker"
	GuardStaleAlert         = "stale-alert"
	// GuardEvaluationOnly marks actions of Evaluator and Replay, which never
	// run actions.
	GuardEvaluationOnly = "evaluation-only"
)

// GuardOptions configure the guards that apply to every action after the
// policies chose it. No policy can lift them. The zero value is a global dry
// run with the default protections.
type GuardOptions struct {
	// Act lets actions run. When false, the default, every action is recorded
	// with outcome dry-run and nothing is done.
	Act bool
	// DryRunPolicies are policy names whose actions are only recorded. New
	// and NewEvaluator reject a name that no loaded policy has.
	DryRunPolicies []string
	// DryRunActionners are actionner names, such as "process:kill", whose
	// actions are only recorded. An alias, such as Falco Talon's
	// "kubernetes:networkpolicy", resolves to the actionner it names. New and
	// NewEvaluator reject a name that the registry does not know.
	DryRunActionners []string
	// ProtectedNamespaces are Kubernetes namespaces in which no action runs,
	// whether the action's target or the alert's pod is there. Nil means
	// kube-system and OwnNamespace. An empty, non-nil list protects none.
	ProtectedNamespaces []string
	// OwnNamespace is Riposte's namespace, protected by default. Empty means
	// "riposte".
	OwnNamespace string
	// ProtectedLabels are pod labels that block every action on the pod. A
	// value of "*" matches any value. Nil means riposte.io/protected=true.
	ProtectedLabels map[string]string
	// Cooldown is the time after an action during which the same action on the
	// same target is blocked, so a burst of identical alerts gets one action.
	// Zero means one minute; negative disables the cooldown.
	Cooldown time.Duration
	// RateLimit is the sustained number of actions per second across all
	// targets. Zero means 10; negative disables the limit.
	RateLimit float64
	// RateBurst is the number of actions allowed at once above RateLimit.
	// Zero means 50.
	RateBurst int
	// BreakerDuration is how long every action stays a dry run after the rate
	// limit was exceeded. Zero means five minutes.
	BreakerDuration time.Duration
	// MaxAlertAge blocks the actions of an alert older than this when the
	// responder decides on it, as after an outage or when a new consumer
	// starts from alerts stored long ago. By then the pod or process that
	// the alert names may be gone and its name taken by another. Zero or
	// negative turns the guard off.
	MaxAlertAge time.Duration
	// PodLabels, when set, reads the labels of a pod from the cluster, so
	// that the protected-label guard checks the action's target pod and the
	// alert's pod even when the alert carries no k8s.pod.labels field, as
	// Falco's rules print none. It returns nil labels for a pod that does
	// not exist. Any other error blocks the action.
	PodLabels func(ctx context.Context, namespace, name string) (map[string]string, error)
	// SharedCooldown keeps cooldowns in the JetStream key-value bucket
	// riposte_cooldowns as well, so that replicas sharing the consumer also
	// share cooldowns. Set it when more than one responder runs. The rate
	// limit and circuit breaker stay per replica.
	SharedCooldown bool
}

// guards applies GuardOptions. It is safe for concurrent use.
type guards struct {
	act bool
	// evaluationOnly is set for policy eval and replay, where an action that
	// the guards let through is recorded but never runs.
	evaluationOnly   bool
	dryRunPolicies   map[string]bool
	dryRunActionners map[string]bool
	protectedNS      map[string]bool
	protectedLabels  map[string]string
	cooldown         time.Duration
	maxAlertAge      time.Duration
	breakerDuration  time.Duration
	podLabels        func(ctx context.Context, namespace, name string) (map[string]string, error)

	// shared is the shared cooldown bucket, nil unless SharedCooldown is set
	// and the responder runs.
	shared jetstream.KeyValue

	// real holds the cooldowns, rate limit and circuit breaker of actions
	// that run, and preview those of dry-run actions. Keeping them apart
	// lets a dry run show what acting would do without a dry-run action
	// ever blocking a real one.
	mu      sync.Mutex
	real    guardState
	preview guardState
}

// guardState is the cooldown and rate-limit state of one kind of action.
type guardState struct {
	lastAction   map[string]time.Time
	limiter      *rate.Limiter
	breakerUntil time.Time
	lastSweep    time.Time
}

func newGuards(o GuardOptions) *guards {
	g := &guards{
		act:              o.Act,
		dryRunPolicies:   toSet(o.DryRunPolicies),
		dryRunActionners: toSet(o.DryRunActionners),
		cooldown:         o.Cooldown,
		maxAlertAge:      o.MaxAlertAge,
		breakerDuration:  o.BreakerDuration,
		podLabels:        o.PodLabels,
		real:             guardState{lastAction: map[string]time.Time{}},
		preview:          guardState{lastAction: map[string]time.Time{}},
	}
	own := o.OwnNamespace
	if own == "" {
		own = "riposte"
	}
	if o.ProtectedNamespaces == nil {
		g.protectedNS = toSet([]string{"kube-system", own})
	} else {
		g.protectedNS = toSet(o.ProtectedNamespaces)
	}
	g.protectedLabels = o.ProtectedLabels
	if g.protectedLabels == nil {
		g.protectedLabels = map[string]string{"riposte.io/protected": "true"}
	}
	if g.cooldown == 0 {
		g.cooldown = time.Minute
	}
	if o.RateLimit >= 0 {
		limit, burst := o.RateLimit, o.RateBurst
		if limit == 0 {
			limit = 10
		}
		if burst == 0 {
			burst = 50
		}
		g.real.limiter = rate.NewLimiter(rate.Limit(limit), burst)
		g.preview.limiter = rate.NewLimiter(rate.Limit(limit), burst)
	}
	if g.breakerDuration == 0 {
		g.breakerDuration = 5 * time.Minute
	}
	return g
}

// resolveDryRunNames returns o with every dry-run actionner name or alias
// replaced by the registered name, so that the guard matches the names that
// act compares. It returns an error naming the first actionner that reg does
// not know, or the first dry-run policy that set does not have.
func resolveDryRunNames(o GuardOptions, reg *actionners.Registry, set *policies.Set) (GuardOptions, error) {
	resolved := make([]string, 0, len(o.DryRunActionners))
	for _, name := range o.DryRunActionners {
		a, err := reg.Get(name)
		if err != nil {
			return o, fmt.Errorf("invalid dry-run actionner %q: no actionner or alias of that name is registered: use one of %s, or a Falco Talon alias of one", name, strings.Join(reg.Names(), ", "))
		}
		resolved = append(resolved, a.Name())
	}
	o.DryRunActionners = resolved

	loaded := set.Names()
	for _, name := range o.DryRunPolicies {
		if slices.Contains(loaded, name) {
			continue
		}
		if len(loaded) == 0 {
			return o, fmt.Errorf("invalid dry-run policy %q: no policy is loaded", name)
		}
		return o, fmt.Errorf("invalid dry-run policy %q: no loaded policy has this name: use one of %s", name, strings.Join(loaded, ", "))
	}
	return o, nil
}

// missingDryRunPolicies returns the dry-run policy names that set does not
// have, in the order given.
func missingDryRunPolicies(names []string, set *policies.Set) []string {
	loaded := set.Names()
	var missing []string
	for _, name := range names {
		if !slices.Contains(loaded, name) {
			missing = append(missing, name)
		}
	}
	return missing
}

func toSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// verdict is the guards' result for one action.
type verdict struct {
	hits   []GuardHit
	block  bool
	dryRun bool
	// breakerOpened is set when this action opened the circuit breaker of
	// real actions.
	breakerOpened bool
}

// apply runs the guards on one chosen action of an alert of time alertTime.
// The order is protected namespaces and labels, alert age, cooldown, rate
// limit and circuit breaker, then the dry-run settings. Each of them blocks
// the action or makes it a dry run, whatever the policy requests, and a
// blocked action is not checked further. Cooldowns and the rate limit of
// dry-run actions are kept apart from those of real actions.
func (g *guards) apply(ctx context.Context, c policies.Choice, k8s *policies.Kubernetes, alertTime, now time.Time) (verdict, error) {
	var v verdict
	block := func(guard, reason string) verdict {
		v.hits = append(v.hits, GuardHit{Guard: guard, Effect: EffectBlock, Reason: reason})
		v.block = true
		return v
	}

	if ns := c.Target.Namespace; ns != "" && g.protectedNS[ns] {
		return block(GuardProtectedNamespace, fmt.Sprintf("target namespace %s is protected", ns)), nil
	}
	if k8s != nil && g.protectedNS[k8s.Namespace] {
		return block(GuardProtectedNamespace, fmt.Sprintf("the alert's pod is in protected namespace %s", k8s.Namespace)), nil
	}
	if reason := g.protectedPod(ctx, c, k8s); reason != "" {
		return block(GuardProtectedLabel, reason), nil
	}
	if g.maxAlertAge > 0 && !alertTime.IsZero() {
		if age := now.Sub(alertTime); age > g.maxAlertAge {
			return block(GuardStaleAlert, fmt.Sprintf("the alert is %s old, more than the maximum age of %s for acting on it", age.Round(time.Second), g.maxAlertAge)), nil
		}
		// An alert dated further ahead than the maximum age comes from a
		// host whose clock is wrong, or is forged to outlive the guard.
		if ahead := alertTime.Sub(now); ahead > g.maxAlertAge {
			return block(GuardStaleAlert, fmt.Sprintf("the alert is dated %s in the future, more than the maximum age of %s: check the clock of the host that raised it", ahead.Round(time.Second), g.maxAlertAge)), nil
		}
	}

	dryHits := g.dryRunHits(c)
	key := cooldownKey(c)
	g.mu.Lock()
	state := &g.real
	if len(dryHits) > 0 {
		state = &g.preview
	}
	if g.cooldown > 0 {
		g.sweep(state, now)
		if last, ok := state.lastAction[key]; ok && now.Sub(last) < g.cooldown {
			g.mu.Unlock()
			past := "ran"
			switch {
			case state == &g.preview:
				past = "was recorded as a dry run"
			case g.evaluationOnly:
				past = "would have run"
			}
			return block(GuardCooldown, fmt.Sprintf("%s on %s %s %s ago, cooldown %s", c.Actionner, c.Target, past, now.Sub(last).Round(time.Millisecond), g.cooldown)), nil
		}
	}
	var breakerHit *GuardHit
	if now.Before(state.breakerUntil) {
		breakerHit = &GuardHit{Guard: GuardCircuitBreaker, Effect: EffectDryRun, Reason: fmt.Sprintf("action rate limit exceeded, circuit breaker open until %s", state.breakerUntil.Format(time.RFC3339))}
	} else if state.limiter != nil && !state.limiter.AllowN(now, 1) {
		state.breakerUntil = now.Add(g.breakerDuration)
		v.breakerOpened = state == &g.real
		breakerHit = &GuardHit{Guard: GuardCircuitBreaker, Effect: EffectDryRun, Reason: fmt.Sprintf("action rate limit of %g per second exceeded, circuit breaker open for %s", float64(state.limiter.Limit()), g.breakerDuration)}
	}
	if breakerHit != nil && state == &g.real {
		// The action becomes a dry run: it must not start a real cooldown.
		state = &g.preview
	}
	if g.cooldown > 0 {
		state.lastAction[key] = now
	}
	g.mu.Unlock()

	if g.cooldown > 0 && g.shared != nil && state == &g.real {
		claimed, err := g.claimShared(ctx, key, now)
		if err != nil {
			return v, err
		}
		if !claimed {
			return block(GuardCooldown, fmt.Sprintf("%s on %s ran on another replica within the cooldown of %s", c.Actionner, c.Target, g.cooldown)), nil
		}
	}

	if breakerHit != nil {
		v.hits = append(v.hits, *breakerHit)
		v.dryRun = true
	}
	if len(dryHits) > 0 {
		v.hits = append(v.hits, dryHits...)
		v.dryRun = true
	}
	return v, nil
}

// dryRunHits returns the dry-run settings that apply to c.
func (g *guards) dryRunHits(c policies.Choice) []GuardHit {
	var hits []GuardHit
	dry := func(guard, reason string) {
		hits = append(hits, GuardHit{Guard: guard, Effect: EffectDryRun, Reason: reason})
	}
	if g.dryRunPolicies[c.Policy] {
		dry(GuardPolicyDryRun, fmt.Sprintf("policy %s is set to dry run", c.Policy))
	}
	if g.dryRunActionners[c.Actionner] {
		dry(GuardActionDryRun, fmt.Sprintf("actionner %s is set to dry run", c.Actionner))
	}
	if c.DryRun {
		dry(GuardActionDryRun, fmt.Sprintf("policy %s asked for a dry run of this action", c.Policy))
	}
	if !g.act {
		dry(GuardDryRun, "global dry run is on")
	}
	return hits
}

// cooldownKey identifies the same action on the same target: the actionner,
// the target and the parameters, so that two policies labelling one pod
// with different labels both act.
func cooldownKey(c policies.Choice) string {
	key := c.Actionner + " " + c.Target.String()
	if len(c.Parameters) > 0 {
		// encoding/json sorts map keys, so equal parameters give one key.
		if params, err := json.Marshal(c.Parameters); err == nil {
			key += " " + string(params)
		}
	}
	return key
}

// protectedPod returns why c must not run because the target pod or the
// alert's pod carries a protected label, or "" when neither does.
func (g *guards) protectedPod(ctx context.Context, c policies.Choice, k8s *policies.Kubernetes) string {
	if len(g.protectedLabels) == 0 {
		return ""
	}
	type pod struct{ namespace, name string }
	var pods []pod
	if c.Target.Kind == "pod" && c.Target.Namespace != "" && c.Target.Name != "" {
		pods = append(pods, pod{c.Target.Namespace, c.Target.Name})
	}
	if k8s != nil && k8s.Namespace != "" && k8s.Pod != "" && !(len(pods) == 1 && pods[0] == pod{k8s.Namespace, k8s.Pod}) {
		pods = append(pods, pod{k8s.Namespace, k8s.Pod})
	}
	if k8s != nil && len(k8s.Labels) > 0 {
		if reason := g.labelReason(k8s.Namespace, k8s.Pod, k8s.Labels); reason != "" {
			return reason
		}
	}
	if g.podLabels == nil {
		return ""
	}
	for _, p := range pods {
		labels, err := g.podLabels(ctx, p.namespace, p.name)
		if err != nil {
			return fmt.Sprintf("the labels of pod %s/%s could not be read, so a protected label cannot be ruled out: %v", p.namespace, p.name, err)
		}
		if reason := g.labelReason(p.namespace, p.name, labels); reason != "" {
			return reason
		}
	}
	return ""
}

// labelReason returns why a pod with these labels is protected, or "".
func (g *guards) labelReason(namespace, name string, labels map[string]string) string {
	for _, key := range sortedKeys(g.protectedLabels) {
		want := g.protectedLabels[key]
		if got, ok := labels[key]; ok && (want == "*" || got == want) {
			return fmt.Sprintf("pod %s/%s has protected label %s=%s", namespace, name, key, got)
		}
	}
	return ""
}

// claimShared records an action in the shared cooldown bucket. It returns
// false when another replica, or this one before a restart, recorded the same
// action on the same target within the cooldown, which is the bucket's TTL.
func (g *guards) claimShared(ctx context.Context, key string, now time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(key))
	kvKey := "cooldown." + hex.EncodeToString(sum[:16])
	_, err := g.shared.Create(ctx, kvKey, []byte(now.UTC().Format(time.RFC3339Nano)))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim shared cooldown for %s: %w", key, err)
	}
	return true, nil
}

// sweep drops the cooldown entries of state that expired, at most once per
// cooldown, so the map holds at most the targets acted on in the last two
// cooldown periods. The caller holds g.mu.
func (g *guards) sweep(state *guardState, now time.Time) {
	if now.Sub(state.lastSweep) < g.cooldown {
		return
	}
	state.lastSweep = now
	for key, last := range state.lastAction {
		if now.Sub(last) >= g.cooldown {
			delete(state.lastAction, key)
		}
	}
}

// breakerOpen reports whether the circuit breaker of real actions is open
// at now.
func (g *guards) breakerOpen(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return now.Before(g.real.breakerUntil)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
