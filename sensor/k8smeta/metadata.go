package k8smeta

import "sort"

// Pod is the metadata of one pod on the node. A published Pod is never
// modified: an update of the pod publishes a new value, so callers may keep
// a *Pod for as long as they need it.
type Pod struct {
	// UID is the pod's metadata.uid (k8s.pod.uid).
	UID string
	// Namespace is the pod's namespace (k8s.ns.name).
	Namespace string
	// Name is the pod's name (k8s.pod.name).
	Name string
	// Labels are the pod's labels (k8s.pod.labels). Callers must not modify
	// the map.
	Labels map[string]string

	labelPairs []string
	labelsText string
}

// Label returns the value of the pod label key (k8s.pod.label[key]).
func (p *Pod) Label(key string) (string, bool) {
	if p == nil {
		return "", false
	}
	v, ok := p.Labels[key]
	return v, ok
}

// LabelPairs returns the labels as "key:value" strings sorted by key, the
// form Falco prints for k8s.pod.labels. Callers must not modify the slice.
func (p *Pod) LabelPairs() []string {
	if p == nil {
		return nil
	}
	return p.labelPairs
}

// LabelsText returns the label pairs joined by ", ", the value of
// k8s.pod.labels, computed once per pod version.
func (p *Pod) LabelsText() string {
	if p == nil {
		return ""
	}
	return p.labelsText
}

func newLabelPairs(labels map[string]string) []string {
	if len(labels) == 0 {
		return nil
	}
	pairs := make([]string, 0, len(labels))
	for k, v := range labels {
		pairs = append(pairs, k+":"+v)
	}
	sort.Strings(pairs)
	return pairs
}

// ContainerKind is the list of the pod spec that a container comes from.
type ContainerKind uint8

// Container kinds.
const (
	ContainerRegular ContainerKind = iota
	ContainerInit
	ContainerEphemeral
)

// String returns the name of the kind as in the pod spec.
func (k ContainerKind) String() string {
	switch k {
	case ContainerInit:
		return "initContainer"
	case ContainerEphemeral:
		return "ephemeralContainer"
	default:
		return "container"
	}
}

// Container is the metadata of one container of a pod on the node. Like
// Pod, a published Container is never modified.
type Container struct {
	// ID is the full container id without the runtime prefix
	// (container.id takes its first ShortIDLength characters).
	ID string
	// Runtime is the prefix of the id in pod status: "containerd",
	// "cri-o", "docker", or empty when the status had none.
	Runtime string
	// Name is the container's name in the pod spec (container.name).
	Name string
	// Kind is the list of the pod spec that the container comes from.
	Kind ContainerKind
	// Image is the image as written in the pod spec (container.image).
	Image string
	// ImageRepository is Image without tag and digest
	// (container.image.repository).
	ImageRepository string
	// ImageTag is the tag of Image, "latest" when Image has neither tag nor
	// digest (container.image.tag).
	ImageTag string
	// ImageDigest is the digest of Image, or when Image has none, the digest
	// the runtime resolved as reported in status.imageID
	// (container.image.digest).
	ImageDigest string
	// Privileged reports securityContext.privileged of the container
	// (container.privileged).
	Privileged bool
	// Pod is the pod the container belongs to. It is never nil.
	Pod *Pod
}
