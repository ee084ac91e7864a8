package transport

import (
	"strings"

	"github.com/riposte-sec/riposte/alert"
)

// Subjects, streams and buckets that Riposte uses. The package comment
// describes the scheme.
const (
	AlertsSubjectPrefix    = "riposte.alerts"
	DecisionsSubjectPrefix = "riposte.decisions"
	DeadLetterSubject      = "riposte.deadletter.alerts"

	AlertsStream     = "RIPOSTE_ALERTS"
	DecisionsStream  = "RIPOSTE_DECISIONS"
	DeadLetterStream = "RIPOSTE_DEADLETTER"

	ActionsBucket = "riposte_actions"
	// CooldownBucket holds cooldowns shared by responders, created by a
	// responder whose guards set SharedCooldown.
	CooldownBucket = "riposte_cooldowns"

	// ErrorHeader carries the reason a message was dead-lettered.
	ErrorHeader = "Riposte-Error"
	// SubjectHeader carries the original subject of a dead-lettered alert.
	SubjectHeader = "Riposte-Subject"
)

// maxRuleToken is the longest rule token in bytes.
const maxRuleToken = 64

// RuleToken turns a rule name into one valid subject token: lower case a-z,
// 0-9 and single underscores, at most 64 bytes, or "unnamed" when nothing is
// left.
func RuleToken(rule string) string {
	var b strings.Builder
	b.Grow(min(len(rule), maxRuleToken))
	pendingUnderscore := false
	for _, r := range strings.ToLower(rule) {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !ok {
			pendingUnderscore = b.Len() > 0
			continue
		}
		if pendingUnderscore {
			if b.Len()+2 > maxRuleToken {
				break
			}
			b.WriteByte('_')
			pendingUnderscore = false
		}
		if b.Len()+1 > maxRuleToken {
			break
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "unnamed"
	}
	return b.String()
}

// AlertSubject returns the subject for an alert, such as
// "riposte.alerts.warning.shell_spawned_in_a_container".
func AlertSubject(a *alert.Alert) string {
	return AlertsSubjectPrefix + "." + strings.ToLower(a.Priority.String()) + "." + RuleToken(a.Rule)
}

// DecisionSubject returns the subject for a decision with the given outcome,
// such as "riposte.decisions.dry-run".
func DecisionSubject(outcome string) string {
	return DecisionsSubjectPrefix + "." + OutcomeToken(outcome)
}

// OutcomeToken turns a decision outcome into a subject token. Outcomes are
// already valid tokens, so this only guards against an empty value or one
// with a space, dot or wildcard.
func OutcomeToken(outcome string) string {
	if outcome == "" {
		return "unknown"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '*', '>', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, outcome)
}
