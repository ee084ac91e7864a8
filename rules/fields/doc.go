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
// and appends the value into dst, using the member of [Value] that matches
// ref.Type (the field's [Type], or the parameter's for evt.rawarg):
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
//
// # Conventions
//
//   - The engine reads evt.type and syscall.type from Type, sets evt.source
//     to "syscall" and evt.dir to "<" (every event is a completed syscall),
//     so Extract never receives those references.
//   - evt.num starts at 1: rules use evt.num=0 as "never".
//   - Ancestor fields (proc.aname, proc.apid, proc.aexe, proc.aexepath)
//     take an index: 0 is the process itself, 1 its parent, 2 the
//     grandparent. Without an index (ref.Index == AnyIndex) append every
//     ancestor from the parent up; a check matches when any of them does.
//   - fd.ip, fd.net and fd.port append both ends of the socket, client and
//     server. fd.cnet, fd.snet, fd.lnet and fd.rnet append one address, and
//     the engine tests it against CIDR networks.
//   - Times (TypeAbsTime) are nanoseconds since the Unix epoch; durations
//     (TypeRelTime) are nanoseconds. evt.time and its variants are the event
//     timestamp; the engine formats them.
//   - evt.arg.NAME, evt.arg[NAME] and evt.arg[N] arrive with ref.Key set to
//     the parameter name, or ref.Index to its position. Render the value as
//     Falco does: flags as "O_RDONLY|O_CLOEXEC", errors as "ENOENT".
//   - container.id is the 12-character short ID, or "host" outside
//     containers.
//
// While matching, the engine calls Extract once per field per event and
// keeps the values until the next event, so strings and byte slices may
// point into the event's own memory. Rendering an output extracts again and
// copies what it keeps. Transformers (tolower and the others) extract their
// field on each use.
package fields
