package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/sensor/cgroup"
)

// KillName is the registered name of the kill actionner.
const KillName = "process:kill"

// maxAncestry bounds the walk up the parent chain when checking whether a
// process descends from Riposte. Real process trees are far shallower.
const maxAncestry = 256

// KillOptions configure [Kill]. The zero value protects the current process,
// its process group and its descendants.
type KillOptions struct {
	// ProcRoot is the mount point of the host's procfs. Empty means /proc.
	ProcRoot string
	// SelfPID is Riposte's own pid. Zero means os.Getpid().
	SelfPID int
	// AllowProcessGroup permits killing processes in Riposte's process group.
	// By default they are rejected, because a shell session that started
	// Riposte shares the group.
	AllowProcessGroup bool
	// AllowDescendants permits killing Riposte's child processes and their
	// descendants. By default they are rejected.
	AllowDescendants bool
	// ProtectedPIDs are further pids that are never signalled.
	ProtectedPIDs []int
}

// Kill sends a signal to the process that an alert names. It rejects pid 1,
// kernel threads and Riposte's own processes, and it checks that the pid still
// runs the program the alert names, in the container the alert names, before
// signalling it through a pidfd, so a reused pid or a wrong alert does not
// get another process signalled.
type Kill struct {
	ancestors     map[int]bool
	procRoot      string
	self          int
	selfPgrp      int
	protectPgrp   bool
	protectDesc   bool
	protectedPIDs map[int]bool
}

// NewKill returns the kill actionner.
func NewKill(opts KillOptions) *Kill {
	k := &Kill{
		procRoot:      opts.ProcRoot,
		self:          opts.SelfPID,
		protectPgrp:   !opts.AllowProcessGroup,
		protectDesc:   !opts.AllowDescendants,
		protectedPIDs: map[int]bool{},
	}
	if k.procRoot == "" {
		k.procRoot = "/proc"
	}
	if k.self == 0 {
		k.self = os.Getpid()
	}
	if pgrp, err := syscall.Getpgid(k.self); err == nil {
		k.selfPgrp = pgrp
	}
	for _, pid := range opts.ProtectedPIDs {
		k.protectedPIDs[pid] = true
	}

	// Killing the shell or supervisor that started Riposte would stop
	// Riposte too, so its ancestors and its session leader are protected.
	// They are read once: a process that adopts Riposte later is not.
	k.ancestors = map[int]bool{}
	for pid := k.self; ; {
		st, err := readStat(k.procRoot, pid)
		if err != nil || st.ppid <= 1 {
			break
		}
		k.ancestors[st.ppid] = true
		pid = st.ppid
		if len(k.ancestors) >= maxAncestry {
			break
		}
	}
	if sid, err := unix.Getsid(k.self); err == nil && sid > 1 {
		k.ancestors[sid] = true
	}
	return k
}

// Name returns "process:kill".
func (k *Kill) Name() string { return KillName }

// Describe documents the parameters.
func (k *Kill) Describe() (string, map[string]string) {
	return "Send a signal to the offending process, by default SIGKILL.",
		map[string]string{"signal": `signal name or number, such as "SIGKILL", "TERM" or 15 (default SIGKILL)`}
}

// Permissions returns CAP_KILL, needed to signal processes of other users.
func (k *Kill) Permissions() []actionners.Permission {
	return []actionners.Permission{{Capability: "CAP_KILL"}}
}

// Validate checks the signal parameter, and rejects unknown parameters.
func (k *Kill) Validate(params map[string]any) error {
	_, err := signalParam(params)
	return err
}

// Normalize returns the parameters with the signal as its number, which is
// also what an absent signal means: 9.
func (k *Kill) Normalize(params map[string]any) map[string]any {
	sig, err := signalParam(params)
	if err != nil {
		return params
	}
	return map[string]any{"signal": int(sig)}
}

func signalParam(params map[string]any) (syscall.Signal, error) {
	for key := range params {
		if key != "signal" {
			return 0, fmt.Errorf("%w: unknown parameter %q for %s: the only parameter is \"signal\"", actionners.ErrInvalidParameters, key, KillName)
		}
	}
	v, ok := params["signal"]
	if !ok || v == nil {
		return syscall.SIGKILL, nil
	}
	return parseSignal(v)
}

// parseSignal accepts "SIGKILL", "KILL", "kill", 9 or "9".
func parseSignal(v any) (syscall.Signal, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case fmt.Stringer: // json.Number
		s = x.String()
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return 0, fmt.Errorf("%w: signal %v is a %T: give a name such as \"SIGTERM\" or a number", actionners.ErrInvalidParameters, v, v)
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return 0, fmt.Errorf("%w: signal %d out of range 1-64", actionners.ErrInvalidParameters, n)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("%w: unknown signal %q: use a name such as \"SIGKILL\" or \"SIGTERM\"", actionners.ErrInvalidParameters, s)
	}
	return sig, nil
}

// Run signals the target process. A missing or protected process gives a
// Result with OutcomeNoTarget or OutcomeRejected and a nil error.
func (k *Kill) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	start := time.Now()
	result := func(outcome actionners.Outcome, format string, args ...any) (actionners.Result, error) {
		return actionners.Result{Outcome: outcome, Message: fmt.Sprintf(format, args...), Duration: time.Since(start)}, nil
	}
	if err := ctx.Err(); err != nil {
		return actionners.Result{}, err
	}
	sig, err := signalParam(req.Action.Parameters)
	if err != nil {
		return actionners.Result{}, err
	}
	t := req.Action.Target
	if t.Kind != "process" || t.PID == 0 {
		return result(actionners.OutcomeNoTarget, "target %s is not a process with a pid", t)
	}
	pid := t.PID

	st, reason, err := k.check(pid, req)
	if errors.Is(err, os.ErrNotExist) {
		return result(actionners.OutcomeNoTarget, "process %d not found: it has exited", pid)
	}
	if err != nil {
		return actionners.Result{}, fmt.Errorf("%s %d: %w", KillName, pid, err)
	}
	if reason != "" {
		return result(actionners.OutcomeRejected, "process %d rejected: %s", pid, reason)
	}

	// Open a pidfd, then check again: a pid reused between the first check and
	// the open would be caught by the second check, and the pidfd keeps naming
	// the checked process until the signal is sent.
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return result(actionners.OutcomeNoTarget, "process %d not found: it has exited", pid)
	}
	if err != nil {
		return actionners.Result{}, fmt.Errorf("%s %d: pidfd_open: %w", KillName, pid, err)
	}
	defer unix.Close(fd)
	if st, reason, err = k.check(pid, req); errors.Is(err, os.ErrNotExist) {
		return result(actionners.OutcomeNoTarget, "process %d not found: it has exited", pid)
	} else if err != nil {
		return actionners.Result{}, fmt.Errorf("%s %d: %w", KillName, pid, err)
	} else if reason != "" {
		return result(actionners.OutcomeRejected, "process %d rejected: %s", pid, reason)
	}

	err = unix.PidfdSendSignal(fd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return result(actionners.OutcomeNoTarget, "process %d exited before the signal", pid)
	}
	if errors.Is(err, unix.EPERM) {
		return actionners.Result{}, fmt.Errorf("%s %d: send %s: %w: Riposte needs CAP_KILL to signal processes of other users", KillName, pid, unix.SignalName(sig), err)
	}
	if err != nil {
		return actionners.Result{}, fmt.Errorf("%s %d: send %s: %w", KillName, pid, unix.SignalName(sig), err)
	}
	res, _ := result(actionners.OutcomeSucceeded, "sent %s to process %d (%s)", unix.SignalName(sig), pid, st.comm)
	res.Output = map[string]any{"pid": pid, "signal": unix.SignalName(sig), "comm": st.comm}
	return res, nil
}

// Check reports whether Run would reject req or find no process, without
// signalling anything.
func (k *Kill) Check(_ context.Context, req actionners.Request) (actionners.Outcome, string, error) {
	t := req.Action.Target
	if t.Kind != "process" || t.PID == 0 {
		return actionners.OutcomeNoTarget, fmt.Sprintf("target %s is not a process with a pid", t), nil
	}
	_, reason, err := k.check(t.PID, req)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return actionners.OutcomeNoTarget, fmt.Sprintf("process %d not found: it has exited", t.PID), nil
	case err != nil:
		return "", "", fmt.Errorf("%s %d: %w", KillName, t.PID, err)
	case reason != "":
		return actionners.OutcomeRejected, fmt.Sprintf("process %d rejected: %s", t.PID, reason), nil
	}
	return "", "", nil
}

// check returns why pid must not be signalled, or "" when it may be.
func (k *Kill) check(pid int, req actionners.Request) (procStat, string, error) {
	switch {
	case pid == 1:
		return procStat{}, "pid 1 is the init process", nil
	case pid == k.self:
		return procStat{}, "it is Riposte itself", nil
	case k.protectedPIDs[pid]:
		return procStat{}, "the pid is protected by configuration", nil
	case k.ancestors[pid]:
		return procStat{}, "it started Riposte (an ancestor or the session leader of Riposte)", nil
	}
	st, err := readStat(k.procRoot, pid)
	if err != nil {
		return procStat{}, "", err
	}
	if isKernelThread(k.procRoot, pid, st) {
		return st, fmt.Sprintf("%s is a kernel thread", st.comm), nil
	}
	if st.state == 'Z' {
		return st, "it is a zombie that has already exited", nil
	}
	if k.protectPgrp && k.selfPgrp != 0 && st.pgrp == k.selfPgrp {
		return st, fmt.Sprintf("it is in Riposte's process group %d", k.selfPgrp), nil
	}
	if k.protectDesc && k.descendsFromSelf(st) {
		return st, "it is a descendant of Riposte", nil
	}
	if req.Alert != nil {
		if name, ok := req.Alert.FieldString("proc.name"); ok && name != "" && !sameComm(name, st.comm) {
			return st, fmt.Sprintf("it runs %q, not %q as the alert says: the pid was probably reused", st.comm, name), nil
		}
		reason, err := k.otherContainer(pid, req.Alert)
		if err != nil || reason != "" {
			return st, reason, err
		}
	}
	return st, "", nil
}

// otherContainer returns why pid is not the process of the alert when it
// runs in another container than the alert's container.id, or on the host
// when the alert names a container. An alert without a container id, as
// from a detector that has none, is not checked.
func (k *Kill) otherContainer(pid int, a *alert.Alert) (string, error) {
	want, ok := a.FieldString("container.id")
	if !ok || want == "" || want == "<NA>" {
		return "", nil
	}
	data, err := os.ReadFile(filepath.Join(k.procRoot, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return "", err
	}
	got := cgroup.HostID
	if c, ok := cgroup.FromProcFile(data); ok {
		got = c.ID
	}
	want = strings.ToLower(want)
	switch {
	case want == got:
		return "", nil
	case want == cgroup.HostID:
		return fmt.Sprintf("it runs in container %s, not on the host as the alert says", cgroup.ShortID(got)), nil
	case got == cgroup.HostID:
		return fmt.Sprintf("it runs on the host, not in container %s as the alert says", want), nil
	case !strings.HasPrefix(got, want):
		return fmt.Sprintf("it runs in container %s, not in container %s as the alert says", cgroup.ShortID(got), want), nil
	}
	return "", nil
}

func (k *Kill) descendsFromSelf(st procStat) bool {
	ppid := st.ppid
	for range maxAncestry {
		switch ppid {
		case k.self:
			return true
		case 0, 1:
			return false
		}
		parent, err := readStat(k.procRoot, ppid)
		if err != nil {
			return false
		}
		ppid = parent.ppid
	}
	return false
}

// sameComm compares a process name from an alert with /proc/PID/stat's comm,
// which the kernel truncates to 15 bytes (TASK_COMM_LEN minus the NUL).
func sameComm(alertName, comm string) bool {
	const taskCommLen = 15
	if len(alertName) > taskCommLen {
		alertName = alertName[:taskCommLen]
	}
	return alertName == comm
}
