package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	k8sclient "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
)

// nodeNameEnv is the environment variable that the Helm chart fills from the
// downward API (spec.nodeName) and that --node-name defaults to.
const nodeNameEnv = "NODE_NAME"

// addClusterFlags adds the flags that connect a command to a Kubernetes
// cluster.
func addClusterFlags(flags *pflag.FlagSet) {
	flags.String("kubeconfig", "", "kubeconfig file of the cluster this node belongs to (default: $KUBECONFIG, or the in-cluster service account when running in a pod; without either, Kubernetes context and actions are off)")
	flags.String("node-name", "", "name of this node in the cluster, given to policies and, unless $FALCO_HOSTNAME is set, as the hostname of alerts (default: $NODE_NAME, then the host name)")
}

// nodeName returns name, or when it is empty $NODE_NAME, or the host name.
func nodeName(name string) string {
	if name != "" {
		return name
	}
	if env := os.Getenv(nodeNameEnv); env != "" {
		return env
	}
	host, err := os.Hostname()
	if err != nil {
		return ""
	}
	return host
}

// clusterConfig returns the client configuration of the cluster that the
// kubeconfig path, $KUBECONFIG or the in-cluster service account names. It
// returns k8smeta.ErrNoCluster when none is set: unlike kubectl, Riposte
// does not fall back to ~/.kube/config, so that a sensor on a workstation
// does not act on whatever cluster its user last used.
func clusterConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" && os.Getenv(clientcmd.RecommendedConfigPathEnvVar) == "" && os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, k8smeta.ErrNoCluster
	}
	return kubernetes.LoadConfig(kubernetes.ConfigOptions{Kubeconfig: kubeconfig})
}

// newPodWatcher returns the pod metadata watcher of node for the cluster of
// cfg. It starts nothing: the caller runs it.
func newPodWatcher(cfg *rest.Config, node string, logger *slog.Logger) (*k8smeta.Watcher, error) {
	if node == "" {
		return nil, fmt.Errorf("node name missing: pass --node-name or set $%s to the name of this node", nodeNameEnv)
	}
	client, err := k8sclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client for %s: %w", cfg.Host, err)
	}
	w, err := k8smeta.NewForClient(client, k8smeta.Options{NodeName: node, Logger: logger.With("component", "k8smeta")})
	if err != nil {
		return nil, fmt.Errorf("create pod watcher of node %s: %w", node, err)
	}
	return w, nil
}

// runRegistry returns the actionners of `riposte run`: the host's, and the
// Kubernetes actionners acting through client. A nil client, when no
// cluster is configured, still registers them so that policies naming them
// load, but each of their actions fails with "no Kubernetes client
// configured".
func runRegistry(client *kubernetes.Client) (*actionners.Registry, error) {
	reg, err := hostRegistry()
	if err != nil {
		return nil, err
	}
	if err := kubernetes.Register(reg, client); err != nil {
		return nil, fmt.Errorf("register Kubernetes actionners: %w", err)
	}
	return reg, nil
}

// cluster is a node's connection to its Kubernetes cluster.
type cluster struct {
	// client is the Kubernetes client of the actionners.
	client *kubernetes.Client
	// pods is the metadata watcher of this node's pods.
	pods *k8smeta.Watcher
}

// connectCluster prepares the client and the pod watcher of the cluster
// that kubeconfig, $KUBECONFIG or the in-cluster service account names. It
// returns nil, and logs once, when no cluster is configured. It contacts
// no server: the watcher connects when it runs.
func connectCluster(kubeconfig, node string, logger *slog.Logger) (*cluster, error) {
	cfg, err := clusterConfig(kubeconfig)
	if errors.Is(err, k8smeta.ErrNoCluster) {
		logger.Info("no Kubernetes cluster configured: alerts carry no pod metadata and Kubernetes actions fail; pass --kubeconfig or run in a pod to use one")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewClient(cfg, logger.With("component", "kubernetes"))
	if err != nil {
		return nil, err
	}
	pods, err := newPodWatcher(cfg, node, logger)
	if err != nil {
		return nil, err
	}
	logger.Info("Kubernetes cluster configured", "server", cfg.Host, "node", node)
	return &cluster{client: client, pods: pods}, nil
}

// actionClient returns the client of the Kubernetes actionners, nil without
// a cluster.
func (c *cluster) actionClient() *kubernetes.Client {
	if c == nil {
		return nil
	}
	return c.client
}
