package natstest_test

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/internal/natstest"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/transport"
)

// loadSensors is the number of simulated sensors, each with its own NATS
// connection.
const loadSensors = 200

// BenchmarkClusterLoad measures alerts per second and the latency from the
// start of an alert's publish to its recorded decision, on a three-node
// JetStream cluster with replicated file-stored streams. 200 simulated
// sensors, each on its own connection, publish alerts one at a time and wait
// for each acknowledgement, while two responders act on every alert with a
// recording actionner, claim its idempotency key and record the decision.
// The cluster, the sensors and the responders share this process, so the CPU
// and memory figures cover all of them. Run it with a fixed count, such as
// -benchtime=10000x, because each round starts a new cluster.
//
// In "saturated", every sensor publishes its next alert as soon as the last
// one is acknowledged, so the rate is the cluster's capacity and the latency
// is mostly time queued behind the responders. In "paced", the sensors
// together offer loadPacedRate alerts per second, spread evenly, so the
// latency is that of an alert on a cluster that keeps up.
func BenchmarkClusterLoad(b *testing.B) {
	b.Run("saturated", func(b *testing.B) { benchClusterLoad(b, 0) })
	b.Run("paced", func(b *testing.B) { benchClusterLoad(b, loadPacedRate) })
}

// loadPacedRate is the offered rate of the paced benchmark, in alerts per
// second: below the capacity measured on a shared 2-vCPU machine, about 290
// alerts per second.
const loadPacedRate = 100

// benchClusterLoad runs the load benchmark. A rate of zero publishes as fast
// as acknowledgements come; a positive rate paces all sensors together to
// that many alerts per second.
func benchClusterLoad(b *testing.B, rate float64) {
	cluster := natstest.StartCluster(b, 3)
	admin := connectCluster(b, cluster, "admin")
	streams := ensureStreams(b, admin)

	var started sync.Map // alert uuid to publish start time
	latencies := make(chan time.Duration, b.N)
	startResponders(b, cluster, 2, newRecorder(), func(d responder.Decision) {
		if t0, ok := started.LoadAndDelete(d.AlertUUID); ok {
			latencies <- time.Since(t0.(time.Time))
		}
	})

	heap0 := heapInUse()
	pubs := make([]*transport.Publisher, loadSensors)
	for i := range pubs {
		pubs[i] = transport.NewPublisher(connectCluster(b, cluster, "sensor-"+strconv.Itoa(i)).JS)
	}
	connBytes := float64(heapInUse()-heap0) / loadSensors

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(loadSensors) / rate * float64(time.Second))
	}
	for s, pub := range pubs {
		wg.Go(func() {
			var tick *time.Ticker
			if interval > 0 {
				// Spread the sensors evenly over one interval.
				time.Sleep(interval * time.Duration(s) / loadSensors)
				tick = time.NewTicker(interval)
				defer tick.Stop()
			}
			for {
				if tick != nil {
					<-tick.C
				}
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				a := newAlert(s, int(i))
				started.Store(a.UUID, time.Now())
				if _, err := pub.Publish(ctx, a); err != nil {
					b.Errorf("sensor %d: %v", s, err)
					return
				}
			}
		})
	}
	wg.Wait()
	all := make([]time.Duration, 0, b.N)
	for len(all) < b.N {
		select {
		case l := <-latencies:
			all = append(all, l)
		case <-ctx.Done():
			b.Fatalf("%d of %d decisions after 20 minutes", len(all), b.N)
		}
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "alerts/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/alert")
	slices.Sort(all)
	at := func(q float64) float64 {
		return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(connBytes/1024, "KiB/sensor-conn")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
	infoCtx, cancelInfo := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelInfo()
	for name, s := range map[string]jetstream.Stream{"alert": streams.Alerts, "decision": streams.Decisions} {
		info, err := s.Info(infoCtx)
		if err != nil {
			b.Fatalf("%s stream info: %v", name, err)
		}
		if info.State.Msgs < uint64(b.N) {
			b.Errorf("%s stream has %d messages, want %d", name, info.State.Msgs, b.N)
		}
		if info.State.Msgs > 0 {
			b.ReportMetric(float64(info.State.Bytes)/float64(info.State.Msgs), "B/stored-"+name)
		}
	}
}

// cpuTime returns the user and system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapInUse returns the bytes of in-use heap spans after a garbage
// collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// peakRSS returns the peak resident set size of this process in bytes, from
// VmHWM in /proc/self/status, or 0 when it cannot be read.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
