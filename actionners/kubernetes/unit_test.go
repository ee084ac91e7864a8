package kubernetes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
)

func fakeClient(objects ...runtime.Object) *Client {
	return NewClientFromClientset(fake.NewClientset(objects...), nil)
}

func actionnerByName(t *testing.T, c *Client, name string) actionners.Actionner {
	t.Helper()
	reg, err := actionners.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if err := Register(reg, c); err != nil {
		t.Fatal(err)
	}
	a, err := reg.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func podAlert(ns, pod string) *alert.Alert {
	return &alert.Alert{UUID: "0b4c1f9e-1d5e-4f4a-9a57-3f0c7e6f1a11", Rule: "Terminal shell in container",
		OutputFields: map[string]any{"k8s.ns.name": ns, "k8s.pod.name": pod, "container.name": "app"}}
}

func request(name string, params map[string]any, a *alert.Alert) actionners.Request {
	return actionners.Request{Action: actionners.Action{Actionner: name, Parameters: params}, Alert: a}
}

func runningPod(ns, name string, owner *metav1.OwnerReference, labels map[string]string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("uid-" + name), Labels: labels},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		}},
	}
	if owner != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return pod
}

func controllerRef(kind, name string) *metav1.OwnerReference {
	yes := true
	return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: types.UID("uid-" + name), Controller: &yes}
}

func TestValidateRejectsBadParameters(t *testing.T) {
	tests := []struct {
		actionner string
		params    map[string]any
		want      string
	}{
		{NameTerminate, map[string]any{"grace_period_seconds": -1}, "grace_period_seconds"},
		{NameTerminate, map[string]any{"grace_period_seconds": "soon"}, "grace_period_seconds"},
		{NameTerminate, map[string]any{"min_healthy_replicas": "150%"}, "min_healthy_replicas"},
		{NameTerminate, map[string]any{"ignore_daemonset": true}, `"ignore_daemonset": unknown parameter`},
		{NameLabel, map[string]any{}, `"labels": missing`},
		{NameLabel, map[string]any{"labels": map[string]any{"bad key!": "x"}}, `invalid key "bad key!"`},
		{NameLabel, map[string]any{"labels": map[string]any{"ok": "not valid value"}}, "invalid value"},
		{NameLabel, map[string]any{"labels": map[string]any{"a": "b"}, "level": "cluster"}, `invalid value "cluster"`},
		{NameLabel, map[string]any{"labels": map[string]any{"a": "b"}, "label": map[string]any{"c": "d"}}, "means the same"},
		{NameIsolate, map[string]any{"allow_cidr": []any{"10.0.0.0/33"}}, `invalid CIDR "10.0.0.0/33"`},
		{NameIsolate, map[string]any{"allow_namespaces": []any{"Not_A_Namespace"}}, "invalid namespace"},
		{NameExec, map[string]any{}, `"command": missing`},
		{NameExec, map[string]any{"command": "id", "script": "id"}, "give one of them"},
		{NameExec, map[string]any{"command": "id", "timeout": "1h"}, `"timeout"`},
		{NameExec, map[string]any{"command": "id", "max_output_bytes": 0}, "max_output_bytes"},
		{NameExec, map[string]any{"file": "/nonexistent/script.sh"}, "cannot read script"},
		{NameLogs, map[string]any{"tail_lines": 0}, "tail_lines"},
		{NameCordon, map[string]any{"force": true}, "unknown parameter"},
		{NameDrain, map[string]any{"timeout": "forever"}, "invalid duration"},
		{NameDelete, map[string]any{"grace_period_seconds": 1.5}, "grace_period_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.actionner+" "+tt.want, func(t *testing.T) {
			err := actionnerByName(t, nil, tt.actionner).Validate(tt.params)
			if !errors.Is(err, actionners.ErrInvalidParameters) {
				t.Fatalf("error = %v, want ErrInvalidParameters", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestValidateAcceptsTalonParameters(t *testing.T) {
	tests := []struct {
		actionner string
		params    map[string]any
	}{
		{"kubernetes:terminate", map[string]any{"grace_period_seconds": 5, "ignore_daemonsets": true, "ignore_statefulsets": true, "min_healthy_replicas": "33%"}},
		{"kubernetes:label", map[string]any{"level": "pod", "labels": map[string]any{"suspicious": true}}},
		{"kubernetes:annotation", map[string]any{"annotations": map[string]any{"riposte.dev/reason": "shell"}}},
		{"kubernetes:networkpolicy", map[string]any{"allow_cidr": []any{"192.168.1.0/24", "172.17.0.0/16"}, "allow_namespaces": []any{"green-ns"}}},
		{"kubernetes:exec", map[string]any{"shell": "/bin/bash", "command": "ps awxuf"}},
		{"kubernetes:script", map[string]any{"shell": "/bin/bash", "script": "ps awxuf\nnetstat -lpauten\n"}},
		{"kubernetes:log", map[string]any{"tail_lines": 200}},
		{"kubernetes:drain", map[string]any{"ignore_daemonsets": true, "max_wait_period": 60, "min_healthy_replicas": "50%", "wait_period_excluded_namespaces": []any{"batch"}}},
		{"kubernetes:cordon", nil},
		{"kubernetes:delete", nil},
	}
	for _, tt := range tests {
		t.Run(tt.actionner, func(t *testing.T) {
			if err := actionnerByName(t, nil, tt.actionner).Validate(tt.params); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRunWithoutTarget(t *testing.T) {
	c := fakeClient()
	noPod := &alert.Alert{Rule: "Write below etc", Hostname: "", OutputFields: map[string]any{"container.id": "host"}}
	// With neither pod fields nor a hostname, node actionners have no target
	// either.
	for _, name := range []string{NameTerminate, NameLabel, NameIsolate, NameExec, NameLogs, NameCordon, NameDelete} {
		params := map[string]any{}
		switch name {
		case NameLabel:
			params["labels"] = map[string]any{"a": "b"}
		case NameExec:
			params["command"] = "id"
		}
		res, err := actionnerByName(t, c, name).Run(context.Background(), request(name, params, noPod))
		if err != nil {
			t.Errorf("%s: error = %v, want none", name, err)
		}
		if res.Outcome != actionners.OutcomeNoTarget {
			t.Errorf("%s: outcome = %s, want %s", name, res.Outcome, actionners.OutcomeNoTarget)
		}
	}
	events, _ := c.Kubernetes.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	if len(events.Items) != 0 {
		t.Errorf("recorded %d events without a target, want none", len(events.Items))
	}
}

func TestTerminateChecks(t *testing.T) {
	mirror := runningPod("kube-system", "etcd-node-1", nil, nil)
	mirror.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "abc"}
	terminating := runningPod("shop", "leaving", controllerRef("ReplicaSet", "web"), nil)
	now := metav1.Now()
	thirty := int64(30)
	terminating.DeletionTimestamp = &now
	terminating.DeletionGracePeriodSeconds = &thirty
	terminating.Finalizers = []string{"example.com/hold"}

	tests := []struct {
		name    string
		pod     *corev1.Pod
		params  map[string]any
		outcome actionners.Outcome
		deleted bool
	}{
		{"mirror pod", mirror, nil, actionners.OutcomeRejected, false},
		{"daemonset pod skipped", runningPod("shop", "agent", controllerRef("DaemonSet", "agent"), nil), map[string]any{"ignore_daemonsets": true}, actionners.OutcomeSkipped, false},
		{"daemonset pod allowed", runningPod("shop", "agent", controllerRef("DaemonSet", "agent"), nil), nil, actionners.OutcomeSucceeded, true},
		{"statefulset pod skipped", runningPod("shop", "db-0", controllerRef("StatefulSet", "db"), nil), map[string]any{"ignore_statefulsets": true}, actionners.OutcomeSkipped, false},
		{"standalone skipped", runningPod("shop", "lonely", nil, nil), map[string]any{"ignore_standalone_pods": true}, actionners.OutcomeSkipped, false},
		{"standalone allowed", runningPod("shop", "lonely", nil, nil), nil, actionners.OutcomeSucceeded, true},
		{"already terminating", terminating, nil, actionners.OutcomeSkipped, false},
		// The fake clientset deletes at once, ignoring finalizers.
		{"shorter grace period", terminating, map[string]any{"grace_period_seconds": 0}, actionners.OutcomeSucceeded, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(tt.pod)
			req := request(NameTerminate, tt.params, podAlert(tt.pod.Namespace, tt.pod.Name))
			res, err := actionnerByName(t, c, NameTerminate).Run(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome {
				t.Fatalf("outcome = %s (%s), want %s", res.Outcome, res.Message, tt.outcome)
			}
			_, err = c.Kubernetes.CoreV1().Pods(tt.pod.Namespace).Get(context.Background(), tt.pod.Name, metav1.GetOptions{})
			if gone := apierrors.IsNotFound(err); gone != tt.deleted {
				t.Errorf("pod deleted = %v, want %v", gone, tt.deleted)
			}
			events, _ := c.Kubernetes.CoreV1().Events(tt.pod.Namespace).List(context.Background(), metav1.ListOptions{})
			if len(events.Items) != 1 {
				t.Fatalf("recorded %d events, want 1", len(events.Items))
			}
			if got := events.Items[0].Reason; got != "RiposteTerminate" {
				t.Errorf("event reason = %q, want RiposteTerminate", got)
			}
		})
	}
}

func TestTerminateMinHealthyReplicas(t *testing.T) {
	replicas := int32(4)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web"},
		Spec:       appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	labels := map[string]string{"app": "web"}
	owner := controllerRef("ReplicaSet", "web")
	objects := []runtime.Object{rs}
	for _, name := range []string{"web-a", "web-b", "web-c"} {
		objects = append(objects, runningPod("shop", name, owner, labels))
	}
	notReady := runningPod("shop", "web-d", owner, labels)
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	objects = append(objects, notReady)

	tests := []struct {
		min     any
		outcome actionners.Outcome
	}{
		// 3 Ready pods; terminating web-a leaves 2.
		{2, actionners.OutcomeSucceeded},
		{"2", actionners.OutcomeSucceeded},
		{3, actionners.OutcomeSkipped},
		{"50%", actionners.OutcomeSucceeded}, // ceil(0.5 * 4) = 2
		{"51%", actionners.OutcomeSkipped},   // ceil(0.51 * 4) = 3
	}
	for _, tt := range tests {
		c := fakeClient(objects...)
		req := request(NameTerminate, map[string]any{"min_healthy_replicas": tt.min}, podAlert("shop", "web-a"))
		res, err := actionnerByName(t, c, NameTerminate).Run(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != tt.outcome {
			t.Errorf("min_healthy_replicas %v: outcome = %s (%s), want %s", tt.min, res.Outcome, res.Message, tt.outcome)
		}
	}
}

func TestMetadataJSONPatchEscapesKeys(t *testing.T) {
	changes := diffMetadata(map[string]string{"old/key~x": "v", "keep": "v"}, map[string]*string{
		"example.com/a~b": new("1"),
		"old/key~x":       nil,
		"absent":          nil,
		"keep":            new("v"),
	})
	patch, err := changes.jsonPatch("labels", false)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"op":"add","path":"/metadata/labels/example.com~1a~0b","value":"1"},{"op":"remove","path":"/metadata/labels/old~1key~0x"}]`
	if string(patch) != want {
		t.Errorf("patch = %s, want %s", patch, want)
	}
}

func TestLabelPodAndNode(t *testing.T) {
	pod := runningPod("shop", "web", nil, map[string]string{"app": "web", "stale": "x"})
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	c := fakeClient(pod, node)
	ctx := context.Background()

	params := map[string]any{"labels": map[string]any{"riposte.dev/suspicious": "true", "stale": ""}}
	res, err := actionnerByName(t, c, NameLabel).Run(ctx, request(NameLabel, params, podAlert("shop", "web")))
	if err != nil || res.Outcome != actionners.OutcomeSucceeded {
		t.Fatalf("label pod: outcome %s, error %v", res.Outcome, err)
	}
	got, _ := c.Kubernetes.CoreV1().Pods("shop").Get(ctx, "web", metav1.GetOptions{})
	if got.Labels["riposte.dev/suspicious"] != "true" {
		t.Errorf("pod labels = %v, want riposte.dev/suspicious=true", got.Labels)
	}
	if _, ok := got.Labels["stale"]; ok {
		t.Errorf("pod labels = %v, want stale removed", got.Labels)
	}

	params = map[string]any{"level": "node", "annotations": map[string]any{"riposte.dev/alert": "shell"}}
	res, err = actionnerByName(t, c, NameAnnotate).Run(ctx, request(NameAnnotate, params, podAlert("shop", "web")))
	if err != nil || res.Outcome != actionners.OutcomeSucceeded {
		t.Fatalf("annotate node: outcome %s, error %v", res.Outcome, err)
	}
	gotNode, _ := c.Kubernetes.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
	if gotNode.Annotations["riposte.dev/alert"] != "shell" {
		t.Errorf("node annotations = %v, want riposte.dev/alert=shell", gotNode.Annotations)
	}
}

func TestClusterRoleMergesRules(t *testing.T) {
	reg, _ := actionners.NewRegistry()
	if err := Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	role, err := ClusterRole("riposte", reg, []string{"kubernetes:log", NameLabel})
	if err != nil {
		t.Fatal(err)
	}
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	}
	if len(role.Rules) != len(want) {
		t.Fatalf("rules = %+v, want %+v", role.Rules, want)
	}
	for i := range want {
		if role.Rules[i].String() != want[i].String() {
			t.Errorf("rule %d = %+v, want %+v", i, role.Rules[i], want[i])
		}
	}
	if _, err := ClusterRole("riposte", reg, []string{"kubernetes:nosuch"}); !errors.Is(err, actionners.ErrUnknownActionner) {
		t.Errorf("unknown actionner: error = %v, want ErrUnknownActionner", err)
	}
}

func TestCatalogListsEveryActionner(t *testing.T) {
	infos := Catalog()
	if len(infos) != 9 {
		t.Fatalf("catalog has %d actionners, want 9", len(infos))
	}
	for _, info := range infos {
		if info.Summary == "" || len(info.Permissions) == 0 {
			t.Errorf("%s: summary %q, %d permissions; want both", info.Name, info.Summary, len(info.Permissions))
		}
	}
	var isolate Info
	for _, info := range infos {
		if info.Name == NameIsolate {
			isolate = info
		}
	}
	if len(isolate.Aliases) != 1 || isolate.Aliases[0] != "kubernetes:networkpolicy" {
		t.Errorf("isolate aliases = %v, want [kubernetes:networkpolicy]", isolate.Aliases)
	}
}

func TestLoadConfigSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, server string) string {
		path := filepath.Join(dir, name)
		content := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: " + server +
			"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	explicit := write("explicit", "https://127.0.0.1:6443")
	fromEnv := write("env", "https://127.0.0.1:7443")
	t.Setenv("KUBECONFIG", fromEnv)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")

	cfg, err := LoadConfig(ConfigOptions{Kubeconfig: explicit})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:6443" || cfg.QPS != DefaultQPS || cfg.Burst != DefaultBurst {
		t.Errorf("explicit: host %s, qps %v, burst %d", cfg.Host, cfg.QPS, cfg.Burst)
	}
	cfg, err = LoadConfig(ConfigOptions{QPS: 50, Burst: 100})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:7443" || cfg.QPS != 50 || cfg.Burst != 100 {
		t.Errorf("KUBECONFIG: host %s, qps %v, burst %d", cfg.Host, cfg.QPS, cfg.Burst)
	}
	_, err = LoadConfig(ConfigOptions{Kubeconfig: filepath.Join(dir, "missing")})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: error = %v, want one naming the file", err)
	}
}

func TestRetryOnConflict(t *testing.T) {
	c := fakeClient()
	c.Backoff.Duration = 1
	calls := 0
	err := c.retry(context.Background(), "test", func(context.Context) error {
		calls++
		if calls < 3 {
			return apierrors.NewConflict(corev1.Resource("pods"), "web", errors.New("stale"))
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("retry: error %v after %d calls, want success after 3", err, calls)
	}
	calls = 0
	err = c.retry(context.Background(), "test", func(context.Context) error {
		calls++
		return apierrors.NewForbidden(corev1.Resource("pods"), "web", errors.New("no"))
	})
	if !apierrors.IsForbidden(err) || calls != 1 {
		t.Errorf("forbidden: error %v after %d calls, want Forbidden after 1", err, calls)
	}
}

func TestCordonHostAlertUsesHostname(t *testing.T) {
	c := fakeClient(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-3"}})
	hostAlert := &alert.Alert{Rule: "Write below etc", Hostname: "worker-3", OutputFields: map[string]any{"container.id": "host"}}
	res, err := actionnerByName(t, c, NameCordon).Run(context.Background(), request(NameCordon, nil, hostAlert))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeSucceeded {
		t.Fatalf("outcome = %s (%s), want succeeded", res.Outcome, res.Message)
	}
	node, _ := c.Kubernetes.CoreV1().Nodes().Get(context.Background(), "worker-3", metav1.GetOptions{})
	if !node.Spec.Unschedulable {
		t.Error("node worker-3 not cordoned")
	}
}

func TestScriptFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collect.sh")
	if err := os.WriteFile(path, []byte("ps -ef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := (&Exec{base{NameExec, nil}}).parse(map[string]any{"file": path, "shell": "/bin/bash"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.stdin != "ps -ef\n" || strings.Join(cfg.argv, " ") != "/bin/bash -s" {
		t.Errorf("argv %v, stdin %q; want /bin/bash -s with the file's script", cfg.argv, cfg.stdin)
	}
}

func TestEventFailureKeepsOutcome(t *testing.T) {
	pod := runningPod("shop", "web", nil, nil)
	cs := fake.NewClientset(pod)
	cs.PrependReactor("create", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("events"), "", errors.New("no events for you"))
	})
	c := NewClientFromClientset(cs, nil)
	c.Backoff.Steps = 1
	res, err := actionnerByName(t, c, NameLabel).Run(context.Background(),
		request(NameLabel, map[string]any{"labels": map[string]any{"a": "b"}}, podAlert("shop", "web")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeSucceeded {
		t.Errorf("outcome = %s, want succeeded although the event failed", res.Outcome)
	}
	if msg, _ := res.Output["event_error"].(string); !strings.Contains(msg, "forbidden") {
		t.Errorf("event_error = %q, want the forbidden error", msg)
	}
}

func TestDrainKeepsMinHealthyReplicas(t *testing.T) {
	replicas := int32(2)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web"},
		Spec:       appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	owner := controllerRef("ReplicaSet", "web")
	web := runningPod("shop", "web-a", owner, map[string]string{"app": "web"})
	sibling := runningPod("shop", "web-b", owner, map[string]string{"app": "web"})
	sibling.Spec.NodeName = "node-2"
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	c := fakeClient(rs, web, sibling, node)

	params := map[string]any{"min_healthy_replicas": 2, "timeout": "1s"}
	res, _ := actionnerByName(t, c, NameDrain).Run(context.Background(), request(NameDrain, params, podAlert("shop", "web-a")))
	if res.Outcome != actionners.OutcomeFailed {
		t.Fatalf("outcome = %s (%s), want failed", res.Outcome, res.Message)
	}
	if !strings.Contains(res.Message, "min_healthy_replicas") {
		t.Errorf("message = %q, want the min_healthy_replicas refusal", res.Message)
	}
	if _, err := c.Kubernetes.CoreV1().Pods("shop").Get(context.Background(), "web-a", metav1.GetOptions{}); err != nil {
		t.Errorf("pod web-a: %v, want it kept", err)
	}
}
