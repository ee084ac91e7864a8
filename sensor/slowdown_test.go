package sensor

import (
	"context"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/extract"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// timeWorkload runs n iterations of a workload in a helper child and
// returns the time per iteration.
func timeWorkload(b *testing.B, workload, addr string, n int) time.Duration {
	cmd := workloadCmd(workload, addr, n)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("workload %s: %v: %s", workload, err, out)
	}
	return time.Since(start) / time.Duration(n)
}

// runRulesSensor starts a sensor that captures what eng selects plus the
// stable rules' syscalls and matches every event against eng, and returns
// a function that stops it.
func runRulesSensor(b *testing.B, eng *rules.Engine) func() {
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
	return func() {
		cancel()
		<-done
	}
}

// BenchmarkSlowdownInterleaved measures each workload in alternating
// rounds without and with the sensor, so that load from other jobs on the
// machine affects both sides alike, and reports the ratio of the summed
// times. It runs its fixed rounds once whatever b.N is; run it with
// -benchtime=1x.
func BenchmarkSlowdownInterleaved(b *testing.B) {
	sensortest.RequireRoot(b)
	addr := benchListener(b)
	eng := benchRules(b)
	const rounds = 4
	workloads := []struct {
		name string
		n    int
	}{
		{"getpid", 2_000_000},
		{"open", 100_000},
		{"exec", 300},
		{"connect", 2_000},
	}
	for _, w := range workloads {
		b.Run(w.name, func(b *testing.B) {
			var base, withSensor time.Duration
			for range rounds {
				base += timeWorkload(b, w.name, addr, w.n)
				stop := runRulesSensor(b, eng)
				withSensor += timeWorkload(b, w.name, addr, w.n)
				stop()
			}
			b.ReportMetric(float64(base.Nanoseconds())/rounds, "baseline-ns/op")
			b.ReportMetric(float64(withSensor.Nanoseconds())/rounds, "sensor-ns/op")
			b.ReportMetric(float64(withSensor)/float64(base), "ratio")
		})
	}
}
