package loader

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/rules/filter"
	"github.com/riposte-sec/riposte/rules/output"
)

// condError is a failure to compile a condition or output, located in the
// file.
type condError struct {
	code     string
	text     string
	line     int
	col      int
	itemType string
}

func (e *condError) Error() string { return e.text }

// macroState is the compile-time state of one macro.
type macroState struct {
	ast      condition.Node
	resolved condition.Node
	busy     bool
}

// compiler compiles the collection once.
type compiler struct {
	l       *loader
	c       *collection
	macros  map[string]*macroState
	filters *filter.Compiler
}

// compile compiles every list, macro and rule of the collection. It
// returns nil after recording an error.
func (l *loader) compile() *Ruleset {
	c := l.c
	c.compileLists()
	for _, m := range c.macros {
		m.used = false
	}

	k := &compiler{l: l, c: c, macros: make(map[string]*macroState, len(c.macros)), filters: filter.NewCompiler()}
	for _, m := range c.macros {
		text := c.substituteLists(m.cond)
		ast, err := condition.Parse(text, condition.RuleMaxDepth)
		if err != nil {
			l.fail(m.src, "macro", m.name, k.syntaxError(err, m.condSrc, m.cond, text, 0))
			return nil
		}
		k.macros[m.name] = &macroState{ast: ast}
	}

	for _, m := range c.macros {
		if _, err := k.resolveMacro(m); err != nil {
			l.fail(m.src, "macro", m.name, err)
			return nil
		}
	}

	set := &Ruleset{}
	for _, r := range c.rules {
		rule, err := k.rule(r)
		if err != nil {
			l.fail(r.src, "rule", r.name, err)
			return nil
		}
		set.Rules = append(set.Rules, rule)
	}

	k.filters.Finalize()
	for _, li := range c.lists {
		set.Lists = append(set.Lists, li.name)
		if !li.used {
			line, col := li.src.pos()
			l.warn(Message{Code: WarnUnusedList, Text: "List not referred to by any other rule/macro", File: li.src.file, Line: line, Column: col, ItemType: "list", ItemName: li.name})
		}
	}

	for _, m := range c.macros {
		set.Macros = append(set.Macros, m.name)
		if !m.used {
			line, col := m.src.pos()
			l.warn(Message{Code: WarnUnusedMacro, Text: "Macro not referred to by any other rule/macro", File: m.src.file, Line: line, Column: col, ItemType: "macro", ItemName: m.name})
		}
	}

	return set
}

// resolveMacro returns the macro's tree with the macros it references
// substituted. A macro can reference only macros first defined before its
// latest definition or append.
func (k *compiler) resolveMacro(m *macroDef) (condition.Node, error) {
	st := k.macros[m.name]
	if st.resolved != nil {
		return st.resolved, nil
	}
	if st.busy {
		return nil, &itemError{code: ErrValidate, text: "reference loop in macro '" + m.name + "'", node: m.condSrc.node}
	}
	st.busy = true
	defer func() { st.busy = false }()
	visible := func(name string) *macroDef {
		d := k.c.macroByName[name]
		if d == nil || d.firstSeq >= m.lastSeq {
			return nil
		}
		return d
	}
	n, err := k.resolve(condition.Clone(st.ast), visible, m.condSrc)
	if err != nil {
		return nil, err
	}
	st.resolved = n
	return n, nil
}

// resolve substitutes macro references in n.
func (k *compiler) resolve(n condition.Node, lookup func(string) *macroDef, src source) (condition.Node, error) {
	switch n := n.(type) {
	case *condition.Identifier:
		d := lookup(n.Name)
		if d == nil {
			line, col := src.pos()
			return nil, &condError{code: ErrValidate, text: "Undefined macro '" + n.Name + "' used in filter.", line: line, col: col}
		}
		d.used = true
		body, err := k.resolveMacro(d)
		if err != nil {
			return nil, err
		}
		body = condition.Clone(body)
		condition.Relocate(body, n.At)
		return body, nil
	case *condition.And:
		for i, c := range n.Children {
			r, err := k.resolve(c, lookup, src)
			if err != nil {
				return nil, err
			}
			n.Children[i] = r
		}
	case *condition.Or:
		for i, c := range n.Children {
			r, err := k.resolve(c, lookup, src)
			if err != nil {
				return nil, err
			}
			n.Children[i] = r
		}
	case *condition.Not:
		r, err := k.resolve(n.Child, lookup, src)
		if err != nil {
			return nil, err
		}
		n.Child = r
	}
	return n, nil
}

// rule compiles one rule: its exceptions, output and condition, in Falco's
// order. A rule of an unknown source, or one that skip-if-unknown-filter
// drops, comes back without a Filter.
func (k *compiler) rule(r *ruleDef) (*Rule, error) {
	out := &Rule{
		Name: r.name, Desc: r.desc, Condition: r.cond, Output: r.output, Priority: r.priority,
		Source: r.source, Tags: r.tags, Enabled: r.enabled, Capture: r.capture,
		CaptureDuration: r.captureDuration, WarnEvttypes: r.warnEvttypes, SkipIfUnknown: r.skipUnknown,
		File: r.src.file,
	}
	out.Line, out.Column = r.src.pos()
	for _, ex := range r.exceptions {
		out.ExceptionFields = append(out.ExceptionFields, ex.fields...)
	}

	rc := &ruleCompile{k: k, r: r, out: out}
	if r.source != "syscall" {
		rc.warn(WarnUnknownSource, "Unknown source "+r.source+", skipping", 0, 0)
		k.markUsage(r)
		return out, nil
	}

	cond, err := rc.conditionText()
	if err != nil {
		return nil, err
	}

	format, err := rc.output()
	if err != nil || format == nil {
		return rc.result(err)
	}

	f, err := rc.filter(cond)
	if err != nil || f == nil {
		return rc.result(err)
	}

	out.Filter = f
	out.Format = format
	out.EventTypes = f.EventTypes()
	if r.warnEvttypes && !out.EventTypes.Empty() && out.EventTypes.KernelCodes() > 100 {
		rc.warn(WarnNoEvttype, "Rule matches too many evt.type values. This has a significant performance penalty.", 0, 0)
	}
	return out, nil
}

// ruleCompile is the state of compiling one rule.
type ruleCompile struct {
	k   *compiler
	r   *ruleDef
	out *Rule
	// wrapped is the condition as the parser offsets refer to it, and shift
	// the length of the prefix the loader added to it.
	wrapped string
	shift   int
}

// result returns the rule without a filter when err is nil (a rule that
// skip-if-unknown-filter dropped), else the error.
func (rc *ruleCompile) result(err error) (*Rule, error) {
	if err != nil {
		return nil, err
	}
	return rc.out, nil
}

func (rc *ruleCompile) warn(code, text string, line, col int) {
	r := rc.r
	if line == 0 {
		line, col = r.src.pos()
	}
	rc.k.l.warn(Message{Code: code, Text: text, File: r.src.file, Line: line, Column: col, ItemType: "rule", ItemName: r.name})
}

// skipUnknown reports whether err is an unknown-field error that the rule's
// skip-if-unknown-filter turns into a warning, and warns if so.
func (rc *ruleCompile) skipUnknown(err error) bool {
	if !rc.r.skipUnknown || !errors.Is(err, fields.ErrUnknownField) {
		return false
	}
	rc.warn(WarnUnknownFilter, err.Error(), 0, 0)
	return true
}

// conditionText returns the condition with the exceptions appended.
func (rc *ruleCompile) conditionText() (string, error) {
	r := rc.r
	// Falco parenthesizes the condition only when the rule has exceptions,
	// so that syntax errors of plain conditions keep their messages.
	rc.wrapped, rc.shift = r.cond, 0
	if len(r.exceptions) > 0 {
		rc.wrapped, rc.shift = "("+r.cond+")", 1
	}

	cond := rc.wrapped
	for _, ex := range r.exceptions {
		text, err := ex.conditionText()
		if err != nil {
			return "", err
		}
		if text != "" {
			cond += " and not " + text
		}
	}
	return cond, nil
}

// output compiles the rule's output with the suggested and appended parts
// and the extra output fields. It returns a nil format when
// skip-if-unknown-filter drops the rule.
func (rc *ruleCompile) output() (*output.Format, error) {
	r, opts := rc.r, rc.k.l.opts
	text := r.output
	if opts.SuggestedOutput {
		text = withSuggested(text)
	}
	extras := map[string]string{}
	var typed []string
	for _, a := range opts.AppendOutput {
		if !a.selects(r) {
			continue
		}
		if a.Text != "" {
			text += " " + a.Text
		}
		for name, f := range a.Fields {
			extras[name] = f
		}
		for _, name := range a.FieldNames {
			typed = append(typed, "%"+name)
		}
	}

	format, warns, err := output.Compile(text)
	if err != nil {
		if rc.skipUnknown(err) {
			return nil, nil
		}
		return nil, &itemError{code: ErrCompileOutput, text: err.Error()}
	}
	for _, w := range warns {
		rc.warn(w.Code, w.Msg, 0, 0)
	}

	for name, f := range extras {
		ef, _, err := output.Compile(f)
		if err != nil {
			return nil, &itemError{code: ErrCompileOutput, text: "extra output field " + name + ": " + err.Error()}
		}
		if rc.out.Extra == nil {
			rc.out.Extra = map[string]*output.Format{}
		}
		rc.out.Extra[name] = ef
	}
	if len(typed) > 0 {
		ef, _, err := output.Compile(strings.Join(typed, " "))
		if err != nil {
			if rc.skipUnknown(err) {
				return nil, nil
			}
			return nil, &itemError{code: ErrCompileOutput, text: "extra output fields: " + err.Error()}
		}
		rc.out.ExtraFields = ef
	}
	return format, nil
}

// filter substitutes lists in cond, parses it, resolves its macros and
// compiles it. It returns a nil filter when skip-if-unknown-filter drops the
// rule.
func (rc *ruleCompile) filter(cond string) (*filter.Filter, error) {
	k, r := rc.k, rc.r
	text := k.c.substituteLists(cond)
	ast, err := condition.Parse(text, condition.RuleMaxDepth)
	if err != nil {
		return nil, k.syntaxError(err, r.condSrc, rc.wrapped, text, rc.shift)
	}

	all := func(name string) *macroDef { return k.c.macroByName[name] }
	ast, err = k.resolve(ast, all, r.condSrc)
	if err != nil {
		return nil, err
	}

	for _, p := range filter.UnsafeNAChecks(ast) {
		line, col := k.position(r.condSrc, rc.wrapped, text, p.Offset, rc.shift)
		rc.warn(WarnUnsafeNACheck, "comparing a field of this source with '<NA>' is unsafe: the field never has that value", line, col)
	}

	f, warns, err := k.filters.Compile(ast)
	for _, w := range warns {
		line, col := k.position(r.condSrc, rc.wrapped, text, w.Pos.Offset, rc.shift)
		rc.warn(w.Code, w.Msg, line, col)
	}
	if err == nil {
		return f, nil
	}
	if rc.skipUnknown(err) {
		return nil, nil
	}

	line, col := r.condSrc.pos()
	var ce *filter.CompileError
	if errors.As(err, &ce) {
		line, col = k.position(r.condSrc, rc.wrapped, text, ce.Pos.Offset, rc.shift)
	}
	return nil, &condError{code: ErrCompileCondition, text: err.Error(), line: line, col: col}
}

// withSuggested appends the suggested fields that the output does not
// print yet, as name_with_underscores=%name.
func withSuggested(out string) string {
	var b strings.Builder
	b.WriteString(out)
	for _, f := range suggestedFields {
		if strings.Contains(out, "%"+f) {
			continue
		}
		b.WriteString(" " + strings.ReplaceAll(f, ".", "_") + "=%" + f)
	}
	return b.String()
}

// markUsage substitutes lists and resolves macros in the condition of a
// rule that is not compiled, so that the lists and macros it uses do not
// get unused warnings.
func (k *compiler) markUsage(r *ruleDef) {
	text := k.c.substituteLists(r.cond)
	ast, err := condition.Parse(text, condition.RuleMaxDepth)
	if err != nil {
		return
	}
	all := func(name string) *macroDef { return k.c.macroByName[name] }
	_, _ = k.resolve(ast, all, r.condSrc)
}

// syntaxError locates a parse error in the file. shift is the length of the
// prefix the loader added before the condition text ("(" for rules).
func (k *compiler) syntaxError(err error, src source, orig, text string, shift int) error {
	var se *condition.SyntaxError
	line, col := src.pos()
	if errors.As(err, &se) {
		line, col = k.position(src, orig, text, se.Pos.Offset, shift)
	}
	return &condError{code: ErrCompileCondition, text: err.Error(), line: line, col: col}
}

// position maps an offset of the parsed text to a file position. When a list
// substitution changed the text before the offset, the offset no longer
// matches the file, so it returns the condition's position instead.
func (k *compiler) position(src source, orig, text string, off, shift int) (int, int) {
	line, col := src.pos()
	if src.node == nil || off < shift || off > len(orig) || off > len(text) || orig[:off] != text[:off] {
		return line, col
	}
	return mapOffset(src, off-shift)
}

// mapOffset maps a byte offset of a scalar's value to its line and column
// in the file, for plain, quoted and block scalars.
func mapOffset(src source, off int) (int, int) {
	n := src.node
	lines := src.text
	type segment struct {
		line, col int
		text      string
	}
	var segs []segment
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		indent := -1
		for i := n.Line; i < len(lines); i++ {
			raw := strings.TrimRight(lines[i], "\r")
			trimmed := strings.TrimLeft(raw, " ")
			if trimmed == "" {
				segs = append(segs, segment{line: i + 1, col: 1})
				continue
			}
			ind := len(raw) - len(trimmed)
			if indent < 0 {
				indent = ind
			}
			if ind < indent {
				break
			}
			segs = append(segs, segment{line: i + 1, col: indent + 1, text: raw[indent:]})
		}
	default:
		first := n.Column - 1
		if n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
			first++
		}
		for i := n.Line - 1; i < len(lines); i++ {
			raw := strings.TrimRight(lines[i], "\r")
			if i == n.Line-1 {
				if first > len(raw) {
					break
				}
				segs = append(segs, segment{line: i + 1, col: first + 1, text: raw[first:]})
				continue
			}
			trimmed := strings.TrimLeft(raw, " ")
			segs = append(segs, segment{line: i + 1, col: len(raw) - len(trimmed) + 1, text: trimmed})
		}
	}
	rest := off
	for _, s := range segs {
		if rest <= len(s.text) {
			return s.line, s.col + rest
		}
		rest -= len(s.text) + 1
	}
	return n.Line, n.Column
}
