package loader

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/fields"
)

// exception is one entry of a rule's exceptions.
type exception struct {
	name       string
	scalarForm bool // fields is one field, not a list
	fields     []string
	comps      []string
	values     []*yaml.Node // one node per tuple (list form) or value (scalar form)
	node       *yaml.Node
}

var (
	comparisonOps = set("=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains",
		"startswith", "bstartswith", "endswith", "glob", "iglob", "regex", "in", "intersects", "pmatch")
	modifierOps = set("=", "==", "!=", "contains", "icontains", "bcontains", "startswith", "bstartswith",
		"endswith", "glob", "iglob", "regex")
	listComps = set("in", "intersects", "pmatch")
)

// normalizeComp strips and collapses the blanks of a comparison operator.
func normalizeComp(c string) string { return strings.Join(strings.Fields(c), " ") }

// validComp reports whether c is an operator, or a string operator with a
// oneof, anyof or allof modifier.
func validComp(c string) bool {
	if comparisonOps[c] {
		return true
	}
	parts := strings.Split(c, " ")
	if len(parts) != 2 {
		return false
	}
	switch parts[1] {
	case "oneof", "anyof", "allof":
		return modifierOps[parts[0]]
	}
	return false
}

// takesList reports whether the comparison operator c takes a list.
func takesList(c string) bool { return listComps[c] || strings.Contains(c, " ") }

func exceptionErr(node *yaml.Node, code, text, name string) *itemError {
	return &itemError{code: code, text: text, node: node, itemType: "exception", itemName: name}
}

// parseExceptions decodes the exceptions of a full definition (validate
// true) or of an "exceptions: replace" override.
func (l *loader) parseExceptions(src source, v *yaml.Node, r *ruleDef, validate bool) ([]*exception, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, semanticErr(v, "Rule exceptions must be a sequence")
	}
	var out []*exception
	seen := map[string]bool{}
	for _, en := range v.Content {
		en = resolveAlias(en)
		if en.Kind != yaml.MappingNode {
			return nil, semanticErr(en, "Rule exception must be a mapping")
		}
		m := newMapping(en)
		name, _, err := m.scalar("name")
		if err != nil {
			return nil, err
		}
		ex, err := decodeException(m, name, true)
		if err != nil {
			return nil, err
		}
		if validate {
			if err := validateException(ex, r.source); err != nil {
				return nil, err
			}
		}
		if seen[name] {
			l.warn(Message{
				Code: WarnExceptionNameNotUnique, Text: "Multiple definitions of exception '" + name + "' in the same rule",
				File: src.file, Line: en.Line, Column: en.Column, ItemType: "exception", ItemName: name,
			})
		}
		seen[name] = true
		out = append(out, ex)
	}
	return out, nil
}

// decodeException reads fields, comps and values; requireFields makes a
// missing fields key an error.
func decodeException(m *mapping, name string, requireFields bool) (*exception, error) {
	ex := &exception{name: name, node: m.node}
	fv := m.get("fields")
	if isNull(fv) {
		if requireFields {
			return nil, validateErr(m.node, "Item has no mapping for key 'fields'")
		}
	} else if fv.Kind == yaml.ScalarNode {
		ex.scalarForm = true
		ex.fields = []string{fv.Value}
	} else {
		fs, err := scalarSeq(fv)
		if err != nil {
			return nil, err
		}
		ex.fields = fs
	}
	if cv := m.get("comps"); !isNull(cv) {
		if ex.scalarForm {
			if cv.Kind != yaml.ScalarNode {
				return nil, exceptionErr(cv, ErrValidate, "Fields and comps must both be strings", name)
			}
			ex.comps = []string{normalizeComp(cv.Value)}
		} else {
			if cv.Kind == yaml.ScalarNode && fv != nil && !isNull(fv) {
				return nil, exceptionErr(cv, ErrValidate, "Fields and comps must both be strings", name)
			}
			cs, err := scalarSeq(cv)
			if err != nil {
				return nil, err
			}
			for i := range cs {
				cs[i] = normalizeComp(cs[i])
			}
			ex.comps = cs
		}
	} else if ex.fields != nil {
		if ex.scalarForm {
			ex.comps = []string{"in"}
		} else {
			ex.comps = make([]string, len(ex.fields))
			for i := range ex.comps {
				ex.comps[i] = "="
			}
		}
	}
	if vv := m.get("values"); !isNull(vv) {
		if vv.Kind != yaml.SequenceNode {
			return nil, exceptionErr(vv, ErrValidate, "Rule exception values must be a sequence", name)
		}
		for _, it := range vv.Content {
			ex.values = append(ex.values, resolveAlias(it))
		}
	}
	return ex, nil
}

// validateException checks the comps and fields of a new exception.
func validateException(ex *exception, src string) error {
	if ex.scalarForm {
		switch ex.comps[0] {
		case "in", "pmatch", "intersects":
		default:
			return exceptionErr(ex.node, ErrValidate, "When fields is a single value, comps must be one of (in, pmatch, intersects) but is '"+ex.comps[0]+"'", ex.name)
		}
	} else {
		if len(ex.fields) != len(ex.comps) {
			return exceptionErr(ex.node, ErrValidate, "Fields and comps lists must have equal length", ex.name)
		}
		for _, c := range ex.comps {
			if !validComp(c) {
				return exceptionErr(ex.node, ErrValidate, "'"+c+"' is not a supported comparison operator", ex.name)
			}
		}
	}
	if src != "syscall" {
		return nil
	}
	for _, f := range ex.fields {
		if !validField(f) {
			return exceptionErr(ex.node, ErrValidate, "'"+f+"' is not a supported filter field", ex.name)
		}
	}
	return nil
}

// validField reports whether text is a field or transformer expression over
// known fields.
func validField(text string) bool {
	n, err := condition.Parse(text+" exists", condition.DefaultMaxDepth)
	if err != nil {
		return false
	}
	c, ok := n.(*condition.Check)
	if !ok {
		return false
	}
	var e condition.Expr = c.Left
	for {
		t, ok := e.(*condition.Transformer)
		if !ok {
			break
		}
		e = t.Arg
	}
	f, ok := e.(*condition.Field)
	if !ok {
		return false
	}
	_, err = fields.Resolve(f.Name, f.Arg, f.HasArg)
	return err == nil
}

// appendExceptions applies an exceptions append to a rule.
func (l *loader) appendExceptions(src source, v *yaml.Node, r *ruleDef) error {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return semanticErr(v, "Rule exceptions must be a sequence")
	}
	for _, en := range v.Content {
		en = resolveAlias(en)
		if en.Kind != yaml.MappingNode {
			return semanticErr(en, "Rule exception must be a mapping")
		}
		m := newMapping(en)
		name, _, err := m.scalar("name")
		if err != nil {
			return err
		}
		var old *exception
		for _, e := range r.exceptions {
			if e.name == name {
				old = e
			}
		}
		if old != nil {
			if m.has("fields") {
				return exceptionErr(en, ErrValidate, "Can not append exception fields to existing exception, only values", name)
			}
			if m.has("comps") {
				return exceptionErr(en, ErrValidate, "Can not append exception comps to existing exception, only values", name)
			}
			if isNull(m.get("values")) {
				l.warn(Message{
					Code: WarnAppendNoValues, Text: "Overriding/appending exception with no values",
					File: src.file, Line: en.Line, Column: en.Column, ItemType: "exception", ItemName: name,
				})
				continue
			}
			ex, err := decodeException(m, name, false)
			if err != nil {
				return err
			}
			old.values = append(old.values, ex.values...)
			continue
		}
		if isNull(m.get("fields")) {
			return exceptionErr(en, ErrValidate, "Rule exception must have fields property with a list of fields", name)
		}
		if isNull(m.get("values")) {
			return exceptionErr(en, ErrValidate, "Rule exception must have values property with a list of values", name)
		}
		ex, err := decodeException(m, name, true)
		if err != nil {
			return err
		}
		if err := validateException(ex, r.source); err != nil {
			return err
		}
		r.exceptions = append(r.exceptions, ex)
	}
	return nil
}

// quoteSpaced wraps a value that contains a space and does not start with a
// quote in double quotes, without escaping.
func quoteSpaced(v string) string {
	if strings.Contains(v, " ") && !strings.HasPrefix(v, `"`) && !strings.HasPrefix(v, `'`) {
		return `"` + v + `"`
	}
	return v
}

// conditionText returns the exception's condition text, or "" when it has
// no values.
func (ex *exception) conditionText() (string, error) {
	if len(ex.values) == 0 {
		return "", nil
	}
	if ex.scalarForm {
		items := make([]string, 0, len(ex.values))
		for _, v := range ex.values {
			if v.Kind != yaml.ScalarNode {
				return "", exceptionErr(v, ErrValidate, "Expected values array to contain a list of strings", ex.name)
			}
			items = append(items, quoteSpaced(v.Value))
		}
		return "(" + ex.fields[0] + " " + ex.comps[0] + " (" + strings.Join(items, ", ") + "))", nil
	}
	tuples := make([]string, 0, len(ex.values))
	for _, t := range ex.values {
		if t.Kind != yaml.SequenceNode || len(t.Content) != len(ex.fields) {
			return "", exceptionErr(t, ErrValidate, "Fields and values lists must have equal length", ex.name)
		}
		parts := make([]string, len(ex.fields))
		for i, el := range t.Content {
			el = resolveAlias(el)
			comp := "="
			if i < len(ex.comps) {
				comp = ex.comps[i]
			}
			var val string
			switch el.Kind {
			case yaml.SequenceNode:
				items, err := scalarSeq(el)
				if err != nil {
					return "", err
				}
				for j := range items {
					items[j] = quoteSpaced(items[j])
				}
				val = "(" + strings.Join(items, ", ") + ")"
			case yaml.ScalarNode:
				val = quoteSpaced(el.Value)
				if takesList(comp) && !strings.HasPrefix(val, "(") {
					val = "(" + val + ")"
				}
			default:
				return "", exceptionErr(el, ErrValidate, "Expected values array to contain a list of strings", ex.name)
			}
			parts[i] = ex.fields[i] + " " + comp + " " + val
		}
		tuples = append(tuples, "("+strings.Join(parts, " and ")+")")
	}
	return "(" + strings.Join(tuples, " or ") + ")", nil
}
