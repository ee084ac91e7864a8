package extract

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/riposte-sec/riposte/sensor/event"
)

// accountProcRoot writes a passwd and a group file into the root of
// process 30 under a temporary proc directory, where sampleEvent reads it.
func accountProcRoot(t *testing.T) string {
	t.Helper()
	proc := t.TempDir()
	etc := filepath.Join(proc, "30", "root", "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return proc
}

func setIDEvent(typ event.Type, nr uint32, args ...uint64) *event.Event {
	ev := sampleEvent()
	ev.Type = typ
	ev.Exec = nil
	ev.Syscall = &event.Syscall{Nr: nr}
	copy(ev.Syscall.Args[:], args)
	return ev
}

// TestAccountParamsRenderNames checks that the user and group id
// parameters of the set*id syscalls render as Falco renders PT_UID and
// PT_GID: the name when the process's passwd or group file has the id,
// <NA> when it has not, <NONE> for -1, while evt.rawarg stays the number.
func TestAccountParamsRenderNames(t *testing.T) {
	e := New("", NewUsers(accountProcRoot(t)))
	const unset = 0xffffffff
	cases := []struct {
		name  string
		ev    *event.Event
		field string
		text  string
		raw   int64
	}{
		{"setuid known", setIDEvent(event.TypeSetuid, 105, 65534), "uid", "nobody", 65534},
		{"setuid root", setIDEvent(event.TypeSetuid, 105, 0), "uid", "root", 0},
		{"setuid unknown", setIDEvent(event.TypeSetuid, 105, 4242), "uid", "<NA>", 4242},
		{"setgid known", setIDEvent(event.TypeSetgid, 106, 65534), "gid", "nogroup", 65534},
		{"setgid unknown", setIDEvent(event.TypeSetgid, 106, 4242), "gid", "<NA>", 4242},
		{"setresuid euid", setIDEvent(event.TypeSetresuid, 117, unset, 65534, unset), "euid", "nobody", 65534},
		{"setresuid ruid unset", setIDEvent(event.TypeSetresuid, 117, unset, 65534, unset), "ruid", "<NONE>", unset},
		{"setreuid ruid", setIDEvent(event.TypeSetreuid, 113, 0, 65534), "ruid", "root", 0},
		{"setregid egid", setIDEvent(event.TypeSetregid, 114, 0, 65534), "egid", "nogroup", 65534},
		{"setresgid sgid", setIDEvent(event.TypeSetresgid, 119, 0, 0, 65534), "sgid", "nogroup", 65534},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.Reset(c.ev)
			if got := extract(t, e, "evt.arg."+c.field); len(got) != 1 || got[0].Str != c.text {
				t.Errorf("evt.arg.%s = %+v, want %q", c.field, got, c.text)
			}
			if got := extract(t, e, "evt.rawarg."+c.field); len(got) != 1 || got[0].Num != c.raw {
				t.Errorf("evt.rawarg.%s = %+v, want %d", c.field, got, c.raw)
			}
		})
	}

	e.Reset(setIDEvent(event.TypeSetuid, 105, 65534))
	if got := extract(t, e, "evt.arg[1]"); len(got) != 1 || got[0].Str != "nobody" {
		t.Errorf("evt.arg[1] = %+v, want nobody", got)
	}
	if got := extract(t, e, "evt.args"); len(got) != 1 || got[0].Str != "res=0 uid=65534(nobody)" {
		t.Errorf("evt.args = %+v, want %q", got, "res=0 uid=65534(nobody)")
	}
}

// TestAccountParamsWithoutResolver checks that an adapter without a user
// resolver keeps printing the ids as numbers.
func TestAccountParamsWithoutResolver(t *testing.T) {
	e := New("", nil)
	e.Reset(setIDEvent(event.TypeSetuid, 105, 65534))
	if got := extract(t, e, "evt.arg.uid"); len(got) != 1 || got[0].Str != "65534" {
		t.Errorf("evt.arg.uid = %+v, want 65534", got)
	}
}
