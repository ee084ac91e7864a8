package k8stest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"
)

// Node names the harness registers.
const (
	// KwokNode is managed by kwok: pods bound to it reach Running and finish
	// graceful deletion, but exec and logs are not served.
	KwokNode = "kwok-node"
	// ExecNode is served by the harness's kubelet server: pods bound to it are
	// marked Running by the harness, and pods/exec and pods/log work. Nothing
	// finishes a graceful deletion on it, so deleted pods stay Terminating.
	ExecNode = "exec-node"
)

// EnvKeepWorkDir names the environment variable that, when set to 1, keeps
// the control plane's work directory (logs, certificates, etcd data) after the
// tests.
const EnvKeepWorkDir = "RIPOSTE_K8S_KEEP"

// startTimeout bounds the whole control plane start. It is generous because
// the apiserver starts in about 3 s on an idle machine but CI shares its cores.
const startTimeout = 2 * time.Minute

// Env is a running control plane.
type Env struct {
	workDir        string
	pki            *pki
	etcd           *process
	apiserver      *process
	kwok           *process
	kubelet        *kubeletServer
	config         *rest.Config
	client         kubernetes.Interface
	kubeconfigPath string
}

var (
	shared     *Env
	sharedErr  error
	sharedOnce sync.Once
	missingErr error
)

// Main runs the tests of a package and stops the control plane if a test
// started it. Call it from TestMain and pass its result to os.Exit.
func Main(m *testing.M) int {
	// client-go and the exec server report closed streams through klog,
	// which would bury test output; tests check outcomes instead.
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Get returns the package's control plane, starting it on first use. When the
// binaries are missing, the test is skipped, or fails when CI=true. A failed
// start always fails the test.
func Get(t testing.TB) *Env {
	t.Helper()
	sharedOnce.Do(func() {
		if err := findBinaries(BinDir()); err != nil {
			missingErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		shared, sharedErr = Start(ctx, BinDir())
	})
	if missingErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the control plane cannot run: %v", missingErr)
		}
		t.Skipf("skipping: %v", missingErr)
	}
	if sharedErr != nil {
		t.Fatalf("start control plane: %v", sharedErr)
	}
	return shared
}

// Start runs etcd, kube-apiserver, kwok and the kubelet server from the
// binaries in binDir, registers the nodes KwokNode and ExecNode, and waits
// until both are Ready. Stop ends everything it started.
func Start(ctx context.Context, binDir string) (*Env, error) {
	if err := findBinaries(binDir); err != nil {
		return nil, err
	}
	workDir, err := os.MkdirTemp("", "riposte-k8stest-")
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	env := &Env{workDir: workDir}
	if err := env.start(ctx, binDir); err != nil {
		env.Stop()
		return nil, err
	}
	return env, nil
}

func (e *Env) start(ctx context.Context, binDir string) error {
	var err error
	if e.pki, err = newPKI(e.workDir); err != nil {
		return err
	}
	// Ports: etcd client, etcd peer, apiserver, kwok server.
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	if err := e.startEtcd(ctx, binDir, ports[0], ports[1]); err != nil {
		return err
	}
	if err := e.startAPIServer(ctx, binDir, ports[0], ports[2]); err != nil {
		return err
	}
	if err := e.startKwok(ctx, binDir, ports[3]); err != nil {
		return err
	}
	return e.startKubelet(ctx)
}

func (e *Env) startEtcd(ctx context.Context, binDir string, clientPort, peerPort int) error {
	clientURL := localURL("http", clientPort)
	peerURL := localURL("http", peerPort)
	var err error
	e.etcd, err = startProcess(e.workDir, filepath.Join(binDir, "etcd"), "etcd",
		"--name=test",
		"--data-dir="+filepath.Join(e.workDir, "etcd-data"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=test="+peerURL,
		"--listen-metrics-urls=",
		"--unsafe-no-fsync",
	)
	if err != nil {
		return err
	}
	return e.etcd.waitReady(ctx, httpOK(http.DefaultClient, clientURL+"/health"))
}

func (e *Env) startAPIServer(ctx context.Context, binDir string, etcdPort, port int) error {
	p := e.pki
	server := localURL("https", port)
	var err error
	e.apiserver, err = startProcess(e.workDir, filepath.Join(binDir, "kube-apiserver"), "kube-apiserver",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// The default reconciler rejects a loopback advertise address.
		"--endpoint-reconciler-type=none",
		"--secure-port="+strconv.Itoa(port),
		"--etcd-servers="+localURL("http", etcdPort),
		"--cert-dir="+filepath.Join(e.workDir, "apiserver-certs"),
		"--tls-cert-file="+p.apiserverCert,
		"--tls-private-key-file="+p.apiserverKey,
		"--client-ca-file="+p.caFile,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
		"--service-account-issuer="+server+"/",
		"--service-account-key-file="+p.serviceAccountPub,
		"--service-account-signing-key-file="+p.serviceAccountKey,
		"--kubelet-client-certificate="+p.kubeletClientCert,
		"--kubelet-client-key="+p.kubeletClientKey,
		// Dial nodes at their InternalIP, 127.0.0.1, instead of their name.
		"--kubelet-preferred-address-types=InternalIP",
	)
	if err != nil {
		return err
	}

	adminCert, err := tls.LoadX509KeyPair(p.adminCert, p.adminKey)
	if err != nil {
		return fmt.Errorf("load admin certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{adminCert}, MinVersion: tls.VersionTLS12,
	}}}
	defer httpClient.CloseIdleConnections()
	if err := e.apiserver.waitReady(ctx, httpOK(httpClient, server+"/readyz")); err != nil {
		return err
	}

	certPEM, err := os.ReadFile(p.adminCert)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(p.adminKey)
	if err != nil {
		return err
	}
	e.config = &rest.Config{
		Host:            server,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM, CertData: certPEM, KeyData: keyPEM},
		QPS:             200,
		Burst:           400,
	}
	if e.client, err = kubernetes.NewForConfig(e.config); err != nil {
		return fmt.Errorf("create admin client: %w", err)
	}
	e.kubeconfigPath = filepath.Join(e.workDir, "admin.kubeconfig")
	if err := writeKubeconfig(e.kubeconfigPath, e.config); err != nil {
		return err
	}
	// /readyz passes a moment before the default namespace exists.
	return e.apiserver.waitReady(ctx, func(ctx context.Context) error {
		_, err := e.client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

func (e *Env) startKwok(ctx context.Context, binDir string, port int) error {
	var err error
	e.kwok, err = startProcess(e.workDir, filepath.Join(binDir, "kwok"), "kwok",
		"--kubeconfig="+e.kubeconfigPath,
		"--config="+filepath.Join(binDir, kwokStagesFile),
		"--manage-all-nodes=false",
		"--manage-nodes-with-label-selector=type=kwok",
		"--node-ip=127.0.0.1",
		"--node-port="+strconv.Itoa(port),
		"--server-address=127.0.0.1:"+strconv.Itoa(port),
		"--cidr=10.244.0.0/24",
	)
	if err != nil {
		return err
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        KwokNode,
		Labels:      map[string]string{"type": "kwok", corev1.LabelHostname: KwokNode},
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
	}}
	if _, err := e.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create node %s: %w", KwokNode, err)
	}
	return e.kwok.waitReady(ctx, func(ctx context.Context) error {
		return e.nodeReady(ctx, KwokNode)
	})
}

func (e *Env) startKubelet(ctx context.Context) error {
	cert, err := e.pki.servingTLS("kubelet")
	if err != nil {
		return err
	}
	execDir := filepath.Join(e.workDir, "exec")
	if err := os.Mkdir(execDir, 0o700); err != nil {
		return err
	}
	if e.kubelet, err = newKubeletServer(execDir, cert); err != nil {
		return err
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   ExecNode,
		Labels: map[string]string{"type": "own", corev1.LabelHostname: ExecNode},
	}}
	node, err = e.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create node %s: %w", ExecNode, err)
	}
	now := metav1.Now()
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(e.kubelet.port())}},
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: now, LastTransitionTime: now,
		}},
	}
	if _, err := e.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set status of node %s: %w", ExecNode, err)
	}
	return nil
}

func (e *Env) nodeReady(ctx context.Context, name string) error {
	node, err := e.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("node %s not Ready yet", name)
}

// Stop ends the processes that Start started, newest first, and removes the
// work directory unless RIPOSTE_K8S_KEEP=1.
func (e *Env) Stop() {
	if e.kubelet != nil {
		e.kubelet.close()
	}
	for _, p := range []*process{e.kwok, e.apiserver, e.etcd} {
		if p != nil {
			p.stop(10 * time.Second)
		}
	}
	if os.Getenv(EnvKeepWorkDir) == "1" {
		fmt.Fprintf(os.Stderr, "k8stest: kept work directory %s\n", e.workDir)
		return
	}
	_ = os.RemoveAll(e.workDir)
}

// Config returns a copy of the admin client configuration (group
// system:masters).
func (e *Env) Config() *rest.Config {
	return rest.CopyConfig(e.config)
}

// Client returns an admin clientset.
func (e *Env) Client() kubernetes.Interface {
	return e.client
}

// KubeconfigPath returns the path of a kubeconfig file for the admin user.
func (e *Env) KubeconfigPath() string {
	return e.kubeconfigPath
}

// WorkDir returns the directory holding the logs of the control plane.
func (e *Env) WorkDir() string {
	return e.workDir
}

// ExecRecords returns every command the kubelet server ran, oldest first.
func (e *Env) ExecRecords() []ExecRecord {
	return e.kubelet.execRecords()
}

// SetContainerLogs sets the log text that pods/log returns for a container of
// a pod on ExecNode.
func (e *Env) SetContainerLogs(namespace, pod, container, text string) {
	e.kubelet.setLogs(namespace, pod, container, text)
}

func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["test"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
	}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test", Namespace: "default"}
	kc.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
