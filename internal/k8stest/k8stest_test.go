package k8stest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestKwokPodRuns(t *testing.T) {
	env := Get(t)
	ns := env.Namespace(t)
	pod := env.RunPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}})
	if pod.Status.Phase != corev1.PodRunning {
		t.Fatalf("phase = %s, want Running", pod.Status.Phase)
	}
	if pod.Status.PodIP == "" {
		t.Error("kwok did not assign a pod IP")
	}
}

func TestKwokFinishesGracefulDelete(t *testing.T) {
	env := Get(t)
	ns := env.Namespace(t)
	env.RunPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}})
	ctx := context.Background()
	pods := env.Client().CoreV1().Pods(ns)
	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		_, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod still present %s after delete (last error %v)", waitTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// execInPod runs command through the apiserver's pods/exec, over WebSocket or
// SPDY, and returns stdout, stderr and the error.
func execInPod(t *testing.T, cfg *rest.Config, ns, pod string, command []string, stdin string, websocket bool) (string, string, error) {
	t.Helper()
	client := kubernetes.NewForConfigOrDie(cfg)
	req := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: "app", Command: command, Stdin: stdin != "", Stdout: true, Stderr: true,
		}, scheme.ParameterCodec)
	var exec remotecommand.Executor
	var err error
	if websocket {
		exec, err = remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	} else {
		exec, err = remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	}
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	opts := remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr}
	if stdin != "" {
		opts.Stdin = strings.NewReader(stdin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err = exec.StreamWithContext(ctx, opts)
	return stdout.String(), stderr.String(), err
}

func TestExecThroughAPIServer(t *testing.T) {
	env := Get(t)
	ns := env.Namespace(t)
	env.RunPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "target", Namespace: ns},
		Spec: corev1.PodSpec{NodeName: ExecNode}})

	for _, websocket := range []bool{false, true} {
		name := "spdy"
		if websocket {
			name = "websocket"
		}
		t.Run(name, func(t *testing.T) {
			stdout, stderr, err := execInPod(t, env.Config(), ns, "target",
				[]string{"sh", "-c", "echo out; echo err >&2; exit 3"}, "", websocket)
			var exitErr utilexec.CodeExitError
			if !errors.As(err, &exitErr) {
				t.Fatalf("error = %v, want an exit code error", err)
			}
			if exitErr.Code != 3 {
				t.Errorf("exit code = %d, want 3", exitErr.Code)
			}
			if stdout != "out\n" {
				t.Errorf("stdout = %q, want %q", stdout, "out\n")
			}
			if stderr != "err\n" {
				t.Errorf("stderr = %q, want %q", stderr, "err\n")
			}

			stdout, _, err = execInPod(t, env.Config(), ns, "target", []string{"sh", "-s"}, "echo from-script\n", websocket)
			if err != nil {
				t.Fatalf("script through stdin: %v", err)
			}
			if stdout != "from-script\n" {
				t.Errorf("script stdout = %q, want %q", stdout, "from-script\n")
			}
		})
	}

	records := env.ExecRecords()
	if len(records) == 0 || records[0].Pod != "target" || records[0].Container != "app" {
		t.Errorf("exec records = %+v, want the commands run in target/app", records)
	}
}

func TestContainerLogsThroughAPIServer(t *testing.T) {
	env := Get(t)
	ns := env.Namespace(t)
	env.RunPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "target", Namespace: ns},
		Spec: corev1.PodSpec{NodeName: ExecNode}})
	env.SetContainerLogs(ns, "target", "app", "one\ntwo\nthree\n")

	tail := int64(2)
	data, err := env.Client().CoreV1().Pods(ns).GetLogs("target", &corev1.PodLogOptions{Container: "app", TailLines: &tail}).
		DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "two\nthree\n" {
		t.Errorf("logs = %q, want %q", data, "two\nthree\n")
	}
}

func TestServiceAccountConfigLimitsAccess(t *testing.T) {
	env := Get(t)
	ns := env.Namespace(t)
	role := &rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"},
	}}}
	cfg := env.ServiceAccountConfig(t, ns, "reader", role)
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()

	if _, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list pods with granted rule: %v", err)
	}
	_, err := client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("list secrets without a rule: error = %v, want Forbidden", err)
	}
}
