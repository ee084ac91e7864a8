package responder

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t, true)
	reg := defaultRegistry(t)
	promReg := prometheus.NewRegistry()
	m, err := NewMetrics(promReg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{JS: e.conn.JS, Policies: loadPolicies(t, reg, nil), Registry: reg, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for pattern, h := range HTTPHandlers(promReg, r.Ready) {
		mux.Handle(pattern, h)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not consuming") {
		t.Errorf("/readyz before Run = %d %q", code, body)
	}
	if code, _ := get(t, srv.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}

	decisions := e.decisions(t)
	startResponderWith(t, r)
	a := shellAlert(4242)
	publish(t, e, a)
	waitDecision(t, decisions, a.UUID)
	waitFor(t, func() bool { return counterValue(t, m.decisions.WithLabelValues(OutcomeDryRun)) == 1 })

	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz while running = %d %q", code, body)
	}
	if got := counterValue(t, m.actions.WithLabelValues("process:kill", "dry-run")); got != 1 {
		t.Errorf("actions{process:kill,dry-run} = %v", got)
	}
	if got := counterValue(t, m.guardHits.WithLabelValues(GuardDryRun, EffectDryRun)); got != 1 {
		t.Errorf("guard hits{dry-run} = %v", got)
	}
	if got := counterValue(t, m.alerts); got != 1 {
		t.Errorf("alerts = %v", got)
	}
	m.WebhookRequest(401, 0)
	_, body := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`riposte_responder_decisions_total{outcome="dry-run"} 1`,
		`riposte_webhook_requests_total{status="401"} 1`,
		`riposte_responder_decision_seconds_count 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func counterValue(t testing.TB, c prometheus.Metric) float64 {
	t.Helper()
	var pb dto.Metric
	if err := c.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetCounter().GetValue()
}
