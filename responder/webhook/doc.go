// Package webhook receives alerts over HTTP from Falco's http_output and from
// Falcosidekick's webhook output, so that Riposte can respond to the alerts of
// an existing Falco deployment.
//
// The receiver follows Falco Talon's conventions: it listens on port 2803
// and accepts POST requests on the path "/". A request body is one alert in
// Falco's JSON alert format, or several separated by newlines. The receiver
// responds with 200 only after every alert of the request is stored in the
// JetStream alerts stream. Otherwise it responds with a JSON body such as
// {"error": "...", "code": "invalid_alert"} and the status 400, 401, 405,
// 413, 415 or 429, having stored none of the request's alerts, or 503 when
// JetStream failed part-way. A sender that retries after a 503 stores each
// alert once, because alerts are deduplicated by uuid. Each alert is stored
// as one NATS message, so it must fit in the NATS server's max payload. A
// larger alert gets 413 with the code alert_too_large, which no retry fixes.
//
// Requests must carry a bearer token or a client certificate that the TLS
// configuration verifies, unless authentication is explicitly disabled.
package webhook
