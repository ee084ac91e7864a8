package policies

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/alert"
)

// signalActionner accepts only a "signal" parameter equal to "SIGKILL" or
// "SIGTERM", enough to exercise load-time validation.
type signalActionner struct{}

func (signalActionner) Name() string { return "process:kill" }
func (signalActionner) Validate(params map[string]any) error {
	for k, v := range params {
		if k != "signal" {
			return fmt.Errorf("%w: unknown parameter %q", actionners.ErrInvalidParameters, k)
		}
		if v != "SIGKILL" && v != "SIGTERM" {
			return fmt.Errorf("%w: invalid signal %v", actionners.ErrInvalidParameters, v)
		}
	}
	return nil
}
func (signalActionner) Run(context.Context, actionners.Request) (actionners.Result, error) {
	return actionners.Result{Outcome: actionners.OutcomeSucceeded}, nil
}
func (signalActionner) Permissions() []actionners.Permission { return nil }

func testRegistry(t testing.TB) *actionners.Registry {
	t.Helper()
	r, err := actionners.NewRegistry(signalActionner{})
	if err != nil {
		t.Fatal(err)
	}
	// The default policies name the Kubernetes actionners; without a client
	// they validate parameters but never run.
	if err := kubernetes.Register(r, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

func shellAlert() *alert.Alert {
	return &alert.Alert{
		UUID:     "6f1d2c1e-0000-4000-8000-000000000001",
		Rule:     "Shell spawned in a container",
		Priority: alert.PriorityNotice,
		Time:     time.Date(2024, 5, 1, 12, 0, 0, 1, time.UTC),
		Source:   "syscall",
		Tags:     []string{"container", "shell"},
		OutputFields: map[string]any{
			"container.id": "0123456789ab",
			"proc.pid":     int64(4242),
			"proc.name":    "sh",
			"k8s.ns.name":  nil,
		},
	}
}

func writePolicies(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDefault(t *testing.T) {
	s, err := Load(context.Background(), Options{Registry: testRegistry(t)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !strings.HasPrefix(s.Revision(), "sha256:") || len(s.Revision()) != 7+64 {
		t.Errorf("Revision = %q", s.Revision())
	}
	if got := strings.Join(s.Names(), ","); !strings.Contains(got, "kill_container_shell") {
		t.Errorf("Names = %s", got)
	}
	for _, f := range s.Files() {
		if strings.HasSuffix(f, "_test.rego") {
			t.Errorf("test file %s loaded as a policy", f)
		}
	}
}

func TestEvalContainerShell(t *testing.T) {
	s, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	choices, err := s.Eval(context.Background(), Input{Alert: shellAlert(), Node: Node{Name: "node-1"}})
	if err != nil {
		t.Fatalf("Eval: %v", err)
	}
	if len(choices) != 1 {
		t.Fatalf("got %d choices, want 1: %+v", len(choices), choices)
	}
	c := choices[0]
	if c.Policy != "kill_container_shell" {
		t.Errorf("policy = %q", c.Policy)
	}
	if c.Actionner != "process:kill" {
		t.Errorf("actionner = %q", c.Actionner)
	}
	if c.Target != (actionners.Target{Kind: "process", PID: 4242}) {
		t.Errorf("target = %+v", c.Target)
	}
	if c.Parameters["signal"] != "SIGKILL" {
		t.Errorf("parameters = %v", c.Parameters)
	}
	if !strings.Contains(c.Reason, "Shell spawned in a container") {
		t.Errorf("reason = %q", c.Reason)
	}
}

func TestEvalHostShellNoAction(t *testing.T) {
	s, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := shellAlert()
	a.OutputFields["container.id"] = "host"
	choices, err := s.Eval(context.Background(), Input{Alert: a})
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) != 0 {
		t.Errorf("got %+v, want no action for a shell on the host", choices)
	}
}

func TestCompileErrorNamesLocation(t *testing.T) {
	tests := []struct {
		name, file, text, want string
	}{
		{
			name: "syntax",
			file: "bad.rego",
			text: "package riposte.policies.bad\n\nactions contains x if {\n\tx := [1 2]\n}\n",
			want: "bad.rego:4:",
		},
		{
			name: "unsafe variable",
			file: "unsafe.rego",
			text: "package riposte.policies.unsafe\n\nactions contains x if {\n\ty == 1\n}\n",
			want: "unsafe.rego:3:",
		},
		{
			name: "undefined function",
			file: "sub/fn.rego",
			text: "package riposte.policies.fn\n\nactions contains x if {\n\tx := nope(1)\n}\n",
			want: "sub/fn.rego:4:7: undefined function nope",
		},
		{
			name: "network request",
			file: "net.rego",
			text: "package riposte.policies.net\n\nactions contains x if {\n\tx := http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1:1/\"})\n}\n",
			want: "net.rego:4:7: undefined function http.send: policies may not make network requests",
		},
		{
			name: "runtime environment",
			file: "env.rego",
			text: "package riposte.policies.env\n\nactions contains x if {\n\tx := opa.runtime().env\n}\n",
			want: "env.rego:4:7: undefined function opa.runtime: policies may not read",
		},
		{
			name: "package outside riposte",
			file: "other.rego",
			text: "package other\n\nx := 1\n",
			want: "other.rego:1:1: package other is outside riposte",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writePolicies(t, map[string]string{tt.file: tt.text})
			_, err := Load(context.Background(), Options{Dir: dir})
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, ErrCompile) {
				t.Errorf("error does not wrap ErrCompile: %v", err)
			}
			var ce *CompileError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error is not a CompileError with problems: %v", err)
			}
			if ce.Problems[0].Line == 0 || ce.Problems[0].Column == 0 {
				t.Errorf("problem lacks line or column: %+v", ce.Problems[0])
			}
			want := filepath.Join(dir, tt.want)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}

func TestLiteralActionValidatedAtLoad(t *testing.T) {
	dir := writePolicies(t, map[string]string{"p.rego": `package riposte.policies.p

actions contains {
	"actionner": "process:kill",
	"target": {"kind": "process", "pid": 1},
	"parameters": {"signal": "SIGNOPE"},
} if input.alert.rule == "r"

actions contains {"actionner": "process:explode"} if input.alert.rule == "s"

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": 9}, "signal": "SIGKILL"} if input.alert.rule == "t"

actions contains {"actionner": "process:kill", "target": {"kind": "proc", "pid": 9}} if input.alert.rule == "u"

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": "abc"}} if input.alert.rule == "v"

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": 9}, "dry_run": "yes"} if input.alert.rule == "w"

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]}, "reason": sprintf("%v", [1])} if input.alert.rule == "x"
`})
	_, err := Load(context.Background(), Options{Dir: dir, Registry: testRegistry(t)})
	if err == nil {
		t.Fatal("Load accepted an invalid signal and an unknown actionner")
	}
	msg := err.Error()
	if !strings.Contains(msg, "p.rego:3:") || !strings.Contains(msg, "invalid signal SIGNOPE") {
		t.Errorf("error does not name the invalid signal with its line: %v", err)
	}
	if !strings.Contains(msg, "p.rego:9:") || !strings.Contains(msg, `unknown actionner "process:explode"`) {
		t.Errorf("error does not name the unknown actionner with its line: %v", err)
	}
	if !strings.Contains(msg, "p.rego:11:") || !strings.Contains(msg, `unknown key "signal"`) {
		t.Errorf("error does not name the unknown key with its line: %v", err)
	}
	if !strings.Contains(msg, "p.rego:13:") || !strings.Contains(msg, `target kind "proc" is invalid`) {
		t.Errorf("error does not name the invalid kind with its line: %v", err)
	}
	if !strings.Contains(msg, "p.rego:15:") || !strings.Contains(msg, `target pid "abc" is not a process id`) {
		t.Errorf("error does not name the invalid pid with its line: %v", err)
	}
	if !strings.Contains(msg, "p.rego:17:") || !strings.Contains(msg, `dry_run "yes" is not a boolean`) {
		t.Errorf("error does not name the invalid dry_run with its line: %v", err)
	}
	// Values known only at evaluation are checked then.
	if strings.Contains(msg, "p.rego:19:") {
		t.Errorf("an action built from the input was rejected at load: %v", err)
	}
}

func TestDirReplacesDefaults(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"mine.rego": `package riposte.policies.mine

actions contains {"actionner": "process:kill", "target": {"kind": "process", "pid": 7}, "reason": "mine"} if "custom" in input.alert.tags
`,
		"mine_test.rego": "package riposte.policies.mine_test\n\ntest_x if false\n",
		"README.md":      "not a policy",
	})
	s, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Names(), ","); got != "mine" {
		t.Errorf("Names = %q, want mine alone", got)
	}
	choices, err := s.Eval(context.Background(), Input{Alert: shellAlert()})
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) != 0 {
		t.Errorf("default policy still active: %+v", choices)
	}
	a := shellAlert()
	a.Tags = []string{"custom"}
	choices, err = s.Eval(context.Background(), Input{Alert: a})
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) != 1 || choices[0].Target.PID != 7 {
		t.Errorf("choices = %+v, want one kill of pid 7", choices)
	}
}

func TestRevisionTracksSources(t *testing.T) {
	text := "package riposte.policies.a\n\nactions contains {\"actionner\": \"x\", \"target\": {\"kind\": \"node\"}} if false\n"
	dir1 := writePolicies(t, map[string]string{"a.rego": text})
	dir2 := writePolicies(t, map[string]string{"a.rego": text + "\n"})
	s1, err := Load(context.Background(), Options{FS: os.DirFS(dir1)})
	if err != nil {
		t.Fatal(err)
	}
	s1again, err := Load(context.Background(), Options{FS: os.DirFS(dir1)})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Load(context.Background(), Options{FS: os.DirFS(dir2)})
	if err != nil {
		t.Fatal(err)
	}
	if s1.Revision() != s1again.Revision() {
		t.Errorf("same sources gave revisions %s and %s", s1.Revision(), s1again.Revision())
	}
	if s1.Revision() == s2.Revision() {
		t.Errorf("changed source kept revision %s", s1.Revision())
	}
}

func TestEvalMalformedAction(t *testing.T) {
	tests := []struct{ head, want string }{
		{`{"target": {"kind": "process", "pid": 1}}`, "actionner null"},
		{`{"actionner": "x", "target": {"pid": 1}}`, "target has no kind"},
		{`{"actionner": "x", "target": {"kind": "proc", "pid": 1}}`, `target kind "proc" is invalid`},
		{`{"actionner": "x", "target": {"kind": "process", "pid": -3}}`, "target pid -3 is not a process id"},
		{`{"actionner": "x", "target": {"kind": "process"}, "parameters": [1]}`, "parameters [1], not an object"},
		{`{"actionner": "x", "target": {"kind": "process"}, "dry_run": "yes"}`, `dry_run "yes", not a boolean`},
		{`{"actionner": "x", "target": {"kind": "process"}, "colour": "red"}`, `unknown key "colour"`},
		{`"kill it"`, `action is "kill it", not an object`},
	}
	for _, tt := range tests {
		dir := writePolicies(t, map[string]string{"m.rego": "package riposte.policies.m\n\nactions contains " + tt.head + " if true\n"})
		s, err := Load(context.Background(), Options{Dir: dir})
		if err != nil {
			t.Fatalf("Load %s: %v", tt.head, err)
		}
		_, err = s.Eval(context.Background(), Input{Alert: shellAlert()})
		if err == nil {
			t.Errorf("Eval accepted action %s", tt.head)
			continue
		}
		if !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "policy m") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Eval error for %s = %q, want ErrEval naming policy m and %q", tt.head, err, tt.want)
		}
	}
}

func TestEvalKeepsValidActionsBesideMalformedOne(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"bad.rego":  "package riposte.policies.bad\n\nactions contains {\"actionner\": \"x\", \"target\": {\"kind\": \"process\", \"pid\": -5}} if true\n",
		"good.rego": "package riposte.policies.good\n\nactions contains {\"actionner\": \"y\", \"target\": {\"kind\": \"process\", \"pid\": 7}} if true\n",
		"also.rego": "package riposte.policies.also\n\nactions contains {\"actionner\": \"z\", \"target\": {\"kind\": \"process\", \"pid\": 8}, \"colour\": 1} if true\n",
	})
	s, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	choices, err := s.Eval(context.Background(), Input{Alert: shellAlert()})
	if err == nil || !errors.Is(err, ErrEval) {
		t.Fatalf("Eval error = %v, want ErrEval for the malformed actions", err)
	}
	for _, want := range []string{"policy bad", "pid -5", "policy also", `unknown key "colour"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Eval error %q does not name %q", err, want)
		}
	}
	if len(choices) != 1 || choices[0].Policy != "good" || choices[0].Target.PID != 7 {
		t.Errorf("choices = %+v, want only the well-formed action of policy good", choices)
	}
}

func TestInputDocument(t *testing.T) {
	dir := writePolicies(t, map[string]string{"echo.rego": `package riposte.policies.echo

actions contains {
	"actionner": "echo",
	"target": {"kind": "pod", "namespace": input.kubernetes.namespace, "name": input.kubernetes.pod, "node": input.node.name},
	"parameters": {
		"evt_time": input.alert.output_fields["evt.time"],
		"exact": input.alert.output_fields["evt.time"] == 1700000000123456789,
		"null_field": input.alert.output_fields["k8s.pod.uid"],
		"app": input.kubernetes.labels.app,
		"time": input.alert.time,
		"priority": input.alert.priority,
	},
} if true
`})
	s, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a, err := alert.Decode([]byte(`{"uuid":"u1","rule":"r","priority":"Critical","time":"2024-01-01T00:00:00.000000001Z",
		"output_fields":{"evt.time":1700000000123456789,"k8s.ns.name":"shop","k8s.pod.name":"web-1","k8s.pod.uid":null,"k8s.pod.labels":"[app:web, tier:front]"}}`))
	if err != nil {
		t.Fatal(err)
	}
	choices, err := s.Eval(context.Background(), Input{Alert: a, Node: Node{Name: "node-7"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) != 1 {
		t.Fatalf("choices = %+v", choices)
	}
	c := choices[0]
	if c.Target != (actionners.Target{Kind: "pod", Namespace: "shop", Name: "web-1", Node: "node-7"}) {
		t.Errorf("target = %+v", c.Target)
	}
	p := c.Parameters
	if fmt.Sprint(p["evt_time"]) != "1700000000123456789" {
		t.Errorf("evt_time = %v", p["evt_time"])
	}
	if p["exact"] != true {
		t.Errorf("evt.time compared inexactly in Rego")
	}
	if v, ok := p["null_field"]; !ok || v != nil {
		t.Errorf("null_field = %v, %v; want null", v, ok)
	}
	if p["app"] != "web" {
		t.Errorf("app label = %v", p["app"])
	}
	if p["time"] != "2024-01-01T00:00:00.000000001Z" {
		t.Errorf("time = %v", p["time"])
	}
	if p["priority"] != "Critical" {
		t.Errorf("priority = %v", p["priority"])
	}
}

func TestEvalConcurrent(t *testing.T) {
	s, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				a := shellAlert()
				pid := int64(1000 + g*1000 + i)
				a.OutputFields["proc.pid"] = pid
				choices, err := s.Eval(context.Background(), Input{Alert: a})
				if err != nil {
					errs <- err
					return
				}
				if len(choices) != 1 || int64(choices[0].Target.PID) != pid {
					errs <- fmt.Errorf("pid %d gave %+v", pid, choices)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDefaultRegoTests(t *testing.T) {
	results, err := Test(context.Background(), Options{})
	if err != nil {
		t.Fatalf("Test: %v", err)
	}
	if len(results) < 5 {
		t.Errorf("ran %d Rego tests, want at least 5", len(results))
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("%s", r)
		}
	}
}

func TestRegoTestFailureReported(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"p.rego":      "package riposte.policies.p\n\nanswer := 41\n",
		"p_test.rego": "package riposte.policies.p_test\n\nimport data.riposte.policies.p\n\ntest_ok if p.answer == 41\n\ntest_wrong if p.answer == 42\n",
	})
	results, err := Test(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("results = %v", results)
	}
	if !results[0].Pass || results[0].Name != "test_ok" {
		t.Errorf("first result = %s", results[0])
	}
	if results[1].Pass || results[1].Name != "test_wrong" || results[1].Line != 7 {
		t.Errorf("second result = %s, want a failure at line 7", results[1])
	}
	if !strings.HasPrefix(results[1].String(), "FAIL "+filepath.Join(dir, "p_test.rego")+":7 ") {
		t.Errorf("String = %q", results[1])
	}
}

// BenchmarkEval measures one evaluation of a policy set. Two cases run the
// default policies, on an alert that one of them acts on and on one that
// none acts on. The third runs a one-rule policy that never matches, which
// shows the fixed cost of OPA's evaluator with Riposte's input document.
func BenchmarkEval(b *testing.B) {
	quiet := shellAlert()
	quiet.Rule = "Read sensitive file untrusted"
	quiet.Tags = []string{"filesystem"}
	minimal := writePolicies(b, map[string]string{
		"p.rego": "package riposte.policies.p\n\nactions contains \"never\" if input.alert.rule == \"no such rule\"\n",
	})
	cases := []struct {
		name  string
		opts  Options
		alert *alert.Alert
	}{
		{"default/answered", Options{}, shellAlert()},
		{"default/unanswered", Options{}, quiet},
		{"minimal", Options{Dir: minimal}, shellAlert()},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s, err := Load(context.Background(), c.opts)
			if err != nil {
				b.Fatal(err)
			}
			in := Input{Alert: c.alert}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := s.Eval(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1000, "cpu-µs/op")
		})
	}
}

// cpuTime returns the process's user and system CPU time, which stays
// meaningful on a machine shared with other work, where wall time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestRegoTestsCannotSendRequests(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"p.rego":      "package riposte.policies.p\n\nanswer := 41\n",
		"p_test.rego": "package riposte.policies.p_test\n\ntest_send if http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1:1/\"})\n",
	})
	_, err := Test(context.Background(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "undefined function http.send") {
		t.Fatalf("err = %v, want http.send undefined in tests too", err)
	}
}

func TestCompileErrorKeepsOPADetails(t *testing.T) {
	dir := writePolicies(t, map[string]string{"p.rego": "package riposte.policies.p\n\nx := concat(1, 2)\n"})
	_, err := Load(context.Background(), Options{Dir: dir})
	if err == nil {
		t.Fatal("Load accepted concat(1, 2)")
	}
	for _, want := range []string{"p.rego:3:", "have:", "want:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
