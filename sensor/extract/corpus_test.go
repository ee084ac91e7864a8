package extract

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/sensor/event"
)

// corpusDir returns the upstream rules directory from RIPOSTE_TEST_CORPUS,
// skipping the test when it is unset outside CI.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	return dir
}

// TestUpstreamRuleTypesCaptured checks that every event type that Falco's
// stable, incubating and sandbox rules select is one the sensor captures.
func TestUpstreamRuleTypesCaptured(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"} {
		t.Run(name, func(t *testing.T) {
			eng, _, err := rules.LoadFiles(rules.Options{}, filepath.Join(dir, "falco_rules.yaml"), filepath.Join(dir, name))
			if name == "falco_rules.yaml" {
				eng, _, err = rules.LoadFiles(rules.Options{}, filepath.Join(dir, name))
			}
			if err != nil {
				t.Fatalf("load %s: %v", name, err)
			}
			captured := map[evttype.Type]bool{}
			for _, st := range SensorTypes(eng.EventTypes()) {
				et, _ := EventType(st)
				captured[et] = true
			}
			set := eng.EventTypes()
			n := 0
			for _, et := range evttype.All() {
				if set.Has(et) {
					n++
				}
			}
			t.Logf("%s selects %d event types", name, n)
			if n == 0 {
				t.Fatal("no event types selected; are the rules enabled?")
			}
			for _, et := range evttype.All() {
				if set.Has(et) && !captured[et] && et.String() != "container" {
					t.Errorf("rules select %s, which the sensor does not capture", et)
				}
			}
		})
	}
}

// BenchmarkMatchStableRulesOpenat matches one openat event of a file no
// rule cares about against Falco's stable rules: the common case of the
// open loop.
func BenchmarkMatchStableRulesOpenat(b *testing.B) {
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		b.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	eng, _, err := rules.LoadFiles(rules.Options{}, filepath.Join(dir, "falco_rules.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	ev := &event.Event{
		Type: event.TypeOpenat, TID: 30, Res: 5, Proc: sampleEvent().Proc,
		Syscall: &event.Syscall{
			Nr: 257, Args: [6]uint64{uint64(0xffffff9c), 0, 0, 0},
			Path: "/etc/hostname", AbsPath: "/etc/hostname",
			FD: &event.FD{Num: 5, Type: event.FDFile, Path: "/etc/hostname"},
		},
	}
	e := New("bench", NewUsers("/proc"))
	var dst []*rules.Rule
	b.ReportAllocs()
	for b.Loop() {
		e.Reset(ev)
		dst = eng.Match(e, dst[:0])
	}
}
