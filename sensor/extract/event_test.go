package extract

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/event"
)

const fullID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// sampleEvent is `sh -c id` exec'd in a container by nginx, whose parent is
// containerd-shim.
func sampleEvent() *event.Event {
	start := time.Unix(1700000000, 0)
	shim := &event.Process{PID: 10, Name: "containerd-shim", Args: []string{"/usr/bin/containerd-shim"}, ExePath: "/usr/bin/containerd-shim-runc-v2"}
	nginx := &event.Process{PID: 20, PPID: 10, Name: "nginx", Args: []string{"nginx", "-g", "daemon off;"}, ExePath: "/usr/sbin/nginx", Parent: shim, StartTime: start}
	sh := &event.Process{
		PID: 30, PPID: 20, VPID: 7, Name: "sh", Args: []string{"sh", "-c", "id"}, ExePath: "/usr/bin/dash", Cwd: "/srv/app",
		EUID: 33, EGID: 33, LoginUID: event.LoginUIDUnset, TTY: 34817, ContainerID: fullID, ContainerRuntime: "containerd",
		Parent: nginx, StartTime: start.Add(time.Second), Cgroups: []string{"/kubepods.slice/cri-containerd-" + fullID + ".scope"},
	}
	return &event.Event{
		Num: 5, Type: event.TypeExecve, Time: start.Add(3 * time.Second), CPU: 1, TID: 30, Res: 0, Proc: sh,
		Exec: &event.Exec{Filename: "/bin/sh", Args: []string{"sh", "-c", "id"}},
	}
}

func extract(t *testing.T, e *Event, field string) []fields.Value {
	t.Helper()
	name, arg, hasArg := field, "", false
	if i := strings.IndexByte(field, '['); i >= 0 && strings.HasSuffix(field, "]") {
		name, arg, hasArg = field[:i], field[i+1:len(field)-1], true
	} else if rest, ok := strings.CutPrefix(field, "evt.arg."); ok {
		name, arg, hasArg = "evt.arg", rest, true
	} else if rest, ok := strings.CutPrefix(field, "evt.rawarg."); ok {
		name, arg, hasArg = "evt.rawarg", rest, true
	}
	ref, err := fields.Resolve(name, arg, hasArg)
	if err != nil {
		t.Fatalf("resolve %s: %v", field, err)
	}
	return e.Extract(ref, nil)
}

func TestExtractFields(t *testing.T) {
	e := New("node-1", nil)
	e.Reset(sampleEvent())
	if e.Type() != evttype.Execve {
		t.Fatalf("Type = %v, want execve", e.Type())
	}

	strs := map[string]string{
		"proc.name":         "sh",
		"proc.exe":          "sh",
		"proc.exepath":      "/usr/bin/dash",
		"proc.args":         "-c id",
		"proc.cmdline":      "sh -c id",
		"proc.exeline":      "sh -c id",
		"proc.cwd":          "/srv/app/",
		"proc.pname":        "nginx",
		"proc.pexepath":     "/usr/sbin/nginx",
		"proc.pcmdline":     "nginx -g daemon off;",
		"proc.aname[0]":     "sh",
		"proc.aname[2]":     "containerd-shim",
		"proc.aexepath[1]":  "/usr/sbin/nginx",
		"container.id":      fullID[:12],
		"container.full_id": fullID,
		"container.type":    "containerd",
		"evt.res":           "SUCCESS",
		"evt.hostname":      "node-1",
		"evt.dir":           "<",
		"evt.arg.filename":  "/bin/sh",
		"evt.arg.exe":       "sh",
		"evt.arg.args":      "-c.id.",
		"evt.arg[1]":        "sh",
		"evt.arg[6]":        "/srv/app",
	}
	for field, want := range strs {
		got := extract(t, e, field)
		if len(got) != 1 || got[0].Str != want {
			t.Errorf("%s = %+v, want %q", field, got, want)
		}
	}

	nums := map[string]int64{
		"proc.pid":           30,
		"proc.ppid":          20,
		"proc.vpid":          7,
		"proc.tty":           34817,
		"proc.apid[2]":       10,
		"proc.cmdnargs":      2,
		"proc.cmdlenargs":    4,
		"proc.duration":      int64(2 * time.Second),
		"user.uid":           33,
		"user.loginuid":      -1,
		"group.gid":          33,
		"evt.num":            5,
		"evt.cpu":            1,
		"evt.rawres":         0,
		"thread.tid":         30,
		"evt.rawarg.pid":     30,
		"evt.rawarg.ptid":    20,
		"evt.rawarg.res":     0,
		"evt.time":           time.Unix(1700000003, 0).UnixNano(),
		"proc.pid.ts":        time.Unix(1700000001, 0).UnixNano(),
		"proc.ppid.duration": int64(3 * time.Second),
	}
	for field, want := range nums {
		got := extract(t, e, field)
		if len(got) != 1 || got[0].Num != want {
			t.Errorf("%s = %+v, want %d", field, got, want)
		}
	}

	bools := map[string]bool{
		"evt.failed":             false,
		"proc.is_exe_from_memfd": false,
		"thread.ismain":          true,
		"evt.is_open_read":       false,
		"proc.is_pidns_init":     false,
	}
	for field, want := range bools {
		got := extract(t, e, field)
		if len(got) != 1 || got[0].Bool != want {
			t.Errorf("%s = %+v, want %v", field, got, want)
		}
	}

	var names []string
	for _, v := range extract(t, e, "proc.aname") {
		names = append(names, v.Str)
	}
	if want := []string{"nginx", "containerd-shim"}; !slices.Equal(names, want) {
		t.Errorf("proc.aname = %q, want %q", names, want)
	}

	for _, field := range []string{"proc.aname[3]", "container.name", "k8s.pod.name", "user.name", "evt.arg[7]", "evt.arg.fd"} {
		if got := extract(t, e, field); len(got) != 0 {
			t.Errorf("%s = %+v, want no value", field, got)
		}
	}
}

func TestExtractFailedExec(t *testing.T) {
	ev := sampleEvent()
	ev.Res = -2
	e := New("", nil)
	e.Reset(ev)
	if got := extract(t, e, "evt.res"); len(got) != 1 || got[0].Str != "ENOENT" {
		t.Errorf("evt.res = %+v, want ENOENT", got)
	}
	if got := extract(t, e, "evt.failed"); len(got) != 1 || !got[0].Bool {
		t.Errorf("evt.failed = %+v, want true", got)
	}
	if got := extract(t, e, "evt.rawres"); len(got) != 1 || got[0].Num != -2 {
		t.Errorf("evt.rawres = %+v, want -2", got)
	}
	if got := extract(t, e, "evt.hostname"); len(got) != 0 {
		t.Errorf("evt.hostname without host name = %+v, want no value", got)
	}
}

func TestExtractCloneExit(t *testing.T) {
	p := sampleEvent().Proc
	e := New("", nil)

	e.Reset(&event.Event{Type: event.TypeClone3, TID: 30, Res: 31, Proc: p, Clone: &event.Clone{ChildPID: 31, ChildTID: 31, Flags: 0x11}})
	if e.Type() != evttype.Clone3 {
		t.Errorf("Type = %v, want clone3", e.Type())
	}
	if got := extract(t, e, "evt.rawarg.flags"); len(got) != 1 || got[0].Num != 0x11 {
		t.Errorf("evt.rawarg.flags = %+v, want 17", got)
	}
	if got := extract(t, e, "evt.rawres"); len(got) != 1 || got[0].Num != 31 {
		t.Errorf("evt.rawres = %+v, want 31", got)
	}

	e.Reset(&event.Event{Type: event.TypeProcExit, TID: 30, Proc: p, Exit: &event.Exit{Status: 9, GroupDead: true}})
	if e.Type() != evttype.Procexit {
		t.Errorf("Type = %v, want procexit", e.Type())
	}
	if got := extract(t, e, "evt.rawarg.sig"); len(got) != 1 || got[0].Num != 9 {
		t.Errorf("evt.rawarg.sig = %+v, want 9", got)
	}
	if got := extract(t, e, "evt.arg[0]"); len(got) != 1 || got[0].Str != "9" {
		t.Errorf("evt.arg[0] = %+v, want status 9", got)
	}
	if got := extract(t, e, "evt.args"); len(got) != 1 || got[0].Str != "status=9 ret=0 sig=9 core=0" {
		t.Errorf("evt.args = %+v", got)
	}
}

func TestEventTypesMapped(t *testing.T) {
	for _, typ := range event.Types() {
		if _, ok := EventType(typ); !ok {
			t.Errorf("sensor event type %v has no rules engine type", typ)
		}
	}
}

func TestUsersInProcessRoot(t *testing.T) {
	proc := t.TempDir()
	root := filepath.Join(proc, "30", "root")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nbad line\nalias:x:33:33::/:/bin/sh\n"
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nwww-data:x:33:\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	e := New("", NewUsers(proc))
	e.Reset(sampleEvent())
	checks := map[string]string{
		"user.name":    "www-data",
		"user.homedir": "/var/www",
		"user.shell":   "/usr/sbin/nologin",
		"group.name":   "www-data",
	}
	for field, want := range checks {
		if got := extract(t, e, field); len(got) != 1 || got[0].Str != want {
			t.Errorf("%s = %+v, want %q", field, got, want)
		}
	}
	if got := extract(t, e, "user.loginname"); len(got) != 0 {
		t.Errorf("user.loginname without login uid = %+v, want no value", got)
	}

	exited := sampleEvent()
	exited.Proc.PID = 99
	exited.Proc.MntNS = 4
	e.Reset(exited)
	if got := extract(t, e, "user.name"); len(got) != 0 {
		t.Errorf("user.name of an exited container process = %+v, want no value", got)
	}
}

// TestDefaultRulesMatch loads the default rules and checks that a shell
// exec'd in a container matches the container shell rule and renders the
// container id.
func TestDefaultRulesMatch(t *testing.T) {
	eng, _, err := rules.Load(rules.Options{Matching: rules.MatchAll}, defaultsFile(t))
	if err != nil {
		t.Fatalf("load default rules: %v", err)
	}
	e := New("node-1", nil)
	ev := sampleEvent()
	e.Reset(ev)

	matched := eng.Match(e, nil)
	var names []string
	for _, r := range matched {
		names = append(names, r.Name)
	}
	if !slices.Contains(names, "Shell spawned in a container") {
		t.Fatalf("matched rules %q, want the container shell rule", names)
	}
	for _, r := range matched {
		if r.Name != "Shell spawned in a container" {
			continue
		}
		a := r.Alert(e, ev.Time, "node-1")
		if got := a.OutputFields["container.id"]; got != fullID[:12] {
			t.Errorf("output container.id = %v, want %s", got, fullID[:12])
		}
		if got := a.OutputFields["proc.pname"]; got != "nginx" {
			t.Errorf("output proc.pname = %v, want nginx", got)
		}
	}

	ev.Res = -2
	e.Reset(ev)
	if m := eng.Match(e, nil); len(m) != 0 {
		t.Errorf("failed exec matched %d rules, want none", len(m))
	}
}

func BenchmarkMatchDefaultRules(b *testing.B) {
	eng, _, err := rules.Load(rules.Options{}, defaultsFile(b))
	if err != nil {
		b.Fatal(err)
	}
	e := New("node-1", nil)
	ev := sampleEvent()
	var dst []*rules.Rule
	b.ReportAllocs()
	for b.Loop() {
		e.Reset(ev)
		dst = eng.Match(e, dst[:0])
	}
}
