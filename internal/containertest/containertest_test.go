package containertest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var hex64 = regexp.MustCompile(`[0-9a-f]{64}`)

func TestContainerSeesRootfs(t *testing.T) {
	c := Start(t, Options{Files: map[string]File{"/etc/motd": {Data: []byte("from the image layer\n")}}})

	out, err := c.Exec(t, "cat", "/etc/motd")
	if err != nil {
		t.Fatalf("exec cat: %v: %s", err, out)
	}
	if out != "from the image layer\n" {
		t.Errorf("cat /etc/motd = %q, want the file given in Options.Files", out)
	}

	out, err = c.Exec(t, "id", "-un")
	if err != nil {
		t.Fatalf("exec id: %v: %s", err, out)
	}
	if strings.TrimSpace(out) != "root" {
		t.Errorf("id -un = %q, want root", out)
	}

	out, err = c.Exec(t, "grep", "^appuser:", "/etc/passwd")
	if err != nil {
		t.Errorf("the container's /etc/passwd has no appuser: %v: %s", err, out)
	}

	out, err = c.Exec(t, "hostname")
	if err != nil || strings.TrimSpace(out) != "riposte-test" {
		t.Errorf("hostname = %q, %v; want riposte-test", out, err)
	}
}

func TestContainerUser(t *testing.T) {
	c := Start(t, Options{UID: 1000, GID: 1000})
	out, err := c.Exec(t, "id", "-un")
	if err != nil {
		t.Fatalf("exec id: %v: %s", err, out)
	}
	if strings.TrimSpace(out) != "appuser" {
		t.Errorf("id -un = %q, want appuser", out)
	}
}

func TestContainerCgroupPaths(t *testing.T) {
	const uid = "0f3b1c9e-7a2d-4c1e-9b8f-123456789abc"
	tests := []struct {
		name   string
		layout Layout
		want   string
	}{
		{"cgroupfs besteffort", Layout{PodUID: uid}, "kubepods/besteffort/pod" + uid + "/"},
		{"cgroupfs guaranteed", Layout{PodUID: uid, QoS: Guaranteed}, "kubepods/pod" + uid + "/"},
		{"systemd burstable", Layout{Driver: Systemd, QoS: Burstable, PodUID: uid},
			"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice/cri-containerd-"},
		{"systemd crio", Layout{Driver: Systemd, Runtime: CRIO, PodUID: uid},
			"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice/crio-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Start(t, Options{Layout: tt.layout})
			if !hex64.MatchString(c.ID) || len(c.ID) != 64 {
				t.Fatalf("container id %q is not 64 hex digits", c.ID)
			}
			if !strings.HasPrefix(c.CgroupPath, tt.want) || !strings.Contains(c.CgroupPath, c.ID) {
				t.Fatalf("CgroupPath = %q, want prefix %q and the id %s", c.CgroupPath, tt.want, c.ID)
			}

			detached := c.ExecDetached(t, "sleep", "600")
			for _, pid := range []int{c.InitPID, detached} {
				paths, err := ProcCgroups(pid)
				if err != nil {
					t.Fatal(err)
				}
				if len(paths) == 0 {
					t.Fatalf("pid %d has no cgroups", pid)
				}
				for hierarchy, path := range paths {
					if !strings.HasSuffix(path, "/"+c.CgroupPath) {
						t.Errorf("pid %d cgroup in hierarchy %q = %q, want suffix /%s", pid, hierarchy, path, c.CgroupPath)
					}
				}
			}

			// Without a cgroup namespace, /proc/self/cgroup in the container shows the same path.
			out, err := c.Exec(t, "cat", "/proc/self/cgroup")
			if err != nil {
				t.Fatalf("exec cat: %v: %s", err, out)
			}
			if !strings.Contains(out, c.CgroupPath) {
				t.Errorf("/proc/self/cgroup in the container = %q, want it to contain %s", out, c.CgroupPath)
			}
		})
	}
}

func TestContainerUpperLayer(t *testing.T) {
	c := Start(t, Options{})

	// Named after an applet, because busybox picks the applet by its name.
	out, err := c.Exec(t, "cp", "/bin/busybox", "/tmp/sleep")
	if err != nil {
		t.Fatalf("exec cp: %v: %s", err, out)
	}
	pid := c.ExecDetached(t, "/tmp/sleep", "600")

	exe, err := os.Readlink("/proc/" + itoa(pid) + "/exe")
	if err != nil {
		t.Fatalf("read exe of pid %d: %v", pid, err)
	}
	if exe != "/tmp/sleep" {
		t.Errorf("exe of pid %d = %q, want /tmp/sleep", pid, exe)
	}
	if _, err := os.Stat(filepath.Join(c.UpperDir, "tmp", "sleep")); err != nil {
		t.Errorf("dropped binary not in the upper layer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.LowerDir, "tmp", "sleep")); err == nil {
		t.Errorf("dropped binary found in the image layer")
	}
	if _, err := os.Stat(filepath.Join(c.UpperDir, "bin", "busybox")); err == nil {
		t.Errorf("/bin/busybox copied up to the upper layer, want it in the image layer only")
	}

	// A file written from the host also lands in the upper layer.
	c.WriteFile(t, "/tmp/from-host.sh", File{Data: []byte("#!/bin/sh\necho ok\n"), Mode: 0o755})
	out, err = c.Exec(t, "/tmp/from-host.sh")
	if err != nil || out != "ok\n" {
		t.Errorf("run /tmp/from-host.sh = %q, %v; want ok", out, err)
	}
}

func TestContainerCleanup(t *testing.T) {
	var c *Container
	t.Run("run", func(t *testing.T) {
		c = Start(t, Options{})
	})
	if c == nil {
		t.Fatal("container did not start")
	}

	if !processGone(c.InitPID) {
		t.Errorf("init pid %d still exists after cleanup", c.InitPID)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(mounts, []byte(c.Rootfs)) {
		t.Errorf("overlay %s still mounted after cleanup", c.Rootfs)
	}
	hs, err := hierarchies()
	if err != nil {
		t.Fatal(err)
	}
	podDir := filepath.Dir(c.CgroupPath)
	for _, h := range hs {
		if _, err := os.Stat(filepath.Join(h.ownDir, podDir)); err == nil {
			t.Errorf("pod cgroup %s still exists after cleanup", filepath.Join(h.ownDir, podDir))
		}
	}
}

func TestCgroupStartsHostProcess(t *testing.T) {
	cg := NewCgroup(t, Layout{Driver: Systemd})

	var out bytes.Buffer
	cmd := exec.Command("cat", "/proc/self/cgroup")
	cmd.Stdout = &out
	cg.Start(t, cmd)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cat /proc/self/cgroup: %v", err)
	}

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(cg.Dirs) {
		t.Errorf("process is in %d hierarchies, want %d: %q", len(lines), len(cg.Dirs), lines)
	}
	for _, line := range lines {
		if !strings.HasSuffix(line, "/"+cg.Path) {
			t.Errorf("cgroup line %q, want suffix /%s", line, cg.Path)
		}
	}
}

func TestCgroupCleanupKillsProcesses(t *testing.T) {
	var cg *Cgroup
	var pid int
	t.Run("run", func(t *testing.T) {
		cg = NewCgroup(t, Layout{})
		cmd := exec.Command("sleep", "600")
		cg.Start(t, cmd)
		pid = cmd.Process.Pid

		pids, err := cg.Pids()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) != 1 || pids[0] != pid {
			t.Errorf("Pids = %v, want [%d]", pids, pid)
		}
	})
	if cg == nil {
		t.Fatal("cgroup was not created")
	}

	if !processGone(pid) {
		t.Errorf("pid %d still exists after cleanup", pid)
	}
	for _, dir := range cg.Dirs {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s still exists after cleanup", dir)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// processGone waits until pid no longer exists. A killed process whose
// parent is init may stay a zombie for a moment.
func processGone(pid int) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
