package responder

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the responder's Prometheus metrics. Create them with
// NewMetrics and pass them in Options.Metrics; a nil *Metrics records
// nothing.
type Metrics struct {
	alerts          prometheus.Counter
	decisions       *prometheus.CounterVec
	actions         *prometheus.CounterVec
	guardHits       *prometheus.CounterVec
	redeliveries    prometheus.Counter
	deadLetters     prometheus.Counter
	duplicates      prometheus.Counter
	webhookRequests *prometheus.CounterVec
	webhookAlerts   prometheus.Counter
	decisionLatency prometheus.Histogram
	policyLatency   prometheus.Histogram
	actionLatency   *prometheus.HistogramVec
	breakerOpen     prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	latencyBuckets := prometheus.ExponentialBuckets(50e-6, 2, 16) // 50 µs to about 1.6 s.
	m := &Metrics{
		alerts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riposte_responder_alerts_total", Help: "Alert deliveries received from JetStream, redeliveries included."}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riposte_responder_decisions_total", Help: "Decisions recorded, by outcome."}, []string{"outcome"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riposte_responder_actions_total", Help: "Actions chosen by policies, by actionner and outcome."}, []string{"actionner", "outcome"}),
		guardHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riposte_responder_guard_hits_total", Help: "Guards that changed an action, by guard and effect."}, []string{"guard", "effect"}),
		redeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riposte_responder_redeliveries_total", Help: "Alert deliveries after the first."}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riposte_responder_dead_letters_total", Help: "Alerts sent to the dead-letter subject."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riposte_responder_duplicate_decisions_total",
			Help: "Redelivered alerts whose decision an earlier delivery had already stored; the stored decision stands."}),
		webhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riposte_webhook_requests_total", Help: "Webhook requests, by HTTP status code."}, []string{"status"}),
		webhookAlerts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riposte_webhook_alerts_total", Help: "Alerts stored from webhook requests."}),
		decisionLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "riposte_responder_decision_seconds", Help: "Time from an alert's storage in JetStream to its decision.", Buckets: latencyBuckets}),
		policyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "riposte_responder_policy_eval_seconds", Help: "Time spent evaluating policies on one alert.", Buckets: latencyBuckets}),
		actionLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "riposte_responder_action_seconds", Help: "Time spent running one action, by actionner.", Buckets: latencyBuckets}, []string{"actionner"}),
		breakerOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "riposte_responder_circuit_breaker_open", Help: "1 while the action rate circuit breaker holds every action in dry run."}),
	}
	for _, c := range []prometheus.Collector{m.alerts, m.decisions, m.actions, m.guardHits, m.redeliveries, m.deadLetters,
		m.duplicates, m.webhookRequests, m.webhookAlerts, m.decisionLatency, m.policyLatency, m.actionLatency, m.breakerOpen} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) alertReceived(delivery int) {
	if m == nil {
		return
	}
	m.alerts.Inc()
	if delivery > 1 {
		m.redeliveries.Inc()
	}
}

func (m *Metrics) deadLettered() {
	if m != nil {
		m.deadLetters.Inc()
	}
}

func (m *Metrics) duplicateDecision() {
	if m != nil {
		m.duplicates.Inc()
	}
}

func (m *Metrics) decided(d *Decision, breakerOpen bool) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(d.Outcome).Inc()
	m.decisionLatency.Observe(d.Timings.Total.Seconds())
	m.policyLatency.Observe(d.Timings.Policy.Seconds())
	for _, a := range d.Actions {
		m.actions.WithLabelValues(a.Actionner, string(a.Result.Outcome)).Inc()
		if a.Result.Duration > 0 {
			m.actionLatency.WithLabelValues(a.Actionner).Observe(a.Result.Duration.Seconds())
		}
		for _, h := range a.Guards {
			m.guardHits.WithLabelValues(h.Guard, h.Effect).Inc()
		}
	}
	if breakerOpen {
		m.breakerOpen.Set(1)
	} else {
		m.breakerOpen.Set(0)
	}
}

// WebhookRequest counts one webhook request; pass it as the webhook's
// OnRequest hook.
func (m *Metrics) WebhookRequest(status, alerts int) {
	if m == nil {
		return
	}
	m.webhookRequests.WithLabelValues(strconv.Itoa(status)).Inc()
	m.webhookAlerts.Add(float64(alerts))
}

// Ready reports whether the responder consumes alerts: Run has created its
// consumer and the NATS connection is up.
func (r *Responder) Ready() error {
	if !r.running.Load() {
		return errors.New("responder not consuming yet")
	}
	if nc := r.js.Conn(); nc != nil && nc.Status() != nats.CONNECTED {
		return errors.New("NATS connection " + nc.Status().String())
	}
	return nil
}

// HTTPHandlers returns handlers for /metrics (from gatherer), /healthz
// (the process serves HTTP) and /readyz (every check passes), keyed by
// ServeMux pattern, for webhook.Receiver.Serve or any ServeMux.
func HTTPHandlers(gatherer prometheus.Gatherer, checks ...func() error) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /metrics": promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}),
		"GET /healthz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ok\n"))
		}),
		"GET /readyz": http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
			defer cancel()
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			for _, check := range checks {
				if ctx.Err() != nil {
					break
				}
				if err := check(); err != nil {
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
					return
				}
			}
			_, _ = w.Write([]byte("ok\n"))
		}),
	}
}
