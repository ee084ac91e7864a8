package charttest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// webhookValues returns chart values whose responder.webhook is values.
func webhookValues(values map[string]any) map[string]any {
	return map[string]any{"responder": map[string]any{"webhook": values}}
}

// webhookMutualTLSOnly returns values that authenticate webhook clients by
// certificate alone, as Falco's http_output needs. The server certificate
// and the client CA come from two Secrets that the user creates.
func webhookMutualTLSOnly() map[string]any {
	return webhookValues(map[string]any{
		"requireToken": false,
		"tls": map[string]any{
			"secretName": "falco-webhook-tls",
			"clientCA":   map[string]any{"secretName": "falco-client-ca", "key": "ca.pem"},
		},
	})
}

// webhookCertManager returns values that have cert-manager issue the server
// certificate and require both the token and a client certificate. The
// client CA comes from a ConfigMap.
func webhookCertManager() map[string]any {
	return webhookValues(map[string]any{
		"tls": map[string]any{
			"certManager": map[string]any{
				"enabled":     true,
				"issuerRef":   map[string]any{"name": "internal-ca", "kind": "ClusterIssuer"},
				"dnsNames":    []any{"riposte.example.com"},
				"duration":    "2160h",
				"renewBefore": "360h",
			},
			"clientCA": map[string]any{"configMapName": "falco-client-ca"},
		},
	})
}

// webhookConfig returns the webhook section of the rendered responder.yaml.
func webhookConfig(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	cfg := componentConfig(t, objs, "responder.yaml")
	webhook, ok := cfg["webhook"].(map[string]any)
	if !ok {
		t.Fatalf("responder.yaml webhook = %v, want a map", cfg["webhook"])
	}
	return webhook
}

// responderPodSpec returns the pod spec of the rendered responder Deployment.
func responderPodSpec(t *testing.T, objs []*unstructured.Unstructured) corev1.PodSpec {
	t.Helper()
	return convert[appsv1.Deployment](t, find(t, objs, "Deployment", "riposte-responder")).Spec.Template.Spec
}

// findVolume returns the pod's volume of that name, or nil.
func findVolume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func TestWebhookMutualTLSOnly(t *testing.T) {
	objs := render(t, webhookMutualTLSOnly())
	want := map[string]any{
		"addr": ":2803",
		"tls": map[string]any{
			"cert":      "/etc/riposte/webhook-tls/tls.crt",
			"key":       "/etc/riposte/webhook-tls/tls.key",
			"client-ca": "/etc/riposte/webhook-client-ca/ca.crt",
		},
		"max-body-bytes": float64(1 << 20),
		"rate-limit":     float64(2000),
		"rate-burst":     float64(4000),
	}
	if diff := cmp.Diff(want, webhookConfig(t, objs)); diff != "" {
		t.Errorf("responder.yaml webhook (-want +got):\n%s", diff)
	}
	if lookup(objs, "Secret", "riposte-webhook") != nil {
		t.Error("a token Secret was rendered although responder.webhook.requireToken is false")
	}

	spec := responderPodSpec(t, objs)
	if v := findVolume(spec, "webhook-token"); v != nil {
		t.Errorf("responder mounts the token volume %+v although responder.webhook.requireToken is false", v)
	}
	tlsVolume := findVolume(spec, "webhook-tls")
	if tlsVolume == nil {
		t.Fatal("responder has no webhook-tls volume")
	}
	wantTLS := &corev1.SecretVolumeSource{SecretName: "falco-webhook-tls", Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "tls.crt"}, {Key: "tls.key", Path: "tls.key"}}}
	if diff := cmp.Diff(wantTLS, tlsVolume.Secret); diff != "" {
		t.Errorf("webhook-tls volume (-want +got):\n%s", diff)
	}
	caVolume := findVolume(spec, "webhook-client-ca")
	if caVolume == nil {
		t.Fatal("responder has no webhook-client-ca volume")
	}
	wantCA := &corev1.SecretVolumeSource{SecretName: "falco-client-ca", Items: []corev1.KeyToPath{{Key: "ca.pem", Path: "ca.crt"}}}
	if diff := cmp.Diff(wantCA, caVolume.Secret); diff != "" {
		t.Errorf("webhook-client-ca volume (-want +got):\n%s", diff)
	}

	c := spec.Containers[0]
	for name, path := range map[string]string{"webhook-tls": "/etc/riposte/webhook-tls", "webhook-client-ca": "/etc/riposte/webhook-client-ca"} {
		m := findMount(t, c, name)
		if m.MountPath != path {
			t.Errorf("%s mounted at %s, want %s", name, m.MountPath, path)
		}
		if m.SubPath != "" {
			t.Errorf("%s mounted with subPath %q, which the kubelet never updates when the Secret changes", name, m.SubPath)
		}
		if !m.ReadOnly {
			t.Errorf("%s is mounted writable", name)
		}
	}
}

func TestWebhookTokenOverHTTPS(t *testing.T) {
	objs := render(t, webhookValues(map[string]any{"tls": map[string]any{"secretName": "webhook-tls"}}))
	webhook := webhookConfig(t, objs)
	if webhook["token-file"] != "/etc/riposte/webhook/token" {
		t.Errorf("token-file = %v, want /etc/riposte/webhook/token", webhook["token-file"])
	}
	wantTLS := map[string]any{"cert": "/etc/riposte/webhook-tls/tls.crt", "key": "/etc/riposte/webhook-tls/tls.key"}
	if diff := cmp.Diff(wantTLS, webhook["tls"]); diff != "" {
		t.Errorf("responder.yaml webhook.tls without a client CA (-want +got):\n%s", diff)
	}
	spec := responderPodSpec(t, objs)
	if findVolume(spec, "webhook-token") == nil {
		t.Error("responder has no webhook-token volume")
	}
	if v := findVolume(spec, "webhook-client-ca"); v != nil {
		t.Errorf("responder has a webhook-client-ca volume %+v without a client CA", v)
	}
	find(t, objs, "Secret", "riposte-webhook")
}

func TestWebhookPlainHTTPByDefault(t *testing.T) {
	objs := render(t, nil)
	if tls, ok := webhookConfig(t, objs)["tls"]; ok {
		t.Errorf("responder.yaml webhook.tls = %v, want none without a server certificate", tls)
	}
	spec := responderPodSpec(t, objs)
	for _, name := range []string{"webhook-tls", "webhook-client-ca"} {
		if v := findVolume(spec, name); v != nil {
			t.Errorf("default values render the volume %+v", v)
		}
	}
	for _, u := range objs {
		if u.GetKind() == "Certificate" {
			t.Errorf("default values render the Certificate %s", u.GetName())
		}
	}
}

func TestWebhookCertManagerCertificate(t *testing.T) {
	objs := render(t, webhookCertManager())
	cert := find(t, objs, "Certificate", "riposte-webhook")
	if cert.GetAPIVersion() != "cert-manager.io/v1" {
		t.Errorf("Certificate apiVersion = %s, want cert-manager.io/v1", cert.GetAPIVersion())
	}
	ns := testRelease.namespace
	wantSpec := map[string]any{
		"secretName": "riposte-webhook-tls",
		"dnsNames": []any{
			"riposte-webhook",
			"riposte-webhook." + ns,
			"riposte-webhook." + ns + ".svc",
			"riposte-webhook." + ns + ".svc.cluster.local",
			"riposte.example.com",
		},
		"duration":    "2160h",
		"renewBefore": "360h",
		"issuerRef":   map[string]any{"name": "internal-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
	}
	if diff := cmp.Diff(wantSpec, cert.Object["spec"]); diff != "" {
		t.Errorf("Certificate spec (-want +got):\n%s", diff)
	}

	spec := responderPodSpec(t, objs)
	tlsVolume := findVolume(spec, "webhook-tls")
	if tlsVolume == nil || tlsVolume.Secret == nil || tlsVolume.Secret.SecretName != "riposte-webhook-tls" {
		t.Errorf("webhook-tls volume = %+v, want the Secret riposte-webhook-tls that cert-manager fills", tlsVolume)
	}
	caVolume := findVolume(spec, "webhook-client-ca")
	wantCA := &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "falco-client-ca"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}
	if caVolume == nil {
		t.Fatal("responder has no webhook-client-ca volume")
	}
	if diff := cmp.Diff(wantCA, caVolume.ConfigMap); diff != "" {
		t.Errorf("webhook-client-ca volume (-want +got):\n%s", diff)
	}

	// Token and client certificate together: the responder requires both.
	webhook := webhookConfig(t, objs)
	if webhook["token-file"] != "/etc/riposte/webhook/token" {
		t.Errorf("token-file = %v, want the token kept alongside mutual TLS", webhook["token-file"])
	}
	tls, _ := webhook["tls"].(map[string]any)
	if tls["client-ca"] != "/etc/riposte/webhook-client-ca/ca.crt" {
		t.Errorf("webhook.tls = %v, want client-ca /etc/riposte/webhook-client-ca/ca.crt", webhook["tls"])
	}
	find(t, objs, "Secret", "riposte-webhook")

	// A named Secret is the one that cert-manager fills.
	values := mergeValues(webhookCertManager(), webhookValues(map[string]any{"tls": map[string]any{"secretName": "my-webhook-tls"}}))
	objs = render(t, values)
	cert = find(t, objs, "Certificate", "riposte-webhook")
	if got, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName"); got != "my-webhook-tls" {
		t.Errorf("Certificate secretName = %q, want my-webhook-tls", got)
	}
	if v := findVolume(responderPodSpec(t, objs), "webhook-tls"); v == nil || v.Secret.SecretName != "my-webhook-tls" {
		t.Errorf("webhook-tls volume = %+v, want the Secret my-webhook-tls", v)
	}
}

func TestWebhookMaxBodyBytes(t *testing.T) {
	if got := webhookConfig(t, render(t, nil))["max-body-bytes"]; got != float64(1<<20) {
		t.Errorf("default max-body-bytes = %v, want 1048576", got)
	}
	// 64 MiB is printed as an integer, not in the exponent form of a float.
	cm := convert[corev1.ConfigMap](t, find(t, render(t, webhookValues(map[string]any{"maxBodyBytes": 64 << 20})), "ConfigMap", "riposte-config"))
	if !strings.Contains(cm.Data["responder.yaml"], "max-body-bytes: 67108864\n") {
		t.Errorf("responder.yaml lacks max-body-bytes: 67108864:\n%s", cm.Data["responder.yaml"])
	}
	for _, bad := range []any{0, -1, 1.5, "1Mi"} {
		if _, err := renderErr(t, testRelease, webhookValues(map[string]any{"maxBodyBytes": bad})); err == nil {
			t.Errorf("maxBodyBytes %#v rendered, want a schema error", bad)
		} else if !strings.Contains(err.Error(), "maxBodyBytes") {
			t.Errorf("maxBodyBytes %#v: error does not name maxBodyBytes:\n%v", bad, err)
		}
	}
}

func TestWebhookRejectsContradictions(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{
			name:   "no token and no client CA",
			values: webhookValues(map[string]any{"requireToken": false, "tls": map[string]any{"secretName": "webhook-tls"}}),
			want:   "responder.webhook.requireToken=false needs mutual TLS",
		},
		{
			name:   "no token but a token value",
			values: mergeValues(webhookMutualTLSOnly(), webhookValues(map[string]any{"token": "s3cret"})),
			want:   "responder.webhook.requireToken=false turns the token off",
		},
		{
			name:   "no token but a token Secret",
			values: mergeValues(webhookMutualTLSOnly(), webhookValues(map[string]any{"existingSecret": "mine"})),
			want:   "responder.webhook.requireToken=false turns the token off",
		},
		{
			name:   "client CA without server certificate",
			values: webhookValues(map[string]any{"tls": map[string]any{"clientCA": map[string]any{"secretName": "ca"}}}),
			want:   "needs the webhook's server certificate",
		},
		{
			name:   "client CA from Secret and ConfigMap",
			values: mergeValues(webhookMutualTLSOnly(), webhookValues(map[string]any{"tls": map[string]any{"clientCA": map[string]any{"configMapName": "ca"}}})),
			want:   "not both",
		},
		{
			name:   "cert-manager without issuer",
			values: webhookValues(map[string]any{"tls": map[string]any{"certManager": map[string]any{"enabled": true}}}),
			want:   "needs responder.webhook.tls.certManager.issuerRef.name",
		},
		{
			name:   "certificate duration without unit",
			values: mergeValues(webhookCertManager(), webhookValues(map[string]any{"tls": map[string]any{"certManager": map[string]any{"duration": "90"}}})),
			want:   "duration",
		},
		{
			name:   "misspelled TLS value",
			values: webhookValues(map[string]any{"tls": map[string]any{"clientCa": map[string]any{"secretName": "ca"}}}),
			want:   "clientCa",
		},
		{
			name:   "empty client CA key",
			values: mergeValues(webhookMutualTLSOnly(), webhookValues(map[string]any{"tls": map[string]any{"clientCA": map[string]any{"key": ""}}})),
			want:   "key",
		},
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

func TestWebhookContradictionsIgnoredWithoutResponder(t *testing.T) {
	values := mergeValues(webhookValues(map[string]any{"requireToken": false}), map[string]any{"responder": map[string]any{"enabled": false}})
	if _, err := renderErr(t, testRelease, values); err != nil {
		t.Errorf("sensor-only values with webhook settings failed: %v", err)
	}
}

// installNotes returns the NOTES that helm install prints for values,
// without a cluster.
func installNotes(t *testing.T, values map[string]any) string {
	t.Helper()
	stdout, stderr, err := helm(t, "install", testRelease.name, chartDir, "--namespace", testRelease.namespace, "--dry-run=client", "--values", writeValues(t, values))
	if err != nil {
		t.Fatalf("helm install --dry-run=client: %v\n%s", err, stderr)
	}
	_, notes, ok := strings.Cut(stdout, "\nNOTES:\n")
	if !ok {
		t.Fatalf("helm install printed no NOTES:\n%s", stdout)
	}
	return notes
}

func TestNotesWebhook(t *testing.T) {
	tests := []struct {
		name    string
		values  map[string]any
		want    []string
		notWant []string
	}{
		{
			name:   "token",
			values: nil,
			want: []string{
				"URL:   http://riposte-webhook." + testRelease.namespace + ".svc:2803/",
				"get secret riposte-webhook -o jsonpath='{.data.token}'",
				"send Falco's alerts through\nFalcosidekick",
			},
			notWant: []string{"https://", "Client CA"},
		},
		{
			name:   "mutual TLS only",
			values: webhookMutualTLSOnly(),
			want: []string{
				"URL:   https://riposte-webhook." + testRelease.namespace + ".svc:2803/",
				"Server certificate: Secret falco-webhook-tls\n",
				"Client CA: Secret falco-client-ca, key ca.pem",
				"mtls: true, client_cert and client_key",
			},
			notWant: []string{"Token:", "Authorization: Bearer", "cannot send the token"},
		},
		{
			name:   "cert-manager, token and mutual TLS",
			values: webhookCertManager(),
			want: []string{
				"Server certificate: Secret riposte-webhook-tls, which cert-manager fills",
				"Client CA: ConfigMap falco-client-ca, key ca.crt",
				"Token:",
				"set responder.webhook.requireToken=false\nto accept its alerts by certificate alone",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notes := installNotes(t, tt.values)
			for _, want := range tt.want {
				if !strings.Contains(notes, want) {
					t.Errorf("NOTES lack %q:\n%s", want, notes)
				}
			}
			for _, notWant := range tt.notWant {
				if strings.Contains(notes, notWant) {
					t.Errorf("NOTES contain %q:\n%s", notWant, notes)
				}
			}
		})
	}
}

// TestReadmeWebhookExample renders the README's values for Falco alone: mutual
// TLS without the token, with a certificate from cert-manager.
func TestReadmeWebhookExample(t *testing.T) {
	var values map[string]any
	if err := yaml.Unmarshal([]byte(readmeYAMLExample(t, "requireToken: false")), &values); err != nil {
		t.Fatalf("decode the README's webhook example: %v", err)
	}
	objs := render(t, values)
	find(t, objs, "Certificate", "riposte-webhook")
	webhook := webhookConfig(t, objs)
	if _, ok := webhook["token-file"]; ok {
		t.Errorf("README example keeps token-file = %v, want none", webhook["token-file"])
	}
	tls, _ := webhook["tls"].(map[string]any)
	if tls["client-ca"] == nil {
		t.Errorf("README example webhook.tls = %v, want a client-ca", webhook["tls"])
	}
	if v := findVolume(responderPodSpec(t, objs), "webhook-client-ca"); v == nil || v.Secret == nil || v.Secret.SecretName != "falco-client" {
		t.Errorf("webhook-client-ca volume = %+v, want the Secret falco-client", v)
	}
}
