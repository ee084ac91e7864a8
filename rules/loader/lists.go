package loader

import "strings"

// compileLists expands list references one level: an item naming a list
// whose first definition precedes this list's latest definition or append
// is replaced by that list's raw items.
func (c *collection) compileLists() {
	for _, li := range c.lists {
		li.used = false
	}
	for _, li := range c.lists {
		compiled := make([]string, 0, len(li.items))
		for _, it := range li.items {
			if ref := c.listByName[it]; ref != nil && ref.firstSeq < li.lastSeq {
				ref.used = true
				compiled = append(compiled, ref.items...)
				continue
			}
			compiled = append(compiled, it)
		}
		li.compiled = compiled
	}
}

const (
	listBlanks = " \t\r\n"
	listDelims = listBlanks + "(),="
)

// substituteLists replaces each delimited occurrence of a list name in a
// condition text with the list's items, list by list in order of first
// definition. As in Falco the replacement is textual and ignores quotes. The
// blanks around the name are swallowed and the items get one space on each
// side. Items that contain a space and do not start with a quote are
// double-quoted. For an empty list a neighbouring comma is removed.
func (c *collection) substituteLists(cond string) string {
	for _, li := range c.lists {
		if !strings.Contains(cond, li.name) {
			continue
		}
		cond = substituteList(cond, li)
	}
	return cond
}

func substituteList(cond string, li *listDef) string {
	var sub string
	quoted := make([]string, len(li.compiled))
	for i, it := range li.compiled {
		quoted[i] = quoteSpaced(it)
	}
	sub = strings.Join(quoted, ", ")
	from := 0
	for {
		i := strings.Index(cond[from:], li.name)
		if i < 0 {
			return cond
		}
		start := from + i
		end := start + len(li.name)
		if (start > 0 && !strings.ContainsRune(listDelims, rune(cond[start-1]))) ||
			(end < len(cond) && !strings.ContainsRune(listDelims, rune(cond[end]))) {
			from = start + 1
			continue
		}
		for start > 0 && strings.ContainsRune(listBlanks, rune(cond[start-1])) {
			start--
		}
		for end < len(cond) && strings.ContainsRune(listBlanks, rune(cond[end])) {
			end++
		}
		if sub == "" {
			if start > 0 && cond[start-1] == ',' {
				start--
			} else if end < len(cond) && cond[end] == ',' {
				end++
			}
		}
		var b strings.Builder
		if start > 0 {
			b.WriteString(cond[:start])
			b.WriteByte(' ')
		}
		b.WriteString(sub)
		b.WriteByte(' ')
		next := b.Len()
		b.WriteString(cond[end:])
		cond = b.String()
		li.used = true
		from = next
	}
}
