package extract

import (
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/cgroup"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
)

// ContainerMetadata looks up the Kubernetes context of containers;
// *k8smeta.Watcher implements it, and a nil *k8smeta.Watcher reports
// nothing found.
type ContainerMetadata interface {
	// Container returns the container with a full or short id.
	Container(id string) (*k8smeta.Container, bool)
	// PodForCgroup returns the pod whose UID appears in a kubelet cgroup
	// path.
	PodForCgroup(path string) (*k8smeta.Pod, bool)
}

// SetContainerMetadata makes the k8s.* fields and the container fields
// that come from the pod spec (container.name, container.image*,
// container.privileged) readable; without it they have no value.
func (e *Event) SetContainerMetadata(m ContainerMetadata) {
	e.meta = m
}

// lookup returns the container and pod of the current event's process,
// looked up once per event. The pod is found from the cgroup path when the
// container id is not in pod status yet.
func (e *Event) lookup() (*k8smeta.Container, *k8smeta.Pod) {
	if e.looked {
		return e.container, e.pod
	}
	e.looked = true
	e.container, e.pod = nil, nil
	p := e.ev.Proc
	if e.meta == nil || p == nil || p.ContainerID == "" || p.ContainerID == cgroup.HostID {
		return nil, nil
	}
	if c, ok := e.meta.Container(p.ContainerID); ok {
		e.container, e.pod = c, c.Pod
		return e.container, e.pod
	}
	for _, path := range p.Cgroups {
		if pod, ok := e.meta.PodForCgroup(path); ok {
			e.pod = pod
			break
		}
	}
	return e.container, e.pod
}

func isK8sField(id fields.ID) bool {
	switch id {
	case fields.K8sNsName, fields.K8sPodName, fields.K8sPodUID, fields.K8sPodLabel, fields.K8sPodLabels,
		fields.ContainerName, fields.ContainerImage, fields.ContainerImageRepository, fields.ContainerImageTag,
		fields.ContainerImageDigest, fields.ContainerPrivileged:
		return true
	}
	return false
}

// extractK8s extracts the fields that come from pod metadata.
func (e *Event) extractK8s(ref *fields.Ref, dst []fields.Value) []fields.Value {
	c, pod := e.lookup()
	if pod != nil {
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
		case fields.K8sPodLabels:
			return str(dst, pod.LabelsText())
		}
	}
	if c == nil {
		// A host process has the container name "host", as its id.
		if p := e.ev.Proc; ref.Field == fields.ContainerName && p != nil && p.ContainerID == cgroup.HostID {
			return str(dst, cgroup.HostID)
		}
		return dst
	}
	switch ref.Field {
	case fields.ContainerName:
		return str(dst, c.Name)
	case fields.ContainerImage:
		return str(dst, c.Image)
	case fields.ContainerImageRepository:
		return str(dst, c.ImageRepository)
	case fields.ContainerImageTag:
		return str(dst, c.ImageTag)
	case fields.ContainerImageDigest:
		if c.ImageDigest == "" {
			return dst
		}
		return str(dst, c.ImageDigest)
	case fields.ContainerPrivileged:
		return boolean(dst, c.Privileged)
	}
	return dst
}
