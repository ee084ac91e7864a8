// Package defaults contains Riposte's default rules, written in the Falco rules
// language and embedded in the binary.
//
// The rules are:
//   - "Shell spawned by a non-shell program"
//   - "Shell spawned in a container"
//   - "Program executed from a world-writable directory"
//   - "Program executed from memory (memfd)"
package defaults

import (
	_ "embed"

	"github.com/riposte-sec/riposte/rules"
)

//go:embed riposte_rules.yaml
var content []byte

// FileName is the name the default rules file carries in messages.
const FileName = "riposte_rules.yaml"

// Names of the default rules, for code and tests that refer to them.
const (
	ShellSpawnedByNonShell = "Shell spawned by a non-shell program"
	ShellInContainer       = "Shell spawned in a container"
	ExecFromWorldWritable  = "Program executed from a world-writable directory"
	ExecFromMemfd          = "Program executed from memory (memfd)"
)

// File returns the default rules file. The content is a fresh copy on each
// call.
func File() rules.File {
	return rules.File{Name: FileName, Content: append([]byte(nil), content...)}
}
