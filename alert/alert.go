// Package alert defines Riposte's alert document, which is Falco's JSON alert
// format plus a uuid. The sensor produces alerts, the webhook accepts them from
// Falco and Falcosidekick, and the responder decides on them. The package depends
// on nothing else in Riposte, so that any part can import it.
package alert

import (
	"fmt"
	"strings"
	"time"
)

// Alert is one rule match, laid out as Falco's json_output writes it.
type Alert struct {
	// UUID identifies the alert across NATS, decisions and notifications.
	UUID string `json:"uuid"`
	// Time is the time of the event that matched, in UTC with nanoseconds.
	Time time.Time `json:"time"`
	// Rule is the name of the rule that matched.
	Rule string `json:"rule"`
	// Priority is the rule's priority.
	Priority Priority `json:"priority"`
	// Source is the event source, such as "syscall" or "k8s_audit".
	Source string `json:"source"`
	// Hostname is the node that produced the alert.
	Hostname string `json:"hostname"`
	// Output is the rule's output line, with its time and priority prefix.
	Output string `json:"output"`
	// OutputFields maps each field token of the output, as written, to its typed
	// value: a string, a number, a bool, a list, or nil when the value is missing.
	// Decoders keep numbers as json.Number so that nanosecond times stay exact.
	OutputFields map[string]any `json:"output_fields"`
	// Tags are the rule's tags, sorted.
	Tags []string `json:"tags"`
}

// Priority is a Falco rule priority. The zero value is PriorityEmergency, the most severe,
// and larger values are less severe, as in syslog.
type Priority int

// Falco's priorities, most severe first.
const (
	PriorityEmergency Priority = iota
	PriorityAlert
	PriorityCritical
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInformational
	PriorityDebug
)

var priorityNames = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// String returns the long name Falco prints, such as "Warning".
func (p Priority) String() string {
	if p < 0 || int(p) >= len(priorityNames) {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// ParsePriority parses a priority name case-insensitively, accepting every
// spelling Falco accepts, including "INFO" for PriorityInformational.
func ParsePriority(s string) (Priority, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "info" {
		return PriorityInformational, nil
	}
	for i, n := range priorityNames {
		if strings.ToLower(n) == name {
			return Priority(i), nil
		}
	}
	return 0, fmt.Errorf("invalid priority %q: use one of emergency, alert, critical, error, warning, notice, informational (or info), debug", s)
}

// MarshalText encodes the priority as its long name.
func (p Priority) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(priorityNames) {
		return nil, fmt.Errorf("invalid priority %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText decodes any spelling that ParsePriority accepts.
func (p *Priority) UnmarshalText(text []byte) error {
	v, err := ParsePriority(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
