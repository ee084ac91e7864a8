package filter

import (
	"strings"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/fields"
)

// literalWarnings warns about a literal value that names a field or looks
// like a transformer: the author probably meant val(...) or a transformer.
func (c *compiler) literalWarnings(l *condition.Literal) {
	text := strings.TrimSpace(l.Text)
	if looksLikeField(text) {
		c.warn("LOAD_COMPILE_CONDITION", "'"+l.Text+"' may be a valid field misused as a const string value", l.At)
		return
	}
	open := strings.IndexByte(text, '(')
	if open <= 0 || !strings.HasSuffix(text, ")") {
		return
	}
	switch text[:open] {
	case "tolower", "toupper", "b64", "basename", "len", "val":
	default:
		return
	}
	if looksLikeField(strings.TrimSpace(text[open+1 : len(text)-1])) {
		c.warn("LOAD_COMPILE_CONDITION", "'"+l.Text+"' may be a valid field transformer misused as a const string value", l.At)
	}
}

// looksLikeField reports whether s is a known field reference, with or
// without an argument.
func looksLikeField(s string) bool {
	if !strings.Contains(s, ".") {
		return false
	}
	name, arg, hasArg := s, "", false
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		name, arg, hasArg = s[:i], s[i+1:len(s)-1], true
	}
	_, err := fields.Resolve(name, arg, hasArg)
	return err == nil
}

// regexWarning warns when a regex could be a simpler operator: an anchored
// or unanchored plain string, optionally between .*, .+ or .? ends.
func (c *compiler) regexWarning(l *condition.Literal) {
	s := l.Text
	s = strings.TrimPrefix(s, "^")
	s = strings.TrimSuffix(s, "$")
	for _, p := range []string{".*", ".+", ".?"} {
		s = strings.TrimPrefix(s, p)
	}
	for _, p := range []string{".*", ".+", ".?"} {
		s = strings.TrimSuffix(s, p)
	}
	if s == "" || strings.ContainsAny(s, `.[]{}()*+?|^$\`) {
		return
	}
	c.warn("LOAD_COMPILE_CONDITION", "regex check with '"+l.Text+"' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'", l.At)
}

// UnsafeNAChecks returns the positions of checks that compare a k8s audit
// (ka.*) or JSON (jevt.*) field with the literal "<NA>", which Falco flags
// with LOAD_UNSAFE_NA_CHECK because those plugins never return "<NA>".
func UnsafeNAChecks(n condition.Node) []condition.Pos {
	var out []condition.Pos
	condition.Walk(n, func(n condition.Node) bool {
		c, ok := n.(*condition.Check)
		if !ok {
			return true
		}
		base := c.Left
		for {
			t, ok := base.(*condition.Transformer)
			if !ok {
				break
			}
			base = t.Arg
		}
		f, ok := base.(*condition.Field)
		if !ok || !(strings.HasPrefix(f.Name, "ka.") || strings.HasPrefix(f.Name, "jevt.")) {
			return true
		}
		switch r := c.Right.(type) {
		case *condition.Literal:
			if r.Text == "<NA>" {
				out = append(out, c.At)
			}
		case *condition.List:
			for _, it := range r.Items {
				if it.Text == "<NA>" {
					out = append(out, c.At)
					break
				}
			}
		}
		return true
	})
	return out
}
