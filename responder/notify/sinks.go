package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/nats-io/nats.go"

	"github.com/riposte-sec/riposte/responder"
)

// Slack posts a one-line summary of each decision to a Slack-compatible
// incoming webhook (Slack, Mattermost, Rocket.Chat).
type Slack struct {
	// URL is the incoming webhook URL.
	URL string
	// Channel and Username override the webhook's defaults when set.
	Channel, Username string
	// Client sends the requests. Nil means http.DefaultClient.
	Client *http.Client
}

// Name returns "slack".
func (s *Slack) Name() string { return "slack" }

// Send posts the decision's summary as the message text.
func (s *Slack) Send(ctx context.Context, d responder.Decision) error {
	msg := map[string]string{"text": Summary(d)}
	if s.Channel != "" {
		msg["channel"] = s.Channel
	}
	if s.Username != "" {
		msg["username"] = s.Username
	}
	return postJSON(ctx, s.Client, s.URL, msg, nil)
}

// Webhook posts each decision as JSON to a URL.
type Webhook struct {
	URL string
	// Header is added to every request, for example for authentication.
	Header http.Header
	// Client sends the requests. Nil means http.DefaultClient.
	Client *http.Client
}

// Name returns "webhook".
func (w *Webhook) Name() string { return "webhook" }

// Send posts the decision document.
func (w *Webhook) Send(ctx context.Context, d responder.Decision) error {
	return postJSON(ctx, w.Client, w.URL, d, w.Header)
}

// NATS publishes each decision as JSON on a subject, for consumers that want
// notifications apart from the decisions stream.
type NATS struct {
	Conn    *nats.Conn
	Subject string
}

// Name returns "nats".
func (n *NATS) Name() string { return "nats" }

// Send publishes the decision and flushes the connection.
func (n *NATS) Send(ctx context.Context, d responder.Decision) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("%w: encode decision: %w", ErrPermanent, err)
	}
	if err := n.Conn.Publish(n.Subject, data); err != nil {
		return fmt.Errorf("publish on %s: %w", n.Subject, err)
	}
	return n.Conn.FlushWithContext(ctx)
}

// Summary formats a decision as one line: see responder.Decision.String.
func Summary(d responder.Decision) string {
	return d.String()
}

func postJSON(ctx context.Context, client *http.Client, target string, v any, header http.Header) error {
	if client == nil {
		client = http.DefaultClient
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: encode body: %w", ErrPermanent, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	for k, values := range header {
		for _, value := range values {
			req.Header.Add(k, value)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		// url.Error prints the whole URL, which may hold the webhook's secret.
		return fmt.Errorf("POST %s: %w", RedactURL(target), urlErr.Err)
	}
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	switch {
	case res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return fmt.Errorf("POST %s: %s: %s", RedactURL(target), res.Status, bytes.TrimSpace(body))
	default:
		return fmt.Errorf("%w: POST %s: %s: %s", ErrPermanent, RedactURL(target), res.Status, bytes.TrimSpace(body))
	}
}

// RedactURL returns the scheme and host of a URL, for errors and logs. The
// rest goes, because webhook URLs carry their secret in the path, as Slack's
// do, in the query or in the user information.
func RedactURL(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(url)"
	}
	return u.Scheme + "://" + u.Host + "/..."
}
