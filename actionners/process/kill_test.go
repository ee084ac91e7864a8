package process

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/sensor/cgroup"
)

// startSleeper starts `sleep 60` in its own process group and returns it. The
// cleanup kills it if the test did not.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func killRequest(pid int, params map[string]any, fields map[string]any) actionners.Request {
	return actionners.Request{
		Action: actionners.Action{
			Actionner:  KillName,
			Target:     actionners.Target{Kind: "process", PID: pid},
			Parameters: params,
		},
		Alert: &alert.Alert{Rule: "test", OutputFields: fields},
	}
}

func TestKillChildProcess(t *testing.T) {
	for _, signal := range []any{nil, "SIGTERM", json.Number("15")} {
		cmd := startSleeper(t)
		k := NewKill(KillOptions{AllowDescendants: true})
		var params map[string]any
		want := syscall.SIGKILL
		if signal != nil {
			params = map[string]any{"signal": signal}
			want = syscall.SIGTERM
		}
		res, err := k.Run(context.Background(), killRequest(cmd.Process.Pid, params, map[string]any{"proc.name": "sleep"}))
		if err != nil {
			t.Fatalf("Run with signal %v: %v", signal, err)
		}
		if res.Outcome != actionners.OutcomeSucceeded {
			t.Fatalf("outcome = %s (%s)", res.Outcome, res.Message)
		}
		err = cmd.Wait()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			t.Fatalf("sleep ended with %v, want a signal", err)
		}
		status := exitErr.Sys().(syscall.WaitStatus)
		if !status.Signaled() || status.Signal() != want {
			t.Errorf("sleep ended with %v, want %v", status, want)
		}
		if res.Output["signal"] != unix.SignalName(want) {
			t.Errorf("output signal = %v, want %s", res.Output["signal"], unix.SignalName(want))
		}
		if res.Output["comm"] != "sleep" {
			t.Errorf("output comm = %v, want sleep", res.Output["comm"])
		}
	}
}

func TestKillRejects(t *testing.T) {
	child := startSleeper(t)
	k := NewKill(KillOptions{ProtectedPIDs: []int{child.Process.Pid}})
	kthread := findKernelThread(t)

	tests := []struct {
		name string
		pid  int
		want string
	}{
		{"init", 1, "pid 1 is the init process"},
		{"self", os.Getpid(), "Riposte itself"},
		{"configured", child.Process.Pid, "protected by configuration"},
		{"kernel thread", kthread, "is a kernel thread"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := k.Run(context.Background(), killRequest(tt.pid, nil, nil))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Outcome != actionners.OutcomeRejected {
				t.Errorf("outcome = %s, want rejected", res.Outcome)
			}
			if !strings.Contains(res.Message, tt.want) {
				t.Errorf("message = %q, want %q", res.Message, tt.want)
			}
		})
	}
	if err := syscall.Kill(child.Process.Pid, 0); err != nil {
		t.Errorf("protected child is gone: %v", err)
	}
}

func TestKillRejectsDescendant(t *testing.T) {
	child := startSleeper(t)
	res, err := NewKill(KillOptions{}).Run(context.Background(), killRequest(child.Process.Pid, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeRejected || !strings.Contains(res.Message, "descendant of Riposte") {
		t.Errorf("result = %+v, want rejected as a descendant", res)
	}
}

func TestKillRejectsProcessGroup(t *testing.T) {
	cmd := exec.Command("sleep", "60") // Same process group as the test.
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	res, err := NewKill(KillOptions{AllowDescendants: true}).Run(context.Background(), killRequest(cmd.Process.Pid, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeRejected || !strings.Contains(res.Message, "process group") {
		t.Errorf("result = %+v, want rejected as in Riposte's process group", res)
	}
}

func TestKillRejectsReusedPID(t *testing.T) {
	child := startSleeper(t)
	k := NewKill(KillOptions{AllowDescendants: true})
	res, err := k.Run(context.Background(), killRequest(child.Process.Pid, nil, map[string]any{"proc.name": "bash"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeRejected || !strings.Contains(res.Message, "reused") {
		t.Errorf("result = %+v, want rejected as a reused pid", res)
	}
}

func TestKillExitedProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	res, err := NewKill(KillOptions{}).Run(context.Background(), killRequest(cmd.Process.Pid, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeNoTarget {
		t.Errorf("outcome = %s (%s), want no target", res.Outcome, res.Message)
	}
}

func TestKillNoProcessTarget(t *testing.T) {
	req := killRequest(0, nil, nil)
	req.Action.Target = actionners.Target{Kind: "pod", Namespace: "ns", Name: "p"}
	res, err := NewKill(KillOptions{}).Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeNoTarget {
		t.Errorf("outcome = %s, want no target", res.Outcome)
	}
}

func TestKillValidate(t *testing.T) {
	k := NewKill(KillOptions{})
	valid := []map[string]any{nil, {}, {"signal": "SIGKILL"}, {"signal": "term"}, {"signal": json.Number("9")}, {"signal": 15}, {"signal": "HUP"}}
	for _, p := range valid {
		if err := k.Validate(p); err != nil {
			t.Errorf("Validate(%v): %v", p, err)
		}
	}
	invalid := map[string]map[string]any{
		`unknown signal "SIGNOPE"`: {"signal": "SIGNOPE"},
		"out of range":             {"signal": 99},
		`unknown parameter "pid"`:  {"pid": 3},
		"is a bool":                {"signal": true},
	}
	for want, p := range invalid {
		err := k.Validate(p)
		if !errors.Is(err, actionners.ErrInvalidParameters) || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%v) = %v, want ErrInvalidParameters with %q", p, err, want)
		}
	}
}

func TestKillPermissions(t *testing.T) {
	perms := NewKill(KillOptions{}).Permissions()
	if len(perms) != 1 || perms[0].Capability != "CAP_KILL" {
		t.Errorf("Permissions = %+v", perms)
	}
}

func TestReadStatParenthesesInComm(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	line := "42 (a) (b c)) S 7 42 42 0 -1 4194560 0 0 0 0\n"
	if err := os.WriteFile(filepath.Join(dir, "42", "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := readStat(dir, 42)
	if err != nil {
		t.Fatal(err)
	}
	if st.comm != "a) (b c)" || st.ppid != 7 || st.pgrp != 42 || st.flags != 4194560 || st.state != 'S' {
		t.Errorf("readStat = %+v", st)
	}
}

// findKernelThread returns the pid of a kernel thread, such as kthreadd.
func findKernelThread(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 {
			continue
		}
		st, err := readStat("/proc", pid)
		if err == nil && st.flags&pfKthread != 0 {
			return pid
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no kernel thread visible in /proc: run the tests in the host pid namespace")
	}
	t.Skip("no kernel thread visible in /proc")
	return 0
}

func TestKillCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewKill(KillOptions{}).Run(ctx, killRequest(12345, nil, nil))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with cancelled context = %v", err)
	}
}

func TestKillRejectsAncestor(t *testing.T) {
	// The sleeper plays Riposte, so this test process is its parent, the
	// process that started Riposte.
	child := startSleeper(t)
	k := NewKill(KillOptions{SelfPID: child.Process.Pid, AllowProcessGroup: true})
	res, err := k.Run(context.Background(), killRequest(os.Getpid(), nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeRejected || !strings.Contains(res.Message, "started Riposte") {
		t.Errorf("result = %+v, want rejected as an ancestor of Riposte", res)
	}
}

func TestKillCheckSignalsNothing(t *testing.T) {
	cmd := startSleeper(t)
	k := NewKill(KillOptions{AllowDescendants: true})
	ctx := context.Background()
	sleep := map[string]any{"proc.name": "sleep"}

	outcome, reason, err := k.Check(ctx, killRequest(cmd.Process.Pid, nil, sleep))
	if err != nil || outcome != "" || reason != "" {
		t.Errorf("Check of a killable process = %q, %q, %v; want nothing to report", outcome, reason, err)
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("Check signalled the process: %v", err)
	}

	outcome, reason, err = k.Check(ctx, killRequest(1, nil, nil))
	if err != nil || outcome != actionners.OutcomeRejected || !strings.Contains(reason, "init process") {
		t.Errorf("Check of pid 1 = %q, %q, %v; want rejected as the init process", outcome, reason, err)
	}
	outcome, _, err = k.Check(ctx, killRequest(cmd.Process.Pid, nil, map[string]any{"proc.name": "bash"}))
	if err != nil || outcome != actionners.OutcomeRejected {
		t.Errorf("Check of a reused pid = %q, %v; want rejected", outcome, err)
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	outcome, _, err = k.Check(ctx, killRequest(cmd.Process.Pid, nil, sleep))
	if err != nil || outcome != actionners.OutcomeNoTarget {
		t.Errorf("Check of an exited process = %q, %v; want no target", outcome, err)
	}
}

// ownContainer returns the container id of the test process as the alert of
// a detector would carry it: the short id, or "host".
func ownContainer(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := cgroup.FromProcFile(data); ok {
		return cgroup.ShortID(c.ID)
	}
	return cgroup.HostID
}

func TestKillRejectsOtherContainer(t *testing.T) {
	child := startSleeper(t)
	k := NewKill(KillOptions{AllowDescendants: true})
	other := "abcdef012345"
	if ownContainer(t) == other {
		other = "0123456789ab"
	}
	res, err := k.Run(context.Background(), killRequest(child.Process.Pid, nil, map[string]any{"proc.name": "sleep", "container.id": other}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeRejected || !strings.Contains(res.Message, "as the alert says") {
		t.Errorf("result = %+v, want rejected for running outside container %s", res, other)
	}
	if err := syscall.Kill(child.Process.Pid, 0); err != nil {
		t.Errorf("sleeper is gone after a rejected kill: %v", err)
	}

	// The same process with the container id it really has is signalled.
	res, err = k.Run(context.Background(), killRequest(child.Process.Pid, nil, map[string]any{"proc.name": "sleep", "container.id": ownContainer(t)}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != actionners.OutcomeSucceeded {
		t.Errorf("result = %+v, want succeeded with the process's own container", res)
	}
}

// TestKillChecksContainerOfProcRoot reads a process table laid out under a
// directory, where one process runs in a containerd container, and checks
// each container id an alert may give for it.
func TestKillChecksContainerOfProcRoot(t *testing.T) {
	child := startSleeper(t)
	pid := strconv.Itoa(child.Process.Pid)
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, pid)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("ab", 32)
	files := map[string]string{
		"stat":   string(stat),
		"cgroup": "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + id + ".scope\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/usr/bin/sleep", filepath.Join(dir, "exe")); err != nil {
		t.Fatal(err)
	}
	k := NewKill(KillOptions{ProcRoot: root, AllowDescendants: true, AllowProcessGroup: true})

	tests := []struct {
		container string
		want      actionners.Outcome
	}{
		{id[:12], ""},
		{strings.ToUpper(id[:12]), ""},
		{id, ""},
		{"<NA>", ""},
		{"host", actionners.OutcomeRejected},
		{"0123456789ab", actionners.OutcomeRejected},
	}
	for _, tt := range tests {
		t.Run(tt.container, func(t *testing.T) {
			outcome, reason, err := k.Check(context.Background(), killRequest(child.Process.Pid, nil, map[string]any{"proc.name": "sleep", "container.id": tt.container}))
			if err != nil {
				t.Fatal(err)
			}
			if outcome != tt.want {
				t.Errorf("outcome = %q (%s), want %q", outcome, reason, tt.want)
			}
		})
	}
}
