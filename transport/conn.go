package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConnectOptions configure a client connection to NATS.
type ConnectOptions struct {
	// URL is a NATS URL or a comma-separated list of them, such as
	// "nats://127.0.0.1:4222". Ignored when InProcess is set.
	URL string
	// InProcess connects to an embedded server without a socket.
	InProcess *Server
	// Name identifies the connection in the server's monitoring.
	Name string
	// Token authenticates with a token. Leave empty for none.
	Token string
	// User and Password authenticate with a user name and password.
	User, Password string
	// CredentialsFile is a NATS credentials file (JWT and nkey seed).
	CredentialsFile string
	// NKeyFile is a file holding a user NKey seed, for servers that list the
	// user's public NKey. It excludes CredentialsFile.
	NKeyFile string
	// ReconnectBufSize bounds, in bytes, the publishes that the client holds
	// while disconnected and sends after reconnecting. Once the buffer holds
	// this many bytes, further publishes fail and are counted in Stats. Zero
	// means 8 MiB. A negative size disables the buffer, so publishes fail at
	// once while disconnected.
	ReconnectBufSize int
	// TLS configures TLS, and client certificates for mutual TLS.
	TLS *tls.Config
	// ConnectTimeout bounds the first connection. Zero means 5 seconds.
	ConnectTimeout time.Duration
	// PublishAsyncMaxPending bounds unacknowledged asynchronous publishes. Zero
	// means 4,000.
	PublishAsyncMaxPending int
	// RetryFirstConnect makes Connect return a connection that keeps trying
	// to reach NATS when the first attempt fails, instead of an error.
	// Publishes made before it connects wait in the reconnect buffer. Use it
	// where the process has work to do before NATS is up, as a sensor does.
	RetryFirstConnect bool
	// Logger records disconnections and reconnections. Nil discards them.
	Logger *slog.Logger
}

// Conn is a NATS connection with its JetStream context.
type Conn struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	closed chan struct{}
	stats  *publishStats
}

// Connect connects to NATS and opens a JetStream context. The client reconnects
// forever after the first connection succeeds, or from the start with
// RetryFirstConnect.
func Connect(ctx context.Context, opts ConnectOptions) (*Conn, error) {
	if opts.InProcess == nil && opts.URL == "" {
		return nil, errors.New("connect to NATS: missing URL: set a URL such as nats://127.0.0.1:4222 or use the embedded server")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.ConnectTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < timeout {
		timeout = time.Until(deadline)
	}
	name := opts.Name
	if name == "" {
		name = "riposte"
	}

	closed := make(chan struct{})
	natsOpts := []nats.Option{
		nats.Name(name),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // A nil error means the client closed the connection.
				log.Warn("NATS disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ReconnectErrHandler(reconnectWarner(log)),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("NATS asynchronous error", "subject", subject, "error", err)
		}),
	}
	if opts.InProcess != nil {
		natsOpts = append(natsOpts, nats.InProcessServer(opts.InProcess.ns))
	}
	if opts.Token != "" {
		natsOpts = append(natsOpts, nats.Token(opts.Token))
	}
	if opts.User != "" {
		natsOpts = append(natsOpts, nats.UserInfo(opts.User, opts.Password))
	}
	if opts.CredentialsFile != "" {
		natsOpts = append(natsOpts, nats.UserCredentials(opts.CredentialsFile))
	}
	if opts.TLS != nil {
		natsOpts = append(natsOpts, nats.Secure(opts.TLS))
	}
	extra, err := clusterOptions(opts)
	if err != nil {
		return nil, err
	}
	natsOpts = append(natsOpts, extra...)

	url := opts.URL
	if opts.InProcess != nil {
		url = opts.InProcess.ClientURL()
	}
	if opts.RetryFirstConnect {
		natsOpts = append(natsOpts, nats.RetryOnFailedConnect(true))
	}
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact(url), err)
	}
	if !nc.IsConnected() {
		log.Warn("NATS is not reachable yet: retrying in the background", "url", redact(url))
	}
	pending := opts.PublishAsyncMaxPending
	if pending == 0 {
		pending = 4000
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(pending))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("open JetStream on %s: %w", redact(url), err)
	}
	return &Conn{NC: nc, JS: js, closed: closed, stats: registerStats(nc, log)}, nil
}

// Close drains pending messages, closes the connection and waits until it is
// closed. Draining gives up after the client's drain timeout, 30 seconds.
func (c *Conn) Close() {
	if c.NC == nil {
		return
	}
	statsByConn.Delete(c.NC) // Stats keeps working through c.stats.
	if c.NC.IsClosed() {
		return
	}
	if err := c.NC.Drain(); err != nil {
		c.NC.Close()
	}
	<-c.closed
}

// reconnectWarner returns the handler of failed reconnection attempts. It
// logs the first failure and then at most one warning per warnInterval, with
// the count of attempts since the previous warning.
func reconnectWarner(log *slog.Logger) nats.ConnErrHandler {
	var (
		mu       sync.Mutex
		last     time.Time
		attempts int
	)
	return func(nc *nats.Conn, err error) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if time.Since(last) < warnInterval {
			return
		}
		last = time.Now()
		log.Warn("NATS connection attempt failed: retrying", "error", err, "attempts", attempts)
		attempts = 0
	}
}

// redact hides a password in a URL such as nats://user:secret@host.
func redact(url string) string {
	at := strings.LastIndexByte(url, '@')
	if at < 0 {
		return url
	}
	start := 0
	if i := strings.Index(url, "://"); i >= 0 && i < at {
		start = i + 3
	}
	return url[:start] + "[redacted]" + url[at:]
}
