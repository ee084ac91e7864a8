package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// encode returns the little-endian bytes of a record mirror, as the kernel
// writes them.
func encode(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sampleExec() ExecEvent {
	var e ExecEvent
	e.Header = EventHeader{TsNs: 42, Kind: uint32(RecordExec), CPU: 1, PID: 100, TID: 101, PPID: 1,
		UID: 1000, GID: 1001, EUID: 0, EGID: 0, LoginUID: 1000, CgroupID: 7}
	copy(e.Header.Comm[:], "sh")
	e.Retval = -2
	e.Flags = ExecExeResolved | ExecCwdResolved | ExecExecveat
	e.VPID = 5
	e.PIDNS, e.MntNS, e.TTY, e.Argc = 11, 12, 34817, 4
	args := "/bin/true\x00arg\x00\x00x\x00"
	e.ArgsLen = uint16(copy(e.Args[:], args))
	e.FilenameLen = uint16(copy(e.Filename[:], "/bin/true"))
	e.ExeLen = uint16(copy(e.Exe[:], "true\x00bin\x00usr\x00"))
	e.CwdLen = 0
	e.CgroupLen = uint16(copy(e.Cgroup[:], "session-1.scope\x00user.slice\x00"))
	return e
}

func TestDecodeExec(t *testing.T) {
	raw := encode(t, sampleExec())
	kind, err := Kind(raw)
	if err != nil || kind != RecordExec {
		t.Fatalf("Kind = %v, %v; want exec", kind, err)
	}
	e, err := DecodeExec(raw)
	if err != nil {
		t.Fatalf("DecodeExec: %v", err)
	}
	if e.Header.PID != 100 || e.Header.TID != 101 || e.Header.PPID != 1 {
		t.Errorf("ids = %d/%d/%d, want 100/101/1", e.Header.PID, e.Header.TID, e.Header.PPID)
	}
	if e.Header.UID != 1000 || e.Header.LoginUID != 1000 || e.Header.CgroupID != 7 {
		t.Errorf("header = %+v", e.Header)
	}
	if got := CString(e.Header.Comm[:]); got != "sh" {
		t.Errorf("comm = %q, want sh", got)
	}
	if e.Retval != -2 {
		t.Errorf("retval = %d, want -2", e.Retval)
	}
	if e.VPID != 5 || e.PIDNS != 11 || e.MntNS != 12 || e.TTY != 34817 || e.Argc != 4 {
		t.Errorf("fixed fields = %+v", e)
	}
	if got, want := SplitArgs(e.Args), []string{"/bin/true", "arg", "", "x"}; !slices.Equal(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	if got := string(e.Filename); got != "/bin/true" {
		t.Errorf("filename = %q", got)
	}
	if got := SplitPath(e.Exe); got != "/usr/bin/true" {
		t.Errorf("exe = %q, want /usr/bin/true", got)
	}
	if got := SplitPath(e.Cwd); got != "/" {
		t.Errorf("cwd = %q, want /", got)
	}
	if got := SplitPath(e.Cgroup); got != "/user.slice/session-1.scope" {
		t.Errorf("cgroup = %q", got)
	}
}

func TestDecodeExecCapsLengths(t *testing.T) {
	e := sampleExec()
	e.ArgsLen, e.FilenameLen, e.ExeLen = 0xffff, 0xffff, 0xffff
	e.CwdLen, e.CgroupLen, e.CgroupV1Len = 0xffff, 0xffff, 0xffff
	d, err := DecodeExec(encode(t, e))
	if err != nil {
		t.Fatalf("DecodeExec: %v", err)
	}
	if len(d.Args) != ExecArgsLen || len(d.Filename) != ExecFilenameLen || len(d.Exe) != ExecPathLen ||
		len(d.Cwd) != ExecPathLen || len(d.Cgroup) != ExecCgroupLen || len(d.CgroupV1) != ExecCgroupLen {
		t.Errorf("lengths not capped to their arrays: args %d filename %d exe %d cwd %d cgroup %d v1 %d",
			len(d.Args), len(d.Filename), len(d.Exe), len(d.Cwd), len(d.Cgroup), len(d.CgroupV1))
	}
}

func TestDecodeShortRecords(t *testing.T) {
	exec := encode(t, sampleExec())
	fork := encode(t, ForkEvent{Header: EventHeader{Kind: uint32(RecordFork)}})
	exit := encode(t, ExitEvent{Header: EventHeader{Kind: uint32(RecordExit)}})
	if _, err := Kind(exec[:10]); !errors.Is(err, ErrShortRecord) {
		t.Errorf("Kind(10 bytes) err = %v, want ErrShortRecord", err)
	}
	if _, err := DecodeExec(exec[:len(exec)-1]); !errors.Is(err, ErrShortRecord) {
		t.Errorf("DecodeExec(short) err = %v, want ErrShortRecord", err)
	}
	if _, err := DecodeFork(fork[:len(fork)-1]); !errors.Is(err, ErrShortRecord) {
		t.Errorf("DecodeFork(short) err = %v, want ErrShortRecord", err)
	}
	if _, err := DecodeExit(exit[:len(exit)-1]); !errors.Is(err, ErrShortRecord) {
		t.Errorf("DecodeExit(short) err = %v, want ErrShortRecord", err)
	}
}

func TestDecodeForkExit(t *testing.T) {
	f, err := DecodeFork(encode(t, ForkEvent{
		Header:     EventHeader{Kind: uint32(RecordFork), PID: 10},
		CloneFlags: 0x11, ChildPID: 20, ChildTID: 21, SyscallNr: -1, Flags: ForkThread,
	}))
	if err != nil {
		t.Fatalf("DecodeFork: %v", err)
	}
	if f.Header.PID != 10 || f.CloneFlags != 0x11 || f.ChildPID != 20 || f.ChildTID != 21 || f.SyscallNr != -1 || f.Flags != ForkThread {
		t.Errorf("DecodeFork = %+v", f)
	}
	x, err := DecodeExit(encode(t, ExitEvent{Header: EventHeader{Kind: uint32(RecordExit), PID: 10}, ExitCode: 3 << 8, Flags: ExitGroupDead}))
	if err != nil {
		t.Fatalf("DecodeExit: %v", err)
	}
	if x.Header.PID != 10 || x.ExitCode != 3<<8 || x.Flags != ExitGroupDead {
		t.Errorf("DecodeExit = %+v", x)
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"id\x00bin\x00usr\x00", "/usr/bin/id"},
		{"memfd:x\x00", "/memfd:x"},
		{"a\x00\x00b\x00", "/b/a"},   // empty component from a corrupt record
		{"leaf\x00cut", "/cut/leaf"}, // last component without its NUL byte
	}
	for _, tt := range tests {
		if got := SplitPath([]byte(tt.in)); got != tt.want {
			t.Errorf("SplitPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"sh\x00", []string{"sh"}},
		{"sh\x00-c\x00\x00", []string{"sh", "-c", ""}},
		{"\x00\x00", []string{"", ""}},
		{"sh\x00trunc", []string{"sh", "trunc"}},
	}
	for _, tt := range tests {
		if got := SplitArgs([]byte(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the decoders the sensor applies to
// ring-buffer records: none may panic, and decoded strings must stay inside
// their arrays.
func FuzzDecode(f *testing.F) {
	f.Add(encode(f, sampleExec()))
	f.Add(encode(f, ForkEvent{Header: EventHeader{Kind: uint32(RecordFork)}, ChildPID: 3}))
	f.Add(encode(f, ExitEvent{Header: EventHeader{Kind: uint32(RecordExit)}}))
	f.Add(syscallRecord(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		kind, err := Kind(raw)
		if err != nil {
			return
		}
		switch kind {
		case RecordExec:
			e, err := DecodeExec(raw)
			if err != nil {
				return
			}
			if len(e.Args) > ExecArgsLen || len(e.Exe) > ExecPathLen || len(e.Cgroup) > ExecCgroupLen {
				t.Fatalf("decoded field beyond its array: %d %d %d", len(e.Args), len(e.Exe), len(e.Cgroup))
			}
			_ = SplitArgs(e.Args)
			_ = SplitPath(e.Exe)
			_ = SplitPath(e.Cwd)
			_ = SplitPath(e.Cgroup)
			_ = SplitPath(e.CgroupV1)
		case RecordFork:
			_, _ = DecodeFork(raw)
		case RecordExit:
			_, _ = DecodeExit(raw)
		case RecordSyscall:
			s, err := DecodeSyscall(raw)
			if err != nil {
				return
			}
			if len(s.FDPath) > ExecPathLen || len(s.Path) > SyscallPathLen || len(s.Addr) > SyscallAddrLen {
				t.Fatalf("decoded syscall field beyond its size: %d %d %d", len(s.FDPath), len(s.Path), len(s.Addr))
			}
			_ = SplitPath(s.FDPath)
		}
	})
}

func BenchmarkDecodeExec(b *testing.B) {
	raw := encode(b, sampleExec())
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		e, err := DecodeExec(raw)
		if err != nil {
			b.Fatal(err)
		}
		_ = SplitArgs(e.Args)
		_ = SplitPath(e.Exe)
		_ = SplitPath(e.Cwd)
		_ = SplitPath(e.Cgroup)
	}
}

func BenchmarkDecodeFork(b *testing.B) {
	raw := encode(b, ForkEvent{Header: EventHeader{Kind: uint32(RecordFork)}, ChildPID: 3})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeFork(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// syscallRecord returns the bytes of an openat record of "/etc/shadow"
// with the used part of the data area only, as the kernel sends it.
func syscallRecord(t testing.TB) []byte {
	var s SyscallEvent
	s.Header = EventHeader{Kind: uint32(RecordSyscall), PID: 7, TID: 7}
	s.Ret = 3
	s.Nr = 257
	s.Args = [6]uint64{0xffffff9c, 0x1000, 0, 0, 0, 0}
	s.Flags = SyscallFDResolved
	s.FD = 3
	s.FDMode = 0o100644
	fdPath := "shadow\x00etc\x00"
	path := "/etc/shadow\x00"
	n := copy(s.Data[:], fdPath)
	n += copy(s.Data[n:], path)
	s.FDPathLen = uint16(len(fdPath))
	s.PathLen = uint16(len(path))
	raw := encode(t, s)
	return raw[:syscallFixedSize+n]
}

func TestDecodeSyscall(t *testing.T) {
	raw := syscallRecord(t)
	s, err := DecodeSyscall(raw)
	if err != nil {
		t.Fatalf("DecodeSyscall: %v", err)
	}
	if s.Nr != 257 || s.Ret != 3 || s.FD != 3 || s.Args[1] != 0x1000 || s.FDMode != 0o100644 {
		t.Errorf("fixed fields = %+v", s)
	}
	if got := SplitPath(s.FDPath); got != "/etc/shadow" {
		t.Errorf("fd path = %q", got)
	}
	if string(s.Path) != "/etc/shadow" {
		t.Errorf("path = %q, want without NUL", s.Path)
	}
	if len(s.Path2) != 0 || len(s.Addr) != 0 {
		t.Errorf("path2 %q addr %v, want empty", s.Path2, s.Addr)
	}

	if _, err := DecodeSyscall(raw[:len(raw)-1]); !errors.Is(err, ErrShortRecord) {
		t.Errorf("DecodeSyscall(cut data) err = %v, want ErrShortRecord", err)
	}
	if _, err := DecodeSyscall(raw[:100]); !errors.Is(err, ErrShortRecord) {
		t.Errorf("DecodeSyscall(100 bytes) err = %v, want ErrShortRecord", err)
	}
}
