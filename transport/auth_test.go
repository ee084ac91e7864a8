package transport

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/internal/natstest"
)

// roundTrip checks that the connection carries a message to itself.
func roundTrip(t *testing.T, c *Conn) {
	t.Helper()
	sub, err := c.NC.SubscribeSync("riposte.test.ping")
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Unsubscribe()
	if err := c.NC.Publish("riposte.test.ping", []byte("ping")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	msg, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("receive own message: %v", err)
	}
	if string(msg.Data) != "ping" {
		t.Errorf("received %q, want ping", msg.Data)
	}
}

func connectErr(opts ConnectOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts.ConnectTimeout = 2 * time.Second
	c, err := Connect(ctx, opts)
	if err == nil {
		c.Close()
	}
	return err
}

func TestConnectNKey(t *testing.T) {
	seedFile, publicKey := natstest.NKeyUser(t)
	s := natstest.StartServer(t, server.Options{Nkeys: []*server.NkeyUser{{Nkey: publicKey}}})

	c := connect(t, ConnectOptions{URL: s.ClientURL(), NKeyFile: seedFile})
	roundTrip(t, c)

	if err := connectErr(ConnectOptions{URL: s.ClientURL()}); err == nil {
		t.Error("connect without the NKey succeeded")
	}
	otherSeed, _ := natstest.NKeyUser(t)
	if err := connectErr(ConnectOptions{URL: s.ClientURL(), NKeyFile: otherSeed}); err == nil {
		t.Error("connect with an unknown NKey succeeded")
	}
}

func TestConnectNKeyInvalidFile(t *testing.T) {
	dir := t.TempDir()
	err := connectErr(ConnectOptions{URL: "nats://127.0.0.1:1", NKeyFile: dir + "/missing.nk"})
	if err == nil || !strings.Contains(err.Error(), "NKey seed file") {
		t.Errorf("missing seed file: error = %v", err)
	}
	seedFile, _ := natstest.NKeyUser(t)
	err = connectErr(ConnectOptions{URL: "nats://127.0.0.1:1", NKeyFile: seedFile, CredentialsFile: seedFile})
	if err == nil || !strings.Contains(err.Error(), "use one") {
		t.Errorf("seed and credentials files: error = %v", err)
	}
}

func TestConnectCredentials(t *testing.T) {
	op := natstest.NewOperator(t)
	opts := server.Options{JetStream: true}
	op.Configure(t, &opts)
	s := natstest.StartServer(t, opts)

	c := connect(t, ConnectOptions{URL: s.ClientURL(), CredentialsFile: op.CredsFile})
	roundTrip(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := EnsureStreams(ctx, c.JS, StreamOptions{}); err != nil {
		t.Fatalf("EnsureStreams with credentials: %v", err)
	}
	if _, err := NewPublisher(c.JS).Publish(ctx, &alert.Alert{Rule: "r", Priority: alert.PriorityWarning, Time: time.Now()}); err != nil {
		t.Fatalf("Publish with credentials: %v", err)
	}

	if err := connectErr(ConnectOptions{URL: s.ClientURL()}); err == nil {
		t.Error("connect without credentials succeeded")
	}
}

func TestConnectTLS(t *testing.T) {
	certs := natstest.NewCertificates(t)
	s := natstest.StartServer(t, server.Options{TLS: true, TLSConfig: certs.ServerTLS(false)})

	c := connect(t, ConnectOptions{URL: s.ClientURL(), TLS: certs.ClientTLS(false)})
	roundTrip(t, c)
	if !c.NC.TLSRequired() {
		t.Error("connection does not use TLS")
	}

	if err := connectErr(ConnectOptions{URL: s.ClientURL()}); err == nil {
		t.Error("connect without TLS succeeded")
	}
	other := natstest.NewCertificates(t)
	if err := connectErr(ConnectOptions{URL: s.ClientURL(), TLS: other.ClientTLS(false)}); err == nil {
		t.Error("connect trusting another CA succeeded")
	}
}

func TestConnectMutualTLS(t *testing.T) {
	certs := natstest.NewCertificates(t)
	s := natstest.StartServer(t, server.Options{TLS: true, TLSVerify: true, TLSConfig: certs.ServerTLS(true)})

	c := connect(t, ConnectOptions{URL: s.ClientURL(), TLS: certs.ClientTLS(true)})
	roundTrip(t, c)

	if err := connectErr(ConnectOptions{URL: s.ClientURL(), TLS: certs.ClientTLS(false)}); err == nil {
		t.Error("connect without a client certificate succeeded")
	}
}

func TestReconnectBufferCounted(t *testing.T) {
	dir := t.TempDir()
	first, err := StartServer(ServerOptions{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	port := first.NATSServer().Addr().(*net.TCPAddr).Port
	c := connect(t, ConnectOptions{URL: first.ClientURL(), ReconnectBufSize: 16 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	streams, err := EnsureStreams(ctx, c.JS, StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(c.JS)
	small := func() *alert.Alert {
		return &alert.Alert{Rule: "r", Priority: alert.PriorityWarning, Time: time.Now()}
	}
	if _, err := pub.Publish(ctx, small()); err != nil {
		t.Fatalf("publish before the outage: %v", err)
	}

	first.Close()
	for !c.NC.IsReconnecting() {
		if ctx.Err() != nil {
			t.Fatal("client did not notice the outage")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A small alert waits in the reconnect buffer until the server is back.
	buffered := make(chan error, 1)
	go func() {
		_, err := pub.Publish(ctx, small())
		buffered <- err
	}()
	for c.Stats().BufferedBytes == 0 {
		if ctx.Err() != nil {
			t.Fatal("the alert published during the outage never reached the reconnect buffer")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// nats.go accepts publishes until the buffer holds ReconnectBufSize bytes
	// or more, so an alert larger than the buffer fills it, and the next one
	// is dropped at once and counted.
	big := small()
	big.Output = strings.Repeat("x", 32<<10)
	bigBuffered := make(chan error, 1)
	go func() {
		_, err := pub.Publish(ctx, big)
		bigBuffered <- err
	}()
	for c.Stats().BufferedBytes < 16<<10 {
		if ctx.Err() != nil {
			t.Fatal("the large alert never reached the reconnect buffer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err = pub.Publish(ctx, small())
	if !errors.Is(err, nats.ErrReconnectBufExceeded) {
		t.Fatalf("publish into a full reconnect buffer: error = %v, want %v", err, nats.ErrReconnectBufExceeded)
	}
	st := c.Stats()
	if st.Connected {
		t.Error("Stats.Connected during the outage")
	}
	if st.Dropped != 1 {
		t.Errorf("Stats.Dropped = %d, want 1", st.Dropped)
	}
	if st.Buffered != 3 {
		t.Errorf("Stats.Buffered = %d, want 3", st.Buffered)
	}

	second, err := StartServer(ServerOptions{StoreDir: dir, Port: port})
	if err != nil {
		t.Fatalf("restart server on port %d: %v", port, err)
	}
	defer second.Close()
	if err := <-buffered; err != nil {
		t.Fatalf("publish held in the reconnect buffer: %v", err)
	}
	if err := <-bigBuffered; err != nil {
		t.Fatalf("large publish held in the reconnect buffer: %v", err)
	}

	st = c.Stats()
	want := Stats{Published: 3, PublishFailures: 1, Buffered: 3, Dropped: 1, Reconnects: 1, Connected: true}
	if st != want {
		t.Errorf("Stats after reconnecting = %+v, want %+v", st, want)
	}
	info, err := streams.Alerts.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 3 {
		t.Errorf("alerts stream has %d messages, want 3", info.State.Msgs)
	}

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c.Collector()); err != nil {
		t.Fatalf("register collector: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				values[f.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				values[f.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"riposte_nats_published_total":          3,
		"riposte_nats_publish_failures_total":   1,
		"riposte_nats_reconnect_buffered_total": 3,
		"riposte_nats_reconnect_dropped_total":  1,
		"riposte_nats_reconnects_total":         1,
		"riposte_nats_connected":                1,
	} {
		if got, ok := values[name]; !ok || got != want {
			t.Errorf("metric %s = %v (present %t), want %v", name, got, ok, want)
		}
	}
}

// TestRetryFirstConnect opens a connection while no server listens, as a
// sensor does on a node where NATS starts later, and publishes through it
// before and after the server starts.
func TestRetryFirstConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	if _, err := Connect(ctx, ConnectOptions{URL: url, ConnectTimeout: time.Second}); err == nil {
		t.Fatal("Connect without RetryFirstConnect succeeded while no server listens")
	}
	c := connect(t, ConnectOptions{URL: url, RetryFirstConnect: true})
	if c.NC.IsConnected() {
		t.Fatal("connected while no server listens")
	}
	pub := NewPublisher(c.JS)
	a := &alert.Alert{Rule: "r", Priority: alert.PriorityWarning, Time: time.Now()}
	if _, err := pub.Publish(ctx, a); !errors.Is(err, ErrNotConnectedYet) {
		t.Fatalf("publish before the first connection: error = %v, want %v", err, ErrNotConnectedYet)
	}

	s, err := StartServer(ServerOptions{Port: port, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for !c.NC.IsConnected() {
		if ctx.Err() != nil {
			t.Fatal("no connection after the server started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := EnsureStreams(ctx, c.JS, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, a); err != nil {
		t.Fatalf("publish after the server started: %v", err)
	}
}

func TestEnsureStreamsWithoutJetStream(t *testing.T) {
	s := natstest.StartServer(t, server.Options{})
	c := connect(t, ConnectOptions{URL: s.ClientURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := EnsureStreams(ctx, c.JS, StreamOptions{})
	if err == nil {
		t.Fatal("EnsureStreams succeeded on a server without JetStream")
	}
	if !strings.Contains(err.Error(), "start nats-server with -js") {
		t.Errorf("err = %v, want the fix named", err)
	}
	if !IsMissing(err) {
		t.Errorf("err = %v no longer wraps the cause", err)
	}
}

func TestEnsureStreamsReplicasOnSingleServer(t *testing.T) {
	s := startServer(t)
	c := connect(t, ConnectOptions{URL: s.ClientURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := EnsureStreams(ctx, c.JS, StreamOptions{Replicas: 3})
	if err == nil || !strings.Contains(err.Error(), "set --nats.replicas 1") {
		t.Fatalf("err = %v, want the fix named", err)
	}
}
