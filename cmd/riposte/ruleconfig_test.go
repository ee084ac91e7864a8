package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
)

// threeRules are rules of three priorities and tags, for the settings that
// choose which rules run.
const threeRules = `
- rule: Shell in container
  desc: a shell ran in a container
  condition: evt.type = execve and proc.name = bash
  output: shell %proc.name
  priority: WARNING
  tags: [container, shell]
- rule: Network tool
  desc: a network tool ran
  condition: evt.type = execve and proc.name = nc
  output: nc %proc.name
  priority: NOTICE
  tags: [network]
- rule: Debug exec
  desc: any program ran
  condition: evt.type = execve
  output: exec %proc.name
  priority: DEBUG
  tags: [debug]
`

// listedRules runs `riposte rules list -o json` with the global flags
// before and the flags of rules list after, and returns whether each rule is
// enabled, by name.
func listedRules(t *testing.T, before []string, after ...string) map[string]bool {
	t.Helper()
	args := append(slices.Clone(before), "rules", "list", "--rules.defaults=false", "-o", "json")
	cmd := newRootCommand()
	cmd.SetArgs(append(args, after...))
	// Warnings, such as one for a RIPOSTE_ variable of the test
	// environment, go to standard error and stay out of the JSON lines.
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("rules list: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	enabled := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r ruleSummary
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("decode %q: %v", line, err)
		}
		enabled[r.Name] = r.Enabled
	}
	return enabled
}

func TestRulesListReadsRulesFilesSetting(t *testing.T) {
	path := writeFile(t, "rules.yaml", threeRules)

	t.Run("environment", func(t *testing.T) {
		t.Setenv("RIPOSTE_RULES_FILES", path)
		if got := listedRules(t, nil); len(got) != 3 {
			t.Errorf("rules = %v, want the three rules of %s", got, path)
		}
	})
	t.Run("configuration file", func(t *testing.T) {
		config := writeFile(t, "riposte.yaml", "rules:\n  files: ["+path+"]\n")
		if got := listedRules(t, []string{"--config", config}); len(got) != 3 {
			t.Errorf("rules = %v, want the three rules of %s", got, path)
		}
	})
}

func TestRulesCheckReadsRulesFilesSetting(t *testing.T) {
	path := writeFile(t, "rules.yaml", threeRules)
	config := writeFile(t, "riposte.yaml", "rules:\n  files: ["+path+"]\n  defaults: false\n")
	out, err := runCommand(t, "--config", config, "rules", "check")
	if err != nil {
		t.Fatalf("rules check: %v\n%s", err, out)
	}
	if !strings.Contains(out, path+": ok (0 lists, 0 macros, 3 rules in total)") {
		t.Errorf("the file of rules.files was not checked:\n%s", out)
	}

	_, err = runCommand(t, "rules", "check")
	if err == nil || !strings.Contains(err.Error(), "set rules.files") {
		t.Errorf("err = %v, want an error naming rules.files", err)
	}
}

func TestRulesListShowsSelection(t *testing.T) {
	path := writeFile(t, "rules.yaml", threeRules)
	tests := []struct {
		name   string
		env    map[string]string
		config string
		args   []string
		want   []string
	}{
		{"every rule", nil, "", nil, []string{"Debug exec", "Network tool", "Shell in container"}},
		{"min priority flag", nil, "", []string{"--rules.min-priority", "notice"}, []string{"Network tool", "Shell in container"}},
		{"min priority emergency", map[string]string{"RIPOSTE_RULES_MIN_PRIORITY": "emergency"}, "", nil, nil},
		{"disabled tags", map[string]string{"RIPOSTE_RULES_DISABLED_TAGS": "shell, debug"}, "", nil, []string{"Network tool"}},
		{"enabled tags", nil, "rules:\n  enabled-tags: [network]\n", nil, []string{"Network tool"}},
		{"disabled rule name with a space", map[string]string{"RIPOSTE_RULES_DISABLED_RULES": "in container,Debug"}, "", nil, []string{"Network tool"}},
		{"selection", nil, "rules:\n  selection:\n    - disable: {rule: \"*\"}\n    - enable: {tag: shell}\n    - enable: {rule: \"Net*\"}\n", nil, []string{"Network tool", "Shell in container"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := []string{"--config", writeFile(t, "riposte.yaml", "rules:\n  files: ["+path+"]\n")}
			if tt.config != "" {
				args[1] = writeFile(t, "riposte.yaml", strings.Replace(tt.config, "rules:\n", "rules:\n  files: ["+path+"]\n", 1))
			}
			listed := listedRules(t, args, tt.args...)
			if len(listed) != 3 {
				t.Fatalf("rules = %v, want all three listed, enabled or not", listed)
			}
			var enabled []string
			for name, on := range listed {
				if on {
					enabled = append(enabled, name)
				}
			}
			slices.Sort(enabled)
			if !slices.Equal(enabled, tt.want) {
				t.Errorf("enabled = %q, want %q", enabled, tt.want)
			}
		})
	}
}

func TestInvalidRuleOptionsRejected(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		config string
		want   string
	}{
		{"min priority", map[string]string{"RIPOSTE_RULES_MIN_PRIORITY": "loud"}, "", `invalid rules.min-priority "loud": use emergency, alert`},
		{"matching", map[string]string{"RIPOSTE_RULES_MATCHING": "some"}, "", `invalid rules.matching "some": use first or all`},
		{"selection not a list", nil, "rules:\n  selection: all\n", "invalid rules.selection all: expected a list"},
		{"selection operation", nil, "rules:\n  selection:\n    - drop: {rule: x}\n", `unknown key "drop", expected enable or disable`},
		{"selection target", nil, "rules:\n  selection:\n    - enable: {name: x}\n", "unknown key enable.name, expected rule or tag"},
		{"selection empty rule", nil, "rules:\n  selection:\n    - enable: {rule: \"\"}\n", "enable.rule is , expected a non-empty string"},
	}
	for _, tt := range tests {
		for _, command := range [][]string{{"sensor"}, {"run"}, {"rules", "list"}, {"rules", "check", "x.yaml"}} {
			t.Run(tt.name+" "+strings.Join(command, " "), func(t *testing.T) {
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				args := command
				if tt.config != "" {
					args = append([]string{"--config", writeFile(t, "riposte.yaml", tt.config)}, command...)
				}
				_, err := runCommand(t, args...)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want it to contain %q", err, tt.want)
				}
			})
		}
	}
}

func TestHostConfigReadsRuleOptions(t *testing.T) {
	v := viper.New()
	v.Set("output", "text")
	v.Set("rules.min-priority", "warning")
	v.Set("rules.matching", "all")
	v.Set("rules.disabled-tags", "a,b")
	v.Set("rules.enabled-tags", []string{"c"})
	v.Set("rules.disabled-rules", "Terminal shell")
	v.Set("time-format-iso-8601", true)
	v.Set("rules.selection", []any{map[string]any{"enable": map[string]any{"tag": "network"}}})

	cfg, err := hostConfigFrom(v)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.RuleOptions
	if got.MinPriority == nil || *got.MinPriority != alert.PriorityWarning {
		t.Errorf("min priority = %v, want Warning", got.MinPriority)
	}
	if got.Matching != rules.MatchAll {
		t.Errorf("matching = %v, want all", got.Matching)
	}
	if !slices.Equal(got.DisabledTags, []string{"a", "b"}) {
		t.Errorf("disabled tags = %q", got.DisabledTags)
	}
	if !slices.Equal(got.EnabledTags, []string{"c"}) {
		t.Errorf("enabled tags = %q", got.EnabledTags)
	}
	if !slices.Equal(got.DisabledRules, []string{"Terminal shell"}) {
		t.Errorf("disabled rules = %q, want the name kept whole", got.DisabledRules)
	}
	if !got.TimeFormatISO8601 {
		t.Error("time format ISO 8601 not set")
	}
	if !slices.Equal(got.Selection, []rules.Selection{{Enable: true, Tag: "network"}}) {
		t.Errorf("selection = %+v", got.Selection)
	}
}

func TestPluginRequirementInRulesCheck(t *testing.T) {
	path := writeFile(t, "anomaly.yaml", `
- required_plugin_versions:
  - name: container
    version: 0.4.0
  - name: anomalydetection
    version: 0.2.0
`)
	out, err := runCommand(t, "rules", "check", path)
	if err != nil {
		t.Fatalf("rules check: %v\n%s", err, out)
	}
	want := "warning: " + path + ":5:5: required_plugin_versions: Plugin requirement not satisfied"
	if !strings.Contains(out, want) {
		t.Errorf("report lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "anomalydetection (>= 0.2.0)") {
		t.Errorf("report does not name the plugin and version:\n%s", out)
	}
}

// TestRunAppliesRuleOptions runs the pipeline with Falco's stable rules,
// every matching rule reported and ISO 8601 times, then runs a program from
// /dev/shm. Falco's "Execution from /dev/shm" and Riposte's default rule on
// world-writable directories must both fire for the one exec, where
// first-match reporting gives only Falco's, and the output line must start
// with a UTC ISO 8601 time.
func TestRunAppliesRuleOptions(t *testing.T) {
	requireRoot(t)
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	out, lines := newLineWriter(t)
	cfg := hostConfig{
		DryRun: true, DefaultRules: true, Output: "json",
		RuleFiles:   []string{filepath.Join(dir, "falco_rules.yaml")},
		RuleOptions: ruleOptions{Matching: rules.MatchAll, TimeFormatISO8601: true},
	}
	p, err := startHost(ctx, cfg, out, testLogger())
	if err != nil {
		t.Fatalf("start pipeline: %v", err)
	}
	defer p.Close()

	program := "/dev/shm/riposte-test-" + randomHex(t, 4)
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(program, data, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(program)

	isoTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+0000: `)
	// Alerts of each rule by the pid of the exec, so that both alerts
	// counted come from the same exec.
	fired := map[float64]map[string]bool{}
	want := []string{"Execution from /dev/shm", "Program executed from a world-writable directory"}
	deadline := time.After(e2eTimeout)
	for {
		if err := exec.Command(program).Run(); err != nil {
			t.Fatalf("run %s: %v", program, err)
		}
		timeout := time.After(500 * time.Millisecond)
	read:
		for {
			select {
			case line := <-lines:
				var a alert.Alert
				if json.Unmarshal([]byte(line), &a) != nil || a.OutputFields["proc.exepath"] != program {
					continue
				}
				if !isoTime.MatchString(a.Output) {
					t.Fatalf("output %q does not start with a UTC ISO 8601 time", a.Output)
				}
				pid, _ := a.OutputFields["proc.pid"].(float64)
				if fired[pid] == nil {
					fired[pid] = map[string]bool{}
				}
				fired[pid][a.Rule] = true
				if fired[pid][want[0]] && fired[pid][want[1]] {
					return
				}
			case <-timeout:
				break read
			case <-deadline:
				t.Fatalf("no exec of %s fired both %q within %v; fired by pid: %v", program, want, e2eTimeout, fired)
			}
		}
	}
}
