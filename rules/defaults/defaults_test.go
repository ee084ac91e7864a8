package defaults_test

import (
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/defaults"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

func load(t *testing.T, opts rules.Options) *rules.Engine {
	t.Helper()
	eng, res, err := rules.Load(opts, defaults.File())
	if err != nil {
		t.Fatalf("load default rules: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("default rules warning: %s", w)
	}
	return eng
}

func TestDefaultRulesLoad(t *testing.T) {
	eng := load(t, rules.Options{})
	for _, name := range []string{defaults.ShellSpawnedByNonShell, defaults.ShellInContainer, defaults.ExecFromWorldWritable, defaults.ExecFromMemfd} {
		r := eng.Rule(name)
		if r == nil {
			t.Errorf("rule %q missing", name)
			continue
		}
		if !r.Enabled {
			t.Errorf("rule %q disabled", name)
		}
		if got := strings.Join(r.EventTypes.Names(), ","); got != "execve,execveat" {
			t.Errorf("rule %q event types = %s, want execve,execveat", name, got)
		}
	}
	want := evttype.NewSet(evttype.Execve, evttype.Execveat)
	if got := eng.EventTypes(); got != want {
		t.Errorf("event types = %v, want execve and execveat", got.Names())
	}
}

// exec returns an execve event of a process started in a container or on
// the host (containerID "host").
func exec(name, exepath, pname, containerID string) *rulestest.Event {
	return rulestest.New("execve",
		"proc.name", name, "proc.exepath", exepath, "proc.exe", exepath, "proc.pname", pname,
		"proc.cmdline", name+" -c id", "proc.pcmdline", pname, "proc.pid", 4242, "proc.tty", 0,
		"user.name", "root", "user.uid", 0, "container.id", containerID, "evt.rawres", 0,
	)
}

func TestDefaultRulesMatch(t *testing.T) {
	eng := load(t, rules.Options{Matching: rules.MatchAll})
	tests := []struct {
		name string
		ev   *rulestest.Event
		want []string
	}{
		{"shell in container from runc", exec("sh", "/bin/sh", "runc", "3ad7c5f1e8b2"),
			[]string{defaults.ShellInContainer, defaults.ShellSpawnedByNonShell}},
		{"shell in container from bash", exec("sh", "/bin/sh", "bash", "3ad7c5f1e8b2"), []string{defaults.ShellInContainer}},
		{"shell from nginx on the host", exec("bash", "/usr/bin/bash", "nginx", "host"), []string{defaults.ShellSpawnedByNonShell}},
		{"shell from sshd", exec("bash", "/usr/bin/bash", "sshd", "host"), nil},
		{"shell from a shell", exec("sh", "/usr/bin/sh", "bash", "host"), nil},
		// A script's process is named after the script; its argv[0] and
		// executable are those of the shell of its #! line.
		{"shell from a shell script", exec("sh", "/usr/bin/dash", "deploy.sh", "host").
			Set("proc.pexe", "/bin/sh").Set("proc.pexepath", "/usr/bin/dash"), nil},
		{"shell from a busybox shell script", exec("sh", "/bin/busybox", "deploy.sh", "host").
			Set("proc.pexe", "/bin/sh").Set("proc.pexepath", "/bin/busybox"), nil},
		{"shell from a program named sh in argv", exec("sh", "/usr/bin/dash", "payload", "host").
			Set("proc.pexe", "sh").Set("proc.pexepath", "/var/tmp/payload"), []string{defaults.ShellSpawnedByNonShell}},
		{"shell from a busybox applet", exec("sh", "/bin/busybox", "httpd", "host").
			Set("proc.pexe", "httpd").Set("proc.pexepath", "/bin/busybox"), []string{defaults.ShellSpawnedByNonShell}},
		{"shell from a python script", exec("sh", "/usr/bin/dash", "backup.py", "host").
			Set("proc.pexe", "/usr/bin/python3").Set("proc.pexepath", "/usr/bin/python3.11"), []string{defaults.ShellSpawnedByNonShell}},
		// env started for "#!/usr/bin/env bash" becomes the script's shell.
		{"shell from env for a script", exec("bash", "/usr/bin/bash", "python3", "host").
			Set("proc.is_env_shebang", true), nil},
		{"shell from env run directly", exec("bash", "/usr/bin/bash", "python3", "host").
			Set("proc.is_env_shebang", false), []string{defaults.ShellSpawnedByNonShell}},
		{"program from /tmp", exec("xmrig", "/tmp/.x/xmrig", "curl", "host"), []string{defaults.ExecFromWorldWritable}},
		{"program from /dev/shm", exec("payload", "/dev/shm/payload", "bash", "host"), []string{defaults.ExecFromWorldWritable}},
		{"program from /tmpfoo", exec("tool", "/tmpfoo/tool", "bash", "host"), nil},
		{"ordinary program", exec("ls", "/usr/bin/ls", "bash", "host"), nil},
		{"memfd exec", exec("x", "memfd:x (deleted)", "python3", "host"), []string{defaults.ExecFromMemfd}},
		{"memfd flag", exec("x", "/usr/bin/x", "python3", "host").Set("proc.is_exe_from_memfd", true), []string{defaults.ExecFromMemfd}},
		{"failed exec", exec("sh", "/bin/sh", "runc", "3ad7c5f1e8b2").Set("evt.rawres", -2), nil},
		{"container unknown", exec("sh", "/bin/sh", "bash", "").Set("container.id", nil), nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range eng.Match(tt.ev, nil) {
			got = append(got, r.Name)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: matched %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDefaultRulesFirstMatch(t *testing.T) {
	eng := load(t, rules.Options{})
	m := eng.Match(exec("sh", "/bin/sh", "runc", "3ad7c5f1e8b2"), nil)
	if len(m) != 1 || m[0].Name != defaults.ShellInContainer {
		t.Fatalf("first match = %v, want %q", m, defaults.ShellInContainer)
	}
	ev := exec("sh", "/bin/sh", "runc", "3ad7c5f1e8b2")
	out := m[0].Render(ev)
	for _, want := range []string{"container_id=3ad7c5f1e8b2", "parent=runc", "command=sh -c id", "k8s_pod=<NA>"} {
		if !strings.Contains(out.Message, want) {
			t.Errorf("output %q lacks %q", out.Message, want)
		}
	}
	if out.Fields["container.id"] != "3ad7c5f1e8b2" || out.Fields["proc.pname"] != "runc" || out.Fields["k8s.pod.name"] != nil {
		t.Errorf("output fields = %v", out.Fields)
	}
}

func TestDefaultRulesWithUpstream(t *testing.T) {
	// The riposte_ prefix keeps the default lists and macros apart from
	// upstream ones of the same purpose.
	upstream := rules.File{Name: "user.yaml", Content: []byte(`
- list: shell_binaries
  items: [bash]
- macro: spawned_process
  condition: evt.type = execve
- list: riposte_shell_launchers
  items: [nginx]
  override:
    items: append
`)}
	eng, _, err := rules.Load(rules.Options{}, defaults.File(), upstream)
	if err != nil {
		t.Fatal(err)
	}
	if m := eng.Match(exec("bash", "/usr/bin/bash", "nginx", "host"), nil); len(m) != 0 {
		t.Errorf("appending nginx to the launchers did not silence the rule: %v", m[0].Name)
	}
}
