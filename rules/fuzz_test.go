package rules_test

import (
	"errors"
	"testing"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

// FuzzLoad checks that loading any rules file either fails with a
// *rules.LoadError or yields an engine that can match and render events,
// without panics.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(baseRule))
	f.Add([]byte(exceptionRule))
	f.Add([]byte(orderRules))
	f.Add([]byte(`
- list: l
  items: [a, "b c", '"d"']
- macro: m
  condition: proc.name in (l) or fd.name pmatch (/tmp)
- rule: r
  desc: d
  condition: evt.type in (open, execve) and m and not proc.aname[2] = x
  output: "%proc.name %fd.name %evt.arg.flags"
  priority: warning
  tags: [a]
- rule: r
  condition: and proc.pname exists
  exceptions:
    - name: e
      fields: [proc.name, fd.name]
      comps: [=, startswith]
      values: [[a, /x]]
  override:
    condition: append
    exceptions: append
`))
	f.Add([]byte("- required_engine_version: 0.26.0\n- required_plugin_versions:\n  - name: container\n    version: 0.4.0\n"))
	events := []*rulestest.Event{
		catOpen(),
		rulestest.New("execve", "proc.name", "sh", "proc.aname", []string{"bash", "sshd"}, "container.id", "abc"),
		rulestest.New("connect"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		eng, res, err := rules.Load(rules.Options{Matching: rules.MatchAll}, rules.File{Name: "fuzz.yaml", Content: data})
		if err != nil {
			var le *rules.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *rules.LoadError: %v", err, err)
			}
			if len(res.Errors) != 1 {
				t.Fatalf("%d errors, want 1", len(res.Errors))
			}
			return
		}
		for _, ev := range events {
			for _, r := range eng.Match(ev, nil) {
				r.Render(ev)
			}
		}
	})
}
