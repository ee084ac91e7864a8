package rules

import (
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/filter"
	"github.com/riposte-sec/riposte/rules/loader"
	"github.com/riposte-sec/riposte/rules/output"
)

// Rule is one loaded rule. Its exported fields describe it; the caller must
// not modify them.
type Rule struct {
	// Name is the rule name.
	Name string
	// Desc is the rule description.
	Desc string
	// Condition is the condition text after appends, before exceptions,
	// list substitution and macro expansion.
	Condition string
	// Compiled is the canonical form of the compiled condition, with
	// exceptions, lists and macros expanded, as Falco prints it. It is empty
	// for rules of a source this engine does not have.
	Compiled string
	// Output is the output format, trimmed of surrounding blanks.
	Output string
	// Priority is the rule priority.
	Priority alert.Priority
	// Source is the event source, such as "syscall".
	Source string
	// Tags are the rule tags, sorted and without duplicates.
	Tags []string
	// Enabled reports whether Match runs the rule: enabled in the files,
	// at least as severe as Options.MinPriority, selected by the tag and name
	// options, and of a source this engine has.
	Enabled bool
	// EventTypes are the event types for which the condition can be true;
	// the full set for rules that apply to every event type.
	EventTypes evttype.Set
	// Capture and CaptureDuration (milliseconds) are the rule's capture
	// settings; Riposte records them but does not write capture files.
	Capture         bool
	CaptureDuration uint64

	rule   *loader.Rule
	filter *filter.Filter
	iso    bool
}

// Rendered is a rule output rendered for one event.
type Rendered struct {
	// Message is the output text, with "<NA>" for missing values.
	Message string
	// Fields maps every field token of the output, as written (such as
	// "proc.aname[2]"), to its typed value: string, bool, int64, uint64,
	// a []any for fields with several values, or nil when missing.
	Fields map[string]any
}

// Render renders the rule's output for ev.
func (r *Rule) Render(ev Event) Rendered {
	if r.rule == nil || r.rule.Format == nil {
		return Rendered{Message: r.Output, Fields: map[string]any{}}
	}
	msg, fields := r.rule.Format.Render(ev)
	for name, f := range r.rule.Extra {
		fields[name], _ = f.Render(ev)
	}
	if r.rule.ExtraFields != nil {
		_, extra := r.rule.ExtraFields.Render(ev)
		for name, value := range extra {
			if _, ok := fields[name]; !ok {
				fields[name] = value
			}
		}
	}
	return Rendered{Message: msg, Fields: fields}
}

// Alert builds the Falco alert for a match of r on ev, which happened at t.
// The output line starts with the time and priority as Falco prints them.
// Output fields include the time field in nanoseconds: evt.time, or
// evt.time.iso8601 with Options.TimeFormatISO8601. An empty hostname is
// replaced by FALCO_HOSTNAME or the system host name.
func (r *Rule) Alert(ev Event, t time.Time, hostname string) alert.Alert {
	out := r.Render(ev)
	timeField := "evt.time"
	if r.iso {
		timeField = "evt.time.iso8601"
	}
	out.Fields[timeField] = t.UnixNano()
	if hostname == "" {
		hostname = Hostname()
	}
	tags := r.Tags
	if tags == nil {
		tags = []string{}
	}
	return alert.Alert{
		UUID:         uuid.NewString(),
		Time:         t.UTC(),
		Rule:         r.Name,
		Priority:     r.Priority,
		Source:       r.Source,
		Hostname:     hostname,
		Output:       output.Line(t, r.iso, r.Priority.String(), out.Message),
		OutputFields: out.Fields,
		Tags:         tags,
	}
}

// Hostname returns the host name alerts carry: FALCO_HOSTNAME when set,
// else the system host name.
func Hostname() string {
	if h := os.Getenv("FALCO_HOSTNAME"); h != "" {
		return h
	}
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
