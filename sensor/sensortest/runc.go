package sensortest

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Container is a runc container run by RunContainer.
type Container struct {
	// ID is the 64-hex-digit container id, also the last component of its
	// cgroup path.
	ID string
	// Output is the combined output of the container's process.
	Output []byte
}

// RunContainer runs script with /bin/sh in a throwaway runc container and
// waits for it to exit. The root file system is an overlayfs. Its lower
// layer contains a static busybox (/bin/busybox, with sh, id, cp, cat,
// sleep and true links) and an /etc/passwd naming uid 0 "containerroot".
// A file the script writes lands in the upper layer. The cgroup path is laid
// out as a kubelet with the cgroupfs driver does,
// kubepods/besteffort/pod<uid>/<id>, under a top-level directory of the
// test's own so that parallel tests never share a parent. Everything is
// removed when the test ends. It fails the test when runc or busybox is
// missing.
func RunContainer(t testing.TB, script string) Container {
	t.Helper()
	RequireRoot(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("runc not found; install the runc package: %v", err)
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox not found; install busybox-static: %v", err)
	}

	dir := t.TempDir()
	lower, upper, work, rootfs, bundle := filepath.Join(dir, "lower"), filepath.Join(dir, "upper"),
		filepath.Join(dir, "work"), filepath.Join(dir, "rootfs"), filepath.Join(dir, "bundle")
	for _, d := range []string{upper, work, rootfs, bundle, filepath.Join(lower, "bin"), filepath.Join(lower, "etc"),
		filepath.Join(lower, "proc"), filepath.Join(lower, "dev"), filepath.Join(lower, "sys"), filepath.Join(lower, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lower, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "id", "cp", "cat", "sleep", "true"} {
		if err := os.Symlink("busybox", filepath.Join(lower, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	passwd := "containerroot:x:0:0:root:/root:/bin/sh\n"
	if err := os.WriteFile(filepath.Join(lower, "etc", "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", rootfs, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlayfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(rootfs, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount container root: %v", err)
		}
	})

	id := RandomHex(t, 32)
	top := "riposte-test-" + RandomHex(t, 4)
	podDir := filepath.Join(top, "kubepods", "besteffort", "pod"+RandomHex(t, 8))
	t.Cleanup(func() { removeCgroupTree(podDir) })

	if out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v: %s", err, out)
	}
	specPath := filepath.Join(bundle, "config.json")
	var spec map[string]any
	raw, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("parse runc spec: %v", err)
	}
	spec["root"] = map[string]any{"path": rootfs, "readonly": false}
	process := spec["process"].(map[string]any)
	process["terminal"] = false
	process["args"] = []string{"/bin/sh", "-c", script}
	linux := spec["linux"].(map[string]any)
	linux["cgroupsPath"] = "/" + filepath.Join(podDir, id)
	raw, err = json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	name := "riposte-test-" + id[:12]
	out, err := exec.Command(runc, "run", "--bundle", bundle, name).CombinedOutput()
	exec.Command(runc, "delete", "--force", name).Run()
	if err != nil {
		t.Fatalf("runc run: %v: %s", err, out)
	}
	return Container{ID: id, Output: out}
}

// removeCgroupTree removes, in every cgroup hierarchy, the directory dir
// and its parents up to the top level, deepest first. runc has already
// removed the container's own cgroup.
func removeCgroupTree(dir string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, r := range roots {
		for d := dir; d != "."; d = filepath.Dir(d) {
			if err := os.Remove(filepath.Join(r, d)); err != nil && !errors.Is(err, os.ErrNotExist) {
				break
			}
		}
	}
}
