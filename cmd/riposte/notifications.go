package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/responder/notify"
	"github.com/riposte-sec/riposte/transport"
)

// notificationConfig is one entry of the notifications list of the
// configuration file.
type notificationConfig struct {
	// Type is slack, webhook or nats.
	Type     string            `mapstructure:"type"`
	URL      string            `mapstructure:"url"`
	Channel  string            `mapstructure:"channel"`
	Username string            `mapstructure:"username"`
	Subject  string            `mapstructure:"subject"`
	Headers  map[string]string `mapstructure:"headers"`
	Policies []string          `mapstructure:"policies"`
	Outcomes []string          `mapstructure:"outcomes"`
}

// decisionOutcomes are the outcomes a notification route may select.
var decisionOutcomes = []string{
	responder.OutcomeActed, responder.OutcomeFailed, responder.OutcomeDryRun,
	responder.OutcomeSkipped, responder.OutcomeNoAction, responder.OutcomeError,
}

// notificationConfigs reads and checks the notifications list of the
// configuration file.
func notificationConfigs(v *viper.Viper) ([]notificationConfig, error) {
	var configs []notificationConfig
	// An unknown key, such as outcome for outcomes, would drop a filter
	// silently, so it stops the command.
	strict := func(c *mapstructure.DecoderConfig) { c.ErrorUnused = true }
	if err := v.UnmarshalKey("notifications", &configs, strict); err != nil {
		return nil, fmt.Errorf("invalid notifications configuration: %w: the keys are type, url, channel, username, subject, headers, policies and outcomes", err)
	}
	for i, c := range configs {
		switch c.Type {
		case "slack", "webhook":
			if c.URL == "" {
				return nil, fmt.Errorf("notifications[%d]: missing url for the %s notification", i, c.Type)
			}
			u, err := url.Parse(c.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("notifications[%d]: invalid url %q for the %s notification: use an http or https URL such as https://hooks.example.com/...", i, c.URL, c.Type)
			}
		case "nats":
			if c.Subject == "" {
				return nil, fmt.Errorf("notifications[%d]: missing subject for the nats notification", i)
			}
		default:
			return nil, fmt.Errorf("notifications[%d]: invalid type %q: use slack, webhook or nats", i, c.Type)
		}
		for _, o := range c.Outcomes {
			if !slices.Contains(decisionOutcomes, o) {
				return nil, fmt.Errorf("notifications[%d]: invalid outcome %q: use %s", i, o, strings.Join(decisionOutcomes, ", "))
			}
		}
	}
	return configs, nil
}

// newDispatcher returns the dispatcher of the notifications that configs
// describe, or nil when there are none. NATS notifications use conn.
func newDispatcher(configs []notificationConfig, conn *transport.Conn, logger *slog.Logger) *notify.Dispatcher {
	if len(configs) == 0 {
		return nil
	}
	var routes []notify.Route
	for _, c := range configs {
		var sink notify.Sink
		switch c.Type {
		case "slack":
			sink = &notify.Slack{URL: c.URL, Channel: c.Channel, Username: c.Username}
		case "webhook":
			header := http.Header{}
			for k, val := range c.Headers {
				header.Set(k, val)
			}
			sink = &notify.Webhook{URL: c.URL, Header: header}
		case "nats":
			sink = &notify.NATS{Conn: conn.NC, Subject: c.Subject}
		}
		routes = append(routes, notify.Route{Sink: sink, Policies: c.Policies, Outcomes: c.Outcomes})
	}
	return notify.NewDispatcher(notify.Options{Routes: routes, Logger: logger.With("component", "notify")})
}
