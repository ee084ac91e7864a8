package filter_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/rules/filter"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

// randomCondition builds a random condition over a few fields, with
// repeated subexpressions so that filters share them.
func randomCondition(r *rand.Rand, depth int, pool []string) string {
	if depth == 0 || r.Intn(3) == 0 {
		if len(pool) > 0 && r.Intn(3) == 0 {
			return pool[r.Intn(len(pool))]
		}
		leaves := []string{
			"evt.type = openat", "evt.type in (open, openat)", "evt.type != execve", "evt.type in (execve, connect)",
			"proc.name = cat", "proc.name in (cat, ls, sh)", "proc.name startswith c", "proc.name != ls",
			"fd.num >= 0", "fd.num = -1", "fd.num < 3", "evt.is_open_read = true", "evt.is_open_read != true",
			"fd.name contains /etc", "fd.name exists", "proc.pname exists", "proc.pname = bash",
		}
		return leaves[r.Intn(len(leaves))]
	}
	switch r.Intn(3) {
	case 0:
		return "(" + randomCondition(r, depth-1, pool) + " and " + randomCondition(r, depth-1, pool) + ")"
	case 1:
		return "(" + randomCondition(r, depth-1, pool) + " or " + randomCondition(r, depth-1, pool) + ")"
	}
	return "not " + randomCondition(r, depth-1, pool)
}

// direct evaluates a parsed condition without compiling it.
func direct(n condition.Node, ev fields.Event) bool {
	switch n := n.(type) {
	case *condition.And:
		for _, c := range n.Children {
			if !direct(c, ev) {
				return false
			}
		}
		return true
	case *condition.Or:
		for _, c := range n.Children {
			if direct(c, ev) {
				return true
			}
		}
		return false
	case *condition.Not:
		return !direct(n.Child, ev)
	}
	c := n.(*condition.Check)
	f := c.Left.(*condition.Field)
	ref, err := fields.Resolve(f.Name, f.Arg, f.HasArg)
	if err != nil {
		panic(err)
	}
	vals := fields.Values(ev, ref, nil)
	if c.Op == "exists" {
		return len(vals) > 0
	}
	var lits []string
	switch r := c.Right.(type) {
	case *condition.Literal:
		lits = []string{r.Text}
	case *condition.List:
		for _, it := range r.Items {
			lits = append(lits, it.Text)
		}
	}
	for _, v := range vals {
		for _, l := range lits {
			var ok bool
			switch ref.Type {
			case fields.TypeBool:
				ok = (v.Bool == (l == "true")) != (c.Op == "!=")
			case fields.TypeInt64:
				var x int64
				fmt.Sscan(l, &x)
				switch c.Op {
				case "=":
					ok = v.Num == x
				case ">=":
					ok = v.Num >= x
				case "<":
					ok = v.Num < x
				}
			default:
				switch c.Op {
				case "=", "in":
					ok = v.Str == l
				case "!=":
					ok = v.Str != l
				case "startswith":
					ok = strings.HasPrefix(v.Str, l)
				case "contains":
					ok = strings.Contains(v.Str, l)
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// TestSharedFiltersMatchDirectEvaluation compiles random filters into one
// Compiler, so that they share subexpressions, memoized results, guards and
// folded event-type checks, and compares their results on random events
// with a direct evaluation.
func TestSharedFiltersMatchDirectEvaluation(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for round := 0; round < 40; round++ {
		var pool []string
		for i := 0; i < 4; i++ {
			pool = append(pool, randomCondition(r, 2, nil))
		}
		c := filter.NewCompiler()
		var conds []string
		var asts []condition.Node
		var filters []*filter.Filter
		for i := 0; i < 15; i++ {
			cond := randomCondition(r, 4, pool)
			n, err := condition.Parse(cond, condition.RuleMaxDepth)
			if err != nil {
				t.Fatalf("parse %q: %v", cond, err)
			}
			f, _, err := c.Compile(n)
			if err != nil {
				t.Fatalf("compile %q: %v", cond, err)
			}
			conds, asts, filters = append(conds, cond), append(asts, n), append(filters, f)
		}
		c.Finalize()
		s := filter.NewScratch()
		for e := 0; e < 30; e++ {
			typ := []string{"open", "openat", "execve", "connect"}[r.Intn(4)]
			ev := rulestest.New(typ, "proc.name", []string{"cat", "ls", "sh", "curl"}[r.Intn(4)], "fd.num", r.Intn(6)-1,
				"evt.is_open_read", r.Intn(2) == 0)
			if r.Intn(2) == 0 {
				ev.Set("fd.name", []string{"/etc/passwd", "/tmp/x"}[r.Intn(2)])
			}
			if r.Intn(2) == 0 {
				ev.Set("proc.pname", "bash")
			}
			s.NextEvent(ev.Type())
			for i, f := range filters {
				want := direct(asts[i], ev)
				if got := f.MatchCurrent(ev, s); got != want {
					t.Fatalf("round %d: %q on %s event %v = %v, direct evaluation %v", round, conds[i], typ, ev.Fields, got, want)
				}
			}
		}
	}
}
