package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules/rulestest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRulesCheckReportsEveryFile(t *testing.T) {
	good := writeFile(t, "good.yaml", `
- list: shells
  items: [sh, bash]
- rule: Shell
  desc: a shell ran
  condition: evt.type = execve and proc.name in (shells)
  output: shell %proc.name
  priority: NOTICE
`)
	bad := writeFile(t, "bad.yaml", `
- rule: Broken
  desc: unbalanced parenthesis
  condition: evt.type = execve and (proc.name = sh
  output: broken
  priority: NOTICE
`)
	alsoBad := writeFile(t, "unknown.yaml", `
- rule: Unknown field
  desc: a field that does not exist
  condition: evt.type = execve and proc.nme = sh
  output: x
  priority: NOTICE
`)

	var out bytes.Buffer
	failed, err := checkRules(&out, nil, []string{good, bad, alsoBad}, ruleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("checkRules reported success for files with errors")
	}
	text := out.String()
	for _, want := range []string{
		good + ": ok (1 lists, 0 macros, 1 rules in total)",
		"error: " + bad + ":4:",
		"expected a ')' token",
		"error: " + alsoBad + ":4:",
		"proc.nme",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

func TestRulesCheckCommandExitStatus(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "- rule: [unterminated\n")
	cmd := newRootCommand()
	cmd.SetArgs([]string{"rules", "check", bad})
	var out bytes.Buffer
	cmd.SetOut(&out)
	err := cmd.Execute()
	exit, ok := err.(*exitError)
	if !ok || exit.code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	if !strings.Contains(out.String(), "LOAD_ERR_YAML_PARSE") {
		t.Errorf("output lacks the YAML error code:\n%s", out.String())
	}
}

func TestRulesListJSON(t *testing.T) {
	path := writeFile(t, "rules.yaml", `
- rule: Exec from tmp
  desc: exec from /tmp
  condition: evt.type in (execve, execveat) and proc.exepath startswith /tmp/
  output: exec %proc.exepath
  priority: WARNING
  tags: [process]
`)
	cmd := newRootCommand()
	cmd.SetArgs([]string{"rules", "list", "--rules.defaults=false", "-o", "json", path})
	var out bytes.Buffer
	cmd.SetOut(&out)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := `{"name":"Exec from tmp","priority":"Warning","source":"syscall","enabled":true,"supported":true,"tags":["process"],"event_types":["execve","execveat"]}`
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRulesCheckReadsDirectory(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"10-lists.yaml": "- list: editors\n  items: [vi, nano]\n",
		"20-rules.yml":  "- rule: Editor\n  desc: an editor ran\n  condition: evt.type = execve and proc.name in (editors)\n  output: editor %proc.name\n  priority: INFO\n",
		"notes.txt":     "not rules",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runCommand(t, "rules", "check", "--rules.defaults=false", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "20-rules.yml: ok (1 lists, 0 macros, 1 rules in total)") {
		t.Errorf("the directory's files were not loaded in name order:\n%s", out)
	}
	if strings.Contains(out, "notes.txt") {
		t.Errorf("a file that is not YAML was loaded:\n%s", out)
	}
}

func TestReleaseWithoutClusterNamesTheFix(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	_, err := runCommand(t, "release", "web-1", "-n", "shop")
	if err == nil || !strings.Contains(err.Error(), "--kubeconfig") {
		t.Fatalf("err = %v, want an error naming --kubeconfig", err)
	}
}

// TestDefaultRulesMatchAfterFalcoRules loads Falco's stable rules after the
// default rules, as `riposte run --rules.files falco_rules.yaml` does, and
// expects a program run from /dev/shm to fire Falco's rule, which a default
// rule on the same exec would otherwise take.
func TestDefaultRulesMatchAfterFalcoRules(t *testing.T) {
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	eng, err := loadRuleFiles(true, []string{filepath.Join(dir, "falco_rules.yaml")}, ruleOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := rulestest.New("execve",
		"proc.name", "x", "proc.exe", "/dev/shm/x", "proc.exepath", "/dev/shm/x", "proc.args", "",
		"proc.cmdline", "x", "proc.pname", "bash", "proc.tty", 0, "container.id", "host",
		"user.name", "root", "user.uid", 0, "proc.cwd", "/root/", "evt.res", "SUCCESS", "evt.rawres", 0,
		"proc.is_exe_from_memfd", false, "evt.dir", "<")
	matched := eng.Match(ev, nil)
	if len(matched) != 1 || matched[0].Name != "Execution from /dev/shm" {
		var names []string
		for _, r := range matched {
			names = append(names, r.Name)
		}
		t.Errorf("first match = %v, want Execution from /dev/shm", names)
	}
}

func TestRulesListMarksUnsupportedSource(t *testing.T) {
	path := writeFile(t, "audit.yaml", `
- rule: Audit rule
  desc: a rule of another source
  condition: ka.verb = create
  output: created
  priority: WARNING
  source: k8s_audit
`)
	out, err := runCommand(t, "rules", "list", "--rules.defaults=false", path)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "k8s_audit (unsupported)") {
		t.Errorf("the rule's source is not marked unsupported:\n%s", out)
	}
}

func TestRulesCheckPrintsEnabledCount(t *testing.T) {
	file := writeFile(t, "shell.yaml", `
- rule: Shell
  desc: a shell
  condition: evt.type = execve and proc.name = sh
  output: shell %proc.name
  priority: NOTICE
  tags: [shell]
`)
	tests := []struct {
		name    string
		args    []string
		want    string
		warning string
	}{
		{"every rule enabled", nil, "enabled rules: 1 of 1\n", ""},
		{"unknown enabled tag", []string{"--rules.enabled-tags", "nosuchtag"}, "enabled rules: 0 of 1\n",
			"Likely cause: rules.enabled-tags nosuchtag: no loaded rule has any of these tags"},
		{"min priority above every rule", []string{"--rules.min-priority", "error"}, "enabled rules: 0 of 1\n",
			"Likely cause: rules.min-priority error: every loaded rule is less severe"},
		{"rule disabled by name", []string{"--rules.disabled-rules", "Shell"}, "enabled rules: 0 of 1\n",
			"Likely cause: the rule settings rules.disabled-rules Shell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newRootCommand()
			cmd.SetArgs(append([]string{"rules", "check", "--rules.defaults=false", file}, tt.args...))
			var out bytes.Buffer
			cmd.SetOut(&out)
			if err := cmd.Execute(); err != nil {
				t.Fatalf("rules check: %v\n%s", err, out.String())
			}
			text := out.String()
			if !strings.Contains(text, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, text)
			}
			hasWarning := strings.Contains(text, "warning: no rule is enabled")
			if hasWarning != (tt.warning != "") {
				t.Errorf("no-rule warning printed = %v, want %v:\n%s", hasWarning, tt.warning != "", text)
			}
			if tt.warning != "" && !strings.Contains(text, tt.warning) {
				t.Errorf("output lacks %q:\n%s", tt.warning, text)
			}
		})
	}
}

func TestLoadRuleFilesWarnsNoEnabledRule(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := loadRuleFiles(true, nil, ruleOptions{EnabledTags: []string{"nosuchtag"}}, logger); err != nil {
		t.Fatal(err)
	}
	text := logs.String()
	if !strings.Contains(text, "level=WARN msg=\"no rule is enabled") {
		t.Errorf("logs lack the no-rule warning:\n%s", text)
	}
	if !strings.Contains(text, "rules.enabled-tags nosuchtag") {
		t.Errorf("logs lack the likely cause rules.enabled-tags nosuchtag:\n%s", text)
	}

	logs.Reset()
	if _, err := loadRuleFiles(true, nil, ruleOptions{}, logger); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "no rule is enabled") {
		t.Errorf("default rules logged the no-rule warning:\n%s", logs.String())
	}
}
