package proc

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/sensor/event"
)

const containerID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeProc writes a procfs-like tree with the given processes (pid → parent
// pid) and returns its root. Process 2 runs in a container.
func fakeProc(t *testing.T, parents map[uint32]uint32) string {
	t.Helper()
	root := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", "cpu  1 2 3\nbtime 1700000000\n")
	for pid, ppid := range parents {
		dir := fmt.Sprint(pid)
		write(dir+"/stat", fmt.Sprintf("%d (proc %d) S %d %d %d 34817 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 250 0 0", pid, pid, ppid, pid, pid))
		write(dir+"/cmdline", fmt.Sprintf("prog%d\x00-x\x00\x00last\x00", pid))
		write(dir+"/status", "Name:\tprog\nUid:\t1000\t0\t0\t0\nGid:\t1001\t0\t0\t0\nNSpid:\t"+dir+"\t7\n")
		write(dir+"/loginuid", "1000")
		cg := "0::/user.slice\n"
		if pid == 2 {
			cg = "5:pids:/kubepods.slice/cri-containerd-" + containerID + ".scope\n0::/user.slice\n"
		}
		write(dir+"/cgroup", cg)
	}
	return root
}

func newTestTable(root string, max int) *Table {
	return NewTable(root, max, slog.New(slog.DiscardHandler))
}

func TestSeedFakeProc(t *testing.T) {
	root := fakeProc(t, map[uint32]uint32{1: 0, 2: 1, 3: 2})
	tab := newTestTable(root, 0)
	if err := tab.Seed(); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	if tab.Len() != 3 {
		t.Fatalf("Len = %d, want 3", tab.Len())
	}
	p := tab.Get(2)
	if p == nil {
		t.Fatal("process 2 missing")
	}
	if p.Name != "proc 2" {
		t.Errorf("Name = %q, want %q", p.Name, "proc 2")
	}
	if want := []string{"prog2", "-x", "", "last"}; !slices.Equal(p.Args, want) {
		t.Errorf("Args = %q, want %q", p.Args, want)
	}
	if p.UID != 1000 || p.EUID != 0 || p.GID != 1001 || p.LoginUID != 1000 {
		t.Errorf("uid/euid/gid/loginuid = %d/%d/%d/%d, want 1000/0/1001/1000", p.UID, p.EUID, p.GID, p.LoginUID)
	}
	if p.VPID != 7 {
		t.Errorf("VPID = %d, want 7", p.VPID)
	}
	if p.TTY != 34817 {
		t.Errorf("TTY = %d, want 34817", p.TTY)
	}
	if want := time.Unix(1700000000, 0).Add(2500 * time.Millisecond); !p.StartTime.Equal(want) {
		t.Errorf("StartTime = %v, want %v", p.StartTime, want)
	}
	if p.ContainerID != containerID {
		t.Errorf("ContainerID = %q, want %q", p.ContainerID, containerID)
	}
	if got := tab.Get(1).ContainerID; got != "host" {
		t.Errorf("ContainerID of process 1 = %q, want host", got)
	}
	if p.Parent != tab.Get(1) {
		t.Error("process 2 not linked to its parent 1")
	}
	if a := tab.Get(3).Ancestor(2); a != tab.Get(1) {
		t.Errorf("Ancestor(2) of process 3 = %v, want process 1", a)
	}
}

func TestSeedRealProc(t *testing.T) {
	tab := newTestTable("/proc", 0)
	if err := tab.Seed(); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	self := tab.Get(uint32(os.Getpid()))
	if self == nil {
		t.Fatal("own process missing from the table")
	}
	if self.PPID != uint32(os.Getppid()) {
		t.Errorf("PPID = %d, want %d", self.PPID, os.Getppid())
	}
	if self.Parent == nil || self.Parent.PID != uint32(os.Getppid()) {
		t.Errorf("Parent = %v, want process %d", self.Parent, os.Getppid())
	}
	exe, _ := os.Executable()
	if os.Geteuid() == 0 && self.ExePath != exe {
		t.Errorf("ExePath = %q, want %q", self.ExePath, exe)
	}
	if wd, _ := os.Getwd(); self.Cwd != wd {
		t.Errorf("Cwd = %q, want %q", self.Cwd, wd)
	}
	if len(self.Args) == 0 || self.Args[0] != os.Args[0] {
		t.Errorf("Args = %q, want argv[0] %q", self.Args, os.Args[0])
	}
}

func TestForkExecExit(t *testing.T) {
	root := fakeProc(t, map[uint32]uint32{1: 0, 2: 1})
	tab := newTestTable(root, 0)
	if err := tab.Seed(); err != nil {
		t.Fatal(err)
	}

	start := time.Unix(1800000000, 0)
	child := tab.Fork(2, 50, event.Process{VPID: 9, StartTime: start})
	if child == nil || tab.Get(50) != child {
		t.Fatal("Fork did not add the child")
	}
	if child.Name != "proc 2" || child.ContainerID != containerID || child.PPID != 2 || child.VPID != 9 {
		t.Errorf("child = %+v, want copy of parent 2 with PPID 2 and VPID 9", child)
	}
	if !child.StartTime.Equal(start) {
		t.Errorf("child StartTime = %v, want %v", child.StartTime, start)
	}
	if child.Parent != tab.Get(2) {
		t.Error("child not linked to its parent")
	}

	tab.Exec(&event.Process{PID: 50, PPID: 2, Name: "id", ExePath: "/usr/bin/id", Args: []string{"id"}})
	p := tab.Get(50)
	if p == child {
		t.Fatal("Exec modified the entry in place; it must replace it")
	}
	if p.Name != "id" || p.Parent != tab.Get(2) {
		t.Errorf("after exec: name %q parent %v", p.Name, p.Parent)
	}
	if !p.StartTime.Equal(start) {
		t.Errorf("exec lost the start time: %v", p.StartTime)
	}
	if child.Name != "proc 2" {
		t.Error("exec changed the entry delivered before it")
	}

	if got := tab.Exit(50); got != p {
		t.Errorf("Exit returned %v, want the exec'd entry", got)
	}
	if tab.Get(50) != nil {
		t.Error("entry still present after Exit")
	}
	if tab.Exit(50) != nil {
		t.Error("second Exit returned an entry")
	}
}

func TestForkUnknownParentReadsProc(t *testing.T) {
	root := fakeProc(t, map[uint32]uint32{1: 0, 2: 1})
	tab := newTestTable(root, 0)
	// No Seed: the parent entry comes from procfs on demand.
	child := tab.Fork(2, 60, event.Process{})
	if child == nil || child.Name != "proc 2" {
		t.Fatalf("Fork with unseeded parent = %+v, want copy of process 2", child)
	}
	if tab.Get(1) == nil {
		t.Error("grandparent not read while linking the parent")
	}
}

func TestTableBounded(t *testing.T) {
	root := fakeProc(t, map[uint32]uint32{1: 0, 2: 1})
	tab := newTestTable(root, 3)
	if err := tab.Seed(); err != nil {
		t.Fatal(err)
	}
	for pid := uint32(100); pid < 110; pid++ {
		tab.Exec(&event.Process{PID: pid, PPID: 1, Name: "x"})
		if tab.Len() > 3 {
			t.Fatalf("Len = %d after adding pid %d, want at most 3", tab.Len(), pid)
		}
	}
	if tab.Evicted() == 0 {
		t.Error("Evicted = 0, want evictions counted")
	}
	if tab.Get(109) == nil {
		t.Error("newest entry missing")
	}
}

func TestParseStat(t *testing.T) {
	st, err := parseStat([]byte("42 (a) b (c)) R 7 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0"))
	if err != nil {
		t.Fatalf("parseStat: %v", err)
	}
	if st.comm != "a) b (c)" || st.ppid != 7 || st.startTime != 99 {
		t.Errorf("parseStat = %+v", st)
	}
	for _, bad := range []string{"", "42 no parens", "42 (x) R 7", "42 (x) R notanumber 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) succeeded, want error", bad)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (a) R 7 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0"))
	f.Add([]byte("1 ()) S"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseStat(data)
	})
}

// TestExecAfterEnvShebang checks that the program env starts for a script's
// #! line is marked, and that env run under its own name, or any other
// program before the exec, leaves the mark unset.
func TestExecAfterEnvShebang(t *testing.T) {
	root := fakeProc(t, map[uint32]uint32{1: 0, 2: 1})
	tab := newTestTable(root, 0)
	if err := tab.Seed(); err != nil {
		t.Fatal(err)
	}
	script := []string{"bash", "/srv/deploy.sh"}
	cases := []struct {
		name     string
		previous event.Process
		next     []string
		want     bool
	}{
		{"env for a script", event.Process{Name: "deploy.sh", ExePath: "/usr/bin/env", Args: []string{"/usr/bin/env", "bash", "/srv/deploy.sh"}}, script, true},
		{"env -S for a script", event.Process{Name: "deploy.sh", ExePath: "/usr/bin/env", Args: []string{"/usr/bin/env", "-S bash -e", "/srv/deploy.sh"}}, []string{"bash", "-e", "/srv/deploy.sh"}, true},
		{"long script name", event.Process{Name: "a-long-script-n", ExePath: "/usr/bin/env", Args: []string{"/usr/bin/env", "bash", "./a-long-script-name.sh"}}, []string{"bash", "./a-long-script-name.sh"}, true},
		{"env run directly", event.Process{Name: "env", ExePath: "/usr/bin/env", Args: []string{"env", "bash", "-c", "id"}}, []string{"bash", "-c", "id"}, false},
		{"shell script", event.Process{Name: "deploy.sh", ExePath: "/usr/bin/dash", Args: []string{"/bin/sh", "/srv/deploy.sh"}}, script, false},
		{"env through a link", event.Process{Name: "x", ExePath: "/usr/bin/env", Args: []string{"x", "sh", "-c", "id"}}, []string{"sh", "-c", "id"}, false},
		{"env through a link named -c", event.Process{Name: "-c", ExePath: "/usr/bin/env", Args: []string{"-c", "sh", "-c", "id"}}, []string{"sh", "-c", "id"}, false},
		{"env through a descriptor", event.Process{Name: "3", ExePath: "/usr/bin/env", Args: []string{"env", "sh", "-c", "id"}}, []string{"sh", "-c", "id"}, false},
		{"interpreter without the script", event.Process{Name: "deploy.sh", ExePath: "/usr/bin/env", Args: []string{"/usr/bin/env", "bash", "/srv/deploy.sh"}}, []string{"bash", "-c", "id"}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pid := uint32(70 + i)
			tab.Fork(2, pid, event.Process{})
			previous := c.previous
			previous.PID, previous.PPID = pid, 2
			tab.Exec(&previous)
			if previous.EnvShebang {
				t.Errorf("%s marked as started by env for a script", previous.ExePath)
			}
			tab.Exec(&event.Process{PID: pid, PPID: 2, Name: c.next[0], ExePath: "/usr/bin/" + c.next[0], Args: c.next})
			if got := tab.Get(pid).EnvShebang; got != c.want {
				t.Errorf("EnvShebang after exec = %v, want %v", got, c.want)
			}
		})
	}
}
