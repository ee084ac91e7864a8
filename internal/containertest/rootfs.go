package containertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// File is a file to place in a container's image layer.
type File struct {
	Data []byte
	Mode os.FileMode
}

// passwd and group give the rootfs its own users, so that a test can tell
// a name resolved in the container's root from one resolved on the host.
const (
	passwd = "root:x:0:0:root:/root:/bin/sh\n" +
		"appuser:x:1000:1000:container user:/home/appuser:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group = "root:x:0:\nappgroup:x:1000:\nnogroup:x:65534:\n"
)

// buildRootfs writes a busybox rootfs into dir: /bin/busybox, a symlink in
// /bin for every applet, /etc/passwd and /etc/group, the mount points that
// runc needs, and the extra files.
func buildRootfs(t testing.TB, dir string, files map[string]File) {
	t.Helper()
	busybox, applets := requireBusybox(t)

	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/appuser"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatalf("create rootfs directory %s: %v", d, err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		t.Fatalf("set mode of rootfs /tmp: %v", err)
	}

	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatalf("read busybox %s: %v", busybox, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatalf("copy busybox into rootfs: %v", err)
	}
	for _, applet := range applets {
		if applet == "busybox" || filepath.Base(applet) != applet {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil {
			t.Fatalf("link applet %s in rootfs: %v", applet, err)
		}
	}

	base := map[string]File{
		"/etc/passwd":   {Data: []byte(passwd), Mode: 0o644},
		"/etc/group":    {Data: []byte(group), Mode: 0o644},
		"/etc/hostname": {Data: []byte("riposte-test\n"), Mode: 0o644},
	}
	for _, set := range []map[string]File{base, files} {
		for path, f := range set {
			writeFile(t, dir, path, f)
		}
	}
}

// writeFile writes f at path inside root, creating parent directories.
func writeFile(t testing.TB, root, path string, f File) {
	t.Helper()
	if !filepath.IsAbs(path) {
		t.Fatalf("invalid container path %q: must be absolute", path)
	}
	full := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatalf("create parent of %s: %v", path, err)
	}
	mode := f.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := os.WriteFile(full, f.Data, mode); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	// WriteFile applies the umask; set the mode as asked.
	if err := os.Chmod(full, mode); err != nil {
		t.Fatalf("set mode of %s: %v", path, err)
	}
}

// overlay is an overlayfs mount: the image layer below, the container's
// writable layer above.
type overlay struct {
	lower, upper, work, merged string
}

// mountOverlay mounts an overlayfs with lower as its only lower layer under
// dir and unmounts it in t.Cleanup.
func mountOverlay(t testing.TB, dir, lower string) *overlay {
	t.Helper()
	o := &overlay{
		lower:  lower,
		upper:  filepath.Join(dir, "upper"),
		work:   filepath.Join(dir, "work"),
		merged: filepath.Join(dir, "merged"),
	}
	for _, d := range []string{o.upper, o.work, o.merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("create overlay directory: %v", err)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", o.lower, o.upper, o.work)
	if err := unix.Mount("overlay", o.merged, "overlay", 0, opts); err != nil {
		skipOrFail(t, "mount overlayfs on %s: %v", o.merged, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(o.merged, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount overlay %s: %v", o.merged, err)
		}
	})
	return o
}
