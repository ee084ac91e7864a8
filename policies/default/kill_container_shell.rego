# Kills the process behind an alert about a shell or a reverse shell in a
# container. Shells on the host are left alone, since administrators use
# them. Add a rule name to kill_rules, or the tag riposte_kill to a rule, to
# answer more alerts this way.
package riposte.policies.kill_container_shell

# Rules whose alerts are answered by killing the offending process.
kill_rules := {
	# Riposte's default rules.
	"Shell spawned in a container",
	"Shell spawned by a non-shell program",
	# Falco's stable rules.
	"Terminal shell in container",
	"Netcat Remote Code Execution in Container",
	"Redirect STDOUT/STDIN to Network Connection in Container",
}

# Any rule carrying this tag is answered the same way.
kill_tag := "riposte_kill"

matches if input.alert.rule in kill_rules

matches if kill_tag in input.alert.tags

# Falco writes container.id "host" for processes outside containers.
in_container if {
	id := input.alert.output_fields["container.id"]
	is_string(id)
	not id in {"", "host"}
}

actions contains {
	"actionner": "process:kill",
	"target": {"kind": "process", "pid": pid},
	"parameters": {"signal": "SIGKILL"},
	"reason": sprintf("rule %q matched process %v in container %v", [input.alert.rule, pid, input.alert.output_fields["container.id"]]),
} if {
	matches
	in_container
	pid := input.alert.output_fields["proc.pid"]
	is_number(pid)
}
