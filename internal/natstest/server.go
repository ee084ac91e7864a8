package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StartServer starts a nats-server with opts on a free port of 127.0.0.1,
// ignoring opts.Host and opts.Port, and shuts it down when the test ends.
// With opts.JetStream set and no StoreDir, it stores data in a temporary
// directory of t.
func StartServer(t testing.TB, opts server.Options) *server.Server {
	t.Helper()
	opts.Host = "127.0.0.1"
	opts.Port = server.RANDOM_PORT
	opts.NoSigs = true
	opts.NoLog = os.Getenv("RIPOSTE_TEST_NATS_LOG") == ""
	if opts.JetStream && opts.StoreDir == "" {
		opts.StoreDir = t.TempDir()
	}
	s, err := server.NewServer(&opts)
	if err != nil {
		t.Fatalf("new nats-server: %v", err)
	}
	if !opts.NoLog {
		s.ConfigureLogger()
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready for connections after 10s")
	}
	return s
}
