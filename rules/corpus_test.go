package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

// corpusDir returns the directory of the upstream Falco rule files, from
// RIPOSTE_TEST_CORPUS. Without it the test skips, except under CI=true,
// where it fails.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; CI must point it at the falco-rules corpus")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	return dir
}

func corpusFiles(t testing.TB, names ...string) []rules.File {
	t.Helper()
	dir := corpusDir(t)
	var files []rules.File
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("read corpus file: %v", err)
		}
		files = append(files, rules.File{Name: n, Content: data})
	}
	return files
}

func TestCorpusLoads(t *testing.T) {
	tests := []struct {
		name                 string
		files                []string
		lists, macros, rules int
	}{
		{"stable", []string{"falco_rules.yaml"}, 49, 87, 25},
		{"stable+incubating", []string{"falco_rules.yaml", "falco-incubating_rules.yaml"}, 83, 157, 56},
		{"stable+incubating+sandbox", []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"}, 118, 315, 93},
		{"deprecated", []string{"falco-deprecated_rules.yaml"}, 9, 6, 4},
		{"k8s audit", []string{"k8s_audit_rules.yaml"}, 18, 45, 48},
		{"application", []string{"application_rules.yaml"}, -1, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, res, err := rules.Load(rules.Options{}, corpusFiles(t, tt.files...)...)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if tt.lists >= 0 && (res.Lists != tt.lists || res.Macros != tt.macros || res.Rules != tt.rules) {
				t.Errorf("counts = %d lists, %d macros, %d rules; want %d, %d, %d", res.Lists, res.Macros, res.Rules, tt.lists, tt.macros, tt.rules)
			}
			if len(eng.Rules()) != res.Rules {
				t.Errorf("engine has %d rules, want %d", len(eng.Rules()), tt.rules)
			}
			for _, w := range res.Warnings {
				t.Logf("warning: %s", w)
			}
		})
	}
}

func matchNames(eng *rules.Engine, ev rules.Event) []string {
	var out []string
	for _, r := range eng.Match(ev, nil) {
		out = append(out, r.Name)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestStableRulesFire(t *testing.T) {
	eng, _, err := rules.Load(rules.Options{Matching: rules.MatchAll}, corpusFiles(t, "falco_rules.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(kv ...any) *rulestest.Event {
		base := []any{
			"proc.name", "bash", "proc.exe", "/bin/bash", "proc.exepath", "/usr/bin/bash", "proc.args", "",
			"proc.cmdline", "bash", "proc.pname", "runc", "proc.tty", 34816, "container.id", "3ad7c5f1e8b2",
			"user.name", "root", "user.uid", 0, "proc.cwd", "/", "evt.res", "SUCCESS", "evt.rawres", 0,
		}
		return rulestest.New("execve", append(base, kv...)...)
	}
	tests := []struct {
		name string
		ev   *rulestest.Event
		want string
		hit  bool
	}{
		{"terminal shell", exec(), "Terminal shell in container", true},
		{"shell without tty", exec("proc.tty", 0), "Terminal shell in container", false},
		{"shell on the host", exec("container.id", "host"), "Terminal shell in container", false},
		{"exec from /dev/shm", exec("proc.name", "x", "proc.exe", "/dev/shm/x", "proc.tty", 0), "Execution from /dev/shm", true},
		{"fileless", exec("proc.name", "x", "proc.pname", "python3", "proc.is_exe_from_memfd", true, "proc.tty", 0), "Fileless execution via memfd_create", true},
		{"fileless by runc", exec("proc.name", "x", "proc.is_exe_from_memfd", true, "proc.tty", 0), "Fileless execution via memfd_create", false},
		{"sensitive read", rulestest.New("openat",
			"evt.is_open_read", true, "fd.typechar", "f", "fd.num", 3, "fd.name", "/etc/shadow", "fd.directory", "/etc",
			"proc.name", "python3", "proc.pname", "bash", "proc.cmdline", "python3 steal.py", "user.name", "root",
			"container.id", "host", "evt.res", "SUCCESS"), "Read sensitive file untrusted", true},
		{"sensitive read by passwd tooling", rulestest.New("openat",
			"evt.is_open_read", true, "fd.typechar", "f", "fd.num", 3, "fd.name", "/etc/shadow", "fd.directory", "/etc",
			"proc.name", "passwd", "proc.pname", "bash", "container.id", "host"), "Read sensitive file untrusted", false},
		{"benign read", rulestest.New("openat",
			"evt.is_open_read", true, "fd.typechar", "f", "fd.num", 3, "fd.name", "/usr/lib/libc.so.6", "fd.directory", "/usr/lib",
			"proc.name", "python3", "container.id", "host"), "Read sensitive file untrusted", false},
	}
	for _, tt := range tests {
		got := matchNames(eng, tt.ev)
		if contains(got, tt.want) != tt.hit {
			t.Errorf("%s: matched %q; want %q matched=%v", tt.name, got, tt.want, tt.hit)
		}
	}

	r := eng.Rule("Terminal shell in container")
	out := r.Render(exec())
	for _, want := range []string{"A shell was spawned in a container with an attached terminal", "terminal=34816", "exe_flags=<NA>"} {
		if !strings.Contains(out.Message, want) {
			t.Errorf("output %q lacks %q", out.Message, want)
		}
	}
	if v, ok := out.Fields["evt.arg.flags"]; !ok || v != nil {
		t.Errorf("output_fields[evt.arg.flags] = %v, %v; want a nil entry", v, ok)
	}
}

func TestSuggestedOutput(t *testing.T) {
	eng, _, err := rules.Load(rules.Options{SuggestedOutput: true}, corpusFiles(t, "falco_rules.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	r := eng.Rule("Terminal shell in container")
	want := " container_id=%container.id container_name=%container.name container_image_repository=%container.image.repository container_image_tag=%container.image.tag k8s_pod_name=%k8s.pod.name k8s_ns_name=%k8s.ns.name"
	out := r.Render(rulestest.New("execve", "container.id", "3ad7c5f1e8b2"))
	if !strings.HasSuffix(out.Message, " container_id=3ad7c5f1e8b2 container_name=<NA> container_image_repository=<NA> container_image_tag=<NA> k8s_pod_name=<NA> k8s_ns_name=<NA>") {
		t.Errorf("output %q lacks the suggested fields %q", out.Message, want)
	}
	if _, ok := out.Fields["k8s.ns.name"]; !ok {
		t.Error("output_fields lacks k8s.ns.name")
	}
}

func TestLaterFilesRedefineLists(t *testing.T) {
	// The incubating file redefines falco_containers with more images, which
	// the stable rules then see too.
	stable, _, err := rules.Load(rules.Options{}, corpusFiles(t, "falco_rules.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	both, _, err := rules.Load(rules.Options{}, corpusFiles(t, "falco_rules.yaml", "falco-incubating_rules.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, r := range stable.Rules() {
		if r2 := both.Rule(r.Name); r2 != nil && r2.Compiled != r.Compiled {
			changed++
		}
	}
	if changed == 0 {
		t.Error("loading the incubating rules changed no stable rule; the redefined lists should apply to them")
	}
}

func TestStableEventTypes(t *testing.T) {
	eng, _, err := rules.Load(rules.Options{}, corpusFiles(t, "falco_rules.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	openFamily, exec := "open,openat,openat2", "execve,execveat"
	want := map[string]string{
		"Directory traversal monitored file read":                  openFamily,
		"Read sensitive file trusted after startup":                openFamily,
		"Read sensitive file untrusted":                            openFamily,
		"Run shell untrusted":                                      exec,
		"System user interactive":                                  exec,
		"Terminal shell in container":                              exec,
		"Contact K8S API Server From Container":                    "connect",
		"Netcat Remote Code Execution in Container":                exec,
		"Search Private Keys or Passwords":                         exec,
		"Clear Log Activities":                                     openFamily,
		"Remove Bulk Data from Disk":                               exec,
		"Create Symlink Over Sensitive Files":                      "symlink,symlinkat",
		"Create Hardlink Over Sensitive Files":                     "link,linkat",
		"Packet socket created in container":                       "socket",
		"Redirect STDOUT/STDIN to Network Connection in Container": "dup,dup2,dup3",
		"Linux Kernel Module Injection Detected":                   "finit_module,init_module",
		"Debugfs Launched in Privileged Container":                 exec,
		"Detect release_agent File Container Escapes":              openFamily,
		"PTRACE attached to process":                               "ptrace",
		"PTRACE anti-debug attempt":                                "ptrace",
		"Find AWS Credentials":                                     exec,
		"Execution from /dev/shm":                                  exec,
		"Drop and execute new binary in container":                 exec,
		"Disallowed SSH Connection Non Standard Port":              "connect,sendmsg,sendto",
		"Fileless execution via memfd_create":                      exec,
	}
	if len(eng.Rules()) != len(want) {
		t.Errorf("%d rules, want %d", len(eng.Rules()), len(want))
	}
	for _, r := range eng.Rules() {
		if got := strings.Join(r.EventTypes.Names(), ","); got != want[r.Name] {
			t.Errorf("%s: event types %s, want %s", r.Name, got, want[r.Name])
		}
	}
}

func TestCorpusRulesCompile(t *testing.T) {
	eng, res, err := rules.Load(rules.Options{}, corpusFiles(t, "falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		t.Errorf("unexpected warning: %s", w)
	}
	enabled := 0
	var used evttype.Set
	for _, r := range eng.Rules() {
		used = used.Union(r.EventTypes)
		if r.Source != "syscall" || r.Compiled == "" {
			t.Errorf("%s: source %q, compiled %q", r.Name, r.Source, r.Compiled)
		}
		if r.EventTypes.IsFull() || r.EventTypes.Empty() {
			t.Errorf("%s: event types %v; every upstream rule has a restricted set", r.Name, r.EventTypes.Names())
		}
		if r.Enabled {
			enabled++
		}
	}
	if enabled != 93-12 {
		t.Errorf("%d enabled rules, want 81 (the sandbox file disables 12)", enabled)
	}
	if got := len(used.Names()); got != 41 {
		t.Errorf("the rules use %d event types, want 41: %v", got, used.Names())
	}
	if eng.EventTypes().Has(evttype.Recvfrom) {
		t.Error("recvfrom is captured, but only disabled sandbox rules use it")
	}
}
