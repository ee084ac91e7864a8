package event

import (
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// FDType is the kind of file a descriptor refers to.
type FDType uint8

// File descriptor types, named as Falco's fd.type field names them.
const (
	FDUnknown FDType = iota
	FDFile
	FDDirectory
	FDIPv4
	FDIPv6
	FDUnix
	FDPipe
	FDEvent
	FDSignalfd
	FDEventpoll
	FDInotify
	FDTimerfd
	FDNetlink
	FDBPF
	FDUserfaultfd
	FDIOUring
	FDMemfd
	FDPidfd
)

var fdTypes = [...]struct {
	name string
	char byte
}{
	FDUnknown:     {"unknown", 'o'},
	FDFile:        {"file", 'f'},
	FDDirectory:   {"directory", 'd'},
	FDIPv4:        {"ipv4", '4'},
	FDIPv6:        {"ipv6", '6'},
	FDUnix:        {"unix", 'u'},
	FDPipe:        {"pipe", 'p'},
	FDEvent:       {"event", 'e'},
	FDSignalfd:    {"signalfd", 's'},
	FDEventpoll:   {"eventpoll", 'l'},
	FDInotify:     {"inotify", 'i'},
	FDTimerfd:     {"timerfd", 't'},
	FDNetlink:     {"netlink", 'n'},
	FDBPF:         {"bpf", 'b'},
	FDUserfaultfd: {"userfaultfd", 'u'},
	FDIOUring:     {"io_uring", 'r'},
	FDMemfd:       {"memfd", 'm'},
	FDPidfd:       {"pidfd", 'P'},
}

// String returns Falco's fd.type name, such as "ipv4".
func (t FDType) String() string {
	if int(t) < len(fdTypes) {
		return fdTypes[t].name
	}
	return fdTypes[FDUnknown].name
}

// CharString returns Char as a one-character string, without allocating.
func (t FDType) CharString() string {
	c := t.Char()
	return charStrings[c : c+1]
}

// charStrings has every byte value at its own index, for CharString.
var charStrings = func() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}()

// Char returns Falco's fd.typechar, such as 'f' for files.
func (t FDType) Char() byte {
	if int(t) < len(fdTypes) {
		return fdTypes[t].char
	}
	return fdTypes[FDUnknown].char
}

// IsSocket reports whether t is an IPv4, IPv6 or unix socket.
func (t FDType) IsSocket() bool {
	return t == FDIPv4 || t == FDIPv6 || t == FDUnix
}

// FD is a file descriptor of a process.
type FD struct {
	Num  int64
	Type FDType
	// Path is the absolute path of a file, directory or memfd ("" for
	// sockets and anonymous files), or the bound path of a unix socket.
	Path string
	// Ino and Dev identify the inode; Mode is its i_mode; Flags are the
	// open flags (O_*).
	Ino   uint64
	Dev   uint32
	Mode  uint32
	Flags uint32

	// L4Proto is "tcp", "udp", "icmp" or "raw" for IP sockets.
	L4Proto string
	// LocalAddr and RemoteAddr are the socket's ends, with their ports.
	LocalAddr, RemoteAddr netip.Addr
	LocalPort, RemotePort uint16
	// Server is set when the local end is the server: the socket was
	// accepted or is listening.
	Server bool
}

// Connected reports whether an IP socket has a remote end.
func (fd *FD) Connected() bool {
	return fd.RemoteAddr.IsValid() && !fd.RemoteAddr.IsUnspecified() || fd.RemotePort != 0
}

// Client returns the client end of an IP socket.
func (fd *FD) Client() (netip.Addr, uint16) {
	if fd.Server {
		return fd.RemoteAddr, fd.RemotePort
	}
	return fd.LocalAddr, fd.LocalPort
}

// ServerEnd returns the server end of an IP socket.
func (fd *FD) ServerEnd() (netip.Addr, uint16) {
	if fd.Server {
		return fd.LocalAddr, fd.LocalPort
	}
	return fd.RemoteAddr, fd.RemotePort
}

// Name returns Falco's fd.name: the path of a file, the tuple
// "client:port->server:port" of a connected IP socket, "addr:port" of an
// unconnected one, and the path of a unix socket.
func (fd *FD) Name() string {
	switch fd.Type {
	case FDIPv4, FDIPv6:
		if !fd.Connected() {
			return joinHostPort(fd.LocalAddr, fd.LocalPort)
		}
		caddr, cport := fd.Client()
		saddr, sport := fd.ServerEnd()
		return joinHostPort(caddr, cport) + "->" + joinHostPort(saddr, sport)
	}
	return fd.Path
}

// Directory returns fd.directory: the directory of a file, or the path of
// a directory.
func (fd *FD) Directory() string {
	switch fd.Type {
	case FDDirectory:
		return fd.Path
	case FDFile:
		dir, _ := splitPath(fd.Path)
		return dir
	}
	return ""
}

// Filename returns fd.filename: the last component of a file's path.
func (fd *FD) Filename() string {
	switch fd.Type {
	case FDMemfd:
		// "memfd:<name>" has no directory.
		return fd.Path
	case FDFile:
		_, file := splitPath(fd.Path)
		return file
	}
	return ""
}

// splitPath splits a clean absolute path at its last slash without
// allocating; other paths go through package path.
func splitPath(p string) (dir, file string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 || i == len(p)-1 || strings.Contains(p, "//") || strings.Contains(p, "/.") {
		return path.Dir(p), path.Base(p)
	}
	return p[:i], p[i+1:]
}

func joinHostPort(addr netip.Addr, port uint16) string {
	if !addr.IsValid() {
		return ":" + strconv.Itoa(int(port))
	}
	if addr.Is6() && !addr.Is4In6() {
		return addr.String() + ":" + strconv.Itoa(int(port))
	}
	return addr.Unmap().String() + ":" + strconv.Itoa(int(port))
}
