package policies

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Pass     bool          `json:"pass"`
	Skip     bool          `json:"skip,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// String formats the result as "PASS file:line package.name".
func (r TestResult) String() string {
	status := "PASS"
	switch {
	case r.Skip:
		status = "SKIP"
	case r.Error != "":
		status = "ERROR"
	case !r.Pass:
		status = "FAIL"
	}
	s := fmt.Sprintf("%s %s:%d %s.%s", status, r.File, r.Line, r.Package, r.Name)
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// Test runs the Rego tests (rules named test_*) of the policies that opts
// select, with OPA's test runner, as `opa test` does. Results are sorted by
// file and line. A policy that does not compile gives a [*CompileError].
func Test(ctx context.Context, opts Options) ([]TestResult, error) {
	fsys := opts.FS
	if opts.Dir != "" {
		info, err := os.Stat(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("policy directory: %w", err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("%s is not a directory: give a directory of .rego files", opts.Dir)
		}
		fsys = os.DirFS(opts.Dir)
	} else if fsys == nil {
		fsys = Default()
	}

	modules := map[string]*ast.Module{}
	var problems []Problem
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipHidden(p != ".", d) {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := p
		if opts.Dir != "" {
			name = path.Join(opts.Dir, p)
		}
		m, err := ast.ParseModuleWithOpts(name, string(data), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			problems = append(problems, problemsFromOPA(err)...)
			return nil
		}
		modules[name] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("test policies: %w", err)
	}
	if len(problems) > 0 {
		return nil, &CompileError{Problems: problems}
	}

	ch, err := tester.NewRunner().
		SetCompiler(newCompiler()).
		SetStore(inmem.New()).
		SetModules(modules).
		SetDefaultRegoVersion(ast.RegoV1).
		RunTests(ctx, nil)
	if err != nil {
		return nil, &CompileError{Problems: problemsFromOPA(err)}
	}

	var results []TestResult
	for r := range ch {
		tr := TestResult{
			Package:  strings.TrimPrefix(r.Package, "data."),
			Name:     r.Name,
			Pass:     r.Pass(),
			Skip:     r.Skip,
			Duration: r.Duration,
		}
		if r.Location != nil {
			tr.File = r.Location.File
			tr.Line = r.Location.Row
		}
		if r.Error != nil {
			tr.Error = r.Error.Error()
		}
		results = append(results, tr)
	}
	slices.SortFunc(results, func(a, b TestResult) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return results, nil
}
