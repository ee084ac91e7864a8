package charttest

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
)

// declaredPermissions returns, for each actionner name in the chart's
// values, the permissions that the actionner's code declares.
func declaredPermissions(t testing.TB) map[string][]actionners.Permission {
	t.Helper()
	declared := map[string][]actionners.Permission{}
	for _, a := range kubernetes.New(nil) {
		name, ok := strings.CutPrefix(a.Name(), "kubernetes:")
		if !ok {
			t.Fatalf("Kubernetes actionner %q lacks the kubernetes: prefix", a.Name())
		}
		declared[name] = a.Permissions()
	}
	return declared
}

// allActionners is every actionner the chart's values know.
var allActionners = []string{"terminate", "label", "annotate", "isolate", "exec", "logs", "cordon", "drain", "delete"}

// defaultActionners are the actionners values.yaml enables.
var defaultActionners = []string{"terminate", "label", "annotate", "isolate", "logs"}

// grants expands permissions into sorted "group/resource verb" strings, one
// per verb, so that rule sets compare regardless of how they are grouped.
func grants(perms []actionners.Permission) []string {
	set := map[string]bool{}
	for _, p := range perms {
		for _, g := range p.APIGroups {
			for _, r := range p.Resources {
				for _, v := range p.Verbs {
					set[g+"/"+r+" "+v] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for g := range set {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// expectedGrants returns the grants that the code of the named actionners
// declares.
func expectedGrants(t testing.TB, names []string) []string {
	t.Helper()
	declared := declaredPermissions(t)
	var perms []actionners.Permission
	for _, n := range names {
		p, ok := declared[n]
		if !ok {
			t.Fatalf("the chart enables actionner %s, which the code does not declare", n)
		}
		perms = append(perms, p...)
	}
	return grants(perms)
}

func TestChartKnowsEveryActionner(t *testing.T) {
	var names []string
	for n := range declaredPermissions(t) {
		names = append(names, n)
	}
	sort.Strings(names)
	want := slices.Sorted(slices.Values(allActionners))
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("actionners in the chart's values (-) and in the code (+) differ:\n%s", diff)
	}
}

// roleGrants returns the grants of a ClusterRole.
func roleGrants(t testing.TB, role *rbacv1.ClusterRole) []string {
	t.Helper()
	var perms []actionners.Permission
	for _, r := range role.Rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("ClusterRole %s has a rule with resourceNames or nonResourceURLs: %+v", role.Name, r)
		}
		perms = append(perms, actionners.Permission{APIGroups: r.APIGroups, Resources: r.Resources, Verbs: r.Verbs})
	}
	return grants(perms)
}

// actionnerValues enables exactly the named actionners.
func actionnerValues(enabled ...string) map[string]any {
	on := map[string]bool{}
	for _, n := range enabled {
		on[n] = true
	}
	list := map[string]any{}
	for _, n := range allActionners {
		list[n] = map[string]any{"enabled": on[n]}
	}
	return map[string]any{"responder": map[string]any{"actionners": list}}
}

func TestResponderRoleHasEnabledActionnersOnly(t *testing.T) {
	tests := []struct {
		name    string
		values  map[string]any
		enabled []string
	}{
		{name: "defaults", values: nil, enabled: defaultActionners},
		{name: "none", values: actionnerValues(), enabled: nil},
		{name: "terminate only", values: actionnerValues("terminate"), enabled: []string{"terminate"}},
		{name: "exec only", values: actionnerValues("exec"), enabled: []string{"exec"}},
		{name: "cordon and drain", values: actionnerValues("cordon", "drain"), enabled: []string{"cordon", "drain"}},
		{name: "delete only", values: actionnerValues("delete"), enabled: []string{"delete"}},
		{name: "all", values: actionnerValues(allActionners...), enabled: allActionners},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := render(t, tt.values)
			role := lookup(objs, "ClusterRole", "riposte-responder")
			binding := lookup(objs, "ClusterRoleBinding", "riposte-responder")
			want := expectedGrants(t, tt.enabled)
			if len(want) == 0 {
				if role != nil || binding != nil {
					t.Fatalf("no actionner enabled, but the responder's ClusterRole or binding was rendered")
				}
				return
			}
			if role == nil || binding == nil {
				t.Fatalf("responder ClusterRole or ClusterRoleBinding missing; rendered: %s", listObjects(objs))
			}
			if diff := cmp.Diff(want, roleGrants(t, convert[rbacv1.ClusterRole](t, role))); diff != "" {
				t.Errorf("responder ClusterRole grants (-want +got):\n%s", diff)
			}
			checkBinding(t, binding, "riposte-responder", "riposte-responder")
		})
	}
}

func TestDeleteRulesCanBeNarrowed(t *testing.T) {
	values := mergeValues(actionnerValues("delete"), map[string]any{"responder": map[string]any{"actionners": map[string]any{
		"delete": map[string]any{"rules": []any{
			map[string]any{"apiGroups": []any{""}, "resources": []any{"pods"}, "verbs": []any{"delete"}},
			map[string]any{"apiGroups": []any{""}, "resources": []any{"events"}, "verbs": []any{"create"}},
		}},
	}}})
	role := find(t, render(t, values), "ClusterRole", "riposte-responder")
	want := []string{"/events create", "/pods delete"}
	if diff := cmp.Diff(want, roleGrants(t, convert[rbacv1.ClusterRole](t, role))); diff != "" {
		t.Errorf("narrowed delete ClusterRole grants (-want +got):\n%s", diff)
	}
}

// checkBinding checks that a ClusterRoleBinding binds role to the service
// account in the test release's namespace.
func checkBinding(t *testing.T, u *unstructured.Unstructured, role, serviceAccount string) {
	t.Helper()
	b := convert[rbacv1.ClusterRoleBinding](t, u)
	if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != role {
		t.Errorf("binding %s refers to %s %s, want ClusterRole %s", b.Name, b.RoleRef.Kind, b.RoleRef.Name, role)
	}
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: serviceAccount, Namespace: testRelease.namespace}}
	if diff := cmp.Diff(want, b.Subjects); diff != "" {
		t.Errorf("binding %s subjects (-want +got):\n%s", b.Name, diff)
	}
}

func TestSensorRoleReadsPodsOnly(t *testing.T) {
	objs := render(t, nil)
	role := find(t, objs, "ClusterRole", "riposte-sensor")
	want := []string{"/pods get", "/pods list", "/pods watch"}
	if diff := cmp.Diff(want, roleGrants(t, convert[rbacv1.ClusterRole](t, role))); diff != "" {
		t.Errorf("sensor ClusterRole grants (-want +got):\n%s", diff)
	}
	checkBinding(t, find(t, objs, "ClusterRoleBinding", "riposte-sensor"), "riposte-sensor", "riposte-sensor")
}

func TestRBACCreateFalseRendersNoRoles(t *testing.T) {
	objs := render(t, map[string]any{"rbac": map[string]any{"create": false}})
	for _, u := range objs {
		if strings.HasPrefix(u.GetKind(), "ClusterRole") {
			t.Errorf("rbac.create=false rendered %s %s", u.GetKind(), u.GetName())
		}
	}
}

// mergeValues merges b into a copy of a, recursively for maps.
func mergeValues(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		am, aok := out[k].(map[string]any)
		bm, bok := v.(map[string]any)
		if aok && bok {
			out[k] = mergeValues(am, bm)
			continue
		}
		out[k] = v
	}
	return out
}
