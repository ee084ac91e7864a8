package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/viper"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/riposte-sec/riposte/internal/k8stest"
	"github.com/riposte-sec/riposte/transport"
)

// podReaderRole is what the sensor's pod watcher needs: reading pods.
var podReaderRole = &rbacv1.ClusterRole{
	Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""},
		Resources: []string{"pods"},
		Verbs:     []string{"get", "list", "watch"},
	}},
}

// TestSensorAlertCarriesPodMetadata runs `riposte sensor` with a kubeconfig
// of a service account that may only read pods, and checks that the alert
// of a shell in a container of a kwok pod names the pod and the container.
func TestSensorAlertCarriesPodMetadata(t *testing.T) {
	requireRoot(t)
	env := k8stest.Get(t)
	ns := env.Namespace(t)
	pod, containerID := runKwokPod(t, env, ns, "api-0", map[string]string{"app": "api"})
	kubeconfig := k8stest.WriteKubeconfig(t, env.ServiceAccountConfig(t, ns, "sensor", podReaderRole))

	server, err := transport.StartServer(transport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	v := viper.New()
	v.Set("nats.url", server.ClientURL())
	v.Set("nats.replicas", 1)
	v.Set("rules.defaults", true)
	v.Set("output", "none")
	v.Set("kubeconfig", kubeconfig)
	v.Set("node-name", k8stest.KwokNode)
	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runSensor(ctx, v, testLogger()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sensor: %v", err)
		}
	}()

	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: server.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream := waitForStream(ctx, t, conn.JS, transport.AlertsStream)
	consumer, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}

	// The sensor may still be attaching and its pod watcher syncing: run the
	// shell until an alert names the pod.
	script := shellInPodScript(t, string(pod.UID), containerID)
	var last map[string]any
	deadline := time.Now().Add(e2eTimeout)
	for time.Now().Before(deadline) {
		if out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("run shell in container cgroup: %v: %s", err, out)
		}
		msg, err := consumer.Next(jetstream.FetchMaxWait(time.Second))
		for err == nil {
			var a struct {
				Rule         string         `json:"rule"`
				OutputFields map[string]any `json:"output_fields"`
			}
			if json.Unmarshal(msg.Data(), &a) == nil && a.Rule == "Shell spawned in a container" &&
				a.OutputFields["container.id"] == containerID[:12] {
				last = a.OutputFields
				if a.OutputFields["k8s.pod.name"] != nil {
					checkPodFields(t, a.OutputFields, ns, pod.Name)
					return
				}
			}
			msg, err = consumer.Next(jetstream.FetchMaxWait(200 * time.Millisecond))
		}
	}
	t.Fatalf("no alert naming pod %s/%s within %v; last alert for the container: %v", ns, pod.Name, e2eTimeout, last)
}

func checkPodFields(t *testing.T, fields map[string]any, ns, pod string) {
	t.Helper()
	want := map[string]string{
		"k8s.ns.name":                ns,
		"k8s.pod.name":               pod,
		"container.name":             "app",
		"container.image.repository": "registry.example/shop/web",
	}
	for field, value := range want {
		if got := fields[field]; got != value {
			t.Errorf("alert %s = %v, want %q", field, got, value)
		}
	}
}
