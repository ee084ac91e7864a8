package responder

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/transport"
)

// Environment variables that turn the test binary into a responder process
// for TestSIGKILLExactlyOnce.
const (
	childEnv       = "RIPOSTE_TEST_RESPONDER_CHILD"
	childURLEnv    = "RIPOSTE_TEST_NATS_URL"
	childPolicyEnv = "RIPOSTE_TEST_POLICY_DIR"
	childLogEnv    = "RIPOSTE_TEST_ACTION_LOG"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChildResponder())
	}
	os.Exit(m.Run())
}

// fileRecorder appends the alert uuid to a file for every run, with one
// write(2) on an O_APPEND file, so that each line is whole even when the
// process is killed.
type fileRecorder struct {
	mu sync.Mutex
	f  *os.File
}

func (r *fileRecorder) Name() string                         { return "test:record" }
func (r *fileRecorder) Validate(map[string]any) error        { return nil }
func (r *fileRecorder) Permissions() []actionners.Permission { return nil }
func (r *fileRecorder) Run(_ context.Context, req actionners.Request) (actionners.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.f.WriteString(req.Alert.UUID + "\n"); err != nil {
		return actionners.Result{}, err
	}
	return actionners.Result{Outcome: actionners.OutcomeSucceeded}, nil
}

// runChildResponder runs a responder against the server named in the
// environment until it is killed or interrupted.
func runChildResponder() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fail := func(msg string, err error) int {
		log.Error(msg, "error", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	f, err := os.OpenFile(os.Getenv(childLogEnv), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fail("open action log", err)
	}
	defer f.Close()
	reg, err := actionners.NewRegistry(&fileRecorder{f: f})
	if err != nil {
		return fail("registry", err)
	}
	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: os.Getenv(childURLEnv), Logger: log})
	if err != nil {
		return fail("connect", err)
	}
	defer conn.Close()
	set, err := policies.Load(ctx, policies.Options{Dir: os.Getenv(childPolicyEnv), Registry: reg})
	if err != nil {
		return fail("load policies", err)
	}
	r, err := New(Options{
		JS: conn.JS, Policies: set, Registry: reg, Logger: log,
		Name:       "child-" + strconv.Itoa(os.Getpid()),
		Guards:     GuardOptions{Act: true, Cooldown: -1, RateLimit: -1},
		AckWait:    2 * time.Second,
		MaxDeliver: 100,
	})
	if err != nil {
		return fail("new responder", err)
	}
	if err := r.Run(ctx); err != nil {
		return fail("run", err)
	}
	return 0
}

func TestSIGKILLExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a responder process for many seconds")
	}
	const n = 10000
	e := newEnv(t, false)
	dir := t.TempDir()
	policyDir := filepath.Join(dir, "policies")
	if err := os.Mkdir(policyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	recordAll := "package riposte.policies.record_all\n\nactions contains {\"actionner\": \"test:record\", \"target\": {\"kind\": \"process\", \"pid\": input.alert.output_fields[\"proc.pid\"]}} if true\n"
	if err := os.WriteFile(filepath.Join(policyDir, "record.rego"), []byte(recordAll), 0o644); err != nil {
		t.Fatal(err)
	}
	actionLog := filepath.Join(dir, "actions.log")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	alerts := shellAlerts(n, 0)
	for i, a := range alerts {
		a.OutputFields["proc.pid"] = 1000 + i
	}
	for i, err := range newPublisher(e).PublishBatch(ctx, alerts) {
		if err != nil {
			t.Fatalf("publish alert %d: %v", i, err)
		}
	}
	cancel()

	seed := time.Now().UnixNano()
	t.Logf("kill schedule seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	kills := 0
	deadline := time.Now().Add(5 * time.Minute)
	for decisionCount(t, e) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d decisions after 5 minutes and %d kills", decisionCount(t, e), n, kills)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1", childURLEnv+"="+e.server.ClientURL(),
			childPolicyEnv+"="+policyDir, childLogEnv+"="+actionLog)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random point for the first rounds, then let the last
		// responder finish.
		if kills < 15 {
			time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			kills++
			continue
		}
		waitForDecisions(t, e, n, deadline)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("last responder: %v", err)
		}
	}
	t.Logf("%d kills", kills)

	// Every alert has exactly one decision in the audit trail.
	perAlert := readDecisions(t, e)
	if len(perAlert) != n {
		t.Errorf("%d alerts have decisions, want %d", len(perAlert), n)
	}
	acted := map[string]bool{}
	for uuid, list := range perAlert {
		if len(list) != 1 {
			t.Errorf("alert %s has %d decisions", uuid, len(list))
			continue
		}
		if list[0].Outcome == OutcomeActed {
			acted[uuid] = true
		}
	}

	// No action ran twice, and every acted decision's action did run.
	ran := map[string]int{}
	f, err := os.Open(actionLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ran[sc.Text()]++
	}
	for uuid, count := range ran {
		if count > 1 {
			t.Errorf("action for alert %s ran %d times", uuid, count)
		}
	}
	for uuid := range acted {
		if ran[uuid] != 1 {
			t.Errorf("alert %s decided acted but its action ran %d times", uuid, ran[uuid])
		}
	}
	t.Logf("%d actions ran, %d decisions acted, %d skipped after a crash mid-action", len(ran), len(acted), n-len(acted))
}

func decisionCount(t testing.TB, e *env) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := e.streams.Decisions.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Msgs)
}

func waitForDecisions(t testing.TB, e *env, n int, deadline time.Time) {
	t.Helper()
	for decisionCount(t, e) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// readDecisions reads the decisions stream and groups decisions by alert.
func readDecisions(t testing.TB, e *env) map[string][]Decision {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cons, err := e.streams.Decisions.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	total := decisionCount(t, e)
	out := map[string][]Decision{}
	for i := 0; i < total; i++ {
		msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("read decision %d of %d: %v", i+1, total, err)
		}
		var d Decision
		if err := json.Unmarshal(msg.Data(), &d); err != nil {
			t.Fatalf("decode decision: %v", err)
		}
		out[d.AlertUUID] = append(out[d.AlertUUID], d)
	}
	return out
}
