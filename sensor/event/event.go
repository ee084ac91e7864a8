// Package event defines the events that the sensor delivers and the process
// state they refer to.
//
// An Event is one system call or process lifecycle step, named like the
// event types of Falco's syscall source (execve, clone, procexit, ...), so
// that rules written for Falco select the same events. Each Event points to
// the Process that caused it, as recorded in the sensor's process table.
package event

import (
	"time"
)

// Type is the kind of an event. Its String form is the Falco event type
// name used in evt.type conditions.
type Type uint16

// Event types. Their names are Falco's event type names.
const (
	TypeUnknown Type = iota
	TypeExecve
	TypeExecveat
	TypeClone
	TypeClone3
	TypeFork
	TypeVfork
	TypeProcExit
	TypeOpen
	TypeOpenat
	TypeOpenat2
	TypeCreat
	TypeClose
	TypeDup
	TypeDup2
	TypeDup3
	TypeFcntl
	TypeSocket
	TypeConnect
	TypeAccept
	TypeAccept4
	TypeBind
	TypeListen
	TypeSendto
	TypeSendmsg
	TypeRecvfrom
	TypeRecvmsg
	TypeChdir
	TypeFchdir
	TypeSetuid
	TypeSetgid
	TypeSetreuid
	TypeSetregid
	TypeSetresuid
	TypeSetresgid
	TypeCapset
	TypeSymlink
	TypeSymlinkat
	TypeLink
	TypeLinkat
	TypeUnlink
	TypeUnlinkat
	TypeRename
	TypeRenameat
	TypeRenameat2
	TypeMkdir
	TypeMkdirat
	TypeRmdir
	TypeChmod
	TypeFchmod
	TypeFchmodat
	TypePtrace
	TypeInitModule
	TypeFinitModule
	TypeBpf
	TypeSetns
	TypeUnshare
	TypeUserfaultfd

	typeCount
)

var typeNames = [typeCount]string{
	TypeUnknown:     "unknown",
	TypeExecve:      "execve",
	TypeExecveat:    "execveat",
	TypeClone:       "clone",
	TypeClone3:      "clone3",
	TypeFork:        "fork",
	TypeVfork:       "vfork",
	TypeProcExit:    "procexit",
	TypeOpen:        "open",
	TypeOpenat:      "openat",
	TypeOpenat2:     "openat2",
	TypeCreat:       "creat",
	TypeClose:       "close",
	TypeDup:         "dup",
	TypeDup2:        "dup2",
	TypeDup3:        "dup3",
	TypeFcntl:       "fcntl",
	TypeSocket:      "socket",
	TypeConnect:     "connect",
	TypeAccept:      "accept",
	TypeAccept4:     "accept4",
	TypeBind:        "bind",
	TypeListen:      "listen",
	TypeSendto:      "sendto",
	TypeSendmsg:     "sendmsg",
	TypeRecvfrom:    "recvfrom",
	TypeRecvmsg:     "recvmsg",
	TypeChdir:       "chdir",
	TypeFchdir:      "fchdir",
	TypeSetuid:      "setuid",
	TypeSetgid:      "setgid",
	TypeSetreuid:    "setreuid",
	TypeSetregid:    "setregid",
	TypeSetresuid:   "setresuid",
	TypeSetresgid:   "setresgid",
	TypeCapset:      "capset",
	TypeSymlink:     "symlink",
	TypeSymlinkat:   "symlinkat",
	TypeLink:        "link",
	TypeLinkat:      "linkat",
	TypeUnlink:      "unlink",
	TypeUnlinkat:    "unlinkat",
	TypeRename:      "rename",
	TypeRenameat:    "renameat",
	TypeRenameat2:   "renameat2",
	TypeMkdir:       "mkdir",
	TypeMkdirat:     "mkdirat",
	TypeRmdir:       "rmdir",
	TypeChmod:       "chmod",
	TypeFchmod:      "fchmod",
	TypeFchmodat:    "fchmodat",
	TypePtrace:      "ptrace",
	TypeInitModule:  "init_module",
	TypeFinitModule: "finit_module",
	TypeBpf:         "bpf",
	TypeSetns:       "setns",
	TypeUnshare:     "unshare",
	TypeUserfaultfd: "userfaultfd",
}

func (t Type) String() string {
	if t < typeCount {
		return typeNames[t]
	}
	return typeNames[TypeUnknown]
}

// TypeByName returns the event type with the given Falco name.
func TypeByName(name string) (Type, bool) {
	for t, n := range typeNames {
		if n == name && Type(t) != TypeUnknown {
			return Type(t), true
		}
	}
	return TypeUnknown, false
}

// Types returns every known event type except TypeUnknown.
func Types() []Type {
	ts := make([]Type, 0, typeCount-1)
	for t := TypeUnknown + 1; t < typeCount; t++ {
		ts = append(ts, t)
	}
	return ts
}

// Event is one event seen by the sensor.
type Event struct {
	// Num numbers the events delivered by one sensor, starting at 1 (Falco's
	// evt.num).
	Num  uint64
	Type Type
	// Time is the wall-clock time at which the kernel recorded the event.
	Time time.Time
	CPU  uint32
	// TID is the id of the thread that caused the event.
	TID uint32
	// Res is the return value: 0 or a positive value on success, a negative
	// errno on failure (Falco's evt.rawres). Clone events carry the child's
	// thread id; procexit events carry 0.
	Res int64
	// Proc is the process that caused the event. For a successful exec it
	// describes the new program; for a failed one, the program that called
	// exec. The sensor owns the Process: it is valid during the handler call
	// and must be copied to be used later.
	Proc *Process

	// Exactly one of the following is set, matching Type.
	Exec    *Exec
	Clone   *Clone
	Exit    *Exit
	Syscall *Syscall
}

// Syscall holds the arguments of a syscall other than exec, clone and
// exit, as they were when it returned.
type Syscall struct {
	// Nr is the x86_64 syscall number.
	Nr uint32
	// Args are the raw argument registers.
	Args [6]uint64
	// Path and Path2 are the path arguments as passed, when the syscall has
	// them (for link and rename, the old and the new path).
	Path, Path2 string
	// PathTruncated is set when Path or Path2 was cut to fit the record.
	PathTruncated bool
	// AbsPath and AbsPath2 are Path and Path2 made absolute against the
	// working directory or the directory descriptor argument.
	AbsPath, AbsPath2 string
	// Addr is the raw sockaddr argument of connect, bind and sendto, or the
	// struct open_how of openat2.
	Addr []byte
	// FD describes the file descriptor that the syscall used or created,
	// nil when it has none or the kernel could not resolve it.
	FD *FD
}

// Exec holds the arguments of an execve or execveat call.
type Exec struct {
	// Filename is the path passed to the syscall.
	Filename string
	// Args is argv of the call, argv[0] included; empty arguments are kept.
	Args []string
	// ArgsTruncated is set when argv did not fit in the kernel record.
	ArgsTruncated bool
}

// Clone holds the result of a process or thread creation.
type Clone struct {
	ChildPID uint32
	ChildTID uint32
	// Flags are the clone flags (CLONE_*); zero for fork and vfork.
	Flags uint64
	// Thread is set when the child joined the parent's thread group.
	Thread bool
}

// Exit holds the termination status of a thread or process.
type Exit struct {
	// Status is the wait status: exit code << 8, or the terminating signal.
	Status uint32
	// GroupDead is set when the last thread of the process exited.
	GroupDead bool
}

// ExitCode returns the exit code when the process exited normally.
func (x *Exit) ExitCode() (int, bool) {
	if x.Status&0x7f != 0 {
		return 0, false
	}
	return int(x.Status>>8) & 0xff, true
}

// Signal returns the signal that terminated the process, if any.
func (x *Exit) Signal() (int, bool) {
	sig := int(x.Status & 0x7f)
	return sig, sig != 0
}
