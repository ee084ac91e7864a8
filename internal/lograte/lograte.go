// Package lograte limits how often a repeated log line is written, so that
// a flood of the same failure, such as requests with a wrong token, cannot
// flood the log too.
package lograte

import (
	"sync"
	"time"
)

// Limiter lets a line through at most once per interval for each key, and
// counts the lines it holds back. It is safe for concurrent use. It keeps an
// entry per key and never drops one, so keys should come from a small fixed
// set, such as error codes or sink names.
type Limiter struct {
	interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
	skipped  map[string]int
}

// New returns a limiter that lets one line per key through every interval.
func New(interval time.Duration) *Limiter {
	return &Limiter{interval: interval, last: map[string]time.Time{}, skipped: map[string]int{}}
}

// Allow reports whether a line for key may be written now. When it may,
// skipped is the number of lines for key held back since the last one written,
// which the caller should add to the line.
func (l *Limiter) Allow(key string) (ok bool, skipped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if last, seen := l.last[key]; seen && now.Sub(last) < l.interval {
		l.skipped[key]++
		return false, 0
	}
	l.last[key] = now
	skipped = l.skipped[key]
	l.skipped[key] = 0
	return true, skipped
}
