package policies

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
)

//go:embed default/*.rego
var defaultFS embed.FS

// Default returns the default policies that ship with Riposte, tests included.
func Default() fs.FS {
	sub, err := fs.Sub(defaultFS, "default")
	if err != nil {
		panic(err) // The embedded directory always exists.
	}
	return sub
}

// policyPackagePrefix is the package path under which every package is a
// policy. Helper packages may live elsewhere under data.riposte.
const policyPackagePrefix = "data.riposte.policies."

// actionsQuery builds the query that collects the actions of every policy:
// one expression per policy, binding a variable to its actions set. Naming
// each policy's actions rule, instead of iterating over
// data.riposte.policies, spares OPA a walk of the package tree on every
// evaluation.
func actionsQuery(policies []string) (ast.Body, []string) {
	body := make(ast.Body, 0, len(policies))
	vars := make([]string, len(policies))
	for i, name := range policies {
		ref := ast.MustParseRef(policyPackagePrefix + name)
		ref = append(ref, ast.StringTerm("actions"))
		vars[i] = fmt.Sprintf("actions%d", i)
		body = append(body, ast.Equality.Expr(ast.VarTerm(vars[i]), ast.RefTerm(ref...)))
	}
	return body, vars
}

// Options select and check the policies to load.
type Options struct {
	// Dir is a directory of .rego files that replaces the default policies.
	// Subdirectories are read too. Files ending in _test.rego are tests and are
	// not loaded.
	Dir string
	// FS replaces the default policies with the .rego files of a file system.
	// Ignored when Dir is set.
	FS fs.FS
	// Registry, when set, is used to check literal actionner names and
	// parameters in policy heads at load time.
	Registry *actionners.Registry
}

// Set is a compiled set of policies. It is safe for concurrent use.
type Set struct {
	// prepared is nil when no policy defines actions.
	prepared *rego.PreparedEvalQuery
	// vars are the query variables bound to each policy's actions, in the
	// order of names.
	vars     []string
	compiler *ast.Compiler
	revision string
	files    []string
	names    []string
	// actionners are the actionner names written in the heads of actions
	// rules, read before compilation rewrites non-literal heads.
	actionners []string
}

// Choice is one action that a policy chose.
type Choice struct {
	// Policy is the policy's name: its package path after riposte.policies.
	Policy string `json:"policy"`
	actionners.Action
	// DryRun is true when the policy asked for a dry run of this action.
	DryRun bool `json:"dry_run,omitempty"`
}

// Load reads, parses and compiles the policies into one prepared query. A
// policy that does not parse or compile gives a [*CompileError] that names the
// file, line and column of every problem.
func Load(ctx context.Context, opts Options) (*Set, error) {
	fsys, root := opts.FS, "."
	switch {
	case opts.Dir != "":
		info, err := os.Stat(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("policy directory: %w", err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("%s is not a directory: give a directory of .rego files", opts.Dir)
		}
		fsys, root = os.DirFS(opts.Dir), "."
	case fsys == nil:
		fsys = Default()
	}

	sources, err := readSources(fsys, root, opts.Dir)
	if err != nil {
		return nil, err
	}
	return compile(ctx, sources, opts.Registry)
}

// skipHidden reports whether d is a hidden directory below the root, such as
// the timestamped "..2024_05_01..." directories of a Kubernetes ConfigMap
// volume, whose files the top-level symbolic links already name.
func skipHidden(belowRoot bool, d fs.DirEntry) bool {
	return belowRoot && d.IsDir() && strings.HasPrefix(d.Name(), ".")
}

// source is one policy file.
type source struct {
	name string
	text string
}

func readSources(fsys fs.FS, root, dir string) ([]source, error) {
	var sources []source
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipHidden(p != root, d) {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := p
		if dir != "" {
			name = path.Join(dir, p)
		}
		sources = append(sources, source{name: name, text: string(data)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	if len(sources) == 0 {
		where := dir
		if where == "" {
			where = "the policy file system"
		}
		return nil, fmt.Errorf("no .rego files in %s", where)
	}
	slices.SortFunc(sources, func(a, b source) int { return strings.Compare(a.name, b.name) })
	return sources, nil
}

func compile(ctx context.Context, sources []source, registry *actionners.Registry) (*Set, error) {
	modules := make(map[string]*ast.Module, len(sources))
	var problems []Problem
	hash := sha256.New()
	for _, src := range sources {
		hash.Write([]byte(src.name))
		hash.Write([]byte{0})
		hash.Write([]byte(src.text))
		hash.Write([]byte{0})

		m, err := ast.ParseModuleWithOpts(src.name, src.text, ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			problems = append(problems, problemsFromOPA(err)...)
			continue
		}
		if !strings.HasPrefix(m.Package.Path.String(), "data.riposte.") {
			problems = append(problems, Problem{
				File: src.name, Line: m.Package.Location.Row, Column: m.Package.Location.Col,
				Code:    "riposte_package",
				Message: fmt.Sprintf("package %s is outside riposte: declare package riposte.policies.<name> for a policy or riposte.<name> for a helper", strings.TrimPrefix(m.Package.Path.String(), "data.")),
			})
			continue
		}
		modules[src.name] = m
	}
	if len(problems) > 0 {
		return nil, &CompileError{Problems: problems}
	}

	compiler := newCompiler()
	compiler.Compile(modules)
	if compiler.Failed() {
		return nil, &CompileError{Problems: problemsFromOPA(compiler.Errors)}
	}
	if registry != nil {
		if problems := checkLiteralActions(modules, registry); len(problems) > 0 {
			return nil, &CompileError{Problems: problems}
		}
	}

	s := &Set{
		compiler:   compiler,
		revision:   "sha256:" + hex.EncodeToString(hash.Sum(nil)),
		actionners: headActionners(modules),
	}
	for _, src := range sources {
		s.files = append(s.files, src.name)
	}
	for _, m := range modules {
		p := m.Package.Path.String()
		name, ok := strings.CutPrefix(p, policyPackagePrefix)
		if !ok || slices.Contains(s.names, name) || !definesActions(m) {
			continue
		}
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	if len(s.names) == 0 {
		return s, nil
	}

	body, vars := actionsQuery(s.names)
	prepared, err := rego.New(
		rego.ParsedQuery(body),
		rego.Compiler(compiler),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, &CompileError{Problems: problemsFromOPA(err)}
	}
	s.prepared = &prepared
	s.vars = vars
	return s, nil
}

// definesActions reports whether a module has an actions rule.
func definesActions(m *ast.Module) bool {
	for _, r := range m.Rules {
		if r.Head.Name.String() == "actions" || r.Head.Ref().String() == "actions" {
			return true
		}
	}
	return false
}

// checkLiteralActions validates actionner names and parameters written as
// literals in the heads of actions rules, so that a typo stops loading instead
// of failing when an alert arrives. Actions built in rule bodies are checked
// when they are evaluated.
func checkLiteralActions(modules map[string]*ast.Module, registry *actionners.Registry) []Problem {
	var problems []Problem
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
			problem := checkLiteralAction(obj, registry)
			if problem == "" {
				continue
			}
			loc := r.Head.Key.Location
			if loc == nil {
				loc = r.Location
			}
			problems = append(problems, Problem{
				File: loc.File, Line: loc.Row, Column: loc.Col,
				Code: "riposte_invalid_action", Message: problem,
			})
		}
	}
	slices.SortFunc(problems, func(a, b Problem) int {
		return strings.Compare(fmt.Sprintf("%s:%09d", a.File, a.Line), fmt.Sprintf("%s:%09d", b.File, b.Line))
	})
	return problems
}

func checkLiteralAction(obj ast.Object, registry *actionners.Registry) string {
	var unknown string
	obj.Until(func(key, _ *ast.Term) bool {
		switch key.Value {
		case keyActionner.Value, keyTarget.Value, keyParameters.Value, keyReason.Value, keyDryRun.Value:
			return false
		}
		if _, isString := key.Value.(ast.String); !isString {
			return false // A key built at evaluation time is checked then.
		}
		unknown = keyString(key)
		return true
	})
	if unknown != "" {
		return fmt.Sprintf("action has unknown key %q: use actionner, target, parameters, reason or dry_run", unknown)
	}
	// The parts written as literals are checked as evaluation would check
	// them, so that a mistake there fails the load instead of every alert
	// that the policy matches.
	if target := obj.Get(keyTarget); target != nil && isLiteral(target.Value) && !isNull(target.Value) {
		if _, err := parseTargetValue(target.Value); err != nil {
			return err.Error()
		}
	}
	if dry := obj.Get(keyDryRun); dry != nil && isLiteral(dry.Value) {
		if _, isBool := dry.Value.(ast.Boolean); !isBool {
			return fmt.Sprintf("dry_run %s is not a boolean: write true or false", describe(dry.Value))
		}
	}
	if reason := obj.Get(keyReason); reason != nil && isLiteral(reason.Value) {
		if _, isString := reason.Value.(ast.String); !isString {
			return fmt.Sprintf("reason %s is not a string", describe(reason.Value))
		}
	}
	nameTerm := obj.Get(ast.StringTerm("actionner"))
	if nameTerm == nil {
		return `action has no "actionner" key: name an actionner such as "process:kill"`
	}
	name, ok := nameTerm.Value.(ast.String)
	if !ok {
		return ""
	}
	a, err := registry.Get(string(name))
	if err != nil {
		return fmt.Sprintf("%v: registered actionners are %s", err, strings.Join(registry.Names(), ", "))
	}
	paramsTerm := obj.Get(ast.StringTerm("parameters"))
	if paramsTerm == nil || !paramsTerm.IsGround() {
		return ""
	}
	params, err := ast.JSON(paramsTerm.Value)
	if err != nil {
		return ""
	}
	m, ok := params.(map[string]any)
	if !ok {
		return fmt.Sprintf("parameters of %s are %v, not an object", name, params)
	}
	if err := a.Validate(m); err != nil {
		return fmt.Sprintf("parameters of %s: %v", name, err)
	}
	return ""
}

// isLiteral reports whether v is written out in full, with no reference,
// variable or call whose value is known only at evaluation.
func isLiteral(v ast.Value) bool {
	switch x := v.(type) {
	case ast.Null, ast.Boolean, ast.Number, ast.String:
		return true
	case ast.Object:
		literal := true
		x.Foreach(func(key, value *ast.Term) {
			literal = literal && isLiteral(key.Value) && isLiteral(value.Value)
		})
		return literal
	case *ast.Array:
		literal := true
		x.Foreach(func(item *ast.Term) { literal = literal && isLiteral(item.Value) })
		return literal
	}
	return false
}

// Revision identifies the policy sources: the SHA-256 of their names and
// contents, such as "sha256:3f1c...". It changes when any file changes.
func (s *Set) Revision() string { return s.revision }

// Files returns the loaded policy files, sorted.
func (s *Set) Files() []string { return slices.Clone(s.files) }

// Names returns the policy names, sorted: the paths after riposte.policies
// of the packages that define an actions rule.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Compiler returns the compiler that holds the loaded modules, for tools that
// run policy tests against them.
func (s *Set) Compiler() *ast.Compiler { return s.compiler }

// ErrEval is wrapped by errors from evaluating policies.
var ErrEval = errors.New("evaluate policies")

// Eval evaluates every policy on the input and returns the chosen actions,
// sorted by policy, then actionner, then target. An action document that is
// not well formed gives an error naming the policy, and Eval returns it with
// the well-formed actions, so that one policy's mistake does not cancel the
// actions of the others. When OPA fails to evaluate, Eval returns no actions.
func (s *Set) Eval(ctx context.Context, in Input) ([]Choice, error) {
	if s.prepared == nil {
		return nil, nil
	}
	// The bindings stay OPA terms: parseActionValue reads the few keys of an
	// action directly, which costs less than converting every result to
	// maps and slices first.
	rs, err := s.prepared.Eval(ctx, rego.EvalParsedInput(in.Value()), rego.EvalGenerateJSON(keepTerm))
	if err != nil {
		return nil, fmt.Errorf("%w on alert %s: %w", ErrEval, alertID(in.Alert), err)
	}
	var choices []Choice
	var invalid []string
	for _, r := range rs {
		for i, policy := range s.names {
			term, ok := r.Bindings[s.vars[i]].(*ast.Term)
			if !ok {
				continue
			}
			var actions []*ast.Term
			switch v := term.Value.(type) {
			case ast.Set:
				actions = v.Slice()
			case *ast.Array:
				actions = make([]*ast.Term, 0, v.Len())
				v.Foreach(func(t *ast.Term) { actions = append(actions, t) })
			default:
				continue
			}
			for _, doc := range actions {
				c, err := parseActionValue(doc.Value)
				if err != nil {
					invalid = append(invalid, fmt.Sprintf("policy %s: %v", policy, err))
					continue
				}
				c.Policy = policy
				choices = append(choices, c)
			}
		}
	}
	slices.SortFunc(choices, func(a, b Choice) int {
		if c := strings.Compare(a.Policy, b.Policy); c != 0 {
			return c
		}
		if c := strings.Compare(a.Actionner, b.Actionner); c != 0 {
			return c
		}
		return strings.Compare(a.Target.String(), b.Target.String())
	})
	if len(invalid) > 0 {
		return choices, fmt.Errorf("%w on alert %s: %s", ErrEval, alertID(in.Alert), strings.Join(invalid, "; "))
	}
	return choices, nil
}

func alertID(a *alert.Alert) string {
	if a == nil {
		return "(none)"
	}
	return a.UUID
}

// keepTerm is an rego.EvalGenerateJSON function that leaves each result as
// the OPA term.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// Keys of an action document.
var (
	keyActionner  = ast.StringTerm("actionner")
	keyTarget     = ast.StringTerm("target")
	keyParameters = ast.StringTerm("parameters")
	keyReason     = ast.StringTerm("reason")
	keyDryRun     = ast.StringTerm("dry_run")
)

// parseActionValue reads one action document:
//
//	{"actionner": "process:kill", "target": {"kind": "process", "pid": 4242},
//	 "parameters": {...}, "reason": "...", "dry_run": false}
func parseActionValue(v ast.Value) (Choice, error) {
	doc, ok := v.(ast.Object)
	if !ok {
		return Choice{}, fmt.Errorf("action is %s, not an object", describe(v))
	}
	var c Choice
	name, isString := valueOf(doc.Get(keyActionner)).(ast.String)
	if !isString || name == "" {
		return Choice{}, fmt.Errorf("action has actionner %s: name an actionner such as \"process:kill\"", describe(valueOf(doc.Get(keyActionner))))
	}
	c.Actionner = string(name)
	if reason := doc.Get(keyReason); reason != nil {
		s, isString := reason.Value.(ast.String)
		if !isString {
			return Choice{}, fmt.Errorf("action %s has reason %s, not a string", c.Actionner, describe(reason.Value))
		}
		c.Reason = string(s)
	}
	if params := doc.Get(keyParameters); params != nil && !isNull(params.Value) {
		if _, ok := params.Value.(ast.Object); !ok {
			return Choice{}, fmt.Errorf("action %s has parameters %s, not an object", c.Actionner, describe(params.Value))
		}
		m, err := ast.JSON(params.Value)
		if err != nil {
			return Choice{}, fmt.Errorf("action %s has parameters %s: %w", c.Actionner, params.Value, err)
		}
		c.Parameters, _ = m.(map[string]any)
	}
	if dry := doc.Get(keyDryRun); dry != nil {
		b, isBool := dry.Value.(ast.Boolean)
		if !isBool {
			return Choice{}, fmt.Errorf("action %s has dry_run %s, not a boolean", c.Actionner, describe(dry.Value))
		}
		c.DryRun = bool(b)
	}
	if target := doc.Get(keyTarget); target != nil && !isNull(target.Value) {
		t, err := parseTargetValue(target.Value)
		if err != nil {
			return Choice{}, fmt.Errorf("action %s: %w", c.Actionner, err)
		}
		c.Target = t
	}
	var unknown string
	doc.Until(func(key, _ *ast.Term) bool {
		switch key.Value {
		case keyActionner.Value, keyTarget.Value, keyParameters.Value, keyReason.Value, keyDryRun.Value:
			return false
		}
		unknown = keyString(key)
		return true
	})
	if unknown != "" {
		return Choice{}, fmt.Errorf("action %s has unknown key %q: use actionner, target, parameters, reason or dry_run", c.Actionner, unknown)
	}
	return c, nil
}

func parseTargetValue(v ast.Value) (actionners.Target, error) {
	doc, ok := v.(ast.Object)
	if !ok {
		return actionners.Target{}, fmt.Errorf("target is %s, not an object", describe(v))
	}
	var t actionners.Target
	var err error
	doc.Until(func(keyTerm, valTerm *ast.Term) bool {
		key, val := keyString(keyTerm), valTerm.Value
		if key == "pid" {
			var pid int64
			ok := false
			switch n := val.(type) {
			case ast.Number:
				pid, ok = alert.ToInt64(json.Number(n))
			case ast.String:
				pid, ok = alert.ToInt64(string(n))
			}
			if !ok || pid <= 0 || pid > 1<<22 {
				err = fmt.Errorf("target pid %s is not a process id", describe(val))
				return true
			}
			t.PID = int(pid)
			return false
		}
		s, isString := val.(ast.String)
		if !isString && !isNull(val) {
			err = fmt.Errorf("target %s is %s, not a string", key, describe(val))
			return true
		}
		switch key {
		case "kind":
			t.Kind = string(s)
		case "namespace":
			t.Namespace = string(s)
		case "name":
			t.Name = string(s)
		case "container":
			t.Container = string(s)
		case "node":
			t.Node = string(s)
		default:
			err = fmt.Errorf("target has unknown key %q: use kind, pid, namespace, name, container or node", key)
			return true
		}
		return false
	})
	if err != nil {
		return actionners.Target{}, err
	}
	switch t.Kind {
	case "process", "pod", "node":
	case "":
		return actionners.Target{}, errors.New(`target has no kind: set "kind" to "process", "pod" or "node"`)
	default:
		return actionners.Target{}, fmt.Errorf(`target kind %q is invalid: use "process", "pod" or "node"`, t.Kind)
	}
	return t, nil
}

// valueOf returns the value of a term, or nil for a missing term.
func valueOf(t *ast.Term) ast.Value {
	if t == nil {
		return nil
	}
	return t.Value
}

func isNull(v ast.Value) bool {
	_, ok := v.(ast.Null)
	return ok
}

// keyString returns an object key as text: a string key without quotes,
// any other key in Rego syntax.
func keyString(t *ast.Term) string {
	if s, ok := t.Value.(ast.String); ok {
		return string(s)
	}
	return t.String()
}

func describe(v ast.Value) string {
	if v == nil || isNull(v) {
		return "null"
	}
	doc, err := ast.JSON(v)
	if err != nil {
		return fmt.Sprintf("a %T", v)
	}
	data, err := json.Marshal(doc)
	if err != nil || len(data) > 80 {
		return fmt.Sprintf("a %T", doc)
	}
	return string(data)
}

// deniedBuiltins are the OPA built-in functions that policies may not call,
// with the reason given in the error. A decision must not wait on the
// network or depend on it, so that replay returns the same decision, and must
// not read the responder's environment, which holds credentials.
var deniedBuiltins = map[string]string{
	"http.send":          "policies may not make network requests: pass what a policy needs in the alert or in data",
	"net.lookup_ip_addr": "policies may not make network requests: pass what a policy needs in the alert or in data",
	"opa.runtime":        "policies may not read the responder's environment and configuration",
}

// newCompiler returns a compiler for policies: print statements off and the
// built-in functions of deniedBuiltins undefined.
func newCompiler() *ast.Compiler {
	caps := ast.CapabilitiesForThisVersion()
	builtins := make([]*ast.Builtin, 0, len(caps.Builtins))
	for _, b := range caps.Builtins {
		if _, denied := deniedBuiltins[b.Name]; !denied {
			builtins = append(builtins, b)
		}
	}
	caps.Builtins = builtins
	return ast.NewCompiler().WithEnablePrintStatements(false).WithCapabilities(caps)
}
