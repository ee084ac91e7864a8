// Package k8smeta gives the sensor the Kubernetes context of the containers
// on its node: the namespace, name, UID and labels of their pod, and the
// container's name, image and privileged flag (the Falco fields k8s.ns.name,
// k8s.pod.*, container.name, container.image.* and container.privileged).
//
// A [Watcher] lists and watches the pods whose spec.nodeName is this node
// through a client-go shared informer. It indexes them by pod UID and by the
// container ids in pod status, in full and in the 12-character short form,
// with the runtime prefix such as "containerd://" removed. Kubelet cgroup paths carry the pod
// UID, so [Watcher.PodForCgroup] finds the pod of a process whose container
// id is not in pod status yet.
//
// [Options].Kubeconfig names a kubeconfig file. When it is empty, [New] uses
// the in-cluster service account and ignores $KUBECONFIG, so a sensor never
// picks up an administrator's credentials by accident. The service account
// needs get, list and watch on pods in every namespace.
//
// Without a cluster, [New] returns [ErrNoCluster]. The sensor then keeps a
// nil *Watcher, whose lookups report not found, and the Kubernetes fields
// stay empty.
//
//	w, err := k8smeta.New(k8smeta.Options{NodeName: node, Logger: logger})
//	switch {
//	case errors.Is(err, k8smeta.ErrNoCluster):
//		w = nil
//	case err != nil:
//		return err
//	default:
//		go w.Run(ctx)
//	}
//	if c, ok := w.Container(containerID); ok {
//		_ = c.Pod.Name
//	}
package k8smeta
