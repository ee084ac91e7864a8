package lograte

import (
	"testing"
	"time"
)

func TestLimiterHoldsRepeatsPerKey(t *testing.T) {
	l := New(time.Hour)
	if ok, held := l.Allow("a"); !ok || held != 0 {
		t.Fatalf("first line of a: ok %v, held %d; want written, 0 held", ok, held)
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
	ok, held := l.Allow("a")
	if !ok || held != 2 {
		t.Errorf("line after the interval: ok %v, held %d; want written with 2 held", ok, held)
	}
	time.Sleep(30 * time.Millisecond)
	if ok, held := l.Allow("a"); !ok || held != 0 {
		t.Errorf("next line: ok %v, held %d; want written with 0 held", ok, held)
	}
}
