package extract

import (
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/sensor/k8smeta"
)

// podIndex is an in-memory ContainerMetadata for adapter tests; the
// watcher itself is tested against a real API server in package k8smeta.
type podIndex struct {
	containers map[string]*k8smeta.Container
	pods       map[string]*k8smeta.Pod // by a cgroup path substring
}

func (x *podIndex) Container(id string) (*k8smeta.Container, bool) {
	c, ok := x.containers[id]
	return c, ok
}

func (x *podIndex) PodForCgroup(path string) (*k8smeta.Pod, bool) {
	for key, p := range x.pods {
		if strings.Contains(path, key) {
			return p, true
		}
	}
	return nil, false
}

func TestExtractKubernetesFields(t *testing.T) {
	pod := &k8smeta.Pod{UID: "0f1e", Namespace: "shop", Name: "cart-7d9f", Labels: map[string]string{"app": "cart"}}
	c := &k8smeta.Container{ID: fullID, Name: "web", Image: "nginx:1.27", ImageRepository: "nginx", ImageTag: "1.27",
		Privileged: true, Pod: pod}
	e := New("", nil)
	e.SetContainerMetadata(&podIndex{containers: map[string]*k8smeta.Container{fullID: c}})
	e.Reset(sampleEvent())

	strs := map[string]string{
		"k8s.ns.name":                "shop",
		"k8s.pod.name":               "cart-7d9f",
		"k8s.pod.uid":                "0f1e",
		"k8s.pod.label[app]":         "cart",
		"container.name":             "web",
		"container.image":            "nginx:1.27",
		"container.image.repository": "nginx",
		"container.image.tag":        "1.27",
	}
	for field, want := range strs {
		if got := extract(t, e, field); len(got) != 1 || got[0].Str != want {
			t.Errorf("%s = %+v, want %q", field, got, want)
		}
	}
	if got := extract(t, e, "container.privileged"); len(got) != 1 || !got[0].Bool {
		t.Errorf("container.privileged = %+v, want true", got)
	}
	if got := extract(t, e, "k8s.pod.label[missing]"); len(got) != 0 {
		t.Errorf("missing label = %+v, want no value", got)
	}
	if got := extract(t, e, "container.image.digest"); len(got) != 0 {
		t.Errorf("container.image.digest without digest = %+v, want no value", got)
	}
}

func TestExtractPodFromCgroup(t *testing.T) {
	// The container id is not in pod status yet, but the cgroup path names
	// the pod.
	pod := &k8smeta.Pod{UID: "0f1e", Namespace: "shop", Name: "cart-7d9f"}
	e := New("", nil)
	e.SetContainerMetadata(&podIndex{pods: map[string]*k8smeta.Pod{"kubepods.slice": pod}})
	e.Reset(sampleEvent())
	if got := extract(t, e, "k8s.pod.name"); len(got) != 1 || got[0].Str != "cart-7d9f" {
		t.Errorf("k8s.pod.name = %+v, want cart-7d9f", got)
	}
	if got := extract(t, e, "container.name"); len(got) != 0 {
		t.Errorf("container.name without container status = %+v, want no value", got)
	}
}

func TestExtractWithoutCluster(t *testing.T) {
	e := New("", nil)
	var w *k8smeta.Watcher // what the sensor keeps without a cluster
	e.SetContainerMetadata(w)
	e.Reset(sampleEvent())
	for _, field := range []string{"k8s.ns.name", "k8s.pod.name", "container.name", "container.privileged"} {
		if got := extract(t, e, field); len(got) != 0 {
			t.Errorf("%s without a cluster = %+v, want no value", field, got)
		}
	}
	host := sampleEvent()
	host.Proc.ContainerID = "host"
	e.SetContainerMetadata(&podIndex{})
	e.Reset(host)
	if got := extract(t, e, "k8s.ns.name"); len(got) != 0 {
		t.Errorf("k8s.ns.name of a host process = %+v, want no value", got)
	}
	if got := extract(t, e, "container.name"); len(got) != 1 || got[0].Str != "host" {
		t.Errorf("container.name of a host process = %+v, want host", got)
	}
}
