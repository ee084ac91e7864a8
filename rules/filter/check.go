package filter

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
)

type opcode uint8

const (
	opExists opcode = iota
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opContains
	opIContains
	opBContains
	opStartsWith
	opBStartsWith
	opEndsWith
	opGlob
	opIGlob
	opRegex
	opIn
	opIntersects
	opPmatch
)

var opcodes = map[string]opcode{
	"exists": opExists, "=": opEq, "==": opEq, "!=": opNe,
	"<": opLt, "<=": opLe, ">": opGt, ">=": opGe,
	"contains": opContains, "icontains": opIContains, "bcontains": opBContains,
	"startswith": opStartsWith, "bstartswith": opBStartsWith, "endswith": opEndsWith,
	"glob": opGlob, "iglob": opIGlob, "regex": opRegex,
	"in": opIn, "intersects": opIntersects, "pmatch": opPmatch,
}

func (op opcode) isList() bool { return op == opIn || op == opIntersects || op == opPmatch }

// allowed lists the operators each value type supports, besides exists.
func allowed(t fields.Type, op opcode) bool {
	switch {
	case t.Numeric():
		return op == opEq || op == opNe || op == opLt || op == opLe || op == opGt || op == opGe || op == opIn || op == opIntersects
	case t == fields.TypeBool, t == fields.TypeIPAddr, t == fields.TypeIPNet:
		return op == opEq || op == opNe || op == opIn || op == opIntersects
	case t == fields.TypeBytes:
		switch op {
		case opEq, opNe, opContains, opStartsWith, opEndsWith, opIn, opIntersects, opBContains, opBStartsWith:
			return true
		}
		return false
	}
	return op != opBContains && op != opBStartsWith
}

func typeClass(t fields.Type) string {
	switch {
	case t.Numeric():
		return "numeric"
	case t == fields.TypeBool:
		return "boolean"
	case t == fields.TypeIPAddr:
		return "ip address"
	case t == fields.TypeIPNet:
		return "ip network"
	case t == fields.TypeBytes:
		return "buffer"
	}
	return "string"
}

func (c *compiler) check(n *condition.Check) (evaluator, error) {
	left, err := c.operand(n.Left, false)
	if err != nil {
		return nil, err
	}
	op := opcodes[n.Op]
	if op == opExists {
		return &existsEval{left}, nil
	}
	if !allowed(left.typ, op) {
		return nil, &CompileError{Pos: n.At, Msg: fmt.Sprintf("filter error: '%s' operator not supported for %s filters", n.Op, typeClass(left.typ))}
	}
	if n.Modifier != "" {
		return c.modifierCheck(n, left, op)
	}
	switch r := n.Right.(type) {
	case condition.Expr:
		return c.fieldCheck(n, left, op, r)
	case *condition.Literal:
		c.literalWarnings(r)
		if op == opRegex {
			c.regexWarning(r)
		}
		if left.kind == fromEventType && (op == opEq || op == opNe) {
			return c.eventTypeCheck(n, left, op, []*condition.Literal{r})
		}
		return c.valueCheck(n, left, op, []*condition.Literal{r})
	case *condition.List:
		for _, it := range r.Items {
			c.literalWarnings(it)
		}
		if left.kind == fromEventType && (op == opIn || op == opIntersects) {
			return c.eventTypeCheck(n, left, op, r.Items)
		}
		return c.valueCheck(n, left, op, r.Items)
	}
	return nil, &CompileError{Pos: n.At, Msg: "missing value after operator '" + n.Op + "'"}
}

// eventTypeCheck compiles evt.type comparisons into a set test on the
// event's type.
func (c *compiler) eventTypeCheck(n *condition.Check, left *operand, op opcode, lits []*condition.Literal) (evaluator, error) {
	var set evttype.Set
	for _, l := range lits {
		t, ok := evttype.Lookup(l.Text)
		if !ok {
			err := &fields.UnknownFieldError{Text: l.Text}
			return nil, &CompileError{Pos: l.At, Msg: "unknown event type " + l.Text, Err: unknownEventType{err}}
		}
		set.Add(t)
	}
	negate := op == opNe
	// The filter runs only for events of its types (c.types), so a check
	// that every one of them passes, or none does, is a constant.
	if in := set.Intersect(c.types); in == c.types {
		return constEval(!negate), nil
	} else if in.Empty() {
		return constEval(negate), nil
	}
	return &typeSetEval{set: set, negate: negate}, nil
}

// unknownEventType wraps an unknown evt.type name so that errors.Is matches
// fields.ErrUnknownField, as Falco's skip-if-unknown-filter treats both
// alike.
type unknownEventType struct{ err *fields.UnknownFieldError }

func (u unknownEventType) Error() string { return "unknown event type " + u.err.Text }
func (u unknownEventType) Unwrap() error { return u.err }

type typeSetEval struct {
	set    evttype.Set
	negate bool
}

func (e *typeSetEval) eval(_ fields.Event, s *Scratch) bool {
	return e.set.Has(s.typ) != e.negate
}

type existsEval struct{ src *operand }

func (e *existsEval) eval(ev fields.Event, s *Scratch) bool {
	return len(e.src.values(ev, s, &s.vals)) > 0
}

// valueCheck compiles a comparison of an operand with literal values.
func (c *compiler) valueCheck(n *condition.Check, left *operand, op opcode, lits []*condition.Literal) (evaluator, error) {
	if op == opBContains || op == opBStartsWith {
		b, err := hex.DecodeString(lits[0].Text)
		if err != nil || lits[0].Text == "" {
			return nil, &CompileError{Pos: lits[0].At, Msg: "filter error: bcontains and bstartswith operator support hex strings only"}
		}
		return &bytesCheck{src: left, op: op, lit: b}, nil
	}
	switch t := left.typ; {
	case t.Numeric():
		nums := make([]int64, len(lits))
		for i, l := range lits {
			v, err := parseNumber(l.Text, t)
			if err != nil {
				return nil, &CompileError{Pos: l.At, Msg: fmt.Sprintf("filter error: invalid value '%s' for %s field %s: %v", l.Text, t, left.text, err)}
			}
			nums[i] = v
		}
		return &numCheck{src: left, op: op, lits: nums, unsigned: !t.Signed()}, nil
	case t == fields.TypeBool:
		vals := make([]bool, len(lits))
		for i, l := range lits {
			switch l.Text {
			case "true":
				vals[i] = true
			case "false":
			default:
				return nil, &CompileError{Pos: l.At, Msg: fmt.Sprintf("filter error: invalid value '%s' for bool field %s: use true or false", l.Text, left.text)}
			}
		}
		return &boolCheck{src: left, op: op, lits: vals}, nil
	case t == fields.TypeIPAddr, t == fields.TypeIPNet:
		nets := make([]netip.Prefix, len(lits))
		for i, l := range lits {
			p, err := parseNet(l.Text)
			if err != nil {
				return nil, &CompileError{Pos: l.At, Msg: fmt.Sprintf("filter error: invalid IP address or network '%s' for field %s", l.Text, left.text)}
			}
			nets[i] = p
		}
		return &ipCheck{src: left, op: op, nets: nets}, nil
	case t == fields.TypeBytes:
		vals := make([][]byte, len(lits))
		for i, l := range lits {
			vals[i] = []byte(l.Text)
		}
		return &bytesCheck{src: left, op: op, lits: vals}, nil
	}
	for _, l := range lits {
		if strings.IndexByte(l.Text, 0) >= 0 {
			return nil, &CompileError{Pos: l.At, Msg: fmt.Sprintf("filter error: value for string field %s contains a NUL byte", left.text)}
		}
	}
	return newStrCheck(left, op, lits)
}

func parseNumber(s string, t fields.Type) (int64, error) {
	neg := false
	body := s
	if strings.HasPrefix(body, "-") {
		neg = true
		body = body[1:]
	} else if strings.HasPrefix(body, "+") {
		body = body[1:]
	}

	base := 10
	if strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X") {
		base = 16
		body = body[2:]
	}

	if body == "" || strings.HasPrefix(body, "+") || strings.HasPrefix(body, "-") {
		return 0, fmt.Errorf("not an integer")
	}

	u, err := strconv.ParseUint(body, base, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}

	var limit uint64
	switch t {
	case fields.TypeUint32:
		limit = math.MaxUint32
	case fields.TypePort:
		limit = math.MaxUint16
	case fields.TypeInt64:
		if neg {
			if u > 1<<63 {
				return 0, fmt.Errorf("out of range")
			}
			return -int64(u), nil
		}
		if u > math.MaxInt64 {
			return 0, fmt.Errorf("out of range")
		}
		return int64(u), nil
	default:
		limit = math.MaxUint64
	}

	if neg {
		return 0, fmt.Errorf("negative value for an unsigned field")
	}

	if u > limit {
		return 0, fmt.Errorf("out of range")
	}

	return int64(u), nil
}

func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// fieldCheck compiles a comparison of two fields (val() or a transformer on
// the right side).
func (c *compiler) fieldCheck(n *condition.Check, left *operand, op opcode, r condition.Expr) (evaluator, error) {
	if op == opRegex || op == opPmatch {
		return nil, &CompileError{Pos: n.At, Msg: fmt.Sprintf("filter error: '%s' operator cannot compare with a field", n.Op)}
	}
	if left.typ == fields.TypeIPNet {
		return nil, &CompileError{Pos: n.At, Msg: "filter error: ip network fields cannot be compared with a field"}
	}
	if lb := left.base(); lb.info != nil && lb.info.Has(fields.FlagNoRHS) {
		return nil, &CompileError{Pos: n.At, Msg: fmt.Sprintf("filter error: field '%s' cannot be compared with another field", lb.text)}
	}
	right, err := c.operand(r, true)
	if err != nil {
		return nil, err
	}
	if rb := right.base(); rb.info != nil && rb.info.Has(fields.FlagNoRHS) {
		return nil, &CompileError{Pos: r.Position(), Msg: fmt.Sprintf("filter error: field '%s' cannot be used on the right side of a comparison", rb.text)}
	}
	if !compatible(left.typ, right.typ) {
		return nil, &CompileError{Pos: r.Position(), Msg: fmt.Sprintf("filter error: cannot compare %s field %s with %s field %s", left.typ, left.text, right.typ, right.text)}
	}
	return &fieldCmp{left: left, right: right, op: op}, nil
}

func compatible(a, b fields.Type) bool {
	if a == b {
		return true
	}
	if a.Numeric() && b.Numeric() {
		return true
	}
	return (a == fields.TypeIPAddr || a == fields.TypeIPNet) && (b == fields.TypeIPAddr || b == fields.TypeIPNet)
}

// modifierCheck compiles "FIELD OP oneof|anyof|allof LIST".
func (c *compiler) modifierCheck(n *condition.Check, left *operand, op opcode) (evaluator, error) {
	if op.isList() || op == opLt || op == opLe || op == opGt || op == opGe {
		return nil, &CompileError{Pos: n.At, Msg: fmt.Sprintf("filter error: operator '%s' does not take a modifier", n.Op)}
	}
	list, ok := n.Right.(*condition.List)
	if !ok {
		return nil, &CompileError{Pos: n.At, Msg: "filter error: a modifier must be followed by a list"}
	}
	checks := make([]evaluator, len(list.Items))
	for i, it := range list.Items {
		e, err := c.valueCheck(n, left, op, []*condition.Literal{it})
		if err != nil {
			return nil, err
		}
		checks[i] = e
	}
	return &modEval{mod: n.Modifier, checks: checks}, nil
}

type modEval struct {
	mod    string
	checks []evaluator
}

func (m *modEval) eval(ev fields.Event, s *Scratch) bool {
	if len(m.checks) == 0 {
		return false
	}
	matched := 0
	for _, c := range m.checks {
		if c.eval(ev, s) {
			matched++
			if m.mod == "anyof" {
				return true
			}
		} else if m.mod == "allof" {
			return false
		}
	}
	switch m.mod {
	case "oneof":
		return matched == 1
	case "allof":
		return true
	}
	return false
}

// compileRegex compiles a regex operand, anchored at both ends.
func compileRegex(s string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + s + `)$`)
}
