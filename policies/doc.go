// Package policies loads the Rego policies that choose the responder's
// actions and evaluates them.
//
// Every .rego file is compiled once, with the OPA v1 Go API, into one
// prepared query that collects the actions rule of every package under
// riposte.policies:
//
//	package riposte.policies.kill_container_shell
//
//	actions contains {
//		"actionner": "process:kill",
//		"target": {"kind": "process", "pid": input.alert.output_fields["proc.pid"]},
//		"parameters": {"signal": "SIGKILL"},
//		"reason": "shell in a container",
//	} if input.alert.rule == "Shell spawned in a container"
//
// The input is the alert in Falco's JSON alert format with its Kubernetes
// context and the node ([Input]). A [Set] is safe for concurrent use. Default
// policies ship embedded and a directory of policies can replace them. The
// README next to this file documents the input and action documents.
package policies
