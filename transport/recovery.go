package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RecoveryInterval is the minimum time between two attempts of a Recovery to
// recreate the streams.
const RecoveryInterval = time.Second

// warnInterval bounds the warnings about failing publishes, and about
// failed recoveries, to one per interval. A publish warning carries the count
// of failures since the last success.
const warnInterval = 10 * time.Second

// publishFailingAfter is the number of publishes in a row that must fail,
// with the last one less than publishFailingFor ago, before Check reports the
// publishes as failing.
const (
	publishFailingAfter = 3
	publishFailingFor   = 30 * time.Second
)

// Recovery recreates the streams, the actions bucket and what the callers
// build on them, such as a durable consumer, after NATS lost them. A server
// that restarts without its JetStream storage loses them all, and publishes
// then fail with "no response from stream" and pull requests with "no
// responders available". Recovery also tracks the outcome of
// publishes for Check. It is safe for concurrent use.
type Recovery struct {
	js       jetstream.JetStream
	opts     StreamOptions
	log      *slog.Logger
	interval time.Duration

	mu          sync.Mutex
	hooks       []func(context.Context) error
	lastAttempt time.Time
	lastErr     error
	lastErrWarn time.Time

	publishMu       sync.Mutex
	failures        int
	lastFailure     time.Time
	lastPublishErr  error
	lastPublishWarn time.Time
}

// NewRecovery returns a Recovery that recreates the streams with opts, the
// options that the process passed to EnsureStreams at start. A nil logger
// discards the warnings.
func NewRecovery(js jetstream.JetStream, opts StreamOptions, log *slog.Logger) *Recovery {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recovery{js: js, opts: opts, log: log, interval: RecoveryInterval}
}

// OnRecover adds fn to the functions that run after the streams are
// recreated, in the order they were added. A failing fn fails the recovery,
// which is then attempted again after the interval.
func (r *Recovery) OnRecover(fn func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(r.hooks, fn)
}

// IsMissing reports whether err means that a stream, a consumer or a
// key-value bucket does not exist, or that nothing subscribes to a JetStream
// subject, which is how a lost stream shows to a publisher.
func IsMissing(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, jetstream.ErrBucketNotFound)
}

// Recover recreates the streams, the actions bucket and then runs the
// OnRecover functions when IsMissing(cause) is true. It makes at most one
// attempt per RecoveryInterval: a call within the interval of the previous
// attempt returns that attempt's error without contacting NATS. It returns
// nil once the streams exist again, and an error when cause is not about a
// missing stream or the attempt failed.
func (r *Recovery) Recover(ctx context.Context, cause error) error {
	if !IsMissing(cause) {
		return fmt.Errorf("recover streams: %w", cause)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.lastAttempt) < r.interval {
		return r.lastErr
	}
	r.lastAttempt = time.Now()
	r.lastErr = r.recreate(ctx)
	if r.lastErr != nil {
		// A long outage would otherwise log every attempt.
		if time.Since(r.lastErrWarn) >= warnInterval {
			r.lastErrWarn = r.lastAttempt
			r.log.Warn("recreate JetStream streams failed: retrying", "cause", cause, "error", r.lastErr)
		}
		return r.lastErr
	}
	r.lastErrWarn = time.Time{}
	r.log.Warn("recreated missing JetStream streams", "streams", []string{AlertsStream, DecisionsStream, DeadLetterStream},
		"bucket", ActionsBucket, "cause", cause)
	return nil
}

// streamCheckTimeout bounds the request of RecoverStream.
const streamCheckTimeout = 2 * time.Second

// RecoverStream requests the stream's information and recreates the streams
// through Recover when the stream is not found. It is for failures that do not
// show whether the stream is missing: a publish whose acknowledgement timed
// out, because a core NATS subscriber on the subject keeps the server from
// replying "no responders". It uses its own timeout, so that it also works
// after the failed operation's context ended.
func (r *Recovery) RecoverStream(ctx context.Context, stream string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), streamCheckTimeout)
	defer cancel()
	_, err := r.js.Stream(ctx, stream)
	if err == nil || !IsMissing(err) {
		return err
	}
	return r.Recover(ctx, err)
}

func (r *Recovery) recreate(ctx context.Context) error {
	if _, err := EnsureStreams(ctx, r.js, r.opts); err != nil {
		return fmt.Errorf("recreate streams: %w", err)
	}
	for _, fn := range r.hooks {
		if err := fn(ctx); err != nil {
			return fmt.Errorf("recreate streams: %w", err)
		}
	}
	return nil
}

// Check returns an error while the alerts or the decisions stream is missing
// or while publishes keep failing: the last publishFailingAfter publishes
// failed and the last of them less than 30 seconds ago. A missing stream
// starts a recovery.
func (r *Recovery) Check(ctx context.Context) error {
	for _, name := range []string{AlertsStream, DecisionsStream} {
		_, err := r.js.Stream(ctx, name)
		if err == nil {
			continue
		}
		if IsMissing(err) {
			if r.Recover(ctx, err) == nil {
				continue
			}
			return fmt.Errorf("stream %s is missing: %w", name, err)
		}
		return fmt.Errorf("read stream %s: %w", name, err)
	}

	r.publishMu.Lock()
	defer r.publishMu.Unlock()
	if r.failures >= publishFailingAfter && time.Since(r.lastFailure) < publishFailingFor {
		return fmt.Errorf("the last %d alert publishes failed: %w", r.failures, r.lastPublishErr)
	}
	return nil
}

// observe records the outcome of a publish, and logs a warning at most every
// warnInterval while publishes fail.
func (r *Recovery) observe(err error) {
	r.publishMu.Lock()
	defer r.publishMu.Unlock()
	if err == nil {
		r.failures = 0
		return
	}
	r.failures++
	r.lastFailure = time.Now()
	r.lastPublishErr = err
	if time.Since(r.lastPublishWarn) >= warnInterval {
		r.lastPublishWarn = r.lastFailure
		r.log.Warn("publish alerts to NATS failing", "failures_in_a_row", r.failures, "error", err)
	}
}
