package lograte

import (
	"testing"
	"time"
)

func TestLimiterHoldsRepeatsPerKey(t *testing.T) {
	l := New(time.Hour)
	if ok, skipped := l.Allow("a"); !ok || skipped != 0 {
		t.Fatalf("first line of a: ok %v, skipped %d; want written, 0 skipped", ok, skipped)
	}
	for range 3 {
		if ok, _ := l.Allow("a"); ok {
			t.Fatal("repeat of a written within the interval")
		}
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("first line of b held back by the lines of a")
	}
}

func TestLimiterCountsHeldLines(t *testing.T) {
	l := New(20 * time.Millisecond)
	l.Allow("a")
	l.Allow("a")
	l.Allow("a")
	time.Sleep(30 * time.Millisecond)
	ok, skipped := l.Allow("a")
	if !ok || skipped != 2 {
		t.Errorf("line after the interval: ok %v, skipped %d; want written with 2 skipped", ok, skipped)
	}
	time.Sleep(30 * time.Millisecond)
	if ok, skipped := l.Allow("a"); !ok || skipped != 0 {
		t.Errorf("next line: ok %v, skipped %d; want written with 0 skipped", ok, skipped)
	}
}
