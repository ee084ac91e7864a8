package responder

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/responder/webhook"
	"github.com/riposte-sec/riposte/transport"
)

// TestWebhookToDecision posts a Falco alert to the webhook receiver and waits
// for the responder's decision about it.
func TestWebhookToDecision(t *testing.T) {
	e := newEnv(t, false)
	reg := defaultRegistry(t)
	decisions := e.decisions(t)
	startResponder(t, Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg})
	receiver, err := webhook.New(webhook.Options{Token: "t", Publisher: transport.NewPublisher(e.conn.JS)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	body := `{"hostname":"worker-2","output":"Shell spawned in a container","output_fields":{"container.id":"a1b2c3d4e5f6","proc.pid":31337,"proc.name":"sh","evt.time":1714564800123456789},"priority":"Notice","rule":"Shell spawned in a container","source":"syscall","tags":["container","shell"],"time":"2024-05-01T12:00:00.123456789Z"}`
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook status %d", res.StatusCode)
	}

	var d Decision
	select {
	case d = <-decisions:
	case <-time.After(30 * time.Second):
		t.Fatal("no decision within 30s")
	}
	if d.Rule != "Shell spawned in a container" || d.Outcome != OutcomeDryRun {
		t.Errorf("decision = %+v", d)
	}
	if len(d.Actions) != 1 || d.Actions[0].Target.PID != 31337 {
		t.Errorf("actions = %+v", d.Actions)
	}

	// A decision record posted back, as by a notifier pointed at the
	// webhook, must not become an alert and start a loop.
	record, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	req, err = http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(record))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(answer), "decision record") {
		t.Errorf("posting a decision record: status %d, body %s; want 400 naming the decision record", res.StatusCode, answer)
	}
}
