package main

import (
	"bytes"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	cmd.SetArgs(args)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	return out.String(), err
}

func TestActionnersListNamesEveryActionner(t *testing.T) {
	out, err := runCommand(t, "actionners", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"process:kill",
		"CAP_KILL on the host",
		"kubernetes:isolate (aliases: kubernetes:networkpolicy)",
		"kubernetes:logs (aliases: kubernetes:log)",
		"kubernetes:terminate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestRBACGrantsOnlyNamedActionners(t *testing.T) {
	out, err := runCommand(t, "rbac", "--actionners", "kubernetes:networkpolicy,kubernetes:log")
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(out), &role); err != nil {
		t.Fatalf("decode ClusterRole: %v\n%s", err, out)
	}
	resources := map[string]bool{}
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			resources[res] = true
		}
	}
	for _, want := range []string{"networkpolicies", "pods/log", "events"} {
		if !resources[want] {
			t.Errorf("ClusterRole lacks a rule on %s:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"pods/exec", "nodes", "pods/eviction"} {
		if resources[unwanted] {
			t.Errorf("ClusterRole grants %s, which neither actionner needs", unwanted)
		}
	}
}

func TestRBACOfDefaultPolicies(t *testing.T) {
	out, err := runCommand(t, "rbac")
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(out), &role); err != nil {
		t.Fatalf("decode ClusterRole: %v\n%s", err, out)
	}
	resources := map[string]bool{}
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			resources[res] = true
		}
	}
	// The default policies label and isolate the pod of a container shell.
	for _, want := range []string{"pods", "networkpolicies", "events"} {
		if !resources[want] {
			t.Errorf("ClusterRole of the default policies lacks a rule on %s:\n%s", want, out)
		}
	}
}

func TestRBACRejectsUnknownActionner(t *testing.T) {
	_, err := runCommand(t, "rbac", "--actionners", "kubernetes:explode")
	if err == nil || !strings.Contains(err.Error(), "kubernetes:explode") {
		t.Fatalf("err = %v, want an error naming the unknown actionner", err)
	}
}

func TestReleaseNeedsNamespace(t *testing.T) {
	_, err := runCommand(t, "release", "web-1")
	if err == nil || !strings.Contains(err.Error(), "--namespace") {
		t.Fatalf("err = %v, want an error asking for --namespace", err)
	}
}
