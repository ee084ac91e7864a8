package sensor

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// syscallSnapshot copies what the syscall tests check, in the handler.
type syscallSnapshot struct {
	typ   event.Type
	pid   uint32
	res   int64
	path  string
	fd    *event.FD
	fdsAt map[int64]event.FD
}

func startSyscallSensor(t *testing.T, cfg Config) (*Sensor, <-chan syscallSnapshot) {
	t.Helper()
	sensortest.RequireRoot(t)
	events := make(chan syscallSnapshot, 65536)
	cfg.Handler = func(e *event.Event) {
		if e.Syscall == nil {
			return
		}
		s := syscallSnapshot{typ: e.Type, pid: e.Proc.PID, res: e.Res, path: e.Syscall.Path}
		if e.Syscall.FD != nil {
			fd := *e.Syscall.FD
			s.fd = &fd
		}
		if e.Type == event.TypeDup2 || e.Type == event.TypeDup3 {
			s.fdsAt = map[int64]event.FD{}
			if fd := e.Proc.FDs.Get(1); fd != nil {
				s.fdsAt[1] = *fd
			}
		}
		select {
		case events <- s:
		default:
		}
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
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

func waitSyscall(t *testing.T, events <-chan syscallSnapshot, what string, match func(syscallSnapshot) bool) syscallSnapshot {
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

func TestSyscallOpenat(t *testing.T) {
	_, events := startSyscallSensor(t, Config{Syscalls: []event.Type{event.TypeOpenat, event.TypeClose}})
	file := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	resolved, _ := filepath.EvalSymlinks(file)

	pid := runHelperChild(t, "open", file)
	e := waitSyscall(t, events, "openat", func(e syscallSnapshot) bool {
		return e.typ == event.TypeOpenat && e.pid == pid && e.path == file
	})
	if e.res < 0 {
		t.Fatalf("res = %d, want a descriptor", e.res)
	}
	if e.fd == nil {
		t.Fatal("no descriptor in the event")
	}
	if e.fd.Num != e.res {
		t.Errorf("fd.num = %d, want %d", e.fd.Num, e.res)
	}
	if e.fd.Type != event.FDFile {
		t.Errorf("fd.type = %v, want file", e.fd.Type)
	}
	if e.fd.Name() != resolved {
		t.Errorf("fd.name = %q, want %q", e.fd.Name(), resolved)
	}
	if e.fd.Flags&syscall.O_CLOEXEC == 0 {
		t.Errorf("fd flags %#o lack O_CLOEXEC", e.fd.Flags)
	}

	c := waitSyscall(t, events, "close", func(c syscallSnapshot) bool {
		return c.typ == event.TypeClose && c.pid == pid
	})
	if c.res != 0 || c.fd == nil || c.fd.Path != resolved {
		t.Errorf("close res %d fd %+v, want 0 and the file", c.res, c.fd)
	}

	missing := filepath.Join(t.TempDir(), "missing")
	pid = runHelperChild(t, "open-missing", missing)
	f := waitSyscall(t, events, "failed openat", func(e syscallSnapshot) bool {
		return e.typ == event.TypeOpenat && e.pid == pid && e.path == missing
	})
	if f.res != -int64(syscall.ENOENT) {
		t.Errorf("res = %d, want -ENOENT", f.res)
	}
	if f.fd == nil || f.fd.Num != -1 || f.fd.Type != event.FDFile || f.fd.Path != missing {
		t.Errorf("failed open descriptor = %+v, want -1 file named %s", f.fd, missing)
	}
}

func TestSyscallConnectDup(t *testing.T) {
	_, events := startSyscallSensor(t, Config{Syscalls: []event.Type{event.TypeConnect, event.TypeDup2, event.TypeDup3}})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	pid := runHelperChild(t, "connect-dup", ln.Addr().String())
	c := waitSyscall(t, events, "connect", func(e syscallSnapshot) bool {
		return e.typ == event.TypeConnect && e.pid == pid
	})
	if c.res != 0 {
		t.Errorf("connect res = %d, want 0", c.res)
	}
	if c.fd == nil {
		t.Fatal("connect has no descriptor")
	}
	if c.fd.Type != event.FDIPv4 || c.fd.L4Proto != "tcp" {
		t.Errorf("fd type %v proto %q, want ipv4 tcp", c.fd.Type, c.fd.L4Proto)
	}
	if c.fd.RemotePort != uint16(port) || c.fd.RemoteAddr.String() != "127.0.0.1" {
		t.Errorf("remote %v:%d, want 127.0.0.1:%d", c.fd.RemoteAddr, c.fd.RemotePort, port)
	}
	wantName := "127.0.0.1:" + strconv.Itoa(int(c.fd.LocalPort)) + "->127.0.0.1:" + strconv.Itoa(port)
	if c.fd.Name() != wantName {
		t.Errorf("fd.name = %q, want %q", c.fd.Name(), wantName)
	}

	d := waitSyscall(t, events, "dup2", func(e syscallSnapshot) bool {
		return (e.typ == event.TypeDup2 || e.typ == event.TypeDup3) && e.pid == pid
	})
	if d.res != 1 {
		t.Errorf("dup2 res = %d, want 1", d.res)
	}
	if d.fd == nil || d.fd.Type != event.FDIPv4 {
		t.Fatalf("dup2 descriptor = %+v, want the ipv4 socket", d.fd)
	}
	if got, ok := d.fdsAt[1]; !ok || got.Type != event.FDIPv4 || got.RemotePort != uint16(port) {
		t.Errorf("descriptor 1 after dup2 = %+v, want the socket", got)
	}
}

func TestSyscallFilterChangesAtRuntime(t *testing.T) {
	s, events := startSyscallSensor(t, Config{DisableFDState: true})
	file := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	pid := runHelperChild(t, "unlink", file)
	// Records arrive in well under the drain time when they are captured.
	runHelperChild(t, "open-missing", file+"-missing")
	drain := time.After(2 * time.Second)
drainLoop:
	for {
		select {
		case e := <-events:
			if e.pid == pid {
				t.Fatalf("syscall %v of pid %d delivered while no syscall was selected", e.typ, pid)
			}
		case <-drain:
			break drainLoop
		}
	}

	if err := s.SetSyscalls([]event.Type{event.TypeUnlinkat}); err != nil {
		t.Fatalf("SetSyscalls: %v", err)
	}
	pid = runHelperChild(t, "unlink", file)
	e := waitSyscall(t, events, "unlinkat", func(e syscallSnapshot) bool {
		return e.typ == event.TypeUnlinkat && e.pid == pid
	})
	if e.path != file || e.res != 0 {
		t.Errorf("unlinkat path %q res %d, want %q 0", e.path, e.res, file)
	}
}

func TestSyscallConnectIPv6AndUnix(t *testing.T) {
	_, events := startSyscallSensor(t, Config{Syscalls: []event.Type{event.TypeConnect}})

	ln6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatalf("listen on ::1: %v", err)
	}
	defer ln6.Close()
	sockPath := filepath.Join(t.TempDir(), "s.sock")
	lnUnix, err := net.Listen("unix", sockPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lnUnix.Close()
	for _, ln := range []net.Listener{ln6, lnUnix} {
		go func(ln net.Listener) {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}(ln)
	}

	pid := runHelperChild(t, "connect6", ln6.Addr().String())
	c := waitSyscall(t, events, "IPv6 connect", func(e syscallSnapshot) bool {
		return e.typ == event.TypeConnect && e.pid == pid
	})
	if c.fd == nil || c.fd.Type != event.FDIPv6 {
		t.Fatalf("descriptor = %+v, want ipv6", c.fd)
	}
	port := ln6.Addr().(*net.TCPAddr).Port
	if c.fd.RemoteAddr.String() != "::1" || c.fd.RemotePort != uint16(port) {
		t.Errorf("remote = %v:%d, want ::1:%d", c.fd.RemoteAddr, c.fd.RemotePort, port)
	}
	wantName := "::1:" + strconv.Itoa(int(c.fd.LocalPort)) + "->::1:" + strconv.Itoa(port)
	if c.fd.Name() != wantName {
		t.Errorf("fd.name = %q, want %q", c.fd.Name(), wantName)
	}

	pid = runHelperChild(t, "connect-unix", sockPath)
	u := waitSyscall(t, events, "unix connect", func(e syscallSnapshot) bool {
		return e.typ == event.TypeConnect && e.pid == pid
	})
	if u.fd == nil || u.fd.Type != event.FDUnix {
		t.Fatalf("descriptor = %+v, want unix", u.fd)
	}
	if u.fd.Name() != sockPath {
		t.Errorf("fd.name = %q, want %q", u.fd.Name(), sockPath)
	}
}
