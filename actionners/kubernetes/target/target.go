// Package target finds the Kubernetes object that an alert is about: the pod
// and container of a syscall alert, the node that raised it, or the object of
// a Kubernetes audit alert. It reads the alert's output_fields, which sensor
// alerts and webhook alerts from Falco or Falcosidekick carry alike.
package target

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
)

// Output fields read from alerts. Falco writes the k8s.* and container.*
// fields from its container metadata, the k8smeta.* fields come from the
// k8smeta plugin, and the ka.* fields from the k8saudit plugin.
const (
	FieldNamespace        = "k8s.ns.name"
	FieldPod              = "k8s.pod.name"
	FieldMetaNamespace    = "k8smeta.ns.name"
	FieldMetaPod          = "k8smeta.pod.name"
	FieldMetaNode         = "k8smeta.node.name"
	FieldContainerName    = "container.name"
	FieldContainerID      = "container.id"
	FieldAuditResource    = "ka.target.resource"
	FieldAuditSubresource = "ka.target.subresource"
	FieldAuditNamespace   = "ka.target.namespace"
	FieldAuditName        = "ka.target.name"
	FieldAuditRespName    = "ka.resp.name"
)

// Target kinds this package returns besides actionners' own "pod" and "node".
const (
	KindPod  = "pod"
	KindNode = "node"
)

// Pod returns the pod target of an alert: namespace and name from
// k8s.ns.name and k8s.pod.name (or the k8smeta plugin's fields), the container
// name when the alert has one, and the node from k8smeta.node.name or the
// alert's hostname. It returns an error wrapping actionners.ErrNoTarget when
// the alert names no pod, and an error naming the value when a field holds
// something that cannot be a Kubernetes name.
func Pod(a *alert.Alert) (actionners.Target, error) {
	if a == nil {
		return actionners.Target{}, fmt.Errorf("%w: no alert", actionners.ErrNoTarget)
	}
	ns := first(a, FieldNamespace, FieldMetaNamespace)
	pod := first(a, FieldPod, FieldMetaPod)
	if ns == "" || pod == "" {
		return actionners.Target{}, fmt.Errorf("%w: alert %q has no %s and %s output fields",
			actionners.ErrNoTarget, a.Rule, FieldNamespace, FieldPod)
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return actionners.Target{}, fmt.Errorf("%w: invalid namespace %q in %s: %s",
			actionners.ErrNoTarget, ns, FieldNamespace, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(pod); len(errs) > 0 {
		return actionners.Target{}, fmt.Errorf("%w: invalid pod name %q in %s: %s",
			actionners.ErrNoTarget, pod, FieldPod, strings.Join(errs, "; "))
	}
	t := actionners.Target{Kind: KindPod, Namespace: ns, Name: pod, Node: nodeName(a)}
	// container.name is "host" for events outside containers; a pod never
	// runs such a container, so the field is ignored then.
	if c := first(a, FieldContainerName); c != "" && c != "host" && len(validation.IsDNS1123Label(c)) == 0 {
		t.Container = c
	}
	return t, nil
}

// Node returns the node target of an alert: k8smeta.node.name when present,
// otherwise the alert's hostname, which Falco and the sensor set to the node
// name when they run in a cluster.
func Node(a *alert.Alert) (actionners.Target, error) {
	if a == nil {
		return actionners.Target{}, fmt.Errorf("%w: no alert", actionners.ErrNoTarget)
	}
	node := nodeName(a)
	if node == "" {
		return actionners.Target{}, fmt.Errorf("%w: alert %q names no node: it has no %s field and no hostname",
			actionners.ErrNoTarget, a.Rule, FieldMetaNode)
	}
	return actionners.Target{Kind: KindNode, Node: node, Name: node}, nil
}

// AuditObject returns the object of a Kubernetes audit alert. The target's
// Kind is the plural resource name as the audit log writes it, such as
// "configmaps" or "clusterroles"; Namespace is empty for cluster-scoped
// objects. An audit event about a subresource, such as pods/exec, targets the
// parent object.
func AuditObject(a *alert.Alert) (actionners.Target, error) {
	if a == nil {
		return actionners.Target{}, fmt.Errorf("%w: no alert", actionners.ErrNoTarget)
	}
	resource := first(a, FieldAuditResource)
	name := first(a, FieldAuditName, FieldAuditRespName)
	if resource == "" || name == "" {
		return actionners.Target{}, fmt.Errorf("%w: alert %q has no %s and %s output fields",
			actionners.ErrNoTarget, a.Rule, FieldAuditResource, FieldAuditName)
	}
	ns := first(a, FieldAuditNamespace)
	if ns != "" {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return actionners.Target{}, fmt.Errorf("%w: invalid namespace %q in %s: %s",
				actionners.ErrNoTarget, ns, FieldAuditNamespace, strings.Join(errs, "; "))
		}
	}
	return actionners.Target{Kind: strings.ToLower(resource), Namespace: ns, Name: name}, nil
}

// Resolve returns the pod target of an alert, or for an alert from the
// k8s_audit source the object it is about.
func Resolve(a *alert.Alert) (actionners.Target, error) {
	t, err := Pod(a)
	if err == nil || a == nil {
		return t, err
	}
	if audit, auditErr := AuditObject(a); auditErr == nil {
		return audit, nil
	} else if a.Source == "k8s_audit" {
		return actionners.Target{}, errors.Join(err, auditErr)
	}
	return actionners.Target{}, err
}

func nodeName(a *alert.Alert) string {
	if n := first(a, FieldMetaNode); n != "" {
		return n
	}
	if len(validation.IsDNS1123Subdomain(a.Hostname)) == 0 {
		return a.Hostname
	}
	return ""
}

// first returns the first of the fields that has a value. Falco writes
// "<NA>" or null for a field it could not fill.
func first(a *alert.Alert, fields ...string) string {
	for _, f := range fields {
		v, ok := a.OutputFields[f]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		s = strings.TrimSpace(s)
		if s == "" || s == "<NA>" || s == "N/A" {
			continue
		}
		return s
	}
	return ""
}
