package filter

import (
	"encoding/base64"
	"strings"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/fields"
)

// operandKind is the origin of an operand's values.
type operandKind uint8

const (
	fromExtractor   operandKind = iota // the event's Extract
	fromEventType                      // the name of ev.Type()
	fromSource                         // the constant "syscall"
	fromDirection                      // the constant "<"
	fromTransformer                    // a transformer over another operand
)

// operand is a compiled field expression: a field, or a transformer chain
// over a field.
type operand struct {
	kind  operandKind
	slot  int // field cache slot of an extractor operand, or -1
	ref   *fields.Ref
	info  *fields.Field
	typ   fields.Type
	tr    string
	inner *operand
	text  string
}

// values returns the operand's values for ev. Extractor operands read
// through the per-event field cache of s, so checks of several rules on one
// field extract it once. Other operands write into buf.
func (o *operand) values(ev fields.Event, s *Scratch, buf *[]fields.Value) []fields.Value {
	if o.slot >= 0 {
		e := &s.fields[o.slot]
		if e.gen == s.gen {
			return s.arena[e.start:e.end:e.end]
		}
		start := len(s.arena)
		s.arena = ev.Extract(o.ref, s.arena)
		end := len(s.arena)
		e.gen, e.start, e.end = s.gen, int32(start), int32(end)
		return s.arena[start:end:end]
	}
	*buf = o.extract(ev, (*buf)[:0])
	return *buf
}

// extract appends the operand's values for ev to dst, without the cache.
func (o *operand) extract(ev fields.Event, dst []fields.Value) []fields.Value {
	switch o.kind {
	case fromEventType:
		return append(dst, fields.Value{Str: ev.Type().String()})
	case fromSource:
		return append(dst, fields.Value{Str: "syscall"})
	case fromDirection:
		return append(dst, fields.Value{Str: "<"})
	case fromTransformer:
		return o.transform(ev, dst)
	}
	return ev.Extract(o.ref, dst)
}

// transform applies a transformer to the inner operand's values. It
// allocates; the upstream rulesets use no transformers.
func (o *operand) transform(ev fields.Event, dst []fields.Value) []fields.Value {
	start := len(dst)
	dst = o.inner.extract(ev, dst)
	if o.tr == "len" {
		n := len(dst) - start
		if o.inner.info != nil && o.inner.info.Has(fields.FlagAnyValue) && !o.inner.ref.HasArg {
			return append(dst[:start], fields.Value{Num: int64(n)})
		}
		for i := start; i < len(dst); i++ {
			v := &dst[i]
			if o.inner.typ == fields.TypeBytes {
				*v = fields.Value{Num: int64(len(v.Bytes))}
			} else {
				*v = fields.Value{Num: int64(len(v.Str))}
			}
		}
		return dst
	}
	out := dst[:start]
	for i := start; i < len(dst); i++ {
		s := dst[i].Str
		switch o.tr {
		case "tolower":
			s = strings.ToLower(s)
		case "toupper":
			s = strings.ToUpper(s)
		case "basename":
			if j := strings.LastIndexByte(s, '/'); j >= 0 {
				s = s[j+1:]
			}
		case "b64":
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				continue // not base64: no value
			}
			s = string(b)
		}
		out = append(out, fields.Value{Str: s})
	}
	return out
}

// operand compiles a field expression.
func (c *compiler) operand(e condition.Expr, rhs bool) (*operand, error) {
	switch e := e.(type) {
	case *condition.Field:
		ref, err := fields.Resolve(e.Name, e.Arg, e.HasArg)
		if err != nil {
			return nil, &CompileError{Pos: e.At, Msg: err.Error(), Err: err}
		}
		info := ref.Info()
		if info.Has(fields.FlagDeprecated) {
			c.warn("LOAD_DEPRECATED_ITEM", "usage of deprecated field '"+info.Name+"' has been detected in the rule condition", e.At)
		}
		o := &operand{kind: fromExtractor, ref: ref, info: info, typ: ref.Type, text: ref.Text, slot: -1}
		switch info.ID {
		case fields.EvtType, fields.SyscallType:
			o.kind = fromEventType
		case fields.EvtSource:
			o.kind = fromSource
		case fields.EvtDir:
			o.kind = fromDirection
		default:
			o.slot = c.c.fieldSlot(ref.Text)
		}
		return o, nil
	case *condition.Transformer:
		if e.Name == "val" {
			return c.operand(e.Arg, rhs)
		}
		inner, err := c.operand(e.Arg, rhs)
		if err != nil {
			return nil, err
		}
		if inner.info != nil && inner.info.Has(fields.FlagNoTransformer) {
			return nil, &CompileError{Pos: e.At, Msg: "filter error: field '" + inner.text + "' does not support transformers"}
		}
		typ := fields.TypeString
		switch e.Name {
		case "len":
			if inner.typ != fields.TypeString && inner.typ != fields.TypeBytes {
				return nil, &CompileError{Pos: e.At, Msg: "filter error: transformer 'len' requires a string, buffer or list field, not " + inner.typ.String()}
			}
			typ = fields.TypeUint64
		default:
			if inner.typ != fields.TypeString {
				return nil, &CompileError{Pos: e.At, Msg: "filter error: transformer '" + e.Name + "' requires a string field, not " + inner.typ.String()}
			}
		}
		return &operand{kind: fromTransformer, tr: e.Name, inner: inner, typ: typ, text: e.String(), slot: -1}, nil
	}
	return nil, &CompileError{Pos: e.Position(), Msg: "unexpected expression " + e.String()}
}

// base returns the field at the bottom of a transformer chain.
func (o *operand) base() *operand {
	for o.kind == fromTransformer {
		o = o.inner
	}
	return o
}
