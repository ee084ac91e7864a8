package extract

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestExtractProcessState(t *testing.T) {
	ev := sampleEvent()
	p := ev.Proc
	p.SID, p.PGID = 20, 30
	p.CapEffective = 1<<21 | 1<<0
	p.ExeIno, p.ExeMode, p.ExeUID = 99, 0o100755, 0
	p.ExeCtime = p.StartTime.Add(-time.Minute)
	p.ExeOverlay, p.ExeUpperLayer = true, true

	e := New("", nil)
	e.Reset(ev)
	strs := map[string]string{
		"proc.sname":           "nginx",
		"proc.vpgid.name":      "sh",
		"thread.cap_effective": "CAP_CHOWN CAP_SYS_ADMIN",
	}
	for field, want := range strs {
		if got := extract(t, e, field); len(got) != 1 || got[0].Str != want {
			t.Errorf("%s = %+v, want %q", field, got, want)
		}
	}
	nums := map[string]int64{
		"proc.sid":                               20,
		"proc.vpgid":                             30,
		"proc.exe_ino":                           99,
		"proc.exe_ino.ctime_duration_proc_start": int64(time.Minute),
	}
	for field, want := range nums {
		if got := extract(t, e, field); len(got) != 1 || got[0].Num != want {
			t.Errorf("%s = %+v, want %d", field, got, want)
		}
	}
	bools := map[string]bool{
		"proc.is_exe_upper_layer": true,
		"proc.is_exe_lower_layer": false,
		"proc.is_exe_writable":    false, // owned by root, process runs as uid 33
		"proc.is_sid_leader":      false,
		"proc.is_vpgid_leader":    true,
	}
	for field, want := range bools {
		if got := extract(t, e, field); len(got) != 1 || got[0].Bool != want {
			t.Errorf("%s = %+v, want %v", field, got, want)
		}
	}
}

func TestExtractEnv(t *testing.T) {
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "30"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "30", "environ"), []byte("HOME=/root\x00PATH=/bin\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := New("", NewUsers(proc))
	e.Reset(sampleEvent())
	if got := extract(t, e, "proc.env[PATH]"); len(got) != 1 || got[0].Str != "/bin" {
		t.Errorf("proc.env[PATH] = %+v, want /bin", got)
	}
	if got := extract(t, e, "proc.env"); len(got) != 1 || got[0].Str != "HOME=/root PATH=/bin" {
		t.Errorf("proc.env = %+v", got)
	}
	if got := extract(t, e, "proc.env[NOPE]"); len(got) != 0 {
		t.Errorf("proc.env[NOPE] = %+v, want no value", got)
	}
}

func TestExecFlagsParam(t *testing.T) {
	ev := sampleEvent()
	ev.Proc.ExeOverlay, ev.Proc.ExeUpperLayer = true, true
	ev.Proc.ExeMode, ev.Proc.ExeUID = 0o100755, 33 // owned by the process's euid
	ev.Proc.CapEffective = 1 << 21
	e := New("", nil)
	e.Reset(ev)
	if got := extract(t, e, "evt.arg.flags"); len(got) != 1 || got[0].Str != "EXE_WRITABLE|EXE_UPPER_LAYER" {
		t.Errorf("evt.arg.flags = %+v, want EXE_WRITABLE|EXE_UPPER_LAYER", got)
	}
	if got := extract(t, e, "evt.rawarg.flags"); len(got) != 1 || got[0].Num != 3 {
		t.Errorf("evt.rawarg.flags = %+v, want 3", got)
	}
	if got := extract(t, e, "evt.arg.cap_effective"); len(got) != 1 || got[0].Str != "CAP_SYS_ADMIN" {
		t.Errorf("evt.arg.cap_effective = %+v", got)
	}
	if got := extract(t, e, "evt.arg[19]"); len(got) != 1 || got[0].Str != "EXE_WRITABLE|EXE_UPPER_LAYER" {
		t.Errorf("evt.arg[19] = %+v, want the exe flags", got)
	}
}
