package sensor

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riposte-sec/riposte/bpf"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// TestKernelDropsCounted uses a ring buffer of one page, smaller than an
// exec record, so every exec is lost in the kernel: the loss must show in
// Stats per cause and kind, in the Prometheus collector, and in OnDrops.
func TestKernelDropsCounted(t *testing.T) {
	sensortest.RequireRoot(t)
	reports := make(chan DropReport, 16)
	s, err := New(Config{
		Handler:           func(*event.Event) {},
		RingBufferSize:    4096,
		DropCheckInterval: 100 * time.Millisecond,
		DropThreshold:     0.0001,
		OnDrops: func(r DropReport) {
			select {
			case reports <- r:
			default:
			}
		},
	}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	<-s.Ready()

	const runs = 5
	for range runs {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}

	st, err := s.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	var execDrops uint64
	for _, d := range st.Drops {
		if d.Cause == bpf.DropRingBufferFull && d.Kind == bpf.RecordExec {
			execDrops += d.Count
		}
	}
	if execDrops < runs {
		t.Errorf("exec records dropped for a full ring buffer = %d, want at least %d (drops %+v)", execDrops, runs, st.Drops)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var metricDrops float64
	series := 0
	for _, f := range families {
		if f.GetName() != "riposte_sensor_kernel_drops_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			series++
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if len(labels) != 2 || labels["cause"] == "" || labels["kind"] == "" {
				t.Errorf("riposte_sensor_kernel_drops_total has labels %v, want cause and kind only", labels)
			}
			if labels["cause"] == "ringbuf_full" && labels["kind"] == "exec" {
				metricDrops = m.GetCounter().GetValue()
			}
		}
	}
	if series != len(bpf.DropCounters) {
		t.Errorf("riposte_sensor_kernel_drops_total has %d series, want %d, one per counted cause and kind", series, len(bpf.DropCounters))
	}
	if metricDrops < runs {
		t.Errorf("riposte_sensor_kernel_drops_total{cause=ringbuf_full,kind=exec} = %v, want at least %d", metricDrops, runs)
	}

	select {
	case r := <-reports:
		if r.Dropped == 0 || r.ByCause["ringbuf_full"] == 0 || r.Share() <= 0 {
			t.Errorf("drop report = %+v, want ring buffer drops", r)
		}
	case <-time.After(waitTimeout):
		t.Fatal("OnDrops not called")
	}
}

func TestDropReportShare(t *testing.T) {
	if got := (DropReport{Dropped: 1, Read: 3}).Share(); got != 0.25 {
		t.Errorf("Share = %v, want 0.25", got)
	}
	if got := (DropReport{}).Share(); got != 0 {
		t.Errorf("Share of nothing = %v, want 0", got)
	}
}
