package policies

import (
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// ErrCompile is wrapped by a [*CompileError] so callers can test for it with
// errors.Is.
var ErrCompile = errors.New("policy does not compile")

// Problem is one error in one policy file.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Code is OPA's error code, such as "rego_parse_error", or a Riposte code
	// such as "riposte_invalid_parameters".
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details are OPA's further lines about the problem, such as the types
	// that a function call has and wants.
	Details []string `json:"details,omitempty"`
}

// String formats the problem as file:line:column: message (code), with
// each detail line after it, indented.
func (p Problem) String() string {
	s := fmt.Sprintf("%s:%d:%d: %s (%s)", p.File, p.Line, p.Column, p.Message, p.Code)
	for _, line := range p.Details {
		s += "\n\t" + line
	}
	return s
}

// CompileError lists every problem found while loading policies.
type CompileError struct {
	Problems []Problem
}

func (e *CompileError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("policy does not compile: ")
	} else {
		fmt.Fprintf(&b, "policies do not compile, %d errors:", len(e.Problems))
	}
	for i, p := range e.Problems {
		if len(e.Problems) > 1 || i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is reports whether target is ErrCompile.
func (e *CompileError) Is(target error) bool {
	return target == ErrCompile
}

// problemsFromOPA converts OPA's errors to problems, keeping their locations.
func problemsFromOPA(err error) []Problem {
	var astErrs ast.Errors
	if errors.As(err, &astErrs) {
		problems := make([]Problem, 0, len(astErrs))
		for _, e := range astErrs {
			problems = append(problems, problemFromAST(e))
		}
		return problems
	}
	var astErr *ast.Error
	if errors.As(err, &astErr) {
		return []Problem{problemFromAST(astErr)}
	}
	return []Problem{{Code: "riposte_error", Message: err.Error()}}
}

func problemFromAST(e *ast.Error) Problem {
	p := Problem{Code: e.Code, Message: e.Message}
	for name, reason := range deniedBuiltins {
		if strings.HasSuffix(e.Message, "undefined function "+name) {
			p.Message += ": " + reason
		}
	}
	if e.Location != nil {
		p.File = e.Location.File
		p.Line = e.Location.Row
		p.Column = e.Location.Col
	}
	if e.Details != nil {
		for _, line := range e.Details.Lines() {
			if line = strings.TrimSpace(line); line != "" {
				p.Details = append(p.Details, line)
			}
		}
	}
	return p
}
