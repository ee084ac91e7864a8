package k8smeta

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// benchStore returns a store holding pods pods of three containers each,
// and the ids and cgroup paths of its containers.
func benchStore(b *testing.B, pods int) (*Watcher, []string, []string) {
	b.Helper()
	w := &Watcher{store: newStore()}
	var ids, cgroups []string
	for i := range pods {
		pod := newTestPod()
		pod.Name = fmt.Sprintf("pod-%d", i)
		pod.UID = types.UID(fmt.Sprintf("0f3b1c9e-7a2d-4c1e-9b8f-%012x", i))
		pod.Status.InitContainerStatuses = nil
		pod.Status.EphemeralContainerStatuses = nil
		pod.Status.ContainerStatuses = nil
		for j, name := range []string{"app", "proxy", "sidecar"} {
			id := fmt.Sprintf("%08x%02x%054x", i, j, 0)
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses,
				corev1.ContainerStatus{Name: name, ContainerID: "containerd://" + id})
			ids = append(ids, id)
			cgroups = append(cgroups, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"+
				strings.ReplaceAll(string(pod.UID), "-", "_")+".slice/cri-containerd-"+id+".scope")
		}
		w.store.upsert(pod)
	}
	return w, ids, cgroups
}

func BenchmarkContainerLookup(b *testing.B) {
	w, ids, _ := benchStore(b, 110)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := w.Container(ids[i%len(ids)]); !ok {
			b.Fatal("container not found")
		}
	}
}

func BenchmarkContainerLookupParallel(b *testing.B) {
	w, ids, _ := benchStore(b, 110)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := w.Container(ShortID(ids[i%len(ids)])); !ok {
				b.Fatal("container not found")
			}
			i++
		}
	})
}

func BenchmarkPodForCgroup(b *testing.B) {
	w, _, cgroups := benchStore(b, 110)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := w.PodForCgroup(cgroups[i%len(cgroups)]); !ok {
			b.Fatal("pod not found")
		}
	}
}

// BenchmarkPodUpdate measures one pod change on a node with 110 pods: the
// index rebuild that every informer event costs.
func BenchmarkPodUpdate(b *testing.B) {
	w, _, _ := benchStore(b, 110)
	pod := newTestPod()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.store.upsert(pod)
	}
}
