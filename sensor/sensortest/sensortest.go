// Package sensortest provides helpers for tests that run the sensor on the
// local host: a root check that fails under CI, and kubelet-like cgroups to
// run processes "in a container" without a container runtime.
package sensortest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireRoot skips the test when not running as root, or fails it when
// the environment variable CI is "true", where every test must run.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("test needs root to load BPF programs; run it as root in CI")
	}
	t.Skip("test needs root to load BPF programs")
}

// RandomHex returns n random bytes as 2n lowercase hex digits.
func RandomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Hierarchies returns the cgroup hierarchies a process can be moved into to
// look like a container: the v1 pids hierarchy when mounted, and the v2
// hierarchy (/sys/fs/cgroup/unified on a hybrid host, /sys/fs/cgroup on a
// pure v2 host). It fails the test when there is none.
func Hierarchies(t testing.TB) []string {
	t.Helper()
	var roots []string
	if isDir("/sys/fs/cgroup/pids") {
		roots = append(roots, "/sys/fs/cgroup/pids")
	}
	switch {
	case isFile("/sys/fs/cgroup/unified/cgroup.procs"):
		roots = append(roots, "/sys/fs/cgroup/unified")
	case isFile("/sys/fs/cgroup/cgroup.controllers"):
		roots = append(roots, "/sys/fs/cgroup")
	}
	if len(roots) == 0 {
		t.Fatal("no cgroup v1 pids hierarchy and no cgroup v2 hierarchy under /sys/fs/cgroup")
	}
	return roots
}

// KubeletCgroup creates under the hierarchy mounted at root the cgroup that
// a kubelet with the systemd driver makes for a containerd container with
// the given 64-hex-digit id, in a BestEffort pod with a random UID:
//
//	kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
//
// It returns the container cgroup's directory and removes the cgroups it
// created when the test ends. The container cgroup must be empty by then;
// a parent that another test still uses stays.
func KubeletCgroup(t testing.TB, root, id string) string {
	t.Helper()
	return KubeletPodCgroup(t, root, RandomHex(t, 4)+"-1b2c-4d5e-8f90-"+RandomHex(t, 6), id)
}

// KubeletPodCgroup is KubeletCgroup for the pod with the given UID, such as
// the UID the API server assigned to a pod. The path spells the UID with
// underscores in place of dashes, as the systemd driver does.
func KubeletPodCgroup(t testing.TB, root, podUID, id string) string {
	t.Helper()
	parts := []string{
		"kubepods.slice",
		"kubepods-besteffort.slice",
		"kubepods-besteffort-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice",
		"cri-containerd-" + id + ".scope",
	}
	var created []string
	dir := root
	for _, p := range parts {
		dir = filepath.Join(dir, p)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			created = append(created, dir)
		} else if !errors.Is(err, os.ErrExist) {
			t.Fatalf("create cgroup %s: %v", dir, err)
		}
	}
	t.Cleanup(func() {
		for i := len(created) - 1; i >= 0; i-- {
			err := os.Remove(created[i])
			// A parent may hold another test's cgroup by now (packages
			// run in parallel), so only the container cgroup must go.
			if err != nil && created[i] == dir {
				t.Errorf("remove cgroup: %v", err)
			}
		}
	})
	return dir
}

// CommandInCgroup returns a command that moves its shell into the cgroup
// directory dir and then execs script there, so every process the script
// starts belongs to that cgroup from its first instruction.
func CommandInCgroup(dir, script string) *exec.Cmd {
	return exec.Command("/bin/sh", "-c", fmt.Sprintf("echo $$ > %s/cgroup.procs && exec /bin/sh -c '%s'", dir, script))
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
