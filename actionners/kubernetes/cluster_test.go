package kubernetes

// Tests against a real kube-apiserver, with kwok nodes and the harness's
// kubelet server. The actionners run as a service account bound only to the
// ClusterRole that ClusterRole builds for all of them, which proves that the
// declared permissions are enough.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/internal/k8stest"
)

func TestMain(m *testing.M) { os.Exit(k8stest.Main(m)) }

var (
	responderOnce     sync.Once
	responderRegistry *actionners.Registry
)

// responder returns the control plane and a registry of the actionners
// acting as the service account riposte-system/responder, which is bound to
// the ClusterRole built for every Kubernetes actionner and nothing else.
func responder(t testing.TB) (*k8stest.Env, *actionners.Registry) {
	t.Helper()
	env := k8stest.Get(t)
	responderOnce.Do(func() {
		ctx := context.Background()
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "riposte-system"}}
		if _, err := env.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		names := make([]string, 0, len(Catalog()))
		for _, info := range Catalog() {
			names = append(names, info.Name)
		}
		role := clusterRoleFor(t, names)
		cfg := env.ServiceAccountConfig(t, "riposte-system", "responder", role)
		client, err := NewClient(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		responderRegistry, err = actionners.NewRegistry()
		if err != nil {
			t.Fatal(err)
		}
		if err := Register(responderRegistry, client); err != nil {
			t.Fatal(err)
		}
	})
	if responderRegistry == nil {
		t.Fatal("responder setup failed in an earlier test")
	}
	return env, responderRegistry
}

func clusterRoleFor(t testing.TB, names []string) *rbacv1.ClusterRole {
	t.Helper()
	reg, err := actionners.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if err := Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	role, err := ClusterRole("riposte-responder", reg, names)
	if err != nil {
		t.Fatal(err)
	}
	return role
}

func runAction(t *testing.T, reg *actionners.Registry, name string, params map[string]any, a *alert.Alert) actionners.Result {
	t.Helper()
	act, err := reg.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := act.Validate(params); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := act.Run(ctx, request(name, params, a))
	t.Logf("%s: %s: %s (error %v)", name, res.Outcome, res.Message, err)
	return res
}

func wantOutcome(t *testing.T, res actionners.Result, want actionners.Outcome) {
	t.Helper()
	if res.Outcome != want {
		t.Fatalf("outcome = %s (%s), want %s", res.Outcome, res.Message, want)
	}
}

func podExists(t *testing.T, env *k8stest.Env, ns, name string) bool {
	t.Helper()
	_, err := env.Client().CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func waitPodGone(t *testing.T, env *k8stest.Env, ns, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return !podExists(t, env, ns, name), nil })
	if err != nil {
		t.Fatalf("pod %s/%s still exists: %v", ns, name, err)
	}
}

// eventsFor returns the Events recorded on the named object in ns.
func eventsFor(t *testing.T, env *k8stest.Env, ns, name string) []corev1.Event {
	t.Helper()
	list, err := env.Client().CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func wantEvent(t *testing.T, env *k8stest.Env, ns, name, reason, messagePart string) {
	t.Helper()
	for _, e := range eventsFor(t, env, ns, name) {
		if e.Reason == reason && strings.Contains(e.Message, messagePart) && e.Source.Component == EventComponent {
			return
		}
	}
	t.Errorf("no event with reason %s mentioning %q on %s/%s; events: %+v", reason, messagePart, ns, name, eventsFor(t, env, ns, name))
}

func newPod(ns, name string, labels map[string]string, owner metav1.Object, ownerKind string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}}
	if owner != nil {
		yes := true
		pod.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: ownerKind, Name: owner.GetName(), UID: owner.GetUID(), Controller: &yes,
		}}
	}
	return pod
}

func TestClusterTerminate(t *testing.T) {
	env, reg := responder(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	replicas := int32(3)
	appLabels := map[string]string{"app": "web"}
	rs, err := env.Client().AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: appLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: appLabels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web-a", "web-b", "web-c"} {
		env.RunPod(t, newPod(ns, name, appLabels, rs, "ReplicaSet"))
	}

	t.Run("min healthy replicas", func(t *testing.T) {
		res := runAction(t, reg, NameTerminate, map[string]any{"min_healthy_replicas": "100%"}, podAlert(ns, "web-a"))
		wantOutcome(t, res, actionners.OutcomeSkipped)
		if !podExists(t, env, ns, "web-a") {
			t.Error("pod deleted although min_healthy_replicas forbade it")
		}
	})
	t.Run("replica set pod", func(t *testing.T) {
		res := runAction(t, reg, NameTerminate, map[string]any{"grace_period_seconds": 0, "min_healthy_replicas": "2"}, podAlert(ns, "web-a"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		waitPodGone(t, env, ns, "web-a")
		wantEvent(t, env, ns, "web-a", "RiposteTerminate", "succeeded")
	})
	t.Run("pod already deleted", func(t *testing.T) {
		res := runAction(t, reg, NameTerminate, nil, podAlert(ns, "web-a"))
		wantOutcome(t, res, actionners.OutcomeSkipped)
		if !strings.Contains(res.Message, "not found") {
			t.Errorf("message = %q, want it to say the pod was not found", res.Message)
		}
	})
	t.Run("standalone pod", func(t *testing.T) {
		env.RunPod(t, newPod(ns, "lonely", nil, nil, ""))
		res := runAction(t, reg, NameTerminate, map[string]any{"ignore_standalone_pods": true}, podAlert(ns, "lonely"))
		wantOutcome(t, res, actionners.OutcomeSkipped)
		res = runAction(t, reg, NameTerminate, nil, podAlert(ns, "lonely"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		// Graceful deletion: kwok, acting as the kubelet, finishes it.
		waitPodGone(t, env, ns, "lonely")
	})
	t.Run("daemonset pod", func(t *testing.T) {
		ds, err := env.Client().AppsV1().DaemonSets(ns).Create(ctx, &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		env.RunPod(t, newPod(ns, "agent-x", map[string]string{"app": "agent"}, ds, "DaemonSet"))
		res := runAction(t, reg, NameTerminate, map[string]any{"ignore_daemonsets": true}, podAlert(ns, "agent-x"))
		wantOutcome(t, res, actionners.OutcomeSkipped)
		if !podExists(t, env, ns, "agent-x") {
			t.Error("DaemonSet pod deleted although ignore_daemonsets was set")
		}
	})
	t.Run("terminating pod", func(t *testing.T) {
		// Nothing finishes graceful deletion on the exec node, so the pod
		// stays Terminating.
		pod := newPod(ns, "leaving", nil, nil, "")
		pod.Spec.NodeName = k8stest.ExecNode
		env.RunPod(t, pod)
		grace := int64(600)
		if err := env.Client().CoreV1().Pods(ns).Delete(ctx, "leaving", metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
			t.Fatal(err)
		}
		res := runAction(t, reg, NameTerminate, nil, podAlert(ns, "leaving"))
		wantOutcome(t, res, actionners.OutcomeSkipped)
		if !strings.Contains(res.Message, "already terminating") {
			t.Errorf("message = %q, want it to say the pod is already terminating", res.Message)
		}
		res = runAction(t, reg, NameTerminate, map[string]any{"grace_period_seconds": 0}, podAlert(ns, "leaving"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		waitPodGone(t, env, ns, "leaving")
	})
	t.Run("mirror pod", func(t *testing.T) {
		pod := newPod(ns, "static-web", nil, nil, "")
		pod.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "0123456789abcdef"}
		env.RunPod(t, pod)
		res := runAction(t, reg, NameTerminate, nil, podAlert(ns, "static-web"))
		wantOutcome(t, res, actionners.OutcomeRejected)
		if !podExists(t, env, ns, "static-web") {
			t.Error("mirror pod deleted")
		}
		wantEvent(t, env, ns, "static-web", "RiposteTerminate", "static pod")
	})
}

func TestClusterLabelAndAnnotate(t *testing.T) {
	env, reg := responder(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	env.RunPod(t, newPod(ns, "bare", nil, nil, ""))
	env.RunPod(t, newPod(ns, "web", map[string]string{"app": "web", "stale": "yes"}, nil, ""))

	t.Run("pod without labels", func(t *testing.T) {
		res := runAction(t, reg, NameLabel, map[string]any{"labels": map[string]any{"riposte.dev/suspicious": true}}, podAlert(ns, "bare"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		pod, _ := env.Client().CoreV1().Pods(ns).Get(ctx, "bare", metav1.GetOptions{})
		if pod.Labels["riposte.dev/suspicious"] != "true" {
			t.Errorf("labels = %v, want riposte.dev/suspicious=true", pod.Labels)
		}
	})
	t.Run("key with slash and removal", func(t *testing.T) {
		params := map[string]any{"labels": map[string]any{"security.example.com/quarantine": "shell", "stale": nil}}
		res := runAction(t, reg, NameLabel, params, podAlert(ns, "web"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		pod, _ := env.Client().CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
		if pod.Labels["security.example.com/quarantine"] != "shell" {
			t.Errorf("labels = %v, want security.example.com/quarantine=shell", pod.Labels)
		}
		if _, ok := pod.Labels["stale"]; ok {
			t.Errorf("labels = %v, want stale removed", pod.Labels)
		}
		if pod.Labels["app"] != "web" {
			t.Errorf("labels = %v, want app=web kept", pod.Labels)
		}
		wantEvent(t, env, ns, "web", "RiposteLabel", "succeeded")
	})
	t.Run("annotation through Talon alias", func(t *testing.T) {
		params := map[string]any{"annotations": map[string]any{"riposte.dev/alert-rule": "Terminal shell in container"}}
		res := runAction(t, reg, "kubernetes:annotation", params, podAlert(ns, "web"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		pod, _ := env.Client().CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
		if pod.Annotations["riposte.dev/alert-rule"] != "Terminal shell in container" {
			t.Errorf("annotations = %v, want riposte.dev/alert-rule set", pod.Annotations)
		}
	})
	t.Run("node level", func(t *testing.T) {
		params := map[string]any{"level": "node", "labels": map[string]any{"riposte.dev/compromised": "true"}}
		res := runAction(t, reg, NameLabel, params, podAlert(ns, "web"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		node, _ := env.Client().CoreV1().Nodes().Get(ctx, k8stest.KwokNode, metav1.GetOptions{})
		if node.Labels["riposte.dev/compromised"] != "true" {
			t.Errorf("node labels = %v, want riposte.dev/compromised=true", node.Labels)
		}
		// Undo, so that other tests see the node unchanged.
		params["labels"] = map[string]any{"riposte.dev/compromised": ""}
		wantOutcome(t, runAction(t, reg, NameLabel, params, podAlert(ns, "web")), actionners.OutcomeSucceeded)
		wantEvent(t, env, metav1.NamespaceDefault, k8stest.KwokNode, "RiposteLabel", "succeeded")
	})
	t.Run("protected namespace", func(t *testing.T) {
		// Keeping actions out of kube-system is the responder's guard; the
		// actionner itself acts there like anywhere else.
		env.RunPod(t, newPod("kube-system", "sys-"+ns[len(ns)-6:], nil, nil, ""))
		res := runAction(t, reg, NameLabel, map[string]any{"labels": map[string]any{"a": "b"}}, podAlert("kube-system", "sys-"+ns[len(ns)-6:]))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
	})
	t.Run("pod already deleted", func(t *testing.T) {
		res := runAction(t, reg, NameLabel, map[string]any{"labels": map[string]any{"a": "b"}}, podAlert(ns, "gone"))
		wantOutcome(t, res, actionners.OutcomeSkipped)
	})
}

func TestClusterIsolate(t *testing.T) {
	env, reg := responder(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	appLabels := map[string]string{"app": "web"}
	target := env.RunPod(t, newPod(ns, "web-a", appLabels, nil, ""))
	env.RunPod(t, newPod(ns, "web-b", appLabels, nil, ""))

	params := map[string]any{"allow_dns": true, "allow_cidr": []any{"10.1.0.0/16"}, "allow_namespaces": []any{"forensics"}}
	res := runAction(t, reg, "kubernetes:networkpolicy", params, podAlert(ns, "web-a"))
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	if !strings.Contains(res.Message, "established") {
		t.Errorf("message = %q, want a note on established connections", res.Message)
	}

	policy, err := env.Client().NetworkingV1().NetworkPolicies(ns).Get(ctx, IsolationPolicyName("web-a"), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get isolation policy: %v", err)
	}
	selector, err := metav1.LabelSelectorAsSelector(&policy.Spec.PodSelector)
	if err != nil {
		t.Fatal(err)
	}
	selected, err := env.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(selected.Items) != 1 || selected.Items[0].UID != target.UID {
		t.Errorf("policy selects %d pods (%v), want only web-a", len(selected.Items), podNames(selected.Items))
	}
	if !slices.Equal(policy.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policy types = %v, want Ingress and Egress", policy.Spec.PolicyTypes)
	}
	if len(policy.Spec.Ingress) != 1 || len(policy.Spec.Ingress[0].From) != 2 {
		t.Errorf("ingress rules = %+v, want one rule from the CIDR and the namespace", policy.Spec.Ingress)
	}
	if len(policy.Spec.Egress) != 2 || len(policy.Spec.Egress[1].Ports) != 2 {
		t.Errorf("egress rules = %+v, want the allowed peers and DNS on UDP and TCP", policy.Spec.Egress)
	}
	wantEvent(t, env, ns, "web-a", "RiposteIsolate", "succeeded")

	// Isolating again replaces the policy instead of failing.
	res = runAction(t, reg, NameIsolate, nil, podAlert(ns, "web-a"))
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	policy, _ = env.Client().NetworkingV1().NetworkPolicies(ns).Get(ctx, IsolationPolicyName("web-a"), metav1.GetOptions{})
	if len(policy.Spec.Ingress) != 0 || len(policy.Spec.Egress) != 0 {
		t.Errorf("policy after second isolation = %+v, want deny-all", policy.Spec)
	}

	client := clientFor(t, reg)
	res, err = Release(ctx, client, ns, "web-a")
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	if _, err := env.Client().NetworkingV1().NetworkPolicies(ns).Get(ctx, IsolationPolicyName("web-a"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("policy after release: error = %v, want NotFound", err)
	}
	pod, _ := env.Client().CoreV1().Pods(ns).Get(ctx, "web-a", metav1.GetOptions{})
	if _, ok := pod.Labels[QuarantineLabel]; ok {
		t.Errorf("labels after release = %v, want no %s", pod.Labels, QuarantineLabel)
	}
	res, err = Release(ctx, client, ns, "web-a")
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, res, actionners.OutcomeSkipped)

	// A pod without any label gets the quarantine label all the same.
	env.RunPod(t, newPod(ns, "bare", nil, nil, ""))
	wantOutcome(t, runAction(t, reg, NameIsolate, nil, podAlert(ns, "bare")), actionners.OutcomeSucceeded)
	bare, _ := env.Client().CoreV1().Pods(ns).Get(ctx, "bare", metav1.GetOptions{})
	if bare.Labels[QuarantineLabel] != string(bare.UID) {
		t.Errorf("labels of unlabelled pod after isolation = %v, want %s=%s", bare.Labels, QuarantineLabel, bare.UID)
	}
	wantOutcome(t, runAction(t, reg, NameIsolate, nil, podAlert(ns, "gone")), actionners.OutcomeSkipped)

	// Releasing a pod that does not exist is an error, not a success.
	if _, err := Release(ctx, client, ns, "no-such-pod"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("release of a missing pod: error = %v, want not found", err)
	}

	// A NetworkPolicy of the isolation name that Riposte did not create is
	// neither replaced by an isolation nor deleted by a release.
	env.RunPod(t, newPod(ns, "own", nil, nil, ""))
	foreign := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: IsolationPolicyName("own")},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "own"}}},
	}
	if _, err := env.Client().NetworkingV1().NetworkPolicies(ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res = runAction(t, reg, NameIsolate, nil, podAlert(ns, "own"))
	wantOutcome(t, res, actionners.OutcomeFailed)
	if !strings.Contains(res.Message, "Riposte did not create it") {
		t.Errorf("message = %q, want the NetworkPolicy named as not Riposte's", res.Message)
	}
	if _, err := Release(ctx, client, ns, "own"); err == nil || !strings.Contains(err.Error(), "not created by Riposte") {
		t.Errorf("release with a foreign NetworkPolicy: error = %v, want it left alone", err)
	}
	foreignAfter, err := env.Client().NetworkingV1().NetworkPolicies(ns).Get(ctx, IsolationPolicyName("own"), metav1.GetOptions{})
	if err != nil || foreignAfter.Spec.PodSelector.MatchLabels["app"] != "own" {
		t.Errorf("foreign NetworkPolicy after isolate and release = %+v, %v; want it unchanged", foreignAfter, err)
	}
}

// clientFor returns the Client that the registry's actionners use.
func clientFor(t *testing.T, reg *actionners.Registry) *Client {
	t.Helper()
	a, err := reg.Get(NameIsolate)
	if err != nil {
		t.Fatal(err)
	}
	return a.(*Isolate).client
}

func execPod(t *testing.T, env *k8stest.Env, ns, name string) {
	t.Helper()
	pod := newPod(ns, name, nil, nil, "")
	pod.Spec.NodeName = k8stest.ExecNode
	pod.Spec.Containers = []corev1.Container{{Name: "app", Image: "busybox"}, {Name: "sidecar", Image: "busybox"}}
	env.RunPod(t, pod)
}

func TestClusterExec(t *testing.T) {
	env, reg := responder(t)
	ns := env.Namespace(t)
	execPod(t, env, ns, "suspect")

	t.Run("output and exit code", func(t *testing.T) {
		res := runAction(t, reg, NameExec, map[string]any{"command": "echo out; echo err >&2; exit 3"}, podAlert(ns, "suspect"))
		wantOutcome(t, res, actionners.OutcomeFailed)
		if res.Output["exit_code"] != 3 {
			t.Errorf("exit_code = %v, want 3", res.Output["exit_code"])
		}
		if res.Output["stdout"] != "out\n" || res.Output["stderr"] != "err\n" {
			t.Errorf("stdout %q, stderr %q; want out and err", res.Output["stdout"], res.Output["stderr"])
		}
		if res.Output["container"] != "app" {
			t.Errorf("container = %v, want the alert's container app", res.Output["container"])
		}
		wantEvent(t, env, ns, "suspect", "RiposteExec", "exited with code 3")
	})
	t.Run("script through stdin", func(t *testing.T) {
		res := runAction(t, reg, "kubernetes:script", map[string]any{"script": "echo one\necho two\n", "container": "sidecar"}, podAlert(ns, "suspect"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		if res.Output["stdout"] != "one\ntwo\n" || res.Output["exit_code"] != 0 {
			t.Errorf("stdout %q, exit code %v; want two lines and 0", res.Output["stdout"], res.Output["exit_code"])
		}
		records := env.ExecRecords()
		last := records[len(records)-1]
		if last.Container != "sidecar" || !slices.Equal(last.Command, []string{"/bin/sh", "-s"}) {
			t.Errorf("last exec = %+v, want /bin/sh -s in sidecar", last)
		}
	})
	t.Run("missing binary", func(t *testing.T) {
		res := runAction(t, reg, NameExec, map[string]any{"command": []any{"/nonexistent/forensics"}, "timeout": "20s"}, podAlert(ns, "suspect"))
		wantOutcome(t, res, actionners.OutcomeFailed)
		if !strings.Contains(res.Message, "no such file") && !strings.Contains(res.Message, "not found") {
			t.Errorf("message = %q, want the missing binary as reason", res.Message)
		}
		if res.Output["timed_out"] != false {
			t.Errorf("timed_out = %v, want false: a missing binary must fail before the timeout", res.Output["timed_out"])
		}
	})
	t.Run("missing command in shell", func(t *testing.T) {
		res := runAction(t, reg, NameExec, map[string]any{"command": "no-such-tool --version"}, podAlert(ns, "suspect"))
		wantOutcome(t, res, actionners.OutcomeFailed)
		if res.Output["exit_code"] != 127 || !strings.Contains(res.Message, "not found") {
			t.Errorf("exit code %v, message %q; want 127 and not found", res.Output["exit_code"], res.Message)
		}
	})
	t.Run("hung command", func(t *testing.T) {
		res := runAction(t, reg, NameExec, map[string]any{"command": "sleep 60", "timeout": "1s"}, podAlert(ns, "suspect"))
		wantOutcome(t, res, actionners.OutcomeFailed)
		if res.Output["timed_out"] != true || !strings.Contains(res.Message, "timed out after 1s") {
			t.Errorf("timed_out %v, message %q; want a timeout", res.Output["timed_out"], res.Message)
		}
	})
	t.Run("output limit", func(t *testing.T) {
		res := runAction(t, reg, NameExec, map[string]any{"command": "head -c 100000 /dev/zero", "max_output_bytes": 1000}, podAlert(ns, "suspect"))
		wantOutcome(t, res, actionners.OutcomeSucceeded)
		if got := len(res.Output["stdout"].(string)); got != 1000 {
			t.Errorf("kept %d bytes of stdout, want 1000", got)
		}
		if res.Output["stdout_truncated"] != int64(99000) {
			t.Errorf("stdout_truncated = %v, want 99000", res.Output["stdout_truncated"])
		}
	})
	t.Run("unknown container", func(t *testing.T) {
		res := runAction(t, reg, NameExec, map[string]any{"command": "id", "container": "nosuch"}, podAlert(ns, "suspect"))
		wantOutcome(t, res, actionners.OutcomeRejected)
	})
}

func TestClusterLogs(t *testing.T) {
	env, reg := responder(t)
	ns := env.Namespace(t)
	execPod(t, env, ns, "chatty")
	env.SetContainerLogs(ns, "chatty", "app", "boot\nlistening\nGET /admin\nsh -i\n")

	res := runAction(t, reg, "kubernetes:log", map[string]any{"tail_lines": 2}, podAlert(ns, "chatty"))
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	if res.Output["logs"] != "GET /admin\nsh -i\n" {
		t.Errorf("logs = %q, want the last two lines", res.Output["logs"])
	}
	res = runAction(t, reg, NameLogs, map[string]any{"max_bytes": 4}, podAlert(ns, "chatty"))
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	if res.Output["logs"] != "boot" || res.Output["truncated"] != true {
		t.Errorf("logs %q, truncated %v; want 4 bytes, truncated", res.Output["logs"], res.Output["truncated"])
	}
	wantEvent(t, env, ns, "chatty", "RiposteLogs", "succeeded")
}

func TestClusterCordonAndDrain(t *testing.T) {
	env, reg := responder(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	node := "drain-" + ns[len(ns)-6:]
	env.AddKwokNode(t, node)
	onNode := func(pod *corev1.Pod) *corev1.Pod { pod.Spec.NodeName = node; return pod }

	env.RunPod(t, onNode(newPod(ns, "free", nil, nil, "")))
	env.RunPod(t, onNode(newPod(ns, "guarded", map[string]string{"app": "db"}, nil, "")))
	mirror := onNode(newPod(ns, "static", nil, nil, ""))
	mirror.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "abc"}
	env.RunPod(t, mirror)

	// Without kube-controller-manager no disruption controller fills in the
	// budget's status, so the test writes it: no disruption allowed.
	minAvailable := intstr.FromInt32(1)
	pdb, err := env.Client().PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: &minAvailable,
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setAllowed := func(n int32) {
		t.Helper()
		current, err := env.Client().PolicyV1().PodDisruptionBudgets(ns).Get(ctx, pdb.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		current.Status = policyv1.PodDisruptionBudgetStatus{
			ObservedGeneration: current.Generation, DisruptionsAllowed: n,
			CurrentHealthy: 1, DesiredHealthy: 1 - n + 1, ExpectedPods: 1,
		}
		if _, err := env.Client().PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, current, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	setAllowed(0)

	nodeAlert := &alert.Alert{Rule: "r", Hostname: node}
	res := runAction(t, reg, NameCordon, nil, podAlert(ns, "free"))
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	got, _ := env.Client().CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if !got.Spec.Unschedulable {
		t.Error("node not unschedulable after cordon")
	}
	wantEvent(t, env, metav1.NamespaceDefault, node, "RiposteCordon", "cordoned node")

	res = runAction(t, reg, NameDrain, map[string]any{"timeout": "3s"}, podAlert(ns, "free"))
	wantOutcome(t, res, actionners.OutcomeFailed)
	if !slices.Equal(res.Output["remaining"].([]string), []string{ns + "/guarded"}) {
		t.Errorf("remaining = %v, want only the pod the budget protects", res.Output["remaining"])
	}
	if len(res.Output["blocked"].([]string)) != 1 {
		t.Errorf("blocked = %v, want the refused eviction", res.Output["blocked"])
	}
	if podExists(t, env, ns, "free") {
		t.Error("unprotected pod still exists after drain")
	}
	if !podExists(t, env, ns, "static") {
		t.Error("static pod evicted")
	}

	setAllowed(1)
	a, _ := reg.Get(NameDrain)
	req := actionners.Request{
		Action: actionners.Action{Actionner: NameDrain, Target: actionners.Target{Kind: "node", Node: node}, Parameters: map[string]any{"max_wait_period": 20}},
		Alert:  nodeAlert,
	}
	res, err = a.Run(ctx, req)
	if err != nil {
		t.Fatalf("second drain: %v (%s)", err, res.Message)
	}
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	if podExists(t, env, ns, "guarded") {
		t.Error("pod still exists after its budget allowed the eviction")
	}
}

func TestClusterDelete(t *testing.T) {
	env, reg := responder(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	if _, err := env.Client().CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "backdoor", Namespace: ns},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	audit := func(resource, namespace, name string) *alert.Alert {
		return &alert.Alert{Rule: "Create Sensitive Mount Pod", Source: "k8s_audit", OutputFields: map[string]any{
			"ka.target.resource": resource, "ka.target.namespace": namespace, "ka.target.name": name,
		}}
	}

	res := runAction(t, reg, NameDelete, nil, audit("configmaps", ns, "backdoor"))
	wantOutcome(t, res, actionners.OutcomeSucceeded)
	if _, err := env.Client().CoreV1().ConfigMaps(ns).Get(ctx, "backdoor", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("configmap after delete: error = %v, want NotFound", err)
	}
	wantEvent(t, env, ns, "backdoor", "RiposteDelete", "deleted ConfigMap")

	wantOutcome(t, runAction(t, reg, NameDelete, nil, audit("configmaps", ns, "backdoor")), actionners.OutcomeSkipped)

	env.RunPod(t, newPod(ns, "privileged", nil, nil, ""))
	wantOutcome(t, runAction(t, reg, NameDelete, map[string]any{"grace_period_seconds": 0}, audit("pods", ns, "privileged")), actionners.OutcomeSucceeded)
	waitPodGone(t, env, ns, "privileged")

	wantOutcome(t, runAction(t, reg, NameDelete, nil, audit("namespaces", "", "kube-system")), actionners.OutcomeRejected)
	wantOutcome(t, runAction(t, reg, NameDelete, nil, audit("clusterroles", "", "system:node")), actionners.OutcomeRejected)
	wantOutcome(t, runAction(t, reg, NameDelete, nil, audit("nodes", "", k8stest.KwokNode)), actionners.OutcomeRejected)
	wantOutcome(t, runAction(t, reg, NameDelete, nil, &alert.Alert{Rule: "r", Source: "k8s_audit"}), actionners.OutcomeNoTarget)
}

func TestClusterRoleIsMinimal(t *testing.T) {
	env := k8stest.Get(t)
	ns := env.Namespace(t)
	env.RunPod(t, newPod(ns, "web", nil, nil, ""))

	// A service account allowed only what kubernetes:label needs cannot
	// terminate, so the tests above prove the rules of each actionner.
	cfg := env.ServiceAccountConfig(t, ns, "labeller", clusterRoleFor(t, []string{NameLabel}))
	client, err := NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := actionners.NewRegistry()
	if err := Register(reg, client); err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, runAction(t, reg, NameLabel, map[string]any{"labels": map[string]any{"a": "b"}}, podAlert(ns, "web")), actionners.OutcomeSucceeded)
	res := runAction(t, reg, NameTerminate, nil, podAlert(ns, "web"))
	wantOutcome(t, res, actionners.OutcomeFailed)
	if !strings.Contains(res.Message, "forbidden") {
		t.Errorf("message = %q, want a forbidden error", res.Message)
	}
}

// BenchmarkClusterIsolate measures kubernetes:isolate on the real API
// server, from Run to the NetworkPolicy and label in place, as the
// responder's service account.
func BenchmarkClusterIsolate(b *testing.B) {
	env, reg := responder(b)
	ns := env.Namespace(b)
	ctx := context.Background()
	act, err := reg.Get(NameIsolate)
	if err != nil {
		b.Fatal(err)
	}
	// Pods are created up front, without waiting for kwok, because isolate
	// needs only the pod object.
	for i := range b.N {
		pod := newPod(ns, fmt.Sprintf("bench-%d", i), map[string]string{"app": "bench"}, nil, "")
		pod.Spec.NodeName = k8stest.KwokNode
		pod.Spec.Containers = []corev1.Container{{Name: "app", Image: "busybox"}}
		if _, err := env.Client().CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		res, err := act.Run(ctx, request(NameIsolate, nil, podAlert(ns, fmt.Sprintf("bench-%d", i))))
		durations = append(durations, time.Since(start))
		if err != nil || res.Outcome != actionners.OutcomeSucceeded {
			b.Fatalf("isolate: %s (%s), error %v", res.Outcome, res.Message, err)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	percentile := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(percentile(0.50), "p50-ms")
	b.ReportMetric(percentile(0.99), "p99-ms")
}

func TestClusterLoadConfigFromKubeconfig(t *testing.T) {
	env := k8stest.Get(t)
	t.Setenv("KUBECONFIG", env.KubeconfigPath())
	cfg, err := LoadConfig(ConfigOptions{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Kubernetes.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
		t.Errorf("get namespace default through $KUBECONFIG: %v", err)
	}
}

func TestPodLabelsOnServer(t *testing.T) {
	env := k8stest.Get(t)
	ns := env.Namespace(t)
	env.RunPod(t, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-0", Labels: map[string]string{"riposte.io/protected": "true"}},
		Spec: corev1.PodSpec{
			NodeName:   k8stest.KwokNode,
			Containers: []corev1.Container{{Name: "db", Image: "registry.example/db:1"}},
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	client, err := NewClient(env.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := client.PodLabels(ctx, ns, "db-0")
	if err != nil || labels["riposte.io/protected"] != "true" {
		t.Errorf("PodLabels(db-0) = %v, %v; want the protected label", labels, err)
	}
	labels, err = client.PodLabels(ctx, ns, "missing")
	if err != nil || labels != nil {
		t.Errorf("PodLabels(missing) = %v, %v; want no labels and no error", labels, err)
	}

	// A responder that may not read pods gets no labels and no error, so
	// that its host actions still run.
	noPods := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "riposte-test-no-pods"}}
	restricted, err := NewClient(env.ServiceAccountConfig(t, ns, "no-pods", noPods), nil)
	if err != nil {
		t.Fatal(err)
	}
	labels, err = restricted.PodLabels(ctx, ns, "db-0")
	if err != nil || labels != nil {
		t.Errorf("PodLabels without permission = %v, %v; want no labels and no error", labels, err)
	}
}
