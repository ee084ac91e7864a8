// Package output compiles rule output formats ("%proc.name opened %fd.name")
// and renders them for events as Falco does: the longest known field after
// each '%', "<NA>" for missing values, typed output fields, and Falco's
// alert line with its time formats.
package output

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riposte-sec/riposte/rules/fields"
)

// NA is printed for a field that has no value.
const NA = "<NA>"

// Warning is a compile-time warning with Falco's code.
type Warning struct {
	Code string
	Msg  string
}

// Format is a compiled output format. It is immutable and safe for
// concurrent use.
type Format struct {
	text  string
	segs  []segment
	width int // estimated length of a rendered line
}

// Token is one field token of a format.
type token struct {
	text  string // as written, the output_fields key
	ref   *fields.Ref
	info  *fields.Field
	tr    string // transformer name, or ""
	inner *token // transformer argument
	width int    // 0 for none
}

type segment struct {
	lit string
	tok *token
}

// Tokens returns the field tokens of the format, as written, in order.
func (f *Format) Tokens() []string {
	var out []string
	for _, s := range f.segs {
		if s.tok != nil {
			out = append(out, s.tok.text)
		}
	}
	return out
}

// Fields returns the field references the format prints, each once,
// including the fields inside transformers.
func (f *Format) Fields() []*fields.Ref {
	var out []*fields.Ref
	seen := map[string]bool{}
	for _, s := range f.segs {
		for t := s.tok; t != nil; t = t.inner {
			if t.ref != nil && !seen[t.ref.Text] {
				seen[t.ref.Text] = true
				out = append(out, t.ref)
			}
		}
	}
	return out
}

// String returns the format text.
func (f *Format) String() string { return f.text }

// Compile compiles a format. Errors carry Falco's messages, such as
// "formatting cannot end with a %" or "unknown filter: proc.nobody", and
// match fields.ErrUnknownField through errors.Is for unknown fields.
func Compile(format string) (*Format, []Warning, error) {
	f := &Format{text: format}
	var warnings []Warning
	var lit strings.Builder
	i := 0
	for i < len(format) {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		if j >= len(format) {
			return nil, warnings, fmt.Errorf("formatting cannot end with a %%")
		}
		width := 0
		if j > i+1 {
			width, _ = strconv.Atoi(format[i+1 : j])
		}
		tok, n, err := parseToken(format[j:])
		if err != nil {
			return nil, warnings, err
		}
		tok.width = width
		i = j + n
		if tok.text == "container.info" {
			warnings = append(warnings, Warning{Code: "LOAD_DEPRECATED_ITEM", Msg: "%container.info is deprecated and has been removed from the rule output"})
			continue
		}
		if tok.info != nil && tok.info.Has(fields.FlagDeprecated) {
			warnings = append(warnings, Warning{Code: "LOAD_DEPRECATED_ITEM", Msg: "usage of deprecated field '" + tok.info.Name + "' has been detected in the rule output"})
		}
		if lit.Len() > 0 {
			f.segs = append(f.segs, segment{lit: lit.String()})
			lit.Reset()
		}
		f.segs = append(f.segs, segment{tok: tok})
	}
	if lit.Len() > 0 {
		f.segs = append(f.segs, segment{lit: lit.String()})
	}
	f.width = len(format) + 32
	return f, warnings, nil
}

// parseToken parses the field or transformer at the start of s by the
// longest-known-field rule, and returns it and the bytes it consumed.
func parseToken(s string) (*token, int, error) {
	for _, tr := range []string{"tolower", "toupper", "b64", "basename", "len"} {
		if strings.HasPrefix(s, tr+"(") {
			inner, n, err := parseToken(strings.TrimLeft(s[len(tr)+1:], " "))
			if err != nil {
				return nil, 0, err
			}
			skipped := len(s[len(tr)+1:]) - len(strings.TrimLeft(s[len(tr)+1:], " "))
			end := len(tr) + 1 + skipped + n
			for end < len(s) && s[end] == ' ' {
				end++
			}
			if end >= len(s) || s[end] != ')' {
				return nil, 0, fmt.Errorf("unknown filter: %s: expected ')' after the transformer argument", s)
			}
			if inner.info != nil && inner.info.Has(fields.FlagNoTransformer) {
				return nil, 0, fmt.Errorf("field '%s' does not support transformers", inner.text)
			}
			return &token{text: tr + "(" + inner.text + ")", tr: tr, inner: inner}, end + 1, nil
		}
	}
	cand := candidate(s)
	if cand == 0 {
		return nil, 0, &outputFieldError{text: "'%" + firstWord(s) + "': '%' must be followed by a field"}
	}
	for n := cand; n > 0; n-- {
		name, arg, hasArg, ok := splitToken(s[:n])
		if !ok {
			continue
		}
		ref, err := fields.Resolve(name, arg, hasArg)
		if err != nil {
			if s[:n] == "container.info" {
				return &token{text: "container.info"}, n, nil
			}
			continue
		}
		info := ref.Info()
		if info.Has(fields.FlagFilterOnly) {
			return nil, 0, fmt.Errorf("field '%s' can only be used in conditions, not in outputs", ref.Text)
		}
		return &token{text: ref.Text, ref: ref, info: info}, n, nil
	}
	return nil, 0, &outputFieldError{text: s[:cand]}
}

type outputFieldError struct{ text string }

func (e *outputFieldError) Error() string { return "unknown filter: " + e.text }
func (e *outputFieldError) Unwrap() error { return fields.ErrUnknownField }

// firstWord returns s up to its second blank-separated word, for messages.
func firstWord(s string) string {
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	for n < len(s) && s[n] != ' ' {
		n++
	}
	return s[:n]
}

// candidate returns the length of the longest field-like lexeme at the start
// of s: identifier segments joined by dots, with an optional [argument].
func candidate(s string) int {
	n := 0
	for n < len(s) && (isAlnum(s[n]) || s[n] == '_' || s[n] == '.') {
		n++
	}
	if n < len(s) && s[n] == '[' {
		if end := strings.IndexByte(s[n:], ']'); end > 0 {
			n += end + 1
		}
	}
	return n
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// splitToken splits "name[arg]" or "name"; ok is false for text that is not
// a field lexeme.
func splitToken(s string) (name, arg string, hasArg, ok bool) {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if !strings.HasSuffix(s, "]") {
			return "", "", false, false
		}
		name, arg, hasArg = s[:i], s[i+1:len(s)-1], true
		if len(arg) >= 2 && (arg[0] == '"' || arg[0] == '\'') && arg[len(arg)-1] == arg[0] {
			arg = arg[1 : len(arg)-1]
		}
	} else {
		name = s
	}
	if name == "" || !strings.Contains(name, ".") || strings.HasSuffix(name, ".") || !(name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return "", "", false, false
	}
	return name, arg, hasArg, true
}

// Render renders the format for ev: the text, with "<NA>" for missing values,
// and the typed value of every token keyed by the token as written (nil when
// missing).
func (f *Format) Render(ev fields.Event) (string, map[string]any) {
	var b strings.Builder
	b.Grow(f.width)
	out := make(map[string]any, len(f.segs))
	var buf []fields.Value
	for _, s := range f.segs {
		if s.tok == nil {
			b.WriteString(s.lit)
			continue
		}
		var text string
		var typed any
		text, typed, buf = s.tok.render(ev, buf[:0])
		if s.tok.width > 0 {
			text = pad(text, s.tok.width)
		}
		b.WriteString(text)
		out[s.tok.text] = typed
	}
	return b.String(), out
}

func pad(s string, width int) string {
	if len(s) >= width {
		return s[:width]
	}
	return s + strings.Repeat(" ", width-len(s))
}

// render returns the text and typed value of the token for ev.
func (t *token) render(ev fields.Event, buf []fields.Value) (string, any, []fields.Value) {
	if t.tr != "" {
		text, typed, buf := t.inner.render(ev, buf)
		if typed == nil {
			return NA, nil, buf
		}
		switch t.tr {
		case "tolower":
			text = strings.ToLower(text)
		case "toupper":
			text = strings.ToUpper(text)
		case "basename":
			if i := strings.LastIndexByte(text, '/'); i >= 0 {
				text = text[i+1:]
			}
		case "len":
			n := uint64(len(text))
			return strconv.FormatUint(n, 10), n, buf
		case "b64":
			// A value that is not base64 has no decoded value, as in Falco:
			// <NA> in the text and null in the output fields.
			decoded, err := decodeBase64(text)
			if err != nil {
				return NA, nil, buf
			}
			return decoded, decoded, buf
		}
		return text, text, buf
	}
	buf = fields.Values(ev, t.ref, buf)
	if len(buf) == 0 {
		return NA, nil, buf
	}
	if len(buf) == 1 {
		text, typed := formatValue(t.ref, &buf[0])
		return text, typed, buf
	}
	parts := make([]string, len(buf))
	for i := range buf {
		parts[i], _ = formatValue(t.ref, &buf[i])
	}
	joined := strings.Join(parts, " ")
	return joined, joined, buf
}

// formatValue returns the display text and typed value of one value.
func formatValue(ref *fields.Ref, v *fields.Value) (string, any) {
	switch ref.Type {
	case fields.TypeString:
		return v.Str, strings.Clone(v.Str)
	case fields.TypeBool:
		return strconv.FormatBool(v.Bool), v.Bool
	case fields.TypeInt64:
		return strconv.FormatInt(v.Num, 10), v.Num
	case fields.TypeUint32, fields.TypePort, fields.TypeUint64, fields.TypeRelTime:
		return strconv.FormatUint(uint64(v.Num), 10), uint64(v.Num)
	case fields.TypeAbsTime:
		return formatTime(ref.Field, v.Num), uint64(v.Num)
	case fields.TypeIPAddr, fields.TypeIPNet:
		s := v.Addr.Unmap().String()
		if !v.Addr.IsValid() {
			s = NA
		}
		return s, s
	case fields.TypeBytes:
		s := printable(v.Bytes)
		return s, s
	}
	return v.Str, v.Str
}

// formatTime prints the event time fields in their formats and other
// absolute times as nanoseconds.
func formatTime(id fields.ID, ns int64) string {
	t := time.Unix(0, ns)
	switch id {
	case fields.EvtTime:
		return t.Local().Format("15:04:05.000000000")
	case fields.EvtTimeS:
		return t.Local().Format("15:04:05")
	case fields.EvtTimeISO8601:
		return t.UTC().Format("2006-01-02T15:04:05.000000000+0000")
	case fields.EvtDatetime:
		return t.Local().Format("2006-01-02 15:04:05.000000000")
	}
	return strconv.FormatUint(uint64(ns), 10)
}

// printable renders a buffer with non-printable bytes as '.'.
func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// Line returns Falco's alert text line "TIME: Priority MESSAGE". TIME is the
// local time HH:MM:SS.nnnnnnnnn, or with iso the UTC time
// 2016-08-04T16:17:57.882054739+0000. The line is escaped as a JSON string
// body, as Falco does: quotes, backslashes and control characters are
// escaped, and each byte of invalid UTF-8 becomes U+FFFD without consuming
// the byte after it.
func Line(t time.Time, iso bool, priority, message string) string {
	var ts string
	if iso {
		ts = t.UTC().Format("2006-01-02T15:04:05.000000000+0000")
	} else {
		ts = t.Local().Format("15:04:05.000000000")
	}
	return Escape(ts + ": " + priority + " " + message)
}

// Escape escapes s as the body of a JSON string: '"' and '\' get a
// backslash, control characters become \n, \t, \u0001 and similar, and each
// invalid UTF-8 byte becomes U+FFFD.
func Escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				b.WriteRune(utf8.RuneError)
				i++
				continue
			}
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	return b.String()
}
