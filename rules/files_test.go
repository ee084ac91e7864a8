package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules"
)

func TestFileStructure(t *testing.T) {
	runLoadCases(t, []loadCase{
		{name: "engine version semver", files: []string{"- required_engine_version: 0.26.0\n"}, noWarns: true},
		{name: "engine version number", files: []string{"- required_engine_version: 26\n"}, noWarns: true},
		{name: "engine version word", files: []string{"- required_engine_version: seven\n"},
			err: `Unable to parse engine version 'seven' as a semver string. Expected "x.y.z" semver format.`, code: "LOAD_ERR_YAML_VALIDATE"},
		{name: "engine version dashed", files: []string{"- required_engine_version: not-a-number\n"}, err: "Unable to parse engine version 'not-a-number'"},
		{name: "engine version too new", files: []string{"- required_engine_version: 0.99.0\n"},
			err: "Rules require engine version 0.99.0, but engine version is " + rules.EngineVersion, code: "LOAD_ERR_VALIDATE", errItem: "required_engine_version "},
		{name: "engine version other major", files: []string{"- required_engine_version: 1.0.0\n"}, err: "Rules require engine version 1.0.0"},
		{name: "top-level mapping", files: []string{"rule: x\n"}, err: "Rules content is not yaml array of objects", code: "LOAD_ERR_YAML_VALIDATE"},
		{name: "top-level scalar", files: []string{"just a string\n"}, err: "Rules content is not yaml", code: "LOAD_ERR_YAML_VALIDATE"},
		{name: "scalar element", files: []string{"- just a string\n"},
			err: "Unexpected element type. Each element should be a yaml associative array.", errItem: "rules content item "},
		{name: "malformed yaml", files: []string{"- rule: x\n  desc: [unclosed\n"}, err: "yaml", code: "LOAD_ERR_YAML_PARSE"},
		{name: "illegal map value", files: []string{"- list: a\n  items: [a]: b\n"}, code: "LOAD_ERR_YAML_PARSE", err: "yaml"},
		{name: "empty file then rules", files: []string{"", baseRule}, check: enabledCount(1)},
		{name: "rules then empty file", files: []string{baseRule, ""}, check: enabledCount(1)},
		{name: "comment-only file", files: []string{"# nothing\n", baseRule}, check: enabledCount(1)},
		{name: "null elements skipped", files: []string{"-\n" + baseRule}, check: enabledCount(1)},
		{name: "unknown item", files: []string{"- something: else\n"}, warns: []string{"Unknown top level item"}},
		{name: "plugin versions", files: []string{`
- required_plugin_versions:
  - name: container
    version: 0.4.0
  - name: k8saudit
    version: 0.1.0
    alternatives:
      - name: k8saudit-eks
        version: 0.2.0
`}, warns: []string{"LOAD_PLUGIN_MISSING"}},
		{name: "built-in plugin at any version", files: []string{`
- required_plugin_versions:
  - name: container
    version: 0.99.0
`}, noWarns: true},
		{name: "plugin version not semver", files: []string{`
- required_plugin_versions:
  - name: container
    version: latest
`}, err: "Invalid required version 'latest' for plugin 'container'"},
		{name: "plugin listed twice", files: []string{`
- required_plugin_versions:
  - name: k8saudit
    version: 0.1.0
    alternatives:
      - name: k8saudit
        version: 0.2.0
`}, err: "Defined multiple alternative version requirements for plugin 'k8saudit'"},
		{name: "later document appends", files: []string{baseRule + "---\n" + `
- rule: legit rule
  condition: and proc.name = cat
  append: true
`}, check: compiled("legit rule", "(evt.type = open and proc.name = cat)")},
	})
}

func TestLoadErrorPosition(t *testing.T) {
	_, _, err := load(`
- rule: shell in container
  desc: d
  condition: >
    evt.type in (execve, execveat)
    and proc.name = bash bash
  output: o
  priority: INFO
`)
	if err == nil {
		t.Fatal("load succeeded, want a syntax error")
	}
	le := err.(*rules.LoadError)
	if le.File != "rules1.yaml" || le.Line != 6 || le.Column != 26 {
		t.Errorf("error at %s:%d:%d, want rules1.yaml:6:26", le.File, le.Line, le.Column)
	}
	if le.ItemType != "rule" || le.ItemName != "shell in container" {
		t.Errorf("error item = %s %q", le.ItemType, le.ItemName)
	}
	if !strings.Contains(err.Error(), "rules1.yaml:6:26: rule 'shell in container': unexpected token after 'bash', expecting 'or', 'and' (LOAD_ERR_COMPILE_CONDITION)") {
		t.Errorf("error text = %q", err)
	}

	_, _, err = load("- rule: r\n  desc: d\n  condition: evt.type = open and proc.nobody = 1\n  output: o\n  priority: INFO\n")
	le = err.(*rules.LoadError)
	if le.Line != 3 || le.Column != 34 {
		t.Errorf("unknown field error at %d:%d, want 3:34", le.Line, le.Column)
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(path, []byte(baseRule), 0o600); err != nil {
		t.Fatal(err)
	}
	eng, _, err := rules.LoadFiles(rules.Options{}, path)
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	if eng.Rule("legit rule") == nil {
		t.Error("rule not loaded")
	}
	sub := filepath.Join(dir, "rules.d")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	second := "- rule: legit rule\n  condition: and proc.name = cat\n  override:\n    condition: append\n"
	for name, content := range map[string]string{"10-base.yaml": baseRule, "20-more.yml": second, "notes.txt": "not yaml: ["} {
		if err := os.WriteFile(filepath.Join(sub, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	eng, _, err = rules.LoadFiles(rules.Options{}, sub)
	if err != nil {
		t.Fatalf("LoadFiles of a directory: %v", err)
	}
	if got := eng.Rule("legit rule").Compiled; got != "(evt.type = open and proc.name = cat)" {
		t.Errorf("directory files loaded out of order: compiled %s", got)
	}

	_, res, err := rules.LoadFiles(rules.Options{}, filepath.Join(dir, "missing.yaml"))
	if err == nil {
		t.Fatal("LoadFiles of a missing file succeeded")
	}
	if res.Errors[0].Code != "LOAD_ERR_FILE_READ" {
		t.Errorf("code = %s, want LOAD_ERR_FILE_READ", res.Errors[0].Code)
	}
}

func TestLoadStopsAtFirstError(t *testing.T) {
	_, res, err := load(`
- rule: r
  desc: d
  condition: evt.type = open and proc.nobody = x
  output: o
  priority: INFO
- rule: r2
  desc: d
  condition: evt.type = open and proc.nobody2 = x
  output: o
  priority: INFO
`)
	if err == nil {
		t.Fatal("load succeeded")
	}
	if len(res.Errors) != 1 {
		t.Errorf("%d errors, want exactly 1: %v", len(res.Errors), res.Errors)
	}
}
