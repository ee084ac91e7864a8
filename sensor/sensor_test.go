package sensor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// waitTimeout is generous: these tests check behaviour, not speed.
const waitTimeout = 30 * time.Second

// snapshot is a copy of the fields of an event that the tests check, taken
// in the handler because the sensor owns the Process.
type snapshot struct {
	typ       event.Type
	tid       uint32
	res       int64
	pid, ppid uint32
	uid       uint32
	name      string
	exePath   string
	cwd       string
	args      []string
	filename  string
	execArgs  []string
	container string
	pname     string
	clone     *event.Clone
	exit      *event.Exit
	threads   int
	// maxThreads is the largest thread count of the process seen so far.
	maxThreads int
}

// maxThreads tracks the largest thread count per pid across events.
var maxThreads = map[uint32]int{}

// execProcs receives a copy of the process entry of every successful exec
// seen by the sensor of startSensor.
var execProcs = make(chan *event.Process, 4096)

// startSensor runs a sensor until the test ends and returns the channel of
// its events.
func startSensor(t *testing.T) (*Sensor, <-chan snapshot) {
	t.Helper()
	sensortest.RequireRoot(t)
	events := make(chan snapshot, 65536)
	handler := func(e *event.Event) {
		s := snapshot{
			typ: e.Type, tid: e.TID, res: e.Res,
			pid: e.Proc.PID, ppid: e.Proc.PPID, uid: e.Proc.UID, name: e.Proc.Name,
			exePath: e.Proc.ExePath, cwd: e.Proc.Cwd, args: e.Proc.Args,
			container: e.Proc.ContainerID, clone: e.Clone, exit: e.Exit,
			threads: e.Proc.Threads,
		}
		if e.Proc.Threads > maxThreads[e.Proc.PID] {
			maxThreads[e.Proc.PID] = e.Proc.Threads
		}
		s.maxThreads = maxThreads[e.Proc.PID]
		if p := e.Proc.Parent; p != nil {
			s.pname = p.Name
		}
		if e.Exec != nil {
			s.filename = e.Exec.Filename
			s.execArgs = e.Exec.Args
		}
		select {
		case events <- s:
		default:
		}
		if e.Exec != nil && e.Res == 0 {
			p := *e.Proc
			select {
			case execProcs <- &p:
			default:
			}
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(Config{Handler: handler}, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run ended before ready: %v", err)
	case <-time.After(waitTimeout):
		t.Fatal("sensor not ready in time")
	}
	return s, events
}

// waitFor returns the first event that matches, failing the test after
// waitTimeout.
func waitFor(t *testing.T, events <-chan snapshot, what string, match func(snapshot) bool) snapshot {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case e := <-events:
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %v", what, waitTimeout)
		}
	}
}

func TestSensorExec(t *testing.T) {
	_, events := startSensor(t)

	dir := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", `exec /bin/true arg "" x`)
	cmd.Dir = dir
	if err := cmd.Run(); err != nil {
		t.Fatalf("run child: %v", err)
	}
	pid := uint32(cmd.Process.Pid)

	e := waitFor(t, events, "exec of /bin/true", func(e snapshot) bool {
		return e.typ == event.TypeExecve && e.pid == pid && e.filename == "/bin/true"
	})
	wantArgs := []string{"/bin/true", "arg", "", "x"}
	if !slices.Equal(e.execArgs, wantArgs) {
		t.Errorf("exec args = %q, want %q", e.execArgs, wantArgs)
	}
	if !slices.Equal(e.args, wantArgs) {
		t.Errorf("process args = %q, want %q", e.args, wantArgs)
	}
	if e.res != 0 {
		t.Errorf("res = %d, want 0", e.res)
	}
	if e.ppid != uint32(os.Getpid()) {
		t.Errorf("ppid = %d, want %d", e.ppid, os.Getpid())
	}
	trueExe, _ := filepath.EvalSymlinks("/bin/true")
	if e.exePath != trueExe {
		t.Errorf("exe path = %q, want %q", e.exePath, trueExe)
	}
	wantCwd, _ := filepath.EvalSymlinks(dir)
	if e.cwd != wantCwd {
		t.Errorf("cwd = %q, want %q", e.cwd, wantCwd)
	}
	if e.uid != 0 {
		t.Errorf("uid = %d, want 0", e.uid)
	}
	if e.name != "true" {
		t.Errorf("name = %q, want %q", e.name, "true")
	}
	if e.container != "host" {
		t.Errorf("container = %q, want host", e.container)
	}
	self, _ := os.ReadFile("/proc/self/comm")
	if want := strings.TrimSpace(string(self)); e.pname != want {
		t.Errorf("parent name = %q, want %q", e.pname, want)
	}
}

func TestSensorFailedExec(t *testing.T) {
	_, events := startSensor(t)

	missing := "/nonexistent/riposte-test-" + sensortest.RandomHex(t, 4)
	cmd := exec.Command(missing, "a1")
	if err := cmd.Run(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("run %s: err = %v, want not exist", missing, err)
	}

	e := waitFor(t, events, "failed exec", func(e snapshot) bool {
		return e.typ == event.TypeExecve && e.filename == missing
	})
	if e.res != -int64(syscall.ENOENT) {
		t.Errorf("res = %d, want %d (ENOENT)", e.res, -int64(syscall.ENOENT))
	}
	if want := []string{missing, "a1"}; !slices.Equal(e.execArgs, want) {
		t.Errorf("exec args = %q, want %q", e.execArgs, want)
	}
	if e.ppid != uint32(os.Getpid()) {
		t.Errorf("ppid = %d, want %d", e.ppid, os.Getpid())
	}
}

func TestSensorForkExit(t *testing.T) {
	_, events := startSensor(t)

	cmd := exec.Command("/bin/sh", "-c", "exit 3")
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("run child: err = %v, want exit status 3", err)
	}
	pid := uint32(cmd.Process.Pid)

	f := waitFor(t, events, "clone of the child", func(e snapshot) bool {
		return e.clone != nil && e.clone.ChildPID == pid
	})
	if f.pid != uint32(os.Getpid()) {
		t.Errorf("clone pid = %d, want %d", f.pid, os.Getpid())
	}
	if f.res != int64(pid) {
		t.Errorf("clone res = %d, want child tid %d", f.res, pid)
	}
	if f.clone.Thread {
		t.Error("clone of a process reported as thread")
	}
	switch f.typ {
	case event.TypeClone, event.TypeClone3, event.TypeFork, event.TypeVfork:
	default:
		t.Errorf("clone type = %v, want a process creation type", f.typ)
	}

	x := waitFor(t, events, "exit of the child", func(e snapshot) bool {
		return e.typ == event.TypeProcExit && e.pid == pid
	})
	if !x.exit.GroupDead {
		t.Error("exit of single-threaded process not marked group dead")
	}
	if code, ok := x.exit.ExitCode(); !ok || code != 3 {
		t.Errorf("exit code = %d, %v; want 3, true", code, ok)
	}
	if x.name != "sh" {
		t.Errorf("exit name = %q, want sh", x.name)
	}
}

func TestSensorContainerID(t *testing.T) {
	_, events := startSensor(t)

	hierarchies := sensortest.Hierarchies(t)

	for _, root := range hierarchies {
		t.Run(filepath.Base(root), func(t *testing.T) {
			id := sensortest.RandomHex(t, 32)
			dir := sensortest.KubeletCgroup(t, root, id)
			cmd := sensortest.CommandInCgroup(dir, "id")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run child in cgroup: %v: %s", err, out)
			}
			pid := uint32(cmd.Process.Pid)

			e := waitFor(t, events, "exec of id", func(e snapshot) bool {
				return e.typ == event.TypeExecve && e.res == 0 && strings.HasSuffix(e.filename, "/id") &&
					(e.pid == pid || e.ppid == pid)
			})
			if e.container != id {
				t.Errorf("container id = %q, want %q", e.container, id)
			}
		})
	}
}

func TestCheckCapabilities(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	if err := checkCapabilities(1<<capSysAdmin, logger); err != nil {
		t.Errorf("CAP_SYS_ADMIN: %v", err)
	}
	if err := checkCapabilities(1<<capBPF|1<<capPerfmon, logger); err != nil {
		t.Errorf("CAP_BPF and CAP_PERFMON: %v", err)
	}
	err := checkCapabilities(1<<capBPF, logger)
	if !errors.Is(err, ErrMissingCapability) || !strings.Contains(err.Error(), "CAP_PERFMON") {
		t.Errorf("CAP_BPF only: err = %v, want missing CAP_PERFMON", err)
	}
	err = checkCapabilities(0, logger)
	if err == nil || !strings.Contains(err.Error(), "CAP_BPF, CAP_PERFMON") {
		t.Errorf("no capabilities: err = %v, want CAP_BPF and CAP_PERFMON named", err)
	}
}

func TestNewWithoutHandler(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Error("New without handler succeeded, want error")
	}
}

func TestSensorThreadCount(t *testing.T) {
	_, events := startSensor(t)
	// A Go child has several threads; the helper opens a file once its
	// runtime is up, so its entry counts them by then.
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pid := runHelperChild(t, "open", file)
	e := waitFor(t, events, "exit of the helper", func(e snapshot) bool {
		return e.typ == event.TypeProcExit && e.pid == pid && e.exit.GroupDead
	})
	if e.threads < 1 {
		t.Errorf("threads at the last exit = %d, want at least 1", e.threads)
	}
	if e.maxThreads < 2 {
		t.Errorf("max threads seen = %d, want a multi-threaded Go child", e.maxThreads)
	}
}

// TestSensorDrainsAtStop holds the handler on one exec while a second exec
// waits in the ring buffer, stops the sensor, and expects the second exec
// to be delivered before Run returns.
func TestSensorDrainsAtStop(t *testing.T) {
	sensortest.RequireRoot(t)
	first := "riposte-drain-first-" + sensortest.RandomHex(t, 4)
	last := "riposte-drain-last-" + sensortest.RandomHex(t, 4)
	held := make(chan struct{})
	release := make(chan struct{})
	var holdOnce sync.Once
	var lastDelivered atomic.Bool
	handler := func(e *event.Event) {
		if e.Exec == nil || e.Res != 0 {
			return
		}
		switch {
		case slices.Contains(e.Exec.Args, first):
			holdOnce.Do(func() {
				close(held)
				<-release
			})
		case slices.Contains(e.Exec.Args, last):
			lastDelivered.Store(true)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(Config{Handler: handler}, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run ended before ready: %v", err)
	}

	if err := exec.Command("/bin/true", first).Run(); err != nil {
		t.Fatalf("run /bin/true: %v", err)
	}
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the exec of the first /bin/true was not delivered within 10s")
	}
	// The handler is held, so the record of this exec stays in the ring
	// buffer until the sensor stops.
	if err := exec.Command("/bin/true", last).Run(); err != nil {
		t.Fatalf("run /bin/true: %v", err)
	}
	cancel()
	// context.AfterFunc acts in its own goroutine: give it time to act on
	// the reader before the handler lets the loop read again.
	time.Sleep(100 * time.Millisecond)
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of the stop")
	}
	if !lastDelivered.Load() {
		t.Error("the exec done right before the stop was not delivered")
	}
}
