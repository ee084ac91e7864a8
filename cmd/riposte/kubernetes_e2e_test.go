package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/retry"

	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/internal/k8stest"
)

// compromisedLabel is the label the default isolate_container_shell policy
// puts on the pod of a shell.
const compromisedLabel = "riposte.dev/compromised"

// runKwokPod runs a pod with the labels on the kwok node and, once kwok
// reports it Running, writes the id of a containerd container into its
// first container status, as a kubelet would. It returns the pod and the
// bare 64-digit container id.
func runKwokPod(t testing.TB, env *k8stest.Env, namespace, name string, podLabels map[string]string) (*corev1.Pod, string) {
	t.Helper()
	pod := env.RunPod(t, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: podLabels},
		Spec: corev1.PodSpec{
			NodeName:   k8stest.KwokNode,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/shop/web:1.2"}},
		},
	})
	containerID := randomHex(t, 32)

	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	pods := env.Client().CoreV1().Pods(namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(current.Status.ContainerStatuses) == 0 {
			current.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "registry.example/shop/web:1.2"}}
		}
		current.Status.ContainerStatuses[0].ContainerID = "containerd://" + containerID
		pod, err = pods.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("set container id of pod %s/%s: %v", namespace, name, err)
	}
	return pod, containerID
}

// waitPodMetadata waits until the pipeline's pod watcher maps containerID
// to a pod.
func waitPodMetadata(t testing.TB, p *hostPipeline, containerID string) {
	t.Helper()
	if p.sensor.pods == nil {
		t.Fatal("pipeline runs without a pod watcher although a kubeconfig was given")
	}
	deadline := time.Now().Add(e2eTimeout)
	for {
		if _, ok := p.sensor.pods.Container(containerID); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod watcher did not map container %s within %v", containerID, e2eTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// shellInPodScript creates the kubelet-like cgroups of the container and
// returns a script for /bin/sh -c that runs `sh -c id` in them. The outer
// shell moves itself into the cgroups, then replaces itself with the shell
// under test, whose parent is the test binary.
func shellInPodScript(t testing.TB, podUID, containerID string) string {
	t.Helper()
	var join strings.Builder
	for _, dir := range makePodCgroups(t, podUID, containerID) {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs && ", dir)
	}
	return join.String() + "exec /bin/sh -c id"
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// decisionRecord is the part of a decision line that the tests read.
type decisionRecord struct {
	AlertUUID string `json:"alert_uuid"`
	DryRun    bool   `json:"dry_run"`
	Actions   []struct {
		Actionner string `json:"actionner"`
		Target    struct {
			Kind      string `json:"kind"`
			PID       int    `json:"pid"`
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"target"`
		Result struct {
			Outcome string `json:"outcome"`
			Message string `json:"message"`
		} `json:"result"`
	} `json:"actions"`
}

// TestRunIsolatesPodOfShell runs the pipeline of `riposte run` against a
// real kube-apiserver. A shell starts in the cgroup of a container that pod
// status on the kwok node lists, so the alert carries the pod's metadata.
// The default policies then label the pod and isolate it with a
// NetworkPolicy that selects it and not its sibling with the same labels.
func TestRunIsolatesPodOfShell(t *testing.T) {
	requireRoot(t)
	env := k8stest.Get(t)
	client := env.Client()
	ns := env.Namespace(t)
	appLabels := map[string]string{"app": "web", "tier": "frontend"}
	pod, containerID := runKwokPod(t, env, ns, "web-0", appLabels)
	sibling, _ := runKwokPod(t, env, ns, "web-1", appLabels)

	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	out, lines := newLineWriter(t)
	p, err := startHost(ctx, hostConfig{
		DefaultRules: true,
		Output:       "json",
		Kubeconfig:   env.KubeconfigPath(),
		NodeName:     k8stest.KwokNode,
		// The pipeline acts on this host too: keep process:kill from
		// killing other programs that the default policies match, such as
		// test binaries run from /tmp.
		DryRunActionners: []string{"process:kill"},
	}, out, testLogger())
	if err != nil {
		t.Fatalf("start pipeline: %v", err)
	}
	defer p.Close()
	waitPodMetadata(t, p, containerID)

	script := shellInPodScript(t, string(pod.UID), containerID)
	if output, err := exec.Command("/bin/sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("run shell in container cgroup: %v: %s", err, output)
	}

	var alertUUID string
	deadline := time.After(e2eTimeout)
	for alertUUID == "" {
		select {
		case line := <-lines:
			var a struct {
				UUID         string         `json:"uuid"`
				Rule         string         `json:"rule"`
				OutputFields map[string]any `json:"output_fields"`
			}
			if json.Unmarshal([]byte(line), &a) != nil || a.Rule != "Shell spawned in a container" {
				continue
			}
			if a.OutputFields["container.id"] != containerID[:12] {
				continue
			}
			want := map[string]string{
				"k8s.ns.name":                ns,
				"k8s.pod.name":               pod.Name,
				"container.name":             "app",
				"container.image.repository": "registry.example/shop/web",
			}
			for field, value := range want {
				if got := a.OutputFields[field]; got != value {
					t.Errorf("alert %s = %v, want %q", field, got, value)
				}
			}
			alertUUID = a.UUID
		case <-deadline:
			t.Fatalf("no alert for the shell in pod %s/%s within %v", ns, pod.Name, e2eTimeout)
		}
	}

	var d decisionRecord
	deadline = time.After(e2eTimeout)
	for d.AlertUUID == "" {
		select {
		case line := <-lines:
			var candidate decisionRecord
			if json.Unmarshal([]byte(line), &candidate) == nil && candidate.AlertUUID == alertUUID {
				d = candidate
			}
		case <-deadline:
			t.Fatalf("no decision for alert %s within %v", alertUUID, e2eTimeout)
		}
	}
	if d.DryRun {
		t.Error("decision is a dry run, want actions to run")
	}
	outcomes := map[string]string{}
	for _, a := range d.Actions {
		outcomes[a.Actionner] = a.Result.Outcome
		if !strings.HasPrefix(a.Actionner, "kubernetes:") {
			continue
		}
		if a.Target.Namespace != ns || a.Target.Name != pod.Name {
			t.Errorf("%s target = %s/%s, want %s/%s", a.Actionner, a.Target.Namespace, a.Target.Name, ns, pod.Name)
		}
		if a.Result.Outcome != "succeeded" {
			t.Errorf("%s outcome = %s (%s), want succeeded", a.Actionner, a.Result.Outcome, a.Result.Message)
		}
	}
	for _, name := range []string{kubernetes.NameLabel, kubernetes.NameIsolate} {
		if _, ok := outcomes[name]; !ok {
			t.Errorf("decision has no %s action: %+v", name, d.Actions)
		}
	}

	got, err := client.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod: %v", err)
	}
	if v := got.Labels[compromisedLabel]; v != "true" {
		t.Errorf("pod label %s = %q, want true", compromisedLabel, v)
	}
	policy, err := client.NetworkingV1().NetworkPolicies(ns).Get(ctx, kubernetes.IsolationPolicyName(pod.Name), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get isolation NetworkPolicy: %v", err)
	}
	selector, err := metav1.LabelSelectorAsSelector(&policy.Spec.PodSelector)
	if err != nil {
		t.Fatalf("NetworkPolicy pod selector: %v", err)
	}
	if !selector.Matches(labels.Set(got.Labels)) {
		t.Errorf("NetworkPolicy selector %s does not select pod %s with labels %v", selector, pod.Name, got.Labels)
	}
	gotSibling, err := client.CoreV1().Pods(ns).Get(ctx, sibling.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get sibling pod: %v", err)
	}
	if selector.Matches(labels.Set(gotSibling.Labels)) {
		t.Errorf("NetworkPolicy selector %s also selects sibling pod %s with labels %v", selector, sibling.Name, gotSibling.Labels)
	}
	if _, ok := gotSibling.Labels[compromisedLabel]; ok {
		t.Errorf("sibling pod %s got label %s", sibling.Name, compromisedLabel)
	}
	types := map[string]bool{}
	for _, pt := range policy.Spec.PolicyTypes {
		types[string(pt)] = true
	}
	if !types["Ingress"] || !types["Egress"] {
		t.Errorf("NetworkPolicy types = %v, want Ingress and Egress", policy.Spec.PolicyTypes)
	}
	if len(policy.Spec.Ingress) != 0 || len(policy.Spec.Egress) != 0 {
		t.Errorf("NetworkPolicy allows traffic: ingress %v, egress %v; want none", policy.Spec.Ingress, policy.Spec.Egress)
	}
}
