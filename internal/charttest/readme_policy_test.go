package charttest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// readmeYAMLExample returns the first yaml code block of the README that
// contains text.
func readmeYAMLExample(t *testing.T, text string) string {
	t.Helper()
	readme, err := os.ReadFile(chartDir + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(readme), "```yaml\n")[1:] {
		body, _, ok := strings.Cut(block, "```")
		if ok && strings.Contains(body, text) {
			return body
		}
	}
	t.Fatalf("README.md has no yaml example that contains %q", text)
	return ""
}

// TestReadmePolicyExample renders the README's dry-run example and evaluates
// its policy with OPA: the action must run in a listed namespace and be a
// dry run elsewhere.
func TestReadmePolicyExample(t *testing.T) {
	var values map[string]any
	if err := yaml.Unmarshal([]byte(readmeYAMLExample(t, "\npolicies:\n")), &values); err != nil {
		t.Fatalf("decode the README's values example: %v", err)
	}
	objs := render(t, values)
	cm := convert[corev1.ConfigMap](t, find(t, objs, "ConfigMap", "riposte-policies"))
	if len(cm.Data) != 1 {
		t.Fatalf("policies ConfigMap has %d files, want 1", len(cm.Data))
	}
	if cfg := componentConfig(t, objs, "responder.yaml"); cfg["dry-run"] != false {
		t.Errorf("README example leaves dry-run = %v, want false", cfg["dry-run"])
	}

	var options []func(*rego.Rego)
	for name, content := range cm.Data {
		options = append(options, rego.Module(name, content))
	}
	query, err := rego.New(append(options, rego.Query("data.riposte.policies[_].actions"))...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("compile the README's policy: %v", err)
	}
	for ns, wantDryRun := range map[string]bool{"shop": false, "payments": false, "dev": true} {
		input := map[string]any{"alert": map[string]any{
			"rule":          "Terminal shell in container",
			"output_fields": map[string]any{"k8s.ns.name": ns, "k8s.pod.name": "web-1"},
		}}
		rs, err := query.Eval(context.Background(), rego.EvalInput(input))
		if err != nil {
			t.Fatalf("evaluate the README's policy for namespace %s: %v", ns, err)
		}
		if len(rs) != 1 || len(rs[0].Expressions) != 1 {
			t.Fatalf("namespace %s: %d results, want one set of actions", ns, len(rs))
		}
		actions, ok := rs[0].Expressions[0].Value.([]any)
		if !ok || len(actions) != 1 {
			t.Fatalf("namespace %s: actions = %v, want one", ns, rs[0].Expressions[0].Value)
		}
		action := actions[0].(map[string]any)
		if action["dry_run"] != wantDryRun {
			t.Errorf("namespace %s: dry_run = %v, want %v", ns, action["dry_run"], wantDryRun)
		}
		if action["actionner"] != "kubernetes:isolate" {
			t.Errorf("namespace %s: actionner = %v, want kubernetes:isolate", ns, action["actionner"])
		}
	}
}
