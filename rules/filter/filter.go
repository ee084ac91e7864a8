// Package filter compiles condition trees into evaluators that match events
// without map lookups or allocations on the common path, checks field types
// and operators at compile time as Falco does, and derives the event types a
// condition can match.
package filter

import (
	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
)

// Filter is a compiled condition. It is immutable and safe for concurrent use.
type Filter struct {
	root  evaluator
	types evttype.Set
	text  string
}

// Scratch is the reusable state of one evaluation. A Scratch must not be
// used by two evaluations at the same time; keep one per goroutine or pool
// them.
type Scratch struct {
	vals  []fields.Value
	other []fields.Value
}

// NewScratch returns a Scratch with room for typical field values.
func NewScratch() *Scratch {
	return &Scratch{vals: make([]fields.Value, 0, 16), other: make([]fields.Value, 0, 16)}
}

// Match reports whether ev satisfies the filter.
func (f *Filter) Match(ev fields.Event, s *Scratch) bool { return f.root.eval(ev, s) }

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

// Compile compiles a condition tree whose macros are already resolved. The
// error is a *CompileError; errors about unknown fields or event types also
// match fields.ErrUnknownField through errors.Is.
func Compile(n condition.Node) (*Filter, []Warning, error) {
	c := &compiler{}
	root, err := c.node(n)
	if err != nil {
		return nil, c.warnings, err
	}
	types, err := EventTypes(n)
	if err != nil {
		return nil, c.warnings, err
	}
	return &Filter{root: root, types: types, text: n.String()}, c.warnings, nil
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
	warnings []Warning
}

func (c *compiler) warn(code, msg string, pos condition.Pos) {
	c.warnings = append(c.warnings, Warning{Code: code, Msg: msg, Pos: pos})
}

func (c *compiler) node(n condition.Node) (evaluator, error) {
	switch n := n.(type) {
	case *condition.And:
		children, err := c.nodes(n.Children)
		if err != nil {
			return nil, err
		}
		return andEval(children), nil
	case *condition.Or:
		children, err := c.nodes(n.Children)
		if err != nil {
			return nil, err
		}
		return orEval(children), nil
	case *condition.Not:
		child, err := c.node(n.Child)
		if err != nil {
			return nil, err
		}
		return notEval{child}, nil
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

func (n notEval) eval(ev fields.Event, s *Scratch) bool { return !n.child.eval(ev, s) }
