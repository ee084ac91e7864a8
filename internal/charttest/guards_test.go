package charttest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGuardValuesReachResponderConfig(t *testing.T) {
	values := map[string]any{
		"guards":          map[string]any{"cooldown": "-1s", "rateLimit": 2.5, "burst": 7, "maxAlertAge": "30m", "sharedCooldown": false},
		"protectedLabels": map[string]any{"tier": "*", "app": "db"},
	}
	cfg := componentConfig(t, render(t, values), "responder.yaml")
	want := map[string]any{"cooldown": "-1s", "rate-limit": 2.5, "burst": float64(7), "max-alert-age": "30m", "shared-cooldown": false}
	if diff := cmp.Diff(want, cfg["guards"]); diff != "" {
		t.Errorf("responder.yaml guards (-want +got):\n%s", diff)
	}
	// Helm merges the map with the default, which stays.
	if diff := cmp.Diff([]any{"app=db", "riposte.io/protected=true", "tier=*"}, cfg["protected-labels"]); diff != "" {
		t.Errorf("responder.yaml protected-labels (-want +got):\n%s", diff)
	}
}

func TestNullProtectedLabelRemovesDefault(t *testing.T) {
	// Helm deletes a key set to null from the merged values.
	cfg := componentConfig(t, render(t, map[string]any{"protectedLabels": map[string]any{"riposte.io/protected": nil}}), "responder.yaml")
	labels, ok := cfg["protected-labels"]
	if !ok {
		t.Fatal("responder.yaml has no protected-labels, so the responder would keep its default")
	}
	if diff := cmp.Diff([]any{}, labels); diff != "" {
		t.Errorf("protected-labels (-want +got):\n%s", diff)
	}
}

func TestSharedCooldownFollowsReplicas(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   bool
	}{
		{"one replica", map[string]any{"responder": map[string]any{"replicas": 1}}, false},
		{"two replicas", map[string]any{"responder": map[string]any{"replicas": 2}}, true},
		{"three replicas", map[string]any{"responder": map[string]any{"replicas": 3}}, true},
		{"explicit off", map[string]any{"responder": map[string]any{"replicas": 3}, "guards": map[string]any{"sharedCooldown": false}}, false},
		{"explicit on", map[string]any{"responder": map[string]any{"replicas": 1}, "guards": map[string]any{"sharedCooldown": true}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := componentConfig(t, render(t, tt.values), "responder.yaml")
			guards, ok := cfg["guards"].(map[string]any)
			if !ok {
				t.Fatalf("responder.yaml guards = %v, want a map", cfg["guards"])
			}
			if guards["shared-cooldown"] != tt.want {
				t.Errorf("shared-cooldown = %v, want %v", guards["shared-cooldown"], tt.want)
			}
		})
	}
}

func TestInvalidGuardValuesRejected(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"zero cooldown", map[string]any{"guards": map[string]any{"cooldown": "0s"}}, "guards.cooldown=0s is invalid"},
		{"zero cooldown in minutes", map[string]any{"guards": map[string]any{"cooldown": "0m0s"}}, "guards.cooldown=0m0s is invalid"},
		{"cooldown without unit", map[string]any{"guards": map[string]any{"cooldown": "60"}}, "cooldown"},
		{"zero rate limit", map[string]any{"guards": map[string]any{"rateLimit": 0}}, "guards.rateLimit=0 is invalid"},
		{"zero burst", map[string]any{"guards": map[string]any{"burst": 0}}, "burst"},
		{"unknown guard", map[string]any{"guards": map[string]any{"coolDown": "1m"}}, "coolDown"},
		{"label value with space", map[string]any{"protectedLabels": map[string]any{"app": "my db"}}, "protectedLabels"},
		{"negative alert age", map[string]any{"guards": map[string]any{"maxAlertAge": "-5m"}}, "maxAlertAge"},
		{"alert age without unit", map[string]any{"guards": map[string]any{"maxAlertAge": 600}}, "maxAlertAge"},
		{"NATS credentials and NKey", map[string]any{"nats": map[string]any{
			"bundled":  map[string]any{"enabled": false},
			"external": map[string]any{"url": "tls://nats.example:4222", "credentials": map[string]any{"secretName": "c"}, "nkey": map[string]any{"secretName": "k"}},
		}}, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderErr(t, testRelease, tt.values)
			if err == nil {
				t.Fatal("chart rendered, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMaxAlertAgeZeroTurnsGuardOff(t *testing.T) {
	for _, value := range []any{0, "0"} {
		cfg := componentConfig(t, render(t, map[string]any{"guards": map[string]any{"maxAlertAge": value}}), "responder.yaml")
		guards, _ := cfg["guards"].(map[string]any)
		if guards["max-alert-age"] != "0" {
			t.Errorf("maxAlertAge %#v: responder.yaml max-alert-age = %#v, want \"0\"", value, guards["max-alert-age"])
		}
	}
}

func TestNullProtectedNamespacesKeepsReleaseNamespace(t *testing.T) {
	cfg := componentConfig(t, render(t, map[string]any{"protectedNamespaces": nil}), "responder.yaml")
	if diff := cmp.Diff([]any{testRelease.namespace}, cfg["protected-namespaces"]); diff != "" {
		t.Errorf("protected-namespaces (-want +got):\n%s", diff)
	}
}

func TestWebhookRateValuesReachResponderConfig(t *testing.T) {
	values := map[string]any{"responder": map[string]any{"webhook": map[string]any{"rateLimit": 12.5, "rateBurst": 30}}}
	cfg := componentConfig(t, render(t, values), "responder.yaml")
	webhook, ok := cfg["webhook"].(map[string]any)
	if !ok {
		t.Fatalf("responder.yaml webhook = %v, want a map", cfg["webhook"])
	}
	if webhook["rate-limit"] != 12.5 {
		t.Errorf("rate-limit = %v, want 12.5", webhook["rate-limit"])
	}
	if webhook["rate-burst"] != float64(30) {
		t.Errorf("rate-burst = %v, want 30", webhook["rate-burst"])
	}
	for _, bad := range []map[string]any{{"rateLimit": 0}, {"rateBurst": 0}} {
		values := map[string]any{"responder": map[string]any{"webhook": bad}}
		if _, err := renderErr(t, testRelease, values); err == nil {
			t.Errorf("values %v rendered, want a schema error", bad)
		}
	}
}
