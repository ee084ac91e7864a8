package responder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/responder/webhook"
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
	cpu0 := cpuTime()
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
	reportCPU(b, cpu0)
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

// BenchmarkThroughput measures decisions per second through the whole
// responder: 8 concurrent senders publish alerts to JetStream and wait for
// each acknowledgement, as webhook clients would, while the responder
// evaluates the default policies, applies the guards, records dry-run
// actions and publishes each decision to the decisions stream. Latency is
// from the start of the publish to the decision callback.
func BenchmarkThroughput(b *testing.B) {
	for _, storage := range []string{"file", "memory"} {
		b.Run(storage, func(b *testing.B) {
			e := newEnv(b, storage == "memory")
			pub := transport.NewPublisher(e.conn.JS)
			benchThroughput(b, e, 8, func(ctx context.Context, a *alert.Alert) error {
				_, err := pub.Publish(ctx, a)
				return err
			})
		})
	}
}

// BenchmarkWebhookThroughput is BenchmarkThroughput with the alerts sent
// through the webhook receiver. 8 concurrent HTTP clients each post one
// alert per request in Falco's JSON format with a bearer token. Each waits
// for the response, which the receiver sends once the alert is stored in
// JetStream (file storage). The CPU time includes the HTTP clients.
func BenchmarkWebhookThroughput(b *testing.B) {
	e := newEnv(b, false)
	receiver, err := webhook.New(webhook.Options{Token: "t", RateLimit: -1, Publisher: transport.NewPublisher(e.conn.JS)})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(receiver)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	benchThroughput(b, e, 8, func(ctx context.Context, a *alert.Alert) error {
		body, err := json.Marshal(a)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("webhook status %d", res.StatusCode)
		}
		return nil
	})
}

// benchThroughput runs a responder with the default policies in dry run and
// feeds it b.N alerts from concurrent senders through send, which returns
// once the alert is stored.
func benchThroughput(b *testing.B, e *env, senders int, send func(context.Context, *alert.Alert) error) {
	reg := defaultRegistry(b)
	var started sync.Map
	latencies := make(chan time.Duration, b.N)
	startResponder(b, Options{JS: e.conn.JS, Policies: loadPolicies(b, reg, nil), Registry: reg,
		OnDecision: func(d Decision) {
			if t0, ok := started.LoadAndDelete(d.AlertUUID); ok {
				latencies <- time.Since(t0.(time.Time))
			}
		}})
	ctx := context.Background()

	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	for range senders {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				a := shellAlert(int(1000 + i))
				a.EnsureUUID()
				started.Store(a.UUID, time.Now())
				if err := send(ctx, a); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	all := make([]time.Duration, 0, b.N)
	timeout := time.After(5 * time.Minute)
	for len(all) < b.N {
		select {
		case l := <-latencies:
			all = append(all, l)
		case <-timeout:
			b.Fatalf("%d of %d decisions after 5 minutes", len(all), b.N)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "decisions/s")
	reportCPU(b, cpu0)
	reportPercentiles(b, all)
}

// cpuTime returns the CPU time used by the process, user and system, so that
// benchmarks can report CPU per decision, which stays meaningful on a machine
// shared with other work where wall time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per operation since cpu0. It covers
// the embedded nats-server, the publishers and the responder together.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/decision")
}

// BenchmarkDrain measures how fast one responder works through a backlog of
// stored alerts: consume, decode, evaluate the default policies, apply the
// guards, record dry-run actions, publish each decision to the decisions
// stream (file storage) and acknowledge the alert. Publishing the backlog is
// not timed.
func BenchmarkDrain(b *testing.B) {
	e := newEnv(b, false)
	reg := defaultRegistry(b)
	ctx := context.Background()
	pub := transport.NewPublisher(e.conn.JS)
	const batch = 500
	for i := 0; i < b.N; i += batch {
		alerts := shellAlerts(min(batch, b.N-i), 0)
		for j, a := range alerts {
			a.OutputFields["proc.pid"] = 1000 + i + j
		}
		for _, err := range pub.PublishBatch(ctx, alerts) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}

	var decided atomic.Int64
	done := make(chan struct{})
	r, err := New(Options{JS: e.conn.JS, Policies: loadPolicies(b, reg, nil), Registry: reg, Logger: testLogger(b),
		OnDecision: func(Decision) {
			if decided.Add(1) == int64(b.N) {
				close(done)
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	startResponderWith(b, r)
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d decisions after 5 minutes", decided.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "decisions/s")
	reportCPU(b, cpu0)
}
