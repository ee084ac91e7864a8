package filter

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/fields"
)

// strCheck compares string values with literals.
type strCheck struct {
	src   *operand
	op    opcode
	lit   string
	lower string // lit in lower case, for icontains and iglob
	set   *strSet
	paths [][]string // pmatch patterns, split into components
	re    *regexp.Regexp
}

func newStrCheck(src *operand, op opcode, lits []*condition.Literal) (evaluator, error) {
	c := &strCheck{src: src, op: op}
	switch op {
	case opIn, opIntersects:
		items := make([]string, len(lits))
		for i, l := range lits {
			items[i] = l.Text
		}
		c.set = newStrSet(items)
		return c, nil
	case opPmatch:
		for _, l := range lits {
			c.paths = append(c.paths, splitPath(l.Text))
		}
		return c, nil
	}
	c.lit = lits[0].Text
	c.lower = strings.ToLower(c.lit)
	if op == opRegex {
		re, err := compileRegex(c.lit)
		if err != nil {
			return nil, &CompileError{Pos: lits[0].At, Msg: fmt.Sprintf("invalid regex pattern: %v", err), Err: err}
		}
		c.re = re
	}
	return c, nil
}

func (c *strCheck) eval(ev fields.Event, s *Scratch) bool {
	vals := c.src.values(ev, s, &s.vals)
	for i := range vals {
		v := vals[i].Str
		// The most common operators are tested inline.
		switch c.op {
		case opEq:
			if v == c.lit {
				return true
			}
		case opIn, opIntersects:
			if c.set.has(v) {
				return true
			}
		case opStartsWith:
			if len(v) >= len(c.lit) && v[:len(c.lit)] == c.lit {
				return true
			}
		default:
			if c.test(v) {
				return true
			}
		}
	}
	return false
}

func (c *strCheck) test(v string) bool {
	switch c.op {
	case opEq:
		return v == c.lit
	case opNe:
		return v != c.lit
	case opLt:
		return v < c.lit
	case opLe:
		return v <= c.lit
	case opGt:
		return v > c.lit
	case opGe:
		return v >= c.lit
	case opContains:
		return strings.Contains(v, c.lit)
	case opIContains:
		return containsFold(v, c.lower)
	case opStartsWith:
		return strings.HasPrefix(v, c.lit)
	case opEndsWith:
		return strings.HasSuffix(v, c.lit)
	case opGlob:
		return globMatch(c.lit, v, false)
	case opIGlob:
		return globMatch(c.lower, v, true)
	case opRegex:
		return c.re.MatchString(v)
	case opIn, opIntersects:
		return c.set.has(v)
	case opPmatch:
		for _, p := range c.paths {
			if pathMatch(p, v) {
				return true
			}
		}
	}
	return false
}

// containsFold reports whether s contains lowerSub, comparing ASCII letters
// case-insensitively, without allocating.
func containsFold(s, lowerSub string) bool {
	n := len(lowerSub)
	if n == 0 {
		return true
	}
	first := lowerSub[0]
	for i := 0; i+n <= len(s); i++ {
		if toLower(s[i]) != first {
			continue
		}
		j := 1
		for j < n && toLower(s[i+j]) == lowerSub[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func toLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// globMatch matches name against a shell pattern as fnmatch(3) does without
// flags: '*' matches any run of bytes including '/', '?' one byte,
// [abc], [a-z] and [!abc] (or [^abc]) one byte of a class, and '\' quotes
// the next byte. With fold, pattern must be lower case and name is compared
// in lower case.
func globMatch(pattern, name string, fold bool) bool {
	px, nx := 0, 0
	nextPx, nextNx := -1, -1
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextNx = px, nx+1
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					if ok, width := matchClass(pattern[px:], lowerIf(name[nx], fold)); width > 0 {
						if ok {
							px += width
							nx++
							continue
						}
						break
					}
					if lowerIf(name[nx], fold) == '[' {
						px++
						nx++
						continue
					}
				}
			case '\\':
				if px+1 < len(pattern) {
					c = pattern[px+1]
					if nx < len(name) && lowerIf(name[nx], fold) == c {
						px += 2
						nx++
						continue
					}
					break
				}
				fallthrough
			default:
				if nx < len(name) && lowerIf(name[nx], fold) == c {
					px++
					nx++
					continue
				}
			}
		}
		if nextNx > 0 && nextNx <= len(name) {
			px, nx = nextPx, nextNx
			continue
		}
		return false
	}
	return true
}

func lowerIf(c byte, fold bool) byte {
	if fold {
		return toLower(c)
	}
	return c
}

// matchClass matches c against the bracket expression at the start of p. It
// returns the width of the expression, or 0 when p has no closing bracket
// (then '[' is an ordinary byte).
func matchClass(p string, c byte) (bool, int) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	matched := false
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return matched != negate, i + 1
		}
		first = false
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				hi = p[i+2]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, 0
}

// splitPath splits a path into its non-empty components.
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// pathMatch reports whether the path v is the pattern path or below it,
// comparing component by component; pattern components may be globs.
func pathMatch(pattern []string, v string) bool {
	i := 0
	for len(v) > 0 && i < len(pattern) {
		for len(v) > 0 && v[0] == '/' {
			v = v[1:]
		}
		if v == "" {
			break
		}
		end := strings.IndexByte(v, '/')
		if end < 0 {
			end = len(v)
		}
		if !globMatch(pattern[i], v[:end], false) {
			return false
		}
		v = v[end:]
		i++
	}
	return i == len(pattern)
}
