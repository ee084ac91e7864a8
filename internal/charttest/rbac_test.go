package charttest

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/riposte-sec/riposte/actionners"
)

// declaredPermissions lists, for each actionner name in the chart's values,
// the Kubernetes permissions the actionner declares.
//
// TODO: build this table from the Permissions method of the actionners in
// actionners/kubernetes once they exist, so that the chart is checked against
// the code instead of this copy.
var declaredPermissions = map[string][]actionners.Permission{
	"terminate": {
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "delete"}},
	},
	"label": {
		{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "patch"}},
	},
	"annotate": {
		{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "patch"}},
	},
	"isolate": {
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"create", "get", "list", "delete", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "patch"}},
	},
	"exec": {
		{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
	},
	"logs": {
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
	},
	"cordon": {
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "patch"}},
	},
	"drain": {
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "patch"}},
	},
	// kubernetes:delete needs rules for the kinds the user lets it delete, so
	// it declares nothing of its own.
	"delete": nil,
}

// eventPermissions are what every Kubernetes actionner needs to record Events.
var eventPermissions = []actionners.Permission{
	{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
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

// expectedGrants returns the grants of the named actionners plus the event
// rules, or nothing when no actionner is named.
func expectedGrants(names []string, extra ...actionners.Permission) []string {
	if len(names) == 0 {
		return grants(extra)
	}
	perms := append([]actionners.Permission{}, eventPermissions...)
	for _, n := range names {
		perms = append(perms, declaredPermissions[n]...)
	}
	return grants(append(perms, extra...))
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
	deleteConfigMaps := actionners.Permission{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "delete"}}
	tests := []struct {
		name    string
		values  map[string]any
		enabled []string
		extra   []actionners.Permission
	}{
		{name: "defaults", values: nil, enabled: defaultActionners},
		{name: "none", values: actionnerValues(), enabled: nil},
		{name: "terminate only", values: actionnerValues("terminate"), enabled: []string{"terminate"}},
		{name: "exec only", values: actionnerValues("exec"), enabled: []string{"exec"}},
		{name: "cordon and drain", values: actionnerValues("cordon", "drain"), enabled: []string{"cordon", "drain"}},
		{
			name: "all with delete rules",
			values: mergeValues(actionnerValues(allActionners...), map[string]any{"responder": map[string]any{"actionners": map[string]any{
				"delete": map[string]any{"rules": []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get", "delete"}}}},
			}}}),
			enabled: allActionners,
			extra:   []actionners.Permission{deleteConfigMaps},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := render(t, tt.values)
			role := lookup(objs, "ClusterRole", "riposte-responder")
			binding := lookup(objs, "ClusterRoleBinding", "riposte-responder")
			want := expectedGrants(tt.enabled, tt.extra...)
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
