package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// e2eTimeout is generous: the end-to-end test checks behaviour, and speed
// belongs in the benchmarks.
const e2eTimeout = 60 * time.Second

// requireRoot skips the test without root, or fails it when CI=true.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("test needs root to load BPF programs; run it as root in CI")
	}
	t.Skip("test needs root to load BPF programs")
}

// lineWriter sends every complete line written to it on a channel.
type lineWriter struct {
	pw *io.PipeWriter
}

func newLineWriter(t *testing.T) (*lineWriter, <-chan string) {
	pr, pw := io.Pipe()
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		scanner := bufio.NewScanner(pr)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
	}()
	t.Cleanup(func() { pw.Close() })
	return &lineWriter{pw: pw}, lines
}

func (w *lineWriter) Write(p []byte) (int, error) { return w.pw.Write(p) }

// cgroupHierarchies returns the cgroup hierarchies a kubelet would place a
// container in that the sensor reads: the v1 pids hierarchy and the v2 one.
func cgroupHierarchies(t testing.TB) []string {
	t.Helper()
	var roots []string
	for _, root := range []string{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err == nil {
			roots = append(roots, root)
		}
		if root == "/sys/fs/cgroup/unified" && len(roots) > 0 {
			break
		}
	}
	if len(roots) == 0 {
		t.Fatal("no cgroup hierarchy found under /sys/fs/cgroup")
	}
	return roots
}

// makeKubeletCgroups creates, in every hierarchy, the cgroup a kubelet with the
// systemd driver makes for a containerd container of a pod with a random UID,
// and returns their directories. They are removed when the test ends.
func makeKubeletCgroups(t testing.TB, containerID string) []string {
	t.Helper()
	return makePodCgroups(t, randomHex(t, 4)+"-1b2c-4d5e-8f90-"+randomHex(t, 6), containerID)
}

// makePodCgroups is makeKubeletCgroups for the pod with the given UID.
func makePodCgroups(t testing.TB, podUID, containerID string) []string {
	t.Helper()
	pod := "kubepods-besteffort-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice"
	rel := []string{
		"kubepods.slice",
		"kubepods.slice/kubepods-besteffort.slice",
		"kubepods.slice/kubepods-besteffort.slice/" + pod,
		"kubepods.slice/kubepods-besteffort.slice/" + pod + "/cri-containerd-" + containerID + ".scope",
	}
	var leaves []string
	for _, root := range cgroupHierarchies(t) {
		for _, r := range rel {
			if err := os.Mkdir(filepath.Join(root, r), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				t.Fatalf("create cgroup: %v", err)
			}
		}
		t.Cleanup(func() {
			for i := len(rel) - 1; i >= 0; i-- {
				// Parents may be shared with a real kubelet; only the
				// container's own cgroup must go.
				if err := os.Remove(filepath.Join(root, rel[i])); err != nil && i == len(rel)-1 {
					t.Errorf("remove cgroup: %v", err)
				}
			}
		})
		leaves = append(leaves, filepath.Join(root, rel[len(rel)-1]))
	}
	return leaves
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestRunContainerShell runs the whole pipeline. A shell starts in a cgroup
// laid out like a kubelet's and the sensor captures its exec. The default
// rules match, the alert crosses NATS, and the responder records a dry-run
// decision for it.
func TestRunContainerShell(t *testing.T) {
	requireRoot(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	out, lines := newLineWriter(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	p, err := startHost(ctx, hostConfig{DryRun: true, DefaultRules: true, Output: "json"}, out, logger)
	if err != nil {
		t.Fatalf("start pipeline: %v", err)
	}
	defer p.Close()

	containerID := randomHex(t, 32)
	var join strings.Builder
	for _, dir := range makeKubeletCgroups(t, containerID) {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs && ", dir)
	}
	// The outer shell moves itself into the container's cgroups, then
	// replaces itself with the shell under test, whose parent is this test.
	cmd := exec.Command("/bin/sh", "-c", join.String()+"exec /bin/sh -c id")
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run shell in container cgroup: %v: %s", err, output)
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	wantParent := strings.TrimSpace(string(comm))
	wantContainer := containerID[:12]

	var alertUUID string
	deadline := time.After(e2eTimeout)
	for alertUUID == "" {
		select {
		case line := <-lines:
			var a struct {
				UUID         string         `json:"uuid"`
				Rule         string         `json:"rule"`
				OutputFields map[string]any `json:"output_fields"`
			}
			if json.Unmarshal([]byte(line), &a) != nil || a.Rule != "Shell spawned in a container" {
				continue
			}
			if a.OutputFields["container.id"] != wantContainer {
				continue
			}
			if got := a.OutputFields["proc.pname"]; got != wantParent {
				t.Errorf("proc.pname = %v, want %q", got, wantParent)
			}
			if got := a.OutputFields["proc.name"]; got != "sh" {
				t.Errorf("proc.name = %v, want sh", got)
			}
			alertUUID = a.UUID
		case <-deadline:
			t.Fatalf("no alert for the container shell within %v", e2eTimeout)
		}
	}

	deadline = time.After(e2eTimeout)
	for {
		select {
		case line := <-lines:
			var d struct {
				AlertUUID string `json:"alert_uuid"`
				DryRun    bool   `json:"dry_run"`
				Actions   []struct {
					Actionner string `json:"actionner"`
					Result    struct {
						Outcome string `json:"outcome"`
					} `json:"result"`
				} `json:"actions"`
			}
			if json.Unmarshal([]byte(line), &d) != nil || d.AlertUUID != alertUUID {
				continue
			}
			if !d.DryRun {
				t.Error("decision is not a dry run")
			}
			if len(d.Actions) != 1 {
				t.Fatalf("decision has %d actions, want 1: %s", len(d.Actions), line)
			}
			if d.Actions[0].Actionner != "process:kill" {
				t.Errorf("actionner = %q, want process:kill", d.Actions[0].Actionner)
			}
			if d.Actions[0].Result.Outcome != "dry-run" {
				t.Errorf("outcome = %q, want dry-run", d.Actions[0].Result.Outcome)
			}
			return
		case <-deadline:
			t.Fatalf("no decision for alert %s within %v", alertUUID, e2eTimeout)
		}
	}
}

func TestRunReportsTakenNATSPort(t *testing.T) {
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	t.Setenv("KUBECONFIG", "")
	_, err = runCommand(t, "run", "--nats.port", port, "--nats.store-dir", t.TempDir(), "--kubeconfig", "")
	if err == nil || !strings.Contains(err.Error(), port) {
		t.Fatalf("err = %v, want an error naming port %s", err, port)
	}
}

// TestPrinterStopsWhenReaderGone writes to a pipe whose reader is closed: the
// printer calls its closed function once and then writes nothing more.
func TestPrinterStopsWhenReaderGone(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	calls := 0
	p := &printer{w: w, format: "json", closed: func() { calls++ }}
	for range 3 {
		p.alert(recoveryAlert())
	}
	if calls != 1 {
		t.Errorf("closed called %d times, want 1", calls)
	}
}

// TestRunStopsWhenOutputClosed runs the riposte binary as `riposte run -o
// json | head -n 1` would: the test reads one line of its output and closes
// the pipe. The command must stop on its own, exit 0 and remove the
// temporary JetStream directory it created.
func TestRunStopsWhenOutputClosed(t *testing.T) {
	requireRoot(t)

	binary := buildRiposte(t)
	tmp := t.TempDir()
	cmd := exec.Command(binary, "run", "--dry-run", "-o", "json")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	containerID := randomHex(t, 32)
	var join strings.Builder
	for _, dir := range makeKubeletCgroups(t, containerID) {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs && ", dir)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	deadline := time.After(e2eTimeout)
	var line string
	for line == "" {
		if out, err := exec.Command("/bin/sh", "-c", join.String()+"exec /bin/sh -c true").CombinedOutput(); err != nil {
			t.Fatalf("run shell in container cgroup: %v: %s", err, out)
		}
		select {
		case line = <-lines:
		case err := <-exited:
			t.Fatalf("riposte run exited before printing: %v: %s", err, stderr.String())
		case <-deadline:
			t.Fatalf("riposte run printed nothing within %v: %s", e2eTimeout, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if !json.Valid([]byte(line)) {
		t.Errorf("first line is not JSON: %q", line)
	}
	stdout.(io.Closer).Close()

	// Close only closes the test's end. The next line riposte writes fails,
	// so keep alerts coming.
	deadline = time.After(e2eTimeout)
	for {
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("riposte run after its output closed: %v: %s", err, stderr.String())
			}
			left, err := filepath.Glob(filepath.Join(tmp, "riposte-nats-*"))
			if err != nil {
				t.Fatal(err)
			}
			if len(left) > 0 {
				t.Errorf("riposte run left %v behind", left)
			}
			return
		case <-deadline:
			t.Fatalf("riposte run still running %v after its output closed: %s", e2eTimeout, stderr.String())
		case <-time.After(200 * time.Millisecond):
			_ = exec.Command("/bin/sh", "-c", join.String()+"exec /bin/sh -c true").Run()
		}
	}
}

// TestRunSendsNotifications runs the pipeline with a webhook notification
// and checks that a decision reaches the receiver.
func TestRunSendsNotifications(t *testing.T) {
	requireRoot(t)

	received := make(chan []byte, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case received <- body:
		default:
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	cfg := hostConfig{DryRun: true, DefaultRules: true, Output: "json",
		Notifications: []notificationConfig{{Type: "webhook", URL: srv.URL, Outcomes: []string{"dry-run"}}}}
	p, err := startHost(ctx, cfg, io.Discard, testLogger())
	if err != nil {
		t.Fatalf("start pipeline: %v", err)
	}
	defer p.Close()

	containerID := randomHex(t, 32)
	var join strings.Builder
	for _, dir := range makeKubeletCgroups(t, containerID) {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs && ", dir)
	}
	deadline := time.After(e2eTimeout)
	for {
		if out, err := exec.Command("/bin/sh", "-c", join.String()+"exec /bin/sh -c true").CombinedOutput(); err != nil {
			t.Fatalf("run shell in container cgroup: %v: %s", err, out)
		}
		select {
		case body := <-received:
			var d struct {
				Outcome string `json:"outcome"`
				Rule    string `json:"rule"`
			}
			if err := json.Unmarshal(body, &d); err != nil {
				t.Fatalf("notification is not a JSON decision: %v: %s", err, body)
			}
			if d.Outcome != "dry-run" {
				t.Errorf("notified outcome = %q, want dry-run", d.Outcome)
			}
			return
		case <-deadline:
			t.Fatalf("no notification within %v", e2eTimeout)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// buildRiposte builds the riposte binary into a temporary directory of the
// test.
func buildRiposte(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "riposte")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		t.Fatalf("build riposte: %v: %s", err, out)
	}
	return binary
}

// TestClosedOutputEndsQuietly runs a command whose standard output is a pipe
// that no process reads, as `riposte actionners list | head -n 0` leaves it. The
// command must end with the status of a program killed by SIGPIPE, without
// an error message.
func TestClosedOutputEndsQuietly(t *testing.T) {
	binary := buildRiposte(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := exec.Command(binary, "actionners", "list")
	cmd.Stdout = w
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("err = %v, want the command to end with status 141", err)
	}
	if code := exitErr.ExitCode(); code != 128+int(syscall.SIGPIPE) {
		t.Errorf("exit status = %d, want 141, as after SIGPIPE", code)
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr = %q, want nothing", stderr.String())
	}
}

// TestRunAnswersUpstreamRule runs the pipeline with Falco's stable rules and
// runs a program from /dev/shm. Falco's rule "Execution from /dev/shm" prints
// no pid, so the alert must carry proc.pid among the fields Riposte adds,
// and the default policy must choose process:kill for it.
func TestRunAnswersUpstreamRule(t *testing.T) {
	requireRoot(t)
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	out, lines := newLineWriter(t)
	cfg := hostConfig{DryRun: true, DefaultRules: true, Output: "json", RuleFiles: []string{filepath.Join(dir, "falco_rules.yaml")}}
	p, err := startHost(ctx, cfg, out, testLogger())
	if err != nil {
		t.Fatalf("start pipeline: %v", err)
	}
	defer p.Close()

	program := "/dev/shm/riposte-test-" + randomHex(t, 4)
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(program, data, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(program)

	var alertUUID string
	var pid float64
	deadline := time.After(e2eTimeout)
	for alertUUID == "" {
		if err := exec.Command(program).Run(); err != nil {
			t.Fatalf("run %s: %v", program, err)
		}
		timeout := time.After(500 * time.Millisecond)
	read:
		for {
			select {
			case line := <-lines:
				var a struct {
					UUID         string         `json:"uuid"`
					Rule         string         `json:"rule"`
					OutputFields map[string]any `json:"output_fields"`
				}
				if json.Unmarshal([]byte(line), &a) != nil || a.Rule != "Execution from /dev/shm" || a.OutputFields["proc.exepath"] != program {
					continue
				}
				n, ok := a.OutputFields["proc.pid"].(float64)
				if !ok || n <= 0 {
					t.Fatalf("proc.pid = %#v, want the pid as a number", a.OutputFields["proc.pid"])
				}
				alertUUID, pid = a.UUID, n
				break read
			case <-timeout:
				break read
			case <-deadline:
				t.Fatalf("no alert of Falco's rule for %s within %v", program, e2eTimeout)
			}
		}
	}

	deadline = time.After(e2eTimeout)
	for {
		select {
		case line := <-lines:
			var d decisionRecord
			if json.Unmarshal([]byte(line), &d) != nil || d.AlertUUID != alertUUID {
				continue
			}
			var found bool
			for _, a := range d.Actions {
				found = found || (a.Actionner == "process:kill" && float64(a.Target.PID) == pid)
			}
			if !found {
				t.Errorf("decision %s has no process:kill of pid %v: %s", d.AlertUUID, pid, line)
			}
			return
		case <-deadline:
			t.Fatalf("no decision for alert %s within %v", alertUUID, e2eTimeout)
		}
	}
}

// TestRunServesMetrics runs the pipeline with a metrics address and reads
// the sensor's, the detector's and the responder's metrics from one endpoint.
func TestRunServesMetrics(t *testing.T) {
	requireRoot(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	defer cancel()
	addr := freeAddr(t)
	p, err := startHost(ctx, hostConfig{DryRun: true, DefaultRules: true, Output: "json", MetricsAddr: addr}, io.Discard, testLogger())
	if err != nil {
		t.Fatalf("start pipeline: %v", err)
	}
	defer p.Close()

	waitStatus(t, http.MethodGet, "http://"+addr+"/readyz", http.StatusOK)
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"riposte_sensor_kernel_drops_total{", "riposte_detector_events_total ", "riposte_responder_circuit_breaker_open ",
		`riposte_sensor_rules_reloads_total{result="failure"} `, "riposte_sensor_rules_last_load_success_timestamp_seconds "} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics of riposte run lacks %s", name)
		}
	}
}
