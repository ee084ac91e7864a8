package riposte.policies.kill_container_shell_test

import data.riposte.policies.kill_container_shell

shell_alert := {
	"uuid": "6f1d2c1e-0000-4000-8000-000000000001",
	"rule": "Shell spawned in a container",
	"priority": "Notice",
	"tags": ["container", "shell"],
	"output_fields": {"container.id": "0123456789ab", "proc.pid": 4242, "proc.name": "sh"},
}

test_shell_in_container_is_killed if {
	actions := kill_container_shell.actions with input as {"alert": shell_alert}
	count(actions) == 1
	some a in actions
	a.actionner == "process:kill"
	a.target == {"kind": "process", "pid": 4242}
	a.parameters.signal == "SIGKILL"
}

test_shell_on_host_is_not_killed if {
	host_alert := json.patch(shell_alert, [{"op": "replace", "path": "/output_fields/container.id", "value": "host"}])
	count(kill_container_shell.actions) == 0 with input as {"alert": host_alert}
}

test_missing_pid_gives_no_action if {
	no_pid := json.patch(shell_alert, [{"op": "replace", "path": "/output_fields/proc.pid", "value": null}])
	count(kill_container_shell.actions) == 0 with input as {"alert": no_pid}
}

test_other_rule_is_ignored if {
	other := json.patch(shell_alert, [{"op": "replace", "path": "/rule", "value": "Read sensitive file untrusted"}])
	count(kill_container_shell.actions) == 0 with input as {"alert": other}
}

test_kill_tag_opts_in if {
	tagged := json.patch(shell_alert, [
		{"op": "replace", "path": "/rule", "value": "Drop and execute new binary in container"},
		{"op": "add", "path": "/tags/-", "value": "riposte_kill"},
	])
	count(kill_container_shell.actions) == 1 with input as {"alert": tagged}
}

test_reverse_shell_in_container_is_killed if {
	reverse := json.patch(shell_alert, [{"op": "replace", "path": "/rule", "value": "Redirect STDOUT/STDIN to Network Connection in Container"}])
	count(kill_container_shell.actions) == 1 with input as {"alert": reverse}
}

test_shell_in_pod_is_killed_too if {
	in_pod := json.patch(shell_alert, [
		{"op": "add", "path": "/output_fields/k8s.ns.name", "value": "shop"},
		{"op": "add", "path": "/output_fields/k8s.pod.name", "value": "cart-7d9f"},
	])
	count(kill_container_shell.actions) == 1 with input as {"alert": in_pod}
}
