package filter

import (
	"bytes"
	"net/netip"

	"github.com/riposte-sec/riposte/rules/fields"
)

// numCheck compares numeric values with literals.
type numCheck struct {
	src      *operand
	op       opcode
	lits     []int64
	unsigned bool
}

func (c *numCheck) eval(ev fields.Event, s *Scratch) bool {
	vals := c.src.values(ev, s, &s.vals)
	for i := range vals {
		if c.test(vals[i].Num) {
			return true
		}
	}
	return false
}

func (c *numCheck) test(v int64) bool {
	if c.op == opIn || c.op == opIntersects {
		for _, l := range c.lits {
			if v == l {
				return true
			}
		}
		return false
	}
	return compareNum(c.op, v, c.lits[0], c.unsigned)
}

func compareNum(op opcode, a, b int64, unsigned bool) bool {
	switch op {
	case opEq:
		return a == b
	case opNe:
		return a != b
	}
	less, equal := a < b, a == b
	if unsigned {
		less = uint64(a) < uint64(b)
	}
	switch op {
	case opLt:
		return less
	case opLe:
		return less || equal
	case opGt:
		return !less && !equal
	case opGe:
		return !less
	}
	return false
}

// boolCheck compares boolean values with literals.
type boolCheck struct {
	src  *operand
	op   opcode
	lits []bool
}

func (c *boolCheck) eval(ev fields.Event, s *Scratch) bool {
	vals := c.src.values(ev, s, &s.vals)
	for i := range vals {
		v := vals[i].Bool
		switch c.op {
		case opEq:
			if v == c.lits[0] {
				return true
			}
		case opNe:
			if v != c.lits[0] {
				return true
			}
		default:
			for _, l := range c.lits {
				if v == l {
					return true
				}
			}
		}
	}
	return false
}

// ipCheck compares IP addresses with addresses or networks: a literal
// network matches the addresses it contains.
type ipCheck struct {
	src  *operand
	op   opcode
	nets []netip.Prefix
}

func (c *ipCheck) eval(ev fields.Event, s *Scratch) bool {
	vals := c.src.values(ev, s, &s.vals)
	for i := range vals {
		a := vals[i].Addr.Unmap()
		if !a.IsValid() {
			continue
		}
		in := false
		for _, n := range c.nets {
			if n.Contains(a) {
				in = true
				break
			}
		}
		if in != (c.op == opNe) {
			return true
		}
	}
	return false
}

// bytesCheck compares byte buffers with literals.
type bytesCheck struct {
	src  *operand
	op   opcode
	lit  []byte // bcontains and bstartswith
	lits [][]byte
}

func (c *bytesCheck) eval(ev fields.Event, s *Scratch) bool {
	vals := c.src.values(ev, s, &s.vals)
	for i := range vals {
		if c.test(vals[i].Bytes) {
			return true
		}
	}
	return false
}

func (c *bytesCheck) test(v []byte) bool {
	switch c.op {
	case opBContains:
		return bytes.Contains(v, c.lit)
	case opBStartsWith:
		return bytes.HasPrefix(v, c.lit)
	case opEq:
		return bytes.Equal(v, c.lits[0])
	case opNe:
		return !bytes.Equal(v, c.lits[0])
	case opContains:
		return bytes.Contains(v, c.lits[0])
	case opStartsWith:
		return bytes.HasPrefix(v, c.lits[0])
	case opEndsWith:
		return bytes.HasSuffix(v, c.lits[0])
	case opIn, opIntersects:
		for _, l := range c.lits {
			if bytes.Equal(v, l) {
				return true
			}
		}
	}
	return false
}

// fieldCmp compares the values of two operands: true when some pair of
// values satisfies the operator.
type fieldCmp struct {
	left, right *operand
	op          opcode
}

func (c *fieldCmp) eval(ev fields.Event, s *Scratch) bool {
	left := c.left.values(ev, s, &s.vals)
	if len(left) == 0 {
		return false
	}
	right := c.right.values(ev, s, &s.other)
	for i := range left {
		for j := range right {
			if c.test(&left[i], &right[j]) {
				return true
			}
		}
	}
	return false
}

func (c *fieldCmp) test(a, b *fields.Value) bool {
	switch t := c.left.typ; {
	case t.Numeric():
		if c.op == opIn || c.op == opIntersects {
			return a.Num == b.Num
		}
		return compareNum(c.op, a.Num, b.Num, !t.Signed())
	case t == fields.TypeBool:
		return (a.Bool == b.Bool) != (c.op == opNe)
	case t == fields.TypeIPAddr:
		return (a.Addr.Unmap() == b.Addr.Unmap()) != (c.op == opNe)
	case t == fields.TypeBytes:
		bc := &bytesCheck{op: c.op, lit: b.Bytes, lits: [][]byte{b.Bytes}}
		return bc.test(a.Bytes)
	}
	sc := strCheck{op: c.op, lit: b.Str}
	switch c.op {
	case opIn, opIntersects:
		return a.Str == b.Str
	case opIContains, opIGlob:
		sc.lower = toLowerString(b.Str)
	}
	return sc.test(a.Str)
}

func toLowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = toLower(b[j])
			}
			return string(b)
		}
	}
	return s
}
