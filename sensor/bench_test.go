package sensor

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/defaults"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/extract"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// stableRuleTypes are the syscalls that Falco's stable rules select
// (falco_rules.yaml), which the benchmarks capture.
var stableRuleTypes = []event.Type{
	event.TypeOpen, event.TypeOpenat, event.TypeOpenat2, event.TypeConnect, event.TypeDup, event.TypeDup2,
	event.TypeDup3, event.TypeFinitModule, event.TypeInitModule, event.TypeLink, event.TypeLinkat,
	event.TypePtrace, event.TypeSendmsg, event.TypeSendto, event.TypeSocket, event.TypeSymlink, event.TypeSymlinkat,
}

// benchListener accepts and closes TCP connections for the connect loop.
func benchListener(b *testing.B) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// runWorkload runs b.N iterations of a workload in a helper child, whose
// syscalls the sensor captures (it ignores its own process).
func runWorkload(b *testing.B, workload, addr string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$", strconv.Itoa(b.N))
	cmd.Env = append(os.Environ(), helperEnv+"=loop-"+workload, "RIPOSTE_BENCH_ADDR="+addr)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("workload %s: %v: %s", workload, err, out)
	}
}

// benchRules loads Falco's stable rules from the directory in
// RIPOSTE_TEST_CORPUS, or Riposte's default rules when it is unset.
func benchRules(b *testing.B) *rules.Engine {
	if dir := os.Getenv("RIPOSTE_TEST_CORPUS"); dir != "" {
		eng, _, err := rules.LoadFiles(rules.Options{}, filepath.Join(dir, "falco_rules.yaml"))
		if err != nil {
			b.Fatalf("load stable rules: %v", err)
		}
		return eng
	}
	eng, _, err := rules.Load(rules.Options{}, defaults.File())
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// BenchmarkSyscallSlowdown measures workloads in a child process, first
// without the sensor, then with the sensor capturing the syscalls of the
// stable rules and matching every event against the rules (Falco's stable
// rules when RIPOSTE_TEST_CORPUS is set). Compare the ns/op of
// .../baseline and .../sensor of one run.
func BenchmarkSyscallSlowdown(b *testing.B) {
	sensortest.RequireRoot(b)
	addr := benchListener(b)
	workloads := []string{"getpid", "open", "exec", "connect"}
	for _, w := range workloads {
		b.Run(w+"/baseline", func(b *testing.B) { runWorkload(b, w, addr) })
	}

	eng := benchRules(b)
	adapter := extract.New("bench", extract.NewUsers("/proc"))
	var matches []*rules.Rule
	s, err := New(Config{
		Syscalls: append(extract.SensorTypes(eng.EventTypes()), stableRuleTypes...),
		Handler: func(e *event.Event) {
			adapter.Reset(e)
			matches = eng.Match(adapter, matches[:0])
		},
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	defer func() {
		cancel()
		<-done
	}()

	for _, w := range workloads {
		b.Run(w+"/sensor", func(b *testing.B) {
			before, _ := s.Stats()
			runWorkload(b, w, addr)
			after, _ := s.Stats()
			b.ReportMetric(float64(after.RecordsRead-before.RecordsRead)/float64(b.N), "records/op")
			b.ReportMetric(float64(dropTotal(after)-dropTotal(before)), "drops")
		})
	}
	b.ReportMetric(rssMiB(), "rss-MiB")
}

// BenchmarkEventRate runs the open loop as fast as it goes with the sensor
// capturing open and close, and reports the records per second read and
// the records lost.
func BenchmarkEventRate(b *testing.B) {
	sensortest.RequireRoot(b)
	s, err := New(Config{Syscalls: []event.Type{event.TypeOpenat, event.TypeClose}, Handler: func(*event.Event) {}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	defer func() {
		cancel()
		<-done
	}()

	before, _ := s.Stats()
	b.ResetTimer()
	runWorkload(b, "open", "")
	b.StopTimer()
	after, _ := s.Stats()
	records := float64(after.RecordsRead - before.RecordsRead)
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(dropTotal(after)-dropTotal(before)), "drops")
	b.ReportMetric(rssMiB(), "rss-MiB")
}

func dropTotal(st Stats) uint64 {
	var n uint64
	for _, d := range st.Drops {
		n += d.Count
	}
	return n
}

// rssMiB returns the resident set size of this process from
// /proc/self/status.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
