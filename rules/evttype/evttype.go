// Package evttype names the event types of the syscall event source. There
// is one [Type] for each syscall or event name that Falco accepts as an
// evt.type value. A [Set] is a bit set of types, which indexes rules and lists
// the syscalls a sensor must capture.
//
// Riposte models one event per syscall, so a Type is a name, not one of the
// kernel's enter, exit or versioned event codes.
package evttype

import (
	"math/bits"
	"sort"
	"strconv"
)

// Type is an event type of the syscall source, such as [Execve] or [Openat].
// The zero value is None, which is no event type.
type Type uint16

// None is the zero Type; it names no event.
const None Type = 0

// Count is the number of named event types; valid types are 1 to Count.
const Count = count

// Lookup returns the type named name, such as "openat", and whether the name
// is known.
func Lookup(name string) (Type, bool) {
	i := sort.SearchStrings(names[1:], name) + 1
	if i <= count && names[i] == name {
		return Type(i), true
	}
	return None, false
}

// String returns the event name, such as "execve".
func (t Type) String() string {
	if t == None || int(t) > count {
		return "Type(" + strconv.Itoa(int(t)) + ")"
	}
	return names[t]
}

// Valid reports whether t is a named event type.
func (t Type) Valid() bool { return t != None && int(t) <= count }

// All returns every named event type, in name order.
func All() []Type {
	out := make([]Type, count)
	for i := range out {
		out[i] = Type(i + 1)
	}
	return out
}

// words is the number of 64-bit words of a Set.
const words = (count + 1 + 63) / 64

// Set is a set of event types. The zero value is the empty set. Sets are small
// values and compare with ==.
type Set [words]uint64

// NewSet returns the set of the given types; invalid types are ignored.
func NewSet(types ...Type) Set {
	var s Set
	for _, t := range types {
		s.Add(t)
	}
	return s
}

// Full returns the set of every named event type.
func Full() Set {
	var s Set
	for t := Type(1); int(t) <= count; t++ {
		s.Add(t)
	}
	return s
}

// Add inserts t into s; invalid types are ignored.
func (s *Set) Add(t Type) {
	if t.Valid() {
		s[t/64] |= 1 << (t % 64)
	}
}

// Remove deletes t from s.
func (s *Set) Remove(t Type) {
	if t.Valid() {
		s[t/64] &^= 1 << (t % 64)
	}
}

// Has reports whether s contains t.
func (s Set) Has(t Type) bool {
	return t.Valid() && s[t/64]&(1<<(t%64)) != 0
}

// Union returns the types in s or o.
func (s Set) Union(o Set) Set {
	for i := range s {
		s[i] |= o[i]
	}
	return s
}

// Intersect returns the types in both s and o.
func (s Set) Intersect(o Set) Set {
	for i := range s {
		s[i] &= o[i]
	}
	return s
}

// Complement returns every named type that is not in s.
func (s Set) Complement() Set {
	full := Full()
	for i := range s {
		s[i] = full[i] &^ s[i]
	}
	return s
}

// Len returns the number of types in s.
func (s Set) Len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// Empty reports whether s has no type.
func (s Set) Empty() bool { return s == Set{} }

// IsFull reports whether s has every named type.
func (s Set) IsFull() bool { return s == Full() }

// Types returns the types of s in ascending order.
func (s Set) Types() []Type {
	out := make([]Type, 0, s.Len())
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, Type(i*64+b))
			w &^= 1 << b
		}
	}
	return out
}

// Names returns the names of the types of s in alphabetical order.
func (s Set) Names() []string {
	types := s.Types()
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = t.String()
	}
	return out
}

// KernelCodes estimates how many of Falco's kernel event codes the set covers:
// each name counts its enter, exit and versioned codes, and every syscall
// without an event of its own shares the two codes of the generic syscall
// event. Falco warns when a rule's set exceeds 100 codes.
func (s Set) KernelCodes() int {
	n := 0
	generic := false
	for _, t := range s.Types() {
		c := int(kernelCodes[t])
		if c == 0 {
			generic = true
		}
		n += c
	}
	if generic {
		n += 2
	}
	return n
}

// FromX86Syscall returns the event type of x86-64 syscall number nr, or
// None when the syscall has no event type of its own name.
func FromX86Syscall(nr int) Type { return x86Syscalls[nr] }

// X86Syscalls returns the x86-64 syscall numbers of the types in s, in
// ascending order. Types that are not syscalls, such as procexit or
// container, have no number and are left out.
func (s Set) X86Syscalls() []int {
	var out []int
	for nr, t := range x86Syscalls {
		if s.Has(t) {
			out = append(out, nr)
		}
	}
	sort.Ints(out)
	return out
}
