package k8smeta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoCluster is returned by [New] and [RESTConfig] when no kubeconfig path
// is given and the process does not run in a Kubernetes pod. Callers treat
// it as "no Kubernetes context" and run without a Watcher.
var ErrNoCluster = errors.New("no Kubernetes cluster: no kubeconfig path given and not running in a pod")

// Options configures a [Watcher].
type Options struct {
	// NodeName is the name of the node whose pods are watched, usually set
	// from the downward API (spec.nodeName). Required.
	NodeName string
	// Kubeconfig is the path of a kubeconfig file. When empty, the in-cluster
	// service account configuration is used.
	Kubeconfig string
	// ResyncPeriod is how often the informer replays every pod to the
	// index even without changes. Zero disables the replay; the watch alone
	// keeps the index current.
	ResyncPeriod time.Duration
	// Logger receives sync, watch error and stop messages. Nil discards them.
	Logger *slog.Logger
}

// Watcher watches the pods of one node through a shared informer and maps
// container ids and pod UIDs to pod metadata.
//
// Lookups never block on the informer: they read an immutable snapshot
// through one atomic load and do not allocate. All lookup methods accept a
// nil *Watcher and then report not found, so a sensor without a cluster can
// keep a nil Watcher and call them unconditionally.
type Watcher struct {
	opts     Options
	logger   *slog.Logger
	client   kubernetes.Interface
	store    *store
	started  atomic.Bool
	synced   atomic.Bool
	informer cache.SharedIndexInformer
	factory  informers.SharedInformerFactory
	handler  cache.ResourceEventHandlerRegistration
}

// RESTConfig returns the client configuration for the kubeconfig file at
// path, or the in-cluster configuration when path is empty. It returns an
// error wrapping [ErrNoCluster] when path is empty outside a pod.
func RESTConfig(path string) (*rest.Config, error) {
	if path != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", path, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if errors.Is(err, rest.ErrNotInCluster) {
		return nil, ErrNoCluster
	}
	if err != nil {
		return nil, fmt.Errorf("load in-cluster configuration: %w", err)
	}
	return cfg, nil
}

// New returns a Watcher that connects with the configuration that
// [RESTConfig] returns for opts.Kubeconfig. It does not contact the API
// server; [Watcher.Run] does.
func New(opts Options) (*Watcher, error) {
	cfg, err := RESTConfig(opts.Kubeconfig)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return NewForClient(client, opts)
}

// NewForClient returns a Watcher that uses client. opts.Kubeconfig is
// ignored.
func NewForClient(client kubernetes.Interface, opts Options) (*Watcher, error) {
	if opts.NodeName == "" {
		return nil, errors.New("node name missing: set Options.NodeName to the name of this node (downward API spec.nodeName)")
	}
	if opts.ResyncPeriod < 0 {
		return nil, fmt.Errorf("invalid resync period %s: must be zero or positive", opts.ResyncPeriod)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{
		opts:   opts,
		logger: logger.With("node", opts.NodeName),
		client: client,
		store:  newStore(),
	}
	if err := w.setupInformer(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Watcher) setupInformer() error {
	selector := fields.OneTermEqualSelector("spec.nodeName", w.opts.NodeName).String()
	w.factory = informers.NewSharedInformerFactoryWithOptions(w.client, w.opts.ResyncPeriod,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }),
		informers.WithTransform(trimPod),
	)
	w.informer = w.factory.Core().V1().Pods().Informer()

	err := w.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		w.logger.Warn("pod watch failed, retrying", "error", err)
	})
	if err != nil {
		return fmt.Errorf("set pod watch error handler: %w", err)
	}

	w.handler, err = w.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.onUpsert,
		UpdateFunc: func(_, obj any) { w.onUpsert(obj) },
		DeleteFunc: w.onDelete,
	})
	if err != nil {
		return fmt.Errorf("add pod event handler: %w", err)
	}
	return nil
}

// Run starts the informer and blocks until ctx is done. It returns nil when
// ctx ends after the initial sync, and ctx's error when it ends before.
// Run may be called once.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("pod watcher already running: Run may be called once")
	}
	w.logger.Info("pod metadata watcher starting")
	w.factory.Start(ctx.Done())
	defer w.factory.Shutdown()

	start := time.Now()
	if !cache.WaitForCacheSync(ctx.Done(), w.handler.HasSynced) {
		w.logger.Info("pod metadata watcher stopped before the initial sync")
		return fmt.Errorf("sync pods of node %s: %w", w.opts.NodeName, context.Cause(ctx))
	}
	w.synced.Store(true)
	idx := w.store.load()
	w.logger.Info("pod metadata synced", "pods", len(idx.pods), "container_ids", len(idx.containers),
		"duration", time.Since(start))

	<-ctx.Done()
	w.logger.Info("pod metadata watcher stopped")
	return nil
}

// HasSynced reports whether the initial list of pods has been indexed.
// A nil Watcher never syncs.
func (w *Watcher) HasSynced() bool {
	return w != nil && w.synced.Load()
}

// Container returns the container with the given id: the full id or its
// first ShortIDLength characters, without runtime prefix. A short id that
// two containers of the node share matches neither.
func (w *Watcher) Container(id string) (*Container, bool) {
	if w == nil {
		return nil, false
	}
	c := w.store.load().containers[id]
	return c, c != nil
}

// Pod returns the pod with the given UID. For a static pod, the UID that
// the kubelet uses in cgroup paths matches too.
func (w *Watcher) Pod(uid string) (*Pod, bool) {
	if w == nil {
		return nil, false
	}
	p := w.store.load().pods[uid]
	return p, p != nil
}

// PodForCgroup returns the pod whose UID appears in a kubelet cgroup path
// (see [PodUIDFromCgroup]). It ties a process to its pod even before the
// kubelet has reported the container's id in pod status.
func (w *Watcher) PodForCgroup(path string) (*Pod, bool) {
	if w == nil {
		return nil, false
	}
	raw, ok := rawPodUID(path)
	if !ok {
		return nil, false
	}
	var buf [podUIDLength]byte
	n := copy(buf[:], raw)
	for i := range n {
		if buf[i] == '_' {
			buf[i] = '-'
		}
	}
	// The compiler does not allocate for a map index by string(bytes).
	p := w.store.load().pods[string(buf[:n])]
	return p, p != nil
}

// Resolve returns the container with the given id and its pod. When pod
// status does not list the id yet, it returns a nil container and the pod
// that cgroupPath names. It reports false when neither is known.
func (w *Watcher) Resolve(id, cgroupPath string) (*Container, *Pod, bool) {
	if c, ok := w.Container(id); ok {
		return c, c.Pod, true
	}
	if p, ok := w.PodForCgroup(cgroupPath); ok {
		return nil, p, true
	}
	return nil, nil, false
}

func (w *Watcher) onUpsert(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		w.logger.Warn("pod informer delivered an unexpected object", "type", fmt.Sprintf("%T", obj))
		return
	}
	w.store.upsert(pod)
}

func (w *Watcher) onDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		w.logger.Warn("pod informer delivered an unexpected deleted object", "type", fmt.Sprintf("%T", obj))
		return
	}
	w.store.remove(string(pod.UID))
}

// trimPod drops the parts of a pod object that the index never reads, so
// the informer's cache stays small: managed fields and every annotation but
// the static pod hash.
func trimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	pod.ManagedFields = nil
	if hash, ok := pod.Annotations[mirrorPodAnnotation]; ok {
		pod.Annotations = map[string]string{mirrorPodAnnotation: hash}
	} else {
		pod.Annotations = nil
	}
	return pod, nil
}
