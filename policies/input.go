package policies

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/riposte-sec/riposte/alert"
)

// Input is the input document of a policy: the alert, its Kubernetes context and
// the node that evaluates it. policies/README.md documents the document.
type Input struct {
	Alert *alert.Alert
	// Kubernetes is the context of the pod the alert is about. Nil means
	// derive it from the alert's k8s.* and container.* output fields.
	Kubernetes *Kubernetes
	Node       Node
}

// Kubernetes is the Kubernetes context of an alert.
type Kubernetes struct {
	Namespace     string            `json:"namespace,omitempty"`
	Pod           string            `json:"pod,omitempty"`
	ContainerID   string            `json:"container_id,omitempty"`
	ContainerName string            `json:"container_name,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// Node describes the node that evaluates the alert.
type Node struct {
	Name string `json:"name,omitempty"`
}

// KubernetesFromAlert derives the Kubernetes context from Falco's output
// fields k8s.ns.name, k8s.pod.name, container.id, container.name and
// k8s.pod.labels. It returns nil when the alert names no pod or namespace.
func KubernetesFromAlert(a *alert.Alert) *Kubernetes {
	var k Kubernetes
	k.Namespace = knownField(a, "k8s.ns.name")
	k.Pod = knownField(a, "k8s.pod.name")
	k.ContainerID = knownField(a, "container.id")
	k.ContainerName = knownField(a, "container.name")
	if labels, ok := a.Field("k8s.pod.labels"); ok {
		k.Labels = parseLabels(labels)
	}
	if k.Namespace == "" && k.Pod == "" {
		return nil
	}
	return &k
}

// knownField returns the string value of an output field, or "" for a
// missing one or Falco's placeholder <NA>.
func knownField(a *alert.Alert, name string) string {
	v, _ := a.FieldString(name)
	if v == "<NA>" {
		return ""
	}
	return v
}

// parseLabels reads pod labels written as an object, as a list of "key:value"
// or "key=value" strings, or as one string such as "[app:web, tier:db]" or
// "(app:web,tier:db)", the form in which libsinsp prints list fields.
func parseLabels(v any) map[string]string {
	labels := map[string]string{}
	add := func(pair string) {
		pair = strings.TrimSpace(pair)
		i := strings.IndexAny(pair, ":=")
		if i <= 0 {
			return
		}
		labels[strings.TrimSpace(pair[:i])] = strings.TrimSpace(pair[i+1:])
	}
	switch l := v.(type) {
	case map[string]any:
		for k, val := range l {
			if s, ok := val.(string); ok {
				labels[k] = s
			}
		}
	case []any:
		for _, item := range l {
			if s, ok := item.(string); ok {
				add(s)
			}
		}
	case string:
		for pair := range strings.SplitSeq(strings.Trim(strings.TrimSpace(l), "[]()"), ",") {
			add(pair)
		}
	}
	if len(labels) == 0 {
		return nil
	}
	return labels
}

// Keys of the input document, allocated once: ast.InternedTerm interns only
// a fixed list of strings, and every evaluation builds the document anew.
var (
	keyNode          = ast.StringTerm("node")
	keyName          = ast.StringTerm("name")
	keyAlert         = ast.StringTerm("alert")
	keyKubernetes    = ast.StringTerm("kubernetes")
	keyUUID          = ast.StringTerm("uuid")
	keyTime          = ast.StringTerm("time")
	keyRule          = ast.StringTerm("rule")
	keyPriority      = ast.StringTerm("priority")
	keySource        = ast.StringTerm("source")
	keyHostname      = ast.StringTerm("hostname")
	keyOutput        = ast.StringTerm("output")
	keyOutputFields  = ast.StringTerm("output_fields")
	keyTags          = ast.StringTerm("tags")
	keyNamespace     = ast.StringTerm("namespace")
	keyPod           = ast.StringTerm("pod")
	keyContainerID   = ast.StringTerm("container_id")
	keyContainerName = ast.StringTerm("container_name")
	keyLabels        = ast.StringTerm("labels")
)

// Value builds the input document as an OPA value, without a JSON round trip.
func (in Input) Value() ast.Value {
	k := in.Kubernetes
	if k == nil && in.Alert != nil {
		k = KubernetesFromAlert(in.Alert)
	}
	obj := ast.NewObjectWithCapacity(3)
	obj.Insert(keyNode, ast.ObjectTerm(ast.Item(keyName, ast.StringTerm(in.Node.Name))))
	if in.Alert != nil {
		obj.Insert(keyAlert, ast.NewTerm(alertValue(in.Alert)))
	}
	if k != nil {
		obj.Insert(keyKubernetes, ast.NewTerm(kubernetesValue(k)))
	}
	return obj
}

func alertValue(a *alert.Alert) ast.Value {
	fields := ast.NewObjectWithCapacity(len(a.OutputFields))
	for name, v := range a.OutputFields {
		fields.Insert(ast.StringTerm(name), ast.NewTerm(toValue(v)))
	}
	tags := make([]*ast.Term, len(a.Tags))
	for i, t := range a.Tags {
		tags[i] = ast.StringTerm(t)
	}
	obj := ast.NewObjectWithCapacity(9)
	obj.Insert(keyUUID, ast.StringTerm(a.UUID))
	obj.Insert(keyTime, ast.StringTerm(a.Time.UTC().Format(alert.TimeLayout)))
	obj.Insert(keyRule, ast.StringTerm(a.Rule))
	obj.Insert(keyPriority, ast.StringTerm(a.Priority.String()))
	obj.Insert(keySource, ast.StringTerm(a.Source))
	obj.Insert(keyHostname, ast.StringTerm(a.Hostname))
	obj.Insert(keyOutput, ast.StringTerm(a.Output))
	obj.Insert(keyOutputFields, ast.NewTerm(fields))
	obj.Insert(keyTags, ast.ArrayTerm(tags...))
	return obj
}

func kubernetesValue(k *Kubernetes) ast.Value {
	labels := ast.NewObjectWithCapacity(len(k.Labels))
	keys := make([]string, 0, len(k.Labels))
	for key := range k.Labels {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		labels.Insert(ast.StringTerm(key), ast.StringTerm(k.Labels[key]))
	}
	obj := ast.NewObjectWithCapacity(5)
	obj.Insert(keyNamespace, ast.StringTerm(k.Namespace))
	obj.Insert(keyPod, ast.StringTerm(k.Pod))
	obj.Insert(keyContainerID, ast.StringTerm(k.ContainerID))
	obj.Insert(keyContainerName, ast.StringTerm(k.ContainerName))
	obj.Insert(keyLabels, ast.NewTerm(labels))
	return obj
}

// toValue converts a decoded output field to an OPA value. Numbers keep their
// exact decimal form.
func toValue(v any) ast.Value {
	switch x := v.(type) {
	case nil:
		return ast.NullValue
	case string:
		return ast.String(x)
	case bool:
		return ast.Boolean(x)
	case json.Number:
		return ast.Number(x)
	case int:
		return ast.Number(strconv.Itoa(x))
	case int64:
		return ast.Number(strconv.FormatInt(x, 10))
	case uint64:
		return ast.Number(strconv.FormatUint(x, 10))
	case float64:
		return ast.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case []any:
		terms := make([]*ast.Term, len(x))
		for i, item := range x {
			terms[i] = ast.NewTerm(toValue(item))
		}
		return ast.NewArray(terms...)
	case []string:
		terms := make([]*ast.Term, len(x))
		for i, item := range x {
			terms[i] = ast.StringTerm(item)
		}
		return ast.NewArray(terms...)
	case map[string]any:
		obj := ast.NewObject()
		for key, item := range x {
			obj.Insert(ast.StringTerm(key), ast.NewTerm(toValue(item)))
		}
		return obj
	}
	value, err := ast.InterfaceToValue(v)
	if err != nil {
		// A Go type that has no JSON form, which no decoder produces: treat it
		// as a missing value, as Falco does.
		return ast.NullValue
	}
	return value
}
