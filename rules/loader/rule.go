package loader

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/riposte-sec/riposte/alert"
)

type ruleDef struct {
	name            string
	desc            string
	cond            string
	output          string
	priority        alert.Priority
	source          string
	tags            []string
	enabled         bool
	capture         bool
	captureDuration uint64
	warnEvttypes    bool
	skipUnknown     bool
	exceptions      []*exception
	src             source
	condSrc         source
}

var (
	ruleAppendable  = set("condition", "output", "desc", "tags", "exceptions")
	ruleReplaceable = set("condition", "output", "desc", "priority", "capture", "capture_duration", "tags",
		"exceptions", "enabled", "warn_evttypes", "skip-if-unknown-filter")
)

func (l *loader) rule(src source, m *mapping) error {
	name, _, err := m.nonEmpty("rule")
	if err != nil {
		return err
	}
	app, err := l.appendFlag(src, m, "rule", name)
	if err != nil {
		return err
	}
	ov, order, err := overrides(m, ruleAppendable, ruleReplaceable)
	if err != nil {
		return err
	}
	switch {
	case ov != nil:
		return l.overrideRule(src, m, name, ov, order)
	case app:
		return l.appendRule(src, m, name)
	}
	if !m.has("condition") && !m.has("output") && !m.has("desc") && !m.has("priority") {
		return l.standaloneEnabled(src, m, name)
	}
	return l.defineRule(src, m, name)
}

// sourceOf returns the item's source key, "" when absent or empty.
func sourceOf(m *mapping) (string, error) {
	s, _, err := m.optScalar("source")
	return s, err
}

func checkSource(m *mapping, old *ruleDef, newSource string) error {
	if newSource != "" && old.source != "" && newSource != old.source {
		return semanticErr(m.get("source"), "Rule has been re-defined with a different source")
	}
	return nil
}

func (l *loader) defineRule(src source, m *mapping, name string) error {
	r := &ruleDef{name: name, src: src, enabled: true, warnEvttypes: true, source: "syscall"}
	cond, condNode, err := m.nonEmpty("condition")
	if err != nil {
		return err
	}

	r.cond = cond
	r.condSrc = source{file: src.file, node: condNode, text: src.text}
	out, _, err := m.scalar("output")
	if err != nil {
		return err
	}

	r.output = strings.TrimSpace(out)
	if r.desc, _, err = m.scalar("desc"); err != nil {
		return err
	}

	prio, pn, err := m.nonEmpty("priority")
	if err != nil {
		return err
	}

	if r.priority, err = parsePriority(prio, pn); err != nil {
		return err
	}

	s, err := sourceOf(m)
	if err != nil {
		return err
	}

	if s != "" {
		r.source = s
	}

	if err := l.ruleOptions(m, r, nil); err != nil {
		return err
	}

	if ex := m.get("exceptions"); !isNull(ex) {
		r.exceptions, err = l.parseExceptions(src, ex, r, true)
		if err != nil {
			return err
		}
	}

	old := l.c.ruleByName[name]
	if old == nil {
		l.c.rules = append(l.c.rules, r)
		l.c.ruleByName[name] = r
		return nil
	}

	if err := checkSource(m, old, s); err != nil {
		return err
	}

	r.src = old.src
	*old = *r
	return nil
}

func parsePriority(s string, n *yaml.Node) (alert.Priority, error) {
	if strings.TrimSpace(s) != s {
		return 0, validateErr(n, "Invalid priority")
	}
	p, err := alert.ParsePriority(s)
	if err != nil {
		return 0, validateErr(n, "Invalid priority")
	}
	return p, nil
}

// ruleOptions decodes the optional keys of a rule; only is the set of keys
// to read, or nil for all.
func (l *loader) ruleOptions(m *mapping, r *ruleDef, only map[string]bool) error {
	want := func(k string) bool { return only == nil || only[k] }
	var err error
	if want("enabled") {
		if v, ok, e := m.optBool("enabled"); e != nil {
			return e
		} else if ok {
			r.enabled = v
		}
	}
	if want("capture") {
		if v, ok, e := m.optBool("capture"); e != nil {
			return e
		} else if ok {
			r.capture = v
		}
	}
	if want("capture_duration") {
		if v, ok, e := m.optUint("capture_duration"); e != nil {
			return e
		} else if ok {
			r.captureDuration = v
		}
	}
	if want("warn_evttypes") {
		if v, ok, e := m.optBool("warn_evttypes"); e != nil {
			return e
		} else if ok {
			r.warnEvttypes = v
		}
	}
	if want("skip-if-unknown-filter") {
		if v, ok, e := m.optBool("skip-if-unknown-filter"); e != nil {
			return e
		} else if ok {
			r.skipUnknown = v
		}
	}
	if want("tags") {
		if v := m.get("tags"); !isNull(v) {
			var tags []string
			if tags, err = scalarSeq(v); err != nil {
				return err
			}
			r.tags = sortedSet(tags)
		} else if v != nil {
			r.tags = nil
		}
	}
	return nil
}

func sortedSet(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := append([]string(nil), tags...)
	sort.Strings(out)
	n := 0
	for i, t := range out {
		if i == 0 || t != out[n-1] {
			out[n] = t
			n++
		}
	}
	return out[:n]
}

func (l *loader) standaloneEnabled(src source, m *mapping, name string) error {
	en, ok, err := m.optBool("enabled")
	if err != nil {
		return err
	}
	if !ok {
		return validateErr(m.node, "Item has no mapping for key 'enabled'")
	}
	old := l.c.ruleByName[name]
	if old == nil {
		return semanticErr(m.node, "Rule has 'enabled' key but no rule by that name already exists")
	}
	line, col := src.pos()
	l.warn(Message{
		Code: WarnDeprecatedItem, Text: "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').",
		File: src.file, Line: line, Column: col, ItemType: "rule", ItemName: name,
	})
	old.enabled = en
	return nil
}

func (l *loader) appendRule(src source, m *mapping, name string) error {
	old := l.c.ruleByName[name]
	if old == nil {
		return semanticErr(m.node, "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists")
	}
	s, err := sourceOf(m)
	if err != nil {
		return err
	}
	if err := checkSource(m, old, s); err != nil {
		return err
	}
	hasCond, hasEx := m.has("condition"), m.has("exceptions")
	if !hasCond && !hasEx {
		return semanticErr(m.node, "Appended rule must have exceptions or condition property")
	}
	if hasCond {
		cond, _, err := m.scalar("condition")
		if err != nil {
			return err
		}
		old.cond += " " + cond
	}
	if hasEx {
		if err := l.appendExceptions(src, m.get("exceptions"), old); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) overrideRule(src source, m *mapping, name string, ov map[string]string, order []string) error {
	if len(order) == 0 {
		return validateErr(m.get("override"), "The rule must have at least one field that can be replaced")
	}

	for _, k := range order {
		if !m.has(k) {
			kind := "An append"
			if ov[k] == "replace" {
				kind = "A replace"
			}
			return validateErr(m.get("override"), kind+" override for '"+k+"' was specified but '"+k+"' is not defined")
		}
	}

	for _, e := range m.entries {
		k := e.key.Value
		if (ruleAppendable[k] || ruleReplaceable[k]) && ov[k] == "" {
			return validateErr(e.key, "Unexpected key '"+k+"': no corresponding entry under 'override' is defined.")
		}
	}

	old := l.c.ruleByName[name]
	if old == nil {
		for _, k := range order {
			if ov[k] == "append" {
				return semanticErr(m.node, "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists")
			}
		}
		return semanticErr(m.node, "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists")
	}

	s, err := sourceOf(m)
	if err != nil {
		return err
	}

	if err := checkSource(m, old, s); err != nil {
		return err
	}

	// Appends first, then replaces.
	for _, k := range order {
		if ov[k] != "append" {
			continue
		}
		if err := l.appendKey(src, m, old, k); err != nil {
			return err
		}
	}

	for _, k := range order {
		if ov[k] != "replace" {
			continue
		}
		if err := l.replaceKey(src, m, old, k); err != nil {
			return err
		}
	}

	return nil
}

func (l *loader) appendKey(src source, m *mapping, r *ruleDef, k string) error {
	switch k {
	case "condition", "output", "desc":
		v, _, err := m.scalar(k)
		if err != nil {
			return err
		}
		switch k {
		case "condition":
			r.cond += " " + v
		case "output":
			r.output = strings.TrimSpace(r.output + " " + strings.TrimSpace(v))
		case "desc":
			r.desc += " " + v
		}
	case "tags":
		tags, err := scalarSeq(m.get("tags"))
		if err != nil {
			return err
		}
		r.tags = sortedSet(append(append([]string(nil), r.tags...), tags...))
	case "exceptions":
		return l.appendExceptions(src, m.get("exceptions"), r)
	}
	return nil
}

func (l *loader) replaceKey(src source, m *mapping, r *ruleDef, k string) error {
	switch k {
	case "condition":
		v, n, err := m.nonEmpty(k)
		if err != nil {
			return err
		}
		r.cond = v
		r.condSrc = source{file: src.file, node: n, text: src.text}
	case "output":
		v, _, err := m.scalar(k)
		if err != nil {
			return err
		}
		r.output = strings.TrimSpace(v)
	case "desc":
		v, _, err := m.scalar(k)
		if err != nil {
			return err
		}
		r.desc = v
	case "priority":
		v, n, err := m.nonEmpty(k)
		if err != nil {
			return err
		}
		if r.priority, err = parsePriority(v, n); err != nil {
			return err
		}
	case "exceptions":
		ex := m.get(k)
		if isNull(ex) {
			r.exceptions = nil
			return nil
		}
		exs, err := l.parseExceptions(src, ex, r, false)
		if err != nil {
			return err
		}
		r.exceptions = exs
	default:
		return l.ruleOptions(m, r, set(k))
	}
	return nil
}
