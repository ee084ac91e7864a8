package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/sensor/k8smeta"
)

func TestNodeNameDefaults(t *testing.T) {
	t.Setenv(nodeNameEnv, "")
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if got := nodeName(""); got != host {
		t.Errorf("nodeName(\"\") without $%s = %q, want the host name %q", nodeNameEnv, got, host)
	}

	t.Setenv(nodeNameEnv, "worker-2")
	if got := nodeName(""); got != "worker-2" {
		t.Errorf("nodeName(\"\") = %q, want $%s worker-2", got, nodeNameEnv)
	}
	if got := nodeName("worker-3"); got != "worker-3" {
		t.Errorf("nodeName(worker-3) = %q, want the flag's value", got)
	}
}

func TestConnectClusterWithoutCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := clusterConfig(""); !errors.Is(err, k8smeta.ErrNoCluster) {
		t.Errorf("clusterConfig(\"\") error = %v, want ErrNoCluster", err)
	}

	kube, err := connectCluster("", "node-1", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("connectCluster without a cluster: %v", err)
	}
	if kube != nil {
		t.Errorf("connectCluster without a cluster = %+v, want nil", kube)
	}
	if kube.actionClient() != nil {
		t.Error("actionClient of a nil cluster is not nil")
	}
}

func TestConnectClusterMissingKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := connectCluster(path, "node-1", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		t.Fatal("connectCluster with a missing kubeconfig succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the kubeconfig %s", err, path)
	}
}

func TestRunRegistryWithoutCluster(t *testing.T) {
	reg, err := runRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"process:kill", "kubernetes:label", "kubernetes:isolate"} {
		if _, err := reg.Get(name); err != nil {
			t.Errorf("registry lacks %s: %v", name, err)
		}
	}
}
