package syscalls

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/sensor/event"
)

// Value is a rendered parameter: Text as evt.arg prints it, and Num as
// evt.rawarg reads it when Numeric is set.
type Value struct {
	Text    string
	Num     int64
	Numeric bool
}

func number(n int64) Value { return Value{Text: strconv.FormatInt(n, 10), Num: n, Numeric: true} }

func flagsValue(n uint64, text string) Value {
	return Value{Text: text, Num: int64(n), Numeric: true}
}

// ResText renders a return value as Falco's evt.res does: SUCCESS, or the
// errno name of a negative value.
func ResText(res int64) string {
	if res >= 0 {
		return "SUCCESS"
	}
	if name := unix.ErrnoName(syscall.Errno(-res)); name != "" {
		return name
	}
	return strconv.FormatInt(res, 10)
}

// ParamValue returns the value of prm for ev, which must be an event of
// the syscall prm belongs to. It reports false when the value is not
// available, such as the tuple of a file descriptor that is not a socket.
func ParamValue(prm Param, ev *event.Event) (Value, bool) {
	sc := ev.Syscall
	if sc == nil {
		return Value{}, false
	}
	arg := uint64(0)
	if prm.Arg >= 0 && prm.Arg < len(sc.Args) {
		arg = sc.Args[prm.Arg]
	}
	switch prm.Kind {
	case KindRes:
		if ev.Res < 0 {
			return Value{Text: ResText(ev.Res), Num: ev.Res, Numeric: true}, true
		}
		return number(ev.Res), true
	case KindFD, KindInt:
		return number(int64(int32(arg))), true
	case KindUint, KindUID, KindGID:
		return number(int64(uint32(arg))), true
	case KindHex:
		return flagsValue(arg, "0x"+strconv.FormatUint(arg, 16)), true
	case KindOct:
		return flagsValue(arg, "0"+strconv.FormatUint(arg, 8)), true
	case KindChmodMode:
		mode := uint32(arg) & chmodModeMask
		return flagsValue(uint64(mode), ChmodModeText(mode)), true
	case KindPath:
		return Value{Text: sc.Path}, true
	case KindPath2:
		return Value{Text: sc.Path2}, true
	case KindOpenFlags:
		return flagsValue(arg, OpenFlagsText(uint32(arg))), true
	case KindOpenHowFlags, KindOpenHowMode:
		if len(sc.Addr) < 24 {
			return Value{}, false
		}
		if prm.Kind == KindOpenHowMode {
			mode := binary.LittleEndian.Uint64(sc.Addr[8:])
			return flagsValue(mode, "0"+strconv.FormatUint(mode, 8)), true
		}
		flags := binary.LittleEndian.Uint64(sc.Addr)
		return flagsValue(flags, OpenFlagsText(uint32(flags))), true
	case KindSockaddr:
		text, ok := SockaddrText(sc.Addr)
		return Value{Text: text}, ok
	case KindTuple:
		if sc.FD == nil || !sc.FD.Type.IsSocket() {
			return Value{}, false
		}
		return Value{Text: sc.FD.Name()}, true
	case KindDomain:
		return flagsValue(arg, DomainText(uint32(arg))), true
	case KindFDDev:
		if sc.FD == nil {
			return Value{}, false
		}
		return flagsValue(uint64(sc.FD.Dev), "0x"+strconv.FormatUint(uint64(sc.FD.Dev), 16)), true
	case KindFDIno:
		if sc.FD == nil {
			return Value{}, false
		}
		return number(int64(sc.FD.Ino)), true
	case KindPtraceRequest:
		return flagsValue(arg, PtraceRequestText(arg)), true
	}
	return Value{}, false
}

// openFlagsBefore and openFlagsAfter are the open flags on x86_64
// (asm-generic/fcntl.h) that Falco prints, in the order of the file_flags
// table of falcosecurity/libs (driver/flags_table.c), which prints the
// access mode between the two lists. Falco's drivers do not report
// O_NOFOLLOW, O_NOATIME, O_PATH or O_NOCTTY, so neither does the sensor.
var (
	openFlagsBefore = []openFlag{
		// x/sys/unix defines O_LARGEFILE as 0 on amd64 because it is implied
		// there; the kernel still reports the bit.
		{0o100000, "O_LARGEFILE"},
		{unix.O_DIRECTORY, "O_DIRECTORY"},
		{unix.O_DIRECT, "O_DIRECT"},
		{unix.O_TRUNC, "O_TRUNC"},
		{unix.O_SYNC &^ unix.O_DSYNC, "O_SYNC"},
		{unix.O_NONBLOCK, "O_NONBLOCK"},
		{unix.O_EXCL, "O_EXCL"},
		{unix.O_DSYNC, "O_DSYNC"},
		{unix.O_APPEND, "O_APPEND"},
		{unix.O_CREAT, "O_CREAT"},
	}
	openFlagsAfter = []openFlag{
		{unix.O_CLOEXEC, "O_CLOEXEC"},
		{unix.O_TMPFILE &^ unix.O_DIRECTORY, "O_TMPFILE"},
	}
)

// openFlag names one bit of the open flags.
type openFlag struct {
	bit  uint32
	name string
}

// RawOpenFlags returns the open flags of an open-family event without
// rendering them, and false for other events.
func RawOpenFlags(ev *event.Event) (uint32, bool) {
	s := ByType(ev.Type)
	if s == nil || s.OpenFlags == nil || ev.Syscall == nil {
		return 0, false
	}
	if s.OpenFlags.Kind == KindOpenHowFlags {
		if len(ev.Syscall.Addr) < 8 {
			return 0, false
		}
		return uint32(binary.LittleEndian.Uint64(ev.Syscall.Addr)), true
	}
	return uint32(ev.Syscall.Args[s.OpenFlags.Arg]), true
}

// RawOpenMode returns the mode argument of an open-family or creat event,
// and false for other events.
func RawOpenMode(ev *event.Event) (uint32, bool) {
	s := ByType(ev.Type)
	if s == nil || ev.Syscall == nil {
		return 0, false
	}
	for _, prm := range s.Params {
		if prm.Name != "mode" {
			continue
		}
		switch prm.Kind {
		case KindOct:
			return uint32(ev.Syscall.Args[prm.Arg]), true
		case KindOpenHowMode:
			if len(ev.Syscall.Addr) < 16 {
				return 0, false
			}
			return uint32(binary.LittleEndian.Uint64(ev.Syscall.Addr[8:])), true
		}
	}
	return 0, false
}

// OpenFlagsText renders open flags as O_* names joined by '|', in the order
// Falco prints them, such as O_TRUNC|O_CREAT|O_WRONLY.
func OpenFlagsText(flags uint32) string {
	var names []string
	add := func(list []openFlag) {
		for _, f := range list {
			if flags&f.bit == f.bit {
				names = append(names, f.name)
			}
		}
	}
	add(openFlagsBefore)
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		names = append(names, "O_RDONLY")
	case unix.O_WRONLY:
		names = append(names, "O_WRONLY")
	case unix.O_RDWR:
		names = append(names, "O_RDWR")
	}
	add(openFlagsAfter)
	return strings.Join(names, "|")
}

// OpenReads and OpenWrites report the access mode of open flags.
func OpenReads(flags uint32) bool {
	mode := flags & unix.O_ACCMODE
	return mode == unix.O_RDONLY || mode == unix.O_RDWR
}

// OpenWrites reports whether open flags request write access.
func OpenWrites(flags uint32) bool {
	mode := flags & unix.O_ACCMODE
	return mode == unix.O_WRONLY || mode == unix.O_RDWR
}

// OpenCreates reports whether open flags may create the file.
func OpenCreates(flags uint32) bool {
	return flags&unix.O_CREAT != 0 || flags&(unix.O_TMPFILE&^unix.O_DIRECTORY) != 0
}

// chmodModes are the bits of chmod's mode that Falco's drivers report, in
// the order of the chmod_mode table of falcosecurity/libs
// (driver/flags_table.c), which names them from the lowest bit up.
var chmodModes = []struct {
	bit  uint32
	name string
}{
	{unix.S_IXOTH, "S_IXOTH"},
	{unix.S_IWOTH, "S_IWOTH"},
	{unix.S_IROTH, "S_IROTH"},
	{unix.S_IXGRP, "S_IXGRP"},
	{unix.S_IWGRP, "S_IWGRP"},
	{unix.S_IRGRP, "S_IRGRP"},
	{unix.S_IXUSR, "S_IXUSR"},
	{unix.S_IWUSR, "S_IWUSR"},
	{unix.S_IRUSR, "S_IRUSR"},
	{unix.S_ISVTX, "S_ISVTX"},
	{unix.S_ISGID, "S_ISGID"},
	{unix.S_ISUID, "S_ISUID"},
}

// chmodModeMask keeps the bits of chmodModes. Falco's drivers drop the
// others (chmod_mode_to_scap), so evt.rawarg.mode has none of them either.
const chmodModeMask = 0o7777

// ChmodModeText renders the mode of chmod, fchmod or fchmodat as Falco's
// evt.arg.mode does: the names of the set bits joined by '|', lowest bit
// first, such as S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR|S_ISUID for 04644. Falco
// prints a mode without any of these bits as the number, "0".
func ChmodModeText(mode uint32) string {
	var names []string
	for _, m := range chmodModes {
		if mode&m.bit != 0 {
			names = append(names, m.name)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

var domains = map[uint32]string{
	unix.AF_UNIX: "AF_UNIX", unix.AF_INET: "AF_INET", unix.AF_INET6: "AF_INET6",
	unix.AF_NETLINK: "AF_NETLINK", unix.AF_PACKET: "AF_PACKET", unix.AF_UNSPEC: "AF_UNSPEC",
	unix.AF_BLUETOOTH: "AF_BLUETOOTH", unix.AF_VSOCK: "AF_VSOCK", unix.AF_ALG: "AF_ALG",
}

// DomainText renders a socket address family, such as AF_INET.
func DomainText(d uint32) string {
	if s, ok := domains[d]; ok {
		return s
	}
	return strconv.FormatUint(uint64(d), 10)
}

var ptraceRequests = map[uint64]string{
	unix.PTRACE_TRACEME: "PTRACE_TRACEME", unix.PTRACE_PEEKTEXT: "PTRACE_PEEKTEXT",
	unix.PTRACE_PEEKDATA: "PTRACE_PEEKDATA", unix.PTRACE_PEEKUSR: "PTRACE_PEEKUSR",
	unix.PTRACE_POKETEXT: "PTRACE_POKETEXT", unix.PTRACE_POKEDATA: "PTRACE_POKEDATA",
	unix.PTRACE_POKEUSR: "PTRACE_POKEUSR", unix.PTRACE_CONT: "PTRACE_CONT",
	unix.PTRACE_KILL: "PTRACE_KILL", unix.PTRACE_SINGLESTEP: "PTRACE_SINGLESTEP",
	unix.PTRACE_GETREGS: "PTRACE_GETREGS", unix.PTRACE_SETREGS: "PTRACE_SETREGS",
	unix.PTRACE_GETFPREGS: "PTRACE_GETFPREGS", unix.PTRACE_SETFPREGS: "PTRACE_SETFPREGS",
	unix.PTRACE_ATTACH: "PTRACE_ATTACH", unix.PTRACE_DETACH: "PTRACE_DETACH",
	unix.PTRACE_SYSCALL: "PTRACE_SYSCALL", unix.PTRACE_SETOPTIONS: "PTRACE_SETOPTIONS",
	unix.PTRACE_GETEVENTMSG: "PTRACE_GETEVENTMSG", unix.PTRACE_GETSIGINFO: "PTRACE_GETSIGINFO",
	unix.PTRACE_SETSIGINFO: "PTRACE_SETSIGINFO", unix.PTRACE_GETREGSET: "PTRACE_GETREGSET",
	unix.PTRACE_SETREGSET: "PTRACE_SETREGSET", unix.PTRACE_SEIZE: "PTRACE_SEIZE",
	unix.PTRACE_INTERRUPT: "PTRACE_INTERRUPT", unix.PTRACE_LISTEN: "PTRACE_LISTEN",
}

// PtraceRequestText renders a ptrace request, such as PTRACE_ATTACH.
func PtraceRequestText(req uint64) string {
	if s, ok := ptraceRequests[req]; ok {
		return s
	}
	return strconv.FormatUint(req, 10)
}

// Sockaddr is a parsed socket address.
type Sockaddr struct {
	Family uint16
	Addr   netip.Addr
	Port   uint16
	Path   string // unix sockets
}

// ParseSockaddr parses a raw sockaddr of family AF_INET, AF_INET6 or
// AF_UNIX. It reports false for other families and short buffers.
func ParseSockaddr(b []byte) (Sockaddr, bool) {
	if len(b) < 2 {
		return Sockaddr{}, false
	}
	s := Sockaddr{Family: binary.LittleEndian.Uint16(b)}
	switch s.Family {
	case unix.AF_INET:
		if len(b) < 8 {
			return Sockaddr{}, false
		}
		s.Port = binary.BigEndian.Uint16(b[2:])
		s.Addr = netip.AddrFrom4([4]byte(b[4:8]))
	case unix.AF_INET6:
		if len(b) < 24 {
			return Sockaddr{}, false
		}
		s.Port = binary.BigEndian.Uint16(b[2:])
		s.Addr = netip.AddrFrom16([16]byte(b[8:24]))
	case unix.AF_UNIX:
		path := b[2:]
		if i := indexNUL(path); i >= 0 && !(i == 0 && len(path) > 1) {
			path = path[:i]
		}
		if len(path) > 0 && path[0] == 0 {
			// Abstract socket: Falco prints a leading '@'.
			s.Path = "@" + string(trimTrailingNUL(path[1:]))
		} else {
			s.Path = string(path)
		}
	default:
		return Sockaddr{}, false
	}
	return s, true
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

func trimTrailingNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// SockaddrText renders a raw sockaddr as "addr:port" or a unix path.
func SockaddrText(b []byte) (string, bool) {
	s, ok := ParseSockaddr(b)
	if !ok {
		return "", false
	}
	if s.Family == unix.AF_UNIX {
		return s.Path, true
	}
	return s.Addr.Unmap().String() + ":" + strconv.Itoa(int(s.Port)), true
}
