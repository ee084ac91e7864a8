// Package rulestest provides a map-backed event for tests of the rules
// engine and of code that uses it.
package rulestest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
)

// Event is a syscall event whose fields come from a map keyed by field
// text, such as "proc.name", "proc.aname[2]" or "evt.arg.flags". Values may
// be string, bool, any integer type, netip.Addr, []byte, or a slice of
// those for fields with several values.
//
// Lookups try the reference as written, then its canonical forms. For the
// ancestor fields (proc.aname, proc.apid, proc.aexe, proc.aexepath), a slice
// under the bare name lists the ancestors from the parent up. Then
// proc.aname[N] is its element N-1 and proc.aname without an index yields
// every element. proc.aname[0] is proc.name (proc.pid, proc.exe or
// proc.exepath for the other fields).
type Event struct {
	EvtType evttype.Type
	Fields  map[string]any
}

// New returns an event of the named type with fields given as key, value
// pairs. It panics on an unknown event type or an odd number of arguments,
// which are mistakes in the test.
func New(evtType string, kv ...any) *Event {
	t, ok := evttype.Lookup(evtType)
	if !ok {
		panic("rulestest: unknown event type " + evtType)
	}
	if len(kv)%2 != 0 {
		panic("rulestest: odd number of key/value arguments")
	}
	e := &Event{EvtType: t, Fields: make(map[string]any, len(kv)/2)}
	for i := 0; i < len(kv); i += 2 {
		e.Fields[kv[i].(string)] = kv[i+1]
	}
	return e
}

// Set sets a field and returns the event, for chaining.
func (e *Event) Set(field string, value any) *Event {
	e.Fields[field] = value
	return e
}

// Type returns the event type.
func (e *Event) Type() evttype.Type { return e.EvtType }

var selfField = map[fields.ID]string{
	fields.ProcAname:    "proc.name",
	fields.ProcApid:     "proc.pid",
	fields.ProcAexe:     "proc.exe",
	fields.ProcAexepath: "proc.exepath",
}

// Extract appends the values of ref from the map.
func (e *Event) Extract(ref *fields.Ref, dst []fields.Value) []fields.Value {
	info := ref.Info()
	if v, ok := e.Fields[ref.Text]; ok {
		return appendValues(dst, ref.Type, v)
	}

	if ref.HasArg {
		for _, key := range []string{info.Name + "[" + ref.Key + "]", info.Name + "." + ref.Key} {
			if ref.Key == "" {
				break
			}
			if v, ok := e.Fields[key]; ok {
				return appendValues(dst, ref.Type, v)
			}
		}
		if ref.Index != fields.AnyIndex {
			if v, ok := e.Fields[info.Name+"["+strconv.Itoa(ref.Index)+"]"]; ok {
				return appendValues(dst, ref.Type, v)
			}
		}
	}

	self, ancestor := selfField[info.ID]
	if !ancestor {
		return dst
	}

	if ref.HasArg && ref.Index == 0 {
		if v, ok := e.Fields[self]; ok {
			return appendValues(dst, ref.Type, v)
		}
		return dst
	}

	list, ok := e.Fields[info.Name]
	if !ok {
		return dst
	}

	if !ref.HasArg {
		return appendValues(dst, ref.Type, list)
	}

	var tmp []fields.Value
	tmp = appendValues(tmp, ref.Type, list)
	if ref.Index-1 < len(tmp) {
		return append(dst, tmp[ref.Index-1])
	}

	return dst
}

// appendValues converts v to values of type t.
func appendValues(dst []fields.Value, t fields.Type, v any) []fields.Value {
	switch x := v.(type) {
	case nil:
		return dst
	case []string:
		for _, s := range x {
			dst = appendValues(dst, t, s)
		}
		return dst
	case []any:
		for _, s := range x {
			dst = appendValues(dst, t, s)
		}
		return dst
	case []netip.Addr:
		for _, s := range x {
			dst = appendValues(dst, t, s)
		}
		return dst
	case []int:
		for _, s := range x {
			dst = appendValues(dst, t, s)
		}
		return dst
	case string:
		switch {
		case t == fields.TypeString:
			return append(dst, fields.Value{Str: x})
		case t == fields.TypeBytes:
			return append(dst, fields.Value{Bytes: []byte(x)})
		case t == fields.TypeIPAddr || t == fields.TypeIPNet:
			a, err := netip.ParseAddr(x)
			if err != nil {
				panic(fmt.Sprintf("rulestest: %q is not an IP address", x))
			}
			return append(dst, fields.Value{Addr: a})
		case t == fields.TypeBool:
			return append(dst, fields.Value{Bool: x == "true"})
		case t.Numeric():
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				panic(fmt.Sprintf("rulestest: %q is not a number", x))
			}
			return append(dst, fields.Value{Num: n})
		}
	case bool:
		return append(dst, fields.Value{Bool: x})
	case int:
		return append(dst, fields.Value{Num: int64(x)})
	case int32:
		return append(dst, fields.Value{Num: int64(x)})
	case int64:
		return append(dst, fields.Value{Num: x})
	case uint16:
		return append(dst, fields.Value{Num: int64(x)})
	case uint32:
		return append(dst, fields.Value{Num: int64(x)})
	case uint64:
		return append(dst, fields.Value{Num: int64(x)})
	case netip.Addr:
		return append(dst, fields.Value{Addr: x})
	case []byte:
		return append(dst, fields.Value{Bytes: x})
	}
	panic(fmt.Sprintf("rulestest: unsupported value %T for a %s field", v, t))
}
