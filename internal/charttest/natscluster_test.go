package charttest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/relay"
	"github.com/riposte-sec/riposte/alert"
)

// freeLoopbackPorts returns n TCP ports that are free on 127.0.0.1 now.
func freeLoopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		defer l.Close()
	}
	return ports
}

// TestBundledNATSFormsJetStreamCluster starts three nats-servers from one
// rendered configuration on loopback, with TLS on client and route
// connections. Only the listen addresses, the route URLs, the store directory
// and the pid file are changed, because the rendered ones name cluster DNS
// and container paths. The cluster must elect a JetStream leader, the
// responder user must create a stream with three replicas, and the sensor
// user must publish alerts to it but nothing else.
func TestBundledNATSFormsJetStreamCluster(t *testing.T) {
	const size = 3
	ports := freeLoopbackPorts(t, 2*size)
	rendered := renderNATS(t, nil)
	passwords := map[string]string{}
	for _, user := range []string{"sensor", "responder", "route"} {
		passwords[user] = string(rendered.auth.Data[user+"-password"])
	}
	ns := testRelease.namespace
	servers := make([]*server.Server, size)
	for i := range size {
		opts := rendered.parse(t, fmt.Sprintf("riposte-nats-%d", i))
		opts.Host = "127.0.0.1"
		opts.Port = ports[i]
		opts.HTTPPort = 0
		opts.Cluster.Host = "127.0.0.1"
		opts.Cluster.Port = ports[size+i]
		opts.Routes = nil
		for j := range size {
			opts.Routes = append(opts.Routes, &url.URL{
				Scheme: "nats",
				User:   url.UserPassword("route", passwords["route"]),
				Host:   net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[size+j])),
			})
		}
		// The routes dial 127.0.0.1, so verify the certificate against a
		// server name it holds, as a route within the cluster would.
		opts.Cluster.TLSConfig.ServerName = "riposte-nats-0.riposte-nats-headless." + ns + ".svc.cluster.local"
		opts.StoreDir = t.TempDir()
		opts.PidFile = ""
		opts.NoSigs = true
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("create server %d from the rendered configuration: %v", i, err)
		}
		s.Start()
		t.Cleanup(s.Shutdown)
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatalf("server %d is not ready for connections", i)
		}
		servers[i] = s
	}
	caPool := x509.NewCertPool()
	if !caPool.AppendCertsFromPEM(rendered.tls.Data["ca.crt"]) {
		t.Fatal("the rendered NATS CA holds no PEM certificate")
	}
	clientTLS := &tls.Config{RootCAs: caPool, ServerName: "riposte-nats." + ns + ".svc.cluster.local", MinVersion: tls.VersionTLS12}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for !anyJetStreamLeader(servers) {
		select {
		case <-ctx.Done():
			t.Fatal("no JetStream meta leader elected in the three-server cluster")
		case <-time.After(100 * time.Millisecond):
		}
	}

	clientURL := fmt.Sprintf("tls://127.0.0.1:%d", ports[0])
	responder, _ := connectJetStream(t, clientURL, clientTLS, "responder", passwords["responder"])
	stream, err := responder.CreateStream(ctx, jetstream.StreamConfig{
		Name:     "RIPOSTE_ALERTS",
		Subjects: []string{"riposte.alerts.>"},
		Storage:  jetstream.FileStorage,
		Replicas: 3,
	})
	if err != nil {
		t.Fatalf("responder user: create a stream with 3 replicas: %v", err)
	}

	sensor, sensorErrs := connectJetStream(t, fmt.Sprintf("tls://127.0.0.1:%d", ports[1]), clientTLS, "sensor", passwords["sensor"])
	if _, err := sensor.Stream(ctx, "RIPOSTE_ALERTS"); err != nil {
		t.Errorf("sensor user: look up the alerts stream: %v", err)
	}
	if _, err := sensor.Publish(ctx, "riposte.alerts.warning.shell_in_container", []byte(`{"rule":"x"}`)); err != nil {
		t.Errorf("sensor user: publish an alert: %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("alerts stream holds %d messages, want 1", info.State.Msgs)
	}
	if n := len(info.Cluster.Replicas) + 1; n != 3 {
		t.Errorf("alerts stream has %d copies, want 3", n)
	}

	// With a stream on the decisions subject, only the sensor's permissions
	// can make this publish fail.
	if _, err := responder.CreateStream(ctx, jetstream.StreamConfig{Name: "RIPOSTE_DECISIONS", Subjects: []string{"riposte.decisions.>"}}); err != nil {
		t.Fatalf("responder user: create the decisions stream: %v", err)
	}
	shortCtx, shortCancel := context.WithTimeout(ctx, 2*time.Second)
	defer shortCancel()
	if _, err := sensor.Publish(shortCtx, "riposte.decisions.acted", []byte(`{}`)); err == nil {
		t.Error("sensor user published a decision, which its permissions should forbid")
	}
	select {
	case err := <-sensorErrs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("sensor user got %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the server reported no permissions violation for the sensor's decision")
	}

	// The sensor user serves host actions for its node, and the responder
	// user reaches it.
	hostActions, err := actionners.NewRegistry(stubKill{})
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- relay.Serve(serveCtx, sensor.Conn(), relay.ServeOptions{Host: "worker-1", Registry: hostActions})
	}()
	defer func() {
		stopServe()
		if err := <-served; err != nil {
			t.Errorf("sensor user: serve host actions: %v", err)
		}
	}()
	forward := relay.NewForward(stubKill{}, responder.Conn(), 5*time.Second)
	req := actionners.Request{
		Action: actionners.Action{Actionner: "process:kill", Target: actionners.Target{Kind: "process", PID: 4242}},
		Alert:  &alert.Alert{Hostname: "worker-1"},
	}
	var res actionners.Result
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err = forward.Run(ctx, req)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || res.Outcome != actionners.OutcomeSucceeded {
		t.Errorf("responder user: host action through the sensor user = %+v, %v; want succeeded", res, err)
	}
}

// stubKill stands for process:kill on a node, without signalling anything.
type stubKill struct{}

func (stubKill) Name() string                         { return "process:kill" }
func (stubKill) Validate(map[string]any) error        { return nil }
func (stubKill) Permissions() []actionners.Permission { return nil }
func (stubKill) Run(context.Context, actionners.Request) (actionners.Result, error) {
	return actionners.Result{Outcome: actionners.OutcomeSucceeded, Message: "recorded"}, nil
}

func anyJetStreamLeader(servers []*server.Server) bool {
	for _, s := range servers {
		if s.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// connectJetStream connects as user and returns a JetStream context and a
// channel that receives the asynchronous errors the server reports, such as
// permission violations.
func connectJetStream(t *testing.T, serverURL string, tlsConfig *tls.Config, user, password string) (jetstream.JetStream, <-chan error) {
	t.Helper()
	asyncErrs := make(chan error, 16)
	nc, err := nats.Connect(serverURL, nats.UserInfo(user, password), nats.Secure(tlsConfig), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case asyncErrs <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, asyncErrs
}
