package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/bpf"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/sensor/detector"
	"github.com/riposte-sec/riposte/transport"
)

// TestSensorPublishesToExternalNATS runs `riposte sensor` against a NATS
// server reached over TCP, as on a cluster node, and reads the alert of a
// container shell back from the alerts stream.
func TestSensorPublishesToExternalNATS(t *testing.T) {
	requireRoot(t)

	server, err := transport.StartServer(transport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	v := viper.New()
	v.Set("nats.url", server.ClientURL())
	v.Set("rules.defaults", true)
	v.Set("output", "none")
	v.Set("nats.replicas", 1)
	metricsAddr := freeAddr(t)
	v.Set("metrics.addr", metricsAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runSensor(ctx, v, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sensor: %v", err)
		}
	}()

	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: server.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream := waitForStream(ctx, t, conn.JS, transport.AlertsStream)
	consumer, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}

	containerID := randomHex(t, 32)
	var join strings.Builder
	for _, dir := range makeKubeletCgroups(t, containerID) {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs && ", dir)
	}
	// The sensor may still be attaching: run the shell until its alert
	// arrives.
	deadline := time.Now().Add(e2eTimeout)
	for time.Now().Before(deadline) {
		if out, err := exec.Command("/bin/sh", "-c", join.String()+"exec /bin/sh -c true").CombinedOutput(); err != nil {
			t.Fatalf("run shell in container cgroup: %v: %s", err, out)
		}
		msg, err := consumer.Next(jetstream.FetchMaxWait(time.Second))
		for err == nil {
			var a struct {
				Rule         string         `json:"rule"`
				OutputFields map[string]any `json:"output_fields"`
			}
			if json.Unmarshal(msg.Data(), &a) == nil && a.Rule == "Shell spawned in a container" &&
				a.OutputFields["container.id"] == containerID[:12] {
				if !strings.HasPrefix(msg.Subject(), "riposte.alerts.warning.") {
					t.Errorf("subject = %q, want riposte.alerts.warning.<rule>", msg.Subject())
				}
				checkSensorMetrics(t, metricsAddr)
				return
			}
			msg, err = consumer.Next(jetstream.FetchMaxWait(200 * time.Millisecond))
		}
	}
	t.Fatalf("no alert for the container shell in the alerts stream within %v", e2eTimeout)
}

// waitForStream waits for the sensor to create a stream.
func waitForStream(ctx context.Context, t *testing.T, js jetstream.JetStream, name string) jetstream.Stream {
	t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		s, err := js.Stream(ctx, name)
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNATSTLSConfigNeedsCertAndKey(t *testing.T) {
	_, err := natsTLSConfig("", "client.crt", "")
	if err == nil || !strings.Contains(err.Error(), "--nats.tls.key") {
		t.Fatalf("err = %v, want an error naming --nats.tls.key", err)
	}
	cfg, err := natsTLSConfig("", "", "")
	if err != nil || cfg != nil {
		t.Fatalf("natsTLSConfig without files = %v, %v; want nil, nil", cfg, err)
	}
}

// checkSensorMetrics reads the sensor's /metrics and checks that the
// detector counted events and alerts.
func checkSensorMetrics(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, name := range []string{"riposte_detector_events_total ", "riposte_detector_alerts_delivered_total ",
		`riposte_sensor_kernel_drops_total{cause="ringbuf_full",kind="exec"} `,
		`riposte_sensor_kernel_drops_total{cause="scratch_missing",kind="syscall"} `} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics lacks %s, which must exist before the first drop", name)
		}
	}
	// One series for each cause and kind that the kernel programs count,
	// and none for the unused slots of the drops map.
	if n := strings.Count(string(body), "\nriposte_sensor_kernel_drops_total{"); n != len(bpf.DropCounters) {
		t.Errorf("/metrics has %d riposte_sensor_kernel_drops_total series, want %d", n, len(bpf.DropCounters))
	}
	for _, unused := range []string{"cause(", "kind("} {
		if strings.Contains(string(body), unused) {
			t.Errorf("/metrics contains a drop counter of an unused slot, labelled %sN)", unused)
		}
	}
}

func TestAlertHostname(t *testing.T) {
	t.Setenv("FALCO_HOSTNAME", "")
	if got := alertHostname("worker-3"); got != "worker-3" {
		t.Errorf("alertHostname(worker-3) = %q, want the node name", got)
	}
	t.Setenv("FALCO_HOSTNAME", "falco-name")
	if got := alertHostname("worker-3"); got != "falco-name" {
		t.Errorf("alertHostname with FALCO_HOSTNAME = %q, want falco-name", got)
	}
}

// TestSensorStartsBeforeNATS starts `riposte sensor` while nothing listens at
// its NATS URL, as on a node that boots before the NATS cluster is up. The
// sensor must start, detect, report itself not ready, and deliver the alerts
// of the outage once NATS starts.
func TestSensorStartsBeforeNATS(t *testing.T) {
	requireRoot(t)

	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	v := viper.New()
	v.Set("nats.url", url)
	v.Set("rules.defaults", true)
	v.Set("output", "none")
	v.Set("nats.replicas", 1)
	v.Set("serve-host-actions", true)
	metricsAddr := freeAddr(t)
	v.Set("metrics.addr", metricsAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	done := make(chan error, 1)
	sensorStart := time.Now()
	go func() { done <- runSensor(ctx, v, testLogger()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sensor: %v", err)
		}
	}()

	containerID := randomHex(t, 32)
	var join strings.Builder
	for _, dir := range makeKubeletCgroups(t, containerID) {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs && ", dir)
	}
	// Run the container shell until the detector counts an alert: the
	// sensor may still be attaching.
	deadline := time.Now().Add(e2eTimeout)
	for metricValue(t, metricsAddr, "riposte_detector_alerts_total") == 0 {
		select {
		case err := <-done:
			t.Fatalf("sensor stopped while NATS was unreachable: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert counted within %v while NATS was unreachable", e2eTimeout)
		}
		if out, err := exec.Command("/bin/sh", "-c", join.String()+"exec /bin/sh -c true").CombinedOutput(); err != nil {
			t.Fatalf("run shell in container cgroup: %v: %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Keep NATS away for longer than the client's 10 s flush timeout, which
	// once stopped the sensor while it subscribed to host actions.
	for time.Since(sensorStart) < 12*time.Second {
		select {
		case err := <-done:
			t.Fatalf("sensor stopped while NATS was unreachable: %v", err)
		case <-time.After(time.Until(sensorStart.Add(12 * time.Second))):
		}
	}
	if code := httpStatus(t, "http://"+metricsAddr+"/readyz"); code == http.StatusOK {
		t.Errorf("/readyz = %d while NATS is unreachable, want an error status", code)
	}
	if code := httpStatus(t, "http://"+metricsAddr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while NATS is unreachable, want 200", code)
	}
	natsUp := time.Now()

	server, err := transport.StartServer(transport.ServerOptions{Port: port, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start NATS on port %d: %v", port, err)
	}
	defer server.Close()
	conn := connectOverTCP(ctx, t, url, "check")
	stream := waitForStream(ctx, t, conn.JS, transport.AlertsStream)
	consumer, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(natsUp.Add(e2eTimeout)) {
		msg, err := consumer.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			continue
		}
		var a struct {
			Rule         string         `json:"rule"`
			Time         time.Time      `json:"time"`
			OutputFields map[string]any `json:"output_fields"`
		}
		if json.Unmarshal(msg.Data(), &a) == nil && a.Rule == "Shell spawned in a container" &&
			a.OutputFields["container.id"] == containerID[:12] {
			if !a.Time.Before(natsUp) {
				t.Errorf("first stored alert of the container is from %v, after NATS started at %v; want the alert of the outage", a.Time, natsUp)
			}
			waitStatus(t, http.MethodGet, "http://"+metricsAddr+"/readyz", http.StatusOK)
			return
		}
	}
	t.Fatalf("the alert detected while NATS was unreachable did not reach the alerts stream within %v", e2eTimeout)
}

// metricValue returns the value of an unlabelled metric on a /metrics
// endpoint, or 0 when the endpoint or the metric is not there yet.
func metricValue(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(body)) {
		value, ok := strings.CutPrefix(line, name+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			t.Fatalf("metric %s: %v", line, err)
		}
		return f
	}
	return 0
}

// httpStatus returns the status code of a GET, or 0 when the request fails.
func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSensorPrintsWhileNATSIsDown raises alerts while NATS is unreachable:
// the sink keeps retrying the first publish, and every alert is printed
// once meanwhile.
func TestSensorPrintsWhileNATSIsDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)), RetryFirstConnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	var mu sync.Mutex
	printed := map[string]int{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	printing := newPrintQueue(func(a *alert.Alert) {
		mu.Lock()
		defer mu.Unlock()
		printed[a.UUID]++
	}, logger)
	engine, _, err := rules.Load(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	det, err := detector.New(detector.Options{Engine: engine, Sink: alertSink(transport.NewPublisher(conn.JS)),
		OnAlert: printing.push, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { _ = det.Run(runCtx); done <- struct{}{} }()
	go func() { _ = printing.run(runCtx); done <- struct{}{} }()

	const n = 10
	for range n {
		det.Raise(recoveryAlert())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		count := len(printed)
		mu.Unlock()
		if count == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts printed while NATS is down", count, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := det.Stats().Delivered; got != 0 {
		t.Errorf("%d alerts delivered while NATS is unreachable", got)
	}
	stop()
	<-done
	<-done
	for uuid, times := range printed {
		if times != 1 {
			t.Errorf("alert %s printed %d times, want 1", uuid, times)
		}
	}
}

func TestPrintQueueSkipsWhenOutputIsSlow(t *testing.T) {
	var logs bytes.Buffer
	q := newPrintQueue(func(*alert.Alert) {}, slog.New(slog.NewTextHandler(&logs, nil)))
	// Nothing prints, as with a reader that stopped reading: pushes never
	// block, and those over the queue's size are counted.
	for range printQueueSize + 5 {
		q.push(recoveryAlert())
	}
	if got := q.skipped.Load(); got != 5 {
		t.Errorf("skipped = %d, want 5", got)
	}
	if !strings.Contains(logs.String(), "not_printed_total=1") {
		t.Errorf("no warning for the first skipped alert: %q", logs.String())
	}
}
