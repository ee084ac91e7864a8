package sensor

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/internal/k8stest"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/sensor/cgroup"
	"github.com/riposte-sec/riposte/sensor/extract"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// debugfsRule is the stable rule that needs container.privileged, which
// only pod specs provide.
const debugfsRule = "Debugfs Launched in Privileged Container"

// podReaderRole is the least privilege the pod watcher needs.
var podReaderRole = &rbacv1.ClusterRole{
	Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""},
		Resources: []string{"pods"},
		Verbs:     []string{"get", "list", "watch"},
	}},
}

// TestStableRuleDebugfsPrivileged runs a program named debugfs, a copy of
// /bin/true, in the kubelet-like cgroups of two pods on a real
// kube-apiserver. In the pod whose container is privileged, the stable
// rule "Debugfs Launched in Privileged Container" must fire, and no other
// rule. In the pod whose container is not privileged, no rule may fire.
func TestStableRuleDebugfsPrivileged(t *testing.T) {
	eng := loadStableRules(t)
	env := k8stest.Get(t)
	admin := env.Client()
	ns := env.Namespace(t)

	// A node of its own, which neither kwok nor the harness's kubelet
	// manages, so that only this test writes the status of its pods.
	nodeName := "debugfs-node-" + sensortest.RandomHex(t, 3)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{"type": "sensor-test"}}}
	if _, err := admin.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", nodeName, err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Nodes().Delete(context.Background(), nodeName, metav1.DeleteOptions{}) })

	kubeconfig := k8stest.WriteKubeconfig(t, env.ServiceAccountConfig(t, ns, "sensor", podReaderRole))
	w := startPodWatcher(t, kubeconfig, nodeName)
	alerts := k8sRuleSensor(t, eng, w)

	debugfs := filepath.Join(t.TempDir(), "debugfs")
	trueData, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(debugfs, trueData, 0o755); err != nil {
		t.Fatal(err)
	}

	privileged := startTestPod(t, env, w, ns, nodeName, "debug-privileged", true)

	t.Run("privileged container", func(t *testing.T) {
		marker := "riposte-debugfs-" + sensortest.RandomHex(t, 4)
		runInCgroup(t, privileged.cgroup, debugfs+" "+marker)
		a := waitRule(t, alerts, debugfsRule, "command=debugfs "+marker)
		want := map[string]string{
			"proc.name":      "debugfs",
			"container.id":   cgroup.ShortID(privileged.containerID),
			"container.name": "tools",
			"k8s.pod.name":   privileged.name,
			"k8s.ns.name":    ns,
		}
		for field, value := range want {
			if a.OutputFields[field] != value {
				t.Errorf("%s = %v, want %s", field, a.OutputFields[field], value)
			}
		}
	})

	t.Run("unprivileged container", func(t *testing.T) {
		unprivileged := startTestPod(t, env, w, ns, nodeName, "debug-unprivileged", false)
		marker := "riposte-debugfs-" + sensortest.RandomHex(t, 4)
		runInCgroup(t, unprivileged.cgroup, debugfs+" "+marker)

		// The sensor reads one ring buffer in order, so once the same
		// program, started afterwards in the privileged pod, fires the
		// rule, the exec above has been matched too.
		barrier := "riposte-debugfs-barrier-" + sensortest.RandomHex(t, 4)
		runInCgroup(t, privileged.cgroup, debugfs+" "+barrier)
		for _, a := range ownAlertsUntil(t, alerts, debugfsRule, "command=debugfs "+barrier) {
			if a.Rule == debugfsRule && strings.Contains(a.Output, barrier) {
				continue
			}
			t.Errorf("rule %q fired for a process of the test: %s", a.Rule, a.Output)
		}
	})
}

// loadStableRules loads Falco's stable rules from RIPOSTE_TEST_CORPUS
// with first-match reporting and the container and Kubernetes fields that
// Falco's default suggested_output setting appends to each output.
func loadStableRules(t *testing.T) *rules.Engine {
	t.Helper()
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	sensortest.RequireRoot(t)
	opts := rules.Options{Matching: rules.MatchFirst, SuggestedOutput: true}
	eng, _, err := rules.LoadFiles(opts, filepath.Join(dir, "falco_rules.yaml"))
	if err != nil {
		t.Fatalf("load stable rules: %v", err)
	}
	return eng
}

// startPodWatcher runs a pod watcher for nodeName until the test ends and
// waits for its initial sync.
func startPodWatcher(t *testing.T, kubeconfig, nodeName string) *k8smeta.Watcher {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := k8smeta.New(k8smeta.Options{NodeName: nodeName, Kubeconfig: kubeconfig, Logger: logger})
	if err != nil {
		t.Fatalf("create pod watcher: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pod watcher Run: %v", err)
		}
	})
	waitUntil(t, "initial sync of the pod watcher", w.HasSynced)
	return w
}

// k8sRuleSensor runs the sensor with the rules of eng, reading container
// and pod fields from meta, and returns the channel of alerts.
func k8sRuleSensor(t *testing.T, eng *rules.Engine, meta extract.ContainerMetadata) <-chan ruleAlert {
	t.Helper()
	adapter := extract.New("test-node", extract.NewUsers("/proc"))
	adapter.SetContainerMetadata(meta)
	return runRuleSensor(t, eng, adapter)
}

// testPod is a pod on the test's node and the cgroup of its one container.
type testPod struct {
	name        string
	containerID string // 64 hex digits, without the containerd:// prefix
	cgroup      string // directory of the container's cgroup
}

// startTestPod creates a pod bound to nodeName with one container, whose
// securityContext.privileged is privileged. It then creates the kubelet-like
// cgroup of that container for the UID the API server assigned and writes
// the Running status a kubelet would write with the container's id. It
// returns once w has indexed the container.
func startTestPod(t *testing.T, env *k8stest.Env, w *k8smeta.Watcher, ns, nodeName, name string, privileged bool) testPod {
	t.Helper()
	ctx := context.Background()
	client := env.Client().CoreV1().Pods(ns)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			NodeName: nodeName,
			Containers: []corev1.Container{{
				Name:            "tools",
				Image:           "debian:12",
				SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
			}},
		},
	}
	created, err := client.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}

	id := sensortest.RandomHex(t, 32)
	dir := sensortest.KubeletPodCgroup(t, sensortest.Hierarchies(t)[0], string(created.UID), id)

	now := metav1.Now()
	created.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    "127.0.0.1",
		StartTime: &now,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name:        "tools",
			Image:       "docker.io/library/debian:12",
			ContainerID: "containerd://" + id,
			Ready:       true,
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}},
	}
	if _, err := client.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update status of pod %s/%s: %v", ns, name, err)
	}

	waitUntil(t, "container of pod "+name+" in the pod watcher", func() bool {
		_, ok := w.Container(id)
		return ok
	})
	c, _ := w.Container(id)
	if c.Privileged != privileged {
		t.Fatalf("pod watcher: container %s of pod %s has Privileged = %v, want %v", id, name, c.Privileged, privileged)
	}
	if p, ok := w.PodForCgroup(dir); !ok || p.UID != string(created.UID) {
		t.Fatalf("pod watcher: PodForCgroup(%s) = %+v, %v; want pod %s", dir, p, ok, created.UID)
	}
	return testPod{name: name, containerID: id, cgroup: dir}
}

// runInCgroup runs a shell script inside the cgroup directory dir.
func runInCgroup(t *testing.T, dir, script string) {
	t.Helper()
	if out, err := sensortest.CommandInCgroup(dir, script).CombinedOutput(); err != nil {
		t.Fatalf("run %q in cgroup %s: %v: %s", script, dir, err, out)
	}
}

// ownAlertsUntil returns the alerts of processes that the test started, up
// to and including the first alert of rule whose output contains marker,
// and those that arrive within settleTime after it.
func ownAlertsUntil(t *testing.T, alerts <-chan ruleAlert, rule, marker string) []alert.Alert {
	t.Helper()
	var own []alert.Alert
	deadline := time.After(waitTimeout)
	for found := false; !found; {
		select {
		case a := <-alerts:
			if a.ours {
				own = append(own, a.Alert)
			}
			found = a.Rule == rule && strings.Contains(a.Output, marker)
		case <-deadline:
			t.Fatalf("no %q alert containing %q within %v", rule, marker, waitTimeout)
		}
	}
	settle := time.After(settleTime)
	for {
		select {
		case a := <-alerts:
			if a.ours {
				own = append(own, a.Alert)
			}
		case <-settle:
			return own
		}
	}
}

// waitUntil polls cond until it is true, and fails the test after
// waitTimeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
