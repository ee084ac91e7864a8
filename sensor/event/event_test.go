package event

import "testing"

func TestTypeNames(t *testing.T) {
	for _, typ := range Types() {
		got, ok := TypeByName(typ.String())
		if !ok || got != typ {
			t.Errorf("TypeByName(%q) = %v, %v; want %v", typ.String(), got, ok, typ)
		}
	}
	if _, ok := TypeByName("unknown"); ok {
		t.Error("TypeByName(unknown) found a type")
	}
	if got := Type(999).String(); got != "unknown" {
		t.Errorf("Type(999).String() = %q, want unknown", got)
	}
	if TypeExecve.String() != "execve" || TypeProcExit.String() != "procexit" {
		t.Errorf("names: %q %q", TypeExecve, TypeProcExit)
	}
}

func TestExitStatus(t *testing.T) {
	normal := &Exit{Status: 3 << 8}
	if code, ok := normal.ExitCode(); !ok || code != 3 {
		t.Errorf("ExitCode = %d, %v; want 3, true", code, ok)
	}
	if _, ok := normal.Signal(); ok {
		t.Error("Signal reported for a normal exit")
	}
	killed := &Exit{Status: 9}
	if sig, ok := killed.Signal(); !ok || sig != 9 {
		t.Errorf("Signal = %d, %v; want 9, true", sig, ok)
	}
	if _, ok := killed.ExitCode(); ok {
		t.Error("ExitCode reported for a killed process")
	}
}

func TestProcessFields(t *testing.T) {
	init := &Process{PID: 1, Name: "systemd"}
	sh := &Process{PID: 10, Name: "bash", Parent: init}
	p := &Process{PID: 20, Name: "sh", Args: []string{"/bin/sh", "-c", "id"}, ExePath: "/usr/bin/dash",
		ContainerID: "0123456789abcdef0123", Parent: sh}

	if got := p.Exe(); got != "/bin/sh" {
		t.Errorf("Exe = %q", got)
	}
	if got := p.ArgsString(); got != "-c id" {
		t.Errorf("ArgsString = %q", got)
	}
	if got := p.Cmdline(); got != "sh -c id" {
		t.Errorf("Cmdline = %q", got)
	}
	if got := p.ExeName(); got != "dash" {
		t.Errorf("ExeName = %q", got)
	}
	if got := p.ShortContainerID(); got != "0123456789ab" {
		t.Errorf("ShortContainerID = %q", got)
	}
	if p.Ancestor(1) != sh || p.Ancestor(2) != init || p.Ancestor(3) != nil || p.Ancestor(0) != nil {
		t.Error("Ancestor returned the wrong entries")
	}
	if a := p.Ancestors(); len(a) != 2 || a[0] != sh || a[1] != init {
		t.Errorf("Ancestors = %v", a)
	}
	if got := (&Process{Name: "x"}).Cmdline(); got != "x" {
		t.Errorf("Cmdline without args = %q", got)
	}
}
