package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/transport"
)

func decision(outcome, policy string) responder.Decision {
	return responder.Decision{
		AlertUUID: "6f1d2c1e-0000-4000-8000-000000000001",
		Rule:      "Shell spawned in a container",
		Hostname:  "node-1",
		Outcome:   outcome,
		Actions: []responder.ActionRecord{{
			Policy: policy,
			Action: actionners.Action{Actionner: "process:kill", Target: actionners.Target{Kind: "process", PID: 4242}},
			Result: actionners.Result{Outcome: actionners.OutcomeDryRun},
		}},
	}
}

func runDispatcher(t *testing.T, opts Options) *Dispatcher {
	t.Helper()
	d := NewDispatcher(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSlackMessage(t *testing.T) {
	bodies := make(chan map[string]string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		bodies <- m
	}))
	defer srv.Close()
	d := runDispatcher(t, Options{Routes: []Route{{Sink: &Slack{URL: srv.URL + "/services/T0/B0/secret", Channel: "#sec"}}}})
	d.Notify(decision(responder.OutcomeDryRun, "kill_container_shell"))
	select {
	case m := <-bodies:
		want := `dry-run: rule "Shell spawned in a container" (alert 6f1d2c1e-0000-4000-8000-000000000001) on node-1: process:kill on process 4242 dry-run`
		if m["text"] != want {
			t.Errorf("text = %q\nwant   %q", m["text"], want)
		}
		if m["channel"] != "#sec" {
			t.Errorf("channel = %q", m["channel"])
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no Slack message")
	}
}

func TestWebhookRetriedWithBackoff(t *testing.T) {
	var calls atomic.Int32
	var got responder.Decision
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("X-Token") != "t" {
			t.Errorf("X-Token = %q", r.Header.Get("X-Token"))
		}
		mu.Lock()
		defer mu.Unlock()
		_ = json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	d := runDispatcher(t, Options{
		Routes:         []Route{{Sink: &Webhook{URL: srv.URL, Header: http.Header{"X-Token": {"t"}}}}},
		InitialBackoff: 10 * time.Millisecond,
	})
	d.Notify(decision(responder.OutcomeActed, "p"))
	waitFor(t, "a successful send", func() bool { sent, _, _ := d.Stats(); return sent == 1 })
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.AlertUUID != "6f1d2c1e-0000-4000-8000-000000000001" || got.Outcome != responder.OutcomeActed {
		t.Errorf("received %+v", got)
	}
}

func TestPermanentErrorNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no such hook", http.StatusNotFound)
	}))
	defer srv.Close()
	d := runDispatcher(t, Options{Routes: []Route{{Sink: &Webhook{URL: srv.URL}}}, InitialBackoff: time.Millisecond})
	d.Notify(decision(responder.OutcomeActed, "p"))
	waitFor(t, "a failure", func() bool { _, failed, _ := d.Stats(); return failed == 1 })
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestNotifyNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	d := runDispatcher(t, Options{Routes: []Route{{Sink: &Webhook{URL: srv.URL}}}, QueueSize: 10, Workers: 1})
	returned := make(chan struct{})
	go func() {
		for range 1000 {
			d.Notify(decision(responder.OutcomeActed, "p"))
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(30 * time.Second):
		t.Fatal("Notify blocked behind a receiver that never responds")
	}
	if _, _, dropped := d.Stats(); dropped < 1000-11 {
		t.Errorf("dropped %d, want at least %d", dropped, 1000-11)
	}
}

func TestRoutesFilter(t *testing.T) {
	tests := []struct {
		route Route
		d     responder.Decision
		want  bool
	}{
		{Route{}, decision(responder.OutcomeDryRun, "a"), true},
		{Route{}, decision(responder.OutcomeNoAction, "a"), false},
		{Route{Outcomes: []string{responder.OutcomeNoAction}}, decision(responder.OutcomeNoAction, "a"), true},
		{Route{Outcomes: []string{responder.OutcomeActed}}, decision(responder.OutcomeDryRun, "a"), false},
		{Route{Policies: []string{"a"}}, decision(responder.OutcomeActed, "a"), true},
		{Route{Policies: []string{"b"}}, decision(responder.OutcomeActed, "a"), false},
	}
	for i, tt := range tests {
		if got := tt.route.matches(&tt.d); got != tt.want {
			t.Errorf("case %d: matches = %v, want %v", i, got, tt.want)
		}
	}
}

func TestNATSSink(t *testing.T) {
	s, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("riposte.notifications")
	if err != nil {
		t.Fatal(err)
	}
	d := runDispatcher(t, Options{Routes: []Route{{Sink: &NATS{Conn: nc, Subject: "riposte.notifications"}}}})
	d.Notify(decision(responder.OutcomeFailed, "p"))
	msg, err := sub.NextMsg(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg.Data), `"outcome":"failed"`) {
		t.Errorf("message = %s", msg.Data)
	}
}

func TestErrorsHideWebhookSecret(t *testing.T) {
	err := (&Webhook{URL: "http://127.0.0.1:1/hooks/SECRET"}).Send(context.Background(), decision("acted", "p"))
	if err == nil {
		t.Fatal("send to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error shows the URL path: %v", err)
	}
}

func TestRedactURLKeepsSchemeAndHost(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://hooks.slack.com/services/T000/B000/SECRET", "https://hooks.slack.com/..."},
		{"https://hooks.example.com?token=SECRET", "https://hooks.example.com/..."},
		{"https://hooks.example.com#SECRET", "https://hooks.example.com/..."},
		{"https://user:SECRET@hooks.example.com:8443/x", "https://hooks.example.com:8443/..."},
		{"hooks.example.com/SECRET", "(url)"},
		{"https://hooks.example.com/%zzSECRET", "(url)"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.url); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestFailuresLoggedOncePerInterval(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var logs lockedBuffer
	d := runDispatcher(t, Options{Routes: []Route{{Sink: &Webhook{URL: srv.URL}}}, InitialBackoff: time.Millisecond,
		MaxAttempts: 3, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 20 {
		d.Notify(decision(responder.OutcomeActed, "p"))
	}
	waitFor(t, "20 failures", func() bool { _, failed, _ := d.Stats(); return failed == 20 })
	out := logs.String()
	if got := strings.Count(out, "notification failed, retrying"); got != 1 {
		t.Errorf("%d retry lines for 40 retries, want 1\n%s", got, out)
	}
	if got := strings.Count(out, "level=ERROR msg=\"notification failed\""); got != 1 {
		t.Errorf("%d failure lines for 20 failures, want 1\n%s", got, out)
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
