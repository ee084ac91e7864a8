package syscalls

import (
	"testing"

	"github.com/riposte-sec/riposte/sensor/event"
)

func TestOpenFlagsText(t *testing.T) {
	tests := []struct {
		flags uint32
		want  string
	}{
		{0, "O_RDONLY"},
		{0o2000000, "O_RDONLY|O_CLOEXEC"},
		{0o1101, "O_TRUNC|O_CREAT|O_WRONLY"},
		{0o2 | 0o2000, "O_APPEND|O_RDWR"},
		{0o100000, "O_LARGEFILE|O_RDONLY"},
		// touch: O_WRONLY|O_CREAT|O_NOCTTY|O_NONBLOCK, and Falco prints no
		// O_NOCTTY.
		{0o1 | 0o100 | 0o400 | 0o4000, "O_NONBLOCK|O_CREAT|O_WRONLY"},
		{0o2 | 0o20200000 | 0o2000000, "O_DIRECTORY|O_RDWR|O_CLOEXEC|O_TMPFILE"},
	}
	for _, tt := range tests {
		if got := OpenFlagsText(tt.flags); got != tt.want {
			t.Errorf("OpenFlagsText(%#o) = %q, want %q", tt.flags, got, tt.want)
		}
	}
	if !OpenReads(0) || OpenWrites(0) || !OpenWrites(1) || OpenReads(1) || !OpenReads(2) || !OpenWrites(2) {
		t.Error("access mode checks wrong")
	}
}

func TestParseSockaddr(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want string
		ok   bool
	}{
		{"ipv4", []byte{2, 0, 0, 22, 192, 168, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0}, "192.168.1.9:22", true},
		{"ipv6", append([]byte{10, 0, 0x1f, 0x90, 0, 0, 0, 0}, append(make([]byte, 15), 1)...), "::1:8080", true},
		{"unix path", append([]byte{1, 0}, "/run/docker.sock\x00\x00"...), "/run/docker.sock", true},
		{"unix abstract", append([]byte{1, 0, 0}, "hidden"...), "@hidden", true},
		{"short ipv4", []byte{2, 0, 0}, "", false},
		{"netlink", []byte{16, 0, 0, 0}, "", false},
		{"empty", nil, "", false},
	}
	for _, tt := range tests {
		got, ok := SockaddrText(tt.raw)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: SockaddrText = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParamValues(t *testing.T) {
	ev := &event.Event{Type: event.TypePtrace, Res: -1, Syscall: &event.Syscall{Args: [6]uint64{16, 1234, 0, 0}}}
	s := ByType(event.TypePtrace)
	want := map[string]string{"res": "EPERM", "request": "PTRACE_ATTACH", "pid": "1234"}
	for _, prm := range s.Params {
		v, ok := ParamValue(prm, ev)
		if w, check := want[prm.Name]; check && (!ok || v.Text != w) {
			t.Errorf("%s = %q, %v; want %q", prm.Name, v.Text, ok, w)
		}
	}
	if ResText(0) != "SUCCESS" || ResText(-2) != "ENOENT" || ResText(-9999) != "-9999" {
		t.Errorf("ResText wrong: %q %q %q", ResText(0), ResText(-2), ResText(-9999))
	}
}

func FuzzParseSockaddr(f *testing.F) {
	f.Add([]byte{2, 0, 0, 22, 192, 168, 1, 9})
	f.Add(append([]byte{1, 0, 0}, "x"...))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = SockaddrText(raw)
	})
}

func TestChmodModeText(t *testing.T) {
	tests := []struct {
		mode uint32
		want string
	}{
		{0o4644, "S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR|S_ISUID"},
		{0o2755, "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISGID"},
		{0o1777, "S_IXOTH|S_IWOTH|S_IROTH|S_IXGRP|S_IWGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISVTX"},
		{0o4000, "S_ISUID"},
		{0o100, "S_IXUSR"},
		{0, "0"},
		// File type bits are not part of the mode Falco reports.
		{0o100000, "0"},
		{0o100600, "S_IWUSR|S_IRUSR"},
	}
	for _, tt := range tests {
		if got := ChmodModeText(tt.mode); got != tt.want {
			t.Errorf("ChmodModeText(%#o) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}

func TestChmodModeParam(t *testing.T) {
	for _, name := range []string{"chmod", "fchmod", "fchmodat"} {
		var s *Syscall
		for _, sc := range All() {
			if sc.Name == name {
				s = sc
			}
		}
		if s == nil {
			t.Fatalf("syscall %s missing from the table", name)
		}
		mode := s.Params[len(s.Params)-1]
		if mode.Name != "mode" {
			t.Fatalf("%s: last parameter = %q, want mode", name, mode.Name)
		}
		ev := &event.Event{Type: s.Type, Syscall: &event.Syscall{}}
		ev.Syscall.Args[mode.Arg] = 0o104755
		v, ok := ParamValue(mode, ev)
		if !ok {
			t.Fatalf("%s: mode has no value", name)
		}
		if want := "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID"; v.Text != want {
			t.Errorf("%s: evt.arg.mode = %q, want %q", name, v.Text, want)
		}
		if !v.Numeric || v.Num != 0o4755 {
			t.Errorf("%s: evt.rawarg.mode = %#o (numeric %v), want 04755", name, v.Num, v.Numeric)
		}
	}
}
