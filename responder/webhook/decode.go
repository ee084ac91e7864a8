package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/riposte-sec/riposte/alert"
)

// DecodeBody parses a request body holding one alert in Falco's JSON alert
// format, or several separated by whitespace such as newlines. An alert
// without a uuid gets one derived from its bytes, so that a sender that
// retries the same alert produces the same uuid and JetStream drops the
// duplicate. Errors name the alert by its position, counting from 1.
func DecodeBody(body []byte, maxAlerts int) ([]*alert.Alert, error) {
	// Some HTTP clients on Windows start a UTF-8 body with a byte order mark.
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty body: send one alert as a JSON object, or several separated by newlines")
	}
	if a, ok := decodeSingle(body); ok {
		return []*alert.Alert{a}, nil
	}
	return decodeEach(body, maxAlerts)
}

// decodeEach decodes the alerts of a body one by one. It returns no alerts
// and no error for a body of JSON whitespace alone.
func decodeEach(body []byte, maxAlerts int) ([]*alert.Alert, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var alerts []*alert.Alert
	for n := 1; ; n++ {
		rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")
		if len(rest) == 0 {
			break
		}
		if maxAlerts > 0 && n > maxAlerts {
			return nil, fmt.Errorf("more than %d alerts in one request: split the batch", maxAlerts)
		}
		if rest[0] == '[' {
			return nil, fmt.Errorf("alert %d is a JSON array: send one alert as a JSON object, or several as newline-delimited JSON objects without the array", n)
		}
		if rest[0] != '{' {
			return nil, fmt.Errorf("alert %d is not a JSON object: it starts with %q: send one JSON object per alert (enable json_output in Falco)", n, preview(rest))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("alert %d: invalid JSON: %w", n, err)
		}
		a, err := alert.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("alert %d: %w", n, err)
		}
		if a.UUID == "" {
			a.UUID = alert.ContentUUID(raw)
		}
		alerts = append(alerts, a)
	}
	return alerts, nil
}

// decodeSingle decodes a body that holds exactly one valid alert, as Falco's
// http_output and Falcosidekick send them, in one pass. It reports false for
// anything else, which decodeEach then parses alert by alert to name the
// alert at fault. The uuid derives from the same bytes as in that path: the
// object without the JSON whitespace around it.
func decodeSingle(body []byte) (*alert.Alert, bool) {
	raw := bytes.Trim(body, " \t\r\n")
	// alert.Decode also trims Unicode white space, which decodeEach would
	// reject after the object, so such bodies go to decodeEach.
	if len(bytes.TrimSpace(raw)) != len(raw) {
		return nil, false
	}
	a, err := alert.Decode(raw)
	if err != nil {
		return nil, false
	}
	if a.UUID == "" {
		a.UUID = alert.ContentUUID(raw)
	}
	return a, true
}

func preview(b []byte) string {
	if len(b) > 16 {
		return string(b[:16]) + "..."
	}
	return string(b)
}
