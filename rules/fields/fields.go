package fields

import (
	"net/netip"
	"strconv"

	"github.com/riposte-sec/riposte/rules/evttype"
)

// ID identifies a field of the catalogue, such as [ProcName]. The zero ID is
// no field.
type ID uint16

// Type is the type of a field's values. It decides how condition literals
// are parsed, which operators apply, which member of [Value] contains the value,
// and how outputs print it.
type Type uint8

// Field types.
const (
	// TypeString values are held in Value.Str.
	TypeString Type = iota + 1
	// TypeBool values are held in Value.Bool.
	TypeBool
	// TypeInt64 values are signed numbers held in Value.Num.
	TypeInt64
	// TypeUint64 values are unsigned numbers held in Value.Num as their bit
	// pattern (Num = int64(u)).
	TypeUint64
	// TypeUint32 values are unsigned 32-bit numbers held in Value.Num.
	TypeUint32
	// TypePort values are TCP or UDP ports held in Value.Num.
	TypePort
	// TypeAbsTime values are nanoseconds since the Unix epoch held in Value.Num.
	TypeAbsTime
	// TypeRelTime values are durations in nanoseconds held in Value.Num.
	TypeRelTime
	// TypeIPAddr values are IP addresses held in Value.Addr.
	TypeIPAddr
	// TypeIPNet fields hold an IP address in Value.Addr and are compared with
	// CIDR networks by containment.
	TypeIPNet
	// TypeBytes values are byte buffers held in Value.Bytes.
	TypeBytes
)

var typeNames = [...]string{
	TypeString:  "string",
	TypeBool:    "bool",
	TypeInt64:   "int64",
	TypeUint64:  "uint64",
	TypeUint32:  "uint32",
	TypePort:    "port",
	TypeAbsTime: "abstime",
	TypeRelTime: "reltime",
	TypeIPAddr:  "ipaddr",
	TypeIPNet:   "ipnet",
	TypeBytes:   "bytebuf",
}

// String returns the type name Falco uses, such as "uint32" or "ipaddr".
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Numeric reports whether values of t are numbers held in Value.Num.
func (t Type) Numeric() bool {
	switch t {
	case TypeInt64, TypeUint64, TypeUint32, TypePort, TypeAbsTime, TypeRelTime:
		return true
	}
	return false
}

// Signed reports whether numbers of type t are signed.
func (t Type) Signed() bool { return t == TypeInt64 }

// Flags are properties of a field that restrict where it may appear.
type Flags uint16

// Field flags.
const (
	// FlagArgRequired marks fields that need an argument, such as evt.arg.
	FlagArgRequired Flags = 1 << iota
	// FlagArgAllowed marks fields that accept an optional argument.
	FlagArgAllowed
	// FlagFilterOnly marks fields that conditions may use but outputs may not.
	FlagFilterOnly
	// FlagNoRHS marks fields that cannot be compared with another field
	// through val(), on either side.
	FlagNoRHS
	// FlagNoTransformer marks fields that transformers such as tolower cannot
	// take.
	FlagNoTransformer
	// FlagDeprecated marks fields whose use gives a deprecation warning.
	FlagDeprecated
	// FlagAnyValue marks fields that can extract several values, such as
	// proc.aname without an index (every ancestor) or fd.ip (both ends of a
	// socket). A check holds when it holds for any of the values, and
	// outputs print them separated by spaces.
	FlagAnyValue
)

// ArgKind is the argument syntax of a field.
type ArgKind uint8

// Argument syntaxes.
const (
	// ArgNone fields take no argument.
	ArgNone ArgKind = iota
	// ArgIndex fields take a non-negative number: proc.aname[2].
	ArgIndex
	// ArgKey fields take a key: proc.env[HOME].
	ArgKey
	// ArgKeyDotted fields take a key in brackets or after a dot:
	// k8s.pod.label[app] or k8s.pod.label.app.
	ArgKeyDotted
	// ArgIndexOrKey fields take a number or a key: container.mount.dest[0] or
	// container.mount.dest[/host/path].
	ArgIndexOrKey
	// ArgParam fields take an event parameter by position or by name:
	// evt.arg[0], evt.arg[flags] or evt.arg.flags.
	ArgParam
	// ArgParamName fields take an event parameter by name only:
	// evt.rawarg.res or evt.rawarg[res].
	ArgParamName
)

// Field describes one field of the catalogue.
type Field struct {
	ID    ID
	Name  string
	Type  Type
	Flags Flags
	Arg   ArgKind
	Desc  string
}

// Has reports whether f has every flag of flags.
func (f *Field) Has(flags Flags) bool { return f.Flags&flags == flags }

// AnyIndex is Ref.Index when the reference has no numeric argument.
const AnyIndex = -1

// Ref is a field reference checked at load time: the field and its parsed
// argument. The engine passes the same *Ref to every Extract call for the
// check or output token it was compiled from, so an extractor may switch on
// Field and read Index and Key without parsing anything.
type Ref struct {
	// Field is the referenced field.
	Field ID
	// Index is the numeric argument, such as 2 in proc.aname[2] or 0 in
	// evt.arg[0]; AnyIndex when the argument is absent or not a number.
	Index int
	// Key is the textual argument, such as "flags" in evt.arg.flags or "app"
	// in k8s.pod.label[app]; empty when the argument is absent or a number.
	Key string
	// HasArg reports whether the reference has an argument; x[""] has one
	// (an empty Key), x has none.
	HasArg bool
	// Text is the reference as written, such as "proc.aname[2]"; outputs use
	// it as the output_fields key.
	Text string
	// Type is the type of the values: the field's type, except for
	// evt.rawarg.NAME, whose type is the raw type of parameter NAME.
	Type Type
}

// Info returns the catalogue entry of the referenced field.
func (r *Ref) Info() *Field { return Get(r.Field) }

// Value is one value of a field. An extractor fills only the member that the
// field's [Type] names; the others stay zero. Str and Bytes may point into
// memory the event owns: the engine does not keep them after Match returns,
// except for rendered outputs, which copy what they print.
type Value struct {
	// Str contains TypeString values.
	Str string
	// Num contains every numeric type: signed types as they are, unsigned types
	// as their bit pattern, times and durations in nanoseconds.
	Num int64
	// Bool contains TypeBool values.
	Bool bool
	// Addr contains TypeIPAddr and TypeIPNet values.
	Addr netip.Addr
	// Bytes contains TypeBytes values.
	Bytes []byte
}

// Extractor reads field values from one event.
type Extractor interface {
	// Extract appends the values of the referenced field to dst and returns
	// the extended slice. A field that has no value for this event appends
	// nothing. Single-valued fields append one value; FlagAnyValue fields
	// without an argument may append several. Extract must not keep dst.
	Extract(ref *Ref, dst []Value) []Value
}

// Event is one event of the syscall source, as the rules engine reads it.
type Event interface {
	// Type returns the event's syscall. The engine reads evt.type from it,
	// so Extract never receives an EvtType reference.
	Type() evttype.Type
	Extractor
}

// Get returns the catalogue entry of id, or nil for an unknown id.
func Get(id ID) *Field {
	if id == 0 || id >= maxID {
		return nil
	}
	return &catalogue[id]
}

// Lookup returns the field named exactly name, such as "proc.name", or nil.
func Lookup(name string) *Field {
	if f, ok := byName[name]; ok {
		return &catalogue[f]
	}
	return nil
}

// All returns every field of the catalogue in ID order.
func All() []*Field {
	out := make([]*Field, 0, maxID-1)
	for id := ID(1); id < maxID; id++ {
		out = append(out, &catalogue[id])
	}
	return out
}

// IsParam reports whether name is the name of a parameter of some syscall
// event, as accepted by evt.arg.NAME.
func IsParam(name string) bool {
	_, ok := eventParams[name]
	return ok
}

var byName = func() map[string]ID {
	m := make(map[string]ID, maxID)
	for id := ID(1); id < maxID; id++ {
		m[catalogue[id].Name] = id
	}
	return m
}()

// Values appends the values of ref for ev to dst, as the engine reads them.
// evt.type and syscall.type come from ev.Type(), evt.source is "syscall",
// and evt.dir is "<" because every event describes a completed syscall (an
// exit event in Falco's terms). Every other field comes from ev.Extract.
func Values(ev Event, ref *Ref, dst []Value) []Value {
	switch ref.Field {
	case EvtType, SyscallType:
		return append(dst, Value{Str: ev.Type().String()})
	case EvtSource:
		return append(dst, Value{Str: "syscall"})
	case EvtDir:
		return append(dst, Value{Str: "<"})
	}
	return ev.Extract(ref, dst)
}
