package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/riposte-sec/riposte/actionners"
)

// Cordon is kubernetes:cordon: it marks the node of the pod unschedulable.
type Cordon struct{ base }

// Validate checks that there are no parameters.
func (a *Cordon) Validate(values map[string]any) error {
	return newParams(a.name, values).err()
}

// Describe documents the actionner, which has no parameters.
func (a *Cordon) Describe() (string, map[string]string) {
	return "Mark the node the pod runs on, or the alert's node, unschedulable.", map[string]string{}
}

// Permissions lists the RBAC rules the actionner needs.
func (a *Cordon) Permissions() []actionners.Permission {
	return []actionners.Permission{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "patch"}},
		eventPermission,
	}
}

// Run cordons the node.
func (a *Cordon) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	if err := a.Validate(req.Action.Parameters); err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	nodeName, res, err := a.nodeOf(ctx, req)
	if err != nil || res != nil {
		return r.finish(ctx, deref(res), err)
	}
	node, already, err := cordon(ctx, a.client, nodeName)
	if apierrors.IsNotFound(err) {
		return r.finish(ctx, skipped("node %s not found", nodeName), nil)
	}
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	r.object = nodeRef(node)
	if already {
		return r.finish(ctx, succeeded("node %s was already cordoned", nodeName), nil)
	}
	return r.finish(ctx, succeeded("cordoned node %s", nodeName), nil)
}

// cordon sets spec.unschedulable on the node and reports whether it was set
// already.
func cordon(ctx context.Context, c *Client, name string) (*corev1.Node, bool, error) {
	var node *corev1.Node
	var already bool
	err := c.retry(ctx, "cordon node", func(ctx context.Context) error {
		var err error
		node, err = c.Kubernetes.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if node.Spec.Unschedulable {
			already = true
			return nil
		}
		patch := []byte(`{"spec":{"unschedulable":true}}`)
		node, err = c.Kubernetes.CoreV1().Nodes().Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		err = fmt.Errorf("cordon node %s: %w", name, err)
	}
	return node, already, err
}

// Limits of kubernetes:drain.
const (
	defaultDrainTimeout = 2 * time.Minute
	maxDrainTimeout     = 30 * time.Minute
	// evictionRetryInterval paces evictions that a PodDisruptionBudget
	// refused, as kubectl drain does.
	evictionRetryInterval = time.Second
)

// Drain is kubernetes:drain: it cordons the node and evicts its pods through
// the Eviction API, which respects PodDisruptionBudgets, within a time limit.
type Drain struct{ base }

type drainConfig struct {
	skipDaemonSets   bool
	skipStatefulSets bool
	timeout          time.Duration
	gracePeriod      *int64
	minHealthy       *minHealthy
	noWait           map[string]bool
}

func (a *Drain) parse(values map[string]any) (drainConfig, error) {
	p := newParams(a.name, values)
	cfg := drainConfig{
		skipDaemonSets:   p.bool(true, "ignore_daemonsets"),
		skipStatefulSets: p.bool(false, "ignore_statefulsets"),
		timeout:          p.duration(defaultDrainTimeout, "timeout", "max_wait_period"),
	}
	if cfg.timeout <= 0 || cfg.timeout > maxDrainTimeout {
		p.fail("timeout", "must be more than 0 and at most %s, got %s", maxDrainTimeout, cfg.timeout)
	}
	if name, v, ok := p.lookup("grace_period_seconds"); ok {
		n, err := toInt(v)
		if err != nil || n < 0 {
			p.fail(name, "expected a number of seconds, 0 or more, got %v", v)
		} else {
			cfg.gracePeriod = &n
		}
	}
	if name, v, ok := p.lookup("min_healthy_replicas"); ok {
		m, err := parseMinHealthy(v)
		if err != nil {
			p.fail(name, "%v", err)
		}
		cfg.minHealthy = m
	}
	cfg.noWait = map[string]bool{}
	for _, ns := range p.strings("wait_period_excluded_namespaces") {
		cfg.noWait[ns] = true
	}
	return cfg, p.err()
}

// Validate checks the parameters.
func (a *Drain) Validate(values map[string]any) error {
	_, err := a.parse(values)
	return err
}

// Describe documents the parameters.
func (a *Drain) Describe() (string, map[string]string) {
	return "Cordon the node of the pod, or the alert's node, and evict its pods, respecting PodDisruptionBudgets, within a time limit.", map[string]string{
		"ignore_daemonsets":               "leave pods of DaemonSets, which would come back at once, in place (default true)",
		"ignore_statefulsets":             "leave pods of StatefulSets in place (default false)",
		"timeout":                         fmt.Sprintf("time limit for evictions and for the pods to end, a duration or a number of seconds (default %s); Talon's max_wait_period is accepted", defaultDrainTimeout),
		"grace_period_seconds":            "grace period of the evicted pods (default: each pod's own)",
		"min_healthy_replicas":            "evict a pod only if at least this many healthy replicas of its owner remain, as for kubernetes:terminate; refused evictions are retried until the time limit",
		"wait_period_excluded_namespaces": "namespaces whose evicted pods the drain does not wait for",
	}
}

// Permissions lists the RBAC rules the actionner needs.
func (a *Drain) Permissions() []actionners.Permission {
	return []actionners.Permission{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "patch"}},
		eventPermission,
	}
}

// Run cordons the node, evicts its pods and waits until they are gone or the
// time limit passes. Mirror pods are never evicted, because the kubelet runs
// them from files.
func (a *Drain) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	cfg, err := a.parse(req.Action.Parameters)
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	nodeName, res, err := a.nodeOf(ctx, req)
	if err != nil || res != nil {
		return r.finish(ctx, deref(res), err)
	}
	node, _, err := cordon(ctx, a.client, nodeName)
	if apierrors.IsNotFound(err) {
		return r.finish(ctx, skipped("node %s not found", nodeName), nil)
	}
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	r.object = nodeRef(node)

	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	pods, err := a.client.Kubernetes.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", nodeName).String(),
	})
	if err != nil {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("drain node %s: list pods: %w", nodeName, err))
	}
	plan := planDrain(pods.Items, cfg)
	notEvicted, blocked := a.evictAll(ctx, plan.evict, cfg)
	// Pods never evicted count as remaining even in namespaces that the drain
	// does not wait for.
	var waitFor []corev1.Pod
	for _, pod := range plan.evict {
		if !cfg.noWait[pod.Namespace] || notEvicted[pod.Namespace+"/"+pod.Name] {
			waitFor = append(waitFor, pod)
		}
	}
	remaining := a.waitGone(ctx, waitFor)

	out := map[string]any{
		"evicted":   podNames(plan.evict),
		"skipped":   plan.skipped,
		"blocked":   blocked,
		"remaining": podNames(remaining),
	}
	if len(remaining) > 0 {
		msg := fmt.Sprintf("drain of node %s incomplete after %s: %d pods remain (%s)", nodeName, cfg.timeout, len(remaining),
			strings.Join(podNames(remaining), ", "))
		if len(blocked) > 0 {
			msg += "; evictions refused: " + strings.Join(blocked, "; ")
		}
		return r.finish(ctx, actionners.Result{Outcome: actionners.OutcomeFailed, Message: msg, Output: out}, errors.New(msg))
	}
	done := succeeded("drained node %s: evicted %d pods, skipped %d", nodeName, len(plan.evict), len(plan.skipped))
	done.Output = out
	return r.finish(ctx, done, nil)
}

type drainPlan struct {
	evict   []corev1.Pod
	skipped []string
}

func planDrain(pods []corev1.Pod, cfg drainConfig) drainPlan {
	var plan drainPlan
	for _, pod := range pods {
		id := pod.Namespace + "/" + pod.Name
		owner := controllerOf(&pod)
		switch {
		case isMirrorPod(&pod):
			plan.skipped = append(plan.skipped, id+" (static pod)")
		case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
			plan.skipped = append(plan.skipped, id+" (finished)")
		case owner != nil && owner.Kind == "DaemonSet" && cfg.skipDaemonSets:
			plan.skipped = append(plan.skipped, id+" (DaemonSet)")
		case owner != nil && owner.Kind == "StatefulSet" && cfg.skipStatefulSets:
			plan.skipped = append(plan.skipped, id+" (StatefulSet)")
		default:
			plan.evict = append(plan.evict, pod)
		}
	}
	sort.Strings(plan.skipped)
	return plan
}

// evictAll requests the eviction of every pod, retrying those that a
// PodDisruptionBudget or min_healthy_replicas refuses until ctx ends. It
// returns the pods never evicted, by namespace/name, and the last refusal of
// each.
func (a *Drain) evictAll(ctx context.Context, pods []corev1.Pod, cfg drainConfig) (map[string]bool, []string) {
	pending := map[string]corev1.Pod{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			pending[p.Namespace+"/"+p.Name] = p
		}
	}
	refusals := map[string]string{}
	for len(pending) > 0 {
		for id, pod := range pending {
			if owner := controllerOf(&pod); cfg.minHealthy != nil && owner != nil {
				if res, stop := a.checkHealthy(ctx, &pod, owner, *cfg.minHealthy); stop {
					refusals[id] = res.Message
					continue
				}
			}
			err := a.client.Kubernetes.PolicyV1().Evictions(pod.Namespace).Evict(ctx, &policyv1.Eviction{
				ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
				DeleteOptions: &metav1.DeleteOptions{
					GracePeriodSeconds: cfg.gracePeriod,
					Preconditions:      metav1.NewUIDPreconditions(string(pod.UID)),
				},
			})
			switch {
			case err == nil, apierrors.IsNotFound(err), apierrors.IsConflict(err):
				// Evicted, or gone or replaced since the list.
				delete(pending, id)
				delete(refusals, id)
			default:
				// 429 means a PodDisruptionBudget allows no disruption now;
				// other errors may pass too, so both are retried.
				refusals[id] = fmt.Sprintf("%s: %v", id, err)
			}
		}
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			notEvicted := map[string]bool{}
			var out []string
			for id := range pending {
				notEvicted[id] = true
				out = append(out, refusals[id])
			}
			sort.Strings(out)
			return notEvicted, out
		case <-time.After(evictionRetryInterval):
		}
	}
	return nil, nil
}

// waitGone waits until every pod is deleted or replaced by a new pod of the
// same name, and returns those still there when ctx ends.
func (a *Drain) waitGone(ctx context.Context, pods []corev1.Pod) []corev1.Pod {
	remaining := pods
	for {
		select {
		case <-ctx.Done():
			// One last look, because ctx may have ended while the pods were
			// leaving.
			checkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return a.stillThere(checkCtx, remaining)
		default:
		}
		remaining = a.stillThere(ctx, remaining)
		if len(remaining) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stillThere returns the pods that exist with the same UID. A pod whose state
// cannot be read counts as still there.
func (a *Drain) stillThere(ctx context.Context, pods []corev1.Pod) []corev1.Pod {
	var still []corev1.Pod
	for _, pod := range pods {
		current, err := a.client.Kubernetes.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && current.UID != pod.UID) {
			continue
		}
		still = append(still, pod)
	}
	return still
}

func podNames(pods []corev1.Pod) []string {
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	sort.Strings(names)
	return names
}
