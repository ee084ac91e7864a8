package main

import (
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/sensor"
)

func TestDropAlert(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	a := dropAlert(sensor.DropReport{
		Interval: 10 * time.Second,
		Dropped:  50,
		Read:     950,
		ByCause:  map[string]uint64{"ringbuf_full": 50},
	}, now)
	if a.Rule != dropRule || a.Priority != alert.PriorityCritical {
		t.Errorf("rule, priority = %q, %v", a.Rule, a.Priority)
	}
	if got := a.OutputFields["n_drops"]; got != uint64(50) {
		t.Errorf("n_drops = %v, want 50", got)
	}
	if got := a.OutputFields["n_drops_ringbuf_full"]; got != uint64(50) {
		t.Errorf("n_drops_ringbuf_full = %v, want 50", got)
	}
	if !strings.Contains(a.Output, "50 of 1000 events dropped") || !strings.Contains(a.Output, "ringbuf_full=50") {
		t.Errorf("output = %q", a.Output)
	}
}
