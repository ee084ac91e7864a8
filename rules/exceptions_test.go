package rules_test

import (
	"testing"
)

// exceptionRule is the base rule of the exception cases: it fires on the
// open of /dev/null by cat unless an exception matches.
const exceptionRule = `
- rule: Open From Cat
  desc: A process named cat does an open
  condition: evt.type=open and proc.name=cat
  output: "An open was seen (command=%proc.cmdline)"
  priority: WARNING
  exceptions:
    - name: proc_name
      fields: [proc.name]
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
    - name: proc_name_cmdline_pname
      fields: [proc.name, proc.cmdline, proc.pname]
`

func withValues(values string) string {
	return `
- rule: Open From Cat
  desc: A process named cat does an open
  condition: evt.type=open and proc.name=cat
  output: "An open was seen (command=%proc.cmdline)"
  priority: WARNING
  exceptions:
` + values
}

func TestExceptions(t *testing.T) {
	suppressed := fires(false, catOpen())
	firing := fires(true, catOpen())
	runLoadCases(t, []loadCase{
		{name: "no values", files: []string{exceptionRule}, check: firing},
		{name: "one field", files: []string{withValues(`
    - name: proc_name
      fields: [proc.name]
      values: [[cat]]
`)}, check: suppressed},
		{name: "second exception matches", files: []string{withValues(`
    - name: proc_name
      fields: [proc.name]
      values: [[not-cat]]
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
      values: [[cat, "cat /dev/null"]]
`)}, check: suppressed},
		{name: "three fields", files: []string{withValues(`
    - name: proc_name_cmdline_pname
      fields: [proc.name, proc.cmdline, proc.pname]
      values: [[cat, "cat /dev/null", bash]]
`)}, check: suppressed},
		{name: "tuples are or-ed", files: []string{withValues(`
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
      values: [[not-cat, not-cat], [cat, "cat /dev/null"]]
`)}, check: suppressed},
		{name: "comps contains", files: []string{withValues(`
    - name: proc_name
      fields: [proc.name]
      comps: [contains]
      values: [[ca]]
`)}, check: suppressed},
		{name: "scalar form", files: []string{withValues(`
    - name: proc_cmdline
      fields: proc.cmdline
      comps: in
      values: [cat /dev/zero, "cat /dev/null"]
`)}, check: all(suppressed, compiled("Open From Cat", `((evt.type = open and proc.name = cat) and not proc.cmdline in ("cat /dev/zero", "cat /dev/null"))`))},
		{name: "inner list", files: []string{withValues(`
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
      comps: [=, in]
      values: [[cat, [cat /dev/zero, "cat /dev/null"]]]
`)}, check: suppressed},
		{name: "list name in parentheses", files: []string{`
- list: cat_cmdlines
  items: [cat /dev/zero, "cat /dev/null"]
` + withValues(`
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
      comps: [=, in]
      values: [[cat, (cat_cmdlines)]]
`)}, check: suppressed},
		{name: "bare list name", files: []string{`
- list: cat_cmdlines
  items: [cat /dev/zero, "cat /dev/null"]
` + withValues(`
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
      comps: [=, in]
      values: [[cat, cat_cmdlines]]
`)}, check: suppressed},
		{name: "already quoted value", files: []string{withValues(`
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
      values: [[cat, '"cat /dev/null"']]
`)}, check: suppressed},
		{name: "append values to existing", files: []string{withValues(`
    - name: proc_name_cmdline
      fields: [proc.name, proc.cmdline]
      values: [[not-cat, not-cat]]
`) + `
- rule: Open From Cat
  exceptions:
    - name: proc_name_cmdline
      values: [[not-cat2, x]]
  append: true
- rule: Open From Cat
  exceptions:
    - name: proc_name_cmdline
      values: [[cat, "cat /dev/null"]]
  override:
    exceptions: append
`}, check: suppressed},
		{name: "append scalar-form values", files: []string{withValues(`
    - name: proc_cmdline
      fields: proc.cmdline
      values: [cat /dev/zero]
`) + `
- rule: Open From Cat
  exceptions:
    - name: proc_cmdline
      values: ["cat /dev/null"]
  append: true
`}, check: suppressed},
		{name: "append a new exception", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: proc_cmdline
      fields: proc.cmdline
      comps: in
      values: ["cat /dev/null"]
  append: true
`}, check: suppressed},
		{name: "append a new exception without fields", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: proc_cmdline
      comps: in
      values: ["cat /dev/null"]
  append: true
`}, err: "Rule exception must have fields property with a list of fields", code: "LOAD_ERR_VALIDATE", errItem: "exception proc_cmdline"},
		{name: "append unknown exception without fields", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: ex2
      values: [[x]]
  override:
    exceptions: append
`}, err: "Rule exception must have fields property with a list of fields", errItem: "exception ex2"},
		{name: "exception without name", files: []string{withValues(`
    - fields: [proc.name]
      values: [[cat]]
`)}, err: "Item has no mapping for key 'name'", code: "LOAD_ERR_YAML_VALIDATE"},
		{name: "append without name", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - values: [[cat]]
  append: true
`}, err: "Item has no mapping for key 'name'"},
		{name: "exception without fields", files: []string{withValues(`
    - name: proc_name
      values: [[cat]]
`)}, err: "Item has no mapping for key 'fields'"},
		{name: "comps length", files: []string{withValues(`
    - name: ex
      fields: [proc.name, fd.filename]
      comps: [=]
`)}, err: "Fields and comps lists must have equal length"},
		{name: "unsupported comp", files: []string{withValues(`
    - name: ex
      fields: [proc.name, fd.filename]
      comps: [=, no-comp]
`)}, err: "'no-comp' is not a supported comparison operator"},
		{name: "unknown field", files: []string{withValues(`
    - name: ex
      fields: [not.exist]
`)}, err: "'not.exist' is not a supported filter field"},
		{name: "values length", files: []string{withValues(`
    - name: ex
      fields: [proc.name, proc.cmdline]
      values: [[cat]]
`)}, err: "Fields and values lists must have equal length"},
		{name: "appended values length", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: proc_name_cmdline
      values: [[cat]]
  append: true
`}, err: "Fields and values lists must have equal length"},
		{name: "scalar form with list value", files: []string{withValues(`
    - name: ex
      fields: proc.cmdline
      values: [[cat]]
`)}, err: "Expected values array to contain a list of strings"},
		{name: "scalar form comps must be a list operator", files: []string{withValues(`
    - name: ex
      fields: proc.cmdline
      comps: =
      values: [cat]
`)}, err: "When fields is a single value, comps must be one of (in, pmatch, intersects)"},
		{name: "scalar form comps must be a string", files: []string{withValues(`
    - name: ex
      fields: proc.cmdline
      comps: [in]
      values: [cat]
`)}, err: "Fields and comps must both be strings"},
		{name: "misspelled values on append", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: proc_name
      value: [[cat]]
  append: true
`}, warns: []string{"Overriding/appending exception with no values"}, check: firing},
		{name: "misspelled values on override append", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: proc_name
      value: [[cat]]
  override:
    exceptions: append
`}, warns: []string{"LOAD_APPEND_NO_VALUES"}, check: firing},
		{name: "duplicate exception names", files: []string{withValues(`
    - name: ex
      fields: [proc.name]
    - name: ex
      fields: [proc.name]
`)}, warns: []string{"Multiple definitions of exception"}},
		{name: "canonical form", files: []string{`
- rule: r
  desc: d
  condition: proc.cmdline contains curl or proc.cmdline contains wget
  output: o
  priority: INFO
  exceptions:
    - name: ex
      fields: [proc.cmdline]
      comps: [contains]
      values: [[curl 127.0.0.1]]
`}, check: compiled("r", `((proc.cmdline contains curl or proc.cmdline contains wget) and not proc.cmdline contains "curl 127.0.0.1")`)},
		{name: "value that names a field", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  exceptions:
    - name: ex
      fields: [proc.name]
      comps: [=]
      values: [[proc.pname]]
`}, warns: []string{"'proc.pname' may be a valid field misused as a const string value"}, check: compiled("r", "(evt.type = open and not proc.name = proc.pname)")},
		{name: "quoted value with a trailing space", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  exceptions:
    - name: ex
      fields: [proc.name]
      comps: [=]
      values: [['"proc.pname "']]
`}, warns: []string{"may be a valid field misused as a const string value"}, check: compiled("r", `(evt.type = open and not proc.name = "proc.pname ")`)},
		{name: "transformer value", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  exceptions:
    - name: ex
      fields: [proc.name]
      comps: [=]
      values: [[toupper(proc.pname)]]
`}, noWarns: true, check: compiled("r", "(evt.type = open and not proc.name = toupper(proc.pname))")},
		{name: "transformer-like value with a space", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  exceptions:
    - name: ex
      fields: [proc.name]
      comps: [=]
      values: [[toupper( proc.pname)]]
`}, warns: []string{"may be a valid field transformer misused as a const string value"}, check: compiled("r", `(evt.type = open and not proc.name = "toupper( proc.pname)")`)},
		{name: "transformer field", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  exceptions:
    - name: ex
      fields: [tolower( proc.name)]
      comps: [=]
      values: [[test]]
`}, noWarns: true, check: compiled("r", "(evt.type = open and not tolower(proc.name) = test)")},
		{name: "replace with a partial entry", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: proc_name
      values: [[cat]]
  override:
    exceptions: replace
`}, err: "Item has no mapping for key 'fields'"},
		{name: "replace exceptions", files: []string{exceptionRule + `
- rule: Open From Cat
  exceptions:
    - name: only
      fields: [proc.pname]
      comps: [=]
      values: [[bash]]
  override:
    exceptions: replace
`}, check: suppressed},
		{name: "unknown source skips field checks", files: []string{`
- rule: r
  desc: d
  condition: ka.verb = create
  output: o
  priority: INFO
  source: k8s_audit
  exceptions:
    - name: ex
      fields: [ka.target.name]
      values: [[x]]
`}, warns: []string{"Unknown source k8s_audit, skipping"}},
		{name: "modifier comps", files: []string{`
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  exceptions:
    - name: ex
      fields: [proc.name, fd.name]
      comps: [startswith oneof, "  startswith  "]
      values: [[[sshd, sudo], /etc/]]
    - name: ex2
      fields: [proc.name]
      comps: [startswith oneof]
      values: [[sshd]]
`}, check: compiled("r", "(evt.type = open and not (proc.name startswith oneof (sshd, sudo) and fd.name startswith /etc/) and not proc.name startswith oneof (sshd))")},
		{name: "invalid modifier comps", files: []string{withValues(`
    - name: ex
      fields: [proc.name]
      comps: [in oneof]
`)}, err: "'in oneof' is not a supported comparison operator"},
		{name: "invalid modifier", files: []string{withValues(`
    - name: ex
      fields: [proc.name]
      comps: [frobulate oneof]
`)}, err: "'frobulate oneof' is not a supported comparison operator"},
	})
}
