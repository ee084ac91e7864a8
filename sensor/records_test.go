package sensor

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"slices"
	"testing"

	"github.com/riposte-sec/riposte/bpf"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/proc"
)

const testContainer = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func encodeRecord(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// execRecord returns an exec record of `sh -c id` run by pid 100 in a
// containerd container that the runtime placed in a v1 cgroup only.
func execRecord() bpf.ExecEvent {
	var e bpf.ExecEvent
	e.Header = bpf.EventHeader{Kind: uint32(bpf.RecordExec), PID: 100, TID: 100, PPID: 1, LoginUID: ^uint32(0)}
	copy(e.Header.Comm[:], "sh")
	e.Flags = bpf.ExecExeResolved | bpf.ExecCwdResolved
	e.TTY = 136<<20 | 1
	e.ArgsLen = uint16(copy(e.Args[:], "sh\x00-c\x00id\x00"))
	e.FilenameLen = uint16(copy(e.Filename[:], "/bin/sh"))
	e.ExeLen = uint16(copy(e.Exe[:], "dash\x00bin\x00usr\x00"))
	e.CwdLen = uint16(copy(e.Cwd[:], "tmp\x00"))
	e.CgroupLen = uint16(copy(e.Cgroup[:], "session-1.scope\x00user.slice\x00"))
	e.CgroupV1Len = uint16(copy(e.CgroupV1[:], "cri-containerd-"+testContainer+".scope\x00kubepods.slice\x00"))
	return e
}

// offlineSensor returns a sensor without BPF objects whose process table
// reads an empty procfs, for feeding records by hand.
func offlineSensor(t testing.TB, handler func(*event.Event)) *Sensor {
	return &Sensor{
		cfg:    Config{Handler: handler},
		logger: slog.New(slog.DiscardHandler),
		table:  proc.NewTable(t.TempDir(), 0, slog.New(slog.DiscardHandler)),
	}
}

func TestHandleExecRecord(t *testing.T) {
	var got *event.Event
	s := offlineSensor(t, func(e *event.Event) { got = e })
	if err := s.handleRecord(encodeRecord(t, execRecord())); err != nil {
		t.Fatalf("handleRecord: %v", err)
	}
	if got == nil {
		t.Fatal("no event delivered")
	}
	if got.Type != event.TypeExecve || got.Num != 1 {
		t.Errorf("type %v num %d, want execve 1", got.Type, got.Num)
	}
	p := got.Proc
	if p.ExePath != "/usr/bin/dash" || p.Cwd != "/tmp" || p.Name != "sh" {
		t.Errorf("exe %q cwd %q name %q", p.ExePath, p.Cwd, p.Name)
	}
	if !slices.Equal(p.Args, []string{"sh", "-c", "id"}) || p.Cmdline() != "sh -c id" {
		t.Errorf("args %q cmdline %q", p.Args, p.Cmdline())
	}
	if p.ContainerID != testContainer || p.ShortContainerID() != testContainer[:12] {
		t.Errorf("container %q short %q", p.ContainerID, p.ShortContainerID())
	}
	if p.ContainerRuntime != "containerd" {
		t.Errorf("runtime %q, want containerd", p.ContainerRuntime)
	}
	// pts/1: major 136, minor 1, as /proc/<pid>/stat encodes it.
	if p.TTY != 34817 {
		t.Errorf("TTY = %d, want 34817", p.TTY)
	}
	if s.table.Get(100) != p {
		t.Error("exec did not update the process table")
	}
}

func TestHandleForkExitRecords(t *testing.T) {
	var events []*event.Event
	s := offlineSensor(t, func(e *event.Event) { events = append(events, e) })
	if err := s.handleRecord(encodeRecord(t, execRecord())); err != nil {
		t.Fatal(err)
	}
	fork := bpf.ForkEvent{Header: bpf.EventHeader{Kind: uint32(bpf.RecordFork), PID: 100, TID: 100}, ChildPID: 101, ChildTID: 101, SyscallNr: nrVfork}
	if err := s.handleRecord(encodeRecord(t, fork)); err != nil {
		t.Fatal(err)
	}
	child := s.table.Get(101)
	if child == nil || child.ContainerID != testContainer || child.Parent == nil || child.Parent.PID != 100 {
		t.Fatalf("child entry = %+v, want copy of 100 linked to it", child)
	}
	if e := events[1]; e.Type != event.TypeVfork || e.Res != 101 || e.Proc.PID != 100 {
		t.Errorf("fork event type %v res %d pid %d, want vfork 101 100", e.Type, e.Res, e.Proc.PID)
	}

	exit := bpf.ExitEvent{Header: bpf.EventHeader{Kind: uint32(bpf.RecordExit), PID: 101, TID: 101}, ExitCode: 2 << 8, Flags: bpf.ExitGroupDead}
	if err := s.handleRecord(encodeRecord(t, exit)); err != nil {
		t.Fatal(err)
	}
	if e := events[2]; e.Type != event.TypeProcExit || e.Proc != child {
		t.Errorf("exit event type %v proc %v, want procexit of the child entry", e.Type, e.Proc)
	}
	if code, ok := events[2].Exit.ExitCode(); !ok || code != 2 {
		t.Errorf("exit code %d %v, want 2", code, ok)
	}
	if s.table.Get(101) != nil {
		t.Error("exited process still in the table")
	}
}

// syscallRecord returns a connect record of pid 100 whose socket the kernel
// described, with the used part of the data area only.
func syscallRecord(t testing.TB) []byte {
	return encodeConnect(t, connectEvent())
}

// encodeConnect encodes a record of connectEvent with the used part of the
// data area only.
func encodeConnect(t testing.TB, s bpf.SyscallEvent) []byte {
	raw := encodeRecord(t, s)
	return raw[:len(raw)-bpf.SyscallDataLen+int(s.AddrLen)]
}

// connectEvent is the connect of syscallRecord, to change before encoding.
func connectEvent() bpf.SyscallEvent {
	var s bpf.SyscallEvent
	s.Header = bpf.EventHeader{Kind: uint32(bpf.RecordSyscall), PID: 100, TID: 100}
	s.Nr = 42
	s.Args = [6]uint64{3, 0, 16}
	s.Flags = bpf.SyscallFDResolved
	s.FD = 3
	s.FDMode = 0o140777
	s.SkFamily = 2
	s.SkProtocol = 6
	s.SkType = 1
	s.SkLport, s.SkRport = 40000, 443
	copy(s.SkLaddr[:], []byte{10, 1, 1, 1})
	copy(s.SkRaddr[:], []byte{10, 0, 0, 1})
	sa := []byte{2, 0, 0x01, 0xbb, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	copy(s.Data[:], sa)
	s.AddrLen = uint16(len(sa))
	return s
}

func TestHandleSyscallRecord(t *testing.T) {
	var got *event.Event
	s := offlineSensor(t, func(e *event.Event) { got = e })
	if err := s.handleRecord(encodeRecord(t, execRecord())); err != nil {
		t.Fatal(err)
	}
	if err := s.handleRecord(syscallRecord(t)); err != nil {
		t.Fatalf("handleRecord: %v", err)
	}
	if got.Type != event.TypeConnect || got.Syscall == nil || got.Proc.PID != 100 {
		t.Fatalf("event = %+v, want connect of pid 100", got)
	}
	fd := got.Syscall.FD
	if fd == nil || fd.Name() != "10.1.1.1:40000->10.0.0.1:443" || fd.L4Proto != "tcp" {
		t.Fatalf("fd = %+v, want the tcp tuple", fd)
	}
	if s.table.Get(100).FDs.Get(3) == nil {
		t.Error("connect did not record descriptor 3 in the process's table")
	}
}

func TestHandleUnknownKind(t *testing.T) {
	s := offlineSensor(t, func(*event.Event) { t.Error("event delivered for an unknown record") })
	raw := encodeRecord(t, bpf.ExitEvent{Header: bpf.EventHeader{Kind: 9}})
	if err := s.handleRecord(raw); err == nil {
		t.Error("handleRecord accepted an unknown kind")
	}
}

// FuzzHandleRecord feeds arbitrary bytes through decoding and the process
// table: nothing may panic, and every delivered event has a process.
func FuzzHandleRecord(f *testing.F) {
	f.Add(encodeRecord(f, execRecord()))
	f.Add(encodeRecord(f, bpf.ForkEvent{Header: bpf.EventHeader{Kind: uint32(bpf.RecordFork), PID: 5}, ChildPID: 6}))
	f.Add(encodeRecord(f, bpf.ExitEvent{Header: bpf.EventHeader{Kind: uint32(bpf.RecordExit), PID: 5}, Flags: 1}))
	f.Add(syscallRecord(f))
	s := offlineSensor(f, func(e *event.Event) {
		if e.Proc == nil {
			panic("event without process")
		}
	})
	f.Fuzz(func(t *testing.T, raw []byte) {
		_ = s.handleRecord(raw)
	})
}

func BenchmarkHandleExecRecord(b *testing.B) {
	raw := encodeRecord(b, execRecord())
	s := offlineSensor(b, func(*event.Event) {})
	b.ReportAllocs()
	for b.Loop() {
		if err := s.handleRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandleSyscallRecord(b *testing.B) {
	raw := syscallRecord(b)
	s := offlineSensor(b, func(*event.Event) {})
	if err := s.handleRecord(encodeRecord(b, execRecord())); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.handleRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// openatRecord returns an openat record of pid 100 that opened
// /etc/hostname as descriptor 3, as the kernel sends it.
func openatRecord(t testing.TB) []byte {
	var s bpf.SyscallEvent
	s.Header = bpf.EventHeader{Kind: uint32(bpf.RecordSyscall), PID: 100, TID: 100}
	s.Nr = 257
	s.Ret = 3
	s.Args = [6]uint64{0xffffff9c, 0, 0o2000000}
	s.Flags = bpf.SyscallFDResolved
	s.FD = 3
	s.FDMode = 0o100644
	path := "/etc/hostname\x00"
	copy(s.Data[:], path)
	s.PathLen = uint16(len(path))
	raw := encodeRecord(t, s)
	return raw[:len(raw)-bpf.SyscallDataLen+len(path)]
}

func BenchmarkHandleOpenatRecord(b *testing.B) {
	raw := openatRecord(b)
	s := offlineSensor(b, func(*event.Event) {})
	if err := s.handleRecord(encodeRecord(b, execRecord())); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.handleRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRefusedConnectKeepsPeer decodes a connect that failed with
// ECONNREFUSED: the kernel left the socket without a peer, and the tuple
// takes the peer from the address the program passed.
func TestRefusedConnectKeepsPeer(t *testing.T) {
	var got *event.Event
	s := offlineSensor(t, func(e *event.Event) { got = e })
	if err := s.handleRecord(encodeRecord(t, execRecord())); err != nil {
		t.Fatal(err)
	}
	rec := connectEvent()
	rec.Ret = -111 // ECONNREFUSED
	rec.SkLport, rec.SkRport = 0, 0
	rec.SkLaddr, rec.SkRaddr = [16]byte{}, [16]byte{}
	if err := s.handleRecord(encodeConnect(t, rec)); err != nil {
		t.Fatalf("handleRecord: %v", err)
	}
	fd := got.Syscall.FD
	if fd == nil || fd.RemotePort != 443 || fd.RemoteAddr.String() != "10.0.0.1" {
		t.Fatalf("fd = %+v, want the peer 10.0.0.1:443 from the address argument", fd)
	}
}
