package k8stest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Versions of the binaries that build-binaries.sh builds. The default binary
// directory is named after them, so changing a version never reuses old binaries.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.3"
	KwokVersion       = "v0.8.0"
)

// EnvBinDir names the environment variable that overrides the directory of the
// control plane binaries.
const EnvBinDir = "RIPOSTE_K8S_BIN"

var requiredBinaries = []string{"etcd", "kube-apiserver", "kwok"}

// kwokStagesFile is the kwok configuration that build-binaries.sh writes next
// to the binaries: the node and pod stages of the kwok module.
const kwokStagesFile = "kwok-stages.yaml"

// BinDir returns the directory holding the control plane binaries: the value
// of RIPOSTE_K8S_BIN, or the directory that build-binaries.sh fills by default,
// ${XDG_CACHE_HOME:-$HOME/.cache}/riposte/k8s-bin/k8s-<version>-etcd-<version>-kwok-<version>.
func BinDir() string {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		return dir
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "riposte", "k8s-bin",
		fmt.Sprintf("k8s-%s-etcd-%s-kwok-%s", KubernetesVersion, EtcdVersion, KwokVersion))
}

// findBinaries checks that every required binary exists in dir and is
// executable.
func findBinaries(dir string) error {
	if dir == "" {
		return fmt.Errorf("control plane binaries: no directory: set %s", EnvBinDir)
	}
	if _, err := os.Stat(filepath.Join(dir, kwokStagesFile)); err != nil {
		return fmt.Errorf("kwok stages %s not found in %s: run internal/k8stest/build-binaries.sh or set %s",
			kwokStagesFile, dir, EnvBinDir)
	}
	for _, name := range requiredBinaries {
		path := filepath.Join(dir, name)
		if _, err := exec.LookPath(path); err != nil {
			return fmt.Errorf("control plane binary %s not found or not executable in %s: run internal/k8stest/build-binaries.sh or set %s",
				name, dir, EnvBinDir)
		}
	}
	return nil
}
