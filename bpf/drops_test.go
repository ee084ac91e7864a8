package bpf

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestDropCountersMatchPrograms checks that DropCounters lists exactly the
// cause and kind pairs of the count_drop calls in the C programs, so that
// every drop the kernel counts is exported and no unused slot is.
func TestDropCountersMatchPrograms(t *testing.T) {
	causes := map[string]DropCause{"DROP_RINGBUF_FULL": DropRingBufferFull, "DROP_SCRATCH_MISSING": DropScratchMissing}
	kinds := map[string]RecordKind{"RECORD_EXEC": RecordExec, "RECORD_FORK": RecordFork, "RECORD_EXIT": RecordExit, "RECORD_SYSCALL": RecordSyscall}
	call := regexp.MustCompile(`count_drop\((\w+), (\w+)\);`)

	var inPrograms []DropCount
	for _, file := range []string{"process.c", "syscall.h"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			cause, ok := causes[m[1]]
			if !ok {
				t.Errorf("%s: count_drop with cause %s, which the test does not know", file, m[1])
				continue
			}
			kind, ok := kinds[m[2]]
			if !ok {
				t.Errorf("%s: count_drop with kind %s, which the test does not know", file, m[2])
				continue
			}
			c := DropCount{Cause: cause, Kind: kind}
			if !slices.Contains(inPrograms, c) {
				inPrograms = append(inPrograms, c)
			}
		}
	}
	if len(inPrograms) == 0 {
		t.Fatal("found no count_drop calls in process.c and syscall.h")
	}
	for _, c := range inPrograms {
		if !slices.Contains(DropCounters, c) {
			t.Errorf("the programs count drops of (%s, %s), which DropCounters lacks", c.Cause, c.Kind)
		}
	}
	for _, c := range DropCounters {
		if !slices.Contains(inPrograms, c) {
			t.Errorf("DropCounters lists (%s, %s), which no program counts", c.Cause, c.Kind)
		}
	}
}
