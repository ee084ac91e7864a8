package rules_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

const orderRules = `
- rule: open_dev_null
  desc: d
  condition: evt.type=open and fd.name=/dev/null
  output: o
  priority: INFO
- rule: dev_null_any
  desc: d
  condition: fd.name=/dev/null
  output: o
  priority: INFO
  warn_evttypes: false
- rule: open_any
  desc: d
  condition: evt.type=open
  output: o
  priority: INFO
`

func names(rs []*rules.Rule) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return strings.Join(out, ",")
}

func TestMatchLastFiles(t *testing.T) {
	product := rules.File{Name: "product.yaml", Content: []byte(`
- macro: opened
  condition: evt.type = open
- rule: product_open
  desc: d
  condition: opened and fd.name = /dev/null
  output: o
  priority: INFO
`)}
	user := rules.File{Name: "user.yaml", Content: []byte(`
- rule: user_open
  desc: d
  condition: opened and proc.name = cat
  output: o
  priority: INFO
- rule: user_close
  desc: d
  condition: evt.type = close
  output: o
  priority: INFO
`)}
	open := catOpen()

	eng, _, err := rules.Load(rules.Options{MatchLast: []string{"product.yaml"}}, product, user)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(eng.Match(open, nil)); got != "user_open" {
		t.Errorf("first match = %s, want the user's rule before the product's", got)
	}
	all, _, err := rules.Load(rules.Options{MatchLast: []string{"product.yaml"}, Matching: rules.MatchAll}, product, user)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all.Match(open, nil)); got != "user_open,product_open" {
		t.Errorf("all matches = %s, want user_open,product_open", got)
	}
	if got := names(eng.Rules()); got != "product_open,user_open,user_close" {
		t.Errorf("rules = %s, want load order", got)
	}

	plain, _, err := rules.Load(rules.Options{}, product, user)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(plain.Match(open, nil)); got != "product_open" {
		t.Errorf("first match without MatchLast = %s, want product_open", got)
	}
}

func TestMatchOrder(t *testing.T) {
	open := catOpen()
	closeEv := rulestest.New("close", "fd.name", "/dev/null")

	first, _, err := rules.Load(rules.Options{}, rules.File{Name: "r.yaml", Content: []byte(orderRules)})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(first.Match(open, nil)); got != "open_dev_null" {
		t.Errorf("first match on open = %s, want open_dev_null", got)
	}
	if got := names(first.Match(closeEv, nil)); got != "dev_null_any" {
		t.Errorf("first match on close = %s, want dev_null_any", got)
	}

	allEng, _, err := rules.Load(rules.Options{Matching: rules.MatchAll}, rules.File{Name: "r.yaml", Content: []byte(orderRules)})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(allEng.Match(open, nil)); got != "open_dev_null,dev_null_any,open_any" {
		t.Errorf("all matches on open = %s, want open_dev_null,dev_null_any,open_any", got)
	}
	if got := names(allEng.Match(closeEv, nil)); got != "dev_null_any" {
		t.Errorf("all matches on close = %s, want dev_null_any", got)
	}
}

func TestMatchOrderWithGeneralRuleFirst(t *testing.T) {
	// A rule without an event type restriction keeps its place in rule
	// order, as in Falco, where it is indexed under every event type.
	eng, _, err := load(`
- rule: any_cat
  desc: d
  condition: proc.name = cat
  output: o
  priority: INFO
  warn_evttypes: false
- rule: open_cat
  desc: d
  condition: evt.type = open and proc.name = cat
  output: o
  priority: INFO
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(eng.Match(catOpen(), nil)); got != "any_cat" {
		t.Errorf("first match = %s, want any_cat", got)
	}
}

func TestAppendOutput(t *testing.T) {
	file := rules.File{Name: "x.yaml", Content: []byte(`
- rule: r1
  desc: d
  condition: evt.type = open
  output: out 1
  priority: INFO
  tags: [tag1]
- rule: another_rule
  desc: d
  condition: evt.type = open
  output: out 2
  priority: INFO
  tags: [tag1]
- rule: r3
  desc: d
  condition: evt.type = open
  output: out 3
  priority: INFO
  tags: [tag1, tag2]
`)}
	eng, _, err := rules.Load(rules.Options{AppendOutput: []rules.AppendOutput{
		{Tags: []string{"tag1"}, Text: "extra 1"},
		{Rule: "another_rule", Text: "extra 2"},
		{Tags: []string{"tag1", "tag2"}, Text: "extra 3", Fields: map[string]string{"my_field": "hello %proc.name"}},
		{Source: "k8s_audit", Text: "never"},
	}}, file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"r1": "out 1 extra 1", "another_rule": "out 2 extra 1 extra 2", "r3": "out 3 extra 1 extra 3"}
	for name, w := range want {
		if got := eng.Rule(name).Render(catOpen()).Message; got != w {
			t.Errorf("%s output = %q, want %q", name, got, w)
		}
	}
	if got := eng.Rule("r3").Render(catOpen()).Fields["my_field"]; got != "hello cat" {
		t.Errorf("my_field = %v, want hello cat", got)
	}
	if _, ok := eng.Rule("r1").Render(catOpen()).Fields["my_field"]; ok {
		t.Error("my_field added to a rule the entry does not select")
	}
}

func TestRuleDetails(t *testing.T) {
	eng, _, err := load(`
- list: known_procs
  items: [cat]
- macro: spawned_process
  condition: evt.type = execve
- rule: r
  desc: d
  condition: (spawned_process or evt.type = open) and (proc.name icontains cat or proc.name in (known_procs, ps))
  output: o
  priority: INFO
`)
	if err != nil {
		t.Fatal(err)
	}
	d := eng.Details(eng.Rule("r"))
	if got := strings.Join(d.Macros, ",") + " " + strings.Join(d.Lists, ","); got != "spawned_process known_procs" {
		t.Errorf("macros and lists = %s", got)
	}
	if got := strings.Join(d.Operators, ","); got != "=,icontains,in" {
		t.Errorf("operators = %s", got)
	}
}

func TestFields(t *testing.T) {
	eng, _, err := load(`
- rule: a
  desc: d
  condition: evt.type = open and proc.aname[2] = sshd and tolower(fd.name) = x
  output: "%proc.name %evt.arg.flags %toupper(user.name)"
  priority: INFO
- rule: b
  desc: d
  condition: evt.type = open and k8s.ns.name = x
  output: o
  priority: INFO
  enabled: false
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ref := range eng.Fields() {
		got = append(got, ref.Text)
	}
	if want := "evt.arg.flags,evt.type,fd.name,proc.aname[2],proc.name,user.name"; strings.Join(got, ",") != want {
		t.Errorf("fields = %s, want %s", strings.Join(got, ","), want)
	}
}

func TestValues(t *testing.T) {
	eng, _, err := load(`
- list: api_hosts
  items: [kubernetes.default.svc, "kubernetes.default.svc.cluster.local"]
- macro: api_server
  condition: fd.sip.name in (api_hosts)
- rule: a
  desc: d
  condition: evt.type = connect and (api_server or fd.sip.name = metadata.internal) and fd.name = x
  output: o
  priority: INFO
- rule: b
  desc: d
  condition: evt.type = connect and fd.sip.name = disabled.example
  output: o
  priority: INFO
  enabled: false
- rule: c
  desc: d
  condition: evt.type = connect and not fd.sip.name = metadata.internal
  output: o
  priority: INFO
`)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(eng.Values(fields.FdSIPName), ",")
	if want := "kubernetes.default.svc,kubernetes.default.svc.cluster.local,metadata.internal"; got != want {
		t.Errorf("fd.sip.name values = %s, want %s", got, want)
	}
	if got := eng.Values(fields.ProcName); len(got) != 0 {
		t.Errorf("proc.name values = %v, want none", got)
	}
}

func TestEventTypesUnion(t *testing.T) {
	eng, _, err := load(`
- rule: a
  desc: d
  condition: evt.type in (execve, execveat)
  output: o
  priority: INFO
- rule: b
  desc: d
  condition: evt.type = connect
  output: o
  priority: INFO
- rule: c
  desc: d
  condition: evt.type = ptrace
  output: o
  priority: INFO
  enabled: false
`)
	if err != nil {
		t.Fatal(err)
	}
	want := evttype.NewSet(evttype.Execve, evttype.Execveat, evttype.Connect)
	if got := eng.EventTypes(); got != want {
		t.Errorf("event types = %v, want %v", got.Names(), want.Names())
	}
	r := eng.Rule("a")
	if got := strings.Join(r.EventTypes.Names(), ","); got != "execve,execveat" {
		t.Errorf("rule a event types = %s", got)
	}
}

func taggedRules() string {
	tags := []string{"[a]", "[b]", "[c]", "[a, b]", "[a, c]", "[b, c]", "[a, b, c]", "[b, a]", "[c, a]", "[b, c, a]", "[d]", "[]", ""}
	var b strings.Builder
	for i, tg := range tags {
		fmt.Fprintf(&b, "- rule: open_%d\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n", i+1)
		if tg != "" {
			fmt.Fprintf(&b, "  tags: %s\n", tg)
		}
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }

func enabledNames(eng *rules.Engine) string {
	var out []string
	for _, r := range eng.Rules() {
		if r.Enabled {
			out = append(out, strings.TrimPrefix(r.Name, "open_"))
		}
	}
	return strings.Join(out, ",")
}

func TestRuleSelection(t *testing.T) {
	file := rules.File{Name: "tags.yaml", Content: []byte(taggedRules())}
	tests := []struct {
		name string
		opts rules.Options
		want string
	}{
		{"all", rules.Options{}, "1,2,3,4,5,6,7,8,9,10,11,12,13"},
		{"disable tag b", rules.Options{DisabledTags: []string{"b"}}, "1,3,5,9,11,12,13"},
		{"only tag c", rules.Options{EnabledTags: []string{"c"}}, "3,5,6,7,9,10"},
		{"disable by name", rules.Options{DisabledRules: []string{"open_1"}}, "2,3,4,5,6,7,8,9"},
		{"min priority", rules.Options{MinPriority: ptr(alert.PriorityError)}, ""},
		{"min priority informational", rules.Options{MinPriority: ptr(alert.PriorityInformational)}, "1,2,3,4,5,6,7,8,9,10,11,12,13"},
		{"min priority emergency", rules.Options{MinPriority: ptr(alert.PriorityEmergency)}, ""},
		{"disable all, enable one", rules.Options{Selection: []rules.Selection{
			{Rule: "*"}, {Enable: true, Rule: "open_12"},
		}}, "12"},
		{"disable all, enable tag", rules.Options{Selection: []rules.Selection{
			{Rule: "*"}, {Enable: true, Tag: "c"},
		}}, "3,5,6,7,9,10"},
		{"enable tag, then disable names", rules.Options{Selection: []rules.Selection{
			{Rule: "*"}, {Enable: true, Tag: "c"}, {Rule: "open_1*"},
		}}, "3,5,6,7,9"},
		{"wildcard in the middle", rules.Options{Selection: []rules.Selection{{Rule: "op*_1"}}}, "2,3,4,5,6,7,8,9,10,11,12,13"},
		{"exact name only", rules.Options{Selection: []rules.Selection{{Rule: "open_1"}}}, "2,3,4,5,6,7,8,9,10,11,12,13"},
		{"after disabled tags", rules.Options{DisabledTags: []string{"b"}, Selection: []rules.Selection{{Enable: true, Rule: "open_2"}}}, "1,2,3,5,9,11,12,13"},
		{"no rule below the min priority", rules.Options{MinPriority: ptr(alert.PriorityError), Selection: []rules.Selection{{Enable: true, Rule: "*"}}}, ""},
	}
	for _, tt := range tests {
		eng, _, err := rules.Load(tt.opts, file)
		if err != nil {
			t.Fatal(err)
		}
		if got := enabledNames(eng); got != tt.want {
			t.Errorf("%s: enabled = %s, want %s", tt.name, got, tt.want)
		}
	}
	eng, _, err := rules.Load(rules.Options{EnabledTags: []string{"process"}}, rules.File{Name: "x.yaml", Content: []byte(`
- rule: disabled but tagged
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  tags: [process]
  enabled: false
`)})
	if err != nil {
		t.Fatal(err)
	}
	if !eng.Rule("disabled but tagged").Enabled {
		t.Error("selecting a tag does not enable a disabled rule with that tag")
	}
}

func TestAlert(t *testing.T) {
	t.Setenv("FALCO_HOSTNAME", "test-falco-hostname")
	eng, _, err := rules.Load(rules.Options{TimeFormatISO8601: true}, rules.File{Name: "a.yaml", Content: []byte(`
- rule: open_from_cat
  desc: d
  condition: evt.type=open and proc.name=cat
  output: "An open was seen (command=%proc.cmdline)"
  priority: WARNING
  tags: [testing, filesystem, process]
`)})
	if err != nil {
		t.Fatal(err)
	}
	ev := catOpen()
	m := eng.Match(ev, nil)
	if len(m) != 1 {
		t.Fatalf("%d matches, want 1", len(m))
	}
	at := time.Unix(0, 1470327477881781397)
	a := m[0].Alert(ev, at, "")
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"hostname": "test-falco-hostname",
		"output":   "2016-08-04T16:17:57.881781397+0000: Warning An open was seen (command=cat /dev/null)",
		"priority": "Warning",
		"rule":     "open_from_cat",
		"source":   "syscall",
		"time":     "2016-08-04T16:17:57.881781397Z",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if tags := fmt.Sprint(got["tags"]); tags != "[filesystem process testing]" {
		t.Errorf("tags = %s", tags)
	}
	of := got["output_fields"].(map[string]any)
	if of["proc.cmdline"] != "cat /dev/null" {
		t.Errorf("output_fields[proc.cmdline] = %v", of["proc.cmdline"])
	}
	if of["evt.time.iso8601"] == nil {
		t.Error("output_fields lacks evt.time.iso8601")
	}
	if a.OutputFields["evt.time.iso8601"] != int64(1470327477881781397) {
		t.Errorf("typed evt.time.iso8601 = %#v", a.OutputFields["evt.time.iso8601"])
	}
	if a.UUID == "" {
		t.Error("alert has no uuid")
	}
}

func TestAlertEmptyTags(t *testing.T) {
	eng, _, err := load(baseRule)
	if err != nil {
		t.Fatal(err)
	}
	a := eng.Rule("legit rule").Alert(catOpen(), time.Now(), "h")
	data, _ := json.Marshal(a)
	if !strings.Contains(string(data), `"tags":[]`) {
		t.Errorf("alert JSON %s lacks an empty tags array", data)
	}
	if !strings.Contains(string(data), `"user.name":"root"`) {
		t.Errorf("alert JSON %s lacks user.name", data)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	eng, _, err := load(orderRules)
	if err != nil {
		t.Fatal(err)
	}
	ev := catOpen()
	dst := make([]*rules.Rule, 0, 4)
	if n := testing.AllocsPerRun(200, func() { dst = eng.Match(ev, dst[:0]) }); n != 0 && !raceEnabled {
		t.Errorf("Match allocates %v times per event, want 0", n)
	}
	m := eng.NewMatcher()
	if n := testing.AllocsPerRun(200, func() { dst = m.Match(ev, dst[:0]) }); n != 0 {
		t.Errorf("Matcher.Match allocates %v times per event, want 0", n)
	}
	if got := names(m.Match(ev, nil)); got != "open_dev_null" {
		t.Errorf("Matcher.Match = %s, want open_dev_null", got)
	}
}

func TestMatchConcurrent(t *testing.T) {
	eng, _, err := load(orderRules + `
- macro: is_cat
  condition: proc.name = cat and fd.name startswith /dev
- rule: shared one
  desc: d
  condition: is_cat and proc.pname = bash
  output: o
  priority: INFO
- rule: shared two
  desc: d
  condition: is_cat and proc.pname = zsh
  output: o
  priority: INFO
`)
	if err != nil {
		t.Fatal(err)
	}
	evs := []rules.Event{catOpen(), rulestest.New("close", "fd.name", "/dev/null"), rulestest.New("open", "proc.name", "ls")}
	want := make([]string, len(evs))
	for i, ev := range evs {
		want[i] = names(eng.Match(ev, nil))
	}
	done := make(chan string)
	for g := 0; g < 4; g++ {
		go func() {
			m := eng.NewMatcher()
			for i := 0; i < 500; i++ {
				k := i % len(evs)
				var got string
				if i%2 == 0 {
					got = names(m.Match(evs[k], nil))
				} else {
					got = names(eng.Match(evs[k], nil))
				}
				if got != want[k] {
					done <- fmt.Sprintf("event %d matched %s, want %s", k, got, want[k])
					return
				}
			}
			done <- ""
		}()
	}
	for g := 0; g < 4; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

func TestAppendOutputTypedFields(t *testing.T) {
	file := rules.File{Name: "x.yaml", Content: []byte(`
- rule: r
  desc: d
  condition: evt.type = open
  output: file=%fd.name by %proc.name
  priority: INFO
`)}
	eng, _, err := rules.Load(rules.Options{AppendOutput: []rules.AppendOutput{
		{Source: "syscall", FieldNames: []string{"proc.pid", "proc.name", "container.id"}},
	}}, file)
	if err != nil {
		t.Fatal(err)
	}
	ev := rulestest.New("open", "proc.name", "cat", "fd.name", "/dev/null", "proc.pid", int64(4242))
	out := eng.Rule("r").Render(ev)
	if out.Message != "file=/dev/null by cat" {
		t.Errorf("output = %q, want the text unchanged", out.Message)
	}
	if got := out.Fields["proc.pid"]; got != int64(4242) {
		t.Errorf("proc.pid = %#v, want int64 4242", got)
	}
	if got, ok := out.Fields["container.id"]; !ok || got != nil {
		t.Errorf("container.id = %#v (present %v), want a missing value as nil", got, ok)
	}
	if got := out.Fields["proc.name"]; got != "cat" {
		t.Errorf("proc.name = %#v, want cat", got)
	}
	found := false
	for _, ref := range eng.Fields() {
		found = found || ref.Text == "proc.pid"
	}
	if !found {
		t.Error("Engine.Fields does not list proc.pid, which the extra fields read")
	}
}
