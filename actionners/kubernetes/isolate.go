package kubernetes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/riposte-sec/riposte/actionners"
)

// QuarantineLabel is the label that kubernetes:isolate puts on the pod and on
// its NetworkPolicy. Its value is the pod's UID, so that the policy selects
// that pod alone, never a sibling with the same labels.
const QuarantineLabel = "riposte.dev/quarantine"

// isolationPolicyPrefix starts the name of every isolation NetworkPolicy.
const isolationPolicyPrefix = "riposte-isolate-"

// dnsNamespace is the namespace that isolate allows DNS traffic to when
// allow_dns is set. The cluster DNS service runs there in kubeadm, EKS, GKE
// and AKS clusters.
const dnsNamespace = "kube-system"

// Isolate is kubernetes:isolate: it cuts the pod's network with a
// NetworkPolicy that denies all ingress and egress.
type Isolate struct{ base }

type isolateConfig struct {
	allowDNS        bool
	allowCIDRs      []netip.Prefix
	allowNamespaces []string
}

func (a *Isolate) parse(values map[string]any) (isolateConfig, error) {
	p := newParams(a.name, values)
	cfg := isolateConfig{
		allowDNS:        p.bool(false, "allow_dns"),
		allowCIDRs:      p.cidrs("allow_cidr", "allow"),
		allowNamespaces: p.strings("allow_namespaces"),
	}
	for _, ns := range cfg.allowNamespaces {
		for _, msg := range validation.IsDNS1123Label(ns) {
			p.fail("allow_namespaces", "invalid namespace %q: %s", ns, msg)
		}
	}
	return cfg, p.err()
}

// Validate checks the parameters.
func (a *Isolate) Validate(values map[string]any) error {
	_, err := a.parse(values)
	return err
}

// Describe documents the parameters.
func (a *Isolate) Describe() (string, map[string]string) {
	return "Deny all ingress and egress traffic of the pod with a NetworkPolicy that selects it alone, by a quarantine label.", map[string]string{
		"allow_dns":        "allow DNS queries (UDP and TCP port 53) to pods in kube-system (default false)",
		"allow_cidr":       "list of CIDRs, such as 10.0.0.0/8, the pod may still exchange traffic with; Talon's older name allow is accepted",
		"allow_namespaces": "list of namespaces whose pods the pod may still exchange traffic with",
	}
}

// Permissions lists the RBAC rules the actionner needs, including those of
// Release.
func (a *Isolate) Permissions() []actionners.Permission {
	return []actionners.Permission{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "patch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"get", "create", "update", "delete"}},
		eventPermission,
	}
}

// IsolationPolicyName returns the name of the NetworkPolicy that isolates the
// pod: the prefix and the pod name, or a hash of the name when it is too long.
func IsolationPolicyName(pod string) string {
	name := isolationPolicyPrefix + pod
	if len(name) <= validation.DNS1123SubdomainMaxLength {
		return name
	}
	sum := sha256.Sum256([]byte(pod))
	return isolationPolicyPrefix + hex.EncodeToString(sum[:16])
}

// Run creates or updates the isolation NetworkPolicy, then adds the
// quarantine label to the pod, so that the policy applies the moment the pod
// carries the label.
func (a *Isolate) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	cfg, err := a.parse(req.Action.Parameters)
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
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
	if pod.Spec.HostNetwork {
		return r.finish(ctx, rejected("pod %s/%s uses the host network, which NetworkPolicies do not cover", pod.Namespace, pod.Name), nil)
	}

	policy := isolationPolicy(pod, cfg)
	if err := a.applyPolicy(ctx, policy); err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	// A merge patch adds the label without replacing other labels, and the
	// UID in it makes the server reject the patch if a new pod took the name.
	patch := fmt.Sprintf(`{"metadata":{"uid":%q,"labels":{%q:%q}}}`, pod.UID, QuarantineLabel, pod.UID)
	err = a.client.retry(ctx, "label pod", func(ctx context.Context) error {
		_, err := a.client.Kubernetes.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return r.finish(ctx, skipped("pod %s/%s was deleted before it could be labelled; NetworkPolicy %s remains and selects nothing",
			pod.Namespace, pod.Name, policy.Name), nil)
	}
	if err != nil {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("add label %s to pod %s/%s: %w", QuarantineLabel, pod.Namespace, pod.Name, err))
	}

	res := succeeded("isolated pod %s/%s with NetworkPolicy %s (%s). Connections established before the policy may survive on CNIs that enforce policies on new connections only; chain kubernetes:terminate to end them",
		pod.Namespace, pod.Name, policy.Name, describeAllowed(cfg))
	res.Output = map[string]any{
		"network_policy": policy.Name,
		"label":          QuarantineLabel + "=" + string(pod.UID),
	}
	return r.finish(ctx, res, nil)
}

func describeAllowed(cfg isolateConfig) string {
	var allowed []string
	if cfg.allowDNS {
		allowed = append(allowed, "DNS to "+dnsNamespace)
	}
	for _, c := range cfg.allowCIDRs {
		allowed = append(allowed, c.String())
	}
	for _, ns := range cfg.allowNamespaces {
		allowed = append(allowed, "namespace "+ns)
	}
	if len(allowed) == 0 {
		return "all ingress and egress denied"
	}
	return "all ingress and egress denied except " + strings.Join(allowed, ", ")
}

// isolationPolicy builds the NetworkPolicy for the pod. The pod owns it, so
// that the garbage collector removes it with the pod.
func isolationPolicy(pod *corev1.Pod, cfg isolateConfig) *networkingv1.NetworkPolicy {
	var peers []networkingv1.NetworkPolicyPeer
	for _, c := range cfg.allowCIDRs {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c.String()}})
	}
	for _, ns := range cfg.allowNamespaces {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{corev1.LabelMetadataName: ns},
		}})
	}
	var ingress []networkingv1.NetworkPolicyIngressRule
	var egress []networkingv1.NetworkPolicyEgressRule
	if len(peers) > 0 {
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: peers})
		egress = append(egress, networkingv1.NetworkPolicyEgressRule{To: peers})
	}
	if cfg.allowDNS {
		udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
		port := intstr.FromInt32(53)
		egress = append(egress, networkingv1.NetworkPolicyEgressRule{
			To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{corev1.LabelMetadataName: dnsNamespace},
			}}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &port}, {Protocol: &tcp, Port: &port}},
		})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{
			Name:      IsolationPolicyName(pod.Name),
			Namespace: pod.Namespace,
			Labels:    map[string]string{QuarantineLabel: string(pod.UID), "app.kubernetes.io/managed-by": "riposte"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID,
			}},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{QuarantineLabel: string(pod.UID)}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     ingress,
			Egress:      egress,
		},
	}
}

// applyPolicy creates the policy, or replaces the spec of an existing one of
// the same name, such as from an earlier isolation of the pod.
func (a *Isolate) applyPolicy(ctx context.Context, policy *networkingv1.NetworkPolicy) error {
	policies := a.client.Kubernetes.NetworkingV1().NetworkPolicies(policy.Namespace)
	err := a.client.retry(ctx, "apply network policy", func(ctx context.Context) error {
		_, err := policies.Create(ctx, policy, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		existing, err := policies.Get(ctx, policy.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !managedByRiposte(existing.Labels) {
			return fmt.Errorf("%w: NetworkPolicy %s/%s exists and Riposte did not create it: rename or delete it so that Riposte can isolate the pod", errNotManaged, existing.Namespace, existing.Name)
		}
		existing.Labels = policy.Labels
		existing.OwnerReferences = policy.OwnerReferences
		existing.Spec = policy.Spec
		_, err = policies.Update(ctx, existing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("apply NetworkPolicy %s/%s: %w", policy.Namespace, policy.Name, err)
	}
	return nil
}

// Release undoes kubernetes:isolate for a pod: it deletes the isolation
// NetworkPolicy and removes the quarantine label. Either may already be gone;
// releasing a pod that was never isolated succeeds with a message saying so.
func Release(ctx context.Context, c *Client, namespace, pod string) (actionners.Result, error) {
	r := &run{client: c, actionner: "riposte:release", start: time.Now()}
	if c == nil || c.Kubernetes == nil {
		return r.finish(ctx, actionners.Result{}, errNoClient)
	}
	name := IsolationPolicyName(pod)
	var changed []string
	err := c.retry(ctx, "delete network policy", func(ctx context.Context) error {
		policies := c.Kubernetes.NetworkingV1().NetworkPolicies(namespace)
		existing, err := policies.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !managedByRiposte(existing.Labels) {
			return fmt.Errorf("%w: NetworkPolicy %s/%s was not created by Riposte, so release leaves it", errNotManaged, namespace, name)
		}
		return policies.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &existing.UID}})
	})
	switch {
	case err == nil:
		changed = append(changed, "deleted NetworkPolicy "+name)
	case !apierrors.IsNotFound(err):
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("release pod %s/%s: delete NetworkPolicy %s: %w", namespace, pod, name, err))
	}

	err = c.retry(ctx, "remove quarantine label", func(ctx context.Context) error {
		current, err := c.Kubernetes.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		r.object = podRef(current)
		if _, ok := current.Labels[QuarantineLabel]; !ok {
			return nil
		}
		patch := fmt.Sprintf(`[{"op":"remove","path":"/metadata/labels/%s"}]`, jsonPointerEscaper.Replace(QuarantineLabel))
		_, err = c.Kubernetes.CoreV1().Pods(namespace).Patch(ctx, pod, types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
		if err == nil {
			changed = append(changed, "removed label "+QuarantineLabel)
		}
		return err
	})
	if apierrors.IsNotFound(err) && len(changed) == 0 {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("release pod %s/%s: %w: check the name and the namespace", namespace, pod, err))
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("release pod %s/%s: remove label %s: %w", namespace, pod, QuarantineLabel, err))
	}
	if len(changed) == 0 {
		return r.finish(ctx, skipped("pod %s/%s was not isolated", namespace, pod), nil)
	}
	return r.finish(ctx, succeeded("released pod %s/%s: %s", namespace, pod, strings.Join(changed, ", ")), nil)
}

// errNotManaged marks a NetworkPolicy of the isolation name that Riposte did
// not create, which it neither changes nor deletes.
var errNotManaged = errors.New("not managed by Riposte")

// managedByRiposte reports whether an object carries the label that Riposte
// puts on the objects it creates.
func managedByRiposte(labels map[string]string) bool {
	return labels["app.kubernetes.io/managed-by"] == "riposte"
}
