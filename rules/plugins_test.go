package rules_test

import (
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules"
)

func pluginMissingWarnings(res *rules.Result) []rules.Message {
	var out []rules.Message
	for _, w := range res.Warnings {
		if w.Code == "LOAD_PLUGIN_MISSING" {
			out = append(out, w)
		}
	}
	return out
}

func TestPluginRequirementNotBuiltIn(t *testing.T) {
	_, res, err := rules.Load(rules.Options{}, rules.File{Name: "anomaly.yaml", Content: []byte(`
- required_plugin_versions:
  - name: container
    version: 0.4.0
  - name: anomalydetection
    version: 0.1.0
    alternatives:
      - name: anomalydetection-x
        version: 0.2.0
` + baseRule)})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	warns := pluginMissingWarnings(res)
	if len(warns) != 1 {
		t.Fatalf("LOAD_PLUGIN_MISSING warnings = %v, want one", warns)
	}
	w := warns[0]
	if w.File != "anomaly.yaml" {
		t.Errorf("file = %q, want anomaly.yaml", w.File)
	}
	if w.Line != 5 {
		t.Errorf("line = %d, want 5, the anomalydetection entry", w.Line)
	}
	for _, want := range []string{"anomalydetection (>= 0.1.0)", "anomalydetection-x (>= 0.2.0)"} {
		if !strings.Contains(w.Text, want) {
			t.Errorf("warning %q does not name %q", w.Text, want)
		}
	}
	if strings.Contains(w.Text, "container") {
		t.Errorf("warning %q names the built-in container plugin", w.Text)
	}
}

func TestCorpusPluginRequirements(t *testing.T) {
	for _, name := range []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml", "falco-deprecated_rules.yaml"} {
		_, res, err := rules.Load(rules.Options{}, corpusFiles(t, name)...)
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		if len(res.PluginRequirements) == 0 {
			t.Errorf("%s: no plugin requirement recorded, want container", name)
		}
		if warns := pluginMissingWarnings(res); len(warns) > 0 {
			t.Errorf("%s: LOAD_PLUGIN_MISSING warnings %v, want none: the container plugin is built in", name, warns)
		}
	}

	_, res, err := rules.Load(rules.Options{}, corpusFiles(t, "k8s_audit_rules.yaml")...)
	if err != nil {
		t.Fatalf("load k8s_audit_rules.yaml: %v", err)
	}
	warns := pluginMissingWarnings(res)
	if len(warns) != 2 {
		t.Fatalf("LOAD_PLUGIN_MISSING warnings = %v, want two: k8saudit and json", warns)
	}
	if !strings.Contains(warns[0].Text, "k8saudit (>= 0.18.0)") || !strings.Contains(warns[0].Text, "k8saudit-eks") {
		t.Errorf("first warning %q does not name k8saudit and its alternatives", warns[0].Text)
	}
	if !strings.Contains(warns[1].Text, "json (>= ") {
		t.Errorf("second warning %q does not name json", warns[1].Text)
	}
	if warns[0].File != "k8s_audit_rules.yaml" {
		t.Errorf("file = %q, want k8s_audit_rules.yaml", warns[0].File)
	}
}
