package main

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
)

// shopShell is kubeSystemShell moved to the namespace shop, with pod labels.
var shopShell = strings.Replace(strings.Replace(kubeSystemShell, "kube-system", "shop", 1),
	`"k8s.pod.name":"coredns-1"`, `"k8s.pod.name":"db-0","k8s.pod.labels":{"app":"db","tier":"data"}`, 1)

// isolateByAlias chooses kubernetes:isolate through its Falco Talon alias.
const isolateByAlias = `package riposte.policies.isolate_by_alias

actions contains {
	"actionner": "kubernetes:networkpolicy",
	"target": {"kind": "pod", "namespace": input.kubernetes.namespace, "name": input.kubernetes.pod},
} if input.kubernetes.pod != ""
`

func TestGuardFlagsRejectInvalidValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"zero cooldown", []string{"--guards.cooldown", "0s"}, nil, "invalid guards.cooldown 0s"},
		{"zero rate limit", []string{"--guards.rate-limit", "0"}, nil, "invalid guards.rate-limit 0"},
		{"NaN rate limit", []string{"--guards.rate-limit", "NaN"}, nil, "invalid guards.rate-limit NaN"},
		{"zero burst", []string{"--guards.burst", "0"}, nil, "invalid guards.burst 0"},
		{"label without value", []string{"--protected-labels", "app"}, nil, `invalid protected-labels entry "app"`},
		{"rate limit from environment", nil, map[string]string{"RIPOSTE_GUARDS_RATE_LIMIT": "fast"}, `"fast" for guards.rate-limit`},
		{"cooldown from environment", nil, map[string]string{"RIPOSTE_GUARDS_COOLDOWN": "0"}, "invalid guards.cooldown"},
		{"negative alert age", []string{"--guards.max-alert-age", "-5m"}, nil, "invalid guards.max-alert-age -5m0s: use a positive duration"},
		{"alert age not a duration", []string{"--guards.max-alert-age", "soon"}, nil, `"soon" for "--guards.max-alert-age"`},
		{"alert age from environment", nil, map[string]string{"RIPOSTE_GUARDS_MAX_ALERT_AGE": "soon"}, `"soon" for guards.max-alert-age`},
	}
	// Each command also gets arguments that make it fail soon after the
	// checks, so that a check that lets a value through fails the test
	// instead of starting the command.
	missing := filepath.Join(t.TempDir(), "missing.json")
	commands := [][]string{
		{"responder", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--webhook.no-auth", "--metrics.addr", ""},
		{"run", "--nats.port", "-1"},
		{"policy", "eval", "--alert", missing},
	}
	for _, command := range commands {
		for _, tt := range tests {
			t.Run(command[0]+"/"+tt.name, func(t *testing.T) {
				for k, val := range tt.env {
					t.Setenv(k, val)
				}
				args := append(append([]string{}, command...), tt.args...)
				_, err := runCommand(t, args...)
				if err == nil {
					t.Fatalf("%v accepted", args)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want it to contain %q", err, tt.want)
				}
			})
		}
	}
}

func TestGuardTuningFromConfigFile(t *testing.T) {
	v := viper.New()
	v.SetConfigType("yaml")
	config := `
guards:
  cooldown: 90s
  rate-limit: 2.5
  burst: 7
  max-alert-age: 2m
protected-labels: ["app=db", "tier=*,team=sec"]
`
	if err := v.ReadConfig(strings.NewReader(config)); err != nil {
		t.Fatal(err)
	}
	got, err := guardTuning(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cooldown != 90*time.Second {
		t.Errorf("Cooldown = %s, want 1m30s", got.Cooldown)
	}
	if got.RateLimit != 2.5 {
		t.Errorf("RateLimit = %g, want 2.5", got.RateLimit)
	}
	if got.RateBurst != 7 {
		t.Errorf("RateBurst = %d, want 7", got.RateBurst)
	}
	if got.MaxAlertAge != 2*time.Minute {
		t.Errorf("MaxAlertAge = %s, want 2m0s", got.MaxAlertAge)
	}
	want := map[string]string{"app": "db", "tier": "*", "team": "sec"}
	if !maps.Equal(got.ProtectedLabels, want) {
		t.Errorf("ProtectedLabels = %v, want %v", got.ProtectedLabels, want)
	}
}

func TestProtectedLabelsUnsetKeepsDefault(t *testing.T) {
	got, err := protectedLabels(viper.New())
	if err != nil {
		t.Fatal(err)
	}
	if got != nil {
		t.Errorf("protected labels = %v, want nil for the default", got)
	}
}

func TestPolicyEvalProtectedLabelsFlag(t *testing.T) {
	file := writeFile(t, "alert.json", shopShell)
	out, err := runCommand(t, "policy", "eval", "--alert", file, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, `"guard":"protected-label"`) {
		t.Fatalf("pod without riposte.io/protected=true blocked by a label:\n%s", out)
	}

	out, err = runCommand(t, "policy", "eval", "--alert", file, "-o", "json", "--protected-labels", "app=db")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"guard":"protected-label"`) {
		t.Errorf("no protected-label guard for app=db:\n%s", out)
	}
}

func TestPolicyEvalDryRunActionnerAlias(t *testing.T) {
	dir := filepath.Dir(writeFile(t, "isolate.rego", isolateByAlias))
	file := writeFile(t, "alert.json", shopShell)
	for _, name := range []string{"kubernetes:networkpolicy", "kubernetes:isolate"} {
		out, err := runCommand(t, "policy", "eval", "--alert", file, "-o", "json", "--policies.dir", dir, "--dry-run-actionners", name)
		if err != nil {
			t.Fatalf("--dry-run-actionners %s: %v", name, err)
		}
		if !strings.Contains(out, `"guard":"action-dry-run"`) {
			t.Errorf("--dry-run-actionners %s: no action-dry-run guard:\n%s", name, out)
		}
	}
}

func TestPolicyEvalRejectsUnknownDryRunNames(t *testing.T) {
	file := writeFile(t, "alert.json", shopShell)
	tests := []struct {
		flag, value string
		want        []string
	}{
		{"--dry-run-actionners", "process:kil", []string{`"process:kil"`, "process:kill", "kubernetes:isolate"}},
		{"--dry-run-policies", "kill_shell", []string{`"kill_shell"`, "kill_container_shell"}},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			_, err := runCommand(t, "policy", "eval", "--alert", file, tt.flag, tt.value)
			if err == nil {
				t.Fatalf("%s %s accepted", tt.flag, tt.value)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to contain %s", err, want)
				}
			}
		})
	}
}

func TestResponderWarnsUnprotectedKubeSystem(t *testing.T) {
	args := []string{"responder", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--webhook.no-auth", "--metrics.addr", ""}
	const warning = "kube-system is not a protected namespace"

	for _, namespaces := range []string{"shop", ""} {
		out, err := runCommand(t, append(args, "--protected-namespaces", namespaces)...)
		if err == nil {
			t.Fatal("responder started without NATS")
		}
		if !strings.Contains(out, warning) {
			t.Errorf("no warning with --protected-namespaces=%q:\n%s", namespaces, out)
		}
	}

	out, _ := runCommand(t, append(args, "--protected-namespaces", "shop,kube-system")...)
	if strings.Contains(out, warning) {
		t.Errorf("warning although kube-system is protected:\n%s", out)
	}
	out, _ = runCommand(t, args...)
	if strings.Contains(out, warning) {
		t.Errorf("warning with the default protected namespaces:\n%s", out)
	}
}

func TestResponderGuardsFromConfigFile(t *testing.T) {
	v := viper.New()
	v.SetConfigType("yaml")
	config := `
dry-run: false
namespace: security
protected-namespaces: [shop]
dry-run-policies: [kill_container_shell]
dry-run-actionners: [kubernetes:networkpolicy]
guards:
  shared-cooldown: true
  cooldown: -1s
`
	if err := v.ReadConfig(strings.NewReader(config)); err != nil {
		t.Fatal(err)
	}
	got, err := responderGuards(v)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Act {
		t.Error("Act = false, want true for dry-run: false")
	}
	if got.OwnNamespace != "security" {
		t.Errorf("OwnNamespace = %q, want security", got.OwnNamespace)
	}
	if !slices.Equal(got.ProtectedNamespaces, []string{"shop"}) {
		t.Errorf("ProtectedNamespaces = %v, want [shop]", got.ProtectedNamespaces)
	}
	if !slices.Equal(got.DryRunPolicies, []string{"kill_container_shell"}) {
		t.Errorf("DryRunPolicies = %v, want [kill_container_shell]", got.DryRunPolicies)
	}
	if !slices.Equal(got.DryRunActionners, []string{"kubernetes:networkpolicy"}) {
		t.Errorf("DryRunActionners = %v, want [kubernetes:networkpolicy]", got.DryRunActionners)
	}
	if !got.SharedCooldown {
		t.Error("SharedCooldown = false, want true")
	}
	if got.Cooldown != -time.Second {
		t.Errorf("Cooldown = %s, want -1s", got.Cooldown)
	}
}
