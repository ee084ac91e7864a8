# Kills a program that was executed from memory or from a world-writable
# directory: such a program is the payload of a dropper, and a legitimate one
# is rare enough to allow-list by name. On the host, a program run from /tmp or
# /var/tmp is only recorded, because build tools and test runners (go test,
# pip) run their own binaries from there.
package riposte.policies.kill_malicious_exec

kill_rules := {
	# Riposte's default rules.
	"Program executed from a world-writable directory",
	"Program executed from memory (memfd)",
	# Falco's stable rules.
	"Execution from /dev/shm",
	"Drop and execute new binary in container",
	"Fileless execution via memfd_create",
	"Detect release_agent File Container Escapes",
}

# Program names that may run from /tmp or memory, such as installers and
# container runtimes that re-execute themselves from a memfd.
allowed_programs := {"runc", "crun", "containerd-shim", "nvidia-container-runtime"}

actions contains {
	"actionner": "process:kill",
	"target": {"kind": "process", "pid": pid},
	"parameters": {"signal": "SIGKILL"},
	"reason": sprintf("rule %q matched program %v (pid %v)", [input.alert.rule, object.get(input.alert.output_fields, "proc.exepath", "unknown"), pid]),
} if {
	input.alert.rule in kill_rules
	not host_world_writable
	not input.alert.output_fields["proc.name"] in allowed_programs
	pid := input.alert.output_fields["proc.pid"]
	is_number(pid)
}

# A host program run from /tmp or /var/tmp, or from an unknown path, is only
# recorded; one run from /dev/shm or another world-writable directory is
# killed on the host too.
host_world_writable if {
	input.alert.rule == "Program executed from a world-writable directory"
	object.get(input.alert.output_fields, "container.id", "host") in {"host", ""}
	not outside_temp_dirs
}

outside_temp_dirs if {
	path := input.alert.output_fields["proc.exepath"]
	is_string(path)
	path != ""
	not startswith(path, "/tmp/")
	not startswith(path, "/var/tmp/")
}
