package detector

import (
	"context"
	"time"

	"github.com/riposte-sec/riposte/alert"
)

// RetryOptions configure Retry.
type RetryOptions struct {
	// MinDelay is the first wait after a failure. Zero means 100 ms.
	MinDelay time.Duration
	// MaxDelay caps the wait, which doubles after every failure. Zero means 5
	// seconds.
	MaxDelay time.Duration
	// MaxElapsed bounds the time spent on one alert. Zero means 5 minutes. The
	// last error is returned after it, and the detector counts the alert as a
	// sink error.
	MaxElapsed time.Duration
}

// Retry returns a Sink that retries sink with exponential backoff until it
// accepts the alert, ctx ends or MaxElapsed passes. While it waits, the
// detector's queue buffers new alerts, and drops and counts them once full, so
// an outage of the sink is bounded in memory and never silent.
func Retry(sink Sink, opts RetryOptions) Sink {
	if opts.MinDelay <= 0 {
		opts.MinDelay = 100 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 5 * time.Second
	}
	if opts.MaxElapsed <= 0 {
		opts.MaxElapsed = 5 * time.Minute
	}
	return SinkFunc(func(ctx context.Context, a *alert.Alert) error {
		start := time.Now()
		delay := opts.MinDelay
		for {
			err := sink.Deliver(ctx, a)
			if err == nil {
				return nil
			}
			if time.Since(start)+delay > opts.MaxElapsed {
				return err
			}
			timer := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				timer.Stop()
				return err
			case <-timer.C:
			}
			delay = min(2*delay, opts.MaxDelay)
		}
	})
}
