package policies

import (
	"maps"
	"testing"

	"github.com/riposte-sec/riposte/alert"
)

func TestKubernetesFromAlert(t *testing.T) {
	a := &alert.Alert{OutputFields: map[string]any{
		"k8s.ns.name": "shop", "k8s.pod.name": "cart-7d9f", "container.id": "3ad7c5f1e8b2",
		"container.name": "app", "k8s.pod.labels": "[app:cart, tier:web]",
	}}
	k := KubernetesFromAlert(a)
	if k == nil || k.Namespace != "shop" || k.Pod != "cart-7d9f" || k.ContainerID != "3ad7c5f1e8b2" || k.ContainerName != "app" {
		t.Fatalf("KubernetesFromAlert = %+v", k)
	}
	if k.Labels["app"] != "cart" || k.Labels["tier"] != "web" {
		t.Errorf("labels = %v", k.Labels)
	}
}

func TestKubernetesFromAlertPlaceholders(t *testing.T) {
	// Falco writes <NA> for the fields of a process outside any pod.
	a := &alert.Alert{OutputFields: map[string]any{
		"k8s.ns.name": "<NA>", "k8s.pod.name": "<NA>", "container.id": "host", "container.name": "<NA>",
	}}
	if k := KubernetesFromAlert(a); k != nil {
		t.Errorf("KubernetesFromAlert of a host process = %+v, want nil", k)
	}
}

func TestParseLabelsForms(t *testing.T) {
	want := map[string]string{"app": "web", "riposte.io/protected": "true"}
	for _, v := range []any{
		"[app:web, riposte.io/protected:true]",
		"(app:web,riposte.io/protected:true)",
		" (app=web, riposte.io/protected=true) ",
		"app:web, riposte.io/protected:true",
		[]any{"app:web", "riposte.io/protected=true"},
		map[string]any{"app": "web", "riposte.io/protected": "true"},
	} {
		if got := parseLabels(v); !maps.Equal(got, want) {
			t.Errorf("parseLabels(%#v) = %v, want %v", v, got, want)
		}
	}
}
