package alert

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// falcoAlert is shaped like an alert from Falco with json_output enabled.
const falcoAlert = `{"hostname":"node-1","output":"10:20:30.123456789: Notice A shell was spawned in a container (user=root proc.aname[2]=containerd-shim evt.time=1700000000123456789)","output_fields":{"container.id":"0123456789ab","evt.time":1700000000123456789,"evt.time.iso8601":"2023-11-14T22:13:20.123456789Z","k8s.ns.name":null,"proc.aname[2]":"containerd-shim","proc.pid":4242,"user.name":"root"},"priority":"Notice","rule":"Shell spawned in a container","source":"syscall","tags":["shell","container","mitre_execution"],"time":"2023-11-14T22:13:20.123456789Z"}`

func TestDecodeFalcoAlert(t *testing.T) {
	a, err := Decode([]byte(falcoAlert))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if a.Rule != "Shell spawned in a container" {
		t.Errorf("rule = %q", a.Rule)
	}
	if a.Priority != PriorityNotice {
		t.Errorf("priority = %v, want Notice", a.Priority)
	}
	want := time.Date(2023, 11, 14, 22, 13, 20, 123456789, time.UTC)
	if !a.Time.Equal(want) {
		t.Errorf("time = %v, want %v", a.Time, want)
	}
	if n, ok := a.OutputFields["evt.time"].(json.Number); !ok || n.String() != "1700000000123456789" {
		t.Errorf("evt.time = %#v, want exact json.Number 1700000000123456789", a.OutputFields["evt.time"])
	}
	if got, ok := a.FieldInt("evt.time"); !ok || got != 1700000000123456789 {
		t.Errorf("FieldInt(evt.time) = %d, %v", got, ok)
	}
	if s, _ := a.FieldString("evt.time.iso8601"); s != "2023-11-14T22:13:20.123456789Z" {
		t.Errorf("evt.time.iso8601 = %q", s)
	}
	if v, ok := a.Field("k8s.ns.name"); !ok || v != nil {
		t.Errorf("k8s.ns.name = %#v, %v; want present and nil", v, ok)
	}
	if s, _ := a.FieldString("proc.aname[2]"); s != "containerd-shim" {
		t.Errorf("proc.aname[2] = %q", s)
	}
	if strings.Join(a.Tags, ",") != "container,mitre_execution,shell" {
		t.Errorf("tags = %v, want sorted", a.Tags)
	}
	if a.UUID != "" {
		t.Errorf("uuid = %q, want empty as Falco sends none", a.UUID)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	a, err := Decode([]byte(falcoAlert))
	if err != nil {
		t.Fatal(err)
	}
	a.EnsureUUID()
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	s := string(data)
	for _, part := range []string{
		`"time":"2023-11-14T22:13:20.123456789Z"`,
		`"evt.time":1700000000123456789`,
		`"k8s.ns.name":null`,
		`"priority":"Notice"`,
		`"tags":["container","mitre_execution","shell"]`,
		`"uuid":"` + a.UUID + `"`,
	} {
		if !strings.Contains(s, part) {
			t.Errorf("encoded alert lacks %s:\n%s", part, s)
		}
	}
	b, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode of encoded alert: %v", err)
	}
	again, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != s {
		t.Errorf("second encoding differs:\n%s\n%s", s, again)
	}
}

func TestEncodeFixedNanoseconds(t *testing.T) {
	a := Alert{
		Rule:     "r",
		Time:     time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
		Priority: PriorityWarning,
		Tags:     []string{"b", "a"},
		OutputFields: map[string]any{
			"proc.pid": int64(7),
			"missing":  nil,
			"list":     []string{"x"},
		},
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, `"time":"2024-01-02T02:04:05.000000000Z"`) {
		t.Errorf("time not UTC with nine digits: %s", s)
	}
	if !strings.Contains(s, `"tags":["a","b"]`) {
		t.Errorf("tags not sorted: %s", s)
	}
	if !strings.Contains(s, `"missing":null`) {
		t.Errorf("nil field not null: %s", s)
	}
	if a.Tags[0] != "b" {
		t.Errorf("MarshalJSON sorted the caller's slice in place")
	}
}

func TestEncodeEmptyCollections(t *testing.T) {
	data, err := json.Marshal(Alert{Rule: "r", Time: time.Unix(0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, `"output_fields":{}`) || !strings.Contains(s, `"tags":[]`) {
		t.Errorf("nil map or slice not written as empty: %s", s)
	}
}

func TestEncodeInvalidPriority(t *testing.T) {
	_, err := json.Marshal(Alert{Rule: "r", Time: time.Now(), Priority: 42})
	if err == nil {
		t.Fatal("Marshal accepted priority 42")
	}
}

func TestDecodeWithoutOutputAndTags(t *testing.T) {
	a, err := Decode([]byte(`{"rule":"r","priority":"Warning","time":"2024-01-01T00:00:00Z","output_fields":{}}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if a.Output != "" || a.Tags != nil {
		t.Errorf("output = %q, tags = %v; want empty", a.Output, a.Tags)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, input, wantInError string
	}{
		{"empty", "", "empty input"},
		{"array", `[{"rule":"r"}]`, "send one JSON object"},
		{"no rule", `{"priority":"Warning","time":"2024-01-01T00:00:00Z"}`, `missing "rule"`},
		{"no time", `{"rule":"r","priority":"Warning"}`, `missing "time"`},
		{"bad time", `{"rule":"r","priority":"Warning","time":"yesterday"}`, `time "yesterday" is not RFC 3339`},
		{"bad priority", `{"rule":"r","priority":"Loud","time":"2024-01-01T00:00:00Z"}`, `invalid priority "Loud"`},
		{"numeric priority", `{"rule":"r","priority":4,"time":"2024-01-01T00:00:00Z"}`, "priority is a JSON number, not a string"},
		{"rule as number", `{"rule":5,"priority":"Warning","time":"2024-01-01T00:00:00Z"}`, `field "rule" has a JSON number`},
		{"truncated", `{"rule":"r"`, "unexpected EOF"},
		{"no priority", `{"rule":"r","time":"2024-01-01T00:00:00Z"}`, `missing "priority"`},
		{"null priority", `{"rule":"r","priority":null,"time":"2024-01-01T00:00:00Z"}`, `missing "priority"`},
		{"trailing data", `{"rule":"r","priority":"Warning","time":"2024-01-01T00:00:00Z"} {}`, "invalid"},
		{"uuid with dot", `{"rule":"r","priority":"Warning","time":"2024-01-01T00:00:00Z","uuid":"a.b"}`, `uuid "a.b" contains '.'`},
		{"decision record", `{"alert_uuid":"u1","rule":"r","priority":"Warning","hostname":"n","outcome":"dry-run","dry_run":true,"actions":[],"time":"2024-01-01T00:00:00Z"}`, "is a Riposte decision record"},
		{"long uuid", `{"rule":"r","priority":"Warning","time":"2024-01-01T00:00:00Z","uuid":"` + strings.Repeat("a", 65) + `"}`, "maximum is 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.input))
			if err == nil {
				t.Fatalf("Decode(%q) succeeded", tt.input)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not contain %q", err, tt.wantInError)
			}
		})
	}
}

func TestDecodeInvalidUTF8(t *testing.T) {
	input := []byte("{\"rule\":\"r\xff\",\"priority\":\"Warning\",\"time\":\"2024-01-01T00:00:00Z\",\"output\":\"héllo ☃\",\"output_fields\":{\"fd.name\":\"/tmp/\xfe\"}}")
	a, err := Decode(input)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if a.Rule != "r\uFFFD" {
		t.Errorf("rule = %q, want invalid byte replaced by U+FFFD", a.Rule)
	}
	if a.Output != "héllo ☃" {
		t.Errorf("output = %q", a.Output)
	}
	if s, _ := a.FieldString("fd.name"); s != "/tmp/\uFFFD" {
		t.Errorf("fd.name = %q", s)
	}
}

func TestNewUUIDFormat(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		u := NewUUID()
		if !re.MatchString(u) {
			t.Fatalf("NewUUID() = %q, not a version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("NewUUID() repeated %q", u)
		}
		seen[u] = true
	}
}

func TestToInt64(t *testing.T) {
	tests := []struct {
		in   any
		want int64
		ok   bool
	}{
		{json.Number("42"), 42, true},
		{json.Number("4.2"), 0, false},
		{"17", 17, true},
		{int(3), 3, true},
		{uint64(1 << 63), 0, false},
		{float64(8), 8, true},
		{float64(8.5), 0, false},
		{nil, 0, false},
		{true, 0, false},
	}
	for _, tt := range tests {
		got, ok := ToInt64(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ToInt64(%#v) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(falcoAlert))
	f.Add([]byte(`{"rule":"r","priority":"Warning","time":"2024-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"rule":"r","priority":"debug","time":"2024-01-01T00:00:00.1+02:00","output_fields":{"a":[1,{"b":null}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("Marshal of decoded alert: %v", err)
		}
		b, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode of re-encoded alert %s: %v", enc, err)
		}
		enc2, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
	})
}

func TestMarshalKeepsAngleBrackets(t *testing.T) {
	a := Alert{Rule: "r", Time: time.Unix(0, 1), Output: "user=<NA> a&b",
		OutputFields: map[string]any{"user.name": "<NA>"}}
	data, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"output":"user=<NA> a&b"`) || !strings.Contains(string(data), `"user.name":"<NA>"`) {
		t.Errorf("encoded alert %s escapes <, > or &, which Falco writes as they are", data)
	}
	if strings.HasSuffix(string(data), "\n") {
		t.Error("encoded alert ends with a newline")
	}
}

func TestDecodeNamesJSONKinds(t *testing.T) {
	for body, want := range map[string]string{
		`{"rule":"r","priority":"Warning","time":"2026-12-04T17:20:42Z","output_fields":[1]}`: `field "output_fields" has a JSON array where an object is expected`,
	} {
		_, err := Decode([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) = %v, want %q", body, err, want)
		}
	}
}

func TestContentUUIDStable(t *testing.T) {
	a := ContentUUID([]byte(`{"rule":"r"}`))
	if b := ContentUUID([]byte(" {\"rule\":\"r\"}\r\n")); a != b {
		t.Errorf("uuid changed with the white space around the object: %s, %s", a, b)
	}
	if c := ContentUUID([]byte(`{"rule":"s"}`)); a == c {
		t.Errorf("two alerts share the uuid %s", a)
	}
	if len(a) != 36 || a[14] != '8' {
		t.Errorf("uuid %s is not a version 8 UUID in canonical form", a)
	}
}
