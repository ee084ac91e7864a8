package natstest_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/transport"
)

// Environment variables that turn the test binary into a responder process,
// so that a benchmark can measure one replica's CPU time and memory.
const (
	childResponderEnv = "RIPOSTE_NATSTEST_RESPONDER"
	childURLsEnv      = "RIPOSTE_NATSTEST_URLS"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(childResponderEnv); name != "" {
		os.Exit(runChildResponder(name, os.Getenv(childURLsEnv)))
	}
	os.Exit(m.Run())
}

// runChildResponder runs one responder replica, like startResponders, until
// SIGTERM or SIGINT.
func runChildResponder(name, urls string) int {
	// testing.Verbose cannot be called before m.Run parses the flags.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fail := func(step string, err error) int {
		fmt.Fprintf(os.Stderr, "responder %s: %s: %v\n", name, step, err)
		return 2
	}

	reg, err := actionners.NewRegistry(newRecorder())
	if err != nil {
		return fail("registry", err)
	}
	dir, err := os.MkdirTemp("", "riposte-policies-")
	if err != nil {
		return fail("policy directory", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "record.rego"), []byte(recordAllPolicy), 0o644); err != nil {
		return fail("write policy", err)
	}
	set, err := policies.Load(ctx, policies.Options{Dir: dir, Registry: reg})
	if err != nil {
		return fail("load policies", err)
	}
	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: urls, Name: name, Logger: log})
	if err != nil {
		return fail("connect", err)
	}
	defer conn.Close()
	opts := responderOptions(conn, set, reg, name, nil)
	opts.Logger = log
	r, err := responder.New(opts)
	if err != nil {
		return fail("new responder", err)
	}
	if err := r.Run(ctx); err != nil {
		return fail("run", err)
	}
	return 0
}

// childProcess is a responder replica running as a child process.
type childProcess struct {
	cmd *exec.Cmd
	// exited is closed when the process ended, and err is then its exit
	// error.
	exited chan struct{}
	err    error
}

// startChildResponders starts n responder processes against urls and stops
// them with SIGTERM when the test ends.
func startChildResponders(t testing.TB, urls string, n int) []*childProcess {
	t.Helper()
	children := make([]*childProcess, n)
	for i := range children {
		name := "responder-" + strconv.Itoa(i+1)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childResponderEnv+"="+name, childURLsEnv+"="+urls)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start responder process: %v", err)
		}
		c := &childProcess{cmd: cmd, exited: make(chan struct{})}
		go func() {
			c.err = cmd.Wait()
			close(c.exited)
		}()
		children[i] = c
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.exited:
				if c.err != nil {
					t.Errorf("%s: %v", name, c.err)
				}
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Errorf("%s did not stop within 60s of SIGTERM", name)
			}
		})
	}
	return children
}

// cpuTime returns the user and system CPU time of the process so far, from
// fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms.
func (c *childProcess) cpuTime() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name in field 2 may contain spaces, so count fields after
	// its closing parenthesis, where field 3 starts.
	end := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the command name, want 13 or more", c.cmd.Process.Pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: invalid CPU time %q: %w", c.cmd.Process.Pid, f, err)
		}
		ticks += n
	}
	const clockTick = 10 * time.Millisecond // USER_HZ is 100 on Linux.
	return time.Duration(ticks) * clockTick, nil
}

// peakRSS returns the peak resident set size of the process in bytes.
func (c *childProcess) peakRSS() (uint64, error) {
	return statusKiB(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid), "VmHWM:")
}
