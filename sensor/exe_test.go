package sensor

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/sensor/event"
)

// copyFile copies an executable.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSensorExecOverlay execs a static busybox from the lower and from the
// upper layer of an overlayfs, like a file of a container image and a file
// dropped into a running container. It checks the layer flags, the
// executable's inode fields, the session and the capabilities.
func TestSensorExecOverlay(t *testing.T) {
	_, events := startSensor(t)
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox not found; install busybox-static: %v", err)
	}

	dir := t.TempDir()
	lower, upper, work, merged := filepath.Join(dir, "lower"), filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{lower, upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// busybox picks its applet from the file name, so both copies are named
	// true, in different directories.
	for _, d := range []string{filepath.Join(lower, "image"), filepath.Join(upper, "dropped")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, busybox, filepath.Join(d, "true"))
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlayfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(merged, 0); err != nil {
			t.Errorf("unmount overlayfs: %v", err)
		}
	})

	for _, tc := range []struct {
		name  string
		upper bool
	}{{"image", false}, {"dropped", true}} {
		path := filepath.Join(merged, tc.name, "true")
		cmd := exec.Command(path)
		if err := cmd.Run(); err != nil {
			t.Fatalf("run %s: %v", path, err)
		}
		pid := uint32(cmd.Process.Pid)
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}

		var got *event.Process
		deadline := time.After(waitTimeout)
		for got == nil {
			select {
			case e := <-execProcs:
				if e.PID == pid && e.ExePath == path {
					got = e
				}
			case <-events:
			case <-deadline:
				t.Fatalf("no exec of %s within %v", path, waitTimeout)
			}
		}
		if !got.ExeOverlay {
			t.Errorf("%s: ExeOverlay = false, want true", tc.name)
		}
		if got.ExeUpperLayer != tc.upper {
			t.Errorf("%s: ExeUpperLayer = %v, want %v", tc.name, got.ExeUpperLayer, tc.upper)
		}
		if got.ExeIno != st.Ino {
			t.Errorf("%s: ExeIno = %d, want %d", tc.name, got.ExeIno, st.Ino)
		}
		if want := time.Unix(st.Mtim.Unix()); !got.ExeMtime.Equal(want) {
			t.Errorf("%s: ExeMtime = %v, want %v", tc.name, got.ExeMtime, want)
		}
		if got.ExeMode&0o777 != 0o755 || !got.ExeWritable() {
			t.Errorf("%s: ExeMode = %#o, writable %v; want 0755 and writable by root", tc.name, got.ExeMode, got.ExeWritable())
		}
		// The child inherits the session and process group of the test. The
		// session may be 0 when the test runs under a parent that never
		// called setsid, as a container's first process may.
		wantSID, err := unix.Getsid(0)
		if err != nil {
			t.Fatal(err)
		}
		if got.SID != uint32(wantSID) || got.PGID != uint32(unix.Getpgrp()) {
			t.Errorf("%s: SID %d PGID %d, want %d and %d", tc.name, got.SID, got.PGID, wantSID, unix.Getpgrp())
		}
		if got.CapEffective&(1<<21) == 0 {
			t.Errorf("%s: CapEffective %#x lacks CAP_SYS_ADMIN of a root process", tc.name, got.CapEffective)
		}
	}
}
