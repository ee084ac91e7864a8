package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/transport"
)

const mkdirRule = `- rule: Test directory made
  desc: a directory named riposte-reload-mkdir was made
  condition: evt.type in (mkdir, mkdirat) and evt.arg.path contains riposte-reload-mkdir
  output: directory made (path=%evt.arg.path)
  priority: NOTICE
`

const unlinkRule = `- rule: Test file removed
  desc: a file named riposte-reload-unlink was removed
  condition: evt.type in (unlink, unlinkat) and evt.arg.name contains riposte-reload-unlink
  output: file removed (name=%evt.arg.name)
  priority: NOTICE
`

// TestSensorReloadsRules runs `riposte sensor` with one rules file, replaces
// the file with a rule on another syscall, which the sensor did not capture
// before, and expects that rule to fire. A broken file then leaves it in
// force, is counted in the reload metrics and leaves /readyz ok.
func TestSensorReloadsRules(t *testing.T) {
	requireRoot(t)
	defer func(old time.Duration) { rulesWatchInterval = old }(rulesWatchInterval)
	rulesWatchInterval = 50 * time.Millisecond

	server, err := transport.StartServer(transport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yaml")
	writeRules := func(text string) {
		t.Helper()
		// Write and rename, as a ConfigMap update does, so that the sensor
		// never reads half a file.
		tmp := rulesFile + ".new"
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, rulesFile); err != nil {
			t.Fatal(err)
		}
	}
	writeRules(mkdirRule)

	v := viper.New()
	v.Set("nats.url", server.ClientURL())
	v.Set("nats.replicas", 1)
	v.Set("rules.defaults", false)
	v.Set("rules.files", []string{rulesFile})
	v.Set("rules.watch", true)
	v.Set("output", "none")
	metricsAddr := freeAddr(t)
	v.Set("metrics.addr", metricsAddr)
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runSensor(ctx, v, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sensor: %v", err)
		}
	}()

	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: server.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	alerts, err := waitForStream(ctx, t, conn.JS, transport.AlertsStream).OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	mkdir := func() {
		path := filepath.Join(work, "riposte-reload-mkdir")
		_ = os.Remove(path)
		if out, err := exec.Command("mkdir", path).CombinedOutput(); err != nil {
			t.Fatalf("mkdir: %v: %s", err, out)
		}
	}
	unlink := func() {
		path := filepath.Join(work, "riposte-reload-unlink")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("rm", path).CombinedOutput(); err != nil {
			t.Fatalf("rm: %v: %s", err, out)
		}
	}

	const (
		succeeded  = `riposte_sensor_rules_reloads_total{result="success"}`
		failed     = `riposte_sensor_rules_reloads_total{result="failure"}`
		lastLoad   = "riposte_sensor_rules_last_load_success_timestamp_seconds"
		lastReload = "riposte_sensor_rules_last_reload_successful"
		readyz     = "/readyz"
	)
	waitAlert(t, alerts, "Test directory made", mkdir)
	firstLoad := metricValue(t, metricsAddr, lastLoad)
	if firstLoad < float64(started.Unix()) {
		t.Errorf("%s = %v at start, want the time of the first load, after %v", lastLoad, firstLoad, started.Unix())
	}
	if got := metricValue(t, metricsAddr, lastReload); got != 1 {
		t.Errorf("%s = %v before any reload, want 1", lastReload, got)
	}

	writeRules(unlinkRule)
	waitAlert(t, alerts, "Test file removed", unlink)
	if got := metricValue(t, metricsAddr, succeeded); got != 1 {
		t.Errorf("%s = %v after one reload, want 1", succeeded, got)
	}
	reloaded := metricValue(t, metricsAddr, lastLoad)
	if reloaded <= firstLoad {
		t.Errorf("%s = %v after a reload, want later than the first load at %v", lastLoad, reloaded, firstLoad)
	}

	// A file that fails to load keeps the rules in force.
	writeRules("- rule: broken\n  condition: evt.type = \n")
	deadline := time.Now().Add(e2eTimeout)
	for metricValue(t, metricsAddr, failed) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not count the broken rules file within %v", failed, e2eTimeout)
		}
		time.Sleep(rulesWatchInterval)
	}
	waitAlert(t, alerts, "Test file removed", unlink)
	if got := metricValue(t, metricsAddr, failed); got != 1 {
		t.Errorf("%s = %v after one broken file, want 1", failed, got)
	}
	if got := metricValue(t, metricsAddr, succeeded); got != 1 {
		t.Errorf("%s = %v after a failed reload, want 1 still", succeeded, got)
	}
	if got := metricValue(t, metricsAddr, lastLoad); got != reloaded {
		t.Errorf("%s = %v after a failed reload, want %v still", lastLoad, got, reloaded)
	}
	if got := metricValue(t, metricsAddr, lastReload); got != 0 {
		t.Errorf("%s = %v after a failed reload, want 0", lastReload, got)
	}
	// The previous rules still detect, so the sensor stays ready, as Falco
	// stays healthy after a failed hot reload.
	if got := httpStatus(t, "http://"+metricsAddr+readyz); got != http.StatusOK {
		t.Errorf("GET %s after a failed reload = %d, want 200", readyz, got)
	}

	// Fixing the file counts as a successful reload again.
	writeRules(mkdirRule)
	deadline = time.Now().Add(e2eTimeout)
	for metricValue(t, metricsAddr, succeeded) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not count the fixed rules file within %v", succeeded, e2eTimeout)
		}
		time.Sleep(rulesWatchInterval)
	}
	if got := metricValue(t, metricsAddr, lastReload); got != 1 {
		t.Errorf("%s = %v after the file was fixed, want 1", lastReload, got)
	}
	if got := metricValue(t, metricsAddr, failed); got != 1 {
		t.Errorf("%s = %v after the file was fixed, want 1 still", failed, got)
	}
}

// waitAlert repeats trigger until an alert of rule is in the alerts stream.
func waitAlert(t *testing.T, alerts jetstream.Consumer, rule string, trigger func()) {
	t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for time.Now().Before(deadline) {
		trigger()
		msg, err := alerts.Next(jetstream.FetchMaxWait(500 * time.Millisecond))
		for err == nil {
			var a struct {
				Rule string `json:"rule"`
			}
			if json.Unmarshal(msg.Data(), &a) == nil && a.Rule == rule {
				return
			}
			msg, err = alerts.Next(jetstream.FetchMaxWait(100 * time.Millisecond))
		}
	}
	t.Fatalf("no %q alert within %v", rule, e2eTimeout)
}

func TestRuleWatcherStampSeesEdits(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(file, []byte(mkdirRule), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &ruleWatcher{paths: []string{dir}}
	first := w.stamp()
	if !strings.Contains(first, "a.yaml") {
		t.Fatalf("stamp %q does not name the file of the directory", first)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(unlinkRule), 0o644); err != nil {
		t.Fatal(err)
	}
	second := w.stamp()
	if second == first {
		t.Error("a new file in the rules directory left the stamp unchanged")
	}
	if err := os.WriteFile(file, []byte(mkdirRule+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if w.stamp() == second {
		t.Error("an edit of a rules file left the stamp unchanged")
	}
}

func TestRuleWatcherReloadKeepsRuleOptions(t *testing.T) {
	path := writeFile(t, "rules.yaml", threeRules)
	var reloaded *rules.Engine
	w := &ruleWatcher{
		paths:    []string{path},
		ruleOpts: ruleOptions{DisabledTags: []string{"network"}},
		logger:   testLogger(),
		onReload: func(e *rules.Engine) error { reloaded = e; return nil },
		loads:    &ruleLoads{},
	}
	w.reload("test")
	if reloaded == nil {
		t.Fatal("the rules did not load")
	}
	if r := reloaded.Rule("Network tool"); r == nil || r.Enabled {
		t.Errorf("rule with the disabled tag network = %+v, want it loaded and disabled", r)
	}
	if r := reloaded.Rule("Shell in container"); r == nil || !r.Enabled {
		t.Errorf("rule without the tag = %+v, want it enabled", r)
	}
}
