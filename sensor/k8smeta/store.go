package k8smeta

import (
	"strings"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
)

// mirrorPodAnnotation holds, on the API object of a static pod, the UID that
// the kubelet uses for the pod's cgroup (a hash of the manifest). The API
// server assigns the mirror pod a different metadata.uid.
const mirrorPodAnnotation = "kubernetes.io/config.mirror"

// index is one immutable snapshot of the metadata of the node's pods.
// Readers load it with one atomic pointer read and never lock.
type index struct {
	// containers maps full and short container ids to containers. A nil
	// value marks a short id shared by two containers, which matches none.
	containers map[string]*Container
	// pods maps pod UIDs, and the cgroup UIDs of static pods, to pods.
	pods map[string]*Pod
}

var emptyIndex = &index{}

// podEntry is the metadata derived from one pod object.
type podEntry struct {
	pod        *Pod
	cgroupUID  string
	containers []*Container
}

// store keeps the pod entries on the writer side and publishes a fresh index
// after each change. Writers are the informer's event handlers. They are
// serialized by mu and rebuild the whole index, which costs time linear in
// the number of containers on the node (BenchmarkPodUpdate measures 110
// pods, the kubelet's default limit).
type store struct {
	mu      sync.Mutex
	entries map[string]*podEntry
	current atomic.Pointer[index]
}

func newStore() *store {
	s := &store{entries: make(map[string]*podEntry)}
	s.current.Store(emptyIndex)
	return s
}

func (s *store) load() *index {
	return s.current.Load()
}

// upsert adds or replaces the entry of pod.
func (s *store) upsert(pod *corev1.Pod) {
	entry := newPodEntry(pod)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[entry.pod.UID] = entry
	s.publish()
}

// remove drops the entry of the pod with the given UID.
func (s *store) remove(uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[uid]; !ok {
		return
	}
	delete(s.entries, uid)
	s.publish()
}

// publish builds and stores a new index from the entries. Callers hold mu.
func (s *store) publish() {
	next := &index{
		containers: make(map[string]*Container),
		pods:       make(map[string]*Pod, len(s.entries)),
	}
	for _, entry := range s.entries {
		next.pods[entry.pod.UID] = entry.pod
		if entry.cgroupUID != "" {
			next.pods[entry.cgroupUID] = entry.pod
		}
		for _, c := range entry.containers {
			next.containers[c.ID] = c
			if len(c.ID) <= ShortIDLength {
				continue
			}
			short := ShortID(c.ID)
			if other, taken := next.containers[short]; taken && other != c {
				next.containers[short] = nil
				continue
			}
			next.containers[short] = c
		}
	}
	s.current.Store(next)
}

// newPodEntry derives the metadata of pod.
func newPodEntry(pod *corev1.Pod) *podEntry {
	p := &Pod{
		UID:        string(pod.UID),
		Namespace:  pod.Namespace,
		Name:       pod.Name,
		Labels:     pod.Labels,
		labelPairs: newLabelPairs(pod.Labels),
	}
	p.labelsText = strings.Join(p.labelPairs, ", ")
	entry := &podEntry{pod: p}
	if hash := pod.Annotations[mirrorPodAnnotation]; hash != "" && hash != p.UID {
		entry.cgroupUID = hash
	}

	specs := containerSpecs(pod)
	add := func(kind ContainerKind, statuses []corev1.ContainerStatus) {
		for i := range statuses {
			st := &statuses[i]
			spec := specs[specKey{kind, st.Name}]
			entry.addStatus(kind, st, spec)
		}
	}
	add(ContainerRegular, pod.Status.ContainerStatuses)
	add(ContainerInit, pod.Status.InitContainerStatuses)
	add(ContainerEphemeral, pod.Status.EphemeralContainerStatuses)
	return entry
}

// addStatus adds the container of one status, under its current id and,
// so that events still in flight from a restarted container resolve, under
// the id of its last terminated instance.
func (e *podEntry) addStatus(kind ContainerKind, st *corev1.ContainerStatus, spec containerSpec) {
	image := spec.image
	if image == "" {
		// Every status should have a spec entry. Without one, fall back to
		// the status image, the runtime's normalized form of the reference.
		image = st.Image
	}
	ref := ParseImage(image)
	if ref.Digest == "" {
		ref.Digest = digestFromImageID(st.ImageID)
	}

	base := Container{
		Name:            st.Name,
		Kind:            kind,
		Image:           image,
		ImageRepository: ref.Repository,
		ImageTag:        ref.Tag,
		ImageDigest:     ref.Digest,
		Privileged:      spec.privileged,
		Pod:             e.pod,
	}
	ids := []string{st.ContainerID}
	if t := st.LastTerminationState.Terminated; t != nil && t.ContainerID != st.ContainerID {
		ids = append(ids, t.ContainerID)
	}
	for _, statusID := range ids {
		runtime, id := SplitContainerID(statusID)
		if id == "" {
			continue
		}
		c := base
		c.ID, c.Runtime = id, runtime
		e.containers = append(e.containers, &c)
	}
}

// digestFromImageID returns the digest in a status imageID, which the
// kubelet fills with the runtime's image reference:
// "docker.io/library/nginx@sha256:...", "docker-pullable://nginx@sha256:..."
// or a bare "sha256:...".
func digestFromImageID(imageID string) string {
	if at := strings.LastIndexByte(imageID, '@'); at >= 0 {
		return imageID[at+1:]
	}
	if strings.HasPrefix(imageID, "sha256:") {
		return imageID
	}
	return ""
}

type specKey struct {
	kind ContainerKind
	name string
}

type containerSpec struct {
	image      string
	privileged bool
}

func containerSpecs(pod *corev1.Pod) map[specKey]containerSpec {
	specs := make(map[specKey]containerSpec,
		len(pod.Spec.Containers)+len(pod.Spec.InitContainers)+len(pod.Spec.EphemeralContainers))
	for _, c := range pod.Spec.Containers {
		specs[specKey{ContainerRegular, c.Name}] = newContainerSpec(c.Image, c.SecurityContext)
	}
	for _, c := range pod.Spec.InitContainers {
		specs[specKey{ContainerInit, c.Name}] = newContainerSpec(c.Image, c.SecurityContext)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		specs[specKey{ContainerEphemeral, c.Name}] = newContainerSpec(c.Image, c.SecurityContext)
	}
	return specs
}

func newContainerSpec(image string, sc *corev1.SecurityContext) containerSpec {
	spec := containerSpec{image: image}
	if sc != nil && sc.Privileged != nil {
		spec.privileged = *sc.Privileged
	}
	return spec
}
