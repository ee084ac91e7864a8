// Package detector turns sensor events into alerts. It matches each event
// against the rules engine on the sensor's reading goroutine, renders an alert
// for every match while the event's process state is still valid, and hands the
// alerts to a sink, such as the NATS publisher, from its own goroutine so that
// a slow sink never stalls the ring buffer.
package detector

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
)

// DefaultQueueSize is the number of alerts that may wait for the sink.
const DefaultQueueSize = 4096

// Sink receives alerts. Deliver is called from one goroutine at a time; an
// error is logged and counted, and the alert is not retried by the detector.
type Sink interface {
	Deliver(ctx context.Context, a *alert.Alert) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, a *alert.Alert) error

// Deliver calls f.
func (f SinkFunc) Deliver(ctx context.Context, a *alert.Alert) error { return f(ctx, a) }

// Options configure a Detector.
type Options struct {
	// Engine holds the rules to match. SetEngine replaces it while running.
	Engine *rules.Engine
	// Hostname is the alerts' hostname. Empty means rules.Hostname().
	Hostname string
	// Sink receives every alert. Required.
	Sink Sink
	// QueueSize bounds the alerts waiting for the sink; zero or less means
	// DefaultQueueSize. When the queue is full new alerts are dropped and
	// counted, and a warning is logged at most once per LogInterval.
	QueueSize int
	// LogInterval is the minimum time between two warnings about dropped
	// alerts or sink errors. Zero means 10 seconds.
	LogInterval time.Duration
	// Logger receives warnings. Nil discards them.
	Logger *slog.Logger
	// OnAlert, when set, receives every alert as it is raised, before it is
	// queued, so that a sink waiting on NATS does not hold back other
	// outputs such as printing. It runs on the goroutine that raised the
	// alert, which for rule matches is the sensor's reading goroutine. It
	// must therefore return at once, and must not change the alert.
	OnAlert func(*alert.Alert)
}

// Stats are the detector's counters.
type Stats struct {
	Events     uint64 `json:"events"`
	Matches    uint64 `json:"matches"`
	Delivered  uint64 `json:"delivered"`
	Dropped    uint64 `json:"dropped"`
	SinkErrors uint64 `json:"sink_errors"`
}

// Detector matches events and queues the resulting alerts for a sink.
type Detector struct {
	engine   atomic.Pointer[rules.Engine]
	hostname string
	sink     Sink
	onAlert  func(*alert.Alert)
	queue    chan *alert.Alert
	logger   *slog.Logger
	interval time.Duration

	// matches is reused by Handle, which only the sensor's reading
	// goroutine calls.
	matches []*rules.Rule

	events, matched, delivered, dropped, sinkErrors atomic.Uint64

	warnMu   sync.Mutex
	lastWarn map[string]time.Time
}

// ErrNoSink is returned by New when Options.Sink is nil.
var ErrNoSink = errors.New("detector: no sink")

// New returns a Detector. Run must be running for alerts to reach the sink.
func New(opts Options) (*Detector, error) {
	if opts.Sink == nil {
		return nil, ErrNoSink
	}
	if opts.Engine == nil {
		return nil, errors.New("detector: no rules engine")
	}
	size := opts.QueueSize
	if size <= 0 {
		size = DefaultQueueSize
	}
	d := &Detector{
		hostname: opts.Hostname,
		sink:     opts.Sink,
		onAlert:  opts.OnAlert,
		queue:    make(chan *alert.Alert, size),
		logger:   opts.Logger,
		interval: opts.LogInterval,
		lastWarn: map[string]time.Time{},
	}
	if d.hostname == "" {
		d.hostname = rules.Hostname()
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	if d.interval == 0 {
		d.interval = 10 * time.Second
	}
	d.engine.Store(opts.Engine)
	return d, nil
}

// SetEngine replaces the rules, for example after a reload. Events handled
// afterwards are matched against the new engine.
func (d *Detector) SetEngine(e *rules.Engine) {
	d.engine.Store(e)
}

// Handle matches one event and queues an alert for every matching rule. It
// must not be called concurrently: the sensor calls it from its reading
// goroutine. t is the event's time.
func (d *Detector) Handle(ev rules.Event, t time.Time) {
	d.events.Add(1)
	d.matches = d.engine.Load().Match(ev, d.matches[:0])
	for _, r := range d.matches {
		d.matched.Add(1)
		a := r.Alert(ev, t, d.hostname)
		a.UUID = uuid.NewString()
		if d.onAlert != nil {
			d.onAlert(&a)
		}
		select {
		case d.queue <- &a:
		default:
			d.dropped.Add(1)
			d.warn("queue", "alert queue full: alert dropped", "rule", a.Rule, "dropped_total", d.dropped.Load())
		}
	}
}

// Run delivers queued alerts to the sink until ctx ends, then delivers what is
// still queued, with a short deadline, and returns nil. It logs how many
// alerts it could not deliver once ctx had ended.
func (d *Detector) Run(ctx context.Context) error {
	var lost uint64
	for {
		select {
		case a := <-d.queue:
			if !d.deliver(ctx, a) && ctx.Err() != nil {
				lost++
			}
		case <-ctx.Done():
			lost += d.drain()
			// The warnings of deliver are rate-limited, so give the total.
			if lost > 0 {
				d.logger.Warn("alerts not delivered at shutdown", "alerts", lost)
			}
			return nil
		}
	}
}

// drain delivers the alerts queued when Run was asked to stop, so that alerts
// already matched are not lost on a clean shutdown. It returns the number it
// could not deliver.
func (d *Detector) drain() uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var lost uint64
	for {
		select {
		case a := <-d.queue:
			if !d.deliver(ctx, a) {
				lost++
			}
		default:
			return lost
		}
	}
}

// deliver passes a to the sink and reports whether the sink accepted it.
func (d *Detector) deliver(ctx context.Context, a *alert.Alert) bool {
	if err := d.sink.Deliver(ctx, a); err != nil {
		d.sinkErrors.Add(1)
		d.warn("sink", "deliver alert", "uuid", a.UUID, "rule", a.Rule, "error", err, "sink_errors_total", d.sinkErrors.Load())
		return false
	}
	d.delivered.Add(1)
	return true
}

// warn logs a warning of the given kind at most once per interval.
func (d *Detector) warn(kind, msg string, args ...any) {
	now := time.Now()
	d.warnMu.Lock()
	last, seen := d.lastWarn[kind]
	if seen && now.Sub(last) < d.interval {
		d.warnMu.Unlock()
		return
	}
	d.lastWarn[kind] = now
	d.warnMu.Unlock()
	d.logger.Warn(msg, args...)
}

// Stats returns the current counters.
func (d *Detector) Stats() Stats {
	return Stats{
		Events:     d.events.Load(),
		Matches:    d.matched.Load(),
		Delivered:  d.delivered.Load(),
		Dropped:    d.dropped.Load(),
		SinkErrors: d.sinkErrors.Load(),
	}
}

// Raise queues an alert that did not come from a rule match, such as the
// sensor's report of dropped events. It may be called from any goroutine. It
// fills UUID and Hostname when they are empty.
func (d *Detector) Raise(a *alert.Alert) {
	if a.UUID == "" {
		a.UUID = uuid.NewString()
	}
	if a.Hostname == "" {
		a.Hostname = d.hostname
	}
	if d.onAlert != nil {
		d.onAlert(a)
	}
	select {
	case d.queue <- a:
	default:
		d.dropped.Add(1)
		d.warn("queue", "alert queue full: alert dropped", "rule", a.Rule, "dropped_total", d.dropped.Load())
	}
}
