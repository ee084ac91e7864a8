package condition

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultMaxDepth is the parser's default nesting limit, as in libsinsp. The
// limit counts grammar levels, about five per parenthesis, so the default
// allows about 19 nested parentheses.
const DefaultMaxDepth = 100

// RuleMaxDepth is the nesting limit Falco's rule loader uses for rule and
// macro conditions.
const RuleMaxDepth = 1000

// ErrSyntax is the error (through errors.Is) of Parse for input that is not
// a valid condition.
var ErrSyntax = errors.New("syntax error")

// SyntaxError is a parse failure at a position of the input.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// transformers are the names allowed before "(" in a field expression.
var transformers = []string{"tolower", "toupper", "b64", "basename", "len"}

// Operators in the order the lexer tries them.
var (
	numOps  = []string{"<=", "<", ">=", ">"}
	strOps  = []string{"==", "=", "!=", "glob", "iglob", "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith", "regex"}
	listOps = []string{"intersects", "in", "pmatch"}
)

// Parse parses a condition with the given nesting limit (DefaultMaxDepth or
// RuleMaxDepth when maxDepth <= 0 is not wanted). The whole input must be a
// condition; errors are *SyntaxError with Falco's messages.
func Parse(input string, maxDepth int) (Node, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	p := &parser{in: input, max: maxDepth, line: 1, col: 1}
	return p.parse()
}

type parser struct {
	in    string
	pos   int
	line  int
	col   int
	depth int
	max   int
	last  string // the last token read, for error messages
}

type bailout struct{ err *SyntaxError }

func (p *parser) parse() (n Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			n, err = nil, b.err
		}
	}()
	p.skipBlanks()
	if p.pos >= len(p.in) {
		p.fail("filter input string is empty")
	}
	n = p.parseOr()
	p.skipBlanks()
	if p.pos < len(p.in) {
		p.fail(fmt.Sprintf("unexpected token after '%s', expecting 'or', 'and'", p.last))
	}
	return n, nil
}

func (p *parser) fail(msg string) {
	panic(bailout{&SyntaxError{Pos: p.here(), Msg: msg}})
}

func (p *parser) here() Pos { return Pos{Offset: p.pos, Line: p.line, Column: p.col} }

func (p *parser) enter() {
	p.depth++
	if p.depth > p.max {
		p.fail(fmt.Sprintf("exceeded max depth limit of %d", p.max))
	}
}

func (p *parser) leave() { p.depth-- }

// advance consumes n bytes, keeping line and column.
func (p *parser) advance(n int) {
	for i := 0; i < n; i++ {
		if p.in[p.pos] == '\n' {
			p.line++
			p.col = 1
		} else {
			p.col++
		}
		p.pos++
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\b' || c == '\r' || c == '\n' }

func (p *parser) skipBlanks() bool {
	start := p.pos
	for p.pos < len(p.in) && isBlank(p.in[p.pos]) {
		p.advance(1)
	}
	return p.pos > start
}

func (p *parser) peek(off int) byte {
	if p.pos+off < len(p.in) {
		return p.in[p.pos+off]
	}
	return 0
}

func (p *parser) hasPrefix(s string) bool { return strings.HasPrefix(p.in[p.pos:], s) }

// keyword reports whether the input at the current position is kw followed
// by a blank or "(".
func (p *parser) keyword(kw string) bool {
	if !p.hasPrefix(kw) {
		return false
	}
	c := p.peek(len(kw))
	return isBlank(c) || c == '('
}

func (p *parser) expect(s, msg string) {
	if !p.hasPrefix(s) {
		p.fail(msg)
	}
	p.last = s
	p.advance(len(s))
}

func (p *parser) parseOr() Node {
	p.enter()
	defer p.leave()
	at := p.here()
	first := p.parseAnd()
	var children []Node
	for {
		save := p.save()
		p.skipBlanks()
		if !p.keyword("or") {
			p.restore(save)
			break
		}
		p.last = "or"
		p.advance(2)
		p.skipBlanks()
		children = append(children, p.parseAnd())
	}
	if children == nil {
		return first
	}
	return &Or{At: at, Children: append([]Node{first}, children...)}
}

func (p *parser) parseAnd() Node {
	p.enter()
	defer p.leave()
	at := p.here()
	first := p.parseNot()
	var children []Node
	for {
		save := p.save()
		p.skipBlanks()
		if !p.keyword("and") {
			p.restore(save)
			break
		}
		p.last = "and"
		p.advance(3)
		p.skipBlanks()
		children = append(children, p.parseNot())
	}
	if children == nil {
		return first
	}
	return &And{At: at, Children: append([]Node{first}, children...)}
}

type state struct{ pos, line, col int }

func (p *parser) save() state     { return state{p.pos, p.line, p.col} }
func (p *parser) restore(s state) { p.pos, p.line, p.col = s.pos, s.line, s.col }

func (p *parser) parseNot() Node {
	p.enter()
	defer p.leave()
	at := p.here()
	negate := false
	for p.hasPrefix("not") {
		c := p.peek(3)
		if isBlank(c) {
			p.last = "not"
			p.advance(3)
			p.skipBlanks()
			negate = !negate
			continue
		}
		if c == '(' {
			p.last = "not"
			p.advance(3)
			negate = !negate
			break
		}
		break
	}
	child := p.parseCheck()
	if negate {
		return &Not{At: at, Child: child}
	}
	return child
}

func (p *parser) parseCheck() Node {
	p.enter()
	defer p.leave()
	at := p.here()
	if p.peek(0) == '(' {
		p.last = "("
		p.advance(1)
		p.enter()
		p.skipBlanks()
		n := p.parseOr()
		p.skipBlanks()
		p.expect(")", "expected a ')' token")
		p.leave()
		return n
	}
	if name := p.transformerName(); name != "" {
		left := p.parseTransformer(name, false)
		return p.parseCondition(at, left)
	}
	word := p.scanIdentifierOrField()
	if word == "" {
		p.fail("expected a field, a transformer, a macro name or '('")
	}
	if !strings.Contains(word, ".") {
		p.last = word
		p.advance(len(word))
		return &Identifier{At: at, Name: word}
	}
	field := p.parseField()
	return p.parseCondition(at, field)
}

// transformerName returns the transformer name at the current position when
// it is directly followed by "(", or "".
func (p *parser) transformerName() string {
	for _, t := range transformers {
		if p.hasPrefix(t) && p.peek(len(t)) == '(' {
			return t
		}
	}
	return ""
}

// scanIdentifierOrField returns the identifier [a-zA-Z]+[a-zA-Z0-9_]* or
// field name (identifiers joined by dots) at the current position, without
// consuming it.
func (p *parser) scanIdentifierOrField() string {
	s := p.in[p.pos:]
	n := scanIdentifier(s)
	if n == 0 {
		return ""
	}
	for n < len(s) && s[n] == '.' {
		m := scanIdentifier(s[n+1:])
		if m == 0 {
			break
		}
		n += 1 + m
	}
	return s[:n]
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func scanIdentifier(s string) int {
	n := 0
	for n < len(s) && isAlpha(s[n]) {
		n++
	}
	if n == 0 {
		return 0
	}
	for n < len(s) && (isAlpha(s[n]) || isDigit(s[n]) || s[n] == '_') {
		n++
	}
	return n
}

// parseField parses a field name with an optional [argument].
func (p *parser) parseField() *Field {
	at := p.here()
	name := p.scanIdentifierOrField()
	if !strings.Contains(name, ".") {
		p.fail("expected a field name")
	}
	p.last = name
	p.advance(len(name))
	f := &Field{At: at, Name: name}
	if p.peek(0) != '[' {
		return f
	}

	p.advance(1)
	switch c := p.peek(0); {
	case c == '"' || c == '\'':
		f.Arg = p.parseQuoted()
	default:
		n := 0
		s := p.in[p.pos:]
		for n < len(s) && s[n] != '[' && s[n] != ']' && s[n] != '"' && s[n] != '\'' && !isBlank(s[n]) {
			n++
		}
		if n == 0 {
			p.fail("expected a valid field argument: a quoted string or a bare string")
		}
		f.Arg = s[:n]
		p.advance(n)
	}
	f.HasArg = true
	p.expect("]", "expected a ']' token")
	return f
}

// parseTransformer parses name(expr); rhs allows val and reports nesting
// rules of the right side.
func (p *parser) parseTransformer(name string, rhs bool) *Transformer {
	p.enter()
	defer p.leave()
	at := p.here()
	p.last = name
	p.advance(len(name) + 1)
	p.skipBlanks()
	var arg Expr
	if name == "val" {
		arg = p.parseField()
	} else if inner := p.transformerName(); inner != "" {
		arg = p.parseTransformer(inner, rhs)
	} else {
		if p.hasPrefix("val(") {
			p.fail("val() may only be used alone on the right side of a check")
		}
		arg = p.parseField()
	}
	p.skipBlanks()
	p.expect(")", "expected a ')' token")
	if p.peek(0) == '[' {
		p.fail(fmt.Sprintf("filter error: transformer '%s' does not support field arguments", name))
	}
	return &Transformer{At: at, Name: name, Arg: arg}
}

// parseCondition parses the operator and value after a field expression.
func (p *parser) parseCondition(at Pos, left Expr) Node {
	p.skipBlanks()
	if p.hasPrefix("exists") {
		p.last = "exists"
		p.advance(6)
		return &Check{At: at, Left: left, Op: "exists"}
	}
	for _, op := range numOps {
		if p.hasPrefix(op) {
			p.last = op
			p.advance(len(op))
			p.skipBlanks()
			c := &Check{At: at, Left: left, Op: op}
			if rt := p.rhsTransformer(); rt != nil {
				c.Right = rt
			} else {
				c.Right = p.parseNumber()
			}
			return c
		}
	}
	for _, op := range strOps {
		if !p.hasPrefix(op) {
			continue
		}
		symbolic := !isAlpha(op[0])
		if !symbolic && !isBlank(p.peek(len(op))) {
			continue
		}
		p.last = op
		p.advance(len(op))
		p.skipBlanks()
		c := &Check{At: at, Left: left, Op: op}
		if mod := p.modifier(); mod != "" {
			c.Modifier = mod
			c.Right = p.parseListRHS()
			return c
		}
		if rt := p.rhsTransformer(); rt != nil {
			c.Right = rt
			return c
		}
		if p.peek(0) == '(' {
			p.fail(fmt.Sprintf("operator '%s' does not take a list; use 'in' to compare with a list", op))
		}
		c.Right = p.parseString()
		return c
	}
	for _, op := range listOps {
		if !p.hasPrefix(op) {
			continue
		}
		p.last = op
		p.advance(len(op))
		p.skipBlanks()
		c := &Check{At: at, Left: left, Op: op}
		if p.modifierWord() != "" {
			p.fail(fmt.Sprintf("operator '%s' does not take a modifier", op))
		}
		c.Right = p.parseListRHS()
		return c
	}
	p.fail("expected a valid operator")
	return nil
}

// modifierWord returns oneof, anyof or allof when the input starts with one
// followed by a blank or "(".
func (p *parser) modifierWord() string {
	for _, m := range []string{"oneof", "anyof", "allof"} {
		if p.hasPrefix(m) {
			c := p.peek(len(m))
			if isBlank(c) || c == '(' {
				return m
			}
		}
	}
	return ""
}

// modifier consumes a comparison modifier followed by blanks and a list or
// an identifier that is not a keyword. Otherwise the word is an ordinary
// value, so modifier consumes nothing and returns "".
func (p *parser) modifier() string {
	m := p.modifierWord()
	if m == "" || !isBlank(p.peek(len(m))) {
		return ""
	}
	save := p.save()
	p.advance(len(m))
	p.skipBlanks()
	if p.peek(0) == '(' {
		p.last = m
		return m
	}
	id := p.in[p.pos : p.pos+scanIdentifier(p.in[p.pos:])]
	if id != "" && id != "and" && id != "or" && id != "not" {
		p.last = m
		return m
	}
	p.restore(save)
	return ""
}

// rhsTransformer parses val(field) or a transformer on the right side when
// one starts here.
func (p *parser) rhsTransformer() Expr {
	if p.hasPrefix("val(") {
		return p.parseTransformer("val", true)
	}
	if name := p.transformerName(); name != "" {
		return p.parseTransformer(name, true)
	}
	return nil
}

// parseListRHS parses the right side of a list operator: a list literal, a
// transformer or a single identifier.
func (p *parser) parseListRHS() Node {
	if p.peek(0) == '(' {
		return p.parseList()
	}
	if rt := p.rhsTransformer(); rt != nil {
		return rt
	}
	at := p.here()
	n := scanIdentifier(p.in[p.pos:])
	if n == 0 {
		p.fail("expected a list, a transformer or a list name")
	}
	id := p.in[p.pos : p.pos+n]
	p.last = id
	p.advance(n)
	return &List{At: at, Items: []*Literal{{At: at, Text: id}}}
}

func (p *parser) parseList() *List {
	at := p.here()
	p.last = "("
	p.advance(1)
	p.skipBlanks()
	l := &List{At: at, Items: []*Literal{}}
	if p.peek(0) == ')' {
		p.last = ")"
		p.advance(1)
		return l
	}
	for {
		p.skipBlanks()
		l.Items = append(l.Items, p.parseString())
		p.skipBlanks()
		if p.peek(0) == ',' {
			p.last = ","
			p.advance(1)
			continue
		}
		p.expect(")", "expected a ',' or ')' token")
		return l
	}
}

// parseString parses a quoted or bare string value.
func (p *parser) parseString() *Literal {
	at := p.here()
	if c := p.peek(0); c == '"' || c == '\'' {
		return &Literal{At: at, Text: p.parseQuoted()}
	}
	s := p.in[p.pos:]
	n := 0
	for n < len(s) {
		c := s[n]
		if c == '(' || c == ')' || c == '"' || c == '\'' || c == '=' || c == ',' || isBlank(c) {
			break
		}
		n++
	}
	if n == 0 {
		p.fail("expected a string value")
	}
	p.last = s[:n]
	p.advance(n)
	return &Literal{At: at, Text: s[:n]}
}

// parseNumber parses a hex or decimal number, kept as text.
func (p *parser) parseNumber() *Literal {
	at := p.here()
	s := p.in[p.pos:]
	n := 0
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		n = 2
		for n < len(s) && isHex(s[n]) {
			n++
		}
	} else {
		if n < len(s) && (s[n] == '+' || s[n] == '-') {
			n++
		}
		start := n
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == start {
			p.fail("expected a number")
		}
		if n < len(s) && s[n] == '.' {
			n++
			for n < len(s) && isDigit(s[n]) {
				n++
			}
		}
		if n+1 < len(s) && (s[n] == 'e' || s[n] == 'E') && (s[n+1] == '+' || s[n+1] == '-') {
			m := n + 2
			for m < len(s) && isDigit(s[m]) {
				m++
			}
			if m > n+2 {
				n = m
			}
		}
	}
	p.last = s[:n]
	p.advance(n)
	return &Literal{At: at, Text: s[:n]}
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// parseQuoted parses a quoted string: it ends at the first delimiter not
// directly preceded by a backslash, then its escapes are decoded.
func (p *parser) parseQuoted() string {
	q := p.in[p.pos]
	end := -1
	for i := p.pos + 1; i < len(p.in); i++ {
		if p.in[i] == q && p.in[i-1] != '\\' {
			end = i
			break
		}
	}
	if end < 0 {
		p.fail("unterminated quoted string")
	}
	raw := p.in[p.pos+1 : end]
	text, err := Unescape(raw, q)
	if err != nil {
		p.fail(err.Error())
	}
	p.last = p.in[p.pos : end+1]
	p.advance(end + 1 - p.pos)
	return text
}

// Unescape decodes the escapes of the text of a string quoted with quote:
// \b \f \n \r \t \\ \/, \" inside "..." and \' inside '...', \xHH, and (as
// Falco does) "\ " for a single backslash.
func Unescape(raw string, quote byte) (string, error) {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(raw) {
			return "", fmt.Errorf("unsupported string escape sequence: \\")
		}
		i++
		switch e := raw[i]; e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '\\':
			b.WriteByte('\\')
		case '/':
			b.WriteByte('/')
		case ' ':
			b.WriteByte('\\')
		case '"', '\'':
			if e != quote {
				return "", fmt.Errorf("unsupported string escape sequence: \\%c", e)
			}
			b.WriteByte(e)
		case 'x':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return "", fmt.Errorf("invalid \\x escape: expected two hex digits")
			}
			b.WriteByte(unhex(raw[i+1])<<4 | unhex(raw[i+2]))
			i += 2
		default:
			return "", fmt.Errorf("unsupported string escape sequence: \\%c", e)
		}
	}
	return b.String(), nil
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
