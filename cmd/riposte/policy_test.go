package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/transport"
)

const kubeSystemShell = `{"hostname":"node-7","output":"x","priority":"Warning","rule":"Shell spawned in a container","source":"syscall","tags":["container"],"time":"2026-12-04T17:20:42.123456789Z","output_fields":{"container.id":"0123456789ab","proc.pid":4242,"proc.name":"sh","k8s.ns.name":"kube-system","k8s.pod.name":"coredns-1"}}`

func TestPolicyEvalPrintsGuardedDecision(t *testing.T) {
	file := writeFile(t, "alert.json", kubeSystemShell)
	out, err := runCommand(t, "policy", "eval", "--alert", file, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Rule    string `json:"rule"`
		Actions []struct {
			Actionner string `json:"actionner"`
			Guards    []struct {
				Guard string `json:"guard"`
			} `json:"guards"`
			Result struct {
				Outcome string `json:"outcome"`
			} `json:"result"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("decode decision: %v\n%s", err, out)
	}
	if len(d.Actions) == 0 {
		t.Fatalf("no action chosen: %s", out)
	}
	var guards []string
	for _, g := range d.Actions[0].Guards {
		guards = append(guards, g.Guard)
	}
	if !strings.Contains(strings.Join(guards, ","), "protected-namespace") {
		t.Errorf("guards = %v, want the protected-namespace guard for a kube-system pod", guards)
	}
	if d.Actions[0].Result.Outcome == "succeeded" {
		t.Error("policy eval ran an action")
	}
}

func TestPolicyEvalRejectsBadAlert(t *testing.T) {
	file := writeFile(t, "alert.json", `{"rule": "x"`)
	_, err := runCommand(t, "policy", "eval", "--alert", file)
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("err = %v, want an error naming %s", err, file)
	}
}

func TestPolicyTestDefaultsPass(t *testing.T) {
	out, err := runCommand(t, "policy", "test")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, " 0 failed") {
		t.Errorf("output lacks the summary:\n%s", out)
	}
}

func TestPolicyTestReportsFailure(t *testing.T) {
	dir := t.TempDir()
	policy := "package riposte.policies.p\n\nactions contains {\"actionner\": \"process:kill\", \"target\": {\"kind\": \"process\", \"pid\": 1}} if input.alert.rule == \"x\"\n"
	test := "package riposte.policies.p_test\n\nimport data.riposte.policies.p\n\ntest_always_fails if {\n\tcount(p.actions) == 1 with input as {\"alert\": {\"rule\": \"y\"}}\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.rego"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.rego"), []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, "policy", "test", dir)
	exit, ok := err.(*exitError)
	if !ok || exit.code != 1 {
		t.Fatalf("err = %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(out, "FAIL") || !strings.Contains(out, "0 passed, 1 failed") {
		t.Errorf("output:\n%s", out)
	}
}

func TestPolicyTestRejectsPolicyThatDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	policy := "package riposte.policies.p\n\nactions contains {\"actionner\": \"process:kil\", \"target\": {\"kind\": \"process\", \"pid\": 1}} if input.alert.rule == \"x\"\n"
	test := "package riposte.policies.p_test\n\nimport data.riposte.policies.p\n\ntest_passes if {\n\tcount(p.actions) == 1 with input as {\"alert\": {\"rule\": \"x\"}}\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.rego"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.rego"), []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, "policy", "test", dir)
	if err == nil || !strings.Contains(err.Error(), "process:kil") || !strings.Contains(err.Error(), "do not load") {
		t.Fatalf("err = %v, want the passing tests of a policy that does not load rejected\n%s", err, out)
	}
}

func TestPolicyTestMissingDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nodir")
	_, err := runCommand(t, "policy", "test", missing)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v, want an error naming %s", err, missing)
	}
}

func TestReplayFile(t *testing.T) {
	lines := kubeSystemShell + "\n" + strings.Replace(kubeSystemShell, "kube-system", "shop", 1) + "\nnot json\n"
	file := writeFile(t, "alerts.jsonl", lines)
	out, err := runCommand(t, "replay", "--file", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.Count(out, "Shell spawned in a container"); got != 2 {
		t.Errorf("%d decisions printed, want 2:\n%s", got, out)
	}
	if !strings.Contains(out, "skipped: line 3") {
		t.Errorf("the invalid line is not reported:\n%s", out)
	}
	if !strings.Contains(out, "replayed 2 alerts (1 invalid input skipped)") {
		t.Errorf("no summary counting the skipped line:\n%s", out)
	}
}

func TestPolicyEvalReadsStandardInput(t *testing.T) {
	cmd := newRootCommand()
	cmd.SetArgs([]string{"policy", "eval", "--alert", "-"})
	cmd.SetIn(strings.NewReader(kubeSystemShell))
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Shell spawned in a container") {
		t.Errorf("no decision for the alert on standard input:\n%s", out.String())
	}
}

func TestPolicyEvalProtectedNamespacesFlag(t *testing.T) {
	file := writeFile(t, "alert.json", kubeSystemShell)
	out, err := runCommand(t, "policy", "eval", "--alert", file, "--protected-namespaces", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "protected") {
		t.Errorf("kube-system is protected although --protected-namespaces replaced the list:\n%s", out)
	}
}

func TestPolicyEvalDryRunActionner(t *testing.T) {
	shop := strings.Replace(kubeSystemShell, "kube-system", "shop", 1)
	file := writeFile(t, "alert.json", shop)
	out, err := runCommand(t, "policy", "eval", "--alert", file, "--dry-run-actionners", "process:kill", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"guard":"action-dry-run"`) {
		t.Errorf("no dry-run guard for process:kill:\n%s", out)
	}
}

func TestReplayFailsWhenNothingReplays(t *testing.T) {
	file := writeFile(t, "alerts.jsonl", "not json\n{\"also\": \"not an alert\"}\n")
	out, err := runCommand(t, "replay", "--file", file)
	if err == nil || !strings.Contains(err.Error(), "no alert replayed") {
		t.Fatalf("err = %v, want no alert replayed\n%s", err, out)
	}
	if !strings.Contains(out, "replayed 0 alerts (2 invalid inputs skipped): {}") {
		t.Errorf("summary missing or null:\n%s", out)
	}
}

// TestReplayStreamSubjectHint replays a stream through a subject filter
// that matches nothing, written with the priority in upper case, and
// expects the hint on the subject layout.
func TestReplayStreamSubjectHint(t *testing.T) {
	server, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := connectOverTCP(ctx, t, server.ClientURL(), "test")
	if _, err := transport.EnsureStreams(ctx, conn.JS, transport.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := transport.NewPublisher(conn.JS).Publish(ctx, recoveryAlert()); err != nil {
		t.Fatal(err)
	}

	out, err := runCommand(t, "replay", "--nats.url", server.ClientURL(), "--subject", "riposte.alerts.Notice.>")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "replayed 0 alerts") || !strings.Contains(out, "riposte.alerts.<priority in lower case>.<rule>") {
		t.Errorf("no hint on the subject layout:\n%s", out)
	}
	out, err = runCommand(t, "replay", "--nats.url", server.ClientURL(), "--subject", "riposte.alerts.notice.>")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "replayed 1 alert") {
		t.Errorf("the alert was not replayed with the lower-case subject:\n%s", out)
	}
}
