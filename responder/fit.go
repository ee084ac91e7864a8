package responder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// headerRoom is the part of NATS's maximum payload kept for the subject and
// headers of a decision message, which count against the same limit.
const headerRoom = 1024

// fitDecision returns the encoded decision data unchanged when it fits in
// maxPayload bytes. Otherwise it shortens the strings of the record, such as
// a reason that quotes a huge output field, until it fits, and marks it
// "truncated". NATS rejects a message over its limit, and every alert must
// keep a decision on the stream. When even short strings do not fit, as
// with thousands of actions, the record keeps the alert, outcome and an
// error naming the sizes, without its actions.
func fitDecision(d *Decision, data []byte, maxPayload int64) []byte {
	limit := int(maxPayload) - headerRoom
	if maxPayload <= 0 || len(data) <= limit {
		return data
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err == nil {
		for _, maxLen := range []int{4096, 256, 64} {
			short, _ := shortenStrings(doc, maxLen).(map[string]any)
			short["truncated"] = true
			if out, err := json.Marshal(short); err == nil && len(out) <= limit {
				return out
			}
		}
	}
	minimal := Decision{
		AlertUUID:      d.AlertUUID,
		Rule:           shorten(d.Rule, 256),
		Priority:       d.Priority,
		Hostname:       shorten(d.Hostname, 256),
		Outcome:        d.Outcome,
		DryRun:         d.DryRun,
		PolicyRevision: d.PolicyRevision,
		Actions:        []ActionRecord{},
		Responder:      shorten(d.Responder, 256),
		Delivery:       d.Delivery,
		Time:           d.Time,
		Timings:        d.Timings,
		Truncated:      true,
		Error: fmt.Sprintf("the decision, %d bytes with %d actions, exceeds the NATS maximum payload of %d bytes even with shortened strings, so its actions are only in the responder's log",
			len(data), len(d.Actions), maxPayload),
	}
	out, err := json.Marshal(minimal)
	if err != nil {
		return data // Not reached: the minimal record has only plain fields.
	}
	return out
}

// keptWhole are the keys of a decision record whose values identify the
// alert, the policies or an action, or must parse, so they are never
// shortened. None of them is long in a valid decision.
var keptWhole = map[string]bool{
	"alert_uuid": true, "policy_revision": true, "time": true, "outcome": true,
	"policy": true, "actionner": true, "kind": true, "pid": true, "guard": true,
	"effect": true, "idempotency_key": true,
}

// shortenStrings returns a copy of a decoded JSON value with every string,
// object key included, of over maxLen bytes shortened, except the values of
// keptWhole keys.
func shortenStrings(v any, maxLen int) any {
	switch x := v.(type) {
	case string:
		return shorten(x, maxLen)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = shortenStrings(item, maxLen)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for key, item := range x {
			if keptWhole[key] {
				out[key] = item
				continue
			}
			out[shorten(key, maxLen)] = shortenStrings(item, maxLen)
		}
		return out
	}
	return v
}

// shorten cuts s to at most maxLen bytes, at a character boundary, and
// appends how many bytes were cut.
func shorten(s string, maxLen int) string {
	if len(s) <= maxLen {
		return s
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...(%d bytes cut)", s[:cut], len(s)-cut)
}
