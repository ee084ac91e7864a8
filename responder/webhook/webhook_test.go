package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/transport"
)

const token = "s3cret-token"

// falcoPayload is shaped like Falco's http_output body with json_output
// enabled: no uuid, nanosecond evt.time, a null field, and a field name with
// brackets.
const falcoPayload = `{"hostname":"worker-2","output":"12:00:00.123456789: Notice A shell was spawned in a container with an attached terminal (evt_type=execve user=root process=sh proc.aname[2]=containerd-shim)","output_fields":{"container.id":"a1b2c3d4e5f6","container.name":null,"evt.time":1714564800123456789,"evt.time.iso8601":"2024-05-01T12:00:00.123456789Z","evt.type":"execve","k8s.ns.name":"shop","k8s.pod.name":"web-7d9f","proc.aname[2]":"containerd-shim","proc.cmdline":"sh -c id","proc.pid":31337,"user.name":"root"},"priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["T1059","container","maturity_stable","mitre_execution","shell"],"time":"2024-05-01T12:00:00.123456789Z"}`

// sidekickPayload is shaped like Falcosidekick's webhook body, which adds a
// uuid and may leave out the output.
const sidekickPayload = `{"uuid":"0b6b3f52-6d9a-4d8e-9d7e-3a2f4e9b1c11","rule":"Read sensitive file untrusted","priority":"Warning","source":"syscall","time":"2024-05-01T12:00:01.000000001Z","output_fields":{"fd.name":"/etc/shadow","proc.name":"cat","proc.pid":4242},"hostname":"worker-3","tags":["filesystem"]}`

type testEnv struct {
	conn    *transport.Conn
	streams *transport.Streams
	server  *transport.Server
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	s, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := transport.Connect(ctx, transport.ConnectOptions{InProcess: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	streams, err := transport.EnsureStreams(ctx, c.JS, transport.StreamOptions{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{conn: c, streams: streams, server: s}
}

func newReceiver(t testing.TB, e *testEnv, opts Options) *Receiver {
	t.Helper()
	opts.Publisher = transport.NewPublisher(e.conn.JS)
	if opts.Token == "" && !opts.NoAuth && opts.TLS == nil {
		opts.Token = token
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func post(t testing.TB, h http.Handler, body []byte, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	var out map[string]any
	data, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("response body %q is not JSON: %v", data, err)
	}
	return res, out
}

// storedAlerts returns the alerts in the stream, in order.
func storedAlerts(t testing.TB, e *testEnv) []*alert.Alert {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := e.streams.Alerts.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*alert.Alert
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := e.streams.Alerts.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		a, err := alert.Decode(msg.Data)
		if err != nil {
			t.Fatalf("stored alert %s: %v", msg.Data, err)
		}
		out = append(out, a)
	}
	return out
}

func TestFalcoPayloadStoredExactly(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	res, body := post(t, r, []byte(falcoPayload), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", res.StatusCode, body)
	}
	if body["accepted"] != float64(1) {
		t.Errorf("body = %v", body)
	}
	stored := storedAlerts(t, e)
	if len(stored) != 1 {
		t.Fatalf("%d alerts stored, want 1", len(stored))
	}
	a := stored[0]
	if n, _ := a.OutputFields["evt.time"].(json.Number); n != "1714564800123456789" {
		t.Errorf("evt.time = %v, want exact 1714564800123456789", a.OutputFields["evt.time"])
	}
	if s, _ := a.FieldString("evt.time.iso8601"); s != "2024-05-01T12:00:00.123456789Z" {
		t.Errorf("evt.time.iso8601 = %q", s)
	}
	if v, ok := a.Field("container.name"); !ok || v != nil {
		t.Errorf("container.name = %v, %v; want present and null", v, ok)
	}
	if s, _ := a.FieldString("proc.aname[2]"); s != "containerd-shim" {
		t.Errorf("proc.aname[2] = %q", s)
	}
	if a.Time.Nanosecond() != 123456789 {
		t.Errorf("time = %v", a.Time)
	}
	uuids, _ := body["uuids"].([]any)
	if len(uuids) != 1 || uuids[0] != a.UUID || a.UUID == "" {
		t.Errorf("response uuids %v, stored uuid %q", uuids, a.UUID)
	}
}

func TestRetriedFalcoAlertStoredOnce(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	for i := range 3 {
		res, body := post(t, r, []byte(falcoPayload), nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %v", res.StatusCode, body)
		}
		// The first post stores the alert; the retries are duplicates,
		// and the response lists them.
		dups, _ := body["duplicates"].([]any)
		if i == 0 && len(dups) != 0 {
			t.Errorf("first post: duplicates = %v, want none", dups)
		}
		if i > 0 && (len(dups) != 1 || dups[0] != body["uuids"].([]any)[0]) {
			t.Errorf("post %d: duplicates = %v, want the alert's uuid", i+1, body["duplicates"])
		}
	}
	if n := len(storedAlerts(t, e)); n != 1 {
		t.Errorf("%d alerts stored after three identical posts, want 1", n)
	}
}

func TestSidekickPayloadKeepsUUID(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	if res, body := post(t, r, []byte(sidekickPayload), nil); res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", res.StatusCode, body)
	}
	stored := storedAlerts(t, e)
	if len(stored) != 1 || stored[0].UUID != "0b6b3f52-6d9a-4d8e-9d7e-3a2f4e9b1c11" {
		t.Fatalf("stored = %+v", stored)
	}
	if stored[0].Output != "" {
		t.Errorf("output = %q, want empty", stored[0].Output)
	}
}

func TestNewlineDelimitedBatch(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	body := falcoPayload + "\n" + sidekickPayload + "\n\n" + strings.Replace(falcoPayload, "worker-2", "worker-9", 1) + "\n"
	res, out := post(t, r, []byte(body), map[string]string{"Content-Type": "application/x-ndjson"})
	if res.StatusCode != http.StatusOK || out["accepted"] != float64(3) {
		t.Fatalf("status %d: %v", res.StatusCode, out)
	}
	stored := storedAlerts(t, e)
	if len(stored) != 3 {
		t.Fatalf("%d alerts stored, want 3", len(stored))
	}
	if stored[2].Hostname != "worker-9" {
		t.Errorf("third alert from %q", stored[2].Hostname)
	}
}

func TestUnicodeAndInvalidUTF8(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	body := []byte(strings.Replace(falcoPayload, `"proc.cmdline":"sh -c id"`, "\"proc.cmdline\":\"sh -c '\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\xa5 \xff\xfe'\"", 1))
	res, out := post(t, r, body, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", res.StatusCode, out)
	}
	got, _ := storedAlerts(t, e)[0].FieldString("proc.cmdline")
	if got != "sh -c '日本 🔥 \uFFFD\uFFFD'" {
		t.Errorf("proc.cmdline = %q", got)
	}
}

func TestRejections(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{MaxBodyBytes: 4096, RateLimit: -1})
	big := bytes.Repeat([]byte(" "), 10<<20)
	copy(big, falcoPayload)
	tests := []struct {
		name     string
		body     []byte
		header   map[string]string
		status   int
		code     string
		contains string
	}{
		{"wrong token", []byte(falcoPayload), map[string]string{"Authorization": "Bearer nope"}, 401, CodeUnauthorized, "invalid bearer token"},
		{"missing token", []byte(falcoPayload), map[string]string{"Authorization": ""}, 401, CodeUnauthorized, "missing Authorization"},
		{"basic auth", []byte(falcoPayload), map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, 401, CodeUnauthorized, "Bearer scheme"},
		{"10 MiB body", big, nil, 413, CodeBodyTooLarge, "limit of 4096 bytes"},
		{"text output", []byte("12:00:00 Notice shell"), nil, 400, CodeInvalidAlert, `alert 1 is not a JSON object: it starts with "12:00:00 Notice ..."`},
		{"truncated", []byte(falcoPayload[:100]), nil, 400, CodeInvalidAlert, "alert 1: invalid JSON: unexpected EOF"},
		{"empty", nil, nil, 400, CodeInvalidAlert, "empty body"},
		{"array", []byte("[" + falcoPayload + "]"), nil, 400, CodeInvalidAlert, "alert 1 is a JSON array: send one alert as a JSON object, or several as newline-delimited JSON objects"},
		{"array after an alert", []byte(falcoPayload + "\n[" + falcoPayload + "]"), nil, 400, CodeInvalidAlert, "alert 2 is a JSON array"},
		{"missing rule", []byte(`{"priority":"Warning","time":"2024-01-01T00:00:00Z"}`), nil, 400, CodeInvalidAlert, `alert 1: invalid alert: missing "rule"`},
		{"second alert bad", []byte(falcoPayload + "\n{\"rule\":\"r\"}"), nil, 400, CodeInvalidAlert, `alert 2: invalid alert: missing "time"`},
		{"bad priority", []byte(strings.Replace(falcoPayload, `"Notice"`, `"Loud"`, 1)), nil, 400, CodeInvalidAlert, `invalid priority "Loud"`},
		{"form content", []byte(falcoPayload), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, CodeUnsupportedType, "send application/json"},
		{"gzip body", []byte(falcoPayload), map[string]string{"Content-Encoding": "gzip"}, 415, CodeUnsupportedType, `content encoding "gzip" not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, out := post(t, r, tt.body, tt.header)
			if res.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (%v)", res.StatusCode, tt.status, out)
			}
			if out["code"] != tt.code {
				t.Errorf("code = %v, want %s", out["code"], tt.code)
			}
			if msg, _ := out["error"].(string); !strings.Contains(msg, tt.contains) {
				t.Errorf("error = %q, want it to contain %q", msg, tt.contains)
			}
			if res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("content type = %q", res.Header.Get("Content-Type"))
			}
		})
	}
	if n := len(storedAlerts(t, e)); n != 0 {
		t.Errorf("%d alerts stored from rejected requests", n)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET: status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestRateLimited(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{RateLimit: 0.001, RateBurst: 2})
	var statuses []int
	for range 3 {
		res, _ := post(t, r, []byte(sidekickPayload), nil)
		statuses = append(statuses, res.StatusCode)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 429 {
		t.Errorf("statuses = %v, want 200 200 429", statuses)
	}
}

func TestUnavailableWhenJetStreamDown(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{PublishTimeout: 2 * time.Second})
	e.server.Close()
	res, out := post(t, r, []byte(falcoPayload), nil)
	if res.StatusCode != http.StatusServiceUnavailable || out["code"] != CodeUnavailable {
		t.Errorf("status %d, body %v; want 503 unavailable", res.StatusCode, out)
	}
}

func TestNewRequiresAuth(t *testing.T) {
	e := newTestEnv(t)
	_, err := New(Options{Publisher: transport.NewPublisher(e.conn.JS)})
	if err == nil || !strings.Contains(err.Error(), "no authentication configured") {
		t.Errorf("New without auth: %v", err)
	}
	if _, err := New(Options{Publisher: transport.NewPublisher(e.conn.JS), NoAuth: true}); err != nil {
		t.Errorf("New with NoAuth: %v", err)
	}
}

func TestNewRejectsTokenWithLineBreak(t *testing.T) {
	e := newTestEnv(t)
	_, err := New(Options{Publisher: transport.NewPublisher(e.conn.JS), Token: "first\nsecond"})
	if err == nil || !strings.Contains(err.Error(), "invalid token") {
		t.Errorf("New with a two-line token: %v, want an invalid token error", err)
	}
	if _, err := New(Options{Publisher: transport.NewPublisher(e.conn.JS), Token: token}); err != nil {
		t.Errorf("New with a one-line token: %v", err)
	}
}

func TestServeTalonPathAndExtras(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	if got := r.Pattern(); got != "/{$}" {
		t.Errorf("Pattern = %q", got)
	}
	mux := http.NewServeMux()
	mux.Handle(r.Pattern(), r)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(falcoPayload))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("POST / = %d", res.StatusCode)
	}
	res, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Errorf("GET /healthz = %d", res.StatusCode)
	}
}

func TestMutualTLS(t *testing.T) {
	e := newTestEnv(t)
	ca, caKey := newCA(t)
	serverCert := issue(t, ca, caKey, "127.0.0.1", true)
	clientCert := issue(t, ca, caKey, "falco", false)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	r := newReceiver(t, e, Options{TLS: tlsConfig})

	srv := httptest.NewUnstartedServer(r)
	srv.TLS = tlsConfig
	srv.StartTLS()
	defer srv.Close()

	client := func(certs []tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
	}
	res, err := client([]tls.Certificate{clientCert}).Post(srv.URL+"/", "application/json", strings.NewReader(falcoPayload))
	if err != nil {
		t.Fatalf("POST with client certificate: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("POST with client certificate = %d", res.StatusCode)
	}
	if _, err := client(nil).Post(srv.URL+"/", "application/json", strings.NewReader(falcoPayload)); err == nil {
		t.Error("POST without client certificate succeeded")
	}
}

func newCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func issue(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP(name)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// alertOfSize returns a Falco alert of exactly size bytes of JSON, with the
// rule name rule.
func alertOfSize(t testing.TB, rule string, size int) []byte {
	t.Helper()
	base := strings.Replace(falcoPayload, "Terminal shell in container", rule, 1)
	body := strings.Replace(base, `"output":"`, `"output":"`+strings.Repeat("x", size-len(base)), 1)
	if len(body) != size {
		t.Fatalf("alert of %d bytes, want %d", len(body), size)
	}
	return []byte(body)
}

// TestAlertLargerThanMaxPayload sends alerts that fit the body limit but
// not the max payload of a nats-server reached over TCP. They must get 413
// with the real limit, and not 503, which would make senders retry forever.
func TestAlertLargerThanMaxPayload(t *testing.T) {
	s, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := transport.Connect(ctx, transport.ConnectOptions{URL: s.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	streams, err := transport.EnsureStreams(ctx, c.JS, transport.StreamOptions{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{conn: c, streams: streams, server: s}
	maxPayload := c.NC.MaxPayload()
	if maxPayload != 1<<20 {
		t.Fatalf("max payload = %d, want nats-server's default of 1 MiB", maxPayload)
	}
	maxPayloadText := fmt.Sprintf("max payload of %d bytes", maxPayload)

	small := string(alertOfSize(t, "Small alert", 2000))
	tests := []struct {
		name         string
		maxBodyBytes int64
		body         string
		contains     string
	}{
		{"lowest size over the limit", 0, string(alertOfSize(t, "Large alert", 1_048_481)), "alert 1 of 1 "},
		{"size of the body limit", 0, string(alertOfSize(t, "Large alert", 1<<20)), "alert 1 of 1 "},
		{"2 MiB with a 4 MiB body limit", 4 << 20, string(alertOfSize(t, "Large alert", 2<<20)), "alert 1 of 1 "},
		{"second of a batch", 4 << 20, small + "\n" + string(alertOfSize(t, "Large alert", 2<<20)) + "\n" + small, `alert 2 of 3 (uuid `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, e, Options{MaxBodyBytes: tt.maxBodyBytes})
			res, out := post(t, r, []byte(tt.body), nil)
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d, want 413 (%v)", res.StatusCode, out)
			}
			if out["code"] != CodeAlertTooLarge {
				t.Errorf("code = %v, want %s", out["code"], CodeAlertTooLarge)
			}
			msg, _ := out["error"].(string)
			for _, want := range []string{tt.contains, maxPayloadText, `rule "Large alert"`, "raise max_payload"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error = %.300q, want it to contain %q", msg, want)
				}
			}
			if ra := res.Header.Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After = %q, want none", ra)
			}
		})
	}
	if n := len(storedAlerts(t, e)); n != 0 {
		t.Errorf("%d alerts stored from rejected requests, want 0", n)
	}

	// A batch larger than the max payload in total is stored when each
	// alert fits.
	third := string(alertOfSize(t, "Batch alert", 600_000))
	batch := third + "\n" + strings.Replace(third, "worker-2", "worker-3", 1) + "\n" + strings.Replace(third, "worker-2", "worker-4", 1)
	r := newReceiver(t, e, Options{MaxBodyBytes: 4 << 20})
	res, out := post(t, r, []byte(batch), nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("batch of %d bytes: status %d, want 200 (%.300v)", len(batch), res.StatusCode, out)
	}
	if n := len(storedAlerts(t, e)); n != 3 {
		t.Errorf("%d alerts stored from the batch, want 3", n)
	}
}

func TestRejectedRequestsLoggedOncePerInterval(t *testing.T) {
	e := newTestEnv(t)
	var logs bytes.Buffer
	r := newReceiver(t, e, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 50 {
		res, _ := post(t, r, []byte(falcoPayload), map[string]string{"Authorization": "Bearer wrong"})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token: status %d, want 401", res.StatusCode)
		}
	}
	res, _ := post(t, r, []byte("{"), nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid body: status %d, want 400", res.StatusCode)
	}
	if got := strings.Count(logs.String(), "webhook request rejected"); got != 2 {
		t.Errorf("%d log lines for 50 wrong tokens and one invalid body, want 2: one per error code\n%s", got, logs.String())
	}
}

func TestUnknownPathGetsJSONError(t *testing.T) {
	e := newTestEnv(t)
	r := newReceiver(t, e, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ServeListener(ctx, ln, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeListener: %v", err)
		}
	}()

	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/other", strings.NewReader(falcoPayload))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body errorBody
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("404 body is not JSON: %v", err)
	}
	if res.StatusCode != http.StatusNotFound || body.Code != CodeNotFound || !strings.Contains(body.Error, "POST to /") {
		t.Errorf("unknown path = %d %+v, want 404 not_found naming the webhook's path", res.StatusCode, body)
	}
}
