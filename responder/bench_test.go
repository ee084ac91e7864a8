package responder

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/transport"
)

// BenchmarkAlertToDecision measures the latency from publishing one alert to
// its recorded decision, one alert at a time, with the default policies in
// dry run and file storage on an embedded server.
func BenchmarkAlertToDecision(b *testing.B) {
	e := newEnv(b, false)
	reg := defaultRegistry(b)
	done := make(chan string, 1)
	startResponder(b, Options{JS: e.conn.JS, Policies: loadPolicies(b, reg, nil), Registry: reg,
		OnDecision: func(d Decision) { done <- d.AlertUUID }})
	pub := transport.NewPublisher(e.conn.JS)
	ctx := context.Background()

	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := shellAlert(1000 + i)
		start := time.Now()
		if _, err := pub.Publish(ctx, a); err != nil {
			b.Fatal(err)
		}
		if got := <-done; got != a.UUID {
			b.Fatalf("decision for %s, want %s", got, a.UUID)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, latencies)
}

func reportPercentiles(b *testing.B, latencies []time.Duration) {
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	at := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
