package k8stest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
)

// waitTimeout bounds the waits of the helpers below. It is generous because
// they wait on other processes of a shared machine.
const waitTimeout = 30 * time.Second

var invalidNameChars = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a namespace named after the test. Namespaces are not
// deleted, because without kube-controller-manager a deleted namespace stays
// Terminating; the control plane and its data go away with the test binary.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(invalidNameChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 50 {
		base = strings.TrimRight(base[:50], "-")
	}
	name := base + "-" + randomSuffix()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := e.client.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// randomContainerID returns 64 hex digits, the form of containerd and
// CRI-O container IDs.
func randomContainerID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RunPod creates the pod and waits until it is Running. A pod without
// spec.nodeName is bound to KwokNode, where kwok runs it. A pod bound to
// ExecNode is marked Running by RunPod itself, with a random 64-digit
// containerd ID per container in its status. The pod's containers default
// to one container "app" with image "busybox".
func (e *Env) RunPod(t testing.TB, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if pod.Spec.NodeName == "" {
		pod.Spec.NodeName = KwokNode
	}
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = []corev1.Container{{Name: "app", Image: "busybox"}}
	}
	created, err := e.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	if created.Spec.NodeName == ExecNode {
		created, err = e.markRunning(ctx, created)
		if err != nil {
			t.Fatalf("mark pod %s/%s Running: %v", pod.Namespace, pod.Name, err)
		}
		return created
	}
	err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		created, err = e.client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return created.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("wait for pod %s/%s to run on %s: %v (phase %s)", pod.Namespace, pod.Name, KwokNode, err, created.Status.Phase)
	}
	return created
}

// markRunning writes the status a kubelet would write for a started pod.
func (e *Env) markRunning(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	now := metav1.Now()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.HostIP = "127.0.0.1"
	pod.Status.PodIP = "10.244.1.1"
	pod.Status.StartTime = &now
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: new(true),
			ContainerID: "containerd://" + randomContainerID(),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	return e.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
}

// ServiceAccountConfig creates a service account in namespace and binds it
// to role, which it creates under a name unique to the test. It returns a
// client configuration that authenticates as the account with a token from
// the TokenRequest API.
func (e *Env) ServiceAccountConfig(t testing.TB, namespace, name string, role *rbacv1.ClusterRole) *rest.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if _, err := e.client.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service account %s/%s: %v", namespace, name, err)
	}

	role = role.DeepCopy()
	role.Name = namespace + "-" + name
	role.ResourceVersion = ""
	if _, err := e.client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create cluster role %s: %v", role.Name, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: namespace}},
	}
	if _, err := e.client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create cluster role binding %s: %v", binding.Name, err)
	}

	expiry := int64(3600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}
	tr, err := e.client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, tr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("request token for service account %s/%s: %v", namespace, name, err)
	}
	return &rest.Config{
		Host:            e.config.Host,
		BearerToken:     tr.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: e.pki.caPEM},
		QPS:             e.config.QPS,
		Burst:           e.config.Burst,
	}
}

// WriteKubeconfig writes cfg as a kubeconfig file in the test's temporary
// directory and returns its path.
func WriteKubeconfig(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	path := fmt.Sprintf("%s/kubeconfig", t.TempDir())
	if err := writeKubeconfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// AddKwokNode registers another node that kwok manages and waits until it is
// Ready. Tests that drain or cordon a node use their own, so that other tests'
// pods stay where they are.
func (e *Env) AddKwokNode(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        name,
		Labels:      map[string]string{"type": "kwok", corev1.LabelHostname: name},
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
	}}
	if _, err := e.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return e.nodeReady(ctx, name) == nil, nil
	})
	if err != nil {
		t.Fatalf("wait for node %s to be Ready: %v", name, err)
	}
}
