package webhook

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/time/rate"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/internal/lograte"
	"github.com/riposte-sec/riposte/transport"
)

// Defaults of Options.
const (
	DefaultAddr         = "127.0.0.1:2803"
	DefaultPath         = "/"
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxAlerts    = 1000
	DefaultRateLimit    = 2000
)

// Error codes in JSON error bodies.
const (
	CodeInvalidAlert     = "invalid_alert"
	CodeUnauthorized     = "unauthorized"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "body_too_large"
	CodeAlertTooLarge    = "alert_too_large"
	CodeRateLimited      = "rate_limited"
	CodeUnavailable      = "unavailable"
	CodeUnsupportedType  = "unsupported_media_type"
	CodeNotFound         = "not_found"
)

// Publisher stores alerts. *transport.Publisher implements it.
type Publisher interface {
	// StoreBatch stores alerts and returns, per alert, whether it was a
	// duplicate of one already stored, and the error when it was not
	// stored.
	StoreBatch(ctx context.Context, alerts []*alert.Alert) (duplicates []bool, errs []error)
	// CheckSize returns a *transport.PayloadTooLargeError when an alert
	// is too large to store, whatever the retries.
	CheckSize(a *alert.Alert) error
}

var _ Publisher = (*transport.Publisher)(nil)

// Options configure the receiver.
type Options struct {
	// Addr is the listen address. Empty means 127.0.0.1:2803, Falco Talon's
	// port on the loopback interface; set ":2803" to receive from other hosts.
	Addr string
	// Path is the URL path that accepts alerts. Empty means "/".
	Path string
	// Token is the bearer token that requests must carry in an
	// "Authorization: Bearer <token>" header.
	Token string
	// TLS serves HTTPS. With ClientAuth set to tls.RequireAndVerifyClientCert
	// and ClientCAs set, a verified client certificate authenticates requests.
	TLS *tls.Config
	// NoAuth accepts requests without a token or client certificate. It must
	// be set explicitly when neither is configured.
	NoAuth bool
	// MaxBodyBytes bounds a request body. Zero means 1 MiB.
	MaxBodyBytes int64
	// MaxAlerts bounds the alerts in one request. Zero means 1,000.
	MaxAlerts int
	// RateLimit is the sustained number of requests per second across all
	// clients. Zero means 2,000; negative disables the limit.
	RateLimit float64
	// RateBurst is the number of requests allowed at once above RateLimit.
	// Zero means twice RateLimit.
	RateBurst int
	// PublishTimeout bounds storing the alerts of one request. Zero means 10
	// seconds.
	PublishTimeout time.Duration
	// Publisher stores the alerts. Required.
	Publisher Publisher
	// Logger receives rejected requests and errors. Nil discards them.
	Logger *slog.Logger
	// OnRequest, when set, is called after each request with the status code
	// and the number of alerts stored, for metrics.
	OnRequest func(status, alerts int)
}

// Receiver is the webhook HTTP handler.
type Receiver struct {
	opts    Options
	limiter *rate.Limiter
	log     *slog.Logger
	// rejections limits the log lines of rejected requests to one per
	// error code every logInterval, since a client that keeps sending a
	// wrong token or too fast would flood the log.
	rejections *lograte.Limiter
	mtls       bool
}

// logInterval is the minimum time between two log lines about rejected
// requests with the same error code.
const logInterval = 10 * time.Second

// New checks the options and returns a receiver.
func New(opts Options) (*Receiver, error) {
	if opts.Publisher == nil {
		return nil, errors.New("webhook: missing publisher")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if !strings.HasPrefix(opts.Path, "/") {
		return nil, fmt.Errorf("webhook: invalid path %q: start it with /", opts.Path)
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxAlerts == 0 {
		opts.MaxAlerts = DefaultMaxAlerts
	}
	if opts.PublishTimeout == 0 {
		opts.PublishTimeout = 10 * time.Second
	}
	r := &Receiver{opts: opts, log: opts.Logger, rejections: lograte.New(logInterval)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if err := CheckToken(opts.Token); err != nil {
		return nil, fmt.Errorf("webhook: invalid token: %w", err)
	}
	r.mtls = opts.TLS != nil && opts.TLS.ClientAuth == tls.RequireAndVerifyClientCert && opts.TLS.ClientCAs != nil
	if opts.Token == "" && !r.mtls && !opts.NoAuth {
		return nil, errors.New("webhook: no authentication configured: set a bearer token, or TLS with ClientAuth RequireAndVerifyClientCert and ClientCAs, or disable authentication explicitly")
	}
	if opts.RateLimit >= 0 {
		limit := opts.RateLimit
		if limit == 0 {
			limit = DefaultRateLimit
		}
		burst := opts.RateBurst
		if burst == 0 {
			burst = int(2 * limit)
		}
		r.limiter = rate.NewLimiter(rate.Limit(limit), max(burst, 1))
	}
	return r, nil
}

// CheckToken returns an error when a bearer token contains a control
// character, such as a tab or a line break. A header value cannot carry a
// line break, so a token with one never matches. The other control
// characters are rejected with it.
func CheckToken(token string) error {
	if strings.ContainsFunc(token, unicode.IsControl) {
		return errors.New("the token contains a control character, such as a tab or a line break: write the token alone, on one line")
	}
	return nil
}

// Pattern returns the ServeMux pattern of the alert endpoint, such as "/{$}"
// for the path "/", which matches that path alone.
func (r *Receiver) Pattern() string {
	if strings.HasSuffix(r.opts.Path, "/") {
		return r.opts.Path + "{$}"
	}
	return r.opts.Path
}

// errorBody is the JSON body of an error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// acceptedBody is the JSON body of a 200 response. Duplicates lists the
// uuids of alerts that were already stored, within the duplicate window of
// the alerts stream, and so get no second decision.
type acceptedBody struct {
	Accepted   int      `json:"accepted"`
	UUIDs      []string `json:"uuids"`
	Duplicates []string `json:"duplicates,omitempty"`
}

// ServeHTTP stores the alerts of one request.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	status, stored := r.serve(w, req)
	if r.opts.OnRequest != nil {
		r.opts.OnRequest(status, stored)
	}
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) (int, int) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return r.fail(w, req, http.StatusMethodNotAllowed, CodeMethodNotAllowed, fmt.Sprintf("method %s not allowed: send alerts with POST", req.Method)), 0
	}
	if msg := r.authenticate(req); msg != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="riposte"`)
		return r.fail(w, req, http.StatusUnauthorized, CodeUnauthorized, msg), 0
	}
	if r.limiter != nil && !r.limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		return r.fail(w, req, http.StatusTooManyRequests, CodeRateLimited, fmt.Sprintf("rate limit of %g requests per second exceeded: retry later, or raise the receiver's --webhook.rate-limit", float64(r.limiter.Limit()))), 0
	}
	if ce := req.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return r.fail(w, req, http.StatusUnsupportedMediaType, CodeUnsupportedType, fmt.Sprintf("content encoding %q not supported: send the alerts uncompressed", ce)), 0
	}
	if ct := req.Header.Get("Content-Type"); ct != "" && !jsonContentType(ct) {
		return r.fail(w, req, http.StatusUnsupportedMediaType, CodeUnsupportedType, fmt.Sprintf("content type %q not supported: send application/json (enable json_output in Falco)", ct)), 0
	}
	if req.ContentLength > r.opts.MaxBodyBytes {
		return r.fail(w, req, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, r.tooLarge()), 0
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.opts.MaxBodyBytes))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return r.fail(w, req, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, r.tooLarge()), 0
	}
	if err != nil {
		return r.fail(w, req, http.StatusBadRequest, CodeInvalidAlert, "read body: "+err.Error()), 0
	}
	alerts, err := DecodeBody(body, r.opts.MaxAlerts)
	if err != nil {
		return r.fail(w, req, http.StatusBadRequest, CodeInvalidAlert, err.Error()), 0
	}
	// A batch may be larger than the NATS max payload in total, but each
	// alert is one NATS message, so each must fit.
	for i, a := range alerts {
		err := r.opts.Publisher.CheckSize(a)
		if status := r.rejectTooLarge(w, req, i, len(alerts), a, err); status != 0 {
			return status, 0
		}
		if err != nil {
			return r.fail(w, req, http.StatusBadRequest, CodeInvalidAlert, fmt.Sprintf("alert %d: %v", i+1, err)), 0
		}
	}

	ctx, cancel := context.WithTimeout(req.Context(), r.opts.PublishTimeout)
	defer cancel()
	duplicates, errs := r.opts.Publisher.StoreBatch(ctx, alerts)
	uuids := make([]string, len(alerts))
	var dupUUIDs []string
	for i, a := range alerts {
		uuids[i] = a.UUID
		if duplicates[i] {
			dupUUIDs = append(dupUUIDs, a.UUID)
		}
		// The server's max payload may have shrunk since CheckSize, on a
		// reconnection. No retry stores such an alert, so it gets 413 too,
		// although the alerts before it may be stored.
		if status := r.rejectTooLarge(w, req, i, len(alerts), a, errs[i]); status != 0 {
			return status, 0
		}
		if errs[i] != nil {
			// Alerts stored before the failure stay stored; the sender retries
			// the whole request and JetStream drops the duplicates by uuid.
			w.Header().Set("Retry-After", "1")
			r.log.Error("store webhook alert", "alert_uuid", a.UUID, "error", errs[i])
			return r.fail(w, req, http.StatusServiceUnavailable, CodeUnavailable, fmt.Sprintf("alert %d not stored: %v: retry the request", i+1, errs[i])), 0
		}
	}
	if len(dupUUIDs) > 0 {
		r.log.Info("webhook alerts already stored: no second decision", "alert_uuids", dupUUIDs)
	}
	writeJSON(w, http.StatusOK, acceptedBody{Accepted: len(alerts), UUIDs: uuids, Duplicates: dupUUIDs})
	return http.StatusOK, len(alerts)
}

func (r *Receiver) tooLarge() string {
	return fmt.Sprintf("body larger than the limit of %d bytes: send fewer alerts per request, or raise the receiver's --webhook.max-body-bytes, but each alert must still fit in the NATS server's max payload", r.opts.MaxBodyBytes)
}

// rejectTooLarge responds 413 and returns its status when err, from checking
// or storing alert i of n, is a *transport.PayloadTooLargeError. It returns 0
// for any other error.
func (r *Receiver) rejectTooLarge(w http.ResponseWriter, req *http.Request, i, n int, a *alert.Alert, err error) int {
	var tooLarge *transport.PayloadTooLargeError
	if !errors.As(err, &tooLarge) {
		return 0
	}
	msg := fmt.Sprintf("alert %d of %d (uuid %s, rule %q) is %d bytes as a NATS message, larger than the NATS server's max payload of %d bytes, so no retry can store it: "+
		"raise max_payload in the NATS server configuration, or shorten the alert's output and output fields",
		i+1, n, a.UUID, a.Rule, tooLarge.Size, tooLarge.MaxPayload)
	return r.fail(w, req, http.StatusRequestEntityTooLarge, CodeAlertTooLarge, msg)
}

// authenticate returns why a request is not authenticated, or "".
func (r *Receiver) authenticate(req *http.Request) string {
	if r.mtls && (req.TLS == nil || len(req.TLS.VerifiedChains) == 0) {
		return "missing verified client certificate"
	}
	if r.opts.Token == "" {
		return ""
	}
	auth := req.Header.Get("Authorization")
	if auth == "" {
		return `missing Authorization header: send "Authorization: Bearer <token>"`
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return `invalid Authorization header: use the Bearer scheme`
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(r.opts.Token)) != 1 {
		return "invalid bearer token"
	}
	return ""
}

func jsonContentType(ct string) bool {
	mediaType, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case "application/json", "application/x-ndjson", "application/jsonl", "text/plain":
		return true
	}
	return false
}

func (r *Receiver) fail(w http.ResponseWriter, req *http.Request, status int, code, msg string) int {
	if ok, skipped := r.rejections.Allow(code); ok {
		r.log.Warn("webhook request rejected", "status", status, "code", code, "remote", req.RemoteAddr, "error", msg,
			"not_logged_since_last", skipped)
	}
	writeJSON(w, status, errorBody{Error: msg, Code: code})
	return status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(`{"error":"encode response","code":"internal"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// Listen binds opts.Addr, so that an address in use is reported before the
// receiver is announced as running. Pass the listener to ServeListener.
func (r *Receiver) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", r.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("webhook: listen on %s: %w: choose a free address with --webhook.addr", r.opts.Addr, err)
	}
	return ln, nil
}

// Serve listens on opts.Addr and serves as ServeListener does.
func (r *Receiver) Serve(ctx context.Context, extra map[string]http.Handler) error {
	ln, err := r.Listen()
	if err != nil {
		return err
	}
	return r.ServeListener(ctx, ln, extra)
}

// ServeListener serves the receiver, and any extra handlers given by
// pattern, on ln until ctx ends. It then stops accepting requests and waits
// up to 10 seconds for those in progress. It closes ln.
func (r *Receiver) ServeListener(ctx context.Context, ln net.Listener, extra map[string]http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle(r.Pattern(), r)
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	if _, registered := extra["/"]; !registered && r.Pattern() != "/" {
		// Any other path gets a JSON error too, naming the webhook's path.
		mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
			r.fail(w, req, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no webhook at path %s: send alerts with POST to %s", req.URL.Path, r.opts.Path))
		})
	}
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         r.opts.TLS,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
	}
	r.log.Info("webhook listening", "addr", ln.Addr().String(), "path", r.opts.Path, "tls", r.opts.TLS != nil)

	errc := make(chan error, 1)
	go func() {
		if r.opts.TLS != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("webhook: shut down: %w", err)
	}
	return nil
}
