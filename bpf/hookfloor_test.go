package bpf

import (
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// emptyProgram returns a program that does nothing, of the given type.
func emptyProgram(b *testing.B, spec *ebpf.ProgramSpec) *ebpf.Program {
	b.Helper()
	spec.Instructions = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	spec.License = "GPL"
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		b.Fatalf("load empty %v program: %v", spec.Type, err)
	}
	b.Cleanup(func() { prog.Close() })
	return prog
}

// BenchmarkSyscallHookFloor measures getpid, a syscall that no rule needs,
// with nothing attached and with a BPF program that returns at once attached
// where a syscall sensor must hook. It gives the least slowdown that any
// syscall capture adds on this kernel, whatever its programs do: attaching
// to sys_exit, or even to one syscall's tracepoint, moves every syscall of
// every process onto the kernel's traced syscall path.
func BenchmarkSyscallHookFloor(b *testing.B) {
	requireBPF(b)
	getpid := func(b *testing.B) {
		for b.Loop() {
			syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
		}
	}
	b.Run("none", getpid)
	b.Run("tp_btf-sys_exit", func(b *testing.B) {
		prog := emptyProgram(b, &ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: "sys_exit"})
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			b.Fatalf("attach tp_btf/sys_exit: %v", err)
		}
		defer l.Close()
		getpid(b)
	})
	b.Run("tracepoint-sys_exit_openat", func(b *testing.B) {
		prog := emptyProgram(b, &ebpf.ProgramSpec{Type: ebpf.TracePoint})
		l, err := link.Tracepoint("syscalls", "sys_exit_openat", prog, nil)
		if err != nil {
			b.Skipf("attach syscalls/sys_exit_openat (tracefs must be mounted): %v", err)
		}
		defer l.Close()
		getpid(b)
	})
}
