package containertest

import (
	"bufio"
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

// Cgroup is a kubelet-like container cgroup without a container: host
// processes started in it look, by their cgroup paths, like processes of a
// Kubernetes container, while they share every namespace with the test.
type Cgroup struct {
	// Layout is the cgroup layout with every default filled in.
	Layout Layout
	// Path is Layout.Path(), below the test process's own cgroup in every
	// hierarchy.
	Path string
	// Dirs are the cgroup directories, one per hierarchy.
	Dirs []string

	busybox string
	started []*exec.Cmd
}

// gateScript waits for a line on file descriptor 3, which the harness
// writes once the process is in the cgroup, then closes it and runs the
// real command. The exec of the command therefore happens in the cgroup.
const gateScript = `read -r _ <&3; exec 3<&-; exec "$@"`

// NewCgroup creates a cgroup with the kubelet-like path of layout in every
// hierarchy. In t.Cleanup it kills the processes left in it and removes it.
func NewCgroup(t testing.TB, layout Layout) *Cgroup {
	t.Helper()
	requireRoot(t)
	busybox, _ := requireBusybox(t)

	layout = layout.withDefaults()
	cg := &Cgroup{Layout: layout, Path: layout.Path(), busybox: busybox}
	dirs := makeCgroupDirs(t, cg.Path, true)
	cg.Dirs = dirs.leaves
	t.Cleanup(func() { cg.killAll(t) })
	return cg
}

// Start starts cmd, which must not have been started, inside the cgroup.
// The process joins the cgroup before cmd's program runs, so the exec event
// of the program already carries the cgroup. cmd.ExtraFiles must be empty
// because the harness uses file descriptor 3. The caller waits for cmd;
// a process still running at the end of the test is killed.
func (cg *Cgroup) Start(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if cmd.Process != nil {
		t.Fatalf("start %s in cgroup: command already started", cmd.Path)
	}
	if len(cmd.ExtraFiles) > 0 {
		t.Fatalf("start %s in cgroup: ExtraFiles must be empty, file descriptor 3 is reserved", cmd.Path)
	}
	if cmd.Err != nil {
		t.Fatalf("start %s in cgroup: %v", cmd.Path, cmd.Err)
	}

	gateRead, gateWrite, err := os.Pipe()
	if err != nil {
		t.Fatalf("create start gate pipe: %v", err)
	}
	defer gateWrite.Close()

	program := cmd.Path
	cmd.Args = append([]string{"sh", "-c", gateScript, "sh", program}, cmd.Args[1:]...)
	cmd.Path = cg.busybox
	cmd.ExtraFiles = []*os.File{gateRead}
	err = cmd.Start()
	gateRead.Close()
	if err != nil {
		t.Fatalf("start %s: %v", program, err)
	}

	cg.started = append(cg.started, cmd)
	if err := cg.Enter(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		t.Fatal(err)
	}
	if _, err := gateWrite.Write([]byte("\n")); err != nil {
		t.Fatalf("release %s into the cgroup: %v", program, err)
	}
}

// Enter moves the process pid into the cgroup in every hierarchy.
func (cg *Cgroup) Enter(pid int) error {
	for _, dir := range cg.Dirs {
		procs := filepath.Join(dir, "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("move pid %d into cgroup %s: %w", pid, dir, err)
		}
	}
	return nil
}

// Pids returns the processes in the cgroup.
func (cg *Cgroup) Pids() ([]int, error) {
	seen := make(map[int]bool)
	var pids []int
	for _, dir := range cg.Dirs {
		data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list processes of cgroup %s: %w", dir, err)
		}
		for _, field := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(field)
			if err == nil && !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
	}
	return pids, nil
}

// killAll kills the processes in the cgroup, which are the ones the test
// started and their descendants, and waits until the cgroup is empty.
func (cg *Cgroup) killAll(t testing.TB) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		pids, err := cg.Pids()
		if err != nil {
			t.Errorf("clean up cgroup %s: %v", cg.Path, err)
			return
		}
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("clean up cgroup %s: processes %v still running after SIGKILL", cg.Path, pids)
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		cg.reap()
		time.Sleep(10 * time.Millisecond)
	}
}

// reap waits for the commands that Start started and the caller did not
// wait for, so that none stays a zombie of the test process.
func (cg *Cgroup) reap() {
	for _, cmd := range cg.started {
		if cmd.ProcessState == nil {
			_ = cmd.Wait()
		}
	}
}

// ProcCgroups returns the cgroup paths of process pid from /proc/pid/cgroup,
// keyed by hierarchy: the v1 controller list ("cpu", "name=systemd") or ""
// for cgroup2.
func ProcCgroups(pid int) (map[string]string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, fmt.Errorf("read cgroups of pid %d: %w", pid, err)
	}
	defer f.Close()

	paths := make(map[string]string)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		parts := strings.SplitN(scanner.Text(), ":", 3)
		if len(parts) == 3 {
			paths[parts[1]] = parts[2]
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read cgroups of pid %d: %w", pid, err)
	}
	return paths, nil
}
