package responder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	// starts from alerts stored long ago: by then the pod or process that
	// the alert names may be gone and its name taken by another. Zero or
	// negative turns the guard off.
	MaxAlertAge time.Duration
	// SharedCooldown keeps cooldowns in the JetStream key-value bucket
	// riposte_cooldowns as well, so that replicas sharing the consumer also
	// share cooldowns. Set it when more than one responder runs. The rate
	// limit and circuit breaker stay per replica.
	SharedCooldown bool
}

// guards applies GuardOptions. It is safe for concurrent use.
type guards struct {
	act              bool
	dryRunPolicies   map[string]bool
	dryRunActionners map[string]bool
	protectedNS      map[string]bool
	protectedLabels  map[string]string
	cooldown         time.Duration
	maxAlertAge      time.Duration
	limiter          *rate.Limiter
	breakerDuration  time.Duration

	// shared is the shared cooldown bucket, nil unless SharedCooldown is set
	// and the responder runs.
	shared jetstream.KeyValue

	mu           sync.Mutex
	lastAction   map[string]time.Time
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
		lastAction:       map[string]time.Time{},
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
		g.limiter = rate.NewLimiter(rate.Limit(limit), burst)
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
}

// apply runs the guards on one chosen action of an alert of time alertTime,
// in this order: protected namespaces and labels, alert age, cooldown, rate
// limit and circuit breaker (all blocking or switching to dry run whatever
// the policy requests), then the dry-run settings. A blocked action is not
// checked further.
func (g *guards) apply(ctx context.Context, c policies.Choice, k8s *policies.Kubernetes, alertTime, now time.Time) (verdict, error) {
	var v verdict
	block := func(guard, reason string) verdict {
		v.hits = append(v.hits, GuardHit{Guard: guard, Effect: EffectBlock, Reason: reason})
		v.block = true
		return v
	}
	dry := func(guard, reason string) {
		v.hits = append(v.hits, GuardHit{Guard: guard, Effect: EffectDryRun, Reason: reason})
		v.dryRun = true
	}

	if ns := c.Target.Namespace; ns != "" && g.protectedNS[ns] {
		return block(GuardProtectedNamespace, fmt.Sprintf("target namespace %s is protected", ns)), nil
	}
	if k8s != nil {
		if g.protectedNS[k8s.Namespace] {
			return block(GuardProtectedNamespace, fmt.Sprintf("the alert's pod is in protected namespace %s", k8s.Namespace)), nil
		}
		for _, key := range sortedKeys(g.protectedLabels) {
			want := g.protectedLabels[key]
			if got, ok := k8s.Labels[key]; ok && (want == "*" || got == want) {
				return block(GuardProtectedLabel, fmt.Sprintf("pod %s/%s has protected label %s=%s", k8s.Namespace, k8s.Pod, key, got)), nil
			}
		}
	}

	if g.maxAlertAge > 0 && !alertTime.IsZero() {
		if age := now.Sub(alertTime); age > g.maxAlertAge {
			return block(GuardStaleAlert, fmt.Sprintf("the alert is %s old, more than the maximum age of %s for acting on it", age.Round(time.Second), g.maxAlertAge)), nil
		}
	}

	key := c.Actionner + " " + c.Target.String()
	if g.cooldown > 0 {
		g.mu.Lock()
		g.sweep(now)
		last, ok := g.lastAction[key]
		if ok && now.Sub(last) < g.cooldown {
			g.mu.Unlock()
			return block(GuardCooldown, fmt.Sprintf("%s on %s ran %s ago, cooldown %s", c.Actionner, c.Target, now.Sub(last).Round(time.Millisecond), g.cooldown)), nil
		}
		g.lastAction[key] = now
		g.mu.Unlock()

		if g.shared != nil {
			claimed, err := g.claimShared(ctx, key, now)
			if err != nil {
				return v, err
			}
			if !claimed {
				return block(GuardCooldown, fmt.Sprintf("%s on %s ran on another replica within the cooldown of %s", c.Actionner, c.Target, g.cooldown)), nil
			}
		}
	}

	g.mu.Lock()
	if now.Before(g.breakerUntil) {
		dry(GuardCircuitBreaker, fmt.Sprintf("action rate limit exceeded, circuit breaker open until %s", g.breakerUntil.Format(time.RFC3339)))
	} else if g.limiter != nil && !g.limiter.AllowN(now, 1) {
		g.breakerUntil = now.Add(g.breakerDuration)
		dry(GuardCircuitBreaker, fmt.Sprintf("action rate limit of %g per second exceeded, circuit breaker open for %s", float64(g.limiter.Limit()), g.breakerDuration))
	}
	g.mu.Unlock()

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
	return v, nil
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

// sweep drops cooldown entries that expired, at most once per cooldown, so
// the map holds at most the targets acted on in the last two cooldown
// periods. The caller holds g.mu.
func (g *guards) sweep(now time.Time) {
	if now.Sub(g.lastSweep) < g.cooldown {
		return
	}
	g.lastSweep = now
	for key, last := range g.lastAction {
		if now.Sub(last) >= g.cooldown {
			delete(g.lastAction, key)
		}
	}
}

// breakerOpen reports whether the circuit breaker is open at now.
func (g *guards) breakerOpen(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return now.Before(g.breakerUntil)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
