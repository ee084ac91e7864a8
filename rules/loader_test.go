package rules_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

const baseRule = `
- rule: legit rule
  desc: legit rule description
  condition: evt.type=open
  output: user=%user.name command=%proc.cmdline file=%fd.name
  priority: INFO
`

// catOpen is an open of /dev/null by "cat /dev/null", whose parent is bash.
func catOpen() *rulestest.Event {
	return rulestest.New("open",
		"proc.name", "cat", "proc.cmdline", "cat /dev/null", "proc.pname", "bash",
		"fd.name", "/dev/null", "user.name", "root", "proc.args", "/dev/null",
	)
}

type loadCase struct {
	name  string
	files []string
	// err is a substring of the expected error text; code its code.
	err, code string
	// errItem is the expected item type and name of the error, when set.
	errItem string
	// warns are substrings that must each appear in some warning.
	warns []string
	// noWarns forbids every warning.
	noWarns bool
	check   func(t *testing.T, eng *rules.Engine)
}

func load(files ...string) (*rules.Engine, *rules.Result, error) {
	var fs []rules.File
	for i, f := range files {
		fs = append(fs, rules.File{Name: "rules" + string(rune('1'+i)) + ".yaml", Content: []byte(f)})
	}
	return rules.Load(rules.Options{}, fs...)
}

func runLoadCases(t *testing.T, cases []loadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eng, res, err := load(tc.files...)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("load succeeded, want error %q", tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error = %q, want it to contain %q", err, tc.err)
				}
				var le *rules.LoadError
				if !errors.As(err, &le) {
					t.Fatalf("error %T is not a *rules.LoadError", err)
				}
				if tc.code != "" && le.Code != tc.code {
					t.Errorf("error code = %s, want %s", le.Code, tc.code)
				}
				if tc.errItem != "" && le.ItemType+" "+le.ItemName != tc.errItem {
					t.Errorf("error item = %q, want %q", le.ItemType+" "+le.ItemName, tc.errItem)
				}
				if le.Line == 0 || le.File == "" {
					t.Errorf("error %v has no file position", le)
				}
			} else if err != nil {
				t.Fatalf("load: %v", err)
			}
			for _, w := range tc.warns {
				found := false
				for _, m := range res.Warnings {
					if strings.Contains(m.Text, w) || m.Code == w {
						found = true
					}
				}
				if !found {
					t.Errorf("no warning contains %q; warnings: %v", w, res.Warnings)
				}
			}
			if tc.noWarns && len(res.Warnings) > 0 {
				t.Errorf("warnings = %v, want none", res.Warnings)
			}
			if tc.check != nil && err == nil {
				tc.check(t, eng)
			}
		})
	}
}

func compiled(name, want string) func(t *testing.T, eng *rules.Engine) {
	return func(t *testing.T, eng *rules.Engine) {
		t.Helper()
		r := eng.Rule(name)
		if r == nil {
			t.Fatalf("rule %q not loaded", name)
		}
		if r.Compiled != want {
			t.Errorf("compiled condition = %s, want %s", r.Compiled, want)
		}
	}
}

func fires(want bool, ev rules.Event) func(t *testing.T, eng *rules.Engine) {
	return func(t *testing.T, eng *rules.Engine) {
		t.Helper()
		got := len(eng.Match(ev, nil)) > 0
		if got != want {
			t.Errorf("match = %v, want %v", got, want)
		}
	}
}

func enabledCount(want int) func(t *testing.T, eng *rules.Engine) {
	return func(t *testing.T, eng *rules.Engine) {
		t.Helper()
		n := 0
		for _, r := range eng.Rules() {
			if r.Enabled {
				n++
			}
		}
		if n != want {
			t.Errorf("%d enabled rules, want %d", n, want)
		}
	}
}

func all(checks ...func(t *testing.T, eng *rules.Engine)) func(t *testing.T, eng *rules.Engine) {
	return func(t *testing.T, eng *rules.Engine) {
		t.Helper()
		for _, c := range checks {
			c(t, eng)
		}
	}
}

func TestLists(t *testing.T) {
	shellRule := `
- list: shell_binaries
  items: [ash, bash, csh, ksh, sh, tcsh, zsh, dash]
- rule: shell rule
  desc: d
  condition: evt.type=open and proc.name in (shell_binaries)
  output: o
  priority: INFO
`
	runLoadCases(t, []loadCase{
		{name: "append after the rule", files: []string{shellRule + `
- list: shell_binaries
  items: [pwsh]
  override:
    items: append
`}, noWarns: true, check: compiled("shell rule", "(evt.type = open and proc.name in (ash, bash, csh, ksh, sh, tcsh, zsh, dash, pwsh))")},
		{name: "append before definition", files: []string{`
- list: my_list
  items: [a]
  override:
    items: append
`}, err: "List uses 'append' or 'override.items: append' but no list by that name already exists", code: "LOAD_ERR_VALIDATE", errItem: "list my_list"},
		{name: "legacy append before definition", files: []string{`
- list: my_list
  items: [a]
  append: true
`}, err: "no list by that name already exists"},
		{name: "replace before definition", files: []string{`
- list: my_list
  items: [not-blkid]
  override:
    items: replace
- list: my_list
  items: [blkid]
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (my_list)
  output: o
  priority: INFO
`}, check: compiled("r", "(evt.type = open and proc.name in (blkid))")},
		{name: "append items", files: []string{`
- list: my_list
  items: [blkid]
- list: my_list
  items: [csi-provisioner, csi-attacher]
  append: true
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (my_list)
  output: o
  priority: INFO
`}, warns: []string{"'append' key is deprecated"}, check: compiled("r", "(evt.type = open and proc.name in (blkid, csi-provisioner, csi-attacher))")},
		{name: "misspelled override key", files: []string{`
- list: my_list
  items: [not-blkid]
  override_written_wrong:
    items: append
- list: my_list
  items: [blkid]
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (my_list)
  output: o
  priority: INFO
`}, warns: []string{"Unknown key 'override_written_wrong'"}, check: compiled("r", "(evt.type = open and proc.name in (blkid))")},
		{name: "append false redefines", files: []string{`
- list: my_list
  items: [cat]
- list: my_list
  items: [not-cat]
  append: false
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (my_list)
  output: o
  priority: INFO
`}, check: compiled("r", "(evt.type = open and proc.name in (not-cat))")},
		{name: "last definition wins", files: []string{`
- list: cat_binaries
  items: [not_cat]
- list: cat_binaries
  items: [cat]
- macro: is_cat
  condition: proc.name in (cat_binaries)
- rule: r
  desc: d
  condition: evt.type=open and is_cat
  output: o
  priority: INFO
`}, check: fires(true, catOpen())},
		{name: "nested list overridden by a later file", files: []string{`
- list: cat_binaries
  items: [cat]
- list: cat_capable_binaries
  items: [cat_binaries]
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (cat_capable_binaries)
  output: o
  priority: INFO
`, `
- list: cat_binaries
  items: [not-cat]
`}, check: fires(false, catOpen())},
		{name: "list as a bare value", files: []string{`
- list: cat_binaries
  items: [cat]
- macro: is_cat
  condition: proc.name=cat_binaries
- rule: r
  desc: d
  condition: evt.type=open and is_cat
  output: o
  priority: INFO
`}, check: fires(true, catOpen())},
		{name: "substitution at end, front, middle", files: []string{`
- list: cat_binaries
  items: [cat]
- macro: m1
  condition: proc.name in (ls, cat_binaries)
- macro: m2
  condition: proc.name in (cat_binaries, ps)
- macro: m3
  condition: proc.name in (ls, cat_binaries, ps)
- macro: m4
  condition: proc.name= cat_binaries or proc.name=nopey
- rule: r
  desc: d
  condition: evt.type=open and m1 and m2 and m3 and m4
  output: o
  priority: INFO
`}, check: fires(true, catOpen())},
		{name: "undelimited name not substituted", files: []string{`
- list: my_list
  items: ['"one string"']
- rule: r
  desc: d
  condition: evt.type=open and fd.name in (file_my_list)
  output: o
  priority: INFO
`}, warns: []string{"List not referred to by any other rule/macro"}, check: compiled("r", "(evt.type = open and fd.name in (file_my_list))")},
		{name: "quoted items", files: []string{`
- list: my_list
  items: [non_escaped_val, "escaped val"]
- rule: r
  desc: d
  condition: evt.type=open and proc.cmdline in (my_list)
  output: o
  priority: INFO
`}, check: compiled("r", `(evt.type = open and proc.cmdline in (non_escaped_val, "escaped val"))`)},
		{name: "invalid list name", files: []string{`
- list: test list
  items: [open]
- rule: r
  desc: d
  condition: evt.type in (test list)
  output: o
  priority: INFO
`}, warns: []string{"List has an invalid name"}},
		{name: "missing items", files: []string{`
- list: bad_list
  no_items: [a]
`}, err: "Item has no mapping for key 'items'", code: "LOAD_ERR_YAML_VALIDATE", errItem: "list bad_list"},
		{name: "empty name", files: []string{`
- list:
  items: [a]
`}, err: "Mapping for key 'list' is empty", code: "LOAD_ERR_YAML_VALIDATE"},
		{name: "unknown key", files: []string{`
- list: my_list
  items: [a]
  priority: INFO
`}, warns: []string{"Unknown key 'priority'", "LOAD_UNUSED_LIST"}},
		{name: "one-level expansion", files: []string{`
- list: la
  items: [x]
- list: lb
  items: [la, y]
- list: lc
  items: [lb, z]
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (lc)
  output: o
  priority: INFO
`}, check: compiled("r", "(evt.type = open and proc.name in (la, y, z))")},
		{name: "empty list removes a comma", files: []string{`
- list: empty
  items: []
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (a, empty)
  output: o
  priority: INFO
`}, check: compiled("r", "(evt.type = open and proc.name in (a))")},
		{name: "list defined after use", files: []string{`
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (later)
  output: o
  priority: INFO
- list: later
  items: [cat]
`}, check: fires(true, catOpen())},
		{name: "scalar items stay strings", files: []string{`
- list: ports
  items: [80, 0x10, yes, 1.0]
- rule: r
  desc: d
  condition: evt.type=open and proc.name in (ports)
  output: o
  priority: INFO
`}, check: compiled("r", "(evt.type = open and proc.name in (80, 0x10, yes, 1.0))")},
	})
}

func TestMacros(t *testing.T) {
	runLoadCases(t, []loadCase{
		{name: "append condition", files: []string{`
- macro: interactive
  condition: ((proc.aname=sshd and proc.name != sshd) or proc.name=systemd-logind or proc.name=login)
- rule: r
  desc: d
  condition: evt.type=open and interactive
  output: o
  priority: INFO
- macro: interactive
  condition: or proc.name = ssh
  override:
    condition: append
`}, check: compiled("r", "(evt.type = open and (((proc.aname = sshd and proc.name != sshd) or proc.name = systemd-logind or proc.name = login) or proc.name = ssh))")},
		{name: "legacy append", files: []string{`
- macro: open_simple
  condition: evt.type in (open,openat)
- macro: open_simple
  condition: or evt.type = openat2
  append: true
- rule: open_simple
  desc: d
  condition: open_simple
  output: o
  priority: INFO
`}, warns: []string{"'append' key is deprecated"}, check: compiled("open_simple", "(evt.type in (open, openat) or evt.type = openat2)")},
		{name: "append before definition", files: []string{`
- macro: m
  condition: evt.type = open
  override:
    condition: append
`}, err: "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists", code: "LOAD_ERR_VALIDATE"},
		{name: "replace before definition", files: []string{`
- macro: m
  condition: evt.type = close
  override:
    condition: replace
- macro: m
  condition: evt.type in (open, openat)
- rule: r
  desc: d
  condition: m
  output: o
  priority: INFO
`}, check: compiled("r", "evt.type in (open, openat)")},
		{name: "appended syntax error", files: []string{`
- macro: some_macro
  condition: evt.type=execve
- macro: some_macro
  condition: foo
  append: true
`}, err: "unexpected token after 'execve', expecting 'or', 'and'", code: "LOAD_ERR_COMPILE_CONDITION", errItem: "macro some_macro"},
		{name: "appended syntax error across documents", files: []string{`
- macro: some_macro
  condition: evt.type=execve
---
- macro: some_macro
  condition: foo
  append: true
`}, err: "unexpected token after 'execve'", code: "LOAD_ERR_COMPILE_CONDITION"},
		{name: "redefinition to an undefined macro", files: []string{`
- macro: some_macro
  condition: evt.type=execve
`, `
- macro: some_macro
  condition: foo
  append: false
`}, err: "Undefined macro 'foo' used in filter.", code: "LOAD_ERR_VALIDATE", warns: []string{"Macro not referred to by any other rule/macro"}},
		{name: "last definition wins", files: []string{`
- macro: is_cat
  condition: proc.name in (not_cat)
- macro: is_cat
  condition: proc.name in (cat)
- rule: r
  desc: d
  condition: evt.type=open and is_cat
  output: o
  priority: INFO
`}, check: fires(true, catOpen())},
		{name: "later file redefines", files: []string{`
- macro: is_cat
  condition: proc.name in (cat)
- rule: r
  desc: d
  condition: evt.type=open and is_cat
  output: o
  priority: INFO
`, `
- macro: is_cat
  condition: proc.name in (not-cat)
`}, check: fires(false, catOpen())},
		{name: "invalid name", files: []string{`
- macro: test-macro
  condition: evt.type = open
`}, warns: []string{"Macro has an invalid name"}},
		{name: "missing condition", files: []string{`
- macro: m
  cond: evt.type = open
`}, err: "Item has no mapping for key 'condition'", code: "LOAD_ERR_YAML_VALIDATE"},
		{name: "empty name", files: []string{`
- macro:
  condition: evt.type = open
`}, err: "Mapping for key 'macro' is empty"},
		{name: "unknown key", files: []string{`
- macro: m
  condition: evt.type = open
  typo_field: x
`}, warns: []string{"Unknown key 'typo_field'"}},
		{name: "deprecated field in macro", files: []string{`
- macro: spawned_process
  condition: evt.type = execve and evt.dir = <
- rule: r
  desc: d
  condition: spawned_process
  output: o
  priority: INFO
`}, warns: []string{"usage of deprecated field 'evt.dir'"}},
		{name: "macro sees only earlier macros", files: []string{`
- macro: a
  condition: b
- macro: b
  condition: evt.type = open
`}, err: "Undefined macro 'b' used in filter.", errItem: "macro a"},
		{name: "rules see later macros", files: []string{`
- rule: r
  desc: d
  condition: later
  output: o
  priority: INFO
- macro: later
  condition: evt.type = open
`}, check: compiled("r", "evt.type = open")},
		{name: "macro appended after a later macro sees it", files: []string{`
- macro: a
  condition: evt.type = open
- macro: b
  condition: proc.name = cat
- macro: a
  condition: and b
  append: true
- rule: r
  desc: d
  condition: a
  output: o
  priority: INFO
`}, check: compiled("r", "(evt.type = open and proc.name = cat)")},
		{name: "reference loop", files: []string{`
- macro: a
  condition: evt.type = open
- macro: a
  condition: or a
  append: true
`}, err: "reference loop in macro 'a'"},
		{name: "unused macro error fails", files: []string{`
- macro: m
  condition: foo
`}, err: "Undefined macro 'foo' used in filter."},
		{name: "nested macros", files: []string{`
- macro: b
  condition: proc.name exists
- macro: a
  condition: fd.name exists and b
- rule: r
  desc: d
  condition: a
  output: o
  priority: INFO
`}, warns: []string{"LOAD_NO_EVTTYPE"}, check: compiled("r", "(fd.name exists and proc.name exists)")},
		{name: "not applies to the whole macro", files: []string{`
- macro: m
  condition: proc.name = a or proc.name = b
- rule: r
  desc: d
  condition: evt.type = open and not m
  output: o
  priority: INFO
`}, check: all(compiled("r", "(evt.type = open and not (proc.name = a or proc.name = b))"), fires(true, catOpen()))},
	})
}

func TestRuleOverrides(t *testing.T) {
	runLoadCases(t, []loadCase{
		{name: "append condition output desc", files: []string{baseRule + `
- rule: legit rule
  desc: with append
  condition: and proc.name = cat
  output: proc=%proc.name
  override:
    desc: append
    condition: append
    output: append
`}, noWarns: true, check: func(t *testing.T, eng *rules.Engine) {
			r := eng.Rule("legit rule")
			if r.Condition != "evt.type=open and proc.name = cat" {
				t.Errorf("condition = %q", r.Condition)
			}
			if r.Output != "user=%user.name command=%proc.cmdline file=%fd.name proc=%proc.name" {
				t.Errorf("output = %q", r.Output)
			}
			if r.Desc != "legit rule description with append" {
				t.Errorf("desc = %q", r.Desc)
			}
		}},
		{name: "legacy append", files: []string{baseRule + `
- rule: legit rule
  condition: and proc.name = cat
  append: true
`}, warns: []string{"'append' key is deprecated"}, check: compiled("legit rule", "(evt.type = open and proc.name = cat)")},
		{name: "replace condition and desc", files: []string{baseRule + `
- rule: legit rule
  desc: a replaced legit description
  condition: evt.type = close
  override:
    desc: replace
    condition: replace
`}, check: func(t *testing.T, eng *rules.Engine) {
			r := eng.Rule("legit rule")
			if r.Compiled != "evt.type = close" || r.Desc != "a replaced legit description" || r.Output != "user=%user.name command=%proc.cmdline file=%fd.name" {
				t.Errorf("rule = %q / %q / %q", r.Compiled, r.Desc, r.Output)
			}
		}},
		{name: "mixed append and replace", files: []string{`
- rule: legit rule
  desc: d
  condition: evt.type = close
  output: o
  priority: INFO
- rule: legit rule
  desc: new
  condition: and proc.name = cat
  priority: WARNING
  override:
    desc: replace
    condition: append
    priority: replace
`}, check: func(t *testing.T, eng *rules.Engine) {
			r := eng.Rule("legit rule")
			if r.Condition != "evt.type = close and proc.name = cat" {
				t.Errorf("condition = %q", r.Condition)
			}
			if r.Priority != alert.PriorityWarning || r.Priority.String() != "Warning" {
				t.Errorf("priority = %v", r.Priority)
			}
		}},
		{name: "priority cannot be appended", files: []string{baseRule + `
- rule: legit rule
  priority: WARNING
  override:
    priority: append
`}, err: "Key 'priority' cannot be appended to, use 'replace' instead"},
		{name: "append and override together", files: []string{baseRule + `
- rule: legit rule
  condition: and proc.name = cat
  append: true
  override:
    condition: append
`}, err: "Keys 'override' and 'append: true' cannot be used together", warns: []string{"'append' key is deprecated"}},
		{name: "append before the rule", files: []string{`
- rule: legit rule
  condition: and proc.name = cat
  override:
    condition: append
`}, err: "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists"},
		{name: "replace before the rule", files: []string{`
- rule: legit rule
  condition: evt.type = close
  override:
    condition: replace
`}, err: "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists"},
		{name: "override of an absent key", files: []string{baseRule + `
- rule: legit rule
  desc: x
  override:
    condition: append
    desc: replace
`}, err: "An append override for 'condition' was specified but 'condition' is not defined"},
		{name: "key without override entry", files: []string{baseRule + `
- rule: legit rule
  condition: and proc.name = cat
  priority: WARNING
  override:
    condition: append
`}, err: "Unexpected key 'priority'"},
		{name: "enabled replace without enabled", files: []string{baseRule + `
- rule: legit rule
  desc: x
  override:
    desc: replace
    enabled: replace
`}, err: "'enabled' was specified but 'enabled' is not defined"},
		{name: "invalid override operation", files: []string{baseRule + `
- rule: legit rule
  desc: x
  override:
    desc: merge
`}, err: "Invalid override operation for key 'desc': 'merge'. Allowed values are: append replace"},
		{name: "enable a disabled rule by override", files: []string{baseRule + `  enabled: false
- rule: legit rule
  desc: new
  condition: and proc.name = cat
  enabled: true
  override:
    desc: replace
    condition: append
    enabled: replace
`}, noWarns: true, check: enabledCount(1)},
		{name: "disabled rule", files: []string{baseRule + `  enabled: false
`}, noWarns: true, check: enabledCount(0)},
		{name: "standalone enabled", files: []string{baseRule + `  enabled: false
- rule: legit rule
  enabled: true
`}, warns: []string{"The standalone 'enabled' key usage is deprecated"}, check: enabledCount(1)},
		{name: "standalone disabled", files: []string{baseRule + `
- rule: legit rule
  enabled: false
`}, check: enabledCount(0)},
		{name: "standalone enabled on unknown rule", files: []string{`
- rule: nope
  enabled: true
`}, err: "Rule has 'enabled' key but no rule by that name already exists"},
		{name: "legacy append ignores enabled", files: []string{baseRule + `  enabled: false
- rule: legit rule
  condition: and proc.name = cat
  enabled: true
  append: true
`}, check: enabledCount(0)},
		{name: "full redefinition", files: []string{baseRule + `  enabled: false
- rule: legit rule
  desc: new desc
  condition: proc.name = cat
  output: new output
  priority: ERROR
  enabled: true
`}, check: all(compiled("legit rule", "proc.name = cat"), enabledCount(1))},
		{name: "second definition wins", files: []string{`
- macro: is_cat
  condition: proc.name = cat
- rule: r
  desc: d
  condition: evt.type = open and proc.name=not_cat
  output: o
  priority: INFO
- rule: r
  desc: d
  condition: evt.type = open and is_cat
  output: o
  priority: INFO
`}, check: fires(true, catOpen())},
		{name: "legacy append without condition or exceptions", files: []string{baseRule + `
- rule: legit rule
  desc: x
  append: true
`}, err: "Appended rule must have exceptions or condition property", code: "LOAD_ERR_VALIDATE"},
		{name: "appended condition syntax error", files: []string{baseRule + `
- rule: legit rule
  condition: bar
  append: true
`}, err: "unexpected token after 'open', expecting 'or', 'and'", code: "LOAD_ERR_COMPILE_CONDITION"},
		{name: "redefinition with undefined macro", files: []string{`
- rule: some rule
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
- rule: some rule
  desc: d
  condition: bar
  output: o
  priority: INFO
  append: false
`}, err: "Undefined macro 'bar' used in filter.", code: "LOAD_ERR_VALIDATE", errItem: "rule some rule"},
		{name: "appended condition without parentheses", files: []string{`
- rule: r
  desc: d
  condition: (evt.type=open and fd.name=not-a-real-file)
  output: o
  priority: INFO
- rule: r
  condition: or (evt.type=open and fd.name=/dev/null)
  append: true
`}, check: fires(true, catOpen())},
		{name: "appended and narrows", files: []string{`
- rule: r
  desc: d
  condition: evt.type=open and fd.name=/dev/null
  output: o
  priority: INFO
- rule: r
  condition: and fd.name=not-a-real-file
  append: true
`}, check: fires(false, catOpen())},
		{name: "missing output", files: []string{`
- rule: no output rule
  desc: d
  condition: evt.type = open
  priority: INFO
`}, err: "Item has no mapping for key 'output'", code: "LOAD_ERR_YAML_VALIDATE", errItem: "rule no output rule"},
		{name: "empty rule name", files: []string{`
- rule:
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
`}, err: "Mapping for key 'rule' is empty"},
		{name: "source changed by redefinition", files: []string{baseRule + `
- rule: legit rule
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  source: k8s_audit
`}, err: "Rule has been re-defined with a different source"},
		{name: "source changed by append", files: []string{baseRule + `
- rule: legit rule
  condition: and proc.name = cat
  source: k8s_audit
  append: true
`}, err: "Rule has been re-defined with a different source"},
		{name: "empty source in append", files: []string{baseRule + `
- rule: legit rule
  condition: and proc.name = cat
  source:
  append: true
- rule: legit rule
  condition: and proc.pname = bash
  source: ""
  append: true
`}, check: fires(true, catOpen())},
		{name: "unknown source", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  source: mysource
- rule: r
  condition: and proc.name = cat
  append: true
`}, warns: []string{"Unknown source mysource, skipping"}, check: enabledCount(0)},
		{name: "skip unknown field", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open and proc.nobody = x
  output: o
  priority: INFO
  skip-if-unknown-filter: true
- rule: r2
  desc: d
  condition: evt.type = some_invalid_event
  output: o
  priority: INFO
  skip-if-unknown-filter: true
- rule: r3
  desc: d
  condition: evt.type = open
  output: "%proc.nobody"
  priority: INFO
  skip-if-unknown-filter: true
- rule: ok
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
`}, warns: []string{"LOAD_UNKNOWN_FILTER", "filter_check called with nonexistent field proc.nobody", "unknown event type some_invalid_event", "unknown filter: proc.nobody"},
			check: all(enabledCount(1), fires(true, catOpen()))},
		{name: "unknown field without skip", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open and proc.nobody = x
  output: o
  priority: INFO
  skip-if-unknown-filter: false
`}, err: "filter_check called with nonexistent field proc.nobody", code: "LOAD_ERR_COMPILE_CONDITION"},
		{name: "argument forms", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open and evt.arg.path="foo" and evt.arg[0]="foo" and proc.aname="ls" and proc.aname[1]="ls" and proc.apid=10 and proc.apid[1]=10
  output: o
  priority: INFO
`}},
		{name: "unknown output field", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: An open was seen %not_a_real_field
  priority: INFO
`}, err: "unknown filter: not_a_real_field", code: "LOAD_ERR_COMPILE_OUTPUT"},
		{name: "deprecated field in output", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: dir=%evt.dir
  priority: INFO
`}, warns: []string{"usage of deprecated field 'evt.dir' has been detected in the rule output"}, check: enabledCount(1)},
		{name: "capture settings", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  capture: true
  capture_duration: 10000
- rule: r2
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
- rule: r2
  capture: true
  capture_duration: 5
  override:
    capture: replace
    capture_duration: replace
`}, check: func(t *testing.T, eng *rules.Engine) {
			if r := eng.Rule("r"); !r.Capture || r.CaptureDuration != 10000 {
				t.Errorf("r capture = %v %d", r.Capture, r.CaptureDuration)
			}
			if r := eng.Rule("r2"); !r.Capture || r.CaptureDuration != 5 {
				t.Errorf("r2 capture = %v %d", r.Capture, r.CaptureDuration)
			}
		}},
		{name: "capture duration not a number", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  capture_duration: not_a_number
`}, err: "Can't decode YAML scalar value"},
		{name: "invalid bool", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  enabled: maybe
`}, err: "Can't decode YAML scalar value"},
		{name: "yaml bool spellings", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  enabled: "No"
- rule: r2
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  enabled: ON
`}, check: enabledCount(1)},
		{name: "unknown rule key", files: []string{baseRule + `  typo_field: x
`}, warns: []string{"Unknown key 'typo_field'"}},
		{name: "names with regex characters", files: []string{`
- rule: "Rule with (parens) [brackets] and .* stars?"
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
`}, check: fires(true, catOpen())},
		{name: "invalid priority", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: LOUD
`}, err: "Invalid priority", code: "LOAD_ERR_YAML_VALIDATE"},
		{name: "priority spellings", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: info
- rule: r2
  desc: d
  condition: evt.type = open
  output: o
  priority: Informational
- rule: r3
  desc: d
  condition: evt.type = open
  output: o
  priority: emergency
`}, check: func(t *testing.T, eng *rules.Engine) {
			if eng.Rule("r").Priority != alert.PriorityInformational || eng.Rule("r2").Priority != alert.PriorityInformational || eng.Rule("r3").Priority != alert.PriorityEmergency {
				t.Error("priorities decoded wrong")
			}
		}},
		{name: "tags sorted and unique", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  tags: [b, a, b]
- rule: r
  tags: [c, a]
  override:
    tags: append
`}, check: func(t *testing.T, eng *rules.Engine) {
			if got := strings.Join(eng.Rule("r").Tags, ","); got != "a,b,c" {
				t.Errorf("tags = %s, want a,b,c", got)
			}
		}},
		{name: "output trimmed", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: >
    folded output
  priority: INFO
`}, check: func(t *testing.T, eng *rules.Engine) {
			if o := eng.Rule("r").Output; o != "folded output" {
				t.Errorf("output = %q", o)
			}
		}},
		{name: "no replaceable key", files: []string{baseRule + `
- rule: legit rule
  override: {}
`}, err: "The rule must have at least one field that can be replaced"},
	})
}

func TestEventTypeWarnings(t *testing.T) {
	rule := func(name, cond string) string {
		return "- rule: " + name + "\n  desc: d\n  condition: " + cond + "\n  output: o\n  priority: INFO\n"
	}
	warned := []string{
		"proc.name=foo", "evt.type!=execve", "not evt.type=execve",
		"evt.type=execve and proc.name=foo or evt.type=open or evt.type!=connect",
		"evt.type=execve and proc.name=foo or evt.type=open or not evt.type=connect",
		"evt.type in (execve, open) or evt.type!=connect", "not evt.type in (execve, open)",
		"not evt.type in (execve, open) or evt.type=connect",
	}
	quiet := []string{
		"evt.type=execve and proc.name!=foo", "evt.type=execve and not proc.name=foo or evt.type=open",
		"not proc.name=foo and evt.type=execve", "evt.type=open or evt.type in (open, open)", "evt.type=execve",
		"evt.num = 0", "evt.type = open and evt.type = close",
	}
	for _, c := range warned {
		_, res, err := load(rule("r", c))
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if !hasWarning(res, "LOAD_NO_EVTTYPE") {
			t.Errorf("%s: no LOAD_NO_EVTTYPE warning", c)
		}
	}
	for _, c := range quiet {
		_, res, err := load(rule("r", c))
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if hasWarning(res, "LOAD_NO_EVTTYPE") {
			t.Errorf("%s: unexpected LOAD_NO_EVTTYPE warning", c)
		}
	}
	_, res, err := load(rule("r", "proc.name = cat") + "  warn_evttypes: false\n")
	if err != nil {
		t.Fatal(err)
	}
	if hasWarning(res, "LOAD_NO_EVTTYPE") {
		t.Error("warn_evttypes: false still warns")
	}
	eng, res, err := load(`
- macro: never_true
  condition: (evt.num=0)
- macro: user_known_activity
  condition: (never_true)
` + rule("r", "evt.type = open and not user_known_activity"))
	if err != nil {
		t.Fatal(err)
	}
	if hasWarning(res, "LOAD_NO_EVTTYPE") {
		t.Error("never_true macro gives LOAD_NO_EVTTYPE")
	}
	if !eng.Rule("r").Enabled {
		t.Error("rule with a never_true exception is not enabled")
	}
}

func hasWarning(res *rules.Result, code string) bool {
	for _, w := range res.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}
