package sensor

import (
	"net/netip"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/bpf"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/proc"
	"github.com/riposte-sec/riposte/sensor/syscalls"
)

// tcpListen is TCP_LISTEN in include/net/tcp_states.h.
const tcpListen = 10

// syscallEvent builds the event of a syscall record and applies the
// syscall's effect on the process's descriptors, working directory and
// credentials. It returns nil for a syscall number the table lacks.
func (s *Sensor) syscallEvent(rec *bpf.Syscall) *event.Event {
	info := syscalls.ByNr(rec.Nr)
	if info == nil {
		return nil
	}
	h := &rec.Header
	p := s.table.Lookup(h.PID)
	if p == nil {
		p = processFromHeader(h)
	}
	updateCredentials(p, h)
	if p.FDs == nil {
		p.FDs = event.NewFDTable()
	}

	// Syscall events are the frequent ones, so their Event and Syscall
	// values are reused; the handler must not keep them (see Config).
	sc := &s.syscall
	*sc = event.Syscall{
		Nr:            rec.Nr,
		Args:          rec.Args,
		Path:          string(rec.Path),
		Path2:         string(rec.Path2),
		PathTruncated: rec.Flags&(bpf.SyscallPathTruncated|bpf.SyscallPath2Truncated) != 0,
	}
	if len(rec.Addr) > 0 {
		sc.Addr = s.addr[:copy(s.addr[:], rec.Addr)]
	}
	ev := &s.syscallEvt
	*ev = event.Event{
		Type:    info.Type,
		Time:    s.eventTime(h),
		CPU:     h.CPU,
		TID:     h.TID,
		Res:     rec.Ret,
		Proc:    p,
		Syscall: sc,
	}
	sc.AbsPath = resolvePath(p, rec, info.PathDirArg, sc.Path)
	sc.AbsPath2 = resolvePath(p, rec, info.Path2DirArg, sc.Path2)
	sc.FD = applySyscall(info.Type, rec, sc, p)
	return ev
}

// updateCredentials copies the ids of the record's task into the entry,
// which keeps it right after setuid and its relatives.
func updateCredentials(p *event.Process, h *bpf.EventHeader) {
	p.UID, p.GID, p.EUID, p.EGID = h.UID, h.GID, h.EUID, h.EGID
	p.LoginUID = h.LoginUID
}

// applySyscall updates the process state for one syscall and returns the
// descriptor the event is about.
func applySyscall(t event.Type, rec *bpf.Syscall, sc *event.Syscall, p *event.Process) *event.FD {
	fd := fdFromRecord(rec, sc, p)
	arg0 := int64(int32(rec.Args[0]))
	ok := rec.Ret >= 0

	switch t {
	case event.TypeOpen, event.TypeOpenat, event.TypeOpenat2, event.TypeCreat:
		if !ok {
			// Falco describes a failed open as a file descriptor -1 named
			// by the requested path.
			return &event.FD{Num: -1, Type: event.FDFile, Path: sc.AbsPath}
		}
		if fd == nil {
			return nil
		}
		fd.Num = rec.Ret
		p.FDs.Set(fd)
		return fd

	case event.TypeSocket, event.TypeAccept, event.TypeAccept4:
		if !ok || fd == nil {
			return nil
		}
		fd.Num = rec.Ret
		if t == event.TypeAccept || t == event.TypeAccept4 {
			fd.Server = true
		}
		p.FDs.Set(fd)
		return fd

	case event.TypeDup, event.TypeDup2, event.TypeDup3:
		return duplicate(fd, arg0, rec.Ret, ok, p)
	case event.TypeFcntl:
		cmd := int32(rec.Args[1])
		if cmd == unix.F_DUPFD || cmd == unix.F_DUPFD_CLOEXEC {
			return duplicate(fd, arg0, rec.Ret, ok, p)
		}
		return fd

	case event.TypeClose:
		closed := p.FDs.Get(arg0)
		if ok {
			p.FDs.Delete(arg0)
		}
		return closed

	case event.TypeConnect, event.TypeBind, event.TypeListen:
		if fd == nil {
			return p.FDs.Get(arg0)
		}
		if t == event.TypeListen && ok {
			fd.Server = true
		}
		if t == event.TypeConnect && fd.RemotePort == 0 {
			// A refused or failed connect leaves the socket without a
			// peer; the address the program passed names it, as in
			// Falco's tuple.
			if addr, ok := syscalls.ParseSockaddr(sc.Addr); ok && addr.Addr.IsValid() &&
				(fd.Type == event.FDIPv4 || fd.Type == event.FDIPv6) {
				fd.RemoteAddr, fd.RemotePort = addr.Addr, addr.Port
			}
		}
		p.FDs.Set(fd)
		return fd

	case event.TypeChdir:
		if ok {
			p.Cwd = absolute(p.Cwd, sc.Path)
		}
		return nil
	case event.TypeFchdir:
		if ok && fd != nil && fd.Type == event.FDDirectory {
			p.Cwd = fd.Path
		}
		return fd
	}
	if fd == nil && rec.Flags&bpf.SyscallFDResolved == 0 && usesFD(t) {
		return p.FDs.Get(arg0)
	}
	return fd
}

// usesFD reports whether a syscall's first argument is a descriptor that
// the table can describe when the kernel could not.
func usesFD(t event.Type) bool {
	switch t {
	case event.TypeSendto, event.TypeSendmsg, event.TypeRecvfrom, event.TypeRecvmsg,
		event.TypeFchmod, event.TypeFinitModule, event.TypeSetns:
		return true
	}
	return false
}

// duplicate records the copy of a descriptor made by dup and its
// relatives, and returns the original, as Falco's fd fields describe it.
func duplicate(fd *event.FD, oldfd, newfd int64, ok bool, p *event.Process) *event.FD {
	if fd == nil {
		fd = p.FDs.Get(oldfd)
	}
	if fd == nil || !ok {
		return fd
	}
	dup := *fd
	dup.Num = newfd
	p.FDs.Set(&dup)
	return fd
}

// resolvePath makes a path argument absolute: against the directory
// descriptor in register dirArg when it is not AT_FDCWD, else against the
// working directory. It returns "" for an empty path.
func resolvePath(p *event.Process, rec *bpf.Syscall, dirArg int, pathArg string) string {
	if pathArg == "" {
		return ""
	}
	if dirArg >= 0 && !strings.HasPrefix(pathArg, "/") {
		if dirfd := int64(int32(rec.Args[dirArg])); dirfd != unix.AT_FDCWD {
			if dir := p.FDs.Get(dirfd); dir != nil && dir.Path != "" {
				return path.Join(dir.Path, pathArg)
			}
			// NOTE: a directory descriptor missing from the table leaves
			// the path relative.
			return pathArg
		}
	}
	return absolute(p.Cwd, pathArg)
}

// isClean reports whether an absolute path is already in the form
// path.Clean returns, so the common case skips the rewrite.
func isClean(p string) bool {
	if len(p) > 1 && p[len(p)-1] == '/' {
		return false
	}
	return !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}

// absolute resolves a path argument against the working directory.
func absolute(cwd, p string) string {
	if strings.HasPrefix(p, "/") && isClean(p) {
		return p
	}
	if p == "" || strings.HasPrefix(p, "/") || cwd == "" {
		return path.Clean(p)
	}
	return path.Join(cwd, p)
}

// fdFromRecord builds the descriptor the kernel described in a record, or
// returns nil when it described none.
func fdFromRecord(rec *bpf.Syscall, sc *event.Syscall, p *event.Process) *event.FD {
	if rec.Flags&bpf.SyscallFDResolved == 0 {
		return nil
	}
	fd := &event.FD{
		Num:   int64(rec.FD),
		Ino:   rec.FDIno,
		Dev:   rec.FDDev,
		Mode:  rec.FDMode,
		Flags: rec.FDFlags,
	}
	switch rec.FDMode & unix.S_IFMT {
	case unix.S_IFSOCK:
		describeSocket(fd, rec, sc)
		if prev := p.FDs.Get(fd.Num); prev != nil && prev.Ino == fd.Ino {
			// The kernel does not say which end accepted.
			fd.Server = fd.Server || prev.Server
			if fd.Path == "" {
				fd.Path = prev.Path
			}
		}
	case unix.S_IFDIR:
		fd.Type = event.FDDirectory
		fd.Path = filePath(rec, sc)
	case unix.S_IFIFO:
		fd.Type = event.FDPipe
	case unix.S_IFREG, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFLNK:
		fd.Type = event.FDFile
		fd.Path = filePath(rec, sc)
		if rec.Flags&bpf.SyscallFDDetached != 0 && strings.HasPrefix(fd.Path, "/memfd:") {
			fd.Type = event.FDMemfd
			fd.Path = strings.TrimPrefix(fd.Path, "/")
		}
	default:
		// Anonymous inodes (eventfd, epoll, bpf ...) have no file type
		// bits, so their dentry name identifies the kind.
		fd.Type = proc.AnonFDType(strings.TrimPrefix(bpf.SplitPath(rec.FDPath), "/"))
	}
	return fd
}

// filePath returns the path of the record's file: the kernel's when it
// wrote one, else the path argument made absolute. The open family sends
// no kernel path because, as in Falco, fd.name is the path as requested.
func filePath(rec *bpf.Syscall, sc *event.Syscall) string {
	if len(rec.FDPath) > 0 {
		return bpf.SplitPath(rec.FDPath)
	}
	return sc.AbsPath
}

// describeSocket fills the socket fields of fd from the record.
func describeSocket(fd *event.FD, rec *bpf.Syscall, sc *event.Syscall) {
	switch rec.SkFamily {
	case unix.AF_INET:
		fd.Type = event.FDIPv4
		fd.LocalAddr = netip.AddrFrom4([4]byte(rec.SkLaddr[:4]))
		fd.RemoteAddr = netip.AddrFrom4([4]byte(rec.SkRaddr[:4]))
	case unix.AF_INET6:
		fd.Type = event.FDIPv6
		fd.LocalAddr = netip.AddrFrom16(rec.SkLaddr)
		fd.RemoteAddr = netip.AddrFrom16(rec.SkRaddr)
	case unix.AF_UNIX:
		fd.Type = event.FDUnix
		if addr, ok := syscalls.ParseSockaddr(sc.Addr); ok && addr.Family == unix.AF_UNIX {
			fd.Path = addr.Path
		}
		return
	case unix.AF_NETLINK:
		fd.Type = event.FDNetlink
		return
	default:
		fd.Type = event.FDUnknown
		return
	}
	fd.LocalPort, fd.RemotePort = rec.SkLport, rec.SkRport
	fd.Server = rec.SkState == tcpListen
	switch {
	case rec.SkProtocol == unix.IPPROTO_TCP:
		fd.L4Proto = "tcp"
	case rec.SkProtocol == unix.IPPROTO_UDP:
		fd.L4Proto = "udp"
	case rec.SkProtocol == unix.IPPROTO_ICMP || rec.SkProtocol == unix.IPPROTO_ICMPV6:
		fd.L4Proto = "icmp"
	case rec.SkType == unix.SOCK_RAW:
		fd.L4Proto = "raw"
	}
}
