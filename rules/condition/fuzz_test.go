package condition

import (
	"errors"
	"testing"
)

// FuzzParse checks that the parser never panics, and that the canonical
// form of every accepted condition parses back to the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a and b or c",
		"not not a",
		`proc.name in (bash, "sh -c", 'x\'y') and fd.name startswith /etc/`,
		"evt.type in (open,openat) and evt.is_open_write=true and fd.typechar='f' and fd.num>=0",
		`proc.aname[2] = sshd or k8s.pod.label["app name"] exists`,
		"toupper(proc.name) = val(proc.pname) and len(fd.name) > 0x10",
		"proc.name == oneof (a, b) and proc.cmdline icontains -1.5e+3",
		"((((a))))",
		`test.str = "\x41\ b"`,
		"fd.name pmatch (/tmp) or fd.net != 10.0.0.0/8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := Parse(in, DefaultMaxDepth)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) error %v is not a syntax error", in, err)
			}
			return
		}
		printed := n.String()
		again, err := Parse(printed, RuleMaxDepth)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", printed, in, err)
		}
		if got := again.String(); got != printed {
			t.Fatalf("canonical form changed after a round trip: %q then %q (input %q)", printed, got, in)
		}
	})
}
