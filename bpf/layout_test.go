package bpf

import (
	"reflect"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestRecordLayout checks that the Go mirror of every record matches the
// layout in the compiled object's BTF: the total size and the offset and
// size of each field, in order.
func TestRecordLayout(t *testing.T) {
	spec, err := loadProcess()
	if err != nil {
		t.Fatalf("load embedded object: %v", err)
	}
	mirrors := []struct {
		cName string
		goVal any
	}{
		{"event_header", EventHeader{}},
		{"exec_event", ExecEvent{}},
		{"fork_event", ForkEvent{}},
		{"exit_event", ExitEvent{}},
		{"syscall_event", SyscallEvent{}},
		{"syscall_spec", SyscallSpec{}},
	}
	for _, m := range mirrors {
		t.Run(m.cName, func(t *testing.T) {
			var st *btf.Struct
			if err := spec.Types.TypeByName(m.cName, &st); err != nil {
				t.Fatalf("find struct %s in BTF: %v", m.cName, err)
			}
			compareLayout(t, st, reflect.TypeOf(m.goVal))
		})
	}
}

func compareLayout(t *testing.T, st *btf.Struct, gt reflect.Type) {
	t.Helper()
	if uint32(gt.Size()) != st.Size {
		t.Errorf("%s: Go size %d, BTF size %d", gt.Name(), gt.Size(), st.Size)
	}
	if gt.NumField() != len(st.Members) {
		t.Fatalf("%s: Go has %d fields, BTF has %d members", gt.Name(), gt.NumField(), len(st.Members))
	}
	for i, m := range st.Members {
		f := gt.Field(i)
		if off := uint32(m.Offset.Bytes()); uintptr(off) != f.Offset {
			t.Errorf("%s.%s: Go offset %d, BTF member %s offset %d", gt.Name(), f.Name, f.Offset, m.Name, off)
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			t.Errorf("%s: size of BTF member %s: %v", gt.Name(), m.Name, err)
			continue
		}
		if uintptr(size) != f.Type.Size() {
			t.Errorf("%s.%s: Go size %d, BTF member %s size %d", gt.Name(), f.Name, f.Type.Size(), m.Name, size)
		}
	}
}
