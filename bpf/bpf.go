// Package bpf contains the kernel side of the Riposte sensor: CO-RE BPF
// programs compiled ahead of time (process.c, embedded as process_x86_bpfel.o),
// a loader that attaches them, and Go mirrors of the records they write to
// the ring buffer.
//
// The programs are tp_btf programs on sched_process_exec,
// sched_process_fork, sched_process_exit and sys_exit. They need
// Linux 5.17 or newer (bpf_loop) with BTF at /sys/kernel/btf/vmlinux, and
// x86_64, whose syscall numbers and registers they use. Which syscalls other
// than exec produce records is set at run time with [Objects.SetSyscalls].
// [Kind] returns the kind of a raw record, and [DecodeExec], [DecodeFork],
// [DecodeExit] and [DecodeSyscall] decode each kind.
//
// vmlinux.h was generated from the BTF of Linux 6.18 with
//
//	bpftool btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h
//
// and is only a source of type definitions: CO-RE relocations adapt field
// offsets to the running kernel at load time.
package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// DefaultRingBufferSize is the size of the events ring buffer in bytes when
// [Options.RingBufferSize] is zero.
const DefaultRingBufferSize = 8 << 20

// Options configures [Load].
type Options struct {
	// RingBufferSize is the size of the events ring buffer in bytes. It must
	// be a power of two and a multiple of the page size; zero selects
	// DefaultRingBufferSize.
	RingBufferSize uint32
	// SelfPID is the process id whose syscalls are not reported, normally
	// the sensor's own (os.Getpid()); zero reports every process.
	SelfPID uint32
}

// Objects are the loaded programs and maps. Close releases them and detaches
// the programs.
type Objects struct {
	objs  processObjects
	links []link.Link
}

// Load loads the programs and maps into the kernel without attaching them.
func Load(opts Options) (*Objects, error) {
	spec, err := loadProcess()
	if err != nil {
		return nil, fmt.Errorf("load embedded BPF object: %w", err)
	}

	size := opts.RingBufferSize
	if size == 0 {
		size = DefaultRingBufferSize
	}
	if size&(size-1) != 0 {
		return nil, fmt.Errorf("ring buffer size %d: invalid, use a power of two such as %d", size, DefaultRingBufferSize)
	}
	spec.Maps[processMapEvents].MaxEntries = size
	if err := spec.Variables[processVarSelfTgid].Set(opts.SelfPID); err != nil {
		return nil, fmt.Errorf("set self_tgid: %w", err)
	}

	o := &Objects{}
	if err := spec.LoadAndAssign(&o.objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("load BPF programs: %+v", verr)
		}
		return nil, fmt.Errorf("load BPF programs: %w", err)
	}
	return o, nil
}

// Attach attaches every program to its tracepoint. On error, the programs
// attached so far stay attached until Close.
func (o *Objects) Attach() error {
	progs := []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_exec", o.objs.SchedProcessExec},
		{"sched_process_fork", o.objs.SchedProcessFork},
		{"sched_process_exit", o.objs.SchedProcessExit},
		{"sys_exit", o.objs.SysExit},
	}
	for _, p := range progs {
		l, err := link.AttachTracing(link.TracingOptions{Program: p.prog})
		if err != nil {
			return fmt.Errorf("attach tp_btf %s: %w", p.name, err)
		}
		o.links = append(o.links, l)
	}
	return nil
}

// SyscallSpec is the capture setting of one syscall for the kernel programs (struct
// syscall_spec). Argument indexes count from 0, ArgNone selects nothing and
// ArgRet selects the return value.
type SyscallSpec struct {
	Enabled    uint8
	FDArg      uint8
	PathArg    uint8
	Path2Arg   uint8
	AddrArg    uint8
	AddrLenArg uint8
	Flags      uint8
	Pad        uint8
}

// SpecFDPath is the SyscallSpec.Flags bit that makes the kernel write the
// path of the described descriptor's file.
const SpecFDPath = 1 << 0

// Argument selectors of SyscallSpec.
const (
	ArgNone uint8 = 0xff
	ArgRet  uint8 = 0xfe
)

// SyscallNrMax bounds the syscall numbers that SetSyscalls accepts.
const SyscallNrMax = 512

// SetSyscalls replaces the set of syscalls that produce records. Every
// number in specs is captured as its spec describes, and every other number
// is dropped in the kernel. The programs keep running, so records of syscalls
// that return while the map is rewritten follow either the old or the new
// set.
func (o *Objects) SetSyscalls(specs map[uint32]SyscallSpec) error {
	for nr := range specs {
		if nr >= SyscallNrMax {
			return fmt.Errorf("syscall number %d: invalid, must be below %d", nr, SyscallNrMax)
		}
	}
	keys := make([]uint32, SyscallNrMax)
	values := make([]SyscallSpec, SyscallNrMax)
	for nr := range uint32(SyscallNrMax) {
		keys[nr] = nr
		values[nr] = specs[nr]
	}
	if _, err := o.objs.SyscallSpecs.BatchUpdate(keys, values, nil); err != nil {
		// Batch operations on arrays need Linux 5.6; fall back to one update
		// per entry.
		for i, k := range keys {
			if err := o.objs.SyscallSpecs.Update(k, values[i], ebpf.UpdateAny); err != nil {
				return fmt.Errorf("update syscall_specs at %d: %w", k, err)
			}
		}
	}
	return nil
}

// Events returns the ring buffer map that the programs write records to.
func (o *Objects) Events() *ebpf.Map {
	return o.objs.Events
}

// Drops returns the number of records lost per cause and record kind since
// the programs were loaded, summed over CPUs, for every pair in
// DropCounters, zeros included, so that a metric exists before the first
// loss.
func (o *Objects) Drops() ([]DropCount, error) {
	counts := make([]DropCount, 0, len(DropCounters))
	for _, c := range DropCounters {
		var perCPU []uint64
		key := uint32(c.Cause)*uint32(recordKindMax) + uint32(c.Kind)
		if err := o.objs.Drops.Lookup(key, &perCPU); err != nil {
			return nil, fmt.Errorf("read drops map at key %d (%s, %s): %w", key, c.Cause, c.Kind, err)
		}
		c.Count = 0
		for _, n := range perCPU {
			c.Count += n
		}
		counts = append(counts, c)
	}
	return counts, nil
}

// Close detaches the programs and releases all kernel objects.
func (o *Objects) Close() error {
	var errs []error
	for _, l := range o.links {
		errs = append(errs, l.Close())
	}
	o.links = nil
	errs = append(errs, o.objs.Close())
	return errors.Join(errs...)
}
