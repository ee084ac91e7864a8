package policies

import (
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Actionners returns the actionner names that the policies' actions rules
// name literally, sorted and without duplicates. It is what `riposte rbac`
// grants permissions for. An actionner name computed at evaluation time, not
// written as a string in the rule head, cannot be found this way.
func (s *Set) Actionners() []string {
	return slices.Clone(s.actionners)
}

// headActionners returns the actionner names written in the heads of the
// actions rules of the parsed modules, sorted and each once. The compiler
// rewrites a head whose object refers to other rules, as "target": pod does,
// into a variable, so the names are read before compilation.
func headActionners(modules map[string]*ast.Module) []string {
	var names []string
	for _, m := range modules {
		for _, r := range m.Rules {
			if r.Head.Name.String() != "actions" && r.Head.Ref().String() != "actions" {
				continue
			}
			if r.Head.Key == nil {
				continue
			}
			obj, ok := r.Head.Key.Value.(ast.Object)
			if !ok {
				continue
			}
			term := obj.Get(ast.StringTerm("actionner"))
			if term == nil {
				continue
			}
			if name, ok := term.Value.(ast.String); ok {
				names = append(names, string(name))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
