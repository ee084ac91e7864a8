package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/transport"
)

// TestSensorRecreatesStreamsAfterEmptyRestart publishes alerts through the
// sensor's sink to a NATS server that restarted with an empty store. The
// sink must recreate the streams and store the alerts. Without recovery it
// retries the first alert for minutes.
func TestSensorRecreatesStreamsAfterEmptyRestart(t *testing.T) {
	nats := startRestartableServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn := connectOverTCP(ctx, t, nats.server.ClientURL(), "riposte-sensor")
	if _, err := transport.EnsureStreams(ctx, conn.JS, transport.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	recovery := transport.NewRecovery(conn.JS, transport.StreamOptions{}, testLogger())
	sink := alertSink(transport.NewPublisher(conn.JS).WithRecovery(recovery))
	if err := sink.Deliver(ctx, recoveryAlert()); err != nil {
		t.Fatalf("deliver alert before the restart: %v", err)
	}

	nats.restartEmpty()
	// The sink retries for minutes, so a delivery that takes longer than
	// this means that the streams stayed missing.
	deliverCtx, cancelDeliver := context.WithTimeout(ctx, 60*time.Second)
	defer cancelDeliver()
	var after []*alert.Alert
	for range 3 {
		a := recoveryAlert()
		if err := sink.Deliver(deliverCtx, a); err != nil {
			t.Fatalf("deliver alert after the restart: %v", err)
		}
		after = append(after, a)
	}
	checkStored(ctx, t, connectOverTCP(ctx, t, nats.server.ClientURL(), "check"), after)
	if err := recovery.Check(ctx); err != nil {
		t.Errorf("readiness after recovery: %v", err)
	}
}

// TestSensorReadyAfterEmptyRestart follows the sensor's readiness check
// across a restart of NATS with an empty store: not ready while NATS is down,
// ready again once the check has recreated the streams.
func TestSensorReadyAfterEmptyRestart(t *testing.T) {
	nats := startRestartableServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn := connectOverTCP(ctx, t, nats.server.ClientURL(), "riposte-sensor")
	if _, err := transport.EnsureStreams(ctx, conn.JS, transport.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	ready := sensorReady(ctx, conn, transport.NewRecovery(conn.JS, transport.StreamOptions{}, testLogger()))
	if err := ready(); err != nil {
		t.Fatalf("readiness before the restart: %v", err)
	}

	nats.server.Close()
	waitReadiness(t, ready, false)
	nats.start()
	waitReadiness(t, ready, true)
	check := connectOverTCP(ctx, t, nats.server.ClientURL(), "check")
	if _, err := check.JS.Stream(ctx, transport.AlertsStream); err != nil {
		t.Errorf("stream %s after the sensor became ready: %v", transport.AlertsStream, err)
	}
}

// waitReadiness polls a readiness check until it reports want, and fails the
// test after 60 seconds.
func waitReadiness(t *testing.T, ready func() error, want bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ready()
		if (err == nil) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness = %v after 60s, want ready %v", err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestResponderRecreatesStreamsAfterEmptyRestart restarts NATS with an empty
// store under a running responder, and no other process creates the streams.
// The responder must recreate them and its consumer, and decide on alerts
// that a publisher without recovery sends afterwards.
func TestResponderRecreatesStreamsAfterEmptyRestart(t *testing.T) {
	nats := startRestartableServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	setup := connectOverTCP(ctx, t, nats.server.ClientURL(), "setup")
	if _, err := transport.EnsureStreams(ctx, setup.JS, transport.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, decided := startTestResponder(ctx, t, nats.server.ClientURL())

	nats.restartEmpty()
	check := connectOverTCP(ctx, t, nats.server.ClientURL(), "check")
	deadline := time.Now().Add(60 * time.Second)
	for {
		// Reading the stream's information creates nothing.
		_, err := check.JS.Stream(ctx, transport.AlertsStream)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s still missing 60s after the restart: %v", transport.AlertsStream, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	publisher := transport.NewPublisher(check.JS)
	a := recoveryAlert()
	publishCtx, cancelPublish := context.WithTimeout(ctx, 10*time.Second)
	defer cancelPublish()
	if _, err := publisher.Publish(publishCtx, a); err != nil {
		t.Fatalf("publish alert after the recovery: %v", err)
	}
	waitDecided(t, decided, a)
	if err := resp.Check(ctx); err != nil {
		t.Errorf("readiness after recovery: %v", err)
	}
}

// TestPipelineRecoversAfterEmptyRestart runs the sensor's publishing path
// and a responder, each with its own connection as in two processes, across
// a restart of NATS with an empty store. Alerts sent after the restart must
// reach the alerts stream and get decisions.
func TestPipelineRecoversAfterEmptyRestart(t *testing.T) {
	nats := startRestartableServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sensorConn := connectOverTCP(ctx, t, nats.server.ClientURL(), "riposte-sensor")
	if _, err := transport.EnsureStreams(ctx, sensorConn.JS, transport.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	sensorRecovery := transport.NewRecovery(sensorConn.JS, transport.StreamOptions{}, testLogger())
	sink := alertSink(transport.NewPublisher(sensorConn.JS).WithRecovery(sensorRecovery))
	resp, decided := startTestResponder(ctx, t, nats.server.ClientURL())

	before := recoveryAlert()
	if err := sink.Deliver(ctx, before); err != nil {
		t.Fatalf("deliver alert before the restart: %v", err)
	}
	waitDecided(t, decided, before)

	nats.restartEmpty()
	deliverCtx, cancelDeliver := context.WithTimeout(ctx, 60*time.Second)
	defer cancelDeliver()
	var after []*alert.Alert
	for range 3 {
		a := recoveryAlert()
		if err := sink.Deliver(deliverCtx, a); err != nil {
			t.Fatalf("deliver alert after the restart: %v", err)
		}
		after = append(after, a)
	}
	checkStored(ctx, t, connectOverTCP(ctx, t, nats.server.ClientURL(), "check"), after)
	waitDecided(t, decided, after...)
	if err := sensorRecovery.Check(ctx); err != nil {
		t.Errorf("sensor readiness after recovery: %v", err)
	}
	if err := resp.Check(ctx); err != nil {
		t.Errorf("responder readiness after recovery: %v", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func connectOverTCP(ctx context.Context, t *testing.T, url, name string) *transport.Conn {
	t.Helper()
	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: url, Name: name, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// recoveryAlert returns an alert with its own rule name, so that its subject
// is unique in the alerts stream.
func recoveryAlert() *alert.Alert {
	id := alert.NewUUID()
	return &alert.Alert{
		UUID:     id,
		Rule:     "Recovery test " + id,
		Priority: alert.PriorityNotice,
		Time:     time.Now().UTC(),
		Source:   "syscall",
		Hostname: "node-1",
		Output:   "Alert of the stream recovery test",
	}
}

// waitDecided waits for a decision on each alert, in any order, and fails the
// test after a generous timeout.
func waitDecided(t *testing.T, decided <-chan string, alerts ...*alert.Alert) {
	t.Helper()
	pending := map[string]bool{}
	for _, a := range alerts {
		pending[a.UUID] = true
	}
	timeout := time.After(60 * time.Second)
	for len(pending) > 0 {
		select {
		case uuid := <-decided:
			delete(pending, uuid)
		case <-timeout:
			t.Fatalf("no decision within 60s for alerts %v", slices.Collect(maps.Keys(pending)))
		}
	}
}

// restartableServer is a NATS server that a test restarts on the same port
// with an empty store.
type restartableServer struct {
	t      *testing.T
	port   int
	server *transport.Server
}

func startRestartableServer(t *testing.T) *restartableServer {
	t.Helper()
	r := &restartableServer{t: t, port: freePort(t)}
	r.start()
	t.Cleanup(func() { r.server.Close() })
	return r
}

func (r *restartableServer) start() {
	r.t.Helper()
	s, err := transport.StartServer(transport.ServerOptions{Port: r.port, StoreDir: r.t.TempDir()})
	if err != nil {
		r.t.Fatalf("start NATS on port %d: %v", r.port, err)
	}
	r.server = s
}

// restartEmpty stops the server and starts a new one on the same port with
// an empty store, so that every stream, bucket and consumer is gone.
func (r *restartableServer) restartEmpty() {
	r.t.Helper()
	r.server.Close()
	r.start()
}

// startTestResponder runs a dry-run responder with the default policies and
// a Recovery on its own connection, and returns it with the channel of the
// uuids of the alerts it decided on.
func startTestResponder(ctx context.Context, t *testing.T, url string) (*responder.Responder, <-chan string) {
	t.Helper()
	conn := connectOverTCP(ctx, t, url, "riposte-responder")
	registry, err := runRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	policySet, err := policies.Load(ctx, policies.Options{Registry: registry})
	if err != nil {
		t.Fatal(err)
	}

	logger := testLogger()
	decided := make(chan string, 100)
	resp, err := responder.New(responder.Options{
		JS:         conn.JS,
		Policies:   policySet,
		Registry:   registry,
		Guards:     responder.GuardOptions{Act: false},
		Logger:     logger,
		Recovery:   transport.NewRecovery(conn.JS, transport.StreamOptions{}, logger),
		OnDecision: func(d responder.Decision) { decided <- d.AlertUUID },
	})
	if err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- resp.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("responder Run: %v", err)
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		err := resp.Check(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("responder not ready after 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return resp, decided
}

// checkStored fails the test when an alert is not in the alerts stream.
func checkStored(ctx context.Context, t *testing.T, conn *transport.Conn, alerts []*alert.Alert) {
	t.Helper()
	stream, err := conn.JS.Stream(ctx, transport.AlertsStream)
	if err != nil {
		t.Fatalf("open stream %s: %v", transport.AlertsStream, err)
	}
	for _, a := range alerts {
		if _, err := stream.GetLastMsgForSubject(ctx, transport.AlertSubject(a)); err != nil {
			t.Errorf("alert %s is not in stream %s: %v", a.UUID, transport.AlertsStream, err)
		}
	}
}

// TestResponderCommandRecoversAfterEmptyRestart runs `riposte responder`
// across a restart of NATS with an empty store. Its webhook must store
// alerts again instead of returning 503, /readyz must return to ready, and
// the alerts must get decisions.
func TestResponderCommandRecoversAfterEmptyRestart(t *testing.T) {
	nats := startRestartableServer(t)
	webhookAddr, metricsAddr := freeAddr(t), freeAddr(t)
	v := viper.New()
	v.Set("nats.url", nats.server.ClientURL())
	v.Set("nats.replicas", 1)
	v.Set("dry-run", true)
	v.Set("webhook.addr", webhookAddr)
	v.Set("webhook.no-auth", true)
	v.Set("metrics.addr", metricsAddr)
	v.Set("kubeconfig", "")
	t.Setenv("KUBECONFIG", "")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runResponder(ctx, v, testLogger()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("responder: %v", err)
		}
	}()
	waitStatus(t, http.MethodGet, "http://"+metricsAddr+"/readyz", http.StatusOK)

	nats.restartEmpty()
	// A webhook alert must be stored without another process creating the
	// streams.
	waitStatus(t, http.MethodPost, "http://"+webhookAddr+"/", http.StatusOK)
	waitStatus(t, http.MethodGet, "http://"+metricsAddr+"/readyz", http.StatusOK)

	conn := connectOverTCP(ctx, t, nats.server.ClientURL(), "check")
	stream := waitForStream(ctx, t, conn.JS, transport.DecisionsStream)
	consumer, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consumer.Next(jetstream.FetchMaxWait(60 * time.Second)); err != nil {
		t.Fatalf("no decision on the recreated decisions stream: %v", err)
	}
}

// waitStatus repeats a request, with falcoAlert as the body of a POST, until
// it returns the expected status, and fails the test after 60 seconds with
// the last status and body.
func waitStatus(t *testing.T, method, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(method, url, strings.NewReader(falcoAlert))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = fmt.Sprintf("status %d: %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s %s: want status %d within 60s, last: %s", method, url, want, last)
}
