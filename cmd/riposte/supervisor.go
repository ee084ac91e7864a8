package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// supervisor runs long-running parts, each a func(ctx) error that blocks until
// ctx ends. When one part fails, the others are stopped.
type supervisor struct {
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup

	mu       sync.Mutex
	firstErr error
}

func newSupervisor(ctx context.Context) *supervisor {
	ctx, cancel := context.WithCancel(ctx)
	return &supervisor{ctx: ctx, cancel: cancel}
}

// Go starts a part.
func (s *supervisor) Go(name string, run func(context.Context) error) {
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		err := run(s.ctx)
		if err == nil || errors.Is(err, context.Canceled) {
			return
		}
		s.mu.Lock()
		if s.firstErr == nil {
			s.firstErr = fmt.Errorf("%s: %w", name, err)
		}
		s.mu.Unlock()
		s.cancel()
	}()
}

// Wait blocks until every part stopped and returns the first failure.
func (s *supervisor) Wait() error {
	s.running.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr
}

// Stop cancels every part and waits for them to return.
func (s *supervisor) Stop() {
	s.cancel()
	s.running.Wait()
}
