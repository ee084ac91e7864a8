package syscalls

import (
	"testing"

	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/event"
)

func TestTableConsistent(t *testing.T) {
	seenNr := map[uint32]string{}
	seenType := map[event.Type]string{}
	for _, s := range All() {
		if prev, dup := seenNr[s.Nr]; dup {
			t.Errorf("%s and %s share number %d", prev, s.Name, s.Nr)
		}
		seenNr[s.Nr] = s.Name
		if prev, dup := seenType[s.Type]; dup {
			t.Errorf("%s and %s share type %v", prev, s.Name, s.Type)
		}
		seenType[s.Type] = s.Name
		if s.Type.String() != s.Name {
			t.Errorf("%s has event type %v", s.Name, s.Type)
		}
		if _, ok := evttype.Lookup(s.Name); !ok {
			t.Errorf("%s is not an event type of the rules engine", s.Name)
		}
		if s.Nr >= 512 {
			t.Errorf("%s number %d beyond the kernel spec table", s.Name, s.Nr)
		}
		for _, prm := range s.Params {
			if !fields.IsParam(prm.Name) {
				t.Errorf("%s parameter %q is not a parameter name of Falco's event table", s.Name, prm.Name)
			}
			if prm.Arg > 5 {
				t.Errorf("%s parameter %q reads register %d", s.Name, prm.Name, prm.Arg)
			}
		}
		if ByNr(s.Nr) != s || ByType(s.Type) != s {
			t.Errorf("%s not found by number or type", s.Name)
		}
	}
}

// TestStableRuleSyscalls checks that every syscall the upstream rules name
// by evt.type is captured (exec, clone and exit have their own programs).
func TestStableRuleSyscalls(t *testing.T) {
	names := []string{
		"connect", "dup", "dup2", "dup3", "finit_module", "init_module", "link", "linkat", "open", "openat",
		"openat2", "ptrace", "sendmsg", "sendto", "socket", "symlink", "symlinkat", "accept", "accept4", "bpf",
		"chmod", "creat", "fchmod", "fchmodat", "listen", "mkdir", "mkdirat", "recvfrom", "recvmsg", "rename",
		"renameat", "renameat2", "rmdir", "setns", "setuid", "unlink", "unlinkat", "unshare", "userfaultfd",
	}
	for _, n := range names {
		typ, ok := event.TypeByName(n)
		if !ok || ByType(typ) == nil {
			t.Errorf("syscall %s is not captured", n)
		}
	}
}

func TestDirArgs(t *testing.T) {
	tests := []struct {
		name            string
		pathDir, path2D int
	}{
		{"openat", 0, -1},
		{"open", -1, -1},
		{"renameat2", 0, 2},
		{"linkat", 0, 2},
		{"symlinkat", -1, 1},
		{"unlinkat", 0, -1},
	}
	for _, tt := range tests {
		typ, _ := event.TypeByName(tt.name)
		s := ByType(typ)
		if s.PathDirArg != tt.pathDir || s.Path2DirArg != tt.path2D {
			t.Errorf("%s dir args = %d, %d; want %d, %d", tt.name, s.PathDirArg, s.Path2DirArg, tt.pathDir, tt.path2D)
		}
	}
}

func TestSpecs(t *testing.T) {
	specs := Specs([]event.Type{event.TypeOpenat, event.TypeExecve, event.TypeConnect})
	if len(specs) != 2 {
		t.Fatalf("Specs = %v, want openat and connect only", specs)
	}
	if s := specs[257]; s.Enabled != 1 || s.PathArg != 1 || s.FDArg != 0xfe {
		t.Errorf("openat spec = %+v", s)
	}
	if s := specs[42]; s.AddrArg != 1 || s.AddrLenArg != 2 || s.FDArg != 0 {
		t.Errorf("connect spec = %+v", s)
	}
}

// TestNumbersMatchEngine checks the numbers of the table against the rules
// engine's table generated from the kernel's UAPI header.
func TestNumbersMatchEngine(t *testing.T) {
	for _, s := range All() {
		if got := evttype.FromX86Syscall(int(s.Nr)); got.String() != s.Name {
			t.Errorf("%s: number %d is %v in the engine's table", s.Name, s.Nr, got)
		}
	}
}
