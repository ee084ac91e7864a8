package bpf

import (
	"os"
	"testing"
)

// requireBPF skips the test when BPF programs cannot be loaded, or fails it
// when CI=true.
func requireBPF(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("test needs root to load BPF programs; run it as root in CI")
	}
	t.Skip("test needs root to load BPF programs")
}

func TestLoadAttach(t *testing.T) {
	requireBPF(t)
	objs, err := Load(Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer objs.Close()
	if err := objs.Attach(); err != nil {
		t.Fatalf("Attach: %v", err)
	}
	drops, err := objs.Drops()
	if err != nil {
		t.Fatalf("Drops: %v", err)
	}
	if len(drops) != len(DropCounters) {
		t.Errorf("Drops() has %d counts, want one for each of the %d pairs of DropCounters", len(drops), len(DropCounters))
	}
	for _, d := range drops {
		if d.Count != 0 {
			t.Errorf("Drops() = %v right after load, want every count zero", drops)
			break
		}
	}
}
