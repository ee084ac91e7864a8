package k8smeta

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/riposte-sec/riposte/internal/containertest"
)

// TestWatcherResolvesRuncContainer ties a process of a real runc container
// to its pod through the cgroup paths the kernel reports for it, under both
// kubelet cgroup drivers.
func TestWatcherResolvesRuncContainer(t *testing.T) {
	for _, driver := range []containertest.CgroupDriver{containertest.Cgroupfs, containertest.Systemd} {
		t.Run(driver.String(), func(t *testing.T) {
			c := containertest.Start(t, containertest.Options{Layout: containertest.Layout{Driver: driver}})

			pod := newTestPod()
			pod.UID = types.UID(c.Layout.PodUID)
			pod.Status.ContainerStatuses[0].ContainerID = "containerd://" + c.ID
			w := startWatcher(t, fake.NewClientset(pod))

			paths, err := containertest.ProcCgroups(c.InitPID)
			if err != nil {
				t.Fatal(err)
			}
			for hierarchy, path := range paths {
				p, ok := w.PodForCgroup(path)
				if !ok {
					t.Errorf("PodForCgroup(%q) of hierarchy %q: pod not found", path, hierarchy)
					continue
				}
				if p.UID != c.Layout.PodUID {
					t.Errorf("PodForCgroup(%q) = pod %s, want %s", path, p.UID, c.Layout.PodUID)
				}
			}

			ctr, ok := w.Container(ShortID(c.ID))
			if !ok {
				t.Fatalf("Container(%s) not found", ShortID(c.ID))
			}
			if ctr.Name != "app" || ctr.Pod.UID != c.Layout.PodUID {
				t.Errorf("Container(%s) = %s in pod %s, want app in pod %s", ShortID(c.ID), ctr.Name, ctr.Pod.UID, c.Layout.PodUID)
			}
		})
	}
}
