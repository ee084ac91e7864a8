package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes/target"
)

// Metadata is kubernetes:label or kubernetes:annotate: it adds, changes or
// removes labels or annotations on the pod or on its node.
type Metadata struct {
	base
	// field is "labels" or "annotations", the metadata field and parameter.
	field string
}

type metadataConfig struct {
	level  string
	values map[string]*string
}

func (a *Metadata) parse(values map[string]any) (metadataConfig, error) {
	p := newParams(a.name, values)
	names := []string{a.field}
	if a.field == "annotations" {
		names = append(names, "annotation")
	} else {
		names = append(names, "label")
	}
	cfg := metadataConfig{level: p.string(target.KindPod, "level")}
	if cfg.level != target.KindPod && cfg.level != target.KindNode {
		p.fail("level", "invalid value %q: use pod or node", cfg.level)
	}
	m, set := p.stringMap(names...)
	if !set || len(m) == 0 {
		p.fail(a.field, "missing: give a map of keys to values, with an empty value to remove a key")
	}
	for key, v := range m {
		for _, msg := range validation.IsQualifiedName(key) {
			p.fail(a.field, "invalid key %q: %s", key, msg)
		}
		if a.field == "labels" && v != nil {
			for _, msg := range validation.IsValidLabelValue(*v) {
				p.fail(a.field, "invalid value %q of key %q: %s", *v, key, msg)
			}
		}
	}
	cfg.values = m
	return cfg, p.err()
}

// Validate checks the parameters.
func (a *Metadata) Validate(values map[string]any) error {
	_, err := a.parse(values)
	return err
}

// Describe documents the parameters.
func (a *Metadata) Describe() (string, map[string]string) {
	return fmt.Sprintf("Add, change or remove %s of the pod or of its node.", a.field), map[string]string{
		a.field: fmt.Sprintf("map of %s to set; an empty or null value removes the key. Keys may contain a prefix with / (required)", a.field),
		"level": "pod (default) to change the pod, node to change the node the pod runs on",
	}
}

// Permissions lists the RBAC rules the actionner needs.
func (a *Metadata) Permissions() []actionners.Permission {
	return []actionners.Permission{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "patch"}},
		eventPermission,
	}
}

// Run patches the pod's or the node's metadata.
func (a *Metadata) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	cfg, err := a.parse(req.Action.Parameters)
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	if cfg.level == target.KindNode {
		return a.runNode(ctx, r, cfg)
	}
	t, err := podTarget(req)
	if err != nil {
		return r.finish(ctx, noTarget(err), nil)
	}
	pod, skip, err := a.getPod(ctx, t)
	if err != nil || skip != nil {
		return r.finish(ctx, deref(skip), err)
	}
	r.object = podRef(pod)
	var changes metadataChanges
	err = a.client.retry(ctx, "patch pod", func(ctx context.Context) error {
		current, err := a.client.Kubernetes.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		changes = diffMetadata(a.metadata(&current.ObjectMeta), cfg.values)
		patch, err := changes.jsonPatch(a.field, a.metadata(&current.ObjectMeta) == nil)
		if err != nil || patch == nil {
			return err
		}
		_, err = a.client.Kubernetes.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.JSONPatchType, patch, metav1.PatchOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return r.finish(ctx, skipped("pod %s/%s was deleted before its %s could be changed", pod.Namespace, pod.Name, a.field), nil)
	}
	if err != nil {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("patch %s of pod %s/%s: %w", a.field, pod.Namespace, pod.Name, err))
	}
	return r.finish(ctx, changes.result(a.field, "pod "+pod.Namespace+"/"+pod.Name), nil)
}

func (a *Metadata) runNode(ctx context.Context, r *run, cfg metadataConfig) (actionners.Result, error) {
	nodeName, res, err := a.nodeOf(ctx, r.req)
	if err != nil || res != nil {
		return r.finish(ctx, deref(res), err)
	}
	nodes := a.client.Kubernetes.CoreV1().Nodes()
	var changes metadataChanges
	err = a.client.retry(ctx, "patch node", func(ctx context.Context) error {
		node, err := nodes.Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		r.object = nodeRef(node)
		changes = diffMetadata(a.metadata(&node.ObjectMeta), cfg.values)
		patch, err := changes.jsonPatch(a.field, a.metadata(&node.ObjectMeta) == nil)
		if err != nil || patch == nil {
			return err
		}
		_, err = nodes.Patch(ctx, nodeName, types.JSONPatchType, patch, metav1.PatchOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return r.finish(ctx, skipped("node %s not found", nodeName), nil)
	}
	if err != nil {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("patch %s of node %s: %w", a.field, nodeName, err))
	}
	return r.finish(ctx, changes.result(a.field, "node "+nodeName), nil)
}

// nodeOf returns the node an action applies to: the node target, the node
// the target pod is bound to, or for an alert without pod fields, such as one
// about a process outside containers, the node that raised it.
func (b base) nodeOf(ctx context.Context, req actionners.Request) (string, *actionners.Result, error) {
	if req.Action.Target.Kind == target.KindNode {
		if req.Action.Target.Node == "" {
			res := noTarget(fmt.Errorf("%w: node target without a node name", actionners.ErrNoTarget))
			return "", &res, nil
		}
		return req.Action.Target.Node, nil, nil
	}
	t, err := podTarget(req)
	if err != nil {
		if req.Action.Target.Kind == "" {
			if node, nodeErr := target.Node(req.Alert); nodeErr == nil {
				return node.Node, nil, nil
			}
		}
		res := noTarget(err)
		return "", &res, nil
	}
	pod, skip, err := b.getPod(ctx, t)
	if err != nil || skip != nil {
		return "", skip, err
	}
	if pod.Spec.NodeName == "" {
		res := skipped("pod %s/%s is not scheduled on a node yet", pod.Namespace, pod.Name)
		return "", &res, nil
	}
	return pod.Spec.NodeName, nil, nil
}

func (a *Metadata) metadata(m *metav1.ObjectMeta) map[string]string {
	if a.field == "annotations" {
		return m.Annotations
	}
	return m.Labels
}

// metadataChanges lists the keys that a label or annotate action sets and
// removes on an object.
type metadataChanges struct {
	set     map[string]string
	removed []string
}

func diffMetadata(current map[string]string, wanted map[string]*string) metadataChanges {
	c := metadataChanges{set: map[string]string{}}
	for key, v := range wanted {
		old, exists := current[key]
		switch {
		case v == nil && exists:
			c.removed = append(c.removed, key)
		case v != nil && (!exists || old != *v):
			c.set[key] = *v
		}
	}
	sort.Strings(c.removed)
	return c
}

// jsonPointerEscaper escapes a map key for a JSON pointer, as RFC 6901 requires:
// "~" becomes "~0" and "/" becomes "~1", in that order.
var jsonPointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// jsonPatch returns the JSON patch for the changes, or nil when there are
// none. createMap adds the metadata map first, for an object without one.
func (c metadataChanges) jsonPatch(field string, createMap bool) ([]byte, error) {
	if len(c.set) == 0 && len(c.removed) == 0 {
		return nil, nil
	}
	var ops []jsonPatchOp
	if createMap && len(c.set) > 0 {
		ops = append(ops, jsonPatchOp{Op: "add", Path: "/metadata/" + field, Value: map[string]string{}})
	}
	keys := make([]string, 0, len(c.set))
	for k := range c.set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ops = append(ops, jsonPatchOp{Op: "add", Path: "/metadata/" + field + "/" + jsonPointerEscaper.Replace(k), Value: c.set[k]})
	}
	for _, k := range c.removed {
		ops = append(ops, jsonPatchOp{Op: "remove", Path: "/metadata/" + field + "/" + jsonPointerEscaper.Replace(k)})
	}
	return json.Marshal(ops)
}

func (c metadataChanges) result(field, object string) actionners.Result {
	if len(c.set) == 0 && len(c.removed) == 0 {
		res := succeeded("%s of %s already as requested", field, object)
		res.Output = map[string]any{"set": map[string]string{}, "removed": []string{}}
		return res
	}
	res := succeeded("set %d and removed %d %s of %s", len(c.set), len(c.removed), field, object)
	removed := c.removed
	if removed == nil {
		removed = []string{}
	}
	res.Output = map[string]any{"set": c.set, "removed": removed}
	return res
}
