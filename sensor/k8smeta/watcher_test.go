package k8smeta

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

const (
	testNode = "node-a"
	idA      = "3f4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778a"
	idB      = "4b5c6d7e8f9000112233445566778899aabbccddeeff00112233445566778899"
	idInit   = "5c6d7e8f900011223344556677889900aabbccddeeff0011223344556677889a"
	idDebug  = "6d7e8f90001122334455667788990011aabbccddeeff00112233445566778899"
	idNew    = "7e8f9000112233445566778899001122aabbccddeeff00112233445566778899"
	podUID   = "0f3b1c9e-7a2d-4c1e-9b8f-123456789abc"
)

// newTestPod returns a running pod on testNode with two containers, an init
// container and an ephemeral container, each with a status and an id.
func newTestPod() *corev1.Pod {
	privileged := true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "shop",
			Name:      "cart-7d9f",
			UID:       types.UID(podUID),
			Labels:    map[string]string{"app": "cart", "tier": "backend"},
		},
		Spec: corev1.PodSpec{
			NodeName: testNode,
			InitContainers: []corev1.Container{
				{Name: "migrate", Image: "registry.local:5000/shop/migrate@sha256:aaaa"},
			},
			Containers: []corev1.Container{
				{Name: "app", Image: "registry.local:5000/shop/cart:v1.4"},
				{Name: "proxy", Image: "envoyproxy/envoy", SecurityContext: &corev1.SecurityContext{Privileged: &privileged}},
			},
			EphemeralContainers: []corev1.EphemeralContainer{
				{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox:1.36"}},
			},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "migrate", ContainerID: "containerd://" + idInit, Image: "registry.local:5000/shop/migrate@sha256:aaaa"},
			},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "app", ContainerID: "containerd://" + idA, Image: "registry.local:5000/shop/cart:v1.4",
					ImageID: "registry.local:5000/shop/cart@sha256:bbbb"},
				{Name: "proxy", ContainerID: "containerd://" + idB, Image: "docker.io/envoyproxy/envoy:latest"},
			},
			EphemeralContainerStatuses: []corev1.ContainerStatus{
				{Name: "debug", ContainerID: "containerd://" + idDebug, Image: "docker.io/library/busybox:1.36"},
			},
		},
	}
}

// startWatcher runs a Watcher on client until the test ends and waits for
// its initial sync.
func startWatcher(t *testing.T, client kubernetes.Interface) *Watcher {
	t.Helper()
	w, err := NewForClient(client, Options{NodeName: testNode, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatalf("NewForClient: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	waitFor(t, "initial sync", w.HasSynced)
	return w
}

// waitFor polls cond until it holds, failing the test after a generous
// timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWatcherMapsContainers(t *testing.T) {
	client := fake.NewClientset(newTestPod())
	w := startWatcher(t, client)

	tests := []struct {
		id   string
		want Container
	}{
		{idA, Container{ID: idA, Runtime: "containerd", Name: "app", Kind: ContainerRegular,
			Image: "registry.local:5000/shop/cart:v1.4", ImageRepository: "registry.local:5000/shop/cart",
			ImageTag: "v1.4", ImageDigest: "sha256:bbbb"}},
		{idB, Container{ID: idB, Runtime: "containerd", Name: "proxy", Kind: ContainerRegular,
			Image: "envoyproxy/envoy", ImageRepository: "envoyproxy/envoy", ImageTag: "latest", Privileged: true}},
		{idInit, Container{ID: idInit, Runtime: "containerd", Name: "migrate", Kind: ContainerInit,
			Image: "registry.local:5000/shop/migrate@sha256:aaaa", ImageRepository: "registry.local:5000/shop/migrate",
			ImageDigest: "sha256:aaaa"}},
		{idDebug, Container{ID: idDebug, Runtime: "containerd", Name: "debug", Kind: ContainerEphemeral,
			Image: "busybox:1.36", ImageRepository: "busybox", ImageTag: "1.36"}},
	}
	for _, tt := range tests {
		for _, key := range []string{tt.id, ShortID(tt.id)} {
			c, ok := w.Container(key)
			if !ok {
				t.Errorf("Container(%q) not found", key)
				continue
			}
			got := *c
			got.Pod = nil
			if got != tt.want {
				t.Errorf("Container(%q) = %+v, want %+v", key, got, tt.want)
			}
			if c.Pod == nil || c.Pod.UID != podUID {
				t.Errorf("Container(%q).Pod = %+v, want pod %s", key, c.Pod, podUID)
			}
		}
	}

	c, _ := w.Container(idA)
	if c.Pod.Namespace != "shop" || c.Pod.Name != "cart-7d9f" {
		t.Errorf("pod of %s = %s/%s, want shop/cart-7d9f", idA, c.Pod.Namespace, c.Pod.Name)
	}
	if v, ok := c.Pod.Label("tier"); !ok || v != "backend" {
		t.Errorf("Label(tier) = %q, %v; want backend, true", v, ok)
	}
	if _, ok := c.Pod.Label("absent"); ok {
		t.Errorf("Label(absent) found, want not found")
	}
	if got, want := strings.Join(c.Pod.LabelPairs(), ","), "app:cart,tier:backend"; got != want {
		t.Errorf("LabelPairs = %q, want %q", got, want)
	}
	if _, ok := w.Container("containerd://" + idA); ok {
		t.Errorf("Container found by an id with runtime prefix; callers must pass the bare id")
	}
}

func TestWatcherFollowsPodChanges(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	w := startWatcher(t, client)

	if _, ok := w.Container(idA); ok {
		t.Fatalf("Container(%s) found before the pod exists", idA)
	}

	// A pod whose containers have no status yet is known by UID only.
	pod := newTestPod()
	status := pod.Status
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	if _, err := client.CoreV1().Pods("shop").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	cgroup := "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
		strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-" + idA + ".scope"
	waitFor(t, "pod by cgroup path", func() bool { _, ok := w.PodForCgroup(cgroup); return ok })
	if _, ok := w.Container(idA); ok {
		t.Errorf("Container(%s) found before the pod reports it", idA)
	}

	// The kubelet reports the containers.
	pod.Status = status
	if _, err := client.CoreV1().Pods("shop").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update pod status: %v", err)
	}
	waitFor(t, "container after status update", func() bool { _, ok := w.Container(idA); return ok })

	// The app container restarts with a new id; the old id keeps resolving.
	pod.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ContainerID: "containerd://" + idA}
	pod.Status.ContainerStatuses[0].ContainerID = "containerd://" + idNew
	pod.Labels["tier"] = "frontend"
	if _, err := client.CoreV1().Pods("shop").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update pod: %v", err)
	}
	waitFor(t, "restarted container", func() bool { _, ok := w.Container(idNew); return ok })
	c, ok := w.Container(idA)
	if !ok || c.Name != "app" {
		t.Errorf("Container(%s) of the terminated instance = %+v, %v; want app", idA, c, ok)
	}
	if tier, _ := c.Pod.Label("tier"); tier != "frontend" {
		t.Errorf("label tier after update = %q, want frontend", tier)
	}

	if err := client.CoreV1().Pods("shop").Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	waitFor(t, "pod removal", func() bool { _, ok := w.Pod(podUID); return !ok })
	for _, id := range []string{idA, idNew, ShortID(idB)} {
		if _, ok := w.Container(id); ok {
			t.Errorf("Container(%s) found after the pod was deleted", id)
		}
	}
	if _, ok := w.PodForCgroup(cgroup); ok {
		t.Errorf("PodForCgroup found the deleted pod")
	}
}

func TestWatcherShortIDCollision(t *testing.T) {
	pod := newTestPod()
	// Same first 12 digits as idA, different full id.
	twin := idA[:ShortIDLength] + strings.Repeat("0", 64-ShortIDLength)
	pod.Status.ContainerStatuses[1].ContainerID = "containerd://" + twin
	w := startWatcher(t, fake.NewClientset(pod))

	if _, ok := w.Container(ShortID(idA)); ok {
		t.Errorf("Container(%s) matched a short id shared by two containers", ShortID(idA))
	}
	if c, ok := w.Container(idA); !ok || c.Name != "app" {
		t.Errorf("Container(%s) = %+v, %v; want app", idA, c, ok)
	}
	if c, ok := w.Container(twin); !ok || c.Name != "proxy" {
		t.Errorf("Container(%s) = %+v, %v; want proxy", twin, c, ok)
	}
}

func TestWatcherStaticPod(t *testing.T) {
	const hash = "6f1a2b3c4d5e6f708192a3b4c5d6e7f8"
	pod := newTestPod()
	pod.Annotations = map[string]string{mirrorPodAnnotation: hash, "unrelated": "dropped"}
	w := startWatcher(t, fake.NewClientset(pod))

	p, ok := w.PodForCgroup("/kubepods/burstable/pod" + hash + "/" + idA)
	if !ok || p.UID != podUID {
		t.Errorf("PodForCgroup with static pod hash = %+v, %v; want pod %s", p, ok, podUID)
	}
}

func TestWatcherResolve(t *testing.T) {
	pod := newTestPod()
	w := startWatcher(t, fake.NewClientset(pod))
	cgroup := "/kubepods/besteffort/pod" + podUID + "/" + idNew

	c, p, ok := w.Resolve(ShortID(idA), cgroup)
	if !ok || c == nil || c.Name != "app" || p != c.Pod {
		t.Errorf("Resolve of a listed container = %+v, %+v, %v; want app and its pod", c, p, ok)
	}

	c, p, ok = w.Resolve(idNew, cgroup)
	if !ok || c != nil || p == nil || p.UID != podUID {
		t.Errorf("Resolve of an unlisted container = %+v, %+v, %v; want no container and pod %s", c, p, ok, podUID)
	}

	if _, _, ok := w.Resolve(idNew, "/system.slice/cron.service"); ok {
		t.Errorf("Resolve of a host process found something")
	}
	var nilWatcher *Watcher
	if _, _, ok := nilWatcher.Resolve(idA, cgroup); ok {
		t.Errorf("Resolve on a nil Watcher found something")
	}
}

func TestWatcherNilLookups(t *testing.T) {
	var w *Watcher
	if w.HasSynced() {
		t.Errorf("nil Watcher reports synced")
	}
	if _, ok := w.Container(idA); ok {
		t.Errorf("nil Watcher found a container")
	}
	if _, ok := w.Pod(podUID); ok {
		t.Errorf("nil Watcher found a pod")
	}
	if _, ok := w.PodForCgroup("/kubepods/pod" + podUID); ok {
		t.Errorf("nil Watcher found a pod by cgroup")
	}
	var p *Pod
	if _, ok := p.Label("app"); ok {
		t.Errorf("nil Pod found a label")
	}
}

func TestNewWithoutCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	w, err := New(Options{NodeName: testNode})
	if !errors.Is(err, ErrNoCluster) {
		t.Fatalf("New without cluster error = %v, want ErrNoCluster", err)
	}
	if w != nil {
		t.Errorf("New without cluster returned a Watcher")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent-kubeconfig")
	_, err := New(Options{NodeName: testNode, Kubeconfig: missing})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("New with missing kubeconfig error = %v, want one naming %s", err, missing)
	}

	client := fake.NewClientset()
	if _, err := NewForClient(client, Options{}); err == nil || !strings.Contains(err.Error(), "node name") {
		t.Errorf("NewForClient without node name error = %v, want one about the node name", err)
	}
	if _, err := NewForClient(client, Options{NodeName: testNode, ResyncPeriod: -time.Second}); err == nil {
		t.Errorf("NewForClient with negative resync period returned no error")
	}
}

func TestWatcherRunOnce(t *testing.T) {
	w := startWatcher(t, fake.NewClientset())
	if err := w.Run(context.Background()); err == nil {
		t.Errorf("second Run returned no error")
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	w := startWatcher(t, fake.NewClientset(newTestPod()))
	short := ShortID(idA)
	cgroup := "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
		strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-" + idA + ".scope"

	allocs := testing.AllocsPerRun(100, func() {
		c, _ := w.Container(idA)
		_, _ = w.Container(short)
		_, _ = w.PodForCgroup(cgroup)
		_, _, _ = w.Resolve(idNew, cgroup)
		_, _ = c.Pod.Label("app")
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %.1f times per run, want 0", allocs)
	}
}
