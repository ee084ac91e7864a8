# Labels and isolates the pod behind an alert about a shell in a container,
# when the alert names the pod (the sensor found it in the pod metadata of
# its node). The label marks the pod for people and tools, such as a
# NetworkPolicy or an admission rule of your own, and the isolation denies
# all its ingress and egress. A new NetworkPolicy does not cut connections
# that are already established on most CNIs, so the kill policy still
# answers the same alert by killing the shell. Add a rule name to
# isolate_rules, or the tag riposte_isolate to a rule, to answer more
# alerts this way.
package riposte.policies.isolate_container_shell

# Rules whose alerts are answered by labelling and isolating the pod.
isolate_rules := {
	# Riposte's default rules.
	"Shell spawned in a container",
	# Falco's stable rules.
	"Terminal shell in container",
}

# Any rule carrying this tag is answered the same way.
isolate_tag := "riposte_isolate"

# The label put on the pod.
compromised_label := "riposte.dev/compromised"

matches if input.alert.rule in isolate_rules

matches if isolate_tag in input.alert.tags

# Falco writes null for a field it has no value for; "<NA>" comes from
# outputs rendered as text.
known(value) if {
	is_string(value)
	not value in {"", "<NA>"}
}

pod := {"kind": "pod", "namespace": ns, "name": name} if {
	ns := input.alert.output_fields["k8s.ns.name"]
	name := input.alert.output_fields["k8s.pod.name"]
	known(ns)
	known(name)
}

actions contains {
	"actionner": "kubernetes:label",
	"target": pod,
	"parameters": {"labels": {"riposte.dev/compromised": "true"}},
	"reason": sprintf("rule %q matched a shell in pod %s/%s", [input.alert.rule, pod.namespace, pod.name]),
} if matches

actions contains {
	"actionner": "kubernetes:isolate",
	"target": pod,
	"reason": sprintf("rule %q matched a shell in pod %s/%s", [input.alert.rule, pod.namespace, pod.name]),
} if matches
