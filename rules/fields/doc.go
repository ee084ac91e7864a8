// Package fields is the catalogue of the fields that rule conditions and
// outputs read from syscall events, and the contract through which an event
// source hands their values to the rules engine.
//
// Each known field has an [ID], a value [Type], flags and an argument syntax.
// A condition or output names a field as text such as "proc.aname[2]",
// "evt.arg.flags" or "k8s.pod.label[app]"; [Resolve] checks that text once, at
// rule load time, and returns a [Ref] holding the field and its parsed
// argument. At run time the engine passes that Ref to the event's
// [Extractor], which appends the field's values to a reusable []Value, so
// that reading a field allocates nothing.
//
// # Writing an extractor
//
// An event source implements [Event]: Type returns the syscall, and Extract
// switches on ref.Field (the ID constants of this package, such as [ProcName])
// and appends the value into dst, using the member of [Value] that matches the
// field's [Type]:
//
//	func (e *execEvent) Extract(ref *fields.Ref, dst []fields.Value) []fields.Value {
//		switch ref.Field {
//		case fields.ProcName:
//			return append(dst, fields.Value{Str: e.comm})
//		case fields.ProcAname:
//			// ref.Index is the ancestor level; AnyIndex means every ancestor.
//			...
//		}
//		return dst // missing: the field has no value for this event
//	}
//
// A field that has no value for the event appends nothing; every comparison
// on it is then false, and outputs print "<NA>". Fields the source does not
// know are therefore safe: rules that use them load, and their checks are
// false until the source fills them.
package fields
