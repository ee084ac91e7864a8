package loader

import (
	"sort"

	"github.com/riposte-sec/riposte/rules/condition"
)

// Details lists what a condition uses, as written before list substitution
// and macro expansion.
type Details struct {
	Fields    []string
	Macros    []string
	Operators []string
	Lists     []string
}

// ConditionDetails returns the fields, macros, operators and lists that
// cond uses. isMacro and isList report whether a name is a defined macro or
// list. A condition that only parses after list substitution yields empty
// details.
func ConditionDetails(cond string, isMacro, isList func(string) bool) Details {
	n, err := condition.Parse(cond, condition.RuleMaxDepth)
	if err != nil {
		return Details{}
	}
	fields, macros, ops, lists := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	condition.Walk(n, func(n condition.Node) bool {
		switch n := n.(type) {
		case *condition.Identifier:
			if isMacro(n.Name) {
				macros[n.Name] = true
			}
		case *condition.Field:
			fields[n.String()] = true
		case *condition.Check:
			ops[n.Op] = true
		case *condition.Literal:
			if isList(n.Text) {
				lists[n.Text] = true
			}
		}
		return true
	})
	return Details{Fields: keys(fields), Macros: keys(macros), Operators: keys(ops), Lists: keys(lists)}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
