package charttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/riposte-sec/riposte/internal/k8stest"
)

func TestMain(m *testing.M) {
	os.Exit(k8stest.Main(m))
}

// clusterTimeout bounds each wait on the API server.
const clusterTimeout = 2 * time.Minute

// serviceMonitorCRD is a stand-in for the Prometheus Operator's
// ServiceMonitor CRD: it has the same group, version and names but accepts
// any spec, so the dry run checks that the kind exists, not the spec.
var serviceMonitorCRD = map[string]any{
	"apiVersion": "apiextensions.k8s.io/v1",
	"kind":       "CustomResourceDefinition",
	"metadata":   map[string]any{"name": "servicemonitors.monitoring.coreos.com"},
	"spec": map[string]any{
		"group": "monitoring.coreos.com",
		"names": map[string]any{"kind": "ServiceMonitor", "listKind": "ServiceMonitorList", "plural": "servicemonitors", "singular": "servicemonitor"},
		"scope": "Namespaced",
		"versions": []any{map[string]any{
			"name": "v1", "served": true, "storage": true,
			"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
		}},
	},
}

// certificateCRD is a stand-in for cert-manager's Certificate CRD, in the
// same way as serviceMonitorCRD.
var certificateCRD = map[string]any{
	"apiVersion": "apiextensions.k8s.io/v1",
	"kind":       "CustomResourceDefinition",
	"metadata":   map[string]any{"name": "certificates.cert-manager.io"},
	"spec": map[string]any{
		"group": "cert-manager.io",
		"names": map[string]any{"kind": "Certificate", "listKind": "CertificateList", "plural": "certificates", "singular": "certificate"},
		"scope": "Namespaced",
		"versions": []any{map[string]any{
			"name": "v1", "served": true, "storage": true,
			"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
		}},
	},
}

// cluster is the control plane with the clients the chart tests use.
type cluster struct {
	env     *k8stest.Env
	dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	env := k8stest.Get(t)
	dyn, err := dynamic.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{env: env, dynamic: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
	c.installCRD(t, serviceMonitorCRD, schemaGK("monitoring.coreos.com", "ServiceMonitor"))
	c.installCRD(t, certificateCRD, schemaGK("cert-manager.io", "Certificate"))
	return c
}

// installCRD creates a stand-in CRD once and waits until the API server
// serves its kind in version v1.
func (c *cluster) installCRD(t *testing.T, crd map[string]any, kind schema.GroupKind) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	crds := c.dynamic.Resource(schemaGVR("apiextensions.k8s.io", "v1", "customresourcedefinitions"))
	_, err := crds.Create(ctx, &unstructured.Unstructured{Object: crd}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create %s CRD: %v", kind.Kind, err)
	}
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		c.mapper.Reset()
		_, err := c.mapper.RESTMapping(kind, "v1")
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("wait for the %s CRD to be served: %v", kind.Kind, err)
	}
}

// resource returns the client for an object's kind, scoped to its namespace
// when the kind is namespaced.
func (c *cluster) resource(u *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := u.GroupVersionKind()
	mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", gvk, err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dynamic.Resource(mapping.Resource).Namespace(u.GetNamespace()), nil
	}
	return c.dynamic.Resource(mapping.Resource), nil
}

func TestChartServerSideDryRun(t *testing.T) {
	c := newCluster(t)
	for _, vc := range matrix {
		t.Run(vc.name, func(t *testing.T) {
			ns := c.env.Namespace(t)
			objs, err := renderErr(t, release{name: "riposte", namespace: ns}, vc.values)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
			defer cancel()
			for _, u := range objs {
				ri, err := c.resource(u)
				if err != nil {
					t.Errorf("%s %s: %v", u.GetKind(), u.GetName(), err)
					continue
				}
				opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict}
				if _, err := ri.Create(ctx, u, opts); err != nil {
					t.Errorf("server-side dry run of %s %s: %v", u.GetKind(), u.GetName(), err)
				}
			}
		})
	}
}

// installCase is one helm install of the chart into the test cluster.
type installCase struct {
	name      string
	values    map[string]any
	enabled   []string
	bundled   bool
	namespace string
	// noToken marks values without the webhook token, so that no token
	// Secret exists.
	noToken bool
	// objects are the Secrets and ConfigMaps that the values name, created
	// in the namespace before the install.
	objects []*unstructured.Unstructured
	// checkResponder checks the installed responder Deployment.
	checkResponder func(t *testing.T, deploy *appsv1.Deployment)
}

func TestChartHelmInstall(t *testing.T) {
	c := newCluster(t)
	cases := []installCase{
		{name: "defaults", values: nil, enabled: defaultActionners, bundled: true},
		{
			name:    "external NATS all actionners dry-run off",
			values:  mergeValues(mergeValues(externalNATS(), actionnerValues(allActionners...)), map[string]any{"dryRun": false}),
			enabled: allActionners,
		},
		{
			name:    "webhook mutual TLS only",
			values:  webhookMutualTLSOnly(),
			enabled: defaultActionners,
			bundled: true,
			noToken: true,
			objects: []*unstructured.Unstructured{
				object("v1", "Secret", "falco-webhook-tls", map[string]any{
					"type":       "kubernetes.io/tls",
					"stringData": map[string]any{"tls.crt": "placeholder certificate", "tls.key": "placeholder key"},
				}),
				object("v1", "Secret", "falco-client-ca", map[string]any{
					"stringData": map[string]any{"ca.pem": "placeholder CA certificate"},
				}),
			},
			checkResponder: func(t *testing.T, deploy *appsv1.Deployment) {
				spec := deploy.Spec.Template.Spec
				for volume, secret := range map[string]string{"webhook-tls": "falco-webhook-tls", "webhook-client-ca": "falco-client-ca"} {
					v := findVolume(spec, volume)
					if v == nil || v.Secret == nil || v.Secret.SecretName != secret {
						t.Errorf("installed responder volume %s = %+v, want the Secret %s", volume, v, secret)
					}
				}
				if v := findVolume(spec, "webhook-token"); v != nil {
					t.Errorf("installed responder mounts the token volume %+v without a token", v)
				}
			},
		},
	}
	for _, ic := range cases {
		t.Run(ic.name, func(t *testing.T) {
			ic.namespace = c.env.Namespace(t)
			c.createObjects(t, ic.namespace, ic.objects)
			c.checkInstall(t, ic)
		})
	}
}

// object returns an object of the given kind with the fields of fields.
func object(apiVersion, kind, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}}}
	for k, v := range fields {
		u.Object[k] = v
	}
	return u
}

// createObjects creates objects in namespace, failing the test on any error.
func (c *cluster) createObjects(t *testing.T, namespace string, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	for _, u := range objs {
		u = u.DeepCopy()
		u.SetNamespace(namespace)
		ri, err := c.resource(u)
		if err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// checkMountedKeys checks that every Secret and ConfigMap volume of a pod
// template names an object of the namespace that contains each key the
// volume projects. The kubelet would otherwise keep the pod in
// ContainerCreating, which kwok does not simulate.
func (c *cluster) checkMountedKeys(t *testing.T, namespace string, spec corev1.PodSpec) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	client := c.env.Client()
	for _, v := range spec.Volumes {
		var kind, name string
		var items []corev1.KeyToPath
		keys := map[string]bool{}
		switch {
		case v.Secret != nil:
			kind, name, items = "Secret", v.Secret.SecretName, v.Secret.Items
			s, err := client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Errorf("volume %s: get Secret %s: %v", v.Name, name, err)
				continue
			}
			for k := range s.Data {
				keys[k] = true
			}
		case v.ConfigMap != nil:
			kind, name, items = "ConfigMap", v.ConfigMap.Name, v.ConfigMap.Items
			cm, err := client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Errorf("volume %s: get ConfigMap %s: %v", v.Name, name, err)
				continue
			}
			for k := range cm.Data {
				keys[k] = true
			}
		default:
			continue
		}
		for _, item := range items {
			if !keys[item.Key] {
				t.Errorf("volume %s: %s %s has no key %s", v.Name, kind, name, item.Key)
			}
		}
	}
}

// checkInstall installs the chart, checks the objects on the server, runs the
// workloads' pods on the kwok node, upgrades and uninstalls.
func (c *cluster) checkInstall(t *testing.T, ic installCase) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	rel := "r" + randomHex(t, 3)
	fullname := rel + "-riposte"
	valuesFile := writeValues(t, ic.values)
	helmArgs := func(cmd string) []string {
		return []string{cmd, rel, chartDir, "--namespace", ic.namespace, "--kubeconfig", c.env.KubeconfigPath(), "--values", valuesFile}
	}

	if stdout, stderr, err := helm(t, helmArgs("install")...); err != nil {
		t.Fatalf("helm install: %v\n%s%s", err, stdout, stderr)
	}
	client := c.env.Client()

	role, err := client.RbacV1().ClusterRoles().Get(ctx, fullname+"-responder", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the responder's ClusterRole: %v", err)
	}
	if diff := cmp.Diff(expectedGrants(t, ic.enabled), roleGrants(t, role)); diff != "" {
		t.Errorf("installed responder ClusterRole grants (-want +got):\n%s", diff)
	}

	ds, err := client.AppsV1().DaemonSets(ic.namespace).Get(ctx, fullname+"-sensor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the sensor DaemonSet: %v", err)
	}
	deploy, err := client.AppsV1().Deployments(ic.namespace).Get(ctx, fullname+"-responder", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the responder Deployment: %v", err)
	}
	c.runTemplate(t, ic.namespace, "sensor", ds.Spec.Template)
	c.runTemplate(t, ic.namespace, "responder", deploy.Spec.Template)
	if ic.checkResponder != nil {
		ic.checkResponder(t, deploy)
		c.checkMountedKeys(t, ic.namespace, deploy.Spec.Template.Spec)
	}

	natsSecrets := map[string][]byte{}
	if ic.bundled {
		sts, err := client.AppsV1().StatefulSets(ic.namespace).Get(ctx, fullname+"-nats", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get the NATS StatefulSet: %v", err)
		}
		c.runStatefulSetPod(t, sts)
		auth, err := client.CoreV1().Secrets(ic.namespace).Get(ctx, fullname+"-nats-auth", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get the NATS auth Secret: %v", err)
		}
		natsSecrets = auth.Data
		natsSecrets["tls.crt"] = []byte(c.secretValue(t, ic.namespace, fullname+"-nats-tls", "tls.crt"))
	}

	var token string
	if ic.noToken {
		_, err := client.CoreV1().Secrets(ic.namespace).Get(ctx, fullname+"-webhook", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("get the webhook token Secret without a token returned %v, want not found", err)
		}
	} else {
		token = c.secretValue(t, ic.namespace, fullname+"-webhook", "token")
		if len(token) != 32 {
			t.Errorf("installed webhook token has %d bytes, want 32", len(token))
		}
	}

	if stdout, stderr, err := helm(t, helmArgs("upgrade")...); err != nil {
		t.Fatalf("helm upgrade: %v\n%s%s", err, stdout, stderr)
	}
	if !ic.noToken && c.secretValue(t, ic.namespace, fullname+"-webhook", "token") != token {
		t.Error("helm upgrade changed the generated webhook token")
	}
	if ic.bundled {
		for _, key := range []string{"sensor-password", "responder-password", "route-password"} {
			if got := c.secretValue(t, ic.namespace, fullname+"-nats-auth", key); got != string(natsSecrets[key]) {
				t.Errorf("helm upgrade changed the NATS %s", key)
			}
		}
		if got := c.secretValue(t, ic.namespace, fullname+"-nats-tls", "tls.crt"); got != string(natsSecrets["tls.crt"]) {
			t.Error("helm upgrade changed the NATS server certificate")
		}
	}

	if stdout, stderr, err := helm(t, "uninstall", rel, "--namespace", ic.namespace, "--kubeconfig", c.env.KubeconfigPath()); err != nil {
		t.Fatalf("helm uninstall: %v\n%s%s", err, stdout, stderr)
	}
	if _, err := client.RbacV1().ClusterRoles().Get(ctx, fullname+"-responder", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the responder's ClusterRole outlived helm uninstall: get returned %v", err)
	}
}

// runTemplate creates a pod from a workload's pod template on the kwok node,
// as the workload's controller would, and waits until kwok reports it
// Running. The control plane runs no controllers, so nothing else creates
// the pods.
func (c *cluster) runTemplate(t *testing.T, namespace, name string, tmpl corev1.PodTemplateSpec) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-" + randomHex(t, 3), Namespace: namespace, Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = k8stest.KwokNode
	running := c.env.RunPod(t, pod)
	if running.Status.Phase != corev1.PodRunning {
		t.Errorf("pod %s is %s, want Running", running.Name, running.Status.Phase)
	}
	return running
}

// runStatefulSetPod creates the first pod of a StatefulSet and its
// PersistentVolumeClaims, as the StatefulSet controller would.
func (c *cluster) runStatefulSetPod(t *testing.T, sts *appsv1.StatefulSet) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	podName := sts.Name + "-0"
	tmpl := sts.Spec.Template.DeepCopy()
	for _, claim := range sts.Spec.VolumeClaimTemplates {
		pvc := claim.DeepCopy()
		pvc.Name = claim.Name + "-" + podName
		pvc.Namespace = sts.Namespace
		if _, err := c.env.Client().CoreV1().PersistentVolumeClaims(sts.Namespace).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create PersistentVolumeClaim %s: %v", pvc.Name, err)
		}
		tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{
			Name:         claim.Name,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name}},
		})
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: sts.Namespace, Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec:       tmpl.Spec,
	}
	pod.Spec.Hostname = podName
	pod.Spec.Subdomain = sts.Spec.ServiceName
	pod.Spec.NodeName = k8stest.KwokNode
	c.env.RunPod(t, pod)
}

func (c *cluster) secretValue(t *testing.T, namespace, name, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	s, err := c.env.Client().CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Secret %s: %v", name, err)
	}
	v, ok := s.Data[key]
	if !ok {
		t.Fatalf("Secret %s has no key %s", name, key)
	}
	return string(v)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func schemaGVR(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

func schemaGK(group, kind string) schema.GroupKind {
	return schema.GroupKind{Group: group, Kind: kind}
}
