package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// RecordKind identifies the layout of a ring-buffer record (enum
// record_kind in events.h).
type RecordKind uint32

// Record kinds.
const (
	RecordExec RecordKind = 1
	RecordFork RecordKind = 2
	RecordExit RecordKind = 3
	// RecordSyscall is any syscall other than exec selected with
	// Objects.SetSyscalls.
	RecordSyscall RecordKind = 4

	recordKindMax RecordKind = 16
)

func (k RecordKind) String() string {
	switch k {
	case RecordExec:
		return "exec"
	case RecordFork:
		return "fork"
	case RecordExit:
		return "exit"
	case RecordSyscall:
		return "syscall"
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

// DropCause is the reason a record was lost in the kernel (enum drop_cause in
// events.h).
type DropCause uint32

// Drop causes.
const (
	// DropRingBufferFull counts records whose ring-buffer reservation failed
	// because userspace did not consume records fast enough.
	DropRingBufferFull DropCause = 0
	// DropScratchMissing counts syscall records lost because the per-CPU
	// buffer they are assembled in could not be looked up.
	DropScratchMissing DropCause = 2
)

func (c DropCause) String() string {
	switch c {
	case DropRingBufferFull:
		return "ringbuf_full"
	case DropScratchMissing:
		return "scratch_missing"
	}
	return fmt.Sprintf("cause(%d)", uint32(c))
}

// DropCount is the number of records of one kind lost for one cause.
type DropCount struct {
	Cause DropCause
	Kind  RecordKind
	Count uint64
}

// DropCounters lists the causes and record kinds that the programs count
// drops for (the count_drop calls in process.c and syscall.h). The drops
// map has a slot for every other pair too, but those stay zero.
var DropCounters = []DropCount{
	{Cause: DropRingBufferFull, Kind: RecordExec},
	{Cause: DropRingBufferFull, Kind: RecordFork},
	{Cause: DropRingBufferFull, Kind: RecordExit},
	{Cause: DropRingBufferFull, Kind: RecordSyscall},
	{Cause: DropScratchMissing, Kind: RecordSyscall},
}

// Sizes of the fixed arrays in the records.
const (
	CommLen         = 16
	ExecFilenameLen = 512
	ExecArgsLen     = 4096
	ExecPathLen     = 1024
	ExecCgroupLen   = 512
)

// Bits of ExecEvent.Flags.
const (
	ExecArgsTruncated     = 1 << 0
	ExecFilenameTruncated = 1 << 1
	ExecExeTruncated      = 1 << 2
	ExecCwdTruncated      = 1 << 3
	ExecCgroupTruncated   = 1 << 4
	ExecCgroupV1Truncated = 1 << 5
	ExecExeResolved       = 1 << 6
	ExecCwdResolved       = 1 << 7
	ExecExeDetached       = 1 << 8
	ExecExecveat          = 1 << 9
	ExecSyscallKnown      = 1 << 10
)

// Bits of ExecEvent.ExeFlags.
const (
	ExeOverlay    = 1 << 0
	ExeUpperLayer = 1 << 1
)

// ForkThread is set in ForkEvent.Flags when the child is a thread of the
// parent's thread group.
const ForkThread = 1 << 0

// ExitGroupDead is set in ExitEvent.Flags when the last thread of the thread
// group exited.
const ExitGroupDead = 1 << 0

// EventHeader mirrors struct event_header.
type EventHeader struct {
	TsNs     uint64
	Kind     uint32
	CPU      uint32
	PID      uint32
	TID      uint32
	PPID     uint32
	UID      uint32
	GID      uint32
	EUID     uint32
	EGID     uint32
	LoginUID uint32
	CgroupID uint64
	Comm     [CommLen]byte
}

// ExecEvent mirrors struct exec_event. See events.h for the string formats.
type ExecEvent struct {
	Header         EventHeader
	Retval         int64
	Flags          uint32
	VPID           uint32
	PIDNS          uint32
	MntNS          uint32
	TTY            uint32
	Argc           uint32
	ArgsLen        uint16
	FilenameLen    uint16
	ExeLen         uint16
	CwdLen         uint16
	CgroupLen      uint16
	CgroupV1Len    uint16
	ExeFlags       uint32
	SID            uint32
	PGID           uint32
	CapInheritable uint64
	CapPermitted   uint64
	CapEffective   uint64
	ExeIno         uint64
	ExeCtimeNs     int64
	ExeMtimeNs     int64
	ExeMode        uint32
	ExeUID         uint32
	ExeGID         uint32
	Pad            uint32
	Filename       [ExecFilenameLen]byte
	Args           [ExecArgsLen]byte
	Exe            [ExecPathLen]byte
	Cwd            [ExecPathLen]byte
	Cgroup         [ExecCgroupLen]byte
	CgroupV1       [ExecCgroupLen]byte
}

// ForkEvent mirrors struct fork_event.
type ForkEvent struct {
	Header     EventHeader
	CloneFlags uint64
	ChildPID   uint32
	ChildTID   uint32
	SyscallNr  int32
	Flags      uint32
}

// ExitEvent mirrors struct exit_event.
type ExitEvent struct {
	Header   EventHeader
	ExitCode uint32
	Flags    uint32
}

// Sizes of the data area of syscall records.
const (
	SyscallPathLen = 512
	SyscallAddrLen = 128
	SyscallDataLen = ExecPathLen + 2*SyscallPathLen + SyscallAddrLen
)

// Bits of SyscallEvent.Flags.
const (
	SyscallFDResolved      = 1 << 0
	SyscallFDPathTruncated = 1 << 1
	SyscallFDDetached      = 1 << 2
	SyscallPathTruncated   = 1 << 3
	SyscallPath2Truncated  = 1 << 4
)

// SyscallEvent mirrors struct syscall_event. The kernel sends only the used
// part of Data.
type SyscallEvent struct {
	Header     EventHeader
	Ret        int64
	Args       [6]uint64
	Nr         uint32
	Flags      uint32
	FD         int32
	FDMode     uint32
	FDIno      uint64
	FDDev      uint32
	FDFlags    uint32
	SkFamily   uint16
	SkType     uint16
	SkProtocol uint16
	SkState    uint16
	SkLport    uint16
	SkRport    uint16
	Pad        uint32
	SkLaddr    [16]byte
	SkRaddr    [16]byte
	FDPathLen  uint16
	PathLen    uint16
	Path2Len   uint16
	AddrLen    uint16
	Data       [SyscallDataLen]byte
}

// Syscall is a decoded syscall record. Its byte slices alias the buffer
// passed to DecodeSyscall.
type Syscall struct {
	Header     EventHeader
	Ret        int64
	Args       [6]uint64
	Nr         uint32
	Flags      uint32
	FD         int32
	FDMode     uint32
	FDIno      uint64
	FDDev      uint32
	FDFlags    uint32
	SkFamily   uint16
	SkType     uint16
	SkProtocol uint16
	SkState    uint16
	SkLport    uint16
	SkRport    uint16
	SkLaddr    [16]byte
	SkRaddr    [16]byte
	FDPath     []byte // path components, leaf first
	Path       []byte // user string, without its NUL byte
	Path2      []byte // user string, without its NUL byte
	Addr       []byte // user sockaddr
}

// ErrShortRecord is returned when a record is smaller than its layout.
var ErrShortRecord = errors.New("record too short")

// Exec is a decoded exec record. Its byte slices alias the buffer passed to
// DecodeExec and are cut to the lengths the kernel reported.
type Exec struct {
	Header EventHeader
	Retval int64
	Flags  uint32
	VPID   uint32
	PIDNS  uint32
	MntNS  uint32
	TTY    uint32
	Argc   uint32

	ExeFlags       uint32
	SID, PGID      uint32
	CapInheritable uint64
	CapPermitted   uint64
	CapEffective   uint64
	ExeIno         uint64
	ExeCtimeNs     int64
	ExeMtimeNs     int64
	ExeMode        uint32
	ExeUID, ExeGID uint32

	Filename []byte
	Args     []byte
	Exe      []byte // path components, leaf first
	Cwd      []byte // path components, leaf first
	Cgroup   []byte // path components, leaf first
	CgroupV1 []byte // path components, leaf first
}

var le = binary.LittleEndian

var (
	headerSize = int(unsafe.Sizeof(EventHeader{}))
	execSize   = int(unsafe.Sizeof(ExecEvent{}))
	forkSize   = int(unsafe.Sizeof(ForkEvent{}))
	exitSize   = int(unsafe.Sizeof(ExitEvent{}))

	syscallFixedSize = int(unsafe.Offsetof(SyscallEvent{}.Data))
)

// Kind returns the kind of a raw record.
func Kind(raw []byte) (RecordKind, error) {
	if len(raw) < headerSize {
		return 0, fmt.Errorf("%w: %d bytes, header needs %d", ErrShortRecord, len(raw), headerSize)
	}
	return RecordKind(le.Uint32(raw[unsafe.Offsetof(EventHeader{}.Kind):])), nil
}

func decodeHeader(raw []byte) EventHeader {
	var h EventHeader
	h.TsNs = le.Uint64(raw[unsafe.Offsetof(h.TsNs):])
	h.Kind = le.Uint32(raw[unsafe.Offsetof(h.Kind):])
	h.CPU = le.Uint32(raw[unsafe.Offsetof(h.CPU):])
	h.PID = le.Uint32(raw[unsafe.Offsetof(h.PID):])
	h.TID = le.Uint32(raw[unsafe.Offsetof(h.TID):])
	h.PPID = le.Uint32(raw[unsafe.Offsetof(h.PPID):])
	h.UID = le.Uint32(raw[unsafe.Offsetof(h.UID):])
	h.GID = le.Uint32(raw[unsafe.Offsetof(h.GID):])
	h.EUID = le.Uint32(raw[unsafe.Offsetof(h.EUID):])
	h.EGID = le.Uint32(raw[unsafe.Offsetof(h.EGID):])
	h.LoginUID = le.Uint32(raw[unsafe.Offsetof(h.LoginUID):])
	h.CgroupID = le.Uint64(raw[unsafe.Offsetof(h.CgroupID):])
	copy(h.Comm[:], raw[unsafe.Offsetof(h.Comm):])
	return h
}

// field returns raw[off:off+n] with n capped at capacity, the size of the
// array the kernel wrote into, so a corrupt length cannot reach past it.
func field(raw []byte, off uintptr, n uint16, capacity int) []byte {
	l := int(n)
	if l > capacity {
		l = capacity
	}
	return raw[off : int(off)+l]
}

// DecodeExec decodes an exec record. Lengths larger than their arrays are
// capped, so any input of the right size decodes without panicking.
func DecodeExec(raw []byte) (Exec, error) {
	if len(raw) < execSize {
		return Exec{}, fmt.Errorf("%w: exec record has %d bytes, want %d", ErrShortRecord, len(raw), execSize)
	}
	var m ExecEvent
	e := Exec{
		Header: decodeHeader(raw),
		Retval: int64(le.Uint64(raw[unsafe.Offsetof(m.Retval):])),
		Flags:  le.Uint32(raw[unsafe.Offsetof(m.Flags):]),
		VPID:   le.Uint32(raw[unsafe.Offsetof(m.VPID):]),
		PIDNS:  le.Uint32(raw[unsafe.Offsetof(m.PIDNS):]),
		MntNS:  le.Uint32(raw[unsafe.Offsetof(m.MntNS):]),
		TTY:    le.Uint32(raw[unsafe.Offsetof(m.TTY):]),
		Argc:   le.Uint32(raw[unsafe.Offsetof(m.Argc):]),

		ExeFlags:       le.Uint32(raw[unsafe.Offsetof(m.ExeFlags):]),
		SID:            le.Uint32(raw[unsafe.Offsetof(m.SID):]),
		PGID:           le.Uint32(raw[unsafe.Offsetof(m.PGID):]),
		CapInheritable: le.Uint64(raw[unsafe.Offsetof(m.CapInheritable):]),
		CapPermitted:   le.Uint64(raw[unsafe.Offsetof(m.CapPermitted):]),
		CapEffective:   le.Uint64(raw[unsafe.Offsetof(m.CapEffective):]),
		ExeIno:         le.Uint64(raw[unsafe.Offsetof(m.ExeIno):]),
		ExeCtimeNs:     int64(le.Uint64(raw[unsafe.Offsetof(m.ExeCtimeNs):])),
		ExeMtimeNs:     int64(le.Uint64(raw[unsafe.Offsetof(m.ExeMtimeNs):])),
		ExeMode:        le.Uint32(raw[unsafe.Offsetof(m.ExeMode):]),
		ExeUID:         le.Uint32(raw[unsafe.Offsetof(m.ExeUID):]),
		ExeGID:         le.Uint32(raw[unsafe.Offsetof(m.ExeGID):]),
	}
	u16 := func(off uintptr) uint16 { return le.Uint16(raw[off:]) }
	e.Filename = field(raw, unsafe.Offsetof(m.Filename), u16(unsafe.Offsetof(m.FilenameLen)), ExecFilenameLen)
	e.Args = field(raw, unsafe.Offsetof(m.Args), u16(unsafe.Offsetof(m.ArgsLen)), ExecArgsLen)
	e.Exe = field(raw, unsafe.Offsetof(m.Exe), u16(unsafe.Offsetof(m.ExeLen)), ExecPathLen)
	e.Cwd = field(raw, unsafe.Offsetof(m.Cwd), u16(unsafe.Offsetof(m.CwdLen)), ExecPathLen)
	e.Cgroup = field(raw, unsafe.Offsetof(m.Cgroup), u16(unsafe.Offsetof(m.CgroupLen)), ExecCgroupLen)
	e.CgroupV1 = field(raw, unsafe.Offsetof(m.CgroupV1), u16(unsafe.Offsetof(m.CgroupV1Len)), ExecCgroupLen)
	return e, nil
}

// DecodeFork decodes a fork record.
func DecodeFork(raw []byte) (ForkEvent, error) {
	if len(raw) < forkSize {
		return ForkEvent{}, fmt.Errorf("%w: fork record has %d bytes, want %d", ErrShortRecord, len(raw), forkSize)
	}
	var f ForkEvent
	f.Header = decodeHeader(raw)
	f.CloneFlags = le.Uint64(raw[unsafe.Offsetof(f.CloneFlags):])
	f.ChildPID = le.Uint32(raw[unsafe.Offsetof(f.ChildPID):])
	f.ChildTID = le.Uint32(raw[unsafe.Offsetof(f.ChildTID):])
	f.SyscallNr = int32(le.Uint32(raw[unsafe.Offsetof(f.SyscallNr):]))
	f.Flags = le.Uint32(raw[unsafe.Offsetof(f.Flags):])
	return f, nil
}

// DecodeExit decodes an exit record.
func DecodeExit(raw []byte) (ExitEvent, error) {
	if len(raw) < exitSize {
		return ExitEvent{}, fmt.Errorf("%w: exit record has %d bytes, want %d", ErrShortRecord, len(raw), exitSize)
	}
	var x ExitEvent
	x.Header = decodeHeader(raw)
	x.ExitCode = le.Uint32(raw[unsafe.Offsetof(x.ExitCode):])
	x.Flags = le.Uint32(raw[unsafe.Offsetof(x.Flags):])
	return x, nil
}

// DecodeSyscall decodes a syscall record, whose data area is the sum of its
// four lengths long. Lengths that run past the record are an error.
func DecodeSyscall(raw []byte) (Syscall, error) {
	var s Syscall
	err := DecodeSyscallInto(raw, &s)
	return s, err
}

// DecodeSyscallInto is DecodeSyscall writing into s, which saves copying
// the result in a loop that reuses one Syscall.
func DecodeSyscallInto(raw []byte, s *Syscall) error {
	if len(raw) < syscallFixedSize {
		return fmt.Errorf("%w: syscall record has %d bytes, want at least %d", ErrShortRecord, len(raw), syscallFixedSize)
	}
	var m SyscallEvent
	*s = Syscall{
		Header:     decodeHeader(raw),
		Ret:        int64(le.Uint64(raw[unsafe.Offsetof(m.Ret):])),
		Nr:         le.Uint32(raw[unsafe.Offsetof(m.Nr):]),
		Flags:      le.Uint32(raw[unsafe.Offsetof(m.Flags):]),
		FD:         int32(le.Uint32(raw[unsafe.Offsetof(m.FD):])),
		FDMode:     le.Uint32(raw[unsafe.Offsetof(m.FDMode):]),
		FDIno:      le.Uint64(raw[unsafe.Offsetof(m.FDIno):]),
		FDDev:      le.Uint32(raw[unsafe.Offsetof(m.FDDev):]),
		FDFlags:    le.Uint32(raw[unsafe.Offsetof(m.FDFlags):]),
		SkFamily:   le.Uint16(raw[unsafe.Offsetof(m.SkFamily):]),
		SkType:     le.Uint16(raw[unsafe.Offsetof(m.SkType):]),
		SkProtocol: le.Uint16(raw[unsafe.Offsetof(m.SkProtocol):]),
		SkState:    le.Uint16(raw[unsafe.Offsetof(m.SkState):]),
		SkLport:    le.Uint16(raw[unsafe.Offsetof(m.SkLport):]),
		SkRport:    le.Uint16(raw[unsafe.Offsetof(m.SkRport):]),
	}
	for i := range s.Args {
		s.Args[i] = le.Uint64(raw[unsafe.Offsetof(m.Args)+uintptr(8*i):])
	}
	copy(s.SkLaddr[:], raw[unsafe.Offsetof(m.SkLaddr):])
	copy(s.SkRaddr[:], raw[unsafe.Offsetof(m.SkRaddr):])

	lengths := []struct {
		n   int
		max int
		dst *[]byte
	}{
		{int(le.Uint16(raw[unsafe.Offsetof(m.FDPathLen):])), ExecPathLen, &s.FDPath},
		{int(le.Uint16(raw[unsafe.Offsetof(m.PathLen):])), SyscallPathLen, &s.Path},
		{int(le.Uint16(raw[unsafe.Offsetof(m.Path2Len):])), SyscallPathLen, &s.Path2},
		{int(le.Uint16(raw[unsafe.Offsetof(m.AddrLen):])), SyscallAddrLen, &s.Addr},
	}
	off := syscallFixedSize
	for _, l := range lengths {
		if l.n > l.max || off+l.n > len(raw) {
			*s = Syscall{}
			return fmt.Errorf("%w: syscall record data length %d at offset %d exceeds its %d-byte record or its %d-byte field",
				ErrShortRecord, l.n, off, len(raw), l.max)
		}
		*l.dst = raw[off : off+l.n]
		off += l.n
	}
	s.Path = trimNUL(s.Path)
	s.Path2 = trimNUL(s.Path2)
	return nil
}

func trimNUL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == 0 {
		return b[:n-1]
	}
	return b
}

// SplitPath turns a path written leaf first (components each followed by a
// NUL byte) into a slash-separated absolute path. Empty components, which a
// corrupt record could contain, are skipped. An empty input is "/".
func SplitPath(leafFirst []byte) string {
	var parts [][]byte
	start := 0
	for i, b := range leafFirst {
		if b == 0 {
			if i > start {
				parts = append(parts, leafFirst[start:i])
			}
			start = i + 1
		}
	}
	if start < len(leafFirst) {
		parts = append(parts, leafFirst[start:])
	}
	if len(parts) == 0 {
		return "/"
	}
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	buf := make([]byte, 0, n)
	for i := len(parts) - 1; i >= 0; i-- {
		buf = append(buf, '/')
		buf = append(buf, parts[i]...)
	}
	return string(buf)
}

// SplitArgs splits argv as the kernel stores it (each argument followed by a
// NUL byte) into strings. Empty arguments are kept; a final argument cut off
// without its NUL byte is kept as it is.
func SplitArgs(raw []byte) []string {
	if len(raw) == 0 {
		return nil
	}
	var args []string
	start := 0
	for i, b := range raw {
		if b == 0 {
			args = append(args, string(raw[start:i]))
			start = i + 1
		}
	}
	if start < len(raw) {
		args = append(args, string(raw[start:]))
	}
	return args
}

// CString returns the bytes of b up to its first NUL byte as a string.
func CString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
