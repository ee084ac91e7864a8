package filter

import "hash/maphash"

// strSet is an immutable set of strings for the in and intersects operators.
// Small sets are scanned; larger ones use open addressing over a maphash.
type strSet struct {
	items []string // every item, for small sets
	seed  maphash.Seed
	slots []int32 // index into items plus one; 0 is empty
	mask  uint64
	small bool
}

const smallSet = 8

func newStrSet(items []string) *strSet {
	uniq := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			uniq = append(uniq, it)
		}
	}
	s := &strSet{items: uniq, small: len(uniq) <= smallSet}
	if s.small {
		return s
	}
	size := 1
	for size < len(uniq)*2 {
		size <<= 1
	}
	s.seed = maphash.MakeSeed()
	s.slots = make([]int32, size)
	s.mask = uint64(size - 1)
	for i, it := range uniq {
		h := maphash.String(s.seed, it) & s.mask
		for s.slots[h] != 0 {
			h = (h + 1) & s.mask
		}
		s.slots[h] = int32(i + 1)
	}
	return s
}

func (s *strSet) has(v string) bool {
	if s.small {
		for _, it := range s.items {
			if it == v {
				return true
			}
		}
		return false
	}
	h := maphash.String(s.seed, v) & s.mask
	for {
		i := s.slots[h]
		if i == 0 {
			return false
		}
		if s.items[i-1] == v {
			return true
		}
		h = (h + 1) & s.mask
	}
}
