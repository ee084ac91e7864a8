package rulestest

import (
	"net/netip"
	"testing"

	"github.com/riposte-sec/riposte/rules/fields"
)

func extract(t *testing.T, ev *Event, name, arg string, hasArg bool) []fields.Value {
	t.Helper()
	ref, err := fields.Resolve(name, arg, hasArg)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Extract(ref, nil)
}

func TestEventExtract(t *testing.T) {
	ev := New("execve",
		"proc.name", "sh", "proc.aname", []string{"bash", "sshd"}, "user.uid", 1000,
		"fd.ip", []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")},
		"evt.arg[flags]", "O_RDONLY", "k8s.pod.label.app", "web",
	)
	if v := extract(t, ev, "proc.name", "", false); len(v) != 1 || v[0].Str != "sh" {
		t.Errorf("proc.name = %v", v)
	}
	if v := extract(t, ev, "proc.aname", "", false); len(v) != 2 || v[1].Str != "sshd" {
		t.Errorf("proc.aname = %v", v)
	}
	if v := extract(t, ev, "proc.aname", "2", true); len(v) != 1 || v[0].Str != "sshd" {
		t.Errorf("proc.aname[2] = %v", v)
	}
	if v := extract(t, ev, "proc.aname", "0", true); len(v) != 1 || v[0].Str != "sh" {
		t.Errorf("proc.aname[0] = %v", v)
	}
	if v := extract(t, ev, "proc.aname", "3", true); len(v) != 0 {
		t.Errorf("proc.aname[3] = %v, want none", v)
	}
	if v := extract(t, ev, "user.uid", "", false); len(v) != 1 || v[0].Num != 1000 {
		t.Errorf("user.uid = %v", v)
	}
	if v := extract(t, ev, "fd.ip", "", false); len(v) != 2 {
		t.Errorf("fd.ip = %v", v)
	}
	if v := extract(t, ev, "evt.arg.flags", "", false); len(v) != 1 || v[0].Str != "O_RDONLY" {
		t.Errorf("evt.arg.flags = %v", v)
	}
	if v := extract(t, ev, "k8s.pod.label", "app", true); len(v) != 1 || v[0].Str != "web" {
		t.Errorf("k8s.pod.label[app] = %v", v)
	}
	if v := extract(t, ev, "fd.name", "", false); len(v) != 0 {
		t.Errorf("fd.name = %v, want none", v)
	}
	if ev.Type().String() != "execve" {
		t.Errorf("type = %v", ev.Type())
	}
}
