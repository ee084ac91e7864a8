// Package filter compiles condition trees into evaluators that match events
// without map lookups or allocations on the common path, checks field types
// and operators at compile time as Falco does, and derives the event types a
// condition can match.
package filter

import (
	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
	"strconv"
)

// Filter is a compiled condition. It is immutable and safe for concurrent use.
type Filter struct {
	root  evaluator
	types evttype.Set
	text  string
	c     *Compiler
	refs  []*fields.Ref
	node  condition.Node
	// guard is the result slot of the first conjunct of root when that
	// conjunct is shared, or -1. A false result another filter computed for
	// the same event settles this filter without evaluating it.
	guard int
}

// Scratch is the reusable state of evaluations: value buffers and the
// results of subexpressions shared by several filters, valid for one event.
// A Scratch must not be used by two evaluations at the same time; keep one
// per goroutine or pool them.
type Scratch struct {
	typ    evttype.Type
	vals   []fields.Value
	other  []fields.Value
	gen    uint64
	memo   []memoEntry
	fields []fieldEntry
	arena  []fields.Value
}

// fieldEntry locates the cached values of one field in the arena.
type fieldEntry struct {
	gen        uint64
	start, end int32
}

type memoEntry struct {
	gen uint64
	val bool
}

// NewScratch returns a Scratch with room for typical field values.
func NewScratch() *Scratch {
	return &Scratch{
		vals:  make([]fields.Value, 0, 16),
		other: make([]fields.Value, 0, 16),
		arena: make([]fields.Value, 0, 64),
	}
}

// NextEvent starts the evaluations of a new event of type t: it drops the
// shared results and field values of the previous event.
func (s *Scratch) NextEvent(t evttype.Type) {
	s.typ = t
	s.gen++
	s.arena = s.arena[:0]
}

// Match reports whether ev satisfies the filter. It treats ev as a new event.
func (f *Filter) Match(ev fields.Event, s *Scratch) bool {
	s.NextEvent(ev.Type())
	return f.MatchCurrent(ev, s)
}

// MatchCurrent reports whether ev satisfies the filter, reusing the results
// of subexpressions that filters of the same Compiler already computed for
// ev since the last NextEvent, which must have been given ev's type. Events
// whose type is not among the filter's event types do not match. The
// compiled evaluators rely on that, because they fold event-type checks to
// constants for those types. Evaluating several filters of one Compiler on
// one event this way evaluates each shared subexpression (a macro used by
// many rules, say) once.
func (f *Filter) MatchCurrent(ev fields.Event, s *Scratch) bool {
	if len(s.memo) < f.c.slots || len(s.fields) < f.c.fieldSlots {
		s.grow(f.c)
	}
	if !f.types.Has(s.typ) {
		return false
	}
	if f.guard >= 0 {
		if e := &s.memo[f.guard]; e.gen == s.gen && !e.val {
			return false
		}
	}
	return f.root.eval(ev, s)
}

func (s *Scratch) grow(c *Compiler) {
	if len(s.memo) < c.slots {
		s.memo = make([]memoEntry, c.slots)
	}
	if len(s.fields) < c.fieldSlots {
		s.fields = make([]fieldEntry, c.fieldSlots)
	}
}

// Fields returns the field references the filter reads, each once.
func (f *Filter) Fields() []*fields.Ref { return f.refs }

// Values returns the values that the filter compares the field id with, as
// written in the condition, where the field has no argument or transformer.
// They are the right side of "=", "!=" and the string operators, and the
// items of "in" and "intersects" lists. A sensor uses them to prepare
// lookups, such as the host names of fd.sip.name.
func (f *Filter) Values(id fields.ID) []string {
	var out []string
	condition.Walk(f.node, func(n condition.Node) bool {
		c, ok := n.(*condition.Check)
		if !ok {
			return true
		}
		left, ok := c.Left.(*condition.Field)
		if !ok || left.HasArg {
			return true
		}
		ref, err := fields.Resolve(left.Name, left.Arg, left.HasArg)
		if err != nil || ref.Field != id {
			return true
		}
		switch r := c.Right.(type) {
		case *condition.Literal:
			out = append(out, r.Text)
		case *condition.List:
			for _, it := range r.Items {
				out = append(out, it.Text)
			}
		}
		return true
	})
	return out
}

// EventTypes returns the event types for which the filter can be true; the
// full set when it does not restrict them.
func (f *Filter) EventTypes() evttype.Set { return f.types }

// String returns the canonical form of the compiled condition.
func (f *Filter) String() string { return f.text }

// Warning is a compile-time warning with Falco's code.
type Warning struct {
	// Code is a Falco warning code, such as "LOAD_COMPILE_CONDITION".
	Code string
	// Msg is the warning text.
	Msg string
	// Pos is the position of the node the warning is about.
	Pos condition.Pos
}

// Compiler compiles the filters of one ruleset. Identical subexpressions of
// its filters (same canonical form) share one evaluator, and those used more
// than once remember their result per event in the Scratch. Call Finalize
// after the last Compile and before matching.
type Compiler struct {
	interned   map[string]*memoEval
	slots      int
	fieldIndex map[string]int
	fieldSlots int
	finalized  bool
	filters    []*Filter
	nfilters   int
}

// NewCompiler returns an empty Compiler.
func NewCompiler() *Compiler {
	return &Compiler{interned: map[string]*memoEval{}, fieldIndex: map[string]int{}}
}

// fieldSlot returns the field cache slot of a field reference.
func (c *Compiler) fieldSlot(text string) int {
	if i, ok := c.fieldIndex[text]; ok {
		return i
	}
	c.fieldIndex[text] = c.fieldSlots
	c.fieldSlots++
	return c.fieldSlots - 1
}

// Compile compiles a condition tree whose macros are already resolved. The
// error is a *CompileError; errors about unknown fields or event types also
// match fields.ErrUnknownField through errors.Is.
func Compile(n condition.Node) (*Filter, []Warning, error) {
	c := NewCompiler()
	f, w, err := c.Compile(n)
	c.Finalize()
	return f, w, err
}

// Compile compiles one condition tree of the ruleset.
func (c *Compiler) Compile(n condition.Node) (*Filter, []Warning, error) {
	if c.finalized {
		panic("filter: Compile called after Finalize")
	}
	types, typesErr := EventTypes(n)
	c.nfilters++
	k := &compiler{c: c, id: c.nfilters, types: types}
	root, err := k.node(n)
	if err != nil {
		return nil, k.warnings, err
	}
	if typesErr != nil {
		return nil, k.warnings, typesErr
	}
	f := &Filter{root: root, types: types, text: n.String(), c: c, guard: -1, refs: refsOf(n), node: n}
	c.filters = append(c.filters, f)
	return f, k.warnings, nil
}

// Finalize gives a result slot to every subexpression used more than once
// and removes the bookkeeping of the others.
func (c *Compiler) Finalize() {
	if c.finalized {
		return
	}
	c.finalized = true
	for _, m := range c.interned {
		if m.shared {
			m.slot = c.slots
			c.slots++
		}
	}
	for _, f := range c.filters {
		f.root = unwrap(f.root)
		if and, ok := f.root.(andEval); ok {
			if m, ok := and[0].(*memoEval); ok {
				f.guard = m.slot
			}
		}
	}
	for _, m := range c.interned {
		m.warnings = nil
	}
	c.interned = nil
	c.fieldIndex = nil
}

// unwrap replaces the memo wrappers of unshared nodes by the nodes they
// wrap, through the whole evaluator tree.
func unwrap(e evaluator) evaluator {
	if m, ok := e.(*memoEval); ok {
		if !m.done {
			m.done = true
			m.inner = unwrapChildren(m.inner)
		}
		if !m.shared {
			return m.inner
		}
		return m
	}
	return unwrapChildren(e)
}

func unwrapChildren(e evaluator) evaluator {
	switch e := e.(type) {
	case *memoEval:
		return unwrap(e)
	case andEval:
		// Unshared conjunctions inside a conjunction are spliced into it:
		// (a and b) and c evaluates as a and b and c, with fewer calls.
		var out andEval
		for _, c := range e {
			c = unwrap(c)
			if inner, ok := c.(andEval); ok {
				out = append(out, inner...)
			} else {
				out = append(out, c)
			}
		}
		return out
	case orEval:
		var out orEval
		for _, c := range e {
			c = unwrap(c)
			if inner, ok := c.(orEval); ok {
				out = append(out, inner...)
			} else {
				out = append(out, c)
			}
		}
		return out
	case *notEval:
		e.child = unwrap(e.child)
	case *modEval:
		for i := range e.checks {
			e.checks[i] = unwrap(e.checks[i])
		}
	}
	return e
}

// memoEval is a subexpression shared by several places of the ruleset.
type memoEval struct {
	inner evaluator
	slot  int
	done  bool
	// shared is set when two evaluations of one event can reach the node:
	// it occurs twice in one filter, or in two filters whose event types
	// overlap. Only shared nodes keep their result per event.
	shared bool
	cheap  bool
	types  evttype.Set
	last   int // the id of the last filter that used the node
	// warnings are the compile warnings of the subexpression, repeated for
	// every filter that uses it.
	warnings []Warning
}

func (m *memoEval) eval(ev fields.Event, s *Scratch) bool {
	e := &s.memo[m.slot]
	if e.gen == s.gen {
		return e.val
	}
	v := m.inner.eval(ev, s)
	e.gen, e.val = s.gen, v
	return v
}

// CompileError is a compile failure at a node of the condition.
type CompileError struct {
	Pos condition.Pos
	Msg string
	// Err is the underlying error, such as a *fields.UnknownFieldError.
	Err error
}

func (e *CompileError) Error() string { return e.Msg }

// Unwrap returns the underlying error.
func (e *CompileError) Unwrap() error { return e.Err }

type compiler struct {
	c        *Compiler
	id       int
	types    evttype.Set
	warnings []Warning
}

func (c *compiler) warn(code, msg string, pos condition.Pos) {
	c.warnings = append(c.warnings, Warning{Code: code, Msg: msg, Pos: pos})
}

// node compiles n, sharing the evaluator of an identical subexpression
// compiled before.
func (c *compiler) node(n condition.Node) (evaluator, error) {
	key := n.String()
	if hasTypeCheck(n) {
		// Event-type checks fold to constants for the filter's event
		// types, so such subexpressions are shared only between filters
		// with the same types.
		key += "\x00" + typesKey(c.types)
	}

	if m, ok := c.c.interned[key]; ok {
		if !m.cheap && (m.last == c.id || !m.types.Intersect(c.types).Empty()) {
			m.shared = true
		}
		m.types = m.types.Union(c.types)
		m.last = c.id
		c.warnings = append(c.warnings, m.warnings...)
		return m, nil
	}

	before := len(c.warnings)
	e, err := c.build(n)
	if err != nil {
		return nil, err
	}
	switch e := e.(type) {
	case constEval:
		return e, nil
	case *memoEval:
		// Folding left a single child, which is already interned.
		c.c.interned[key] = e
		return e, nil
	}
	m := &memoEval{inner: e, types: c.types, last: c.id, warnings: c.warnings[before:len(c.warnings):len(c.warnings)]}
	// An event-type test costs less than its memo lookup.
	_, m.cheap = e.(*typeSetEval)
	c.c.interned[key] = m
	return m, nil
}

func (c *compiler) build(n condition.Node) (evaluator, error) {
	switch n := n.(type) {
	case *condition.And:
		children, err := c.nodes(n.Children)
		if err != nil {
			return nil, err
		}
		kept, folded := fold(children, false)
		if folded != nil {
			return folded, nil
		}
		return andEval(kept), nil
	case *condition.Or:
		children, err := c.nodes(n.Children)
		if err != nil {
			return nil, err
		}
		kept, folded := fold(children, true)
		if folded != nil {
			return folded, nil
		}
		return orEval(kept), nil
	case *condition.Not:
		child, err := c.node(n.Child)
		if err != nil {
			return nil, err
		}
		if v, ok := child.(constEval); ok {
			return !v, nil
		}
		return &notEval{child}, nil
	case *condition.Check:
		return c.check(n)
	case *condition.Identifier:
		return nil, &CompileError{Pos: n.At, Msg: "Undefined macro '" + n.Name + "' used in filter."}
	}
	return nil, &CompileError{Pos: n.Position(), Msg: "unexpected node " + n.String()}
}

func (c *compiler) nodes(ns []condition.Node) ([]evaluator, error) {
	out := make([]evaluator, len(ns))
	for i, n := range ns {
		e, err := c.node(n)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

type evaluator interface {
	eval(ev fields.Event, s *Scratch) bool
}

// constEval is a subexpression whose value is known at compile time, such
// as an event-type check that every event the filter runs for passes.
type constEval bool

func (c constEval) eval(fields.Event, *Scratch) bool { return bool(c) }

// fold drops the constant children of a conjunction (or false) or of a
// disjunction (or true). It returns the whole node's value instead when a
// child decides it, or when no child is left, and the only child when one
// is left.
func fold(children []evaluator, or bool) ([]evaluator, evaluator) {
	kept := children[:0:0]
	for _, c := range children {
		v, ok := c.(constEval)
		if !ok {
			kept = append(kept, c)
			continue
		}
		if bool(v) == or {
			return nil, v
		}
	}
	switch len(kept) {
	case 0:
		return nil, constEval(!or)
	case 1:
		return nil, kept[0]
	}
	return kept, nil
}

// hasTypeCheck reports whether n compares evt.type or syscall.type.
func hasTypeCheck(n condition.Node) bool {
	found := false
	condition.Walk(n, func(n condition.Node) bool {
		if c, ok := n.(*condition.Check); ok && isTypeField(c.Left) {
			found = true
		}
		return !found
	})
	return found
}

func typesKey(s evttype.Set) string {
	var b []byte
	for _, w := range s {
		b = strconv.AppendUint(b, w, 16)
		b = append(b, ',')
	}
	return string(b)
}

type andEval []evaluator

func (a andEval) eval(ev fields.Event, s *Scratch) bool {
	for _, c := range a {
		if !c.eval(ev, s) {
			return false
		}
	}
	return true
}

type orEval []evaluator

func (o orEval) eval(ev fields.Event, s *Scratch) bool {
	for _, c := range o {
		if c.eval(ev, s) {
			return true
		}
	}
	return false
}

type notEval struct{ child evaluator }

func (n *notEval) eval(ev fields.Event, s *Scratch) bool { return !n.child.eval(ev, s) }

// refsOf returns the field references of a condition tree, each once.
func refsOf(n condition.Node) []*fields.Ref {
	var out []*fields.Ref
	seen := map[string]bool{}
	condition.Walk(n, func(n condition.Node) bool {
		f, ok := n.(*condition.Field)
		if !ok {
			return true
		}
		ref, err := fields.Resolve(f.Name, f.Arg, f.HasArg)
		if err == nil && !seen[ref.Text] {
			seen[ref.Text] = true
			out = append(out, ref)
		}
		return true
	})
	return out
}
