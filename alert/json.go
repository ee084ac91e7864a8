package alert

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// ErrInvalid is wrapped by every error that Decode and Validate return for
// input that is not a usable alert.
var ErrInvalid = errors.New("invalid alert")

// TimeLayout is the layout of the "time" field: RFC 3339 in UTC with exactly
// nine fractional digits, as Falco writes it.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// MaxUUIDLength is the longest uuid accepted from outside. Canonical UUIDs are
// 36 characters, and longer ids would only bloat subjects and KV keys.
const MaxUUIDLength = 64

// wireAlert is the JSON layout of an alert. Keys are in the order Falco
// writes them, which is alphabetical, with the uuid last.
type wireAlert struct {
	Hostname     string         `json:"hostname"`
	Output       string         `json:"output"`
	OutputFields map[string]any `json:"output_fields"`
	Priority     *string        `json:"priority"`
	Rule         string         `json:"rule"`
	Source       string         `json:"source"`
	Tags         []string       `json:"tags"`
	Time         string         `json:"time"`
	UUID         string         `json:"uuid,omitempty"`

	// AlertUUID and Outcome are keys of a Riposte decision record, which
	// has a rule, a priority and a time too. Decode rejects a record that
	// has both, such as one that a decision notifier posted back to the
	// webhook, so that it does not become an alert.
	AlertUUID json.RawMessage `json:"alert_uuid,omitempty"`
	Outcome   json.RawMessage `json:"outcome,omitempty"`
}

// decoded reports what decode saw besides the alert.
type decoded struct {
	hasPriority bool
	isDecision  bool
}

// MarshalJSON encodes the alert in Falco's JSON alert format: the time in UTC
// with nanoseconds, tags sorted, output_fields as an object (empty when nil)
// with nil values written as null.
func (a Alert) MarshalJSON() ([]byte, error) {
	prio, err := a.Priority.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("encode alert %s: %w", a.UUID, err)
	}
	prioName := string(prio)
	w := wireAlert{
		Hostname:     a.Hostname,
		Output:       a.Output,
		OutputFields: a.OutputFields,
		Priority:     &prioName,
		Rule:         a.Rule,
		Source:       a.Source,
		Tags:         a.Tags,
		Time:         a.Time.UTC().Format(TimeLayout),
		UUID:         a.UUID,
	}
	if w.OutputFields == nil {
		w.OutputFields = map[string]any{}
	}
	if w.Tags == nil {
		w.Tags = []string{}
	} else if !slices.IsSorted(w.Tags) {
		w.Tags = slices.Sorted(slices.Values(w.Tags))
	}
	// Falco writes <, > and & as they are; json.Marshal would escape them
	// as \u003c, \u003e and \u0026.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON decodes one alert in Falco's JSON alert format. Numbers in
// output_fields become json.Number so that nanosecond times stay exact. Keys
// that Falco may leave out (output, tags, uuid) may be missing; unknown keys are
// ignored. Invalid UTF-8 in strings is replaced by U+FFFD, as encoding/json
// does. UnmarshalJSON does not check for required fields, so a missing
// priority leaves the zero value, PriorityEmergency: use Decode, which rejects
// it, for input from outside.
func (a *Alert) UnmarshalJSON(data []byte) error {
	_, err := a.decode(data)
	return err
}

// decode implements UnmarshalJSON and reports whether the priority was set,
// since the zero Priority is a valid one.
func (a *Alert) decode(data []byte) (decoded, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var w wireAlert
	if err := dec.Decode(&w); err != nil {
		return decoded{}, fmt.Errorf("%w: %w", ErrInvalid, describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return decoded{}, fmt.Errorf("%w: data after the first JSON object at byte %d: send one object per alert", ErrInvalid, dec.InputOffset())
	}

	var out Alert
	if w.Priority != nil {
		p, err := ParsePriority(*w.Priority)
		if err != nil {
			return decoded{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		out.Priority = p
	}
	if w.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, w.Time)
		if err != nil {
			return decoded{}, fmt.Errorf("%w: time %q is not RFC 3339: write it as 2006-01-02T15:04:05.999999999Z", ErrInvalid, w.Time)
		}
		out.Time = t.UTC()
	}
	out.UUID = w.UUID
	out.Rule = w.Rule
	out.Source = w.Source
	out.Hostname = w.Hostname
	out.Output = w.Output
	out.OutputFields = w.OutputFields
	out.Tags = w.Tags
	if !slices.IsSorted(out.Tags) {
		slices.Sort(out.Tags)
	}
	*a = out
	return decoded{hasPriority: w.Priority != nil, isDecision: w.AlertUUID != nil && w.Outcome != nil}, nil
}

func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field == "priority" {
		return fmt.Errorf("priority is a JSON %s, not a string: use a name such as \"Warning\"", typeErr.Value)
	}
	if errors.As(err, &typeErr) && typeErr.Field == "" {
		return fmt.Errorf("the alert is a JSON %s, not an object: send each alert as a JSON object", typeErr.Value)
	}
	if errors.As(err, &typeErr) {
		return fmt.Errorf("field %q has a JSON %s where %s is expected", typeErr.Field, typeErr.Value, jsonKind(typeErr.Type))
	}
	return err
}

// jsonKind names the JSON kind that decodes into t, such as "an object".
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}

// Decode parses one alert in Falco's JSON alert format and validates it. The
// data must hold exactly one JSON object, surrounding whitespace aside. Errors
// wrap ErrInvalid.
func Decode(data []byte) (*Alert, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input: send one JSON object", ErrInvalid)
	}
	if data[0] != '{' {
		return nil, fmt.Errorf("%w: input starts with %q: send one JSON object", ErrInvalid, truncate(data, 16))
	}
	var a Alert
	seen, err := a.decode(data)
	if err != nil {
		return nil, err
	}
	if seen.isDecision {
		return nil, fmt.Errorf("%w: the object for rule %q is a Riposte decision record (it has \"alert_uuid\" and \"outcome\"), not an alert: use alerts in Falco's JSON alert format, and send decision notifications elsewhere", ErrInvalid, a.Rule)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if !seen.hasPriority {
		return nil, fmt.Errorf("%w: missing \"priority\" in alert for rule %q: use a name such as \"Warning\"", ErrInvalid, a.Rule)
	}
	return &a, nil
}

// Validate checks the fields every alert needs: a rule, a time and a valid
// priority. A uuid, when set, must be printable ASCII without '.', '*' or '>',
// because it becomes part of NATS message ids and KV keys.
func (a *Alert) Validate() error {
	if a.Rule == "" {
		return fmt.Errorf("%w: missing \"rule\"", ErrInvalid)
	}
	if a.Time.IsZero() {
		return fmt.Errorf("%w: missing \"time\" in alert for rule %q", ErrInvalid, a.Rule)
	}
	if a.Priority < PriorityEmergency || a.Priority > PriorityDebug {
		return fmt.Errorf("%w: priority %d out of range in alert for rule %q", ErrInvalid, int(a.Priority), a.Rule)
	}
	if len(a.UUID) > MaxUUIDLength {
		return fmt.Errorf("%w: uuid is %d bytes long, the maximum is %d", ErrInvalid, len(a.UUID), MaxUUIDLength)
	}
	for i := 0; i < len(a.UUID); i++ {
		c := a.UUID[i]
		if c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' {
			return fmt.Errorf("%w: uuid %q contains %q: use letters, digits and dashes", ErrInvalid, a.UUID, c)
		}
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// NewUUID returns a random (version 4) UUID in canonical form.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // Since Go 1.24, crypto/rand.Read never returns an error.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80

	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// ContentUUID derives a UUID (version 8, RFC 9562) from the SHA-256 of an
// alert's JSON bytes, without the white space around them. An alert that
// Falco wrote without a uuid so gets the same uuid each time it is read,
// from the webhook, a replayed file or an evaluated file.
func ContentUUID(raw []byte) string {
	sum := sha256.Sum256(bytes.Trim(raw, " \t\r\n"))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// EnsureUUID sets a new UUID when the alert has none, as for alerts from Falco,
// which does not write one.
func (a *Alert) EnsureUUID() {
	if a.UUID == "" {
		a.UUID = NewUUID()
	}
}

// Field returns the value of an output field and whether the key is present.
// A present key may hold nil, which is how Falco writes a missing value.
func (a *Alert) Field(name string) (any, bool) {
	v, ok := a.OutputFields[name]
	return v, ok
}

// FieldString returns an output field as a string. It reports false when the
// field is missing, null or not a string.
func (a *Alert) FieldString(name string) (string, bool) {
	s, ok := a.OutputFields[name].(string)
	return s, ok
}

// FieldInt returns an output field as an int64. It accepts json.Number, Go
// integer types, integral float64 values and decimal strings, and reports
// false for anything else, including null.
func (a *Alert) FieldInt(name string) (int64, bool) {
	return ToInt64(a.OutputFields[name])
}

// ToInt64 converts a decoded JSON or Go number to an int64 without losing
// precision. It reports false for non-integral or out-of-range values.
func ToInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint32:
		return int64(n), true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || n < math.MinInt64 || n >= math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}
