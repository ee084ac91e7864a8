package sensor

import (
	"fmt"
	"strings"
	"time"

	"github.com/riposte-sec/riposte/bpf"
	"github.com/riposte-sec/riposte/sensor/cgroup"
	"github.com/riposte-sec/riposte/sensor/event"
)

// x86_64 syscall numbers of the calls that create tasks.
const (
	nrClone  = 56
	nrFork   = 57
	nrVfork  = 58
	nrClone3 = 435
)

// handleRecord decodes one ring-buffer record, updates the process table
// and delivers the resulting event.
func (s *Sensor) handleRecord(raw []byte) error {
	kind, err := bpf.Kind(raw)
	if err != nil {
		return err
	}
	var ev *event.Event
	switch kind {
	case bpf.RecordExec:
		rec, err := bpf.DecodeExec(raw)
		if err != nil {
			return err
		}
		ev = s.execEvent(&rec)
	case bpf.RecordFork:
		rec, err := bpf.DecodeFork(raw)
		if err != nil {
			return err
		}
		ev = s.forkEvent(&rec)
	case bpf.RecordExit:
		rec, err := bpf.DecodeExit(raw)
		if err != nil {
			return err
		}
		ev = s.exitEvent(&rec)
		defer func() {
			if rec.Flags&bpf.ExitGroupDead != 0 {
				s.table.Exit(rec.Header.PID)
			}
		}()
	case bpf.RecordSyscall:
		rec := &s.syscallRec
		if err := bpf.DecodeSyscallInto(raw, rec); err != nil {
			return err
		}
		ev = s.syscallEvent(rec)
		if ev == nil {
			return fmt.Errorf("syscall record for syscall %d: not in the syscall table", rec.Nr)
		}
	default:
		return fmt.Errorf("record kind %d: unknown", uint32(kind))
	}
	s.deliver(ev)
	return nil
}

func (s *Sensor) deliver(ev *event.Event) {
	s.eventNum++
	ev.Num = s.eventNum
	s.cfg.Handler(ev)
	s.eventsDelivered.Add(1)
}

func (s *Sensor) eventTime(h *bpf.EventHeader) time.Time {
	return time.Unix(0, int64(h.TsNs)+int64(s.bootOffset))
}

// execEvent builds the event of an exec record. A successful exec replaces
// the process's table entry with one built from the record.
func (s *Sensor) execEvent(rec *bpf.Exec) *event.Event {
	h := &rec.Header
	ev := &event.Event{
		Type: event.TypeExecve,
		Time: s.eventTime(h),
		CPU:  h.CPU,
		TID:  h.TID,
		Res:  rec.Retval,
		Exec: &event.Exec{
			Filename:      string(rec.Filename),
			Args:          bpf.SplitArgs(rec.Args),
			ArgsTruncated: rec.Flags&bpf.ExecArgsTruncated != 0,
		},
	}
	if rec.Flags&bpf.ExecExecveat != 0 {
		ev.Type = event.TypeExecveat
	}

	if rec.Retval != 0 {
		ev.Proc = s.table.Lookup(h.PID)
		if ev.Proc == nil {
			ev.Proc = processFromExec(rec, ev.Exec.Args)
		}
		return ev
	}
	p := processFromExec(rec, ev.Exec.Args)
	// exec leaves one thread: de_thread ends the others first.
	p.Threads = 1
	if old := s.table.Get(h.PID); old == nil {
		p.StartTime = ev.Time
	}
	s.table.Exec(p)
	ev.Proc = p
	return ev
}

// processFromExec builds a table entry from an exec record.
func processFromExec(rec *bpf.Exec, args []string) *event.Process {
	h := &rec.Header
	p := &event.Process{
		PID:           h.PID,
		PPID:          h.PPID,
		VPID:          rec.VPID,
		Name:          bpf.CString(h.Comm[:]),
		Args:          args,
		ArgsTruncated: rec.Flags&bpf.ExecArgsTruncated != 0,
		UID:           h.UID,
		GID:           h.GID,
		EUID:          h.EUID,
		EGID:          h.EGID,
		LoginUID:      h.LoginUID,
		TTY:           encodeDev(rec.TTY),
		PIDNS:         rec.PIDNS,
		MntNS:         rec.MntNS,
		CgroupID:      h.CgroupID,
		ContainerID:   cgroup.HostID,

		SID:            rec.SID,
		PGID:           rec.PGID,
		CapInheritable: rec.CapInheritable,
		CapPermitted:   rec.CapPermitted,
		CapEffective:   rec.CapEffective,
		ExeIno:         rec.ExeIno,
		ExeMode:        rec.ExeMode,
		ExeUID:         rec.ExeUID,
		ExeGID:         rec.ExeGID,
		ExeOverlay:     rec.ExeFlags&bpf.ExeOverlay != 0,
		ExeUpperLayer:  rec.ExeFlags&bpf.ExeUpperLayer != 0,
	}
	if rec.ExeIno != 0 {
		p.ExeCtime = time.Unix(0, rec.ExeCtimeNs)
		p.ExeMtime = time.Unix(0, rec.ExeMtimeNs)
	}
	if rec.Flags&bpf.ExecExeResolved != 0 {
		p.ExePath = bpf.SplitPath(rec.Exe)
		if rec.Flags&bpf.ExecExeDetached != 0 {
			// A file outside any mount's tree (memfd, deleted pseudo file)
			// has no path, only a name. Falco prints memfd executables as
			// "memfd:<name>", and its rules compare with that form.
			p.ExePath = strings.TrimPrefix(p.ExePath, "/")
			p.ExeFromMemfd = strings.HasPrefix(p.ExePath, "memfd:")
		}
	} else if rec.Retval == 0 {
		p.ExePath = string(rec.Filename)
	}
	if rec.Flags&bpf.ExecCwdResolved != 0 {
		p.Cwd = bpf.SplitPath(rec.Cwd)
	}

	// The v1 path comes first: on a hybrid host a runtime may have placed
	// the process in a container cgroup only in the v1 hierarchies.
	for _, raw := range [][]byte{rec.CgroupV1, rec.Cgroup} {
		if len(raw) == 0 {
			continue
		}
		path := bpf.SplitPath(raw)
		p.Cgroups = append(p.Cgroups, path)
		if p.ContainerID != cgroup.HostID {
			continue
		}
		if c, ok := cgroup.FromPath(path); ok {
			p.ContainerID = c.ID
			p.ContainerRuntime = string(c.Runtime)
		}
	}
	return p
}

// encodeDev converts a kernel dev_t (major << 20 | minor) to the user-space
// encoding of /proc/<pid>/stat's tty_nr, which is what Falco's proc.tty
// reports.
func encodeDev(dev uint32) uint32 {
	major := dev >> 20
	minor := dev & 0xfffff
	return (minor & 0xff) | (major << 8) | ((minor &^ 0xff) << 12)
}

// forkEvent builds the event of a fork record and adds the child to the
// process table unless it is a thread.
func (s *Sensor) forkEvent(rec *bpf.ForkEvent) *event.Event {
	h := &rec.Header
	ev := &event.Event{
		Type: event.TypeClone,
		Time: s.eventTime(h),
		CPU:  h.CPU,
		TID:  h.TID,
		Res:  int64(rec.ChildTID),
		Clone: &event.Clone{
			ChildPID: rec.ChildPID,
			ChildTID: rec.ChildTID,
			Flags:    rec.CloneFlags,
			Thread:   rec.Flags&bpf.ForkThread != 0,
		},
	}
	switch rec.SyscallNr {
	case nrFork:
		ev.Type = event.TypeFork
	case nrVfork:
		ev.Type = event.TypeVfork
	case nrClone3:
		ev.Type = event.TypeClone3
	}
	if !ev.Clone.Thread {
		if c := s.table.Fork(h.PID, rec.ChildPID, event.Process{StartTime: ev.Time}); c != nil {
			c.Threads = 1
		}
	}
	ev.Proc = s.table.Lookup(h.PID)
	if ev.Proc != nil && ev.Clone.Thread {
		ev.Proc.Threads++
	}
	if ev.Proc == nil {
		ev.Proc = processFromHeader(h)
	}
	return ev
}

// exitEvent builds the event of an exit record. The caller removes the
// table entry after delivery when the whole process is gone.
func (s *Sensor) exitEvent(rec *bpf.ExitEvent) *event.Event {
	h := &rec.Header
	ev := &event.Event{
		Type: event.TypeProcExit,
		Time: s.eventTime(h),
		CPU:  h.CPU,
		TID:  h.TID,
		Exit: &event.Exit{
			Status:    rec.ExitCode,
			GroupDead: rec.Flags&bpf.ExitGroupDead != 0,
		},
	}
	ev.Proc = s.table.Get(h.PID)
	if ev.Proc == nil {
		ev.Proc = processFromHeader(h)
	}
	if !ev.Exit.GroupDead && ev.Proc.Threads > 1 {
		ev.Proc.Threads--
	}
	return ev
}

// processFromHeader builds a minimal entry for a process that is in neither
// the table nor procfs.
func processFromHeader(h *bpf.EventHeader) *event.Process {
	return &event.Process{
		PID:         h.PID,
		PPID:        h.PPID,
		VPID:        h.PID,
		Name:        bpf.CString(h.Comm[:]),
		UID:         h.UID,
		GID:         h.GID,
		EUID:        h.EUID,
		EGID:        h.EGID,
		LoginUID:    h.LoginUID,
		CgroupID:    h.CgroupID,
		ContainerID: cgroup.HostID,
	}
}
