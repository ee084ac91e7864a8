//go:build race

package rules_test

// raceEnabled reports whether the race detector is on; it makes sync.Pool
// drop items at random, so allocation counts through the pool differ.
const raceEnabled = true
