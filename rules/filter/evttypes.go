package filter

import (
	"strconv"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/evttype"
)

// EventTypes returns the event types for which a resolved condition can be
// true, as Falco derives them: negations are pushed to the leaves, "and"
// intersects and "or" unites the children's sets; evt.type and syscall.type
// checks with =, ==, != and in give their names (or the complement); checks
// of evt.num that can never or always hold, given evt.num >= 1, give the
// empty or the full set; every other check is neutral (the full set).
func EventTypes(n condition.Node) (evttype.Set, error) {
	return eventTypes(n, false)
}

func eventTypes(n condition.Node, negated bool) (evttype.Set, error) {
	switch n := n.(type) {
	case *condition.And:
		return combine(n.Children, negated, !negated)
	case *condition.Or:
		return combine(n.Children, negated, negated)
	case *condition.Not:
		return eventTypes(n.Child, !negated)
	case *condition.Check:
		return checkTypes(n, negated)
	}
	return evttype.Full(), nil
}

// combine intersects (intersect true) or unites the children's sets.
func combine(children []condition.Node, negated, intersect bool) (evttype.Set, error) {
	var out evttype.Set
	for i, c := range children {
		s, err := eventTypes(c, negated)
		if err != nil {
			return out, err
		}
		switch {
		case i == 0:
			out = s
		case intersect:
			out = out.Intersect(s)
		default:
			out = out.Union(s)
		}
	}
	return out, nil
}

func checkTypes(c *condition.Check, negated bool) (evttype.Set, error) {
	f, ok := c.Left.(*condition.Field)
	if !ok {
		if t, isTr := c.Left.(*condition.Transformer); isTr && isTypeField(t.Arg) {
			return evttype.Set{}, &CompileError{Pos: c.At, Msg: "filter error: evt.type cannot be transformed"}
		}
		return evttype.Full(), nil
	}
	switch {
	case isTypeField(f):
		return typeCheckSet(c, negated)
	case f.Name == "evt.num" && !f.HasArg:
		return numInvariant(c, negated), nil
	}
	return evttype.Full(), nil
}

func isTypeField(e condition.Expr) bool {
	f, ok := e.(*condition.Field)
	return ok && !f.HasArg && (f.Name == "evt.type" || f.Name == "syscall.type")
}

func typeCheckSet(c *condition.Check, negated bool) (evttype.Set, error) {
	if _, isExpr := c.Right.(condition.Expr); isExpr {
		return evttype.Set{}, &CompileError{Pos: c.At, Msg: "filter error: evt.type cannot be compared with another field"}
	}
	var names []*condition.Literal
	switch r := c.Right.(type) {
	case *condition.Literal:
		names = []*condition.Literal{r}
	case *condition.List:
		names = r.Items
	}
	var set evttype.Set
	switch c.Op {
	case "=", "==", "!=", "in":
		for _, l := range names {
			if t, ok := evttype.Lookup(l.Text); ok {
				set.Add(t)
			}
		}
	default:
		return evttype.Full(), nil
	}
	if c.Op == "!=" {
		set = set.Complement()
	}
	if negated {
		set = set.Complement()
	}
	return set, nil
}

// numInvariant handles evt.num checks that are constant given evt.num >= 1.
func numInvariant(c *condition.Check, negated bool) evttype.Set {
	never, always := false, false
	num := func(s string) (int64, bool) {
		v, err := strconv.ParseInt(s, 0, 64)
		return v, err == nil
	}
	switch r := c.Right.(type) {
	case *condition.Literal:
		v, ok := num(r.Text)
		if !ok {
			return evttype.Full()
		}
		switch c.Op {
		case "=", "==":
			never = v == 0
		case "<":
			never = v == 0 || v == 1
		case "<=":
			never = v == 0
		case "!=":
			always = v == 0
		case ">":
			always = v == 0
		case ">=":
			always = v == 0 || v == 1
		}
	case *condition.List:
		if c.Op == "in" {
			never = true
			for _, it := range r.Items {
				if v, ok := num(it.Text); !ok || v != 0 {
					never = false
				}
			}
		}
	}
	switch {
	case never != negated && (never || always):
		return evttype.Set{}
	default:
		return evttype.Full()
	}
}
