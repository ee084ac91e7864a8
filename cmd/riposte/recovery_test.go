package main

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/transport"
)

// TestStreamsRecoverAfterEmptyRestart runs the sensor's publishing path and a
// responder, each with its own connection as in two processes, against a
// NATS server that restarts on the same port with an empty store. Alerts sent
// after the restart must reach the alerts stream and get decisions, although
// no other process creates the streams again.
func TestStreamsRecoverAfterEmptyRestart(t *testing.T) {
	port := freePort(t)
	first, err := transport.StartServer(transport.ServerOptions{Port: port, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stopFirst := first.Close
	defer func() { stopFirst() }()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	streamOpts := transport.StreamOptions{}
	logger := testLogger()

	sensorConn := connectOverTCP(ctx, t, first.ClientURL(), "riposte-sensor")
	if _, err := transport.EnsureStreams(ctx, sensorConn.JS, streamOpts); err != nil {
		t.Fatal(err)
	}
	sensorRecovery := transport.NewRecovery(sensorConn.JS, streamOpts, logger)
	sink := alertSink(transport.NewPublisher(sensorConn.JS).WithRecovery(sensorRecovery), nil)

	responderConn := connectOverTCP(ctx, t, first.ClientURL(), "riposte-responder")
	registry, err := runRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	policySet, err := policies.Load(ctx, policies.Options{Registry: registry})
	if err != nil {
		t.Fatal(err)
	}
	decided := make(chan string, 100)
	resp, err := responder.New(responder.Options{
		JS:         responderConn.JS,
		Policies:   policySet,
		Registry:   registry,
		Guards:     responder.GuardOptions{Act: false},
		Logger:     logger,
		Recovery:   transport.NewRecovery(responderConn.JS, streamOpts, logger),
		OnDecision: func(d responder.Decision) { decided <- d.AlertUUID },
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopResponder := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- resp.Run(runCtx) }()
	defer func() {
		stopResponder()
		if err := <-runDone; err != nil {
			t.Errorf("responder Run: %v", err)
		}
	}()

	before := recoveryAlert()
	if err := sink.Deliver(ctx, before); err != nil {
		t.Fatalf("deliver alert before the restart: %v", err)
	}
	waitDecided(t, decided, before.UUID)

	first.Close()
	second, err := transport.StartServer(transport.ServerOptions{Port: port, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("restart NATS on port %d: %v", port, err)
	}
	stopFirst = second.Close

	// A publish that waits longer than this means that the streams stayed
	// missing: the sink would retry for minutes.
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

	checkConn := connectOverTCP(ctx, t, second.ClientURL(), "check")
	stream, err := checkConn.JS.Stream(ctx, transport.AlertsStream)
	if err != nil {
		t.Fatalf("open stream %s after the restart: %v", transport.AlertsStream, err)
	}
	for _, a := range after {
		if _, err := stream.GetLastMsgForSubject(ctx, transport.AlertSubject(a)); err != nil {
			t.Errorf("alert %s is not in stream %s: %v", a.UUID, transport.AlertsStream, err)
		}
	}
	for _, a := range after {
		waitDecided(t, decided, a.UUID)
	}

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

func waitDecided(t *testing.T, decided <-chan string, uuid string) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case got := <-decided:
			if got == uuid {
				return
			}
		case <-timeout:
			t.Fatalf("no decision for alert %s within 60s", uuid)
		}
	}
}
