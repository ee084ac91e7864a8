// Package notify sends decisions to people and systems: Slack-compatible
// incoming webhooks, generic HTTP webhooks and NATS subjects. A [Dispatcher]
// queues decisions and sends them from its own goroutines, retrying with
// exponential backoff, so that a slow or failing receiver never delays a
// decision. Wire Dispatcher.Notify as the responder's OnDecision hook.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riposte-sec/riposte/internal/lograte"
	"github.com/riposte-sec/riposte/responder"
)

// Sink sends one decision somewhere.
type Sink interface {
	// Name identifies the sink in logs, such as "slack".
	Name() string
	// Send delivers the decision. An error wrapping ErrPermanent is not
	// retried.
	Send(ctx context.Context, d responder.Decision) error
}

// ErrPermanent marks a send error that a retry cannot cure, such as an HTTP
// 400 response.
var ErrPermanent = errors.New("permanent failure")

// Route sends the decisions that match it to one sink.
type Route struct {
	Sink Sink
	// Policies limits the route to decisions with an action from one of these
	// policies. Empty means every policy.
	Policies []string
	// Outcomes limits the route to decisions with one of these outcomes. Empty
	// means every outcome except no-action.
	Outcomes []string
}

func (r Route) matches(d *responder.Decision) bool {
	if len(r.Outcomes) == 0 {
		if d.Outcome == responder.OutcomeNoAction {
			return false
		}
	} else if !slices.Contains(r.Outcomes, d.Outcome) {
		return false
	}
	if len(r.Policies) == 0 {
		return true
	}
	for _, a := range d.Actions {
		if slices.Contains(r.Policies, a.Policy) {
			return true
		}
	}
	return false
}

// Options configure a Dispatcher.
type Options struct {
	Routes []Route
	// QueueSize bounds the decisions waiting to be sent. When the queue is
	// full, new notifications are dropped and counted. Zero means 1,000.
	QueueSize int
	// Workers is the number of concurrent sends. Zero means 4.
	Workers int
	// MaxAttempts bounds the attempts for one notification. Zero means 5.
	MaxAttempts int
	// InitialBackoff is the delay before the first retry, doubled after each
	// failure, with jitter. Zero means 500 milliseconds.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay between attempts. Zero means 30 seconds.
	MaxBackoff time.Duration
	// SendTimeout bounds one attempt. Zero means 10 seconds.
	SendTimeout time.Duration
	// Logger receives failed sends and drops. Nil discards them.
	Logger *slog.Logger
}

// Dispatcher queues decisions and sends them to the matching routes.
type Dispatcher struct {
	opts  Options
	queue chan job
	log   *slog.Logger
	// failures limits the log lines of failed sends to one per sink and
	// kind every logInterval: an unreachable receiver fails every send. The
	// key is the sink's address, since two sinks may share a name.
	failures *lograte.Limiter
	dropped  atomic.Uint64
	failed   atomic.Uint64
	sent     atomic.Uint64
	mu       sync.Mutex
	closed   bool
}

// logInterval is the minimum time between two log lines about failed
// sends of the same sink.
const logInterval = 10 * time.Second

type job struct {
	sink     Sink
	decision responder.Decision
}

// NewDispatcher returns a dispatcher. Call Run to start sending.
func NewDispatcher(opts Options) *Dispatcher {
	if opts.QueueSize == 0 {
		opts.QueueSize = 1000
	}
	if opts.Workers == 0 {
		opts.Workers = 4
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 5
	}
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.SendTimeout == 0 {
		opts.SendTimeout = 10 * time.Second
	}
	d := &Dispatcher{opts: opts, queue: make(chan job, opts.QueueSize), log: opts.Logger, failures: lograte.New(logInterval)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// Notify queues the decision for every matching route and returns without
// waiting for any send. When the queue is full, the notification is dropped,
// counted and logged.
func (d *Dispatcher) Notify(dec responder.Decision) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	for _, r := range d.opts.Routes {
		if !r.matches(&dec) {
			continue
		}
		select {
		case d.queue <- job{sink: r.Sink, decision: dec}:
		default:
			if n := d.dropped.Add(1); n&(n-1) == 0 { // Log the 1st, 2nd, 4th, 8th... drop.
				d.log.Warn("notification queue full, notification dropped", "sink", r.Sink.Name(), "alert_uuid", dec.AlertUUID, "dropped_total", n)
			}
		}
	}
}

// Stats returns the notifications sent, failed after every attempt, and
// dropped because the queue was full.
func (d *Dispatcher) Stats() (sent, failed, dropped uint64) {
	return d.sent.Load(), d.failed.Load(), d.dropped.Load()
}

// Run sends queued notifications until ctx ends, then stops taking new
// ones, sends those still queued with one attempt each, and returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range d.opts.Workers {
		wg.Go(func() {
			for {
				select {
				case j := <-d.queue:
					d.send(ctx, j)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()

	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	for {
		select {
		case j := <-d.queue:
			d.attempt(context.Background(), j)
		default:
			return nil
		}
	}
}

func (d *Dispatcher) send(ctx context.Context, j job) {
	delay := d.opts.InitialBackoff
	for attempt := 1; ; attempt++ {
		err := d.attempt(ctx, j)
		if err == nil {
			return
		}
		if errors.Is(err, ErrPermanent) || attempt >= d.opts.MaxAttempts || ctx.Err() != nil {
			d.failed.Add(1)
			if ok, skipped := d.failures.Allow(fmt.Sprintf("%p failed", j.sink)); ok {
				d.log.Error("notification failed", "sink", j.sink.Name(), "alert_uuid", j.decision.AlertUUID, "attempts", attempt, "error", err,
					"not_logged_since_last", skipped)
			}
			return
		}
		if ok, skipped := d.failures.Allow(fmt.Sprintf("%p retry", j.sink)); ok {
			d.log.Warn("notification failed, retrying", "sink", j.sink.Name(), "alert_uuid", j.decision.AlertUUID, "attempt", attempt, "error", err,
				"not_logged_since_last", skipped)
		}
		// Full jitter keeps many failing notifications from retrying in step.
		wait := delay/2 + rand.N(delay/2+1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			d.failed.Add(1)
			return
		}
		delay = min(2*delay, d.opts.MaxBackoff)
	}
}

func (d *Dispatcher) attempt(ctx context.Context, j job) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
	defer cancel()
	if err := j.sink.Send(ctx, j.decision); err != nil {
		return fmt.Errorf("%s: %w", j.sink.Name(), err)
	}
	d.sent.Add(1)
	return nil
}
