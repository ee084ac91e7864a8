package extract

import (
	"net/netip"
	"testing"

	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/sensor/event"
)

func connectEvent() *event.Event {
	p := sampleEvent().Proc
	return &event.Event{
		Type: event.TypeConnect, TID: 30, Res: 0, Proc: p,
		Syscall: &event.Syscall{
			Nr:   42,
			Args: [6]uint64{3, 0, 16},
			Addr: []byte{2, 0, 0x01, 0xbb, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
			FD: &event.FD{
				Num: 3, Type: event.FDIPv4, L4Proto: "tcp",
				LocalAddr: netip.MustParseAddr("172.17.0.2"), LocalPort: 40000,
				RemoteAddr: netip.MustParseAddr("10.0.0.1"), RemotePort: 443,
			},
		},
	}
}

func TestExtractSocketFields(t *testing.T) {
	e := New("", nil)
	e.Reset(connectEvent())
	if e.Type() != evttype.Connect {
		t.Fatalf("Type = %v, want connect", e.Type())
	}
	strs := map[string]string{
		"fd.name":       "172.17.0.2:40000->10.0.0.1:443",
		"fd.type":       "ipv4",
		"fd.typechar":   "4",
		"fd.l4proto":    "tcp",
		"fd.sockfamily": "ip",
		"evt.arg.tuple": "172.17.0.2:40000->10.0.0.1:443",
		"evt.arg.addr":  "10.0.0.1:443",
		"evt.arg[2]":    "3",
		"evt.category":  "net",
	}
	for field, want := range strs {
		if got := extract(t, e, field); len(got) != 1 || got[0].Str != want {
			t.Errorf("%s = %+v, want %q", field, got, want)
		}
	}
	nums := map[string]int64{"fd.num": 3, "fd.sport": 443, "fd.cport": 40000, "fd.lport": 40000, "fd.rport": 443, "evt.rawarg.fd": 3}
	for field, want := range nums {
		if got := extract(t, e, field); len(got) != 1 || got[0].Num != want {
			t.Errorf("%s = %+v, want %d", field, got, want)
		}
	}
	addrs := map[string]string{"fd.sip": "10.0.0.1", "fd.cip": "172.17.0.2", "fd.rip": "10.0.0.1", "fd.lip": "172.17.0.2"}
	for field, want := range addrs {
		if got := extract(t, e, field); len(got) != 1 || got[0].Addr.String() != want {
			t.Errorf("%s = %+v, want %s", field, got, want)
		}
	}
	if got := extract(t, e, "fd.ip"); len(got) != 2 {
		t.Errorf("fd.ip = %+v, want both ends", got)
	}
	if got := extract(t, e, "fd.connected"); len(got) != 1 || !got[0].Bool {
		t.Errorf("fd.connected = %+v, want true", got)
	}
	if got := extract(t, e, "fd.is_server"); len(got) != 1 || got[0].Bool {
		t.Errorf("fd.is_server = %+v, want false", got)
	}
	if got := extract(t, e, "fd.directory"); len(got) != 0 {
		t.Errorf("fd.directory of a socket = %+v, want no value", got)
	}
}

func TestExtractOpenFields(t *testing.T) {
	ev := &event.Event{
		Type: event.TypeOpenat, TID: 30, Res: 5, Proc: sampleEvent().Proc,
		Syscall: &event.Syscall{
			Nr: 257, Args: [6]uint64{uint64(0xffffff9c), 0, 0o1101, 0o644},
			Path: "shadow", AbsPath: "/etc/shadow",
			FD: &event.FD{Num: 5, Type: event.FDFile, Path: "/etc/shadow", Dev: 0x803, Ino: 42},
		},
	}
	e := New("", nil)
	e.Reset(ev)
	strs := map[string]string{
		"fd.name":       "/etc/shadow",
		"fd.nameraw":    "shadow",
		"fd.directory":  "/etc",
		"fd.filename":   "shadow",
		"fd.typechar":   "f",
		"fs.path.name":  "/etc/shadow",
		"evt.arg.name":  "shadow",
		"evt.arg.flags": "O_TRUNC|O_CREAT|O_WRONLY",
		"evt.arg.mode":  "0644",
		"evt.arg.dirfd": "-100",
		"evt.arg[0]":    "5",
		"evt.res":       "SUCCESS",
		"evt.arg.dev":   "0x803",
		"evt.category":  "file",
		"evt.type":      "",
	}
	delete(strs, "evt.type")
	for field, want := range strs {
		if got := extract(t, e, field); len(got) != 1 || got[0].Str != want {
			t.Errorf("%s = %+v, want %q", field, got, want)
		}
	}
	bools := map[string]bool{"evt.is_open_write": true, "evt.is_open_read": false, "evt.is_open_create": true, "evt.is_open_exec": false}
	for field, want := range bools {
		if got := extract(t, e, field); len(got) != 1 || got[0].Bool != want {
			t.Errorf("%s = %+v, want %v", field, got, want)
		}
	}
	// The same open with an execute bit in its mode creates an executable.
	ev.Syscall.Args[3] = 0o755
	e.Reset(ev)
	if got := extract(t, e, "evt.is_open_exec"); len(got) != 1 || !got[0].Bool {
		t.Errorf("evt.is_open_exec of O_CREAT with mode 0755 = %+v, want true", got)
	}
	ev.Syscall.Args[2] = 0o1 // O_WRONLY alone: the mode does not apply
	e.Reset(ev)
	if got := extract(t, e, "evt.is_open_exec"); len(got) != 1 || got[0].Bool {
		t.Errorf("evt.is_open_exec without O_CREAT = %+v, want false", got)
	}
	ev.Syscall.Args[2], ev.Syscall.Args[3] = 0o1101, 0o644
	e.Reset(ev)

	if got := extract(t, e, "evt.rawarg.flags"); len(got) != 1 || got[0].Num != 0o1101 {
		t.Errorf("evt.rawarg.flags = %+v, want 0o1101", got)
	}
	if got := extract(t, e, "fd.num"); len(got) != 1 || got[0].Num != 5 {
		t.Errorf("fd.num = %+v, want 5", got)
	}
}

func TestExtractRenamePaths(t *testing.T) {
	ev := &event.Event{
		Type: event.TypeRenameat2, Res: 0, Proc: sampleEvent().Proc,
		Syscall: &event.Syscall{Nr: 316, Path: "a", Path2: "/tmp/b", AbsPath: "/work/a", AbsPath2: "/tmp/b"},
	}
	e := New("", nil)
	e.Reset(ev)
	if got := extract(t, e, "fs.path.source"); len(got) != 1 || got[0].Str != "/work/a" {
		t.Errorf("fs.path.source = %+v", got)
	}
	if got := extract(t, e, "fs.path.target"); len(got) != 1 || got[0].Str != "/tmp/b" {
		t.Errorf("fs.path.target = %+v", got)
	}
	if got := extract(t, e, "fs.path.name"); len(got) != 0 {
		t.Errorf("fs.path.name of a two-path event = %+v, want no value", got)
	}
	if got := extract(t, e, "evt.arg.newpath"); len(got) != 1 || got[0].Str != "/tmp/b" {
		t.Errorf("evt.arg.newpath = %+v", got)
	}
}

func TestSensorTypes(t *testing.T) {
	types := SensorTypes(evttype.NewSet(evttype.Openat, evttype.Connect, evttype.Execve, evttype.Mmap))
	want := map[event.Type]bool{event.TypeOpenat: true, event.TypeConnect: true, event.TypeExecve: true}
	if len(types) != len(want) {
		t.Fatalf("SensorTypes = %v, want %d types", types, len(want))
	}
	for _, typ := range types {
		if !want[typ] {
			t.Errorf("unexpected type %v", typ)
		}
	}
}

func TestExtractChmodMode(t *testing.T) {
	ev := &event.Event{
		Type: event.TypeFchmodat, TID: 30, Res: 0, Proc: sampleEvent().Proc,
		Syscall: &event.Syscall{
			Nr: 268, Args: [6]uint64{uint64(0xffffff9c), 0, 0o2755},
			Path: "tool", AbsPath: "/srv/tool",
		},
	}
	e := New("", nil)
	e.Reset(ev)
	want := "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISGID"
	for _, field := range []string{"evt.arg.mode", "evt.arg[3]"} {
		if got := extract(t, e, field); len(got) != 1 || got[0].Str != want {
			t.Errorf("%s = %+v, want %q", field, got, want)
		}
	}
	if got := extract(t, e, "evt.rawarg.mode"); len(got) != 1 || got[0].Num != 0o2755 {
		t.Errorf("evt.rawarg.mode = %+v, want %d", got, 0o2755)
	}
}
