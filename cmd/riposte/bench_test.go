package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// latencyRecorder reads the JSON lines of `riposte run -o json` and measures,
// per alert, the time from the exec (the kernel's event time) to the alert
// reaching the output, and from there to its decision.
type latencyRecorder struct {
	mu             sync.Mutex
	program        string
	alertSeen      map[string]time.Time
	execToAlert    []time.Duration
	alertToDecided []time.Duration
	decided        chan struct{}
	partial        []byte
}

// newLatencyRecorder measures the alerts about program only, so that other
// processes of the machine do not count.
func newLatencyRecorder(program string) *latencyRecorder {
	return &latencyRecorder{program: program, alertSeen: map[string]time.Time{}, decided: make(chan struct{}, 1<<16)}
}

func (r *latencyRecorder) Write(p []byte) (int, error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := slices.Index(r.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		r.record(r.partial[:i], now)
		r.partial = r.partial[i+1:]
	}
}

func (r *latencyRecorder) record(line []byte, now time.Time) {
	var doc struct {
		UUID         string         `json:"uuid"`
		Time         time.Time      `json:"time"`
		OutputFields map[string]any `json:"output_fields"`
		AlertUUID    string         `json:"alert_uuid"`
	}
	if json.Unmarshal(line, &doc) != nil {
		return
	}
	switch {
	case doc.UUID != "" && doc.OutputFields["proc.exepath"] == r.program:
		r.alertSeen[doc.UUID] = now
		r.execToAlert = append(r.execToAlert, now.Sub(doc.Time))
	case doc.AlertUUID != "":
		if seen, ok := r.alertSeen[doc.AlertUUID]; ok {
			r.alertToDecided = append(r.alertToDecided, now.Sub(seen))
			r.decided <- struct{}{}
		}
	}
}

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

// BenchmarkExecToDecision runs the whole pipeline of `riposte run` and
// executes a program from /tmp once per iteration, which the default rule
// for world-writable directories reports. It reports the p50 and p99 of the
// latency from exec to alert and from alert to decision, in milliseconds.
func BenchmarkExecToDecision(b *testing.B) {
	requireRoot(b)
	dir, err := os.MkdirTemp("/tmp", "riposte-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	program := filepath.Join(dir, "true")
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(program, data, 0o755); err != nil {
		b.Fatal(err)
	}

	rec := newLatencyRecorder(program)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := startHost(ctx, hostConfig{DryRun: true, DefaultRules: true, Output: "json"}, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	// Let the sensor attach before timing.
	time.Sleep(200 * time.Millisecond)

	b.ResetTimer()
	for range b.N {
		if err := exec.Command(program).Run(); err != nil {
			b.Fatal(err)
		}
		select {
		case <-rec.decided:
		case <-time.After(e2eTimeout):
			b.Fatal("no decision within the timeout")
		}
	}
	b.StopTimer()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	b.ReportMetric(percentile(rec.execToAlert, 0.50), "exec-to-alert-p50-ms")
	b.ReportMetric(percentile(rec.execToAlert, 0.99), "exec-to-alert-p99-ms")
	b.ReportMetric(percentile(rec.alertToDecided, 0.50), "alert-to-decision-p50-ms")
	b.ReportMetric(percentile(rec.alertToDecided, 0.99), "alert-to-decision-p99-ms")
}
