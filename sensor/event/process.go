package event

import (
	"path"
	"strings"
	"time"
)

// LoginUIDUnset is the login uid of processes started outside a login
// session ((uid_t)-1).
const LoginUIDUnset = ^uint32(0)

// maxAncestry bounds ancestor walks, which protects against a cycle in
// corrupt parent links.
const maxAncestry = 64

// Process is an entry of the sensor's process table: what Falco's proc.*,
// user.*, group.* and container.* fields read. The table replaces the entry
// of a process when it execs. A delivered entry changes only in its Parent
// link and PPID (when the parent exits), its credentials and Cwd (after
// setuid or chdir), and its FDs table.
type Process struct {
	PID  uint32
	PPID uint32
	// VPID is the process id inside its own pid namespace.
	VPID uint32
	// Name is the kernel's comm (at most 15 bytes).
	Name string
	// Args is argv, argv[0] included.
	Args []string
	// ArgsTruncated is set when argv was cut to fit the kernel record.
	ArgsTruncated bool
	// ExePath is the path of the executable file; "memfd:<name>" for an
	// anonymous memfd_create file, as Falco names it.
	ExePath string
	// ExeFromMemfd is set when the executable is a memfd_create file.
	ExeFromMemfd bool
	Cwd          string

	UID, GID, EUID, EGID uint32
	// LoginUID is the audit login uid, LoginUIDUnset when none.
	LoginUID uint32
	// TTY is the controlling terminal as in /proc/<pid>/stat (tty_nr), 0 for
	// none.
	TTY uint32

	// SID and PGID are the session and process group ids, in the initial
	// pid namespace.
	SID, PGID uint32

	// Capability sets of the main thread as bit masks (bit n is
	// capability n).
	CapInheritable, CapPermitted, CapEffective uint64

	// Exe* describe the executable's inode: number, times, mode bits and
	// owner.
	ExeIno         uint64
	ExeCtime       time.Time
	ExeMtime       time.Time
	ExeMode        uint32
	ExeUID, ExeGID uint32
	// ExeOverlay is set when the executable is on an overlayfs, and
	// ExeUpperLayer when it is in the overlay's upper (writable) layer, as a
	// file written into a running container is.
	ExeOverlay, ExeUpperLayer bool

	// EnvShebang is set when env(1) started the program for the #! line of
	// a script (#!/usr/bin/env bash): the process ran env before, under the
	// name the kernel gives a script's process, that of the script file.
	EnvShebang bool

	// Threads is the number of threads, counted from clone and exit events
	// after the entry was read from procfs or created by exec.
	Threads int

	PIDNS, MntNS uint32
	CgroupID     uint64
	// Cgroups are the cgroup paths the container id was derived from.
	Cgroups []string
	// ContainerID is the full container id, or "host".
	ContainerID      string
	ContainerRuntime string

	// StartTime is when the process was created, or exec'd when it was
	// first seen at an exec.
	StartTime time.Time

	// FDs are the open file descriptors, nil when unknown. Entries built
	// for one process (an exec replacing the entry) share the table.
	FDs *FDTable

	// Parent is the parent's entry, nil when unknown.
	Parent *Process
}

// Exe returns argv[0], as Falco's proc.exe does.
func (p *Process) Exe() string {
	if len(p.Args) == 0 {
		return ""
	}
	return p.Args[0]
}

// ArgsString returns the arguments after argv[0] joined by spaces
// (proc.args).
func (p *Process) ArgsString() string {
	if len(p.Args) <= 1 {
		return ""
	}
	return strings.Join(p.Args[1:], " ")
}

// Cmdline returns the name followed by the arguments (proc.cmdline).
func (p *Process) Cmdline() string {
	a := p.ArgsString()
	if a == "" {
		return p.Name
	}
	return p.Name + " " + a
}

// ExeWritable reports whether the process's effective user may write its
// executable, judged from the inode's mode and owner (Falco's
// proc.is_exe_writable). Root may write any executable.
func (p *Process) ExeWritable() bool {
	switch {
	case p.ExeMode == 0:
		return false
	case p.EUID == 0:
		return true
	case p.EUID == p.ExeUID:
		return p.ExeMode&0o200 != 0
	case p.EGID == p.ExeGID:
		return p.ExeMode&0o020 != 0
	}
	return p.ExeMode&0o002 != 0
}

// ExeName returns the base name of ExePath.
func (p *Process) ExeName() string {
	return path.Base(p.ExePath)
}

// ShortContainerID returns the first 12 characters of the container id, or
// "host" (Falco's container.id).
func (p *Process) ShortContainerID() string {
	if len(p.ContainerID) > 12 {
		return p.ContainerID[:12]
	}
	return p.ContainerID
}

// Ancestor returns the n-th ancestor: 1 is the parent, 2 the grandparent.
// It returns nil when the chain is shorter or n is less than 1.
func (p *Process) Ancestor(n int) *Process {
	if n < 1 || n > maxAncestry {
		return nil
	}
	a := p
	for i := 0; i < n && a != nil; i++ {
		a = a.Parent
	}
	return a
}

// Ancestors returns the chain of known ancestors, parent first.
func (p *Process) Ancestors() []*Process {
	var out []*Process
	for a := p.Parent; a != nil && len(out) < maxAncestry; a = a.Parent {
		out = append(out, a)
	}
	return out
}
