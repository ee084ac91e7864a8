package sensor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/bpf"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/proc"
	"github.com/riposte-sec/riposte/sensor/syscalls"
)

// Config configures a Sensor. The zero value of every field but Handler
// selects a default.
type Config struct {
	// Handler receives every event, from the sensor's reading goroutine.
	// It must return quickly: while it runs, no records are read and the
	// kernel drops new ones once the ring buffer fills. The event, its
	// Syscall and the Process it points to are valid only until Handler
	// returns; the sensor reuses or changes them afterwards.
	Handler func(*event.Event)
	// RingBufferSize is the size of the kernel ring buffer in bytes, a power
	// of two (default bpf.DefaultRingBufferSize).
	RingBufferSize uint32
	// MaxProcesses bounds the process table (default
	// proc.DefaultMaxProcesses).
	MaxProcesses int
	// ProcRoot is the procfs mount point (default "/proc").
	ProcRoot string
	// Syscalls are the event types, besides exec, clone and procexit (always
	// captured), whose syscalls cross into userspace; the kernel drops the
	// others. SetSyscalls changes the set while the sensor runs.
	Syscalls []event.Type
	// DisableFDState stops the capture of the syscalls that keep the
	// descriptor table, working directories and credentials current
	// (syscalls.StateTypes) when no rule needs them. Fields such as fd.name
	// then come only from the kernel's view at each event.
	DisableFDState bool
	// OnDrops is called, at most once per DropCheckInterval, when the share
	// of records lost in the kernel during the interval exceeds
	// DropThreshold. DropThreshold is a fraction, DefaultDropThreshold
	// (0.1%) when zero. The sensor also logs a warning then, and calls
	// OnDrops from its own goroutine.
	OnDrops           func(DropReport)
	DropCheckInterval time.Duration
	DropThreshold     float64
	// TracefsDir and BpffsDir are the mount points of tracefs and bpffs,
	// mounted there when missing (defaults "/sys/kernel/tracing" and
	// "/sys/fs/bpf").
	TracefsDir string
	BpffsDir   string
}

// pollInterval bounds how long a syscall record waits in the ring buffer
// before the reader collects it.
const pollInterval = 20 * time.Millisecond

// Stats are counters of a running sensor.
type Stats struct {
	// RecordsRead counts ring-buffer records read.
	RecordsRead uint64
	// EventsDelivered counts events passed to the handler.
	EventsDelivered uint64
	// DecodeErrors counts records that could not be decoded.
	DecodeErrors uint64
	// Drops lists records lost in the kernel, per cause and kind.
	Drops []bpf.DropCount
	// Processes is the number of process table entries; ProcessesEvicted
	// counts entries removed to stay within MaxProcesses.
	Processes        int
	ProcessesEvicted uint64
}

// Sensor loads the BPF programs and turns their records into events.
type Sensor struct {
	cfg    Config
	logger *slog.Logger
	objs   *bpf.Objects
	table  *proc.Table

	recordsRead     atomic.Uint64
	eventsDelivered atomic.Uint64
	decodeErrors    atomic.Uint64
	statsErrors     atomic.Uint64
	processes       atomic.Int64
	evicted         atomic.Uint64

	// bootOffset converts CLOCK_BOOTTIME nanoseconds to wall-clock time.
	bootOffset time.Duration
	eventNum   uint64

	// syscallRec, syscallEvt, syscall and addr are reused for every
	// syscall record.
	syscallRec bpf.Syscall
	syscallEvt event.Event
	syscall    event.Syscall
	addr       [bpf.SyscallAddrLen]byte

	runOnce sync.Once
	ready   chan struct{}
}

// New checks privileges, mounts tracefs and bpffs when missing, and loads
// the BPF programs without attaching them. Close the sensor by running it
// and cancelling the context, or with Close when Run is never called.
func New(cfg Config, logger *slog.Logger) (*Sensor, error) {
	if cfg.Handler == nil {
		return nil, errors.New("sensor config: Handler is nil; set a function that receives events")
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.TracefsDir == "" {
		cfg.TracefsDir = "/sys/kernel/tracing"
	}
	if cfg.BpffsDir == "" {
		cfg.BpffsDir = "/sys/fs/bpf"
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	caps, err := effectiveCaps(cfg.ProcRoot)
	if err != nil {
		return nil, err
	}
	if err := checkCapabilities(caps, logger); err != nil {
		return nil, err
	}

	// The BPF programs attach through BTF and need neither file system, but
	// tools that inspect them do; a failure is not fatal.
	if err := ensureMount(cfg.TracefsDir, "tracefs", tracefsMagic); err != nil {
		logger.Warn("tracefs unavailable", "error", err)
	}
	if err := ensureMount(cfg.BpffsDir, "bpf", bpffsMagic); err != nil {
		logger.Warn("bpffs unavailable", "error", err)
	}
	// Kernels since 5.11 charge BPF memory to the cgroup instead of
	// RLIMIT_MEMLOCK, and raising the limit needs CAP_SYS_RESOURCE, so a
	// failure here is expected in some containers.
	if err := rlimit.RemoveMemlock(); err != nil {
		logger.Debug("memlock limit not removed", "error", err)
	}

	objs, err := bpf.Load(bpf.Options{RingBufferSize: cfg.RingBufferSize, SelfPID: uint32(os.Getpid())})
	if err != nil {
		return nil, err
	}
	s := &Sensor{
		cfg:    cfg,
		logger: logger,
		objs:   objs,
		table:  proc.NewTable(cfg.ProcRoot, cfg.MaxProcesses, logger),
		ready:  make(chan struct{}),
	}
	if err := s.SetSyscalls(cfg.Syscalls); err != nil {
		objs.Close()
		return nil, err
	}
	return s, nil
}

// Run attaches the programs, seeds the process table and delivers events
// until ctx ends. It then delivers the records left in the ring buffer, for
// at most drainTimeout, detaches and releases everything and returns nil.
// Run may be called once.
func (s *Sensor) Run(ctx context.Context) error {
	err := errors.New("sensor: Run called more than once")
	s.runOnce.Do(func() { err = s.run(ctx) })
	return err
}

func (s *Sensor) run(ctx context.Context) error {
	defer s.objs.Close()

	rd, err := ringbuf.NewReader(s.objs.Events())
	if err != nil {
		return fmt.Errorf("open ring buffer reader: %w", err)
	}
	defer rd.Close()

	if err := s.objs.Attach(); err != nil {
		return err
	}
	// Records produced while seeding wait in the ring buffer and are applied
	// on top of the seeded state.
	if err := s.table.Seed(); err != nil {
		return err
	}
	s.processes.Store(int64(s.table.Len()))
	s.bootOffset, err = bootOffset()
	if err != nil {
		return err
	}
	s.logger.Info("sensor started", "processes", s.table.Len())
	close(s.ready)

	// Flush makes ReadInto return the records already in the ring buffer,
	// then ErrFlushed, so the loop below checks ctx even while records keep
	// coming.
	stop := context.AfterFunc(ctx, func() {
		if err := rd.Flush(); err != nil {
			s.logger.Warn("flush ring buffer reader at stop", "error", err)
		}
	})
	defer stop()

	watchCtx, cancelWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	watching.Go(func() { s.watchDrops(watchCtx) })
	defer watching.Wait()
	defer cancelWatch()

	// Syscall records do not wake the reader one by one (see syscall.h), so
	// the reader also wakes at this interval to collect them.
	rd.SetDeadline(time.Now().Add(pollInterval))
	var rec ringbuf.Record
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, ringbuf.ErrFlushed) {
				if ctx.Err() != nil {
					drained, complete := s.drain(rd, &rec)
					s.logger.Info("sensor stopped", "records", s.recordsRead.Load(),
						"drained", drained, "drain_complete", complete)
					return nil
				}
				rd.SetDeadline(time.Now().Add(pollInterval))
				continue
			}
			if errors.Is(err, ringbuf.ErrClosed) {
				s.logger.Info("sensor stopped", "records", s.recordsRead.Load())
				return nil
			}
			return fmt.Errorf("read ring buffer: %w", err)
		}
		s.consume(rec.RawSample)
	}
}

// drainTimeout bounds how long a stopping sensor keeps reading the records
// left in the ring buffer, which on a busy host never empties.
const drainTimeout = 500 * time.Millisecond

// drain delivers the records left in the ring buffer when the sensor
// stops, so that the syscalls of its last moments still raise alerts. It
// stops when the ring buffer is empty or after drainTimeout, and returns
// the number of records read and whether the ring buffer was emptied.
func (s *Sensor) drain(rd *ringbuf.Reader, rec *ringbuf.Record) (int, bool) {
	end := time.Now().Add(drainTimeout)
	// A deadline in the past makes ReadInto return the records present,
	// then os.ErrDeadlineExceeded, without waiting for more.
	rd.SetDeadline(time.Now())
	n := 0
	for time.Now().Before(end) {
		err := rd.ReadInto(rec)
		if errors.Is(err, ringbuf.ErrFlushed) {
			continue
		}
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				s.logger.Warn("drain ring buffer at stop", "error", err, "records", n)
			}
			return n, errors.Is(err, os.ErrDeadlineExceeded)
		}
		s.consume(rec.RawSample)
		n++
	}
	return n, false
}

// consume decodes one ring buffer record and hands its event, if any, to
// the handler.
func (s *Sensor) consume(raw []byte) {
	s.recordsRead.Add(1)
	if err := s.handleRecord(raw); err != nil {
		if n := s.decodeErrors.Add(1); n&(n-1) == 0 {
			// Logged at powers of two to bound the log volume.
			s.logger.Warn("drop undecodable record", "error", err, "count", n)
		}
	}
	s.processes.Store(int64(s.table.Len()))
	s.evicted.Store(s.table.Evicted())
}

// SetSyscalls replaces the event types whose syscalls cross into
// userspace (see Config.Syscalls), without reloading the programs. It is
// safe to call from any goroutine while the sensor runs.
func (s *Sensor) SetSyscalls(types []event.Type) error {
	all := append([]event.Type(nil), types...)
	if !s.cfg.DisableFDState {
		all = append(all, syscalls.StateTypes...)
	}
	if err := s.objs.SetSyscalls(syscalls.Specs(all)); err != nil {
		return fmt.Errorf("set captured syscalls: %w", err)
	}
	return nil
}

// Ready returns a channel that is closed once Run has attached the programs
// and seeded the process table: every process event after that point is
// delivered.
func (s *Sensor) Ready() <-chan struct{} {
	return s.ready
}

// Close releases the kernel objects of a sensor whose Run was never called.
func (s *Sensor) Close() error {
	var err error
	s.runOnce.Do(func() { err = s.objs.Close() })
	return err
}

// Stats returns the sensor's counters. It is safe to call from any
// goroutine.
func (s *Sensor) Stats() (Stats, error) {
	st := Stats{
		RecordsRead:      s.recordsRead.Load(),
		EventsDelivered:  s.eventsDelivered.Load(),
		DecodeErrors:     s.decodeErrors.Load(),
		Processes:        int(s.processes.Load()),
		ProcessesEvicted: s.evicted.Load(),
	}
	drops, err := s.objs.Drops()
	if err != nil {
		return st, err
	}
	st.Drops = drops
	return st, nil
}

// bootOffset returns wall-clock time minus CLOCK_BOOTTIME, the clock of
// bpf_ktime_get_boot_ns.
func bootOffset() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("read CLOCK_BOOTTIME: %w", err)
	}
	return time.Duration(time.Now().UnixNano() - ts.Nano()), nil
}
