// Package loader reads Falco rules files into a compiled ruleset. It decodes
// the YAML items (lists, macros, rules, version requirements) and applies
// appends, overrides and redefinitions across files in order. Then it builds
// exceptions, substitutes lists, resolves macros, and compiles conditions and
// outputs. Errors and warnings carry Falco's codes.
package loader

import (
	"errors"
	"fmt"
	"strings"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/filter"
	"github.com/riposte-sec/riposte/rules/output"
)

// EngineVersion is the Falco engine version implemented, checked against
// required_engine_version items. It is the version of Falco's rule engine
// (July 2026) whose language this package follows; the upstream stable
// rules require 0.57.0.
const EngineVersion = "0.63.0"

// Error codes, as Falco's load results name them.
const (
	ErrFileRead         = "LOAD_ERR_FILE_READ"
	ErrYAMLParse        = "LOAD_ERR_YAML_PARSE"
	ErrYAMLValidate     = "LOAD_ERR_YAML_VALIDATE"
	ErrCompileCondition = "LOAD_ERR_COMPILE_CONDITION"
	ErrCompileOutput    = "LOAD_ERR_COMPILE_OUTPUT"
	ErrValidate         = "LOAD_ERR_VALIDATE"
	ErrExtension        = "LOAD_ERR_EXTENSION"
)

// Warning codes, as Falco's load results name them.
const (
	WarnUnknownSource          = "LOAD_UNKNOWN_SOURCE"
	WarnUnsafeNACheck          = "LOAD_UNSAFE_NA_CHECK"
	WarnNoEvttype              = "LOAD_NO_EVTTYPE"
	WarnUnknownFilter          = "LOAD_UNKNOWN_FILTER"
	WarnUnusedMacro            = "LOAD_UNUSED_MACRO"
	WarnUnusedList             = "LOAD_UNUSED_LIST"
	WarnUnknownItem            = "LOAD_UNKNOWN_ITEM"
	WarnDeprecatedItem         = "LOAD_DEPRECATED_ITEM"
	WarnExtension              = "LOAD_WARNING_EXTENSION"
	WarnAppendNoValues         = "LOAD_APPEND_NO_VALUES"
	WarnExceptionNameNotUnique = "LOAD_EXCEPTION_NAME_NOT_UNIQUE"
	WarnInvalidMacroName       = "LOAD_INVALID_MACRO_NAME"
	WarnInvalidListName        = "LOAD_INVALID_LIST_NAME"
	WarnCompileCondition       = "LOAD_COMPILE_CONDITION"
	WarnUnknownKey             = "LOAD_UNKNOWN_KEY"
	// WarnPluginMissing is Riposte's own code, for a required_plugin_versions
	// entry that no plugin built into the engine meets. Falco stops with
	// "Plugin requirement not satisfied" instead, but Riposte cannot load
	// plugins, and the upstream k8s_audit_rules.yaml requires two.
	WarnPluginMissing = "LOAD_PLUGIN_MISSING"
)

// File is one rules file: its name, used in messages, and its YAML content.
type File struct {
	Name    string
	Content []byte
}

// Message is one error or warning of a load.
type Message struct {
	// Code is Falco's code, such as LOAD_ERR_COMPILE_CONDITION.
	Code string
	// Text is the message, in Falco's words where Falco has them.
	Text string
	// File is the name of the file; Line and Column (1-based) locate the
	// item or value the message is about, or are 0 when unknown.
	File   string
	Line   int
	Column int
	// ItemType is the kind of item, such as "rule", "macro", "list",
	// "exception", "required_engine_version" or "rules content".
	ItemType string
	// ItemName is the name of the item; empty when it has none.
	ItemName string
}

// String formats the message as "file:line:column: item type 'name': text
// (CODE)".
func (m Message) String() string {
	var b strings.Builder
	b.WriteString(m.File)
	if m.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", m.Line, m.Column)
	}
	b.WriteString(": ")
	if m.ItemType != "" {
		b.WriteString(m.ItemType)
		if m.ItemName != "" {
			fmt.Fprintf(&b, " '%s'", m.ItemName)
		}
		b.WriteString(": ")
	}
	b.WriteString(m.Text)
	fmt.Fprintf(&b, " (%s)", m.Code)
	return b.String()
}

// LoadError is the error of a failed load: its first error message.
type LoadError struct {
	Message
}

func (e *LoadError) Error() string { return "load rules: " + e.Message.String() }

// ErrLoad is the sentinel every *LoadError matches through errors.Is.
var ErrLoad = errors.New("load rules")

// Is makes errors.Is(err, ErrLoad) true.
func (e *LoadError) Is(target error) bool { return target == ErrLoad }

// Result lists the errors and warnings of a load in order. A load stops at
// its first error, so Errors has at most one message.
type Result struct {
	Errors   []Message
	Warnings []Message
	// Lists, Macros and Rules count the distinct items loaded.
	Lists, Macros, Rules int
	// RequiredEngineVersion is the highest required_engine_version seen.
	RequiredEngineVersion string
	// PluginRequirements are the required_plugin_versions entries seen.
	PluginRequirements []PluginRequirement
}

// PluginRequirement is one required_plugin_versions entry: it is met by
// any of its alternatives at a compatible version.
type PluginRequirement struct {
	Alternatives []PluginVersion
	// File, Line and Column locate the entry.
	File         string
	Line, Column int
}

// PluginVersion is a plugin name and semver version.
type PluginVersion struct {
	Name    string
	Version string
}

// Err returns the first error as a *LoadError, or nil.
func (r *Result) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	return &LoadError{Message: r.Errors[0]}
}

// Successful reports whether the load had no error.
func (r *Result) Successful() bool { return len(r.Errors) == 0 }

// Ruleset is the compiled outcome of a load.
type Ruleset struct {
	// Rules are every rule in rule order (order of first definition).
	Rules []*Rule
	// Lists and Macros are the names of the loaded lists and macros, in
	// order of first definition.
	Lists, Macros []string
}

// Rule is one compiled rule.
type Rule struct {
	Name            string
	Desc            string
	Condition       string
	Output          string
	Priority        alert.Priority
	Source          string
	Tags            []string
	Enabled         bool
	Capture         bool
	CaptureDuration uint64
	WarnEvttypes    bool
	SkipIfUnknown   bool
	// ExceptionFields are the fields the rule's exceptions compare.
	ExceptionFields []string
	// EventTypes are the event types the condition can match.
	EventTypes evttype.Set
	// Filter is the compiled condition; nil for rules of a source this
	// engine does not have and rules skipped by skip-if-unknown-filter.
	Filter *filter.Filter
	// Format is the compiled output; nil when Filter is nil.
	Format *output.Format
	// Extra are the extra output fields of Options.AppendOutput, by name.
	Extra map[string]*output.Format
	// ExtraFields renders the typed fields of AppendOutput.FieldNames;
	// nil when no entry names one.
	ExtraFields *output.Format
	// File, Line and Column locate the rule's first definition.
	File         string
	Line, Column int
}

// Compiled returns the canonical form of the compiled condition, or "".
func (r *Rule) Compiled() string {
	if r.Filter == nil {
		return ""
	}
	return r.Filter.String()
}

// CheckPluginRequirements checks requirements against the loaded plugins
// (name to semver version). A requirement is met when any of its
// alternatives is loaded with the same major version and at least the
// required version. Every requirement for the same plugin must be met.
func CheckPluginRequirements(reqs []PluginRequirement, loaded map[string]string) error {
	for _, req := range reqs {
		met := false
		for _, alt := range req.Alternatives {
			if v, ok := loaded[alt.Name]; ok && semverRE.MatchString(v) && compatible(v, alt.Version) {
				met = true
				break
			}
		}
		if !met {
			parts := make([]string, len(req.Alternatives))
			for i, alt := range req.Alternatives {
				parts[i] = alt.Name + " (>= " + alt.Version + ")"
			}
			return errors.New("Plugin requirement not satisfied, must load one of: " + strings.Join(parts, ", "))
		}
	}
	return nil
}
