package extract

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/syscalls"
)

func isFDField(id fields.ID) bool {
	switch id {
	case fields.FdNum, fields.FdType, fields.FdTypechar, fields.FdName, fields.FdNameraw,
		fields.FdDirectory, fields.FdFilename, fields.FdIP, fields.FdCIP, fields.FdSIP,
		fields.FdLIP, fields.FdRIP, fields.FdPort, fields.FdCPort, fields.FdSPort, fields.FdLPort,
		fields.FdRPort, fields.FdL4Proto, fields.FdSockfamily, fields.FdIsServer, fields.FdNet,
		fields.FdCNet, fields.FdSNet, fields.FdLNet, fields.FdRNet, fields.FdConnected,
		fields.FdNameChanged, fields.FdDev, fields.FdIno, fields.FdTypes, fields.FdSIPName,
		fields.FsPathName, fields.FsPathNameraw, fields.FsPathSource, fields.FsPathTarget:
		return true
	}
	return false
}

func addr(dst []fields.Value, a netip.Addr) []fields.Value {
	if !a.IsValid() {
		return dst
	}
	return append(dst, fields.Value{Addr: a.Unmap()})
}

// extractFD extracts the fd.* fields from the event's descriptor and the
// fs.path.* fields from its path arguments. names gives fd.sip.name.
func extractFD(ref *fields.Ref, ev *event.Event, names *Names, dst []fields.Value) []fields.Value {
	sc := ev.Syscall
	if sc == nil {
		return dst
	}
	switch ref.Field {
	case fields.FsPathName:
		if sc.Path2 != "" || sc.AbsPath == "" {
			return dst
		}
		return str(dst, sc.AbsPath)
	case fields.FsPathNameraw:
		if sc.Path2 != "" || sc.Path == "" {
			return dst
		}
		return str(dst, sc.Path)
	case fields.FsPathSource:
		if sc.Path2 == "" {
			return dst
		}
		return str(dst, sc.AbsPath)
	case fields.FsPathTarget:
		if sc.Path2 == "" {
			return dst
		}
		return str(dst, sc.AbsPath2)
	case fields.FdNameraw:
		if sc.Path == "" {
			return dst
		}
		return str(dst, sc.Path)
	}

	fd := sc.FD
	if fd == nil {
		return dst
	}
	ip := fd.Type == event.FDIPv4 || fd.Type == event.FDIPv6
	switch ref.Field {
	case fields.FdNum:
		return num(dst, fd.Num)
	case fields.FdType:
		return str(dst, fd.Type.String())
	case fields.FdTypes:
		return str(dst, fd.Type.String())
	case fields.FdTypechar:
		return str(dst, fd.Type.CharString())
	case fields.FdName:
		return str(dst, fd.Name())
	case fields.FdDirectory:
		if d := fd.Directory(); d != "" {
			return str(dst, d)
		}
	case fields.FdFilename:
		if f := fd.Filename(); f != "" {
			return str(dst, f)
		}
	case fields.FdDev:
		return num(dst, int64(fd.Dev))
	case fields.FdIno:
		return num(dst, int64(fd.Ino))
	case fields.FdNameChanged:
		return boolean(dst, false)
	case fields.FdSockfamily:
		switch {
		case ip:
			return str(dst, "ip")
		case fd.Type == event.FDUnix:
			return str(dst, "unix")
		}
	case fields.FdIsServer:
		if fd.Type.IsSocket() {
			return boolean(dst, fd.Server)
		}
	case fields.FdConnected:
		if ip {
			return boolean(dst, fd.Connected())
		}
	case fields.FdL4Proto:
		if ip && fd.L4Proto != "" {
			return str(dst, fd.L4Proto)
		}
	}
	if !ip {
		return dst
	}
	caddr, cport := fd.Client()
	saddr, sport := fd.ServerEnd()
	switch ref.Field {
	case fields.FdIP, fields.FdNet:
		return addr(addr(dst, caddr), saddr)
	case fields.FdCIP, fields.FdCNet:
		return addr(dst, caddr)
	case fields.FdSIP, fields.FdSNet:
		return addr(dst, saddr)
	case fields.FdSIPName:
		if !saddr.IsValid() {
			return dst
		}
		for _, name := range names.Lookup(saddr) {
			dst = str(dst, name)
		}
		return dst
	case fields.FdLIP, fields.FdLNet:
		return addr(dst, fd.LocalAddr)
	case fields.FdRIP, fields.FdRNet:
		return addr(dst, fd.RemoteAddr)
	case fields.FdPort:
		return num(num(dst, int64(cport)), int64(sport))
	case fields.FdCPort:
		return num(dst, int64(cport))
	case fields.FdSPort:
		return num(dst, int64(sport))
	case fields.FdLPort:
		return num(dst, int64(fd.LocalPort))
	case fields.FdRPort:
		return num(dst, int64(fd.RemotePort))
	}
	return dst
}

// isOpen computes evt.is_open_read and its siblings from the open flags of
// an open-family event.
func isOpen(id fields.ID, ev *event.Event) bool {
	flags, found := syscalls.RawOpenFlags(ev)
	if ev.Type == event.TypeCreat {
		// creat is open with O_CREAT|O_WRONLY|O_TRUNC.
		flags, found = 0o1101, true
	}
	if !found {
		return false
	}
	switch id {
	case fields.EvtIsOpenRead:
		return syscalls.OpenReads(flags)
	case fields.EvtIsOpenWrite:
		return syscalls.OpenWrites(flags)
	case fields.EvtIsOpenCreate:
		// NOTE: Falco is true here only when the kernel created the file
		// (FMODE_CREATED, printed as O_F_CREATED). The sensor does not
		// capture f_mode yet, so an open with O_CREAT of a file that
		// already exists is true here too.
		return syscalls.OpenCreates(flags)
	}
	// evt.is_open_exec: a file created with an execute permission bit, as
	// droppers create their payload.
	mode, ok := syscalls.RawOpenMode(ev)
	return ok && flags&(unix.O_CREAT|unix.O_TMPFILE) != 0 && mode&0o111 != 0
}

// isIO computes evt.is_io and its siblings from the event type.
func isIO(id fields.ID, t event.Type) bool {
	read := t == event.TypeRecvfrom || t == event.TypeRecvmsg
	write := t == event.TypeSendto || t == event.TypeSendmsg
	switch id {
	case fields.EvtIsIORead:
		return read
	case fields.EvtIsIOWrite:
		return write
	case fields.EvtIsIO:
		return read || write
	}
	return false
}

// category returns Falco's evt.category for an event type.
func category(t event.Type) string {
	switch t {
	case event.TypeExecve, event.TypeExecveat, event.TypeClone, event.TypeClone3, event.TypeFork,
		event.TypeVfork, event.TypeProcExit, event.TypeSetuid, event.TypeSetgid, event.TypeSetreuid,
		event.TypeSetregid, event.TypeSetresuid, event.TypeSetresgid, event.TypeCapset, event.TypePtrace,
		event.TypeSetns, event.TypeUnshare:
		return "process"
	case event.TypeSocket, event.TypeConnect, event.TypeAccept, event.TypeAccept4, event.TypeBind, event.TypeListen:
		return "net"
	case event.TypeSendto, event.TypeSendmsg:
		return "io_write"
	case event.TypeRecvfrom, event.TypeRecvmsg:
		return "io_read"
	case event.TypeClose, event.TypeDup, event.TypeDup2, event.TypeDup3, event.TypeFcntl:
		return "io_other"
	}
	return "file"
}
