package loader

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// source locates a node in a file, so that messages can name the file,
// line and column.
type source struct {
	file string
	node *yaml.Node
	text []string // the file's lines, for positions inside block scalars
}

func (s source) pos() (int, int) {
	if s.node == nil {
		return 0, 0
	}
	return s.node.Line, s.node.Column
}

type listDef struct {
	name     string
	items    []string
	firstSeq int
	lastSeq  int
	src      source
	used     bool
	compiled []string
}

type macroDef struct {
	name     string
	cond     string
	firstSeq int
	lastSeq  int
	src      source
	condSrc  source
	used     bool
}

// collection contains every item of the files loaded so far, after appends,
// overrides and redefinitions.
type collection struct {
	seq         int
	lists       []*listDef
	listByName  map[string]*listDef
	macros      []*macroDef
	macroByName map[string]*macroDef
	rules       []*ruleDef
	ruleByName  map[string]*ruleDef
	engine      string
	plugins     []PluginRequirement
}

func newCollection() *collection {
	return &collection{
		listByName:  map[string]*listDef{},
		macroByName: map[string]*macroDef{},
		ruleByName:  map[string]*ruleDef{},
	}
}

// loader carries the state of one load.
type loader struct {
	c    *collection
	res  *Result
	seen map[Message]bool
	opts Options
}

func (l *loader) warn(m Message) {
	if l.seen[m] {
		return
	}
	l.seen[m] = true
	l.res.Warnings = append(l.res.Warnings, m)
}

// Options configure a load.
type Options struct {
	// SuggestedOutput appends to the output of every syscall rule the
	// container and Kubernetes fields Falco's container plugin suggests
	// (container_id=%container.id and so on), skipping fields the output
	// already prints, as Falco does with suggested_output: true.
	SuggestedOutput bool
	// AppendOutput adds text and fields to the outputs of the rules each
	// entry selects, in order, as Falco's append_output setting does.
	AppendOutput []AppendOutput
}

// AppendOutput is one entry of Options.AppendOutput. An entry applies to a
// rule when every selector it sets matches.
type AppendOutput struct {
	// Source, when set, selects the rules of that source.
	Source string
	// Tags, when set, selects the rules that have every one of these tags.
	Tags []string
	// Rule, when set, selects the rule of that name.
	Rule string
	// Text is appended to the output after a space; it may use %fields.
	Text string
	// Fields are extra output fields: name to a format such as
	// "hello %evt.num", rendered as a string into the output fields.
	Fields map[string]string
	// FieldNames are fields, such as proc.pid, added to the output fields
	// with their typed values, as Falco's extra_fields entries that name a
	// field. They do not appear in the output text.
	FieldNames []string
}

func (a *AppendOutput) selects(r *ruleDef) bool {
	if a.Source != "" && a.Source != r.source {
		return false
	}
	if a.Rule != "" && a.Rule != r.name {
		return false
	}
	for _, want := range a.Tags {
		found := false
		for _, t := range r.tags {
			if t == want {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// suggestedFields are the fields Falco's container plugin flags as
// suggested, in its order.
var suggestedFields = []string{"container.id", "container.name", "container.image.repository", "container.image.tag", "k8s.pod.name", "k8s.ns.name"}

// Load loads files in order into one ruleset. It stops at the first error;
// the Result then contains it, and the Ruleset is nil.
func Load(opts Options, files ...File) (*Ruleset, *Result) {
	l := &loader{c: newCollection(), res: &Result{}, seen: map[Message]bool{}, opts: opts}
	var set *Ruleset
	for _, f := range files {
		if !l.loadFile(f) {
			return nil, l.res
		}
		set = l.compile()
		if set == nil {
			return nil, l.res
		}
	}
	if set == nil {
		set = &Ruleset{}
	}
	l.res.Lists = len(l.c.lists)
	l.res.Macros = len(l.c.macros)
	l.res.Rules = len(l.c.rules)
	l.res.RequiredEngineVersion = l.c.engine
	l.res.PluginRequirements = l.c.plugins
	return set, l.res
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// loadFile decodes one file and collects its items; it reports whether the
// file loaded without error.
func (l *loader) loadFile(f File) bool {
	lines := strings.Split(string(f.Content), "\n")
	dec := yaml.NewDecoder(bytes.NewReader(f.Content))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			m := Message{Code: ErrYAMLParse, Text: err.Error(), File: f.Name, ItemType: "rules content"}
			if sub := yamlLineRE.FindStringSubmatch(err.Error()); sub != nil {
				m.Line, _ = strconv.Atoi(sub[1])
				m.Column = 1
			}
			l.res.Errors = append(l.res.Errors, m)
			return false
		}
		docs = append(docs, &doc)
	}
	for _, doc := range docs {
		root := doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = resolveAlias(root.Content[0])
		}
		if isNull(root) {
			continue
		}
		fail := func(text string) bool {
			l.res.Errors = append(l.res.Errors, Message{
				Code: ErrYAMLValidate, Text: text, File: f.Name,
				Line: root.Line, Column: root.Column, ItemType: "rules content",
			})
			return false
		}
		switch root.Kind {
		case yaml.ScalarNode:
			return fail("Rules content is not yaml")
		case yaml.MappingNode:
			return fail("Rules content is not yaml array of objects")
		case yaml.SequenceNode:
		default:
			return fail("Rules content is not yaml")
		}
		for _, item := range root.Content {
			item = resolveAlias(item)
			if isNull(item) {
				continue
			}
			src := source{file: f.Name, node: item, text: lines}
			if item.Kind != yaml.MappingNode {
				l.res.Errors = append(l.res.Errors, Message{
					Code: ErrYAMLValidate, Text: "Unexpected element type. Each element should be a yaml associative array.",
					File: f.Name, Line: item.Line, Column: item.Column, ItemType: "rules content item",
				})
				return false
			}
			if !l.item(src, newMapping(item)) {
				return false
			}
		}
	}
	return true
}

// item dispatches one item by its kind.
func (l *loader) item(src source, m *mapping) bool {
	l.c.seq++
	kind := ""
	for _, k := range []string{"required_engine_version", "required_plugin_versions", "list", "macro", "rule"} {
		if m.has(k) || m.keyNode(k) != nil {
			kind = k
			break
		}
	}

	if kind == "" {
		line, col := src.pos()
		l.warn(Message{Code: WarnUnknownItem, Text: "Unknown top level item", File: src.file, Line: line, Column: col, ItemType: "rules content item"})
		return true
	}

	name := ""
	if v := m.get(kind); v != nil && v.Kind == yaml.ScalarNode && kind != "required_engine_version" {
		name = v.Value
	}

	l.unknownKeys(src, m, kind, name)
	var err error
	switch kind {
	case "required_engine_version":
		err = l.engineVersion(m)
	case "required_plugin_versions":
		err = l.pluginVersions(src, m)
	case "list":
		err = l.list(src, m)
	case "macro":
		err = l.macro(src, m)
	case "rule":
		err = l.rule(src, m)
	}

	if err == nil {
		return true
	}

	l.fail(src, kind, name, err)
	return false
}

// fail records err as the load's error, in the context of an item.
func (l *loader) fail(src source, kind, name string, err error) {
	msg := Message{Code: ErrValidate, Text: err.Error(), File: src.file, ItemType: kind, ItemName: name}
	msg.Line, msg.Column = src.pos()
	var ie *itemError
	if errors.As(err, &ie) {
		msg.Code = ie.code
		if ie.node != nil {
			msg.Line, msg.Column = ie.node.Line, ie.node.Column
		}
		if ie.itemType != "" {
			msg.ItemType, msg.ItemName = ie.itemType, ie.itemName
		}
	}
	var ce *condError
	if errors.As(err, &ce) {
		msg.Code = ce.code
		msg.Line, msg.Column = ce.line, ce.col
		if ce.itemType != "" {
			msg.ItemType = ce.itemType
		}
	}
	l.res.Errors = append(l.res.Errors, msg)
}

var allowedKeys = map[string]map[string]bool{
	"list":  set("list", "items", "append", "override"),
	"macro": set("macro", "condition", "append", "override"),
	"rule": set("rule", "condition", "output", "desc", "priority", "source", "enabled", "capture",
		"capture_duration", "warn_evttypes", "skip-if-unknown-filter", "tags", "exceptions", "override", "append"),
	"required_engine_version":  set("required_engine_version"),
	"required_plugin_versions": set("required_plugin_versions"),
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func (l *loader) unknownKeys(src source, m *mapping, kind, name string) {
	for _, e := range m.entries {
		if !allowedKeys[kind][e.key.Value] {
			l.warn(Message{
				Code: WarnUnknownKey, Text: "Unknown key '" + e.key.Value + "'. The key will be ignored.",
				File: src.file, Line: e.key.Line, Column: e.key.Column, ItemType: kind, ItemName: name,
			})
		}
	}
}

func (l *loader) engineVersion(m *mapping) error {
	s, v, err := m.scalar("required_engine_version")
	if err != nil {
		return err
	}
	req := s
	if n, perr := strconv.ParseUint(s, 10, 64); perr == nil {
		req = "0." + strconv.FormatUint(n, 10) + ".0"
	} else if !semverRE.MatchString(s) {
		return validateErr(v, "Unable to parse engine version '"+s+"' as a semver string. Expected \"x.y.z\" semver format.")
	}
	if !compatible(EngineVersion, req) {
		return semanticErr(v, "Rules require engine version "+req+", but engine version is "+EngineVersion)
	}
	if l.c.engine == "" || compareSemver(req, l.c.engine) > 0 {
		l.c.engine = req
	}
	return nil
}

// compatible reports whether version have satisfies requirement want:
// the same major version and at least want.
func compatible(have, want string) bool {
	h, w := parseSemver(have), parseSemver(want)
	return h[0] == w[0] && compareSemver(have, want) >= 0
}

func parseSemver(s string) [3]uint64 {
	var out [3]uint64
	for i, p := range strings.SplitN(s, ".", 3) {
		out[i], _ = strconv.ParseUint(p, 10, 64)
	}
	return out
}

func compareSemver(a, b string) int {
	x, y := parseSemver(a), parseSemver(b)
	for i := range x {
		switch {
		case x[i] < y[i]:
			return -1
		case x[i] > y[i]:
			return 1
		}
	}
	return 0
}

func (l *loader) pluginVersions(src source, m *mapping) error {
	v := m.get("required_plugin_versions")
	if isNull(v) {
		return validateErr(v, "Mapping for key 'required_plugin_versions' is empty")
	}
	if v.Kind != yaml.SequenceNode {
		return validateErr(v, "Value is not a sequence")
	}
	for _, e := range v.Content {
		e = resolveAlias(e)
		if e.Kind != yaml.MappingNode {
			return validateErr(e, "Unexpected element type. Each element should be a yaml associative array.")
		}
		em := newMapping(e)
		req := PluginRequirement{File: src.file, Line: e.Line, Column: e.Column}
		seen := map[string]bool{}
		add := func(pm *mapping) error {
			name, _, err := pm.nonEmpty("name")
			if err != nil {
				return err
			}
			ver, vn, err := pm.nonEmpty("version")
			if err != nil {
				return err
			}
			if !semverRE.MatchString(ver) {
				return semanticErr(vn, "Invalid required version '"+ver+"' for plugin '"+name+"'")
			}
			if seen[name] {
				return semanticErr(pm.node, "Defined multiple alternative version requirements for plugin '"+name+"'")
			}
			seen[name] = true
			req.Alternatives = append(req.Alternatives, PluginVersion{Name: name, Version: ver})
			return nil
		}
		if err := add(em); err != nil {
			return err
		}
		if alts := em.get("alternatives"); !isNull(alts) {
			if alts.Kind != yaml.SequenceNode {
				return validateErr(alts, "Value is not a sequence")
			}
			for _, a := range alts.Content {
				a = resolveAlias(a)
				if a.Kind != yaml.MappingNode {
					return validateErr(a, "Unexpected element type. Each element should be a yaml associative array.")
				}
				if err := add(newMapping(a)); err != nil {
					return err
				}
			}
		}
		l.c.plugins = append(l.c.plugins, req)
	}
	return nil
}

// appendFlag reads the legacy append key and warns that it is deprecated.
func (l *loader) appendFlag(src source, m *mapping, kind, name string) (bool, error) {
	app, _, err := m.optBool("append")
	if err != nil {
		return false, err
	}
	if app {
		k := m.keyNode("append")
		l.warn(Message{
			Code: WarnDeprecatedItem, Text: "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
			File: src.file, Line: k.Line, Column: k.Column, ItemType: kind, ItemName: name,
		})
		if m.has("override") {
			return false, validateErr(m.keyNode("override"), "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.")
		}
	}
	return app, nil
}

// overrides decodes the override mapping: key to "append" or "replace".
func overrides(m *mapping, appendable, replaceable map[string]bool) (map[string]string, []string, error) {
	v := m.get("override")
	if v == nil {
		return nil, nil, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, nil, validateErr(v, "Value is not a mapping")
	}
	out := map[string]string{}
	var order []string
	for _, e := range newMapping(v).entries {
		key, op := e.key.Value, ""
		if e.value.Kind == yaml.ScalarNode {
			op = e.value.Value
		}
		switch op {
		case "append":
			if !appendable[key] {
				return nil, nil, validateErr(e.value, "Key '"+key+"' cannot be appended to, use 'replace' instead")
			}
		case "replace":
			if !replaceable[key] {
				return nil, nil, validateErr(e.value, "Key '"+key+"' cannot be replaced")
			}
		default:
			allowed := ""
			if appendable[key] {
				allowed += "append "
			}
			if replaceable[key] {
				allowed += "replace "
			}
			return nil, nil, validateErr(e.value, "Invalid override operation for key '"+key+"': '"+op+"'. Allowed values are: "+allowed)
		}
		out[key] = op
		order = append(order, key)
	}
	return out, order, nil
}

func (l *loader) list(src source, m *mapping) error {
	name, _, err := m.nonEmpty("list")
	if err != nil {
		return err
	}

	if !listNameRE.MatchString(name) {
		line, col := src.pos()
		l.warn(Message{
			Code: WarnInvalidListName, Text: "List has an invalid name. List names should match a regular expression: " + listNameRE.String(),
			File: src.file, Line: line, Column: col, ItemType: "list", ItemName: name,
		})
	}

	app, err := l.appendFlag(src, m, "list", name)
	if err != nil {
		return err
	}

	ov, _, err := overrides(m, set("items"), set("items"))
	if err != nil {
		return err
	}

	items, _, err := m.requiredSeq("items")
	if err != nil {
		return err
	}

	if ov["items"] == "append" {
		app = true
	}

	old := l.c.listByName[name]
	if app {
		if old == nil {
			return semanticErr(m.node, "List uses 'append' or 'override.items: append' but no list by that name already exists")
		}
		old.items = append(old.items, items...)
		old.lastSeq = l.c.seq
		return nil
	}

	if old != nil {
		old.items = items
		old.lastSeq = l.c.seq
		return nil
	}

	d := &listDef{name: name, items: items, firstSeq: l.c.seq, lastSeq: l.c.seq, src: src}
	l.c.lists = append(l.c.lists, d)
	l.c.listByName[name] = d
	return nil
}

func (l *loader) macro(src source, m *mapping) error {
	name, _, err := m.nonEmpty("macro")
	if err != nil {
		return err
	}

	if !macroNameRE.MatchString(name) {
		line, col := src.pos()
		l.warn(Message{
			Code: WarnInvalidMacroName, Text: "Macro has an invalid name. Macro names should match a regular expression: " + macroNameRE.String(),
			File: src.file, Line: line, Column: col, ItemType: "macro", ItemName: name,
		})
	}

	app, err := l.appendFlag(src, m, "macro", name)
	if err != nil {
		return err
	}

	ov, _, err := overrides(m, set("condition"), set("condition"))
	if err != nil {
		return err
	}

	cond, condNode, err := m.nonEmpty("condition")
	if err != nil {
		return err
	}

	if ov["condition"] == "append" {
		app = true
	}

	condSrc := source{file: src.file, node: condNode, text: src.text}
	old := l.c.macroByName[name]
	if app {
		if old == nil {
			return semanticErr(m.node, "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists")
		}
		old.cond += " " + cond
		old.lastSeq = l.c.seq
		return nil
	}

	if old != nil {
		old.cond = cond
		old.condSrc = condSrc
		old.lastSeq = l.c.seq
		return nil
	}

	d := &macroDef{name: name, cond: cond, firstSeq: l.c.seq, lastSeq: l.c.seq, src: src, condSrc: condSrc}
	l.c.macros = append(l.c.macros, d)
	l.c.macroByName[name] = d
	return nil
}
