package riposte.policies.isolate_container_shell_test

import data.riposte.policies.isolate_container_shell

pod_alert := {
	"uuid": "6f1d2c1e-0000-4000-8000-000000000002",
	"rule": "Shell spawned in a container",
	"priority": "Warning",
	"tags": ["container", "shell"],
	"output_fields": {
		"container.id": "0123456789ab",
		"k8s.ns.name": "shop",
		"k8s.pod.name": "cart-7d9f",
		"proc.pid": 4242,
		"proc.name": "sh",
	},
}

test_shell_in_pod_is_labelled_and_isolated if {
	actions := isolate_container_shell.actions with input as {"alert": pod_alert}
	count(actions) == 2
	some label in actions
	label.actionner == "kubernetes:label"
	label.target == {"kind": "pod", "namespace": "shop", "name": "cart-7d9f"}
	label.parameters == {"labels": {"riposte.dev/compromised": "true"}}
	some isolate in actions
	isolate.actionner == "kubernetes:isolate"
	isolate.target == {"kind": "pod", "namespace": "shop", "name": "cart-7d9f"}
}

test_container_without_pod_is_not_isolated if {
	no_pod := json.patch(pod_alert, [
		{"op": "replace", "path": "/output_fields/k8s.ns.name", "value": null},
		{"op": "replace", "path": "/output_fields/k8s.pod.name", "value": null},
	])
	count(isolate_container_shell.actions) == 0 with input as {"alert": no_pod}
}

test_missing_pod_name_gives_no_action if {
	no_name := json.patch(pod_alert, [{"op": "remove", "path": "/output_fields/k8s.pod.name"}])
	count(isolate_container_shell.actions) == 0 with input as {"alert": no_name}
}

test_text_placeholder_is_not_a_pod if {
	na := json.patch(pod_alert, [{"op": "replace", "path": "/output_fields/k8s.ns.name", "value": "<NA>"}])
	count(isolate_container_shell.actions) == 0 with input as {"alert": na}
}

test_other_rule_is_ignored if {
	other := json.patch(pod_alert, [{"op": "replace", "path": "/rule", "value": "Read sensitive file untrusted"}])
	count(isolate_container_shell.actions) == 0 with input as {"alert": other}
}

test_isolate_tag_opts_in if {
	tagged := json.patch(pod_alert, [
		{"op": "replace", "path": "/rule", "value": "Drop and execute new binary in container"},
		{"op": "add", "path": "/tags/-", "value": "riposte_isolate"},
	])
	count(isolate_container_shell.actions) == 2 with input as {"alert": tagged}
}
