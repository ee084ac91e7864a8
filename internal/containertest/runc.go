package containertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// commandTimeout bounds each runc command. It is generous because tests
// share the machine's cores.
const commandTimeout = 60 * time.Second

// Options configures a container started by [Start].
type Options struct {
	// Layout chooses the kubelet-like cgroup path, pod UID and container
	// id. Zero fields get defaults (cgroupfs, BestEffort, random ids).
	Layout Layout
	// Args is the command of the container's init process. The default
	// keeps the container running: sleep 3600.
	Args []string
	// Env is added to PATH and HOME in the init process's environment.
	Env []string
	// Files are added to the image layer (the overlay's lower directory)
	// before the container starts, keyed by absolute path in the container.
	Files map[string]File
	// UID and GID run the init process and every exec as that user. The
	// rootfs's /etc/passwd names 0 root, 1000 appuser and 65534 nobody.
	UID, GID uint32
	// HostNetwork keeps the container in the host's network namespace,
	// for tests that connect to a host listener. By default the container
	// gets its own network namespace with only a loopback interface.
	HostNetwork bool
	// Capabilities replaces runc's default capability set (CAP_AUDIT_WRITE,
	// CAP_KILL, CAP_NET_BIND_SERVICE) when not nil.
	Capabilities []string
}

// Container is a running runc container.
type Container struct {
	// ID is the 64-digit container id, also the runc id.
	ID string
	// Layout is the cgroup layout with every default filled in.
	Layout Layout
	// CgroupPath is Layout.Path(): the container's cgroup below the test
	// process's own cgroup in every hierarchy.
	CgroupPath string
	// InitPID is the host pid of the container's init process.
	InitPID int
	// Rootfs is the overlayfs mount that is the container's root.
	Rootfs string
	// LowerDir is the image layer, UpperDir the container's writable layer.
	// A file the container writes appears in UpperDir.
	LowerDir, UpperDir string
	// Bundle is the OCI bundle directory holding config.json.
	Bundle string

	runc      string
	stateRoot string
	logPath   string
	cgroups   *cgroupDirs
}

// Start builds a rootfs, mounts it as an overlay, and starts a runc
// container with the kubelet-like cgroup path of opts.Layout. Everything is
// removed in t.Cleanup.
func Start(t testing.TB, opts Options) *Container {
	t.Helper()
	requireRoot(t)
	runc := requireRunc(t)

	dir := t.TempDir()
	layout := opts.Layout.withDefaults()
	c := &Container{
		ID:         layout.ContainerID,
		Layout:     layout,
		CgroupPath: layout.Path(),
		LowerDir:   filepath.Join(dir, "lower"),
		Bundle:     filepath.Join(dir, "bundle"),
		runc:       runc,
		stateRoot:  filepath.Join(dir, "runc"),
		logPath:    filepath.Join(dir, "container.log"),
	}
	for _, d := range []string{c.LowerDir, c.Bundle, c.stateRoot} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatalf("create %s: %v", d, err)
		}
	}
	if err := os.Chmod(c.LowerDir, 0o755); err != nil {
		t.Fatalf("set mode of %s: %v", c.LowerDir, err)
	}

	buildRootfs(t, c.LowerDir, opts.Files)
	ov := mountOverlay(t, dir, c.LowerDir)
	c.Rootfs, c.UpperDir = ov.merged, ov.upper
	c.cgroups = makeCgroupDirs(t, c.CgroupPath, false)

	if err := c.writeConfig(opts); err != nil {
		t.Fatal(err)
	}
	c.run(t)
	return c
}

// run starts the container detached and registers its deletion.
func (c *Container) run(t testing.TB) {
	t.Helper()
	logFile, err := os.Create(c.logPath)
	if err != nil {
		t.Fatalf("create container log: %v", err)
	}
	defer logFile.Close()

	pidFile := filepath.Join(c.Bundle, "init.pid")
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.runc, "--root", c.stateRoot, "run", "--detach",
		"--pid-file", pidFile, "--bundle", c.Bundle, c.ID)
	// Files, not pipes: the detached init process keeps these open, and a
	// pipe would make Wait block until the container exits.
	cmd.Stdout, cmd.Stderr = logFile, logFile

	t.Cleanup(func() { c.delete(t) })
	if err := cmd.Run(); err != nil {
		t.Fatalf("runc run %s: %v\n%s", c.ID, err, c.Logs())
	}

	pid, err := readPIDFile(pidFile)
	if err != nil {
		t.Fatalf("read init pid of container %s: %v", c.ID, err)
	}
	c.InitPID = pid
}

// delete kills every process of the container and deletes it.
func (c *Container) delete(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.runc, "--root", c.stateRoot, "delete", "--force", c.ID).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("does not exist")) {
		t.Errorf("runc delete %s: %v: %s", c.ID, err, out)
	}

	// runc cannot remove the container's cgroups while the killed init
	// process is a zombie that the host's init has not reaped yet, and then
	// leaves them behind. Wait for the process and remove what is left.
	// NOTE: the host's init took about 2 s to reap on a loaded 2-core
	// machine, which makes each container's cleanup that slow.
	deadline := time.Now().Add(30 * time.Second)
	for c.InitPID > 0 && syscall.Kill(c.InitPID, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, leaf := range c.cgroups.leaves {
		for {
			err := os.Remove(leaf)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("remove cgroup %s of container %s: %v", leaf, c.ID, err)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Exec runs args in the container, waits for it to exit, and returns its
// combined output.
func (c *Container) Exec(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := c.ExecCommand(ctx, args...).CombinedOutput()
	return string(out), err
}

// ExecCommand returns a command that runs args in the container through
// runc exec, for callers that set up standard streams themselves. The
// process in the container is a child of runc, not of the command's pid.
func (c *Container) ExecCommand(ctx context.Context, args ...string) *exec.Cmd {
	runcArgs := append([]string{"--root", c.stateRoot, "exec", c.ID}, args...)
	return exec.CommandContext(ctx, c.runc, runcArgs...)
}

// ExecDetached starts args in the container without waiting and returns the
// host pid of the new process. The process ends with the container.
func (c *Container) ExecDetached(t testing.TB, args ...string) int {
	t.Helper()
	pidFile := filepath.Join(c.Bundle, "exec-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".pid")
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()

	logFile, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("open container log: %v", err)
	}
	defer logFile.Close()
	runcArgs := append([]string{"--root", c.stateRoot, "exec", "--detach", "--pid-file", pidFile, c.ID}, args...)
	cmd := exec.CommandContext(ctx, c.runc, runcArgs...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Run(); err != nil {
		t.Fatalf("runc exec %v in %s: %v\n%s", args, c.ID, err, c.Logs())
	}

	pid, err := readPIDFile(pidFile)
	if err != nil {
		t.Fatalf("read pid of %v in container %s: %v", args, c.ID, err)
	}
	return pid
}

// WriteFile writes a file into the running container's root from the host.
// It lands in the writable layer, like a file the container downloads.
func (c *Container) WriteFile(t testing.TB, path string, f File) {
	t.Helper()
	writeFile(t, c.Rootfs, path, f)
}

// Logs returns what the container's init process and detached execs wrote
// to standard output and error, and runc's own messages.
func (c *Container) Logs() string {
	data, err := os.ReadFile(c.logPath)
	if err != nil {
		return fmt.Sprintf("(container log unreadable: %v)", err)
	}
	return string(data)
}

func readPIDFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("invalid pid file %s: %w", path, err)
	}
	return pid, nil
}

// writeConfig writes the bundle's config.json. It follows the defaults of
// `runc spec` (runc 1.1) except for the root, the process and the cgroup
// path.
func (c *Container) writeConfig(opts Options) error {
	args := opts.Args
	if len(args) == 0 {
		args = []string{"sleep", "3600"}
	}
	caps := opts.Capabilities
	if caps == nil {
		caps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	}
	home := "/root"
	if opts.UID != 0 {
		home = "/home/appuser"
	}

	namespaces := []map[string]string{{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}}
	if !opts.HostNetwork {
		namespaces = append(namespaces, map[string]string{"type": "network"})
	}
	sysfs := map[string]any{"destination": "/sys", "type": "sysfs", "source": "sysfs",
		"options": []string{"nosuid", "noexec", "nodev", "ro"}}
	if opts.HostNetwork {
		// sysfs of another network namespace cannot be mounted; bind it.
		sysfs = map[string]any{"destination": "/sys", "type": "bind", "source": "/sys",
			"options": []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
	}

	config := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal": false,
			"user":     map[string]any{"uid": opts.UID, "gid": opts.GID},
			"args":     args,
			"env":      append([]string{"PATH=/bin", "HOME=" + home}, opts.Env...),
			"cwd":      "/",
			"capabilities": map[string][]string{
				"bounding": caps, "effective": caps, "permitted": caps,
			},
			"rlimits":         []map[string]any{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}},
			"noNewPrivileges": true,
		},
		"root":     map[string]any{"path": c.Rootfs, "readonly": false},
		"hostname": "riposte-test",
		"mounts": []map[string]any{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
				"options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
				"options": []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
				"options": []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
				"options": []string{"nosuid", "noexec", "nodev"}},
			sysfs,
		},
		"linux": map[string]any{
			"cgroupsPath": c.CgroupPath,
			"resources": map[string]any{
				"devices": []map[string]any{{"allow": false, "access": "rwm"}},
			},
			"namespaces": namespaces,
			"maskedPaths": []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
				"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
				"/sys/firmware", "/proc/scsi"},
			"readonlyPaths": []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	data, err := json.MarshalIndent(config, "", "\t")
	if err != nil {
		return fmt.Errorf("encode runc config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.Bundle, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("write runc config: %w", err)
	}
	return nil
}
