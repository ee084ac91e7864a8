package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes/target"
)

// deletable is a resource kind that kubernetes:delete can delete.
type deletable struct {
	group, version, kind string
	namespaced           bool
	delete               func(ctx context.Context, cs kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error
}

// deletableResources are the resources kubernetes:delete accepts, keyed by
// the plural name that audit events use.
var deletableResources = map[string]deletable{
	"pods": {"", "v1", "Pod", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.CoreV1().Pods(ns).Delete(ctx, name, o)
	}},
	"configmaps": {"", "v1", "ConfigMap", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.CoreV1().ConfigMaps(ns).Delete(ctx, name, o)
	}},
	"secrets": {"", "v1", "Secret", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.CoreV1().Secrets(ns).Delete(ctx, name, o)
	}},
	"services": {"", "v1", "Service", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.CoreV1().Services(ns).Delete(ctx, name, o)
	}},
	"serviceaccounts": {"", "v1", "ServiceAccount", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.CoreV1().ServiceAccounts(ns).Delete(ctx, name, o)
	}},
	"namespaces": {"", "v1", "Namespace", false, func(ctx context.Context, cs kubernetes.Interface, _, name string, o metav1.DeleteOptions) error {
		return cs.CoreV1().Namespaces().Delete(ctx, name, o)
	}},
	"deployments": {"apps", "v1", "Deployment", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.AppsV1().Deployments(ns).Delete(ctx, name, o)
	}},
	"daemonsets": {"apps", "v1", "DaemonSet", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.AppsV1().DaemonSets(ns).Delete(ctx, name, o)
	}},
	"statefulsets": {"apps", "v1", "StatefulSet", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.AppsV1().StatefulSets(ns).Delete(ctx, name, o)
	}},
	"replicasets": {"apps", "v1", "ReplicaSet", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.AppsV1().ReplicaSets(ns).Delete(ctx, name, o)
	}},
	"jobs": {"batch", "v1", "Job", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.BatchV1().Jobs(ns).Delete(ctx, name, o)
	}},
	"cronjobs": {"batch", "v1", "CronJob", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.BatchV1().CronJobs(ns).Delete(ctx, name, o)
	}},
	"roles": {"rbac.authorization.k8s.io", "v1", "Role", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.RbacV1().Roles(ns).Delete(ctx, name, o)
	}},
	"rolebindings": {"rbac.authorization.k8s.io", "v1", "RoleBinding", true, func(ctx context.Context, cs kubernetes.Interface, ns, name string, o metav1.DeleteOptions) error {
		return cs.RbacV1().RoleBindings(ns).Delete(ctx, name, o)
	}},
	"clusterroles": {"rbac.authorization.k8s.io", "v1", "ClusterRole", false, func(ctx context.Context, cs kubernetes.Interface, _, name string, o metav1.DeleteOptions) error {
		return cs.RbacV1().ClusterRoles().Delete(ctx, name, o)
	}},
	"clusterrolebindings": {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", false, func(ctx context.Context, cs kubernetes.Interface, _, name string, o metav1.DeleteOptions) error {
		return cs.RbacV1().ClusterRoleBindings().Delete(ctx, name, o)
	}},
}

// protectedNamespaces are namespaces whose deletion would break the cluster.
var protectedNamespaces = map[string]bool{
	metav1.NamespaceDefault: true, metav1.NamespaceSystem: true, metav1.NamespacePublic: true, corev1.NamespaceNodeLease: true,
}

// Delete is kubernetes:delete: it deletes the object that a Kubernetes audit
// alert names.
type Delete struct{ base }

func (a *Delete) parse(values map[string]any) (*int64, error) {
	p := newParams(a.name, values)
	var grace *int64
	if name, v, ok := p.lookup("grace_period_seconds"); ok {
		n, err := toInt(v)
		if err != nil || n < 0 {
			p.fail(name, "expected a number of seconds, 0 or more, got %v", v)
		} else {
			grace = &n
		}
	}
	return grace, p.err()
}

// Validate checks the parameters.
func (a *Delete) Validate(values map[string]any) error {
	_, err := a.parse(values)
	return err
}

// Describe documents the parameters.
func (a *Delete) Describe() (string, map[string]string) {
	return "Delete the object named by a Kubernetes audit alert (ka.target.resource, ka.target.namespace, ka.target.name); resources: " +
			strings.Join(deletableNames(), ", "), map[string]string{
			"grace_period_seconds": "grace period of the deletion (default: the object's own)",
		}
}

func deletableNames() []string {
	names := make([]string, 0, len(deletableResources))
	for n := range deletableResources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Permissions lists the RBAC rules the actionner needs: delete on every
// resource it accepts.
func (a *Delete) Permissions() []actionners.Permission {
	perms := []actionners.Permission{eventPermission}
	for _, name := range deletableNames() {
		d := deletableResources[name]
		perms = append(perms, actionners.Permission{APIGroups: []string{d.group}, Resources: []string{name}, Verbs: []string{"delete"}})
	}
	return perms
}

// Run deletes the object. It rejects resources it does not know, the
// namespaces the cluster needs, and system: RBAC objects.
func (a *Delete) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	grace, err := a.parse(req.Action.Parameters)
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	t := req.Action.Target
	if t.Kind == "" || t.Kind == target.KindPod && t.Name == "" {
		t, err = target.AuditObject(req.Alert)
		if err != nil {
			return r.finish(ctx, noTarget(err), nil)
		}
	}
	if t.Kind == target.KindPod {
		t.Kind = "pods"
	}
	d, ok := deletableResources[t.Kind]
	if !ok {
		return r.finish(ctx, rejected("kubernetes:delete does not delete %s; it deletes %s", t.Kind, strings.Join(deletableNames(), ", ")), nil)
	}
	if d.namespaced && t.Namespace == "" {
		return r.finish(ctx, noTarget(fmt.Errorf("%w: %s %q has no namespace", actionners.ErrNoTarget, t.Kind, t.Name)), nil)
	}
	if !d.namespaced {
		t.Namespace = ""
	}
	if a.client == nil || a.client.Kubernetes == nil {
		return r.finish(ctx, actionners.Result{}, errNoClient)
	}
	r.object = &corev1.ObjectReference{APIVersion: groupVersion(d), Kind: d.kind, Namespace: t.Namespace, Name: t.Name}
	id := d.kind + " " + t.Name
	if t.Namespace != "" {
		id = d.kind + " " + t.Namespace + "/" + t.Name
	}
	if t.Kind == "namespaces" && protectedNamespaces[t.Name] {
		return r.finish(ctx, rejected("%s is needed by the cluster and is never deleted", id), nil)
	}
	if strings.HasPrefix(t.Name, "system:") && strings.HasPrefix(d.group, "rbac.") {
		return r.finish(ctx, rejected("%s is a built-in RBAC object and is never deleted", id), nil)
	}

	opts := metav1.DeleteOptions{GracePeriodSeconds: grace}
	err = a.client.retry(ctx, "delete object", func(ctx context.Context) error {
		return d.delete(ctx, a.client.Kubernetes, t.Namespace, t.Name, opts)
	})
	if apierrors.IsNotFound(err) {
		r.object = nil
		return r.finish(ctx, skipped("%s not found: it may already be deleted", id), nil)
	}
	if err != nil {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("delete %s: %w", id, err))
	}
	return r.finish(ctx, succeeded("deleted %s", id), nil)
}

func groupVersion(d deletable) string {
	if d.group == "" {
		return d.version
	}
	return d.group + "/" + d.version
}
