package kubernetes

import (
	"fmt"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/riposte-sec/riposte/actionners"
)

// eventPermission lets an actionner record Events on its targets.
var eventPermission = actionners.Permission{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}}

// PolicyRules merges the Kubernetes parts of permissions into RBAC rules:
// one rule per API group and resource, with the verbs sorted. Permissions
// without resources, such as host capabilities, are left out.
func PolicyRules(perms []actionners.Permission) []rbacv1.PolicyRule {
	type key struct{ group, resource string }
	verbs := map[key]map[string]bool{}
	for _, p := range perms {
		for _, g := range p.APIGroups {
			for _, r := range p.Resources {
				k := key{g, r}
				if verbs[k] == nil {
					verbs[k] = map[string]bool{}
				}
				for _, v := range p.Verbs {
					verbs[k][v] = true
				}
			}
		}
	}
	keys := make([]key, 0, len(verbs))
	for k := range verbs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].resource < keys[j].resource
	})
	rules := make([]rbacv1.PolicyRule, 0, len(keys))
	for _, k := range keys {
		vs := make([]string, 0, len(verbs[k]))
		for v := range verbs[k] {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{k.group}, Resources: []string{k.resource}, Verbs: vs})
	}
	return rules
}

// ClusterRole returns the minimal ClusterRole named name that lets the given
// actionners run. Names may be aliases. Actionners that need no Kubernetes
// permission, such as process:kill, add no rule. An unknown name is an error
// wrapping actionners.ErrUnknownActionner.
func ClusterRole(name string, reg *actionners.Registry, actionnerNames []string) (*rbacv1.ClusterRole, error) {
	var perms []actionners.Permission
	for _, n := range actionnerNames {
		a, err := reg.Get(n)
		if err != nil {
			return nil, fmt.Errorf("build ClusterRole %s: %w", name, err)
		}
		perms = append(perms, a.Permissions()...)
	}
	return &rbacv1.ClusterRole{
		TypeMeta: metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{"app.kubernetes.io/name": "riposte", "app.kubernetes.io/component": "responder"},
		},
		Rules: PolicyRules(perms),
	}, nil
}
