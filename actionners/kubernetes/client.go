package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// Client defaults. The rate limits are client-side and apply per Client. They
// are above the client-go defaults of 5 requests per second and burst 10,
// because those are too low for a drain that evicts every pod of a node.
const (
	DefaultQPS     = 20
	DefaultBurst   = 40
	DefaultTimeout = 30 * time.Second
)

// ConfigOptions selects where LoadConfig reads the cluster configuration from
// and sets the client-side limits.
type ConfigOptions struct {
	// Kubeconfig is the path of a kubeconfig file, as set by --kubeconfig.
	Kubeconfig string
	// Context is the kubeconfig context to use; empty means the current one.
	Context string
	// QPS and Burst are the client-side rate limit; zero means DefaultQPS and
	// DefaultBurst.
	QPS   float32
	Burst int
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
}

// LoadConfig returns the client configuration from, in order: the kubeconfig
// file of opts.Kubeconfig, the files listed in $KUBECONFIG, the in-cluster
// service account when running in a pod, and ~/.kube/config.
func LoadConfig(opts ConfigOptions) (*rest.Config, error) {
	cfg, err := loadRawConfig(opts)
	if err != nil {
		return nil, err
	}
	cfg.QPS = opts.QPS
	if cfg.QPS == 0 {
		cfg.QPS = DefaultQPS
	}
	cfg.Burst = opts.Burst
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	cfg.Timeout = opts.Timeout
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.UserAgent = "riposte"
	return cfg, nil
}

func loadRawConfig(opts ConfigOptions) (*rest.Config, error) {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	if opts.Kubeconfig != "" {
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: opts.Kubeconfig}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", opts.Kubeconfig, err)
		}
		return cfg, nil
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig from $%s=%s: %w", clientcmd.RecommendedConfigPathEnvVar, env, err)
		}
		return cfg, nil
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" && opts.Context == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("load in-cluster configuration: %w", err)
		}
		return cfg, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w (set --kubeconfig or $KUBECONFIG, or run in a pod)",
			clientcmd.RecommendedHomeFile, err)
	}
	return cfg, nil
}

// RouteKlog sends the logs of client-go and its streaming code, which log
// through klog to stderr, to logger instead. It changes klog's global state,
// so only a program's main function should call it.
func RouteKlog(logger *slog.Logger) {
	klog.SetSlogLogger(logger)
}

// Client is the connection to the cluster that the actionners share.
type Client struct {
	// Kubernetes is the typed clientset.
	Kubernetes kubernetes.Interface
	// Config is the configuration Kubernetes was made from. The exec
	// actionner needs it to open streams; it is nil with a fake clientset.
	Config *rest.Config
	// Logger receives retries and failures to record Events.
	Logger *slog.Logger
	// Backoff paces retries of requests that failed with a conflict or a
	// server error.
	Backoff wait.Backoff
	// Instance names this responder in the Events it records; it defaults
	// to the host name.
	Instance string

	// forbiddenWarned is the Unix time of the last warning that pods cannot
	// be read, which PodLabels logs at most once a minute.
	forbiddenWarned atomic.Int64
}

// DefaultBackoff retries four times, after 100 ms, 200 ms, 400 ms and 800 ms,
// each with up to 10% jitter.
var DefaultBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5}

// NewClient makes a Client from a configuration. A nil logger discards logs.
func NewClient(cfg *rest.Config, logger *slog.Logger) (*Client, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client for %s: %w", cfg.Host, err)
	}
	c := NewClientFromClientset(cs, logger)
	c.Config = cfg
	return c, nil
}

// NewClientFromClientset makes a Client around an existing clientset, such as
// a fake one in unit tests. The exec actionner needs Config as well.
func NewClientFromClientset(cs kubernetes.Interface, logger *slog.Logger) *Client {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	instance, _ := os.Hostname()
	return &Client{Kubernetes: cs, Logger: logger, Backoff: DefaultBackoff, Instance: instance}
}

// retriable reports whether a request that failed with err may succeed when
// sent again: a conflict on a stale resourceVersion, or a server that is
// overloaded, timed out or failed internally.
func retriable(err error) bool {
	return apierrors.IsConflict(err) ||
		apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) ||
		apierrors.IsServiceUnavailable(err) ||
		apierrors.IsUnexpectedServerError(err)
}

// retry calls fn until it succeeds, fails with an error that retriable
// rejects, the backoff runs out or ctx ends. fn must read the object afresh
// on each call, so that a retry after a conflict works on the current version.
func (c *Client) retry(ctx context.Context, op string, fn func(context.Context) error) error {
	backoff := c.Backoff
	if backoff.Steps == 0 {
		backoff = DefaultBackoff
	}
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || !retriable(err) {
			return err
		}
		if backoff.Steps <= 1 {
			return fmt.Errorf("%s: giving up after %d attempts: %w", op, attempt, err)
		}
		delay := backoff.Step()
		c.Logger.Debug("retrying Kubernetes request", "op", op, "attempt", attempt, "delay", delay, "error", err)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// PodLabels returns the labels of a pod, for the guards that protect pods by
// label. A pod that does not exist has none. When the client may not read
// pods, it logs a warning and returns none, so that a responder without
// that permission still runs host actions. The guard then checks only the
// labels that the alert carries.
func (c *Client) PodLabels(ctx context.Context, namespace, name string) (map[string]string, error) {
	var labels map[string]string
	err := c.retry(ctx, "get pod labels", func(ctx context.Context) error {
		pod, err := c.Kubernetes.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		labels = pod.Labels
		return nil
	})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case apierrors.IsForbidden(err):
		now := time.Now().Unix()
		if last := c.forbiddenWarned.Load(); now-last >= 60 && c.forbiddenWarned.CompareAndSwap(last, now) {
			c.Logger.Warn("cannot read pod labels for the protected-label guard: grant get on pods to the responder", "namespace", namespace, "pod", name, "error", err)
		}
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get pod %s/%s: %w", namespace, name, err)
	}
	return labels, nil
}
