package evttype

import (
	"sort"
	"testing"
)

func TestLookup(t *testing.T) {
	// The 41 names the upstream rulesets use, and the ones a sensor needs
	// to keep its state.
	names := []string{
		"accept", "accept4", "bind", "bpf", "chdir", "chmod", "clone", "clone3", "close", "connect", "creat",
		"dup", "dup2", "dup3", "execve", "execveat", "fchdir", "fchmod", "fchmodat", "fcntl", "finit_module",
		"fork", "init_module", "link", "linkat", "listen", "mkdir", "mkdirat", "open", "openat", "openat2",
		"procexit", "ptrace", "recvfrom", "recvmsg", "rename", "renameat", "renameat2", "rmdir", "sendmsg",
		"sendto", "setgid", "setns", "setresgid", "setresuid", "setuid", "socket", "symlink", "symlinkat",
		"unlink", "unlinkat", "unshare", "userfaultfd", "vfork", "capset", "container", "signaldeliver",
	}
	for _, n := range names {
		ty, ok := Lookup(n)
		if !ok {
			t.Errorf("Lookup(%q) not found", n)
			continue
		}
		if ty.String() != n {
			t.Errorf("Lookup(%q).String() = %q", n, ty.String())
		}
	}
	for _, n := range []string{"", "notasyscall", "Execve", "some_invalid_event"} {
		if _, ok := Lookup(n); ok {
			t.Errorf("Lookup(%q) found", n)
		}
	}
	if Execve.String() != "execve" || Openat.String() != "openat" || UnderscoreLlseek.String() != "_llseek" {
		t.Error("constants do not match their names")
	}
	if None.Valid() || Type(Count+1).Valid() || !Type(Count).Valid() {
		t.Error("Valid is wrong at the bounds")
	}
}

func TestNamesSorted(t *testing.T) {
	if !sort.StringsAreSorted(names[1:]) {
		t.Fatal("names are not sorted; Lookup needs them sorted")
	}
	for i := 2; i <= count; i++ {
		if names[i] == names[i-1] {
			t.Errorf("duplicate name %q", names[i])
		}
	}
}

func TestSet(t *testing.T) {
	var s Set
	if !s.Empty() || s.Len() != 0 {
		t.Error("zero Set is not empty")
	}
	s.Add(Openat)
	s.Add(Execve)
	s.Add(None)
	if !s.Has(Openat) || !s.Has(Execve) || s.Has(Close) || s.Has(None) {
		t.Error("Has after Add is wrong")
	}
	if got := s.Names(); len(got) != 2 || got[0] != "execve" || got[1] != "openat" {
		t.Errorf("Names = %v", got)
	}
	c := s.Complement()
	if c.Has(Openat) || !c.Has(Close) || c.Len() != Count-2 {
		t.Errorf("Complement has %d types", c.Len())
	}
	if s.Union(c) != Full() || !Full().IsFull() || s.Intersect(c) != (Set{}) {
		t.Error("Union or Intersect with the complement is wrong")
	}
	s.Remove(Openat)
	if s.Has(Openat) || s.Len() != 1 {
		t.Error("Remove did not remove")
	}
	if len(All()) != Count {
		t.Errorf("All has %d types, want %d", len(All()), Count)
	}
}

func TestKernelCodes(t *testing.T) {
	if n := NewSet(Open, Openat, Openat2).KernelCodes(); n > 20 {
		t.Errorf("open family covers %d codes", n)
	}
	if n := NewSet(Execve).Complement().KernelCodes(); n <= 100 {
		t.Errorf("everything but execve covers %d codes, want more than 100", n)
	}
}

func TestX86Syscalls(t *testing.T) {
	tests := []struct {
		nr   int
		want Type
	}{
		{59, Execve}, {322, Execveat}, {257, Openat}, {2, Open}, {42, Connect}, {56, Clone}, {435, Clone3}, {437, Openat2},
	}
	for _, tt := range tests {
		if got := FromX86Syscall(tt.nr); got != tt.want {
			t.Errorf("FromX86Syscall(%d) = %v, want %v", tt.nr, got, tt.want)
		}
	}
	if FromX86Syscall(100000) != None {
		t.Error("an unknown number has a type")
	}
	got := NewSet(Execve, Execveat, Procexit, Openat).X86Syscalls()
	if len(got) != 3 || got[0] != 59 || got[1] != 257 || got[2] != 322 {
		t.Errorf("X86Syscalls = %v, want [59 257 322]", got)
	}
}
