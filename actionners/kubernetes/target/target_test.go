package target

import (
	"errors"
	"testing"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
)

func TestPod(t *testing.T) {
	tests := []struct {
		name  string
		alert *alert.Alert
		want  actionners.Target
		noTgt bool
	}{
		{
			name: "sensor alert",
			alert: &alert.Alert{Rule: "Terminal shell in container", Hostname: "node-1", OutputFields: map[string]any{
				"k8s.ns.name": "shop", "k8s.pod.name": "web-7d9c", "container.name": "nginx", "container.id": "3ad7b26ded6d",
			}},
			want: actionners.Target{Kind: "pod", Namespace: "shop", Name: "web-7d9c", Container: "nginx", Node: "node-1"},
		},
		{
			name: "k8smeta plugin fields",
			alert: &alert.Alert{Rule: "r", OutputFields: map[string]any{
				"k8smeta.ns.name": "shop", "k8smeta.pod.name": "web", "k8smeta.node.name": "worker-2",
			}},
			want: actionners.Target{Kind: "pod", Namespace: "shop", Name: "web", Node: "worker-2"},
		},
		{
			name: "host container name ignored",
			alert: &alert.Alert{Rule: "r", OutputFields: map[string]any{
				"k8s.ns.name": "shop", "k8s.pod.name": "web", "container.name": "host",
			}},
			want: actionners.Target{Kind: "pod", Namespace: "shop", Name: "web"},
		},
		{
			name:  "host event",
			alert: &alert.Alert{Rule: "r", Hostname: "node-1", OutputFields: map[string]any{"container.id": "host", "k8s.pod.name": nil, "k8s.ns.name": "<NA>"}},
			noTgt: true,
		},
		{name: "no output fields", alert: &alert.Alert{Rule: "r"}, noTgt: true},
		{name: "nil alert", noTgt: true},
		{
			name:  "invalid pod name",
			alert: &alert.Alert{Rule: "r", OutputFields: map[string]any{"k8s.ns.name": "shop", "k8s.pod.name": "../etc"}},
			noTgt: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pod(tt.alert)
			if tt.noTgt {
				if !errors.Is(err, actionners.ErrNoTarget) {
					t.Fatalf("error = %v, want ErrNoTarget", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("target = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNode(t *testing.T) {
	got, err := Node(&alert.Alert{Rule: "r", Hostname: "worker-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "node" || got.Node != "worker-1" {
		t.Errorf("target = %+v, want node worker-1", got)
	}
	if _, err := Node(&alert.Alert{Rule: "r"}); !errors.Is(err, actionners.ErrNoTarget) {
		t.Errorf("error without hostname = %v, want ErrNoTarget", err)
	}
}

func TestAuditObject(t *testing.T) {
	a := &alert.Alert{Rule: "Create Disallowed Pod", Source: "k8s_audit", OutputFields: map[string]any{
		"ka.target.resource": "configmaps", "ka.target.namespace": "shop", "ka.target.name": "aws-creds",
	}}
	got, err := Resolve(a)
	if err != nil {
		t.Fatal(err)
	}
	want := actionners.Target{Kind: "configmaps", Namespace: "shop", Name: "aws-creds"}
	if got != want {
		t.Errorf("target = %+v, want %+v", got, want)
	}

	clusterScoped := &alert.Alert{Rule: "r", Source: "k8s_audit", OutputFields: map[string]any{
		"ka.target.resource": "clusterroles", "ka.target.name": nil, "ka.resp.name": "escalate",
	}}
	got, err = AuditObject(clusterScoped)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "escalate" || got.Namespace != "" {
		t.Errorf("cluster-scoped target = %+v, want name escalate without namespace", got)
	}

	if _, err := Resolve(&alert.Alert{Rule: "r", Source: "k8s_audit"}); !errors.Is(err, actionners.ErrNoTarget) {
		t.Errorf("error for audit alert without fields = %v, want ErrNoTarget", err)
	}
}
