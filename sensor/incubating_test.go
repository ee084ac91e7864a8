package sensor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/sensor/extract"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// incubatingSensor runs a sensor with Falco's stable and incubating rules
// from RIPOSTE_TEST_CORPUS, after checking that rule is loaded and enabled,
// and returns its alerts.
func incubatingSensor(t *testing.T, rule string) <-chan ruleAlert {
	t.Helper()
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	sensortest.RequireRoot(t)
	eng, _, err := rules.LoadFiles(rules.Options{Matching: rules.MatchFirst},
		filepath.Join(dir, "falco_rules.yaml"), filepath.Join(dir, "falco-incubating_rules.yaml"))
	if err != nil {
		t.Fatalf("load stable and incubating rules: %v", err)
	}
	if r := eng.Rule(rule); r == nil || !r.Enabled {
		t.Fatalf("rule %q is missing or disabled", rule)
	}
	return runRuleSensor(t, eng, extract.New("test-node", extract.NewUsers("/proc")))
}

// TestIncubatingRuleSetuidBit sets the setuid bit with chmod(1) and the
// setgid bit with fchmod(2) on files of a temporary directory, and expects
// Falco's incubating rule "Set Setuid or Setgid bit" to fire for both, with
// the mode printed as Falco prints it.
func TestIncubatingRuleSetuidBit(t *testing.T) {
	const rule = "Set Setuid or Setgid bit"
	alerts := incubatingSensor(t, rule)
	tmp := t.TempDir()

	t.Run("chmod u+s", func(t *testing.T) {
		file := filepath.Join(tmp, "setuid-tool")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("chmod", "u+s", file).CombinedOutput(); err != nil {
			t.Fatalf("chmod u+s: %v: %s", err, out)
		}
		a := waitRule(t, alerts, rule, "filename="+file+" ")
		want := "mode=S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR|S_ISUID "
		if !strings.Contains(a.Output, want) {
			t.Errorf("output %q lacks %q", a.Output, want)
		}
	})

	t.Run("fchmod 02755", func(t *testing.T) {
		file := filepath.Join(tmp, "setgid-tool")
		if err := helperCmd("fchmod-setgid", file).Run(); err != nil {
			t.Fatal(err)
		}
		a := waitRule(t, alerts, rule, "mode=S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISGID ")
		if !strings.Contains(a.Output, "evt_type=fchmod ") {
			t.Errorf("output %q lacks evt_type=fchmod", a.Output)
		}
	})
}

// TestIncubatingRuleNonSudoSetuid runs a child that becomes nobody and
// calls setuid(65534), then setuid(0). Falco's incubating rule "Non sudo
// setuid" excepts nobody becoming nobody by comparing evt.arg.uid with the
// user name, so only the second call may fire it, with arg_uid=root.
func TestIncubatingRuleNonSudoSetuid(t *testing.T) {
	const rule = "Non sudo setuid"
	alerts := incubatingSensor(t, rule)

	if out, err := helperCmd("setuid-as-nobody", "").CombinedOutput(); err != nil {
		t.Fatalf("helper setuid-as-nobody: %v: %s", err, out)
	}
	var outputs []string
	deadline := time.After(waitTimeout)
	for control := false; !control; {
		select {
		case a := <-alerts:
			if !a.ours || a.Rule != rule {
				continue
			}
			outputs = append(outputs, a.Output)
			control = strings.Contains(a.Output, "arg_uid=root ")
		case <-deadline:
			t.Fatalf("no %q alert with arg_uid=root for setuid(0) within %v; alerts of the rule: %q", rule, waitTimeout, outputs)
		}
	}
	for _, out := range outputs {
		if !strings.Contains(out, "user=nobody ") {
			t.Errorf("output %q lacks user=nobody", out)
		}
		if strings.Contains(out, "arg_uid=nobody ") || strings.Contains(out, "arg_uid=65534 ") {
			t.Errorf("setuid(65534) by nobody fired %q: %s", rule, out)
		}
	}
}
