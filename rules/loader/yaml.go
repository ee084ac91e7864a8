package loader

import (
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// itemError is a load failure while reading one item; the loader turns it
// into a Message with the item's context.
type itemError struct {
	code string
	text string
	node *yaml.Node // the value the error is about, or nil for the item
	// itemType and itemName, when set, replace the context of the
	// enclosing item, as for errors about one exception of a rule.
	itemType string
	itemName string
}

func (e *itemError) Error() string { return e.text }

func validateErr(node *yaml.Node, text string) *itemError {
	return &itemError{code: ErrYAMLValidate, text: text, node: node}
}

func semanticErr(node *yaml.Node, text string) *itemError {
	return &itemError{code: ErrValidate, text: text, node: node}
}

// entry is one key and value of a mapping.
type entry struct {
	key   *yaml.Node
	value *yaml.Node
}

// mapping is a decoded YAML mapping that keeps key order and positions.
type mapping struct {
	node    *yaml.Node
	entries []entry
}

func newMapping(n *yaml.Node) *mapping {
	m := &mapping{node: n}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m.entries = append(m.entries, entry{key: n.Content[i], value: resolveAlias(n.Content[i+1])})
	}
	return m
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// get returns the value of key, or nil when the key is absent. A later
// duplicate key wins, as in yaml-cpp maps.
func (m *mapping) get(key string) *yaml.Node {
	var v *yaml.Node
	for _, e := range m.entries {
		if e.key.Value == key {
			v = e.value
		}
	}
	return v
}

func (m *mapping) has(key string) bool { return m.get(key) != nil }

func (m *mapping) keyNode(key string) *yaml.Node {
	for _, e := range m.entries {
		if e.key.Value == key {
			return e.key
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// scalar returns the text of the required scalar key.
func (m *mapping) scalar(key string) (string, *yaml.Node, error) {
	v := m.get(key)
	if v == nil {
		return "", nil, validateErr(m.node, "Item has no mapping for key '"+key+"'")
	}
	if isNull(v) {
		return "", v, validateErr(v, "Mapping for key '"+key+"' is empty")
	}
	if v.Kind != yaml.ScalarNode {
		return "", v, validateErr(v, "Value is not a scalar value")
	}
	return v.Value, v, nil
}

// nonEmpty returns the text of the required non-empty scalar key.
func (m *mapping) nonEmpty(key string) (string, *yaml.Node, error) {
	s, v, err := m.scalar(key)
	if err == nil && s == "" {
		return "", v, validateErr(v, "Value must be non-empty")
	}
	return s, v, err
}

// optScalar returns the text of an optional scalar key; a null value counts
// as absent.
func (m *mapping) optScalar(key string) (string, bool, error) {
	v := m.get(key)
	if isNull(v) {
		return "", false, nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", false, validateErr(v, "Value is not a scalar value")
	}
	return v.Value, true, nil
}

var yamlBools = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range [][2]string{{"true", "false"}, {"yes", "no"}, {"on", "off"}, {"y", "n"}} {
		for i, w := range p {
			val := i == 0
			m[w] = val
			m[upper(w)] = val
			m[upper(w[:1])+w[1:]] = val
		}
	}
	return m
}()

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// optBool decodes an optional boolean key as yaml-cpp does.
func (m *mapping) optBool(key string) (bool, bool, error) {
	s, ok, err := m.optScalar(key)
	if err != nil || !ok {
		return false, ok, err
	}
	b, valid := yamlBools[s]
	if !valid {
		return false, true, validateErr(m.get(key), "Can't decode YAML scalar value")
	}
	return b, true, nil
}

// optUint decodes an optional unsigned integer key.
func (m *mapping) optUint(key string) (uint64, bool, error) {
	s, ok, err := m.optScalar(key)
	if err != nil || !ok {
		return 0, ok, err
	}
	u, perr := strconv.ParseUint(s, 10, 64)
	if perr != nil {
		return 0, true, validateErr(m.get(key), "Can't decode YAML scalar value")
	}
	return u, true, nil
}

// scalarSeq decodes a sequence of scalars.
func scalarSeq(v *yaml.Node) ([]string, error) {
	v = resolveAlias(v)
	if v.Kind != yaml.SequenceNode {
		return nil, validateErr(v, "Value is not a sequence")
	}
	out := make([]string, 0, len(v.Content))
	for _, it := range v.Content {
		it = resolveAlias(it)
		if it.Kind != yaml.ScalarNode {
			return nil, validateErr(it, "sequence value is not scalar")
		}
		out = append(out, it.Value)
	}
	return out, nil
}

// requiredSeq decodes the required sequence-of-scalars key.
func (m *mapping) requiredSeq(key string) ([]string, *yaml.Node, error) {
	v := m.get(key)
	if v == nil {
		return nil, nil, validateErr(m.node, "Item has no mapping for key '"+key+"'")
	}
	if isNull(v) {
		return nil, v, validateErr(v, "Mapping for key '"+key+"' is empty")
	}
	out, err := scalarSeq(v)
	return out, v, err
}

var (
	listNameRE  = regexp.MustCompile(`^[^()"'\s=,]+$`)
	macroNameRE = regexp.MustCompile(`^[a-zA-Z]+[a-zA-Z0-9_]*$`)
	semverRE    = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
)
