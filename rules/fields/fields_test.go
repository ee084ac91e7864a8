package fields

import (
	"errors"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name, arg string
		hasArg    bool
		field     ID
		index     int
		key       string
		text      string
	}{
		{"proc.name", "", false, ProcName, AnyIndex, "", "proc.name"},
		{"proc.aname", "2", true, ProcAname, 2, "", "proc.aname[2]"},
		{"proc.aname", "", false, ProcAname, AnyIndex, "", "proc.aname"},
		{"evt.arg.flags", "", false, EvtArg, AnyIndex, "flags", "evt.arg.flags"},
		{"evt.arg", "0", true, EvtArg, 0, "", "evt.arg[0]"},
		{"evt.arg", "path", true, EvtArg, AnyIndex, "path", "evt.arg[path]"},
		{"evt.rawarg.res", "", false, EvtRawarg, AnyIndex, "res", "evt.rawarg.res"},
		{"k8s.pod.label", "app", true, K8sPodLabel, AnyIndex, "app", "k8s.pod.label[app]"},
		{"k8s.pod.label.app", "", false, K8sPodLabel, AnyIndex, "app", "k8s.pod.label.app"},
		{"container.mount.dest", "/host", true, ContainerMountDest, AnyIndex, "/host", "container.mount.dest[/host]"},
		{"container.mount.dest", "0", true, ContainerMountDest, 0, "", "container.mount.dest[0]"},
		{"proc.env", "HOME", true, ProcEnv, AnyIndex, "HOME", "proc.env[HOME]"},
		{"proc.exe_ino.ctime_duration_proc_start", "", false, ProcExeInoCtimeDurationProcStart, AnyIndex, "", "proc.exe_ino.ctime_duration_proc_start"},
	}
	for _, tt := range tests {
		ref, err := Resolve(tt.name, tt.arg, tt.hasArg)
		if err != nil {
			t.Errorf("Resolve(%s, %q): %v", tt.name, tt.arg, err)
			continue
		}
		if ref.Field != tt.field || ref.Index != tt.index || ref.Key != tt.key || ref.Text != tt.text {
			t.Errorf("Resolve(%s, %q) = %+v", tt.name, tt.arg, *ref)
		}
	}
	raw, err := Resolve("evt.rawarg.name", "", false)
	if err != nil || raw.Type != TypeString {
		t.Errorf("evt.rawarg.name: type %v, error %v; want string", raw, err)
	}
	raw, err = Resolve("evt.rawarg.res", "", false)
	if err != nil || raw.Type != TypeInt64 {
		t.Errorf("evt.rawarg.res: type %v, error %v; want int64", raw, err)
	}
	bad := []struct {
		name, arg string
		hasArg    bool
	}{
		{"proc.namex", "", false}, {"proc.nobody", "", false}, {"evt.arg", "", false}, {"evt.arg.nosuch", "", false},
		{"evt.rawarg", "0", true}, {"proc.name", "1", true}, {"proc.aname", "x", true}, {"proc.aname", "-1", true},
		{"proc.aname.x", "", false}, {"evt.arg.flags", "1", true}, {"nodot", "", false},
	}
	for _, b := range bad {
		_, err := Resolve(b.name, b.arg, b.hasArg)
		if !errors.Is(err, ErrUnknownField) {
			t.Errorf("Resolve(%s, %q, %v) error = %v, want ErrUnknownField", b.name, b.arg, b.hasArg, err)
		}
	}
}

// corpusFields are the 78 base fields the upstream stable, incubating,
// sandbox and deprecated rulesets use.
var corpusFields = map[string]Type{
	"container.id": TypeString, "container.image.repository": TypeString, "container.mount.dest": TypeString,
	"container.mounts": TypeString, "container.privileged": TypeBool, "container.start_ts": TypeAbsTime,
	"evt.arg": TypeString, "evt.args": TypeString, "evt.buffer": TypeBytes, "evt.dir": TypeString,
	"evt.is_open_exec": TypeBool, "evt.is_open_read": TypeBool, "evt.is_open_write": TypeBool,
	"evt.num": TypeUint64, "evt.rawres": TypeInt64, "evt.res": TypeString, "evt.type": TypeString,
	"fd.cip": TypeIPAddr, "fd.cip.name": TypeString, "fd.cnet": TypeIPNet, "fd.connected": TypeBool,
	"fd.directory": TypeString, "fd.filename": TypeString, "fd.ip": TypeIPAddr, "fd.l4proto": TypeString,
	"fd.lip.name": TypeString, "fd.lport": TypePort, "fd.name": TypeString, "fd.name_changed": TypeBool,
	"fd.nameraw": TypeString, "fd.net": TypeIPNet, "fd.num": TypeInt64, "fd.port": TypePort,
	"fd.rip": TypeIPAddr, "fd.rip.name": TypeString, "fd.rnet": TypeIPNet, "fd.rport": TypePort,
	"fd.sip": TypeIPAddr, "fd.sip.name": TypeString, "fd.snet": TypeIPNet, "fd.sockfamily": TypeString,
	"fd.sport": TypePort, "fd.type": TypeString, "fd.typechar": TypeString, "group.gid": TypeUint32,
	"group.name": TypeString, "k8s.ns.name": TypeString, "k8s.pod.name": TypeString, "proc.aexe": TypeString,
	"proc.aexepath": TypeString, "proc.aname": TypeString, "proc.args": TypeString, "proc.cmdline": TypeString,
	"proc.cwd": TypeString, "proc.duration": TypeRelTime, "proc.env": TypeString, "proc.exe": TypeString,
	"proc.exe_ino.ctime": TypeAbsTime, "proc.exe_ino.ctime_duration_proc_start": TypeAbsTime,
	"proc.exe_ino.mtime": TypeAbsTime, "proc.exepath": TypeString, "proc.is_exe_from_memfd": TypeBool,
	"proc.is_exe_upper_layer": TypeBool, "proc.is_vpgid_leader": TypeBool, "proc.name": TypeString,
	"proc.pcmdline": TypeString, "proc.pexe": TypeString, "proc.pexepath": TypeString, "proc.pname": TypeString,
	"proc.sname": TypeString, "proc.tty": TypeUint32, "proc.vpid": TypeInt64, "thread.cap_effective": TypeString,
	"thread.cap_permitted": TypeString, "user.loginname": TypeString, "user.loginuid": TypeInt64,
	"user.name": TypeString, "user.uid": TypeUint32,
}

func TestCatalogueCoversCorpus(t *testing.T) {
	if len(corpusFields) != 78 {
		t.Fatalf("test table has %d fields, want 78", len(corpusFields))
	}
	for name, typ := range corpusFields {
		f := Lookup(name)
		if f == nil {
			t.Errorf("field %s missing", name)
			continue
		}
		if f.Type != typ {
			t.Errorf("field %s type %s, want %s", name, f.Type, typ)
		}
	}
	for _, name := range []string{"fd.ip", "fd.net", "fd.snet", "fd.cnet", "fd.rnet", "fd.port"} {
		if !Lookup(name).Has(FlagFilterOnly | FlagNoRHS | FlagNoTransformer) {
			t.Errorf("%s lacks the filter-only flags", name)
		}
	}
	for _, name := range []string{"proc.aname", "proc.aexepath", "proc.aexe"} {
		if !Lookup(name).Has(FlagArgAllowed | FlagNoRHS | FlagNoTransformer) {
			t.Errorf("%s lacks its flags", name)
		}
	}
	if !Lookup("evt.arg").Has(FlagArgRequired) || !Lookup("evt.dir").Has(FlagDeprecated) {
		t.Error("evt.arg or evt.dir flags are wrong")
	}
}

func TestCatalogueConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range All() {
		if seen[f.Name] {
			t.Errorf("field %s listed twice", f.Name)
		}
		seen[f.Name] = true
		if Get(f.ID) != f {
			t.Errorf("Get(%d) is not %s", f.ID, f.Name)
		}
		if f.Desc == "" {
			t.Errorf("field %s has no description", f.Name)
		}
		if f.Type == 0 {
			t.Errorf("field %s has no type", f.Name)
		}
	}
	if Get(0) != nil || Get(maxID) != nil {
		t.Error("Get accepts an invalid id")
	}
}
