package charttest

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// valueCase is one set of values of the test matrix.
type valueCase struct {
	name   string
	values map[string]any
}

// externalNATS points the chart at an existing NATS with a credentials file
// and mutual TLS.
func externalNATS() map[string]any {
	return map[string]any{"nats": map[string]any{
		"bundled": map[string]any{"enabled": false},
		"external": map[string]any{
			"url":         "tls://nats-0.nats.nats.svc:4222,tls://nats-1.nats.nats.svc:4222",
			"credentials": map[string]any{"secretName": "riposte-nats-creds"},
			"tls":         map[string]any{"secretName": "riposte-nats-tls", "certKey": "tls.crt", "keyKey": "tls.key"},
		},
	}}
}

// externalNATSWithNKey is externalNATS with an NKey seed in place of the
// credentials file.
func externalNATSWithNKey() map[string]any {
	values := externalNATS()
	external := values["nats"].(map[string]any)["external"].(map[string]any)
	delete(external, "credentials")
	external["nkey"] = map[string]any{"secretName": "riposte-nats-nkey", "key": "seed"}
	return values
}

// ruleFiles sets upstream and custom rule files.
func ruleFiles() map[string]any {
	return map[string]any{"rules": map[string]any{
		"defaults": false,
		"upstream": []any{
			map[string]any{"name": "falco_rules.yaml", "content": "- list: shell_binaries\n  items: [bash, sh]\n"},
			map[string]any{"name": "falco-incubating_rules.yaml", "content": "- macro: spawned_process\n  condition: evt.type = execve\n"},
		},
		"custom": []any{
			map[string]any{"name": "my_rules.yaml", "content": "- list: shell_binaries\n  items: [zsh]\n  override:\n    items: append\n"},
		},
	}}
}

// matrix is the set of values that helm lint, helm template and the server
// dry run are checked with: bundled or external NATS, actionners enabled or
// not, dry-run on or off, and the optional parts.
var matrix = []valueCase{
	{name: "defaults", values: nil},
	{name: "dry-run off", values: map[string]any{"dryRun": false}},
	{name: "external NATS", values: externalNATS()},
	{name: "external NATS with NKey", values: externalNATSWithNKey()},
	{name: "external NATS dry-run off", values: mergeValues(externalNATS(), map[string]any{"dryRun": false})},
	{name: "no actionners", values: actionnerValues()},
	{name: "all actionners dry-run off", values: mergeValues(actionnerValues(allActionners...), map[string]any{"dryRun": false})},
	{name: "sensor only", values: map[string]any{"responder": map[string]any{"enabled": false}}},
	{name: "responder only", values: map[string]any{"sensor": map[string]any{"enabled": false}}},
	{name: "rules and policies", values: mergeValues(ruleFiles(), map[string]any{"policies": map[string]any{"files": map[string]any{
		"namespaces.rego": "package riposte.namespaces\n\nimport rego.v1\n\ndry_run if input.alert.output_fields[\"k8s.ns.name\"] == \"prod\"\n",
	}}})},
	{name: "legacy kernel and extras", values: map[string]any{
		"image":   map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32)},
		"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}}},
		"sensor": map[string]any{
			"legacyKernel":      true,
			"extraCapabilities": []any{"KILL"},
			"priorityClassName": "system-node-critical",
		},
		"responder": map[string]any{
			"replicas":        3,
			"podAntiAffinity": "hard",
			"webhook":         map[string]any{"existingSecret": "my-webhook", "existingSecretKey": "bearer"},
		},
		"nats": map[string]any{"bundled": map[string]any{"podAntiAffinity": "soft", "jetstream": map[string]any{"storageClassName": "fast"}}},
	}},
	{name: "webhook mutual TLS only", values: webhookMutualTLSOnly()},
	{name: "webhook cert-manager token and mutual TLS", values: webhookCertManager()},
}

func TestChartLint(t *testing.T) {
	for _, c := range matrix {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, err := helm(t, "lint", "--strict", chartDir, "--namespace", testRelease.namespace, "--values", writeValues(t, c.values))
			if err != nil {
				t.Fatalf("helm lint --strict: %v\n%s%s", err, stdout, stderr)
			}
		})
	}
}

func TestChartTemplateMatrix(t *testing.T) {
	for _, c := range matrix {
		t.Run(c.name, func(t *testing.T) {
			objs := render(t, c.values)
			for _, u := range objs {
				checkCommonMetadata(t, u)
				// Strict decoding catches misspelled or misplaced fields.
				switch u.GetKind() {
				case "DaemonSet":
					checkPodSpec(t, u.GetName(), convert[appsv1.DaemonSet](t, u).Spec.Template.Spec)
				case "Deployment":
					checkPodSpec(t, u.GetName(), convert[appsv1.Deployment](t, u).Spec.Template.Spec)
				case "StatefulSet":
					checkPodSpec(t, u.GetName(), convert[appsv1.StatefulSet](t, u).Spec.Template.Spec)
				case "Service":
					convert[corev1.Service](t, u)
				case "Secret":
					convert[corev1.Secret](t, u)
				case "ConfigMap":
					convert[corev1.ConfigMap](t, u)
				case "PodDisruptionBudget":
					convert[policyv1.PodDisruptionBudget](t, u)
				}
			}
		})
	}
}

// checkCommonMetadata checks the labels every object carries and that
// namespaced objects land in the release namespace.
func checkCommonMetadata(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	labels := u.GetLabels()
	for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"} {
		if labels[k] == "" {
			t.Errorf("%s %s has no %s label", u.GetKind(), u.GetName(), k)
		}
	}
	clusterScoped := u.GetKind() == "ClusterRole" || u.GetKind() == "ClusterRoleBinding"
	if !clusterScoped && u.GetNamespace() != testRelease.namespace {
		t.Errorf("%s %s is in namespace %q, want %q", u.GetKind(), u.GetName(), u.GetNamespace(), testRelease.namespace)
	}
	if len(u.GetName()) > 63 {
		t.Errorf("%s name %q is longer than 63 characters", u.GetKind(), u.GetName())
	}
}

// checkPodSpec checks what every pod of the chart must have.
func checkPodSpec(t *testing.T, owner string, spec corev1.PodSpec) {
	t.Helper()
	if spec.NodeSelector["kubernetes.io/os"] != "linux" {
		t.Errorf("%s: nodeSelector %v lacks kubernetes.io/os=linux", owner, spec.NodeSelector)
	}
	for _, c := range spec.Containers {
		if c.Image == "" {
			t.Errorf("%s: container %s has no image", owner, c.Name)
		}
		sc := c.SecurityContext
		if sc == nil || sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: container %s is privileged or has no securityContext", owner, c.Name)
			continue
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("%s: container %s does not drop ALL capabilities", owner, c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: container %s has a writable root filesystem", owner, c.Name)
		}
	}
}

// componentConfig decodes one component's configuration file from the
// rendered ConfigMap.
func componentConfig(t *testing.T, objs []*unstructured.Unstructured, file string) map[string]any {
	t.Helper()
	cm := convert[corev1.ConfigMap](t, find(t, objs, "ConfigMap", "riposte-config"))
	text, ok := cm.Data[file]
	if !ok {
		t.Fatalf("ConfigMap riposte-config has no %s", file)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatalf("decode %s: %v\n%s", file, err, text)
	}
	return cfg
}

func TestLongReleaseNameFits(t *testing.T) {
	// Helm accepts release names of up to 53 characters.
	rel := release{name: strings.Repeat("a", 53), namespace: testRelease.namespace}
	objs, err := renderErr(t, rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		if len(u.GetName()) > 63 {
			t.Errorf("%s name %q is longer than 63 characters", u.GetKind(), u.GetName())
		}
		if u.GetKind() == "StatefulSet" && len(u.GetName()) > 52 {
			t.Errorf("StatefulSet name %q is longer than 52 characters, so its controller-revision-hash label would exceed 63", u.GetName())
		}
	}
}

func TestDryRunValue(t *testing.T) {
	for _, dryRun := range []bool{true, false} {
		values := map[string]any{"dryRun": dryRun}
		cfg := componentConfig(t, render(t, values), "responder.yaml")
		if cfg["dry-run"] != dryRun {
			t.Errorf("dryRun=%v: responder.yaml dry-run = %v", dryRun, cfg["dry-run"])
		}
	}
	cfg := componentConfig(t, render(t, nil), "responder.yaml")
	if cfg["dry-run"] != true {
		t.Errorf("default responder.yaml dry-run = %v, want true", cfg["dry-run"])
	}
}

func TestResponderConfig(t *testing.T) {
	objs := render(t, nil)
	cfg := componentConfig(t, objs, "responder.yaml")
	want := map[string]any{
		"dry-run":              true,
		"protected-namespaces": []any{"kube-system", testRelease.namespace},
		"protected-labels":     []any{"riposte.io/protected=true"},
		"guards":               map[string]any{"cooldown": "1m", "rate-limit": float64(10), "burst": float64(50), "max-alert-age": "10m", "shared-cooldown": true},
		"webhook":              map[string]any{"addr": ":2803", "token-file": "/etc/riposte/webhook/token", "max-body-bytes": float64(1 << 20), "rate-limit": float64(2000), "rate-burst": float64(4000)},
		"metrics":              map[string]any{"addr": ":9376"},
		"nats":                 map[string]any{"replicas": float64(3), "tls": map[string]any{"ca": "/etc/riposte/nats/tls/ca.crt"}},
		"log-level":            "info",
		"log-format":           "json",
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("responder.yaml (-want +got):\n%s", diff)
	}
}

func TestSensorConfigRuleOrder(t *testing.T) {
	objs := render(t, ruleFiles())
	cfg := componentConfig(t, objs, "sensor.yaml")
	wantRules := map[string]any{
		"defaults": false,
		"files": []any{
			"/etc/riposte/rules/falco_rules.yaml",
			"/etc/riposte/rules/falco-incubating_rules.yaml",
			"/etc/riposte/rules/my_rules.yaml",
		},
		"min-priority":   "debug",
		"matching":       "first",
		"disabled-tags":  []any{},
		"enabled-tags":   []any{},
		"disabled-rules": []any{},
	}
	if diff := cmp.Diff(wantRules, cfg["rules"]); diff != "" {
		t.Errorf("sensor.yaml rules (-want +got):\n%s", diff)
	}

	cm := convert[corev1.ConfigMap](t, find(t, objs, "ConfigMap", "riposte-rules"))
	for _, f := range ruleFiles()["rules"].(map[string]any)["upstream"].([]any) {
		file := f.(map[string]any)
		if got := cm.Data[file["name"].(string)]; got != file["content"] {
			t.Errorf("rules ConfigMap %s = %q, want the file unchanged: %q", file["name"], got, file["content"])
		}
	}

	ds := convert[appsv1.DaemonSet](t, find(t, objs, "DaemonSet", "riposte-sensor"))
	mount := findMount(t, ds.Spec.Template.Spec.Containers[0], "rules")
	if mount.MountPath != "/etc/riposte/rules" {
		t.Errorf("rules mounted at %s, want /etc/riposte/rules", mount.MountPath)
	}
}

func TestSensorConfigRuleOptions(t *testing.T) {
	selection := []any{
		map[string]any{"disable": map[string]any{"rule": "*"}},
		map[string]any{"enable": map[string]any{"tag": "network"}},
		map[string]any{"enable": map[string]any{"rule": "Terminal shell in container"}},
	}
	objs := render(t, map[string]any{
		"rules": map[string]any{
			"minPriority":   "warning",
			"matching":      "all",
			"disabledTags":  []any{"T1059"},
			"enabledTags":   []any{"container", "host"},
			"disabledRules": []any{"Terminal shell"},
			"selection":     selection,
		},
		"sensor": map[string]any{"timeFormatISO8601": true},
	})
	cfg := componentConfig(t, objs, "sensor.yaml")
	rules := cfg["rules"].(map[string]any)
	want := map[string]any{
		"min-priority":   "warning",
		"matching":       "all",
		"disabled-tags":  []any{"T1059"},
		"enabled-tags":   []any{"container", "host"},
		"disabled-rules": []any{"Terminal shell"},
		"selection":      selection,
	}
	for key, value := range want {
		if diff := cmp.Diff(value, rules[key]); diff != "" {
			t.Errorf("sensor.yaml rules.%s (-want +got):\n%s", key, diff)
		}
	}
	if cfg["time-format-iso-8601"] != true {
		t.Errorf("sensor.yaml time-format-iso-8601 = %v, want true", cfg["time-format-iso-8601"])
	}
}

func TestSensorDaemonSet(t *testing.T) {
	objs := render(t, nil)
	ds := convert[appsv1.DaemonSet](t, find(t, objs, "DaemonSet", "riposte-sensor"))
	spec := ds.Spec.Template.Spec
	if !spec.HostPID {
		t.Error("sensor pods do not share the host PID namespace")
	}
	if diff := cmp.Diff([]corev1.Toleration{{Operator: corev1.TolerationOpExists}}, spec.Tolerations); diff != "" {
		t.Errorf("sensor tolerations (-want +got):\n%s", diff)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("sensor pods have %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if diff := cmp.Diff([]string{"sensor", "--config=/etc/riposte/config/sensor.yaml", "--serve-host-actions=true"}, c.Args); diff != "" {
		t.Errorf("sensor args (-want +got):\n%s", diff)
	}
	sc := c.SecurityContext
	wantCaps := []corev1.Capability{"BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE", "KILL"}
	if diff := cmp.Diff(wantCaps, sc.Capabilities.Add); diff != "" {
		t.Errorf("sensor capabilities (-want +got):\n%s", diff)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("sensor allows privilege escalation without CAP_SYS_ADMIN")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
		t.Error("sensor does not run as root")
	}

	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	wantHostPaths := map[string]string{"tracefs": "/sys/kernel/tracing", "bpffs": "/sys/fs/bpf", "cgroup": "/sys/fs/cgroup", "proc": "/proc"}
	if diff := cmp.Diff(wantHostPaths, hostPaths); diff != "" {
		t.Errorf("sensor hostPath volumes (-want +got):\n%s", diff)
	}
	mounts := map[string]string{}
	for name := range wantHostPaths {
		mounts[name] = findMount(t, c, name).MountPath
	}
	wantMounts := map[string]string{"tracefs": "/sys/kernel/tracing", "bpffs": "/sys/fs/bpf", "cgroup": "/sys/fs/cgroup", "proc": "/host/proc"}
	if diff := cmp.Diff(wantMounts, mounts); diff != "" {
		t.Errorf("sensor host mounts (-want +got):\n%s", diff)
	}
	for _, name := range []string{"tracefs", "cgroup", "proc"} {
		if !findMount(t, c, name).ReadOnly {
			t.Errorf("host mount %s is writable", name)
		}
	}

	for _, name := range []string{"RIPOSTE_NODE_NAME", "FALCO_HOSTNAME"} {
		env := findEnv(t, c, name)
		if env.ValueFrom == nil || env.ValueFrom.FieldRef == nil || env.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
			t.Errorf("%s = %+v, want the downward API spec.nodeName", name, env)
		}
	}
	url := findEnv(t, c, "RIPOSTE_NATS_URL")
	wantURL := "tls://sensor:$(NATS_PASSWORD)@riposte-nats." + testRelease.namespace + ".svc.cluster.local:4222"
	if url.Value != wantURL {
		t.Errorf("RIPOSTE_NATS_URL = %q, want %q", url.Value, wantURL)
	}
}

func TestSensorWithoutHostActions(t *testing.T) {
	objs := render(t, map[string]any{"sensor": map[string]any{"serveHostActions": false}})
	c := convert[appsv1.DaemonSet](t, find(t, objs, "DaemonSet", "riposte-sensor")).Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--serve-host-actions=false") {
		t.Errorf("sensor args = %v, want --serve-host-actions=false", c.Args)
	}
	if slices.Contains(c.SecurityContext.Capabilities.Add, "KILL") {
		t.Errorf("sensor capabilities = %v, want no KILL without host actions", c.SecurityContext.Capabilities.Add)
	}
}

func TestSensorLegacyKernelUsesSysAdmin(t *testing.T) {
	objs := render(t, map[string]any{"sensor": map[string]any{"legacyKernel": true, "extraCapabilities": []any{"KILL"}}})
	ds := convert[appsv1.DaemonSet](t, find(t, objs, "DaemonSet", "riposte-sensor"))
	sc := ds.Spec.Template.Spec.Containers[0].SecurityContext
	wantCaps := []corev1.Capability{"SYS_ADMIN", "SYS_RESOURCE", "SYS_PTRACE", "KILL"}
	if diff := cmp.Diff(wantCaps, sc.Capabilities.Add); diff != "" {
		t.Errorf("sensor capabilities (-want +got):\n%s", diff)
	}
	if sc.AllowPrivilegeEscalation == nil || !*sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is false with CAP_SYS_ADMIN, which Kubernetes documents as always allowing escalation")
	}
}

func TestResponderDeployment(t *testing.T) {
	objs := render(t, nil)
	d := convert[appsv1.Deployment](t, find(t, objs, "Deployment", "riposte-responder"))
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("responder replicas = %v, want 2", d.Spec.Replicas)
	}
	spec := d.Spec.Template.Spec
	anti := spec.Affinity.PodAntiAffinity
	if anti == nil || len(anti.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatalf("responder pod anti-affinity = %+v, want one preferred term", anti)
	}
	term := anti.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
	if term.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("anti-affinity topology key = %s, want kubernetes.io/hostname", term.TopologyKey)
	}
	if diff := cmp.Diff(d.Spec.Selector.MatchLabels, term.LabelSelector.MatchLabels); diff != "" {
		t.Errorf("anti-affinity selects other pods than the Deployment (-deployment +affinity):\n%s", diff)
	}

	c := spec.Containers[0]
	if diff := cmp.Diff([]string{"responder", "--config=/etc/riposte/config/responder.yaml"}, c.Args); diff != "" {
		t.Errorf("responder args (-want +got):\n%s", diff)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe = %+v, want GET /readyz", c.ReadinessProbe)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe = %+v, want GET /healthz", c.LivenessProbe)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
		t.Errorf("responder pod securityContext = %+v, want non-root user 65532", psc)
	}
	if c.SecurityContext.Capabilities.Add != nil {
		t.Errorf("responder adds capabilities %v, want none", c.SecurityContext.Capabilities.Add)
	}

	pdb := convert[policyv1.PodDisruptionBudget](t, find(t, objs, "PodDisruptionBudget", "riposte-responder"))
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("responder PDB minAvailable = %v, want 1", pdb.Spec.MinAvailable)
	}
	if diff := cmp.Diff(d.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("PDB selects other pods than the Deployment (-deployment +pdb):\n%s", diff)
	}

	svc := convert[corev1.Service](t, find(t, objs, "Service", "riposte-webhook"))
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 2803 || svc.Spec.Ports[0].TargetPort.String() != "webhook" {
		t.Errorf("webhook Service ports = %+v, want 2803 to the webhook port", svc.Spec.Ports)
	}
	if diff := cmp.Diff(d.Spec.Selector.MatchLabels, svc.Spec.Selector); diff != "" {
		t.Errorf("webhook Service selects other pods than the Deployment (-deployment +service):\n%s", diff)
	}

	secret := convert[corev1.Secret](t, find(t, objs, "Secret", "riposte-webhook"))
	if len(secret.Data["token"]) != 32 {
		t.Errorf("generated webhook token has %d bytes, want 32", len(secret.Data["token"]))
	}
}

func TestWebhookTokenValues(t *testing.T) {
	objs := render(t, map[string]any{"responder": map[string]any{"webhook": map[string]any{"token": "s3cret-token"}}})
	secret := convert[corev1.Secret](t, find(t, objs, "Secret", "riposte-webhook"))
	if got := string(secret.Data["token"]); got != "s3cret-token" {
		t.Errorf("webhook token = %q, want the value given", got)
	}

	objs = render(t, map[string]any{"responder": map[string]any{"webhook": map[string]any{"existingSecret": "mine", "existingSecretKey": "bearer"}}})
	if lookup(objs, "Secret", "riposte-webhook") != nil {
		t.Error("a token Secret was rendered although responder.webhook.existingSecret is set")
	}
	d := convert[appsv1.Deployment](t, find(t, objs, "Deployment", "riposte-responder"))
	var found bool
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "webhook-token" {
			found = true
			want := &corev1.SecretVolumeSource{SecretName: "mine", Items: []corev1.KeyToPath{{Key: "bearer", Path: "token"}}}
			if diff := cmp.Diff(want, v.Secret); diff != "" {
				t.Errorf("webhook-token volume (-want +got):\n%s", diff)
			}
		}
	}
	if !found {
		t.Error("responder has no webhook-token volume")
	}
}

func TestExternalNATSConfig(t *testing.T) {
	objs := render(t, externalNATS())
	for _, kind := range []string{"StatefulSet", "Service", "NetworkPolicy"} {
		if u := lookup(objs, kind, "riposte-nats"); u != nil {
			t.Errorf("external NATS still renders the bundled %s", kind)
		}
	}
	for _, file := range []string{"sensor.yaml", "responder.yaml"} {
		cfg := componentConfig(t, objs, file)
		want := map[string]any{
			"replicas": float64(3),
			"url":      "tls://nats-0.nats.nats.svc:4222,tls://nats-1.nats.nats.svc:4222",
			"creds":    "/etc/riposte/nats/credentials/nats.creds",
			"tls": map[string]any{
				"ca":   "/etc/riposte/nats/tls/ca.crt",
				"cert": "/etc/riposte/nats/tls/tls.crt",
				"key":  "/etc/riposte/nats/tls/tls.key",
			},
		}
		if diff := cmp.Diff(want, cfg["nats"]); diff != "" {
			t.Errorf("%s nats (-want +got):\n%s", file, diff)
		}
	}
	ds := convert[appsv1.DaemonSet](t, find(t, objs, "DaemonSet", "riposte-sensor"))
	c := ds.Spec.Template.Spec.Containers[0]
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "RIPOSTE_NATS_") {
			t.Errorf("external NATS sets %s, which would override the configuration file", e.Name)
		}
	}
	for _, m := range []string{"nats-credentials", "nats-tls"} {
		findMount(t, c, m)
	}

	objs = render(t, externalNATSWithNKey())
	for _, file := range []string{"sensor.yaml", "responder.yaml"} {
		nats, _ := componentConfig(t, objs, file)["nats"].(map[string]any)
		if nats["nkey"] != "/etc/riposte/nats/nkey/nkey.seed" || nats["creds"] != nil {
			t.Errorf("%s nats = %v, want the NKey seed file and no credentials file", file, nats)
		}
	}
	ds = convert[appsv1.DaemonSet](t, find(t, objs, "DaemonSet", "riposte-sensor"))
	findMount(t, ds.Spec.Template.Spec.Containers[0], "nats-nkey")
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.Name == "nats-nkey" && (v.Secret.SecretName != "riposte-nats-nkey" || v.Secret.Items[0].Key != "seed") {
			t.Errorf("nats-nkey volume = %+v, want key seed of riposte-nats-nkey", v.Secret)
		}
	}
}

func TestBundledNATSStatefulSet(t *testing.T) {
	objs := render(t, nil)
	for _, file := range []string{"sensor.yaml", "responder.yaml"} {
		want := map[string]any{"replicas": float64(3), "tls": map[string]any{"ca": "/etc/riposte/nats/tls/ca.crt"}}
		if diff := cmp.Diff(want, componentConfig(t, objs, file)["nats"]); diff != "" {
			t.Errorf("%s nats (-want +got):\n%s", file, diff)
		}
	}
	sts := convert[appsv1.StatefulSet](t, find(t, objs, "StatefulSet", "riposte-nats"))
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 {
		t.Errorf("NATS replicas = %v, want 3", sts.Spec.Replicas)
	}
	if sts.Spec.ServiceName != "riposte-nats-headless" {
		t.Errorf("NATS serviceName = %s, want riposte-nats-headless", sts.Spec.ServiceName)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Fatalf("NATS volumeClaimTemplates = %+v, want one named data", sts.Spec.VolumeClaimTemplates)
	}
	if got := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String(); got != "10Gi" {
		t.Errorf("NATS storage = %s, want 10Gi", got)
	}
	if findMount(t, sts.Spec.Template.Spec.Containers[0], "data").MountPath != "/data" {
		t.Error("NATS data volume is not mounted at /data, the JetStream store_dir")
	}
	anti := sts.Spec.Template.Spec.Affinity.PodAntiAffinity
	if anti == nil || len(anti.RequiredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("NATS pod anti-affinity = %+v, want one required term", anti)
	}
	headless := convert[corev1.Service](t, find(t, objs, "Service", "riposte-nats-headless"))
	if headless.Spec.ClusterIP != "None" || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("headless Service clusterIP=%q publishNotReadyAddresses=%v, want None and true", headless.Spec.ClusterIP, headless.Spec.PublishNotReadyAddresses)
	}
	pdb := convert[policyv1.PodDisruptionBudget](t, find(t, objs, "PodDisruptionBudget", "riposte-nats"))
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("NATS PDB maxUnavailable = %v, want 1", pdb.Spec.MaxUnavailable)
	}

	np := convert[networkingv1.NetworkPolicy](t, find(t, objs, "NetworkPolicy", "riposte-nats"))
	if diff := cmp.Diff(sts.Spec.Selector.MatchLabels, np.Spec.PodSelector.MatchLabels); diff != "" {
		t.Errorf("NetworkPolicy selects other pods than the StatefulSet (-statefulset +policy):\n%s", diff)
	}
	allowed := map[string][]string{}
	for _, rule := range np.Spec.Ingress {
		for _, port := range rule.Ports {
			for _, peer := range rule.From {
				allowed[port.Port.String()] = append(allowed[port.Port.String()], peer.PodSelector.MatchLabels["app.kubernetes.io/component"])
			}
			if len(rule.From) == 0 {
				allowed[port.Port.String()] = append(allowed[port.Port.String()], "any")
			}
		}
	}
	want := map[string][]string{"client": {"sensor", "responder"}, "cluster": {"nats"}, "monitor": {"any"}}
	if diff := cmp.Diff(want, allowed); diff != "" {
		t.Errorf("NATS NetworkPolicy ingress by port (-want +got):\n%s", diff)
	}
}

func findMount(t *testing.T, c corev1.Container, name string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("container %s has no volume mount %s", c.Name, name)
	return corev1.VolumeMount{}
}

func findEnv(t *testing.T, c corev1.Container, name string) corev1.EnvVar {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("container %s has no environment variable %s", c.Name, name)
	return corev1.EnvVar{}
}

func TestChartRejectsBadValues(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{
			name:   "both NATS",
			values: map[string]any{"nats": map[string]any{"external": map[string]any{"url": "nats://nats:4222"}}},
			want:   "both nats.bundled.enabled and nats.external.url are set",
		},
		{
			name:   "no NATS",
			values: map[string]any{"nats": map[string]any{"bundled": map[string]any{"enabled": false}}},
			want:   "no NATS configured",
		},
		{
			name: "duplicate rule file",
			values: map[string]any{"rules": map[string]any{
				"upstream": []any{map[string]any{"name": "a.yaml", "content": "[]"}},
				"custom":   []any{map[string]any{"name": "a.yaml", "content": "[]"}},
			}},
			want: `file name "a.yaml" appears twice`,
		},
		{
			name:   "half a client certificate",
			values: mergeValues(externalNATS(), map[string]any{"nats": map[string]any{"external": map[string]any{"tls": map[string]any{"keyKey": ""}}}}),
			want:   "set both nats.external.tls.certKey and nats.external.tls.keyKey",
		},
		{
			name:   "more stream replicas than servers",
			values: map[string]any{"nats": map[string]any{"streamReplicas": 5}},
			want:   "nats.streamReplicas=5 exceeds the 3 bundled NATS servers",
		},
		{name: "stream replicas of 2", values: map[string]any{"nats": map[string]any{"streamReplicas": 2}}, want: "streamReplicas"},
		{name: "misspelled value", values: map[string]any{"dryrun": false}, want: "dryrun"},
		{name: "dry-run not a boolean", values: map[string]any{"dryRun": "no"}, want: "dryRun"},
		{name: "policy without .rego", values: map[string]any{"policies": map[string]any{"files": map[string]any{"a.txt": "package a"}}}, want: "a.txt"},
		{name: "rule file name with slash", values: map[string]any{"rules": map[string]any{"custom": []any{map[string]any{"name": "a/b.yaml", "content": "[]"}}}}, want: "name"},
		{name: "external URL scheme", values: map[string]any{"nats": map[string]any{"bundled": map[string]any{"enabled": false}, "external": map[string]any{"url": "http://nats:4222"}}}, want: "url"},
		{name: "minimum priority", values: map[string]any{"rules": map[string]any{"minPriority": "loud"}}, want: "minPriority"},
		{name: "rule matching", values: map[string]any{"rules": map[string]any{"matching": "some"}}, want: "matching"},
		{name: "selection operation", values: map[string]any{"rules": map[string]any{"selection": []any{map[string]any{"drop": map[string]any{"rule": "x"}}}}}, want: "selection"},
		{name: "selection target", values: map[string]any{"rules": map[string]any{"selection": []any{map[string]any{"enable": map[string]any{"name": "x"}}}}}, want: "selection"},
		{name: "anti-affinity mode", values: map[string]any{"responder": map[string]any{"podAntiAffinity": "always"}}, want: "podAntiAffinity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderErr(t, testRelease, tt.values)
			if err == nil {
				t.Fatalf("helm template accepted the values")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("helm template error does not mention %q:\n%v", tt.want, err)
			}
		})
	}
}
