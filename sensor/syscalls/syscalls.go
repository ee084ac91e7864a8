// Package syscalls describes the syscalls the sensor captures on x86_64:
// their numbers, how the kernel programs capture them, and their
// parameters. Parameters have the order and names of Falco's event table,
// so evt.arg.NAME and evt.arg[N] select what Falco users expect.
//
// Falco splits a syscall into an enter and an exit event; Riposte reports
// one event at exit. A syscall's parameters here are those of Falco's exit
// event, followed by the enter event's parameters that the exit event lacks.
package syscalls

import (
	"strings"

	"github.com/riposte-sec/riposte/bpf"
	"github.com/riposte-sec/riposte/sensor/event"
)

// Kind is how a parameter's value is obtained and rendered.
type Kind uint8

// Parameter kinds.
const (
	// KindRes is the return value: a number, or an errno name when negative.
	KindRes Kind = iota + 1
	// KindFD is a file descriptor number (signed).
	KindFD
	// KindInt is a signed decimal number.
	KindInt
	// KindUint is an unsigned decimal number.
	KindUint
	// KindHex is a number printed in hex.
	KindHex
	// KindOct is a mode printed in octal.
	KindOct
	// KindChmodMode is the mode of the chmod family, printed as S_I* names.
	KindChmodMode
	// KindPath is the first path argument string.
	KindPath
	// KindPath2 is the second path argument string.
	KindPath2
	// KindOpenFlags are open(2) flags, printed as O_* names.
	KindOpenFlags
	// KindOpenHowFlags are the flags of openat2's struct open_how.
	KindOpenHowFlags
	// KindOpenHowMode is the mode of openat2's struct open_how.
	KindOpenHowMode
	// KindSockaddr is the sockaddr argument, printed as an address.
	KindSockaddr
	// KindTuple is the socket's tuple as the kernel saw it after the call.
	KindTuple
	// KindDomain is a socket address family, printed as AF_* names.
	KindDomain
	// KindFDDev and KindFDIno are the device and inode of the fd's file.
	KindFDDev
	KindFDIno
	// KindPtraceRequest is a ptrace request, printed as PTRACE_* names.
	KindPtraceRequest
	// KindUID and KindGID are user and group ids, Falco's PT_UID and
	// PT_GID: unsigned numbers that evt.arg prints as the user or group
	// name of the process (see extract).
	KindUID
	KindGID
)

// Param is one parameter of a syscall event.
type Param struct {
	Name string
	Kind Kind
	// Arg is the argument register the value comes from, or -1 when the
	// kind defines the source.
	Arg int
}

// Syscall describes one captured syscall.
type Syscall struct {
	Name   string
	Nr     uint32
	Type   event.Type
	Params []Param
	// Spec is what the kernel programs capture besides the argument
	// registers.
	Spec bpf.SyscallSpec
	// PathDirArg and Path2DirArg are the registers of the directory
	// descriptors that relative Path and Path2 arguments start from, -1 when
	// they start from the working directory.
	PathDirArg, Path2DirArg int
	// OpenFlags is the "flags" parameter of the open family, nil for other
	// syscalls.
	OpenFlags *Param
}

func sys(name string, nr uint32, typ event.Type, params []Param, spec bpf.SyscallSpec) Syscall {
	return Syscall{Name: name, Nr: nr, Type: typ, Params: params, Spec: spec}
}

func p(name string, kind Kind, arg int) Param { return Param{Name: name, Kind: kind, Arg: arg} }

var (
	res = p("res", KindRes, -1)
	ret = p("fd", KindRes, -1)
)

// spec builds a capture spec; arguments are register indexes, or
// bpf.ArgNone and bpf.ArgRet.
func spec(fd, path, path2, addr, addrLen uint8) bpf.SyscallSpec {
	return bpf.SyscallSpec{Enabled: 1, FDArg: fd, PathArg: path, Path2Arg: path2, AddrArg: addr, AddrLenArg: addrLen}
}

const none = bpf.ArgNone

var (
	noCapture = spec(none, none, none, none, none)
	// fdAt0 describes the descriptor in the first argument, with the path
	// of its file: these syscalls have no path argument to name it.
	fdAt0 = withFDPath(spec(0, none, none, none, none))
)

func withFDPath(s bpf.SyscallSpec) bpf.SyscallSpec {
	s.Flags |= bpf.SpecFDPath
	return s
}

// table lists the captured syscalls. The numbers are those of the x86_64
// syscall table (arch/x86/entry/syscalls/syscall_64.tbl).
var table = []Syscall{
	sys("open", 2, event.TypeOpen, []Param{ret, p("name", KindPath, 0), p("flags", KindOpenFlags, 1), p("mode", KindOct, 2), p("dev", KindFDDev, -1), p("ino", KindFDIno, -1)},
		spec(bpf.ArgRet, 0, none, none, none)),
	sys("openat", 257, event.TypeOpenat, []Param{ret, p("dirfd", KindFD, 0), p("name", KindPath, 1), p("flags", KindOpenFlags, 2), p("mode", KindOct, 3), p("dev", KindFDDev, -1), p("ino", KindFDIno, -1)},
		spec(bpf.ArgRet, 1, none, none, none)),
	sys("openat2", 437, event.TypeOpenat2, []Param{ret, p("dirfd", KindFD, 0), p("name", KindPath, 1), p("flags", KindOpenHowFlags, -1), p("mode", KindOpenHowMode, -1), p("resolve", KindHex, -1), p("dev", KindFDDev, -1), p("ino", KindFDIno, -1)},
		spec(bpf.ArgRet, 1, none, 2, 3)),
	sys("creat", 85, event.TypeCreat, []Param{ret, p("name", KindPath, 0), p("mode", KindOct, 1), p("dev", KindFDDev, -1), p("ino", KindFDIno, -1)},
		spec(bpf.ArgRet, 0, none, none, none)),
	sys("close", 3, event.TypeClose, []Param{res, p("fd", KindFD, 0)}, noCapture),
	sys("dup", 32, event.TypeDup, []Param{res, p("oldfd", KindFD, 0)}, fdAt0),
	sys("dup2", 33, event.TypeDup2, []Param{res, p("oldfd", KindFD, 0), p("newfd", KindFD, 1)}, fdAt0),
	sys("dup3", 292, event.TypeDup3, []Param{res, p("oldfd", KindFD, 0), p("newfd", KindFD, 1), p("flags", KindHex, 2)}, fdAt0),
	sys("fcntl", 72, event.TypeFcntl, []Param{res, p("fd", KindFD, 0), p("cmd", KindInt, 1)}, fdAt0),
	sys("socket", 41, event.TypeSocket, []Param{ret, p("domain", KindDomain, 0), p("type", KindUint, 1), p("proto", KindUint, 2)},
		spec(bpf.ArgRet, none, none, none, none)),
	sys("connect", 42, event.TypeConnect, []Param{res, p("tuple", KindTuple, -1), p("fd", KindFD, 0), p("addr", KindSockaddr, 1)},
		spec(0, none, none, 1, 2)),
	sys("accept", 43, event.TypeAccept, []Param{ret, p("tuple", KindTuple, -1)},
		spec(bpf.ArgRet, none, none, none, none)),
	sys("accept4", 288, event.TypeAccept4, []Param{ret, p("tuple", KindTuple, -1), p("flags", KindHex, 3)},
		spec(bpf.ArgRet, none, none, none, none)),
	sys("bind", 49, event.TypeBind, []Param{res, p("addr", KindSockaddr, 1), p("fd", KindFD, 0)}, spec(0, none, none, 1, 2)),
	sys("listen", 50, event.TypeListen, []Param{res, p("fd", KindFD, 0), p("backlog", KindInt, 1)}, fdAt0),
	sys("sendto", 44, event.TypeSendto, []Param{res, p("fd", KindFD, 0), p("size", KindUint, 2), p("tuple", KindTuple, -1), p("addr", KindSockaddr, 4)},
		spec(0, none, none, 4, 5)),
	sys("sendmsg", 46, event.TypeSendmsg, []Param{res, p("fd", KindFD, 0), p("tuple", KindTuple, -1)}, fdAt0),
	sys("recvfrom", 45, event.TypeRecvfrom, []Param{res, p("tuple", KindTuple, -1), p("fd", KindFD, 0), p("size", KindUint, 2)}, fdAt0),
	sys("recvmsg", 47, event.TypeRecvmsg, []Param{res, p("tuple", KindTuple, -1), p("fd", KindFD, 0)}, fdAt0),
	sys("chdir", 80, event.TypeChdir, []Param{res, p("path", KindPath, 0)}, spec(none, 0, none, none, none)),
	sys("fchdir", 81, event.TypeFchdir, []Param{res, p("fd", KindFD, 0)}, fdAt0),
	sys("setuid", 105, event.TypeSetuid, []Param{res, p("uid", KindUID, 0)}, noCapture),
	sys("setgid", 106, event.TypeSetgid, []Param{res, p("gid", KindGID, 0)}, noCapture),
	sys("setreuid", 113, event.TypeSetreuid, []Param{res, p("ruid", KindUID, 0), p("euid", KindUID, 1)}, noCapture),
	sys("setregid", 114, event.TypeSetregid, []Param{res, p("rgid", KindGID, 0), p("egid", KindGID, 1)}, noCapture),
	sys("setresuid", 117, event.TypeSetresuid, []Param{res, p("ruid", KindUID, 0), p("euid", KindUID, 1), p("suid", KindUID, 2)}, noCapture),
	sys("setresgid", 119, event.TypeSetresgid, []Param{res, p("rgid", KindGID, 0), p("egid", KindGID, 1), p("sgid", KindGID, 2)}, noCapture),
	// NOTE: capset's capability sets live in user structs that the kernel
	// programs do not copy, so only res is available.
	sys("capset", 126, event.TypeCapset, []Param{res}, noCapture),
	sys("symlink", 88, event.TypeSymlink, []Param{res, p("target", KindPath, 0), p("linkpath", KindPath2, 1)}, spec(none, 0, 1, none, none)),
	sys("symlinkat", 266, event.TypeSymlinkat, []Param{res, p("target", KindPath, 0), p("linkdirfd", KindFD, 1), p("linkpath", KindPath2, 2)}, spec(none, 0, 2, none, none)),
	sys("link", 86, event.TypeLink, []Param{res, p("oldpath", KindPath, 0), p("newpath", KindPath2, 1)}, spec(none, 0, 1, none, none)),
	sys("linkat", 265, event.TypeLinkat, []Param{res, p("olddir", KindFD, 0), p("oldpath", KindPath, 1), p("newdir", KindFD, 2), p("newpath", KindPath2, 3), p("flags", KindHex, 4)},
		spec(none, 1, 3, none, none)),
	sys("unlink", 87, event.TypeUnlink, []Param{res, p("path", KindPath, 0)}, spec(none, 0, none, none, none)),
	sys("unlinkat", 263, event.TypeUnlinkat, []Param{res, p("dirfd", KindFD, 0), p("name", KindPath, 1), p("flags", KindHex, 2)}, spec(none, 1, none, none, none)),
	sys("rename", 82, event.TypeRename, []Param{res, p("oldpath", KindPath, 0), p("newpath", KindPath2, 1)}, spec(none, 0, 1, none, none)),
	sys("renameat", 264, event.TypeRenameat, []Param{res, p("olddirfd", KindFD, 0), p("oldpath", KindPath, 1), p("newdirfd", KindFD, 2), p("newpath", KindPath2, 3)},
		spec(none, 1, 3, none, none)),
	sys("renameat2", 316, event.TypeRenameat2, []Param{res, p("olddirfd", KindFD, 0), p("oldpath", KindPath, 1), p("newdirfd", KindFD, 2), p("newpath", KindPath2, 3), p("flags", KindHex, 4)},
		spec(none, 1, 3, none, none)),
	sys("mkdir", 83, event.TypeMkdir, []Param{res, p("path", KindPath, 0), p("mode", KindOct, 1)}, spec(none, 0, none, none, none)),
	sys("mkdirat", 258, event.TypeMkdirat, []Param{res, p("dirfd", KindFD, 0), p("path", KindPath, 1), p("mode", KindOct, 2)}, spec(none, 1, none, none, none)),
	sys("rmdir", 84, event.TypeRmdir, []Param{res, p("path", KindPath, 0)}, spec(none, 0, none, none, none)),
	sys("chmod", 90, event.TypeChmod, []Param{res, p("filename", KindPath, 0), p("mode", KindChmodMode, 1)}, spec(none, 0, none, none, none)),
	sys("fchmod", 91, event.TypeFchmod, []Param{res, p("fd", KindFD, 0), p("mode", KindChmodMode, 1)}, fdAt0),
	sys("fchmodat", 268, event.TypeFchmodat, []Param{res, p("dirfd", KindFD, 0), p("filename", KindPath, 1), p("mode", KindChmodMode, 2)}, spec(none, 1, none, none, none)),
	sys("ptrace", 101, event.TypePtrace, []Param{res, p("addr", KindHex, 2), p("data", KindHex, 3), p("request", KindPtraceRequest, 0), p("pid", KindInt, 1)}, noCapture),
	sys("init_module", 175, event.TypeInitModule, []Param{res, p("length", KindUint, 1), p("uargs", KindPath, 2)}, spec(none, 2, none, none, none)),
	sys("finit_module", 313, event.TypeFinitModule, []Param{res, p("fd", KindFD, 0), p("uargs", KindPath, 1), p("flags", KindHex, 2)}, withFDPath(spec(0, 1, none, none, none))),
	sys("bpf", 321, event.TypeBpf, []Param{p("fd", KindRes, -1), p("cmd", KindInt, 0)}, noCapture),
	sys("setns", 308, event.TypeSetns, []Param{res, p("fd", KindFD, 0), p("nstype", KindHex, 1)}, fdAt0),
	sys("unshare", 272, event.TypeUnshare, []Param{res, p("flags", KindHex, 0)}, noCapture),
	sys("userfaultfd", 323, event.TypeUserfaultfd, []Param{res, p("flags", KindHex, 0)}, noCapture),
}

var (
	byNr   = map[uint32]*Syscall{}
	byType []*Syscall // indexed by event.Type
)

func init() {
	for i := range table {
		s := &table[i]
		byNr[s.Nr] = s
		for int(s.Type) >= len(byType) {
			byType = append(byType, nil)
		}
		byType[s.Type] = s
		s.PathDirArg, s.Path2DirArg = dirArgs(s.Params)
		for j, prm := range s.Params {
			if prm.Name == "flags" && (prm.Kind == KindOpenFlags || prm.Kind == KindOpenHowFlags) {
				s.OpenFlags = &s.Params[j]
			}
		}
	}
}

// dirArgs finds, for each path parameter, the directory descriptor
// parameter listed before it ("dirfd", "olddirfd", "newdir" ...), in
// register order.
func dirArgs(params []Param) (pathDir, path2Dir int) {
	pathDir, path2Dir = -1, -1
	regs := map[Kind]int{}
	for _, prm := range params {
		if prm.Kind == KindPath || prm.Kind == KindPath2 {
			regs[prm.Kind] = prm.Arg
		}
	}
	for _, prm := range params {
		if prm.Kind != KindFD || !strings.Contains(prm.Name, "dir") {
			continue
		}
		if r, ok := regs[KindPath]; ok && prm.Arg < r && pathDir < 0 {
			pathDir = prm.Arg
		} else if r, ok := regs[KindPath2]; ok && prm.Arg < r {
			path2Dir = prm.Arg
		}
	}
	return pathDir, path2Dir
}

// ByNr returns the captured syscall with x86_64 number nr, or nil.
func ByNr(nr uint32) *Syscall { return byNr[nr] }

// ByType returns the captured syscall of an event type, or nil for types
// that are not syscalls of this table (exec, clone, procexit).
func ByType(t event.Type) *Syscall {
	if int(t) < len(byType) {
		return byType[t]
	}
	return nil
}

// All returns every captured syscall.
func All() []*Syscall {
	out := make([]*Syscall, len(table))
	for i := range table {
		out[i] = &table[i]
	}
	return out
}

// StateTypes are the syscalls the sensor captures to keep its descriptor
// table, working directories and credentials right, whether or not a rule
// selects them. close and fcntl are left out although they change the
// table: they are among the most frequent syscalls, and every captured
// syscall that uses a descriptor has it described by the kernel anyway. A
// closed descriptor's entry stays until its number is reused or the
// process exits, unless a rule selects close.
var StateTypes = []event.Type{
	event.TypeOpen, event.TypeOpenat, event.TypeOpenat2, event.TypeCreat,
	event.TypeDup, event.TypeDup2, event.TypeDup3,
	event.TypeSocket, event.TypeConnect, event.TypeAccept, event.TypeAccept4, event.TypeBind, event.TypeListen,
	event.TypeChdir, event.TypeFchdir,
	event.TypeSetuid, event.TypeSetgid, event.TypeSetreuid, event.TypeSetregid, event.TypeSetresuid, event.TypeSetresgid,
	event.TypeCapset,
}

// Specs returns the kernel capture specs for the given event types, keyed
// by syscall number. Types that are not in the table are skipped: exec,
// clone and exit are always captured by their own programs.
func Specs(types []event.Type) map[uint32]bpf.SyscallSpec {
	specs := make(map[uint32]bpf.SyscallSpec)
	for _, t := range types {
		if s := ByType(t); s != nil {
			specs[s.Nr] = s.Spec
		}
	}
	return specs
}
