package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/viper"
)

func TestInvalidBoolFromEnvironmentRejected(t *testing.T) {
	t.Setenv("RIPOSTE_DRY_RUN", "maybe")
	_, err := runCommand(t, "policy", "eval", "--alert", writeFile(t, "alert.json", kubeSystemShell))
	if err == nil || !strings.Contains(err.Error(), `"maybe" for dry-run`) {
		t.Fatalf("err = %v, want an error naming dry-run and the value", err)
	}
}

func TestInvalidIntFromConfigFileRejected(t *testing.T) {
	config := writeFile(t, "riposte.yaml", "nats:\n  port: abc\n")
	_, err := runCommand(t, "--config", config, "run")
	if err == nil || !strings.Contains(err.Error(), `"abc" for nats.port`) {
		t.Fatalf("err = %v, want an error naming nats.port and the value", err)
	}
}

func TestInvalidLogLevelRejectedEverywhere(t *testing.T) {
	_, err := runCommand(t, "--log-level", "verbose", "rules", "list")
	if err == nil || !strings.Contains(err.Error(), `"verbose"`) {
		t.Fatalf("err = %v, want an error naming the level", err)
	}
}

func TestInvalidReplicasRejected(t *testing.T) {
	_, err := runCommand(t, "sensor", "--nats.replicas", "2")
	if err == nil || !strings.Contains(err.Error(), "use 1, 3 or 5") {
		t.Fatalf("err = %v, want an error listing the valid replica counts", err)
	}
}

func TestResponderRequiresWebhookAuthentication(t *testing.T) {
	_, err := runCommand(t, "responder", "--nats.url", "nats://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "--webhook.token-file") {
		t.Fatalf("err = %v, want an error naming --webhook.token-file", err)
	}
}

func TestWebhookAuthFlagConflicts(t *testing.T) {
	token := writeFile(t, "token", "secret\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no-auth with a token", []string{"--webhook.no-auth", "--webhook.token-file", token}, "--webhook.no-auth contradicts"},
		{"certificate without key", []string{"--webhook.token-file", token, "--webhook.tls.cert", "server.crt"}, "missing --webhook.tls.key"},
		{"key without certificate", []string{"--webhook.token-file", token, "--webhook.tls.key", "server.key"}, "missing --webhook.tls.cert"},
		{"client CA without certificate", []string{"--webhook.tls.client-ca", "ca.crt"}, "missing --webhook.tls.cert and --webhook.tls.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"responder", "--nats.url", "nats://127.0.0.1:1", "--metrics.addr", ""}, tt.args...)
			_, err := runCommand(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWebhookRateFlagsRejected(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--webhook.rate-limit", "0"}, "invalid webhook.rate-limit 0: use a positive number of requests per second such as 2000, or -1"},
		{[]string{"--webhook.rate-limit", "NaN"}, "invalid webhook.rate-limit NaN"},
		{[]string{"--webhook.rate-burst", "0"}, "invalid webhook.rate-burst 0: use 1 or more requests"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"responder", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--metrics.addr", "", "--webhook.no-auth"}, tt.args...)
			_, err := runCommand(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWebhookTokenFileRejected(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"empty", " \n", "is empty"},
		{"two lines", "first-token\nsecond-token\n", "has 2 lines: a bearer token is one line"},
		{"two lines with CRLF", "first-token\r\nsecond-token\r\n", "has 2 lines: a bearer token is one line"},
		{"tab", "first\tsecond\n", "contains a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := writeFile(t, "token", tt.content)
			out, err := runCommand(t, "responder", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--metrics.addr", "", "--webhook.token-file", token)
			if err == nil {
				t.Fatalf("no error for a token file of %q\n%s", tt.content, out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), token) {
				t.Errorf("err = %v, want it to name the file", err)
			}
			if strings.Contains(err.Error(), "second") {
				t.Errorf("err = %v, shows the token", err)
			}
		})
	}
}

func TestReplaySinceNeedsTheStream(t *testing.T) {
	_, err := runCommand(t, "replay", "--file", writeFile(t, "a.jsonl", kubeSystemShell), "--since", "1h")
	if err == nil || !strings.Contains(err.Error(), "--since") {
		t.Fatalf("err = %v, want an error about --since with --file", err)
	}
}

func TestRulesCheckAppendsToDefaults(t *testing.T) {
	file := writeFile(t, "local.yaml", `
- rule: Shell spawned in a container
  condition: and not proc.pname = kubelet
  override:
    condition: append
`)
	out, err := runCommand(t, "rules", "check", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := runCommand(t, "rules", "check", "--rules.defaults=false", file); err == nil {
		t.Error("an override of a rule that is not loaded passed the check")
	}
}

func TestUnknownConfigKeyRejected(t *testing.T) {
	config := writeFile(t, "riposte.yaml", "dry-run: false\nnats:\n  prot: 4222\nwebhok:\n  addr: \":2803\"\n")
	_, err := runCommand(t, "--config", config, "rules", "list")
	if err == nil {
		t.Fatal("a misspelt key was accepted")
	}
	for _, want := range []string{`unknown key "nats.prot" (did you mean "nats.port"?)`, `unknown key "webhok.addr" (did you mean "webhook.addr"?)`, config} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %s", err, want)
		}
	}
}

func TestConfigKeyOfAnotherCommandAccepted(t *testing.T) {
	// One file serves the sensor and the responder; rules list has neither
	// dry-run nor notifications.
	config := writeFile(t, "riposte.yaml", "dry-run: true\nnotifications:\n  - type: webhook\n    url: http://127.0.0.1:1/hook\nlog-level: info\n")
	if _, err := runCommand(t, "--config", config, "rules", "list"); err != nil {
		t.Fatalf("rules list with a shared configuration file: %v", err)
	}
}

func TestTypedConfigValuesRejected(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"duration without unit", "guards:\n  cooldown: 300\n", "invalid duration value 300 for guards.cooldown: write a duration with a unit, such as 300s"},
		{"fractional int", "guards:\n  burst: 2.5\n", "invalid int value 2.5 for guards.burst: use a whole number"},
		{"list item not a string", "protected-namespaces: [shop, {b: c}]\n", "invalid protected-namespaces: item 2"},
		{"number not a number", "guards:\n  rate-limit: fast\n", `invalid number "fast" for guards.rate-limit: use a number such as 2.5`},
		{"whole number not a number", "guards:\n  burst: many\n", `invalid whole number "many" for guards.burst: use a whole number such as 10`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := writeFile(t, "riposte.yaml", tt.config)
			_, err := runCommand(t, "--config", config, "policy", "eval", "--alert", writeFile(t, "alert.json", kubeSystemShell))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestProtectedNamespaceListForms protects the alert's namespace, shop,
// with each way of writing a list outside the flag. The guard must block the
// actions in each case instead of reading one namespace named "a,shop".
func TestProtectedNamespaceListForms(t *testing.T) {
	shop := strings.Replace(kubeSystemShell, "kube-system", "shop", 1)
	tests := []struct {
		name   string
		env    string
		config string
	}{
		{"environment with commas", "a,shop", ""},
		{"environment with spaces", "a shop", ""},
		{"config string with commas", "", "protected-namespaces: \"a, shop\"\n"},
		{"config list", "", "protected-namespaces: [a, shop]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"policy", "eval", "--alert", writeFile(t, "alert.json", shop)}
			if tt.env != "" {
				t.Setenv("RIPOSTE_PROTECTED_NAMESPACES", tt.env)
			}
			if tt.config != "" {
				args = append([]string{"--config", writeFile(t, "riposte.yaml", tt.config)}, args...)
			}
			out, err := runCommand(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "blocked by guard protected-namespace") {
				t.Errorf("namespace shop not protected:\n%s", out)
			}
		})
	}
}

func TestUnknownEnvironmentVariableWarned(t *testing.T) {
	t.Setenv("RIPOSTE_GUARDS_COOLDWN", "5m")
	out, _ := runCommand(t, "responder", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--webhook.no-auth", "--metrics.addr", "")
	if !strings.Contains(out, "name=RIPOSTE_GUARDS_COOLDWN did_you_mean=RIPOSTE_GUARDS_COOLDOWN") {
		t.Errorf("no warning naming the variable and its fix:\n%s", out)
	}
}

func TestTestVariablesNotWarned(t *testing.T) {
	t.Setenv("RIPOSTE_TEST_CORPUS", t.TempDir())
	out, _ := runCommand(t, "responder", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--webhook.no-auth", "--metrics.addr", "")
	if strings.Contains(out, "RIPOSTE_TEST_CORPUS") {
		t.Errorf("the test suite's variable was warned about:\n%s", out)
	}
}

func TestStringListKeepsListItemsWhole(t *testing.T) {
	v := viper.New()
	v.Set("rules.files", []string{"/etc/my rules/a.yaml", " b.yaml "})
	if got := stringList(v, "rules.files"); !slices.Equal(got, []string{"/etc/my rules/a.yaml", "b.yaml"}) {
		t.Errorf("list from the flag = %q, want the path with a space kept whole", got)
	}
	v.Set("rules.files", []any{"/etc/my rules/a.yaml"})
	if got := stringList(v, "rules.files"); !slices.Equal(got, []string{"/etc/my rules/a.yaml"}) {
		t.Errorf("YAML list = %q, want the path with a space kept whole", got)
	}
	v.Set("protected-namespaces", "a, shop b")
	if got := stringList(v, "protected-namespaces"); !slices.Equal(got, []string{"a", "shop", "b"}) {
		t.Errorf("single string = %q, want it split at commas and spaces", got)
	}
}

func TestFalcoConfigKeysHinted(t *testing.T) {
	config := writeFile(t, "riposte.yaml", "priority: warning\nrules:\n  - disable: {rule: \"*\"}\n")
	_, err := runCommand(t, "--config", config, "rules", "list")
	if err == nil {
		t.Fatal("Falco's priority and rules keys were accepted")
	}
	for _, want := range []string{
		`unknown key "priority" (did you mean "rules.min-priority"? It is Falco's priority)`,
		`unknown key "rules" (did you mean "rules.selection"? It is Falco's rules)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %s", err, want)
		}
	}
}

func TestRulesCommandsWarnUnknownEnv(t *testing.T) {
	t.Setenv("RIPOSTE_RULES_FILE", "/nonexistent.yaml")
	for _, sub := range []string{"list", "check"} {
		t.Run(sub, func(t *testing.T) {
			file := writeFile(t, "empty.yaml", "- list: empty\n  items: []\n")
			cmd := newRootCommand()
			cmd.SetArgs([]string{"rules", sub, file})
			var stdout, stderr bytes.Buffer
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			if err := cmd.Execute(); err != nil {
				t.Fatalf("rules %s: %v\n%s", sub, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "name=RIPOSTE_RULES_FILE did_you_mean=RIPOSTE_RULES_FILES") {
				t.Errorf("standard error lacks the warning for RIPOSTE_RULES_FILE:\n%s", stderr.String())
			}
			if strings.Contains(stdout.String(), "RIPOSTE_RULES_FILE") {
				t.Errorf("the warning went to standard output:\n%s", stdout.String())
			}
		})
	}
}

func TestRuleSelectionEnvRejected(t *testing.T) {
	t.Setenv("RIPOSTE_RULES_SELECTION", "disable")
	_, err := runCommand(t, "rules", "list")
	if err == nil {
		t.Fatal("RIPOSTE_RULES_SELECTION was accepted")
	}
	for _, want := range []string{"RIPOSTE_RULES_SELECTION is not supported", "configuration file given with --config"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
}
