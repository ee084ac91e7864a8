package riposte.policies.kill_malicious_exec_test

import data.riposte.policies.kill_malicious_exec

memfd_alert := {
	"uuid": "6f1d2c1e-0000-4000-8000-000000000002",
	"rule": "Program executed from memory (memfd)",
	"priority": "Critical",
	"tags": ["process"],
	"output_fields": {"container.id": "host", "proc.pid": 777, "proc.name": "3", "proc.exepath": "/memfd:payload (deleted)"},
}

test_memfd_program_killed_on_host if {
	actions := kill_malicious_exec.actions with input as {"alert": memfd_alert}
	count(actions) == 1
	some a in actions
	a.actionner == "process:kill"
	a.target == {"kind": "process", "pid": 777}
	contains(a.reason, "/memfd:payload")
}

test_upstream_dev_shm_rule_killed if {
	shm := json.patch(memfd_alert, [{"op": "replace", "path": "/rule", "value": "Execution from /dev/shm"}])
	count(kill_malicious_exec.actions) == 1 with input as {"alert": shm}
}

test_allowed_runtime_not_killed if {
	runc := json.patch(memfd_alert, [{"op": "replace", "path": "/output_fields/proc.name", "value": "runc"}])
	count(kill_malicious_exec.actions) == 0 with input as {"alert": runc}
}

test_reason_without_exepath if {
	bare := json.remove(memfd_alert, ["/output_fields/proc.exepath"])
	some a in kill_malicious_exec.actions with input as {"alert": bare}
	contains(a.reason, "program unknown")
}

test_unrelated_rule_ignored if {
	other := json.patch(memfd_alert, [{"op": "replace", "path": "/rule", "value": "Read sensitive file untrusted"}])
	count(kill_malicious_exec.actions) == 0 with input as {"alert": other}
}

test_world_writable_on_host_only_recorded if {
	tmp := json.patch(memfd_alert, [
		{"op": "replace", "path": "/rule", "value": "Program executed from a world-writable directory"},
		{"op": "replace", "path": "/output_fields/proc.exepath", "value": "/tmp/go-build123/b001/pkg.test"},
	])
	count(kill_malicious_exec.actions) == 0 with input as {"alert": tmp}
}

test_world_writable_unknown_path_on_host_only_recorded if {
	bare := json.remove(memfd_alert, ["/output_fields/proc.exepath"])
	tmp := json.patch(bare, [{"op": "replace", "path": "/rule", "value": "Program executed from a world-writable directory"}])
	count(kill_malicious_exec.actions) == 0 with input as {"alert": tmp}
}

test_dev_shm_on_host_killed if {
	shm := json.patch(memfd_alert, [
		{"op": "replace", "path": "/rule", "value": "Program executed from a world-writable directory"},
		{"op": "replace", "path": "/output_fields/proc.exepath", "value": "/dev/shm/x"},
	])
	count(kill_malicious_exec.actions) == 1 with input as {"alert": shm}
}

test_world_writable_in_container_killed if {
	tmp := json.patch(memfd_alert, [
		{"op": "replace", "path": "/rule", "value": "Program executed from a world-writable directory"},
		{"op": "replace", "path": "/output_fields/container.id", "value": "3ad7c5f1e8b2"},
	])
	count(kill_malicious_exec.actions) == 1 with input as {"alert": tmp}
}
