package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"reflect"
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

// notificationsExample shows the shape of the notifications list in error
// messages.
const notificationsExample = `notifications:
  - type: slack
    url: https://hooks.example.com/services/T000/B000/XXXX
    outcomes: [acted, failed]
  - type: nats
    subject: riposte.notifications`

// notificationsEnv is the environment variable that viper would read for the
// notifications key, which is a list of objects that a variable cannot carry.
const notificationsEnv = envPrefix + "_NOTIFICATIONS"

// notificationConfigs reads and checks the notifications list of the
// configuration file.
func notificationConfigs(v *viper.Viper) ([]notificationConfig, error) {
	if _, ok := os.LookupEnv(notificationsEnv); ok {
		return nil, fmt.Errorf("environment variable %s is not supported: unset it and set notifications in the configuration file given with --config, such as:\n%s", notificationsEnv, notificationsExample)
	}

	// mapstructure would decode a map as a list of one item, or fail on
	// its keys with an unrelated message, so only a list is accepted.
	raw := v.Get("notifications")
	if raw != nil && reflect.ValueOf(raw).Kind() != reflect.Slice {
		return nil, fmt.Errorf("invalid notifications in the configuration file: got %s, expected a list with one item per notification, each starting with \"- type:\", such as:\n%s", describeValue(raw), notificationsExample)
	}

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
			if problem := urlProblem(c.URL); problem != "" {
				// The URL itself is not shown: a webhook URL often holds its
				// secret, and an error may end up in a shared log.
				return nil, fmt.Errorf("notifications[%d]: invalid url for the %s notification: %s: use an http or https URL such as https://hooks.example.com/services/T000/B000/XXXX", i, c.Type, problem)
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

// describeValue names the YAML type of a value of the configuration file,
// and the keys of a map, whose values may be secrets.
func describeValue(raw any) string {
	value := reflect.ValueOf(raw)
	switch value.Kind() {
	case reflect.Map:
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	default:
		return "a number"
	}
	keys := make([]string, 0, value.Len())
	for _, key := range value.MapKeys() {
		keys = append(keys, fmt.Sprint(key.Interface()))
	}
	if len(keys) == 0 {
		return "an empty map"
	}
	slices.Sort(keys)
	return fmt.Sprintf("a map with the keys %s", strings.Join(keys, ", "))
}

// newDispatcher returns the dispatcher of the notifications that configs
// describe, or nil when there are none. NATS notifications use conn.
func newDispatcher(configs []notificationConfig, conn *transport.Conn, logger *slog.Logger) *notify.Dispatcher {
	if len(configs) == 0 {
		return nil
	}
	var routes []notify.Route
	for i, c := range configs {
		var sink notify.Sink
		target := notify.RedactURL(c.URL)
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
			target = c.Subject
		}
		routes = append(routes, notify.Route{Sink: sink, Policies: c.Policies, Outcomes: c.Outcomes})
		// The URL's path and query, and the header values, may be secrets.
		logger.Info("notification configured", "index", i, "type", c.Type, "target", target,
			"policies", allIfEmpty(c.Policies), "outcomes", allIfEmpty(c.Outcomes))
	}
	return notify.NewDispatcher(notify.Options{Routes: routes, Logger: logger.With("component", "notify")})
}

// allIfEmpty joins the items of a route filter, which selects everything
// when it is empty.
func allIfEmpty(items []string) string {
	if len(items) == 0 {
		return "all"
	}
	return strings.Join(items, ",")
}

// urlProblem describes what makes target unusable as a notification URL,
// without repeating the URL, or returns "".
func urlProblem(target string) string {
	u, err := url.Parse(target)
	switch {
	case err != nil:
		return "it does not parse as a URL"
	case u.Scheme == "":
		return "it has no scheme"
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("its scheme is %q", u.Scheme)
	case u.Host == "":
		return "it has no host"
	}
	return ""
}
