package proc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/riposte-sec/riposte/sensor/event"
)

// socketInfo is a socket found in /proc/<pid>/net.
type socketInfo struct {
	typ        event.FDType
	l4         string
	local      netip.Addr
	localPort  uint16
	remote     netip.Addr
	remotePort uint16
	listening  bool
	path       string
}

// tcpListen is the TCP_LISTEN state in /proc/net/tcp.
const tcpListen = 0x0a

// socketsByInode parses the socket tables of one network namespace, as
// seen through /proc/<pid>/net, keyed by socket inode.
func (fs *FS) socketsByInode(pid uint32) map[uint64]socketInfo {
	socks := make(map[uint64]socketInfo)
	dir := fs.path(pid, "net")
	for _, f := range []struct {
		name string
		typ  event.FDType
		l4   string
	}{
		{"tcp", event.FDIPv4, "tcp"}, {"tcp6", event.FDIPv6, "tcp"},
		{"udp", event.FDIPv4, "udp"}, {"udp6", event.FDIPv6, "udp"},
		{"raw", event.FDIPv4, "raw"}, {"raw6", event.FDIPv6, "raw"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if err == nil {
			parseIPSockets(data, f.typ, f.l4, socks)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "unix")); err == nil {
		parseUnixSockets(data, socks)
	}
	return socks
}

// parseIPSockets parses /proc/net/tcp and its siblings. Addresses are hex
// words in host byte order (little-endian on x86_64), ports hex numbers.
func parseIPSockets(data []byte, typ event.FDType, l4 string, socks map[uint64]socketInfo) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		local, lport, ok1 := parseHexAddr(f[1])
		remote, rport, ok2 := parseHexAddr(f[2])
		state, err := strconv.ParseUint(f[3], 16, 8)
		inode, err2 := strconv.ParseUint(f[9], 10, 64)
		if !ok1 || !ok2 || err != nil || err2 != nil || inode == 0 {
			continue
		}
		socks[inode] = socketInfo{
			typ: typ, l4: l4, local: local, localPort: lport, remote: remote, remotePort: rport,
			listening: l4 == "tcp" && state == tcpListen,
		}
	}
}

// parseHexAddr parses "0100007F:0016" (IPv4) or a 32-digit IPv6 form.
func parseHexAddr(s string) (netip.Addr, uint16, bool) {
	addrHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	raw, err := hex.DecodeString(addrHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, false
	}
	// Each 32-bit word is printed in host byte order.
	var b [16]byte
	for w := 0; w < len(raw)/4; w++ {
		v := binary.BigEndian.Uint32(raw[4*w:])
		binary.LittleEndian.PutUint32(b[4*w:], v)
	}
	if len(raw) == 4 {
		return netip.AddrFrom4([4]byte(b[:4])), uint16(port), true
	}
	return netip.AddrFrom16(b), uint16(port), true
}

// parseUnixSockets parses /proc/net/unix: "Num RefCount Protocol Flags
// Type St Inode [Path]".
func parseUnixSockets(data []byte, socks map[uint64]socketInfo) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 7 {
			continue
		}
		inode, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			continue
		}
		info := socketInfo{typ: event.FDUnix}
		if len(f) > 7 {
			info.path = f[7]
		}
		socks[inode] = info
	}
}

// ReadFDs builds the descriptor table of pid from /proc/<pid>/fd, with
// socket details from sockets (see socketsByInode). Descriptors whose link
// cannot be read are skipped.
func (fs *FS) ReadFDs(pid uint32, sockets map[uint64]socketInfo) *event.FDTable {
	t := event.NewFDTable()
	dir := fs.path(pid, "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return t
	}
	for _, e := range entries {
		num, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		fd := fdFromLink(num, target, sockets)
		if fd.Type == event.FDFile {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.IsDir() {
				fd.Type = event.FDDirectory
			}
		}
		if flags, ok := fs.fdFlags(pid, e.Name()); ok {
			fd.Flags = flags
		}
		t.Set(fd)
	}
	return t
}

// fdFlags returns the open flags of a descriptor from /proc/<pid>/fdinfo.
func (fs *FS) fdFlags(pid uint32, name string) (uint32, bool) {
	data, err := os.ReadFile(filepath.Join(fs.path(pid, "fdinfo"), name))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return uint32(flags), err == nil
		}
	}
	return 0, false
}

// anonTypes maps the names of anonymous inodes ("anon_inode:[eventfd]") to
// descriptor types.
var anonTypes = map[string]event.FDType{
	"[eventfd]":     event.FDEvent,
	"[signalfd]":    event.FDSignalfd,
	"[eventpoll]":   event.FDEventpoll,
	"inotify":       event.FDInotify,
	"[timerfd]":     event.FDTimerfd,
	"bpf-map":       event.FDBPF,
	"bpf-prog":      event.FDBPF,
	"bpf_link":      event.FDBPF,
	"[userfaultfd]": event.FDUserfaultfd,
	"[io_uring]":    event.FDIOUring,
	"[pidfd]":       event.FDPidfd,
}

// AnonFDType returns the descriptor type of an anonymous inode name such as
// "[eventfd]".
func AnonFDType(name string) event.FDType {
	if t, ok := anonTypes[name]; ok {
		return t
	}
	return event.FDUnknown
}

// fdFromLink builds a descriptor from a /proc/<pid>/fd link target.
func fdFromLink(num int64, target string, sockets map[uint64]socketInfo) *event.FD {
	fd := &event.FD{Num: num}
	switch {
	case strings.HasPrefix(target, "socket:["):
		inode, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]"), 10, 64)
		fd.Ino = inode
		s, ok := sockets[inode]
		if !ok {
			fd.Type = event.FDUnknown
			return fd
		}
		fd.Type = s.typ
		fd.Path = s.path
		fd.L4Proto = s.l4
		fd.LocalAddr, fd.LocalPort = s.local, s.localPort
		fd.RemoteAddr, fd.RemotePort = s.remote, s.remotePort
		fd.Server = s.listening
	case strings.HasPrefix(target, "pipe:["):
		fd.Type = event.FDPipe
	case strings.HasPrefix(target, "anon_inode:"):
		fd.Type = AnonFDType(strings.TrimPrefix(target, "anon_inode:"))
	case strings.HasPrefix(target, "/memfd:"):
		fd.Type = event.FDMemfd
		fd.Path = strings.TrimSuffix(target[1:], " (deleted)")
	case strings.HasPrefix(target, "/"):
		fd.Type = event.FDFile
		fd.Path = strings.TrimSuffix(target, " (deleted)")
	default:
		fd.Type = event.FDUnknown
		fd.Path = target
	}
	return fd
}
