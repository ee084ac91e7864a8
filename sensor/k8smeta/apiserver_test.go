package k8smeta

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/riposte-sec/riposte/internal/k8stest"
)

// sensorRole is the least privilege the watcher needs: reading pods.
var sensorRole = &rbacv1.ClusterRole{
	Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""},
		Resources: []string{"pods"},
		Verbs:     []string{"get", "list", "watch"},
	}},
}

func randomHex(t *testing.T, bytes int) string {
	t.Helper()
	b := make([]byte, bytes)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestWatcherAgainstAPIServer runs the watcher with a kubeconfig of a
// service account that may only read pods, against a real kube-apiserver,
// and follows a pod of its node through create, status updates, a label
// change and deletion. A pod of another node must stay invisible.
func TestWatcherAgainstAPIServer(t *testing.T) {
	env := k8stest.Get(t)
	admin := env.Client()
	ctx := context.Background()
	ns := env.Namespace(t)

	// A node of its own, which neither kwok nor the harness's kubelet
	// manages, so that only this test writes pod status on it.
	nodeName := "sensor-node-" + randomHex(t, 3)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{"type": "sensor-test"}}}
	if _, err := admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", nodeName, err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Nodes().Delete(context.Background(), nodeName, metav1.DeleteOptions{}) })

	kubeconfig := k8stest.WriteKubeconfig(t, env.ServiceAccountConfig(t, ns, "sensor", sensorRole))
	w, err := New(Options{NodeName: nodeName, Kubeconfig: kubeconfig, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, "initial sync", w.HasSynced)

	// A running pod on another node, with container ids in its status.
	other := env.RunPod(t, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "elsewhere"},
		Spec:       corev1.PodSpec{NodeName: k8stest.ExecNode},
	})

	// Create the pod of this node without status, as the scheduler binds it.
	pod := newTestPod()
	pod.Namespace = ns
	pod.UID = ""
	pod.Spec.NodeName = nodeName
	status := pod.Status
	pod.Status = corev1.PodStatus{}
	// The API server accepts ephemeral containers only through their own
	// subresource, as kubectl debug adds them.
	ephemeral := pod.Spec.EphemeralContainers
	pod.Spec.EphemeralContainers = nil
	created, err := admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	created.Spec.EphemeralContainers = ephemeral
	created, err = admin.CoreV1().Pods(ns).UpdateEphemeralContainers(ctx, pod.Name, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("add ephemeral container: %v", err)
	}
	uid := string(created.UID)
	waitFor(t, "pod on create", func() bool { _, ok := w.Pod(uid); return ok })
	cgroup := "/kubepods/besteffort/pod" + uid + "/" + idA
	if p, ok := w.PodForCgroup(cgroup); !ok || p.Name != pod.Name {
		t.Errorf("PodForCgroup(%s) = %+v, %v; want pod %s", cgroup, p, ok, pod.Name)
	}
	if _, ok := w.Container(idA); ok {
		t.Errorf("Container(%s) found before pod status lists it", idA)
	}

	// The kubelet's status update through the status subresource.
	created.Status = status
	updated, err := admin.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update pod status: %v", err)
	}
	waitFor(t, "containers on status update", func() bool { _, ok := w.Container(idA); return ok })
	checkTestPodContainers(t, w, uid, ns)

	// A label change reaches the index.
	updated.Labels["tier"] = "frontend"
	if _, err := admin.CoreV1().Pods(ns).Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update pod labels: %v", err)
	}
	waitFor(t, "label update", func() bool {
		c, ok := w.Container(idA)
		if !ok {
			return false
		}
		tier, _ := c.Pod.Label("tier")
		return tier == "frontend"
	})

	// The field selector keeps pods of other nodes out.
	for _, st := range other.Status.ContainerStatuses {
		_, id := SplitContainerID(st.ContainerID)
		if _, ok := w.Container(id); ok {
			t.Errorf("Container(%s) of a pod on node %s found by the watcher of node %s", id, k8stest.ExecNode, nodeName)
		}
	}
	if _, ok := w.Pod(string(other.UID)); ok {
		t.Errorf("pod %s of node %s found by the watcher of node %s", other.Name, k8stest.ExecNode, nodeName)
	}

	// No kubelet finishes a graceful deletion on this node, so delete now.
	deleteNow(t, admin, ns, pod.Name)
	waitFor(t, "pod removal", func() bool { _, ok := w.Pod(uid); return !ok })
	for _, id := range []string{idA, ShortID(idB), idInit, idDebug} {
		if _, ok := w.Container(id); ok {
			t.Errorf("Container(%s) found after its pod was deleted", id)
		}
	}
}

// checkTestPodContainers checks the containers of newTestPod in w.
func checkTestPodContainers(t *testing.T, w *Watcher, uid, ns string) {
	t.Helper()
	want := map[string]string{idA: "app", idB: "proxy", idInit: "migrate", idDebug: "debug"}
	for id, name := range want {
		c, ok := w.Container(ShortID(id))
		if !ok {
			t.Errorf("Container(%s) not found", ShortID(id))
			continue
		}
		if c.Name != name {
			t.Errorf("Container(%s).Name = %q, want %q", ShortID(id), c.Name, name)
		}
		if c.Pod.UID != uid || c.Pod.Namespace != ns || c.Pod.Name != "cart-7d9f" {
			t.Errorf("Container(%s).Pod = %s/%s (%s), want %s/cart-7d9f (%s)",
				ShortID(id), c.Pod.Namespace, c.Pod.Name, c.Pod.UID, ns, uid)
		}
	}

	c, _ := w.Container(idB)
	if c == nil {
		return
	}
	if !c.Privileged {
		t.Errorf("Container(%s).Privileged = false, want true", idB)
	}
	if c.ImageRepository != "envoyproxy/envoy" || c.ImageTag != "latest" {
		t.Errorf("Container(%s) image = %s tag %s, want envoyproxy/envoy tag latest", idB, c.ImageRepository, c.ImageTag)
	}
}

func deleteNow(t *testing.T, client kubernetes.Interface, ns, name string) {
	t.Helper()
	zero := int64(0)
	err := client.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if err != nil {
		t.Fatalf("delete pod %s/%s: %v", ns, name, err)
	}
}
