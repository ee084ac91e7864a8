package policies

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSetActionners(t *testing.T) {
	dir := t.TempDir()
	policy := `package riposte.policies.isolate_and_label

actions contains {"actionner": "kubernetes:isolate", "target": {"kind": "pod"}} if input.alert.rule == "a"

actions contains {"actionner": "kubernetes:label", "target": {"kind": "pod"}} if input.alert.rule == "b"

actions contains {"actionner": "kubernetes:isolate", "target": {"kind": "pod"}} if input.alert.rule == "c"
`
	if err := os.WriteFile(filepath.Join(dir, "p.rego"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kubernetes:isolate", "kubernetes:label"}
	if got := set.Actionners(); !slices.Equal(got, want) {
		t.Errorf("Actionners() = %v, want %v", got, want)
	}
}

func TestDefaultPoliciesActionners(t *testing.T) {
	set, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kubernetes:isolate", "kubernetes:label", "process:kill"}
	if got := set.Actionners(); !slices.Equal(got, want) {
		t.Errorf("Actionners() of the default policies = %v, want %v", got, want)
	}
}

func TestActionnersWithTargetFromRule(t *testing.T) {
	dir := t.TempDir()
	policy := `package riposte.policies.label_pod

pod := {"kind": "pod", "namespace": input.alert.output_fields["k8s.ns.name"], "name": input.alert.output_fields["k8s.pod.name"]}

actions contains {"actionner": "kubernetes:label", "target": pod, "parameters": {"labels": {"a": "b"}}} if input.alert.rule == "a"
`
	if err := os.WriteFile(filepath.Join(dir, "p.rego"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Actionners(); !slices.Equal(got, []string{"kubernetes:label"}) {
		t.Errorf("Actionners() = %v, want kubernetes:label", got)
	}
}
