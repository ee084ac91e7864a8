package extract

import (
	"strings"

	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/cgroup"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
)

// PodLookup finds the Kubernetes metadata of a container. *k8smeta.Watcher
// implements it, including when the pointer is nil.
type PodLookup interface {
	// Container returns the container with the given full or short id.
	Container(id string) (*k8smeta.Container, bool)
	// PodForCgroup returns the pod whose UID appears in a kubelet cgroup
	// path.
	PodForCgroup(path string) (*k8smeta.Pod, bool)
}

// kubeContext is the adapter's state for the Kubernetes fields.
type kubeContext struct {
	pods PodLookup
	// labelsPod and labelsText cache the k8s.pod.labels text of the last
	// pod it was rendered for. A published k8smeta.Pod never changes, so
	// the pointer identifies its labels.
	labelsPod  *k8smeta.Pod
	labelsText string
}

// SetPods makes the adapter read the k8s.* fields and container.name,
// container.image*, and container.privileged from pods. With a nil lookup,
// the default, these fields have no value.
func (e *Event) SetPods(pods PodLookup) {
	e.k8s = kubeContext{pods: pods}
}

// lookupContainer returns the container of p and its pod. The container id
// in pod status is tried first. A container that the kubelet has not yet
// reported there still gets its pod from the pod UID in its cgroup path,
// with a nil container. Lookups do not allocate.
func (e *Event) lookupContainer(p *event.Process) (*k8smeta.Container, *k8smeta.Pod) {
	if e.k8s.pods == nil || p.ContainerID == "" || p.ContainerID == cgroup.HostID {
		return nil, nil
	}
	if c, ok := e.k8s.pods.Container(p.ContainerID); ok {
		return c, c.Pod
	}
	for _, path := range p.Cgroups {
		if pod, ok := e.k8s.pods.PodForCgroup(path); ok {
			return nil, pod
		}
	}
	return nil, nil
}

// extractKubernetes extracts the k8s.* fields and the container.* fields
// that come from pod metadata. Other fields append nothing.
func (e *Event) extractKubernetes(ref *fields.Ref, p *event.Process, dst []fields.Value) []fields.Value {
	switch ref.Field {
	case fields.K8sNsName, fields.K8sPodName, fields.K8sPodUID, fields.K8sPodLabel, fields.K8sPodLabels:
		_, pod := e.lookupContainer(p)
		if pod == nil {
			return dst
		}
		return e.extractPod(ref, pod, dst)
	case fields.ContainerName:
		if p.ContainerID == cgroup.HostID {
			return str(dst, cgroup.HostID)
		}
		fallthrough
	case fields.ContainerImage, fields.ContainerImageRepository, fields.ContainerImageTag,
		fields.ContainerImageDigest, fields.ContainerPrivileged:
		c, _ := e.lookupContainer(p)
		if c == nil {
			return dst
		}
		return extractContainer(ref.Field, c, dst)
	}
	return dst
}

func (e *Event) extractPod(ref *fields.Ref, pod *k8smeta.Pod, dst []fields.Value) []fields.Value {
	switch ref.Field {
	case fields.K8sNsName:
		return str(dst, pod.Namespace)
	case fields.K8sPodName:
		return str(dst, pod.Name)
	case fields.K8sPodUID:
		return str(dst, pod.UID)
	case fields.K8sPodLabel:
		if v, ok := pod.Label(ref.Key); ok {
			return str(dst, v)
		}
		return dst
	}
	if len(pod.Labels) == 0 {
		return dst
	}
	return str(dst, e.labelsText(pod))
}

// labelsText renders k8s.pod.labels: the key:value pairs sorted by key and
// separated by commas. It allocates only when the pod differs from the
// previous call's.
func (e *Event) labelsText(pod *k8smeta.Pod) string {
	if e.k8s.labelsPod != pod {
		e.k8s.labelsPod = pod
		e.k8s.labelsText = strings.Join(pod.LabelPairs(), ",")
	}
	return e.k8s.labelsText
}

func extractContainer(id fields.ID, c *k8smeta.Container, dst []fields.Value) []fields.Value {
	var s string
	switch id {
	case fields.ContainerPrivileged:
		return boolean(dst, c.Privileged)
	case fields.ContainerName:
		s = c.Name
	case fields.ContainerImage:
		s = c.Image
	case fields.ContainerImageRepository:
		s = c.ImageRepository
	case fields.ContainerImageTag:
		s = c.ImageTag
	case fields.ContainerImageDigest:
		s = c.ImageDigest
	}
	if s == "" {
		return dst
	}
	return str(dst, s)
}
