// Package webhook receives alerts over HTTP from Falco's http_output and from
// Falcosidekick's webhook output, so that Riposte can answer the alerts of an
// existing Falco deployment.
//
// The receiver follows Falco Talon's conventions: it listens on port 2803
// and accepts POST requests on the path "/". A request body is one alert in
// Falco's JSON alert format, or several separated by newlines. The receiver
// answers 200 only after every alert of the request is stored in the
// JetStream alerts stream; it answers 400, 401, 405, 413, 429 or 503 with a
// JSON body such as {"error": "...", "code": "invalid_alert"} otherwise, and
// then stores none of the request's alerts.
//
// Requests must carry a bearer token or a client certificate that the TLS
// configuration verifies, unless authentication is explicitly disabled.
package webhook
