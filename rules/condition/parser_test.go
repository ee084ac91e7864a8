package condition

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAcceptReject(t *testing.T) {
	accept := []string{
		// keywords, precedence and not
		"a and b or c",
		"evt.name exists and evt.type in (a, b) or proc.name=cat",
		"not a.b=1", "not a.a exists", "not not a",
		"not(a)", "not (a)", "not(not(a))", "not(a)and(not(b))",
		"(a)and(b)and(c)", "a and b and(c)", "(a)or(b)or(c)",
		"a and notb", "notz and a and b", "macro and not_macro", "macro and and_macro", "macro and or_macro",
		"  a", "((((((((((a))))))))))",
		"test.op existsand macro",
		// checks, values, strings, numbers
		"test.op = value", "test.op =value", "test.op == value", "test.op !=value", "test.op >1", "test.op <=1",
		"test.op in()", "test.op intersects ()", "test.op pmatch()",
		`test.str = 0a!@#456:/\.;!$%^&*[]{}|`, "fd.name=*.log",
		`test.str = ""`, `test.str = ''`, `test.str = "test value"`, `test.str = 'mixed "'`, `test.str = "mixed '"`,
		`test.str = "escape double quote \" "`, `test.str = 'escape single quote \' '`,
		`test.str = 'multiple escape single quote \' \\''`, `test.str = "bad escape \ "`,
		"test.num > 1000", "test.num < +1", "test.num >= -1", "test.num <= 0x12345", "test.num <= 0XaB00AB", "test.num > 1.2", "test.num > -0.1222e+10",
		"test.str = !0.1222e+10", "test.str = 0xAAA.1", "test.str = 0aaaaa", "a.b = not", "a.b = a.a",
		"evt.arg[0] contains /bin", "evt.arg[a] contains /bin", "test.str[+0.25e+10] = a", "test.str['a aa'] = a",
		`test.str["test \"with\"escaping"] = a`, `test.str[0a!@#456:/\.;!$%^&*(){}|] = testval`, `test.str[""] = value`,
		// lists
		"test.list in (a)", "test.list in ('single-quoted')", `test.list in ("double-quoted")`, `test.list in (value, "value", 'value')`,
		`test.list in (0a!@#456:/\.;!$%^&*[]{}|, value)`, "a.g in (1, 'a', b)", "a.g in (1, 'a', b.c)", "proc.name inx",
		// transformers
		"tolower(test.field) exists", "toupper(test.field) exists", "b64(test.field) exists",
		"b64(toupper(test.field)) exists", "b64( b64(test.field) ) exists",
		"some.field = val(test.field)", "some.field = tolower(x.y)", "some.field in val(x.y)", "some.field pmatch b64(x.y)", "some.field > val(x.y)",
		"some.field = b64 and(some_macro)", "some.field = 'some_fake_transformer(some_macro)'",
		"b64(evt.name) exists and tolower(toupper(evt.type)) in val(some.field) or proc.name=b64(tolower(some.field))",
		// modifiers
		"proc.name == oneof (a, b)", "proc.name == anyof and x.y exists",
	}
	for _, in := range accept {
		if _, err := Parse(in, DefaultMaxDepth); err != nil {
			t.Errorf("Parse(%q) = %v, want accept", in, err)
		}
		for _, blank := range []string{"\n", "\t"} {
			alt := strings.ReplaceAll(in, " ", blank)
			if strings.ContainsAny(in, `"'`) {
				continue // blanks inside quoted strings are part of the value
			}
			if _, err := Parse(alt, DefaultMaxDepth); err != nil {
				t.Errorf("Parse(%q) = %v, want accept", alt, err)
			}
		}
	}
	reject := []string{
		"a andb", "aand b", "a orb", "aor b", "a andor b", "a andnot b", "(a)andnot(b)", "a ornot b",
		"a not b", "a notb", "anot b", "a and or b",
		"and a", "or a", "a and b and", "a or b or", "a and b not", "a or b not",
		"", "   ", "#a and b; a and b", "test.op exists something", "a.b = b = 1", "(a.b = 1", "macro > 12",
		"test.op startswithvalue", "test.op containsvalue", "test.op globvalue", "test.op bstartswithvalue",
		"test.op ===", "test.op === value", "test.op !==", "test.op ExIsTs", "a.a invalidoperator xxx",
		"test.op >", "test.op in", "test.op pmatch",
		"test.str = a,", "test.str = a=", `test.str = a('")`, "fd.name=/var/lo);g/httpd.log",
		"test.str = '", `test.str = "`, `test.str = '"`, "test.str = missing start quote", "test.str = 'missing end quote",
		`test.str = "broken escape double quote""`, `test.str = "mixed \'"`, `test.str = 'mixed \"'`, `a.b = "a\\"`,
		"test.num > !0.1222e+10", "test.num < 0xAAA.1", "test.num >= 0aaaaa", "test.num <= a",
		"evt.arg[] contains /bin", "test.str[[] = x", "test.str[]] = x", "test.str['''] = a", `test.str[aaa"] = a`,
		"test.str[   test   ] = x", "test.str[ = x", "test.str] = x",
		"test.list in (", "test.list in )", "test.list in (value,)", "test.list in (value,,)", "test.list in (,)",
		"test.list in (,   ,)", "a.g in ( 1 ,, , b)",
		"test.list > (value)", "test.list = (value)", "test.list startswith (value)", "test.list contains (value)",
		"some.field in (b64(test.field))", "some.field in (a, b64(test.field))",
		"proc.name in oneof (cat)", "proc.name intersects anyof (cat)",
		"b64 (test.field) exists", "b64\n(test.field) exists", "b64,(test.field) exists",
		"val(test.field) exists", "b64(val(test.field)) exists",
		"some_fake_transformer(test.field) exists", "a(test.field) exists", "(test.field) exists",
		"b64(test.field [1]) exists", "b64(test.field exists",
		"some.field = val(val(test.field))", "some.field = val(toupper(x.y))", "some.field = (b64(test.field))",
		"some.field = b64 (test.field)", "some.field = b64and(some_macro)",
		"toupper(fd.name)[x] = foo", "fd.name = val(proc.name)[x]",
	}
	for _, in := range reject {
		if n, err := Parse(in, DefaultMaxDepth); err == nil {
			t.Errorf("Parse(%q) = %s, want reject", in, n)
		} else if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error %v does not match ErrSyntax", in, err)
		}
	}
}

func TestParseTree(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a and b or c", "((a and b) or c)"},
		{"evt.name exists and evt.type in (a, b) or proc.name=cat", "((evt.name exists and evt.type in (a, b)) or proc.name = cat)"},
		{"a or b and not c or d", "(a or (b and not c) or d)"},
		{"not a and b", "(not a and b)"},
		{"not a.b=1", "not a.b = 1"},
		{"not not a", "a"},
		{"not not not not not(not not(not not_macro))", "not not not_macro"},
		{"(a)", "a"},
		{"a.b = a.a", "a.b = a.a"},
		{"a.b = not", "a.b = not"},
		{"test.op existsand macro", "(test.op exists and macro)"},
		{`test.str = 'multiple escape single quote \' \\''`, `test.str = "multiple escape single quote ' \\'"`},
		{`test.str = "bad escape \ "`, `test.str = "bad escape \x5c"`},
		{`test.str[""] = value`, `test.str[""] = value`},
		{"test.str = value", "test.str = value"},
		{"proc.name inx", "proc.name in (x)"},
		{"proc.name in (nginx, apache)", "proc.name in (nginx, apache)"},
		{"some.field = b64 and(some_macro)", "(some.field = b64 and some_macro)"},
		{"b64(evt.name) exists and tolower(toupper(evt.type)) in val(some.field) or proc.name=b64(tolower(some.field))",
			"((b64(evt.name) exists and tolower(toupper(evt.type)) in val(some.field)) or proc.name = b64(tolower(some.field)))"},
		{"proc.name == anyof and x.y exists", "(proc.name == anyof and x.y exists)"},
		{"proc.name == oneof (a, b)", "proc.name == oneof (a, b)"},
		{`a.b = "x\x41y"`, "a.b = xAy"},
		{`a.b = "tab\there"`, `a.b = "tab\there"`},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in, DefaultMaxDepth)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := n.String(); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseFieldArgument(t *testing.T) {
	n, err := Parse(`test.str[""] = value`, DefaultMaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	f := n.(*Check).Left.(*Field)
	if !f.HasArg || f.Arg != "" {
		t.Errorf(`test.str[""]: HasArg=%v Arg=%q, want true and ""`, f.HasArg, f.Arg)
	}
	n, err = Parse(`test.str = value`, DefaultMaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	if n.(*Check).Left.(*Field).HasArg {
		t.Error("test.str: HasArg = true, want false")
	}
}

func TestParseErrorMessages(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "filter input string is empty"},
		{"evt.arg[] = value", "expected a valid field argument: a quoted string or a bare string"},
		{`evt.arg["x" = value`, "expected a ']' token"},
		{"evt.type=execve foo", "unexpected token after 'execve', expecting 'or', 'and'"},
		{strings.Repeat("(", 100000), "exceeded max depth limit of 100"},
		{`a.b = "bad \q"`, `unsupported string escape sequence: \q`},
		{"toupper(fd.name)[x] = foo", "filter error: transformer 'toupper' does not support field arguments"},
		{"fd.name = val(proc.name)[x]", "filter error: transformer 'val' does not support field arguments"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in, DefaultMaxDepth)
		if err == nil {
			t.Errorf("Parse(%.40q) succeeded, want error %q", tt.in, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%.40q) error = %q, want %q", tt.in, err, tt.want)
		}
	}
}

func TestParseDepthLimit(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("(", n) + "a" + strings.Repeat(")", n) }
	if _, err := Parse(nested(19), DefaultMaxDepth); err != nil {
		t.Errorf("19 nested parentheses: %v, want accept", err)
	}
	if _, err := Parse(nested(25), DefaultMaxDepth); err == nil {
		t.Error("25 nested parentheses accepted with the default limit")
	}
	if _, err := Parse(nested(190), RuleMaxDepth); err != nil {
		t.Errorf("190 nested parentheses with the rule limit: %v", err)
	}
}

func TestParsePositions(t *testing.T) {
	n, err := Parse("not proc.name=nginx", DefaultMaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	not := n.(*Not)
	if not.At != (Pos{Offset: 0, Line: 1, Column: 1}) {
		t.Errorf("not at %+v, want offset 0 line 1 column 1", not.At)
	}
	c := not.Child.(*Check)
	if c.At.Offset != 4 || c.At.Column != 5 {
		t.Errorf("check at %+v, want offset 4 column 5", c.At)
	}
	if f := c.Left.(*Field); f.At.Offset != 4 {
		t.Errorf("field at %+v, want offset 4", f.At)
	}
	if v := c.Right.(*Literal); v.At.Offset != 14 {
		t.Errorf("value at %+v, want offset 14", v.At)
	}

	n, err = Parse("a \n and \n  b", DefaultMaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	b := n.(*And).Children[1].(*Identifier)
	if b.At != (Pos{Offset: 11, Line: 3, Column: 3}) {
		t.Errorf("b at %+v, want offset 11 line 3 column 3", b.At)
	}

	n, err = Parse("proc.name in (nginx, apache)", DefaultMaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	if l := n.(*Check).Right.(*List); l.At.Offset != 13 {
		t.Errorf("list at %+v, want offset 13", l.At)
	}

	_, err = Parse("a and\n  b c", DefaultMaxDepth)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SyntaxError", err)
	}
	if se.Pos.Line != 2 || se.Pos.Column != 5 {
		t.Errorf("syntax error at %s, want 2:5", se.Pos)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		raw   string
		quote byte
		want  string
		ok    bool
	}{
		{`a\nb`, '"', "a\nb", true},
		{`\x41\x4a`, '"', "AJ", true},
		{`\x4`, '"', "", false},
		{`\xZZ`, '"', "", false},
		{`\"`, '"', `"`, true},
		{`\'`, '"', "", false},
		{`\'`, '\'', "'", true},
		{`\/\\`, '"', `/\`, true},
		{`\ `, '"', `\`, true},
		{`\q`, '"', "", false},
		{`\x00`, '"', "\x00", true},
	}
	for _, tt := range tests {
		got, err := Unescape(tt.raw, tt.quote)
		if (err == nil) != tt.ok {
			t.Errorf("Unescape(%q) error = %v, want ok=%v", tt.raw, err, tt.ok)
			continue
		}
		if tt.ok && got != tt.want {
			t.Errorf("Unescape(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	n, err := Parse("a.b = c and not d.e in (f, g)", DefaultMaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	before := n.String()
	c := Clone(n).(*And)
	c.Children[0].(*Check).Right.(*Literal).Text = "changed"
	c.Children[1].(*Not).Child.(*Check).Right.(*List).Items[0].Text = "changed"
	if n.String() != before {
		t.Errorf("changing the clone changed the original: %s", n)
	}
}
