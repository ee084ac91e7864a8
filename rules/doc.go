// Package rules is Riposte's rules engine for the Falco rules language. It
// loads rules files unchanged (the upstream Falco rulesets included), compiles
// their conditions and outputs once, and matches syscall events against them.
//
// # Loading
//
// [Load] takes the files in order, as Falco does: later files may append to,
// override or redefine the lists, macros and rules of earlier ones. It returns
// the [Engine], a [Result] with every warning, and an error when the load
// failed. The error is a *[LoadError] naming the file, line, column, item and
// reason, with Falco's error code.
//
//	eng, res, err := rules.Load(rules.Options{}, rules.File{Name: "my_rules.yaml", Content: data})
//	if err != nil {
//		return err // "load rules: my_rules.yaml:12:5: rule 'X': ... (LOAD_ERR_COMPILE_CONDITION)"
//	}
//	for _, w := range res.Warnings {
//		logger.Warn("rules warning", "warning", w.String())
//	}
//
// # Matching
//
// An event source implements [Event] (see package fields for the extractor
// contract). [Engine.Match] runs only the rules whose event types include the
// event's type, in Falco's order, and appends the matching rules:
//
//	matches := eng.Match(ev, matches[:0])
//	for _, r := range matches {
//		a := r.Alert(ev, eventTime, hostname)
//		...
//	}
//
// [Engine.EventTypes] is the union of the event types of the enabled rules:
// the syscalls a sensor must capture.
//
// An Engine is immutable after Load and safe for concurrent use. Matching
// allocates nothing on the common path; a goroutine that matches many events
// can use a [Matcher] to skip the pool behind Engine.Match. Rendering an
// output (for a match) allocates the output string and its fields.
//
// # Differences from Falco
//
// The engine follows Falco's rule engine version 0.63.0 and loads the
// upstream rulesets unchanged. It does not implement Falco's JSON schema
// check of rules files, the multi-value transformers join, concat and
// getopt, or message snippets. It loads no plugins: a plugin version
// requirement that no plugin of [BuiltinPlugins] meets is a
// LOAD_PLUGIN_MISSING warning, where Falco fails the load. Rules of sources
// other than syscall load with Falco's LOAD_UNKNOWN_SOURCE warning and never
// match.
package rules
