package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/transport"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// falcoAlert is an alert as Falco's http_output sends it.
const falcoAlert = `{"hostname":"node-7","output":"17:20:42.123456789: Warning Shell spawned in a container (proc.name=sh)","priority":"Warning","rule":"Shell spawned in a container","source":"syscall","tags":["container","shell"],"time":"2026-12-04T17:20:42.123456789Z","output_fields":{"container.id":"0123456789ab","proc.pid":4242,"proc.name":"sh","evt.time":1796404842123456789}}`

// TestResponderCommandDecidesWebhookAlert runs `riposte responder` against a
// NATS server reached over TCP, sends a Falco alert to its webhook, and reads
// the dry-run decision from the decisions stream.
func TestResponderCommandDecidesWebhookAlert(t *testing.T) {
	server, err := transport.StartServer(transport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	webhookAddr, metricsAddr := freeAddr(t), freeAddr(t)
	v := viper.New()
	v.Set("nats.url", server.ClientURL())
	v.Set("nats.replicas", 1)
	v.Set("dry-run", true)
	v.Set("webhook.addr", webhookAddr)
	v.Set("webhook.token-file", tokenFile)
	v.Set("metrics.addr", metricsAddr)
	v.Set("kubeconfig", "")
	t.Setenv("KUBECONFIG", "")

	ctx, cancel := context.WithTimeout(context.Background(), 2*e2eTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runResponder(ctx, v, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("responder: %v", err)
		}
	}()

	post := func(token string) int {
		t.Helper()
		deadline := time.Now().Add(e2eTimeout)
		for {
			req, _ := http.NewRequest(http.MethodPost, "http://"+webhookAddr+"/", strings.NewReader(falcoAlert))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				return resp.StatusCode
			}
			if time.Now().After(deadline) {
				t.Fatalf("webhook not reachable: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if code := post("wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", code)
	}
	if code := post("s3cret"); code != http.StatusOK {
		t.Fatalf("valid alert: status %d, want 200", code)
	}

	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: server.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream := waitForStream(ctx, t, conn.JS, transport.DecisionsStream)
	consumer, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := consumer.Next(jetstream.FetchMaxWait(e2eTimeout))
	if err != nil {
		t.Fatalf("no decision on the decisions stream: %v", err)
	}
	var d struct {
		Rule    string `json:"rule"`
		DryRun  bool   `json:"dry_run"`
		Actions []struct {
			Actionner string `json:"actionner"`
			Result    struct {
				Outcome string `json:"outcome"`
			} `json:"result"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(msg.Data(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Rule != "Shell spawned in a container" || !d.DryRun {
		t.Errorf("decision = %s", msg.Data())
	}
	if len(d.Actions) != 1 || d.Actions[0].Actionner != "process:kill" || d.Actions[0].Result.Outcome != "dry-run" {
		t.Errorf("actions = %+v, want one dry-run process:kill", d.Actions)
	}

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(fmt.Sprintf("http://%s%s", metricsAddr, path))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d: %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && !strings.Contains(string(body), "riposte_") {
			t.Errorf("/metrics has no riposte_ metric")
		}
	}
}

func TestNotificationsConfigRejectsUnknownType(t *testing.T) {
	v := viper.New()
	v.Set("notifications", []map[string]any{{"type": "pager", "url": "http://127.0.0.1:1"}})
	_, err := notificationConfigs(v)
	if err == nil || !strings.Contains(err.Error(), `"pager"`) {
		t.Fatalf("err = %v, want an error naming the type", err)
	}
}

func TestNotificationsConfigRejectsUnknownKeyAndOutcome(t *testing.T) {
	for _, tc := range []struct {
		name  string
		entry map[string]any
		want  string
	}{
		{"misspelt key", map[string]any{"type": "webhook", "url": "http://127.0.0.1:1", "outcome": []string{"acted"}}, "outcome"},
		{"unknown outcome", map[string]any{"type": "webhook", "url": "http://127.0.0.1:1", "outcomes": []string{"acted", "bogus"}}, `invalid outcome "bogus"`},
		{"url not http", map[string]any{"type": "webhook", "url": "ftp://127.0.0.1/x"}, `invalid url for the webhook notification: its scheme is "ftp"`},
		{"url without host", map[string]any{"type": "slack", "url": "https:///hooks"}, `invalid url for the slack notification: it has no host`},
		{"url without scheme", map[string]any{"type": "slack", "url": "hooks.example.com/services/T0/B0/s3cret"}, `invalid url for the slack notification: it has no scheme`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := viper.New()
			v.Set("notifications", []map[string]any{tc.entry})
			_, err := notificationConfigs(v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an error naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("err = %v shows the URL's secret", err)
			}
		})
	}
	v := viper.New()
	v.Set("notifications", []map[string]any{{"type": "webhook", "url": "http://127.0.0.1:1", "outcomes": []string{"acted", "failed"}, "headers": map[string]string{"X-Team": "sec"}}})
	if _, err := notificationConfigs(v); err != nil {
		t.Fatalf("valid notification: %v", err)
	}
}

// TestResponderStartsBeforeNATS starts `riposte responder` while nothing
// listens at its NATS URL. It must wait, alive but not ready, and start
// deciding once NATS is up.
func TestResponderStartsBeforeNATS(t *testing.T) {
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	webhookAddr, metricsAddr := freeAddr(t), freeAddr(t)
	v := viper.New()
	v.Set("nats.url", url)
	v.Set("nats.replicas", 1)
	v.Set("dry-run", true)
	v.Set("webhook.addr", webhookAddr)
	v.Set("webhook.token-file", tokenFile)
	v.Set("metrics.addr", metricsAddr)
	v.Set("kubeconfig", "")
	t.Setenv("KUBECONFIG", "")

	ctx, cancel := context.WithTimeout(context.Background(), 2*e2eTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runResponder(ctx, v, testLogger()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("responder: %v", err)
		}
	}()

	waitStatus(t, http.MethodGet, "http://"+metricsAddr+"/healthz", http.StatusOK)
	if code := httpStatus(t, "http://"+metricsAddr+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while NATS is unreachable, want 503", code)
	}
	select {
	case err := <-done:
		t.Fatalf("responder stopped while NATS was unreachable: %v", err)
	case <-time.After(time.Second):
	}

	server, err := transport.StartServer(transport.ServerOptions{Port: port, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	waitStatus(t, http.MethodGet, "http://"+metricsAddr+"/readyz", http.StatusOK)

	req, err := http.NewRequest(http.MethodPost, "http://"+webhookAddr+"/", strings.NewReader(falcoAlert))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook after NATS started: status %d, want 200", resp.StatusCode)
	}
	conn := connectOverTCP(ctx, t, url, "check")
	consumer, err := waitForStream(ctx, t, conn.JS, transport.DecisionsStream).OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consumer.Next(jetstream.FetchMaxWait(e2eTimeout)); err != nil {
		t.Fatalf("no decision after NATS started: %v", err)
	}
}

func TestResponderGivesUpAfterNATSWait(t *testing.T) {
	out, err := runCommand(t, "responder", "--nats.url", fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)), "--nats.wait", "500ms",
		"--webhook.no-auth", "--metrics.addr", "")
	if err == nil || !strings.Contains(err.Error(), "not reachable after 500ms") {
		t.Fatalf("err = %v, want the wait and the connection error\n%s", err, out)
	}
	if strings.Contains(err.Error(), "%!") {
		t.Errorf("err = %v, has a formatting error", err)
	}
}

func TestResponderStopsWhenAddressInUse(t *testing.T) {
	server, err := transport.StartServer(transport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()

	for _, key := range []string{"webhook.addr", "metrics.addr"} {
		t.Run(key, func(t *testing.T) {
			v := viper.New()
			v.Set("nats.url", server.ClientURL())
			v.Set("nats.replicas", 1)
			v.Set("dry-run", true)
			v.Set("webhook.no-auth", true)
			v.Set("webhook.addr", freeAddr(t))
			v.Set("metrics.addr", freeAddr(t))
			v.Set(key, listener.Addr().String())
			v.Set("kubeconfig", "")
			t.Setenv("KUBECONFIG", "")

			var logs bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
			defer cancel()
			err := runResponder(ctx, v, slog.New(slog.NewTextHandler(&logs, nil)))
			if err == nil || !strings.Contains(err.Error(), listener.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
				t.Fatalf("err = %v, want the address in use named", err)
			}
			if strings.Contains(logs.String(), "responder running") {
				t.Errorf("logged running although the address was in use:\n%s", logs.String())
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer that a logger may write to while a test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestResponderReloadsPoliciesOnHangup(t *testing.T) {
	server, err := transport.StartServer(transport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	dir := t.TempDir()
	policy := "package riposte.policies.p\n\nactions contains {\"actionner\": \"process:kill\", \"target\": {\"kind\": \"process\", \"pid\": 7}} if input.alert.rule == \"never\"\n"
	if err := os.WriteFile(filepath.Join(dir, "p.rego"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	v.Set("nats.url", server.ClientURL())
	v.Set("nats.replicas", 1)
	v.Set("dry-run", true)
	v.Set("webhook.addr", "")
	v.Set("metrics.addr", "")
	v.Set("policies.dir", dir)
	v.Set("kubeconfig", "")
	t.Setenv("KUBECONFIG", "")

	var logs lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*e2eTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runResponder(ctx, v, slog.New(slog.NewTextHandler(&logs, nil))) }()
	waitLog := func(want string) {
		t.Helper()
		deadline := time.Now().Add(e2eTimeout)
		for !strings.Contains(logs.String(), want) {
			select {
			case err := <-done:
				t.Fatalf("responder stopped before logging %q: %v\n%s", want, err, logs.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", want, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("responder running")

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog("policies reloaded")
	select {
	case err := <-done:
		t.Fatalf("responder stopped on SIGHUP: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("responder: %v", err)
	}
}

// startResponder runs runResponder with v, connected to server, until the
// test ends, and returns its log once it reports running.
func startResponder(t *testing.T, server *transport.Server, v *viper.Viper) *lockedBuffer {
	t.Helper()
	v.Set("nats.url", server.ClientURL())
	v.Set("nats.replicas", 1)
	v.Set("dry-run", true)
	v.Set("metrics.addr", "")
	v.Set("kubeconfig", "")
	t.Setenv("KUBECONFIG", "")
	if !v.IsSet("webhook.addr") {
		v.Set("webhook.addr", freeAddr(t))
	}
	if !v.IsSet("webhook.token-file") {
		v.Set("webhook.no-auth", true)
	}

	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runResponder(ctx, v, slog.New(slog.NewTextHandler(logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("responder: %v", err)
		}
	})
	deadline := time.Now().Add(e2eTimeout)
	for !strings.Contains(logs.String(), "responder running") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("responder stopped before running: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("responder not running after %s:\n%s", e2eTimeout, logs.String())
		}
	}
	return logs
}

func TestResponderWarnsBodyOverMaxPayload(t *testing.T) {
	server, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Close) // after the responders' cleanups stop them
	const warning = "webhook.max-body-bytes is larger than the NATS server's max payload"

	v := viper.New()
	v.Set("webhook.max-body-bytes", 4<<20)
	logs := startResponder(t, server, v).String()
	if !strings.Contains(logs, warning) {
		t.Errorf("no warning for a body limit of 4 MiB over a max payload of 1 MiB:\n%s", logs)
	}
	if !strings.Contains(logs, "max_body_bytes=4194304 max_payload=1048576") {
		t.Errorf("warning lacks the two limits:\n%s", logs)
	}

	logs = startResponder(t, server, viper.New()).String()
	if strings.Contains(logs, warning) {
		t.Errorf("warning with the default body limit, equal to the max payload:\n%s", logs)
	}
}

func TestWebhookRateFlagsLimitRequests(t *testing.T) {
	server, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Close) // after the responder's cleanup stops it
	addr := freeAddr(t)
	v := viper.New()
	v.Set("webhook.addr", addr)
	v.Set("webhook.rate-limit", 0.001)
	v.Set("webhook.rate-burst", 2)
	startResponder(t, server, v)

	var statuses []int
	for range 3 {
		resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(falcoAlert))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	want := []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests}
	if !slices.Equal(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
}
