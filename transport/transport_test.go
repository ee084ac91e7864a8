package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/alert"
)

func startServer(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func connect(t testing.TB, opts ConnectOptions) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx, opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestRuleToken(t *testing.T) {
	tests := []struct{ rule, want string }{
		{"Shell spawned in a container", "shell_spawned_in_a_container"},
		{"Terminal shell in container", "terminal_shell_in_container"},
		{"  Read sensitive file (untrusted) ", "read_sensitive_file_untrusted"},
		{"a.b*c>d", "a_b_c_d"},
		{"Écrit dans /etc", "crit_dans_etc"},
		{"", "unnamed"},
		{"***", "unnamed"},
		{strings.Repeat("ab ", 40), strings.Repeat("ab_", 21) + "a"},
	}
	for _, tt := range tests {
		got := RuleToken(tt.rule)
		if got != tt.want {
			t.Errorf("RuleToken(%q) = %q, want %q", tt.rule, got, tt.want)
		}
		if len(got) > maxRuleToken {
			t.Errorf("RuleToken(%q) is %d bytes long", tt.rule, len(got))
		}
	}
}

func TestAlertSubject(t *testing.T) {
	a := &alert.Alert{Rule: "Shell spawned in a container", Priority: alert.PriorityNotice}
	if got := AlertSubject(a); got != "riposte.alerts.notice.shell_spawned_in_a_container" {
		t.Errorf("AlertSubject = %q", got)
	}
	if got := DecisionSubject("dry-run"); got != "riposte.decisions.dry-run" {
		t.Errorf("DecisionSubject = %q", got)
	}
	if got := DecisionSubject("a.b c"); got != "riposte.decisions.a_b_c" {
		t.Errorf("DecisionSubject with dot and space = %q", got)
	}
}

func TestStartServerInvalidPort(t *testing.T) {
	_, err := StartServer(ServerOptions{Port: 70000})
	if err == nil || !strings.Contains(err.Error(), "invalid port 70000") {
		t.Fatalf("StartServer(port 70000) error = %v", err)
	}
}

func TestStartServerPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = StartServer(ServerOptions{Port: port, StoreDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("StartServer on a port in use: error = %v, want the bind error naming port %d", err, port)
	}
}

func TestStartServerUnusableStoreDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "store")
	_, err := StartServer(ServerOptions{StoreDir: dir})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("StartServer with store dir %s: error = %v, want it named", dir, err)
	}
}

func TestStartServerStoreDirInUse(t *testing.T) {
	dir := t.TempDir()
	first, err := StartServer(ServerOptions{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = StartServer(ServerOptions{StoreDir: dir})
	if err == nil {
		t.Fatal("second server on the same storage directory started")
	}
	for _, want := range []string{dir, "in use", fmt.Sprintf("pid %d", os.Getpid()), "--nats.store-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	// Closing the first server releases the directory.
	first.Close()
	again, err := StartServer(ServerOptions{StoreDir: dir})
	if err != nil {
		t.Fatalf("start after the first server closed: %v", err)
	}
	again.Close()
}

func TestServerListensOnLoopback(t *testing.T) {
	s := startServer(t)
	if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") {
		t.Errorf("ClientURL = %q, want 127.0.0.1", s.ClientURL())
	}
}

func TestPublishAlertStored(t *testing.T) {
	s := startServer(t)
	for _, mode := range []string{"in-process", "tcp"} {
		t.Run(mode, func(t *testing.T) {
			opts := ConnectOptions{URL: s.ClientURL()}
			if mode == "in-process" {
				opts = ConnectOptions{InProcess: s}
			}
			c := connect(t, opts)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			streams, err := EnsureStreams(ctx, c.JS, StreamOptions{})
			if err != nil {
				t.Fatalf("EnsureStreams: %v", err)
			}
			if err := streams.Alerts.Purge(ctx); err != nil {
				t.Fatal(err)
			}

			a := &alert.Alert{
				Rule:         "Shell spawned in a container",
				Priority:     alert.PriorityNotice,
				Time:         time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC),
				OutputFields: map[string]any{"evt.time": int64(1714564800123456789)},
			}
			p := NewPublisher(c.JS)
			ack, err := p.Publish(ctx, a)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if a.UUID == "" {
				t.Fatal("Publish did not set a uuid")
			}
			if ack.Stream != AlertsStream || ack.Duplicate {
				t.Errorf("ack = %+v", ack)
			}
			again, err := p.Publish(ctx, a)
			if err != nil {
				t.Fatalf("second Publish: %v", err)
			}
			if !again.Duplicate {
				t.Errorf("second publish of uuid %s not reported as duplicate", a.UUID)
			}

			msg, err := streams.Alerts.GetLastMsgForSubject(ctx, AlertsSubjectPrefix+".>")
			if err != nil {
				t.Fatalf("get stored alert: %v", err)
			}
			if msg.Subject != "riposte.alerts.notice.shell_spawned_in_a_container" {
				t.Errorf("subject = %q", msg.Subject)
			}
			if got := msg.Header.Get(jetstream.MsgIDHeader); got != a.UUID {
				t.Errorf("Nats-Msg-Id = %q, want %q", got, a.UUID)
			}
			stored, err := alert.Decode(msg.Data)
			if err != nil {
				t.Fatalf("decode stored alert: %v", err)
			}
			if n, _ := stored.OutputFields["evt.time"].(json.Number); n != "1714564800123456789" {
				t.Errorf("stored evt.time = %v", stored.OutputFields["evt.time"])
			}
			info, err := streams.Alerts.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != 1 {
				t.Errorf("stream has %d messages, want 1", info.State.Msgs)
			}
		})
	}
}

func TestPublishBatch(t *testing.T) {
	s := startServer(t)
	c := connect(t, ConnectOptions{InProcess: s})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	streams, err := EnsureStreams(ctx, c.JS, StreamOptions{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	var batch []*alert.Alert
	for range 100 {
		batch = append(batch, &alert.Alert{Rule: "r", Time: time.Now(), Priority: alert.PriorityWarning})
	}
	batch = append(batch, &alert.Alert{Rule: "r", Time: time.Now(), Priority: 99})
	errs := NewPublisher(c.JS).PublishBatch(ctx, batch)
	for i, err := range errs[:100] {
		if err != nil {
			t.Errorf("alert %d: %v", i, err)
		}
	}
	if errs[100] == nil {
		t.Error("alert with priority 99 was published")
	}
	info, err := streams.Alerts.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 100 {
		t.Errorf("stream has %d messages, want 100", info.State.Msgs)
	}
}

func TestConnectMissingURL(t *testing.T) {
	_, err := Connect(context.Background(), ConnectOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing URL") {
		t.Fatalf("Connect without URL: %v", err)
	}
}

func TestConnectUnreachable(t *testing.T) {
	_, err := Connect(context.Background(), ConnectOptions{URL: "nats://u:secret@127.0.0.1:1", ConnectTimeout: time.Second})
	if err == nil {
		t.Fatal("Connect to port 1 succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://user:pw@host:4222", "nats://[redacted]@host:4222"},
		{"tls://token@host", "tls://[redacted]@host"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestStartServerRemovesStaleTempDirs leaves temporary storage directories
// as killed processes would, and starts a server with a temporary one: only
// the directory of the process that ended goes.
func TestStartServerRemovesStaleTempDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ended := exec.Command("true")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{
		"riposte-nats-ended":    strconv.Itoa(ended.Process.Pid),
		"riposte-nats-running":  strconv.Itoa(os.Getpid()),
		"riposte-nats-no-owner": "",
	}
	for name, pid := range dirs {
		dir := filepath.Join(tmp, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if pid != "" {
			if err := os.WriteFile(filepath.Join(dir, "riposte.pid"), []byte(pid), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	s, err := StartServer(ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name := range dirs {
		_, err := os.Stat(filepath.Join(tmp, name))
		if removed := errors.Is(err, os.ErrNotExist); removed != (name == "riposte-nats-ended") {
			t.Errorf("%s: removed = %v, want it removed only when its process ended", name, removed)
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "riposte-nats-*"))
	s.Close()
	after, _ := filepath.Glob(filepath.Join(tmp, "riposte-nats-*"))
	if len(after) != len(left)-1 {
		t.Errorf("Close left %v, want the server's own directory removed", after)
	}
}

// TestCheckSizeAtMaxPayload publishes alerts of exactly the max payload and
// one byte more over TCP, so that CheckSize is held to the size check of
// nats.go itself.
func TestCheckSizeAtMaxPayload(t *testing.T) {
	s := startServer(t)
	c := connect(t, ConnectOptions{URL: s.ClientURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := EnsureStreams(ctx, c.JS, StreamOptions{Memory: true}); err != nil {
		t.Fatal(err)
	}
	maxPayload := c.NC.MaxPayload()
	if maxPayload != 1<<20 {
		t.Fatalf("max payload = %d, want nats-server's default of 1 MiB", maxPayload)
	}
	p := NewPublisher(c.JS)

	// sized returns an alert whose message is size bytes. Each byte of its
	// ASCII output adds one byte to the message.
	sized := func(size int64) *alert.Alert {
		a := &alert.Alert{Rule: "r", Time: time.Now(), Priority: alert.PriorityWarning, Output: "x"}
		msg, err := alertMsg(a)
		if err != nil {
			t.Fatal(err)
		}
		a.Output += strings.Repeat("x", int(size-payloadSize(msg, a.UUID)))
		return a
	}

	fits := sized(maxPayload)
	if err := p.CheckSize(fits); err != nil {
		t.Errorf("CheckSize of an alert of exactly the max payload: %v", err)
	}
	if _, err := p.Publish(ctx, fits); err != nil {
		t.Errorf("Publish of an alert of exactly the max payload: %v", err)
	}

	over := sized(maxPayload + 1)
	err := p.CheckSize(over)
	var tooLarge *PayloadTooLargeError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("CheckSize of an alert one byte over the max payload = %v, want *PayloadTooLargeError", err)
	}
	if tooLarge.Size != maxPayload+1 {
		t.Errorf("Size = %d, want %d", tooLarge.Size, maxPayload+1)
	}
	if tooLarge.MaxPayload != maxPayload {
		t.Errorf("MaxPayload = %d, want %d", tooLarge.MaxPayload, maxPayload)
	}
	if tooLarge.UUID != over.UUID {
		t.Errorf("UUID = %q, want %q", tooLarge.UUID, over.UUID)
	}

	// nats.go rejects the same alert on publish, which the publisher
	// reports with the sizes.
	_, err = p.Publish(ctx, over)
	if !errors.As(err, &tooLarge) || tooLarge.Size != maxPayload+1 {
		t.Errorf("Publish one byte over the max payload = %v, want *PayloadTooLargeError of %d bytes", err, maxPayload+1)
	}
	if !errors.Is(err, nats.ErrMaxPayload) {
		t.Errorf("Publish error %v does not wrap nats.ErrMaxPayload", err)
	}
	_, errs := p.StoreBatch(ctx, []*alert.Alert{over})
	if !errors.As(errs[0], &tooLarge) {
		t.Errorf("StoreBatch one byte over the max payload = %v, want *PayloadTooLargeError", errs[0])
	}
}
