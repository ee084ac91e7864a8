package extract

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
)

const (
	testPodUID        = "4f6b2a1e-1b2c-4d5e-8f90-0123456789ab"
	reportedID        = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	testPodUIDSystemd = "4f6b2a1e_1b2c_4d5e_8f90_0123456789ab"
)

// startPodWatcher returns a synced watcher of node-1 over a fake clientset
// that holds one pod: shop/cart-7d9f, whose container "app" has the id
// fullID and whose privileged container "proxy" has reportedID.
func startPodWatcher(t *testing.T) *k8smeta.Watcher {
	t.Helper()
	privileged := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "shop", Name: "cart-7d9f", UID: testPodUID,
			Labels: map[string]string{"app": "cart", "app.kubernetes.io/part-of": "shop"},
		},
		Spec: corev1.PodSpec{
			NodeName: "node-1",
			Containers: []corev1.Container{
				{Name: "app", Image: "registry.example:5000/shop/cart:1.4.2"},
				{Name: "proxy", Image: "envoyproxy/envoy", SecurityContext: &corev1.SecurityContext{Privileged: &privileged}},
			},
		},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", ContainerID: "containerd://" + fullID, ImageID: "registry.example:5000/shop/cart@sha256:abcd"},
			{Name: "proxy", ContainerID: "containerd://" + reportedID},
		}},
	}
	w, err := k8smeta.NewForClient(fake.NewClientset(pod), k8smeta.Options{NodeName: "node-1"})
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
	deadline := time.Now().Add(30 * time.Second)
	for !w.HasSynced() {
		if time.Now().After(deadline) {
			t.Fatal("pod watcher did not sync within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return w
}

func extractString(t *testing.T, e *Event, field string) (string, bool) {
	t.Helper()
	v := extract(t, e, field)
	if len(v) == 0 {
		return "", false
	}
	if len(v) > 1 {
		t.Errorf("%s has %d values, want 1", field, len(v))
	}
	return v[0].Str, true
}

func TestKubernetesFieldsByContainerID(t *testing.T) {
	e := New("node-1", nil)
	e.SetContainerMetadata(startPodWatcher(t))
	e.Reset(sampleEvent())

	want := map[string]string{
		"k8s.ns.name":        "shop",
		"k8s.pod.name":       "cart-7d9f",
		"k8s.pod.uid":        testPodUID,
		"k8s.pod.labels":     "app.kubernetes.io/part-of:shop, app:cart",
		"k8s.pod.label[app]": "cart",
		"k8s.pod.label[app.kubernetes.io/part-of]": "shop",
		"container.name":             "app",
		"container.image":            "registry.example:5000/shop/cart:1.4.2",
		"container.image.repository": "registry.example:5000/shop/cart",
		"container.image.tag":        "1.4.2",
		"container.image.digest":     "sha256:abcd",
	}
	for field, value := range want {
		got, ok := extractString(t, e, field)
		if !ok {
			t.Errorf("%s has no value, want %q", field, value)
			continue
		}
		if got != value {
			t.Errorf("%s = %q, want %q", field, got, value)
		}
	}
	if got, ok := extractString(t, e, "k8s.pod.label[missing]"); ok {
		t.Errorf("k8s.pod.label[missing] = %q, want no value", got)
	}
	if v := extract(t, e, "container.privileged"); len(v) != 1 || v[0].Bool {
		t.Errorf("container.privileged = %+v, want one false value", v)
	}

	ev := sampleEvent()
	ev.Proc.ContainerID = reportedID
	e.Reset(ev)
	if v := extract(t, e, "container.privileged"); len(v) != 1 || !v[0].Bool {
		t.Errorf("container.privileged of proxy = %+v, want one true value", v)
	}
	if got, _ := extractString(t, e, "container.image.tag"); got != k8smeta.DefaultImageTag {
		t.Errorf("container.image.tag of proxy = %q, want %q", got, k8smeta.DefaultImageTag)
	}
}

// TestKubernetesFieldsByCgroup covers a container that the kubelet has not
// reported in pod status yet: the pod comes from the UID in its cgroup path
// and the container fields stay missing.
func TestKubernetesFieldsByCgroup(t *testing.T) {
	e := New("node-1", nil)
	e.SetContainerMetadata(startPodWatcher(t))
	ev := sampleEvent()
	unreported := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ev.Proc.ContainerID = unreported
	ev.Proc.Cgroups = []string{
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + testPodUIDSystemd +
			".slice/cri-containerd-" + unreported + ".scope",
	}
	e.Reset(ev)

	for field, value := range map[string]string{"k8s.ns.name": "shop", "k8s.pod.name": "cart-7d9f", "k8s.pod.uid": testPodUID} {
		if got, ok := extractString(t, e, field); !ok || got != value {
			t.Errorf("%s = %q (present %v), want %q", field, got, ok, value)
		}
	}
	for _, field := range []string{"container.name", "container.image", "container.image.repository", "container.image.tag", "container.privileged"} {
		if v := extract(t, e, field); len(v) != 0 {
			t.Errorf("%s = %+v, want no value without a container status", field, v)
		}
	}
}

func TestKubernetesFieldsMissing(t *testing.T) {
	k8sFields := []string{
		"k8s.ns.name", "k8s.pod.name", "k8s.pod.uid", "k8s.pod.labels", "k8s.pod.label[app]",
		"container.image", "container.image.repository", "container.image.tag", "container.privileged",
	}
	var nilWatcher *k8smeta.Watcher
	cases := []struct {
		name   string
		lookup ContainerMetadata
		edit   func(*Event)
	}{
		{name: "no lookup"},
		{name: "nil watcher", lookup: nilWatcher},
		{name: "unknown container", lookup: startPodWatcher(t), edit: func(e *Event) {
			e.ev.Proc.ContainerID = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
			e.ev.Proc.Cgroups = []string{"/system.slice/containerd.service"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := New("node-1", nil)
			if tc.lookup != nil {
				e.SetContainerMetadata(tc.lookup)
			}
			e.Reset(sampleEvent())
			if tc.edit != nil {
				tc.edit(e)
			}
			for _, field := range append(k8sFields, "container.name") {
				if v := extract(t, e, field); len(v) != 0 {
					t.Errorf("%s = %+v, want no value", field, v)
				}
			}
		})
	}
}

func TestKubernetesLookupsDoNotAllocate(t *testing.T) {
	e := New("node-1", nil)
	e.SetContainerMetadata(startPodWatcher(t))
	ev := sampleEvent()
	e.Reset(ev)
	var refs []*fields.Ref
	for _, name := range []string{"k8s.ns.name", "k8s.pod.name", "k8s.pod.uid", "k8s.pod.labels", "container.name", "container.image.repository", "container.privileged"} {
		refs = append(refs, resolveRef(t, name))
	}
	label, err := fields.Resolve("k8s.pod.label", "app", true)
	if err != nil {
		t.Fatal(err)
	}
	refs = append(refs, label)
	dst := make([]fields.Value, 0, 4)

	cgroupEv := sampleEvent()
	cgroupEv.Proc.ContainerID = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	cgroupEv.Proc.Cgroups = []string{"/kubepods/besteffort/pod" + testPodUID + "/" + cgroupEv.Proc.ContainerID}

	allocs := testing.AllocsPerRun(100, func() {
		e.Reset(ev)
		for _, ref := range refs {
			dst = e.Extract(ref, dst[:0])
		}
		e.Reset(cgroupEv)
		for _, ref := range refs {
			dst = e.Extract(ref, dst[:0])
		}
	})
	if allocs != 0 {
		t.Errorf("extracting Kubernetes fields through the watcher allocates %.1f times per event, want 0", allocs)
	}
}
