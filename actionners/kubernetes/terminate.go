package kubernetes

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/riposte-sec/riposte/actionners"
)

// Terminate is kubernetes:terminate: it deletes the pod with a grace period.
type Terminate struct{ base }

type terminateConfig struct {
	gracePeriod      *int64
	skipDaemonSets   bool
	skipStatefulSets bool
	skipStandalone   bool
	minHealthy       *minHealthy
}

// minHealthy is a minimum of healthy replicas, absolute or a percentage of
// the owner's desired replicas.
type minHealthy struct {
	value   int64
	percent bool
}

func (m minHealthy) String() string {
	if m.percent {
		return fmt.Sprintf("%d%%", m.value)
	}
	return strconv.FormatInt(m.value, 10)
}

// of returns the minimum for an owner with desired replicas, rounding a
// percentage up so that availability is protected.
func (m minHealthy) of(desired int32) int64 {
	if !m.percent {
		return m.value
	}
	return int64(math.Ceil(float64(m.value) * float64(desired) / 100))
}

func parseMinHealthy(v any) (*minHealthy, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		percent := strings.HasSuffix(s, "%")
		n, err := strconv.ParseInt(strings.TrimSuffix(s, "%"), 10, 64)
		if err != nil || n < 0 || (percent && n > 100) {
			return nil, fmt.Errorf("invalid value %q: use a whole number such as 2 or a percentage from 0%% to 100%% such as \"50%%\"", s)
		}
		return &minHealthy{value: n, percent: percent}, nil
	}
	n, err := toInt(v)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("invalid value %v: use a whole number such as 2 or a percentage such as \"50%%\"", v)
	}
	return &minHealthy{value: n}, nil
}

func (a *Terminate) parse(values map[string]any) (terminateConfig, error) {
	p := newParams(a.name, values)
	var cfg terminateConfig
	if name, v, ok := p.lookup("grace_period_seconds"); ok {
		n, err := toInt(v)
		if err != nil || n < 0 {
			p.fail(name, "expected a number of seconds, 0 or more, got %v", v)
		} else {
			cfg.gracePeriod = &n
		}
	}
	cfg.skipDaemonSets = p.bool(false, "ignore_daemonsets")
	cfg.skipStatefulSets = p.bool(false, "ignore_statefulsets")
	cfg.skipStandalone = p.bool(false, "ignore_standalone_pods")
	if name, v, ok := p.lookup("min_healthy_replicas"); ok {
		m, err := parseMinHealthy(v)
		if err != nil {
			p.fail(name, "%v", err)
		}
		cfg.minHealthy = m
	}
	return cfg, p.err()
}

// Validate checks the parameters.
func (a *Terminate) Validate(values map[string]any) error {
	_, err := a.parse(values)
	return err
}

// Describe documents the parameters.
func (a *Terminate) Describe() (string, map[string]string) {
	return "Delete the pod with a grace period, unless its owner or replica count makes that unsafe.", map[string]string{
		"grace_period_seconds":   "seconds the containers get to stop before they are killed; 0 deletes at once (default: the pod's own terminationGracePeriodSeconds)",
		"ignore_daemonsets":      "skip pods owned by a DaemonSet (default false)",
		"ignore_statefulsets":    "skip pods owned by a StatefulSet (default false)",
		"ignore_standalone_pods": "skip pods that no controller owns, which nothing would recreate (default false)",
		"min_healthy_replicas":   "skip unless at least this many healthy (Ready) replicas of the owner remain after the deletion; a whole number or a percentage of the owner's desired replicas, such as \"50%\". Falco Talon compares before the deletion instead. Ignored for standalone pods.",
	}
}

// Permissions lists the RBAC rules the actionner needs.
func (a *Terminate) Permissions() []actionners.Permission {
	return []actionners.Permission{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "delete"}},
		{APIGroups: []string{"apps"}, Resources: []string{"replicasets", "statefulsets", "daemonsets"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"replicationcontrollers"}, Verbs: []string{"get"}},
		eventPermission,
	}
}

// Run deletes the pod. It rejects mirror pods and skips pods that the
// parameters exclude, pods already gone, and pods already terminating with a
// grace period no longer than the one requested.
func (a *Terminate) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	cfg, err := a.parse(req.Action.Parameters)
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	t, err := podTarget(req)
	if err != nil {
		return r.finish(ctx, noTarget(err), nil)
	}
	pod, skip, err := a.getPod(ctx, t)
	if err != nil || skip != nil {
		return r.finish(ctx, deref(skip), err)
	}
	r.object = podRef(pod)

	if res, stop := a.check(ctx, pod, cfg); stop {
		return r.finish(ctx, res, nil)
	}

	opts := metav1.DeleteOptions{
		GracePeriodSeconds: cfg.gracePeriod,
		// Delete exactly the pod that was checked, not a new pod that took
		// its name since.
		Preconditions: metav1.NewUIDPreconditions(string(pod.UID)),
	}
	err = a.client.retry(ctx, "delete pod", func(ctx context.Context) error {
		return a.client.Kubernetes.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, opts)
	})
	if apierrors.IsNotFound(err) {
		return r.finish(ctx, skipped("pod %s/%s was deleted by someone else first", pod.Namespace, pod.Name), nil)
	}
	if err != nil {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err))
	}
	grace := "the pod's own grace period"
	if cfg.gracePeriod != nil {
		grace = fmt.Sprintf("a grace period of %d s", *cfg.gracePeriod)
	}
	verb := "terminated"
	if pod.DeletionTimestamp != nil {
		verb = "shortened the termination of"
	}
	res := succeeded("%s pod %s/%s with %s", verb, pod.Namespace, pod.Name, grace)
	res.Output = map[string]any{"pod_uid": string(pod.UID), "node": pod.Spec.NodeName}
	return r.finish(ctx, res, nil)
}

// check returns the result of a pod that must not be deleted, and stop=true.
func (a *Terminate) check(ctx context.Context, pod *corev1.Pod, cfg terminateConfig) (actionners.Result, bool) {
	id := pod.Namespace + "/" + pod.Name
	if isMirrorPod(pod) {
		return rejected("pod %s is a static pod run by the kubelet of node %s from a manifest file; deleting its mirror pod would not stop it",
			id, pod.Spec.NodeName), true
	}
	if pod.DeletionTimestamp != nil {
		current := pod.DeletionGracePeriodSeconds
		if cfg.gracePeriod == nil || (current != nil && *cfg.gracePeriod >= *current) {
			return skipped("pod %s is already terminating since %s", id, pod.DeletionTimestamp.UTC().Format("15:04:05")), true
		}
	}
	owner := controllerOf(pod)
	switch {
	case owner == nil && cfg.skipStandalone:
		return skipped("pod %s is standalone, no controller would recreate it, and ignore_standalone_pods is set", id), true
	case owner != nil && owner.Kind == "DaemonSet" && cfg.skipDaemonSets:
		return skipped("pod %s is owned by DaemonSet %s and ignore_daemonsets is set", id, owner.Name), true
	case owner != nil && owner.Kind == "StatefulSet" && cfg.skipStatefulSets:
		return skipped("pod %s is owned by StatefulSet %s and ignore_statefulsets is set", id, owner.Name), true
	}
	if cfg.minHealthy != nil && owner != nil {
		return a.checkHealthy(ctx, pod, owner, *cfg.minHealthy)
	}
	return actionners.Result{}, false
}

// checkHealthy counts the owner's Ready pods that would remain after the
// deletion and compares them with the minimum.
func (b base) checkHealthy(ctx context.Context, pod *corev1.Pod, owner *metav1.OwnerReference, min minHealthy) (actionners.Result, bool) {
	id := pod.Namespace + "/" + pod.Name
	desired, selector, err := b.ownerReplicas(ctx, pod.Namespace, owner)
	if err != nil {
		res := rejected("cannot check min_healthy_replicas %s of pod %s: %v", min, id, err)
		return res, true
	}
	pods, err := b.client.Kubernetes.CoreV1().Pods(pod.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return rejected("cannot check min_healthy_replicas %s of pod %s: list pods of %s %s: %v", min, id, owner.Kind, owner.Name, err), true
	}
	var remaining int64
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.UID == pod.UID || p.DeletionTimestamp != nil || !ownedBy(p, owner) {
			continue
		}
		if podReady(p) {
			remaining++
		}
	}
	required := min.of(desired)
	if remaining < required {
		return skipped("pod %s left in place: %d healthy replicas of %s %s would remain, and min_healthy_replicas %s of %d desired requires %d",
			id, remaining, owner.Kind, owner.Name, min, desired, required), true
	}
	return actionners.Result{}, false
}

// ownerReplicas returns the desired replica count and pod selector of a
// controller.
func (b base) ownerReplicas(ctx context.Context, ns string, owner *metav1.OwnerReference) (int32, labels.Selector, error) {
	cs := b.client.Kubernetes
	one := func(p *int32) int32 {
		if p == nil {
			return 1
		}
		return *p
	}
	switch owner.Kind {
	case "ReplicaSet":
		rs, err := cs.AppsV1().ReplicaSets(ns).Get(ctx, owner.Name, metav1.GetOptions{})
		if err != nil {
			return 0, nil, fmt.Errorf("get ReplicaSet %s: %w", owner.Name, err)
		}
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		return one(rs.Spec.Replicas), sel, err
	case "StatefulSet":
		ss, err := cs.AppsV1().StatefulSets(ns).Get(ctx, owner.Name, metav1.GetOptions{})
		if err != nil {
			return 0, nil, fmt.Errorf("get StatefulSet %s: %w", owner.Name, err)
		}
		sel, err := metav1.LabelSelectorAsSelector(ss.Spec.Selector)
		return one(ss.Spec.Replicas), sel, err
	case "DaemonSet":
		ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, owner.Name, metav1.GetOptions{})
		if err != nil {
			return 0, nil, fmt.Errorf("get DaemonSet %s: %w", owner.Name, err)
		}
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		return ds.Status.DesiredNumberScheduled, sel, err
	case "ReplicationController":
		rc, err := cs.CoreV1().ReplicationControllers(ns).Get(ctx, owner.Name, metav1.GetOptions{})
		if err != nil {
			return 0, nil, fmt.Errorf("get ReplicationController %s: %w", owner.Name, err)
		}
		return one(rc.Spec.Replicas), labels.SelectorFromSet(rc.Spec.Selector), nil
	default:
		return 0, nil, fmt.Errorf("owner kind %s has no replica count", owner.Kind)
	}
}

func ownedBy(pod *corev1.Pod, owner *metav1.OwnerReference) bool {
	c := controllerOf(pod)
	return c != nil && c.UID == owner.UID
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func deref(res *actionners.Result) actionners.Result {
	if res == nil {
		return actionners.Result{}
	}
	return *res
}
