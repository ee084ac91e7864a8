// Package condition parses the condition language of Falco rules into an
// abstract syntax tree, and prints trees in the canonical form Falco uses.
//
// The parser is hand-written and follows the grammar, precedence, keyword
// boundaries and string escapes of Falco's filter parser (libsinsp, 2026),
// quirks included, so that it accepts and rejects the same inputs. Every
// node carries its position in the input.
package condition

import (
	"strconv"
	"strings"
)

// Pos is a position in a condition: a byte offset and a 1-based line and
// column.
type Pos struct {
	Offset int
	Line   int
	Column int
}

// String returns "line:column".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column) }

// Node is a node of a condition tree: *And, *Or, *Not, *Identifier or *Check.
type Node interface {
	Position() Pos
	// String returns the canonical form of the node.
	String() string
}

// Expr is a field expression, the left side of a check or a field on its
// right side: *Field or *Transformer.
type Expr interface {
	Position() Pos
	String() string
	expr()
}

// And is a conjunction of two or more nodes.
type And struct {
	At       Pos
	Children []Node
}

// Or is a disjunction of two or more nodes.
type Or struct {
	At       Pos
	Children []Node
}

// Not negates its child.
type Not struct {
	At    Pos
	Child Node
}

// Identifier is a macro reference.
type Identifier struct {
	At   Pos
	Name string
}

// Check compares a field expression with a value: "proc.name = bash",
// "fd.name exists", "evt.type in (open, openat)".
type Check struct {
	At Pos
	// Left is the field or transformer compared.
	Left Expr
	// Op is the operator as written, such as "=", "in" or "exists".
	Op string
	// Modifier is "oneof", "anyof" or "allof" for a string operator applied
	// to a list; empty otherwise.
	Modifier string
	// Right is nil for exists, else a *Literal, a *List, or an Expr (a
	// val() or transformer on the right side).
	Right Node
}

// Field is a field reference, such as proc.aname[2].
type Field struct {
	At     Pos
	Name   string
	Arg    string
	HasArg bool
}

// Transformer applies a transformer (tolower, toupper, b64, basename, len)
// or, on the right side only, val() to a field expression.
type Transformer struct {
	At   Pos
	Name string
	Arg  Expr
}

// Literal is a string value, quoted or bare; Text is unescaped.
type Literal struct {
	At   Pos
	Text string
}

// List is a list literal such as (a, b, c).
type List struct {
	At    Pos
	Items []*Literal
}

// Position returns the node's position.
func (n *And) Position() Pos { return n.At }

// Position returns the node's position.
func (n *Or) Position() Pos { return n.At }

// Position returns the node's position.
func (n *Not) Position() Pos { return n.At }

// Position returns the node's position.
func (n *Identifier) Position() Pos { return n.At }

// Position returns the node's position.
func (n *Check) Position() Pos { return n.At }

// Position returns the node's position.
func (n *Field) Position() Pos { return n.At }

// Position returns the node's position.
func (n *Transformer) Position() Pos { return n.At }

// Position returns the node's position.
func (n *Literal) Position() Pos { return n.At }

// Position returns the node's position.
func (n *List) Position() Pos { return n.At }

func (*Field) expr()       {}
func (*Transformer) expr() {}

func (n *And) String() string { return joinNodes(n.Children, " and ") }
func (n *Or) String() string  { return joinNodes(n.Children, " or ") }
func (n *Not) String() string { return "not " + n.Child.String() }

func (n *Identifier) String() string { return n.Name }

func (n *Check) String() string {
	var b strings.Builder
	b.WriteString(n.Left.String())
	b.WriteByte(' ')
	b.WriteString(n.Op)
	if n.Modifier != "" {
		b.WriteByte(' ')
		b.WriteString(n.Modifier)
	}
	if n.Right != nil {
		b.WriteByte(' ')
		b.WriteString(n.Right.String())
	}
	return b.String()
}

func (n *Field) String() string {
	if !n.HasArg {
		return n.Name
	}
	return n.Name + "[" + quoteIfNeeded(n.Arg) + "]"
}

func (n *Transformer) String() string { return n.Name + "(" + n.Arg.String() + ")" }

func (n *Literal) String() string { return quoteIfNeeded(n.Text) }

func (n *List) String() string {
	parts := make([]string, len(n.Items))
	for i, it := range n.Items {
		parts[i] = it.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func joinNodes(nodes []Node, sep string) string {
	parts := make([]string, len(nodes))
	for i, c := range nodes {
		parts[i] = c.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// quoteIfNeeded prints s bare unless it is empty or contains a blank, '=',
// a quote, a backslash, a parenthesis, a comma, a bracket or a control
// character; then it double-quotes s with escapes. Falco quotes only for the
// first five; the others keep the printed form parseable.
func quoteIfNeeded(s string) string {
	need := s == ""
	for i := 0; i < len(s) && !need; i++ {
		c := s[i]
		need = c <= ' ' || c == 0x7f || strings.IndexByte(`="'\\(),[]`, c) >= 0
	}
	if !need {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			if i == len(s)-1 {
				// A quoted string cannot end with an escaped backslash,
				// because Falco's lexer takes its quote as escaped.
				b.WriteString(`\x5c`)
			} else {
				b.WriteString(`\\`)
			}
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < ' ' || c == 0x7f {
				b.WriteString(`\x`)
				b.WriteString(strconv.FormatUint(uint64(c)>>4, 16))
				b.WriteString(strconv.FormatUint(uint64(c)&15, 16))
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Clone returns a deep copy of n.
func Clone(n Node) Node {
	switch n := n.(type) {
	case *And:
		return &And{At: n.At, Children: cloneNodes(n.Children)}
	case *Or:
		return &Or{At: n.At, Children: cloneNodes(n.Children)}
	case *Not:
		return &Not{At: n.At, Child: Clone(n.Child)}
	case *Identifier:
		c := *n
		return &c
	case *Check:
		c := *n
		c.Left = cloneExpr(n.Left)
		if n.Right != nil {
			c.Right = Clone(n.Right)
		}
		return &c
	case *Literal:
		c := *n
		return &c
	case *List:
		c := &List{At: n.At, Items: make([]*Literal, len(n.Items))}
		for i, it := range n.Items {
			cp := *it
			c.Items[i] = &cp
		}
		return c
	case Expr:
		return cloneExpr(n)
	}
	return n
}

func cloneNodes(nodes []Node) []Node {
	out := make([]Node, len(nodes))
	for i, c := range nodes {
		out[i] = Clone(c)
	}
	return out
}

func cloneExpr(e Expr) Expr {
	switch e := e.(type) {
	case *Field:
		c := *e
		return &c
	case *Transformer:
		return &Transformer{At: e.At, Name: e.Name, Arg: cloneExpr(e.Arg)}
	}
	return e
}

// Walk calls fn for n and every node below it, parents first, until fn
// returns false.
func Walk(n Node, fn func(Node) bool) {
	if !fn(n) {
		return
	}
	switch n := n.(type) {
	case *And:
		for _, c := range n.Children {
			Walk(c, fn)
		}
	case *Or:
		for _, c := range n.Children {
			Walk(c, fn)
		}
	case *Not:
		Walk(n.Child, fn)
	case *Check:
		Walk(n.Left, fn)
		if n.Right != nil {
			Walk(n.Right, fn)
		}
	case *Transformer:
		Walk(n.Arg, fn)
	case *List:
		for _, it := range n.Items {
			Walk(it, fn)
		}
	}
}

// Relocate sets the position of n and of every node below it to pos. The
// rules loader uses it on a macro body substituted into a condition, so that
// messages about the body point at the macro reference.
func Relocate(n Node, pos Pos) {
	Walk(n, func(n Node) bool {
		switch n := n.(type) {
		case *And:
			n.At = pos
		case *Or:
			n.At = pos
		case *Not:
			n.At = pos
		case *Identifier:
			n.At = pos
		case *Check:
			n.At = pos
		case *Field:
			n.At = pos
		case *Transformer:
			n.At = pos
		case *Literal:
			n.At = pos
		case *List:
			n.At = pos
		}
		return true
	})
}
