package webhook

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/riposte-sec/riposte/alert"
)

func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(falcoPayload))
	f.Add([]byte(sidekickPayload))
	f.Add([]byte(falcoPayload + "\n" + sidekickPayload + "\n"))
	f.Add([]byte(`{"rule":"r","priority":"Debug","time":"2024-01-01T00:00:00Z","output_fields":{"a[0]":null,"b":[1,2.5,"x"],"c":{"d":true}}}`))
	f.Add([]byte("[1]\n{}"))
	f.Add([]byte(" \r\n" + falcoPayload + "\t\n"))
	f.Add([]byte(falcoPayload + "\u00a0"))
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, err := DecodeBody(body, 100)
		checkSameAsEach(t, body, alerts, err)
		if err != nil {
			return
		}
		for _, a := range alerts {
			if a.UUID == "" {
				t.Fatal("decoded alert without uuid")
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("decoded alert does not validate: %v", err)
			}
			data, err := json.Marshal(a)
			if err != nil {
				t.Fatalf("encode decoded alert: %v", err)
			}
			back, err := alert.Decode(data)
			if err != nil {
				t.Fatalf("decode re-encoded alert %s: %v", data, err)
			}
			if back.UUID != a.UUID || back.Rule != a.Rule || !back.Time.Equal(a.Time) {
				t.Fatalf("round trip changed the alert: %+v != %+v", back, a)
			}
		}
	})
}

// checkSameAsEach checks that DecodeBody, whose one-alert bodies skip
// decodeEach, returns what decodeEach returns for a body that is not blank.
func checkSameAsEach(t *testing.T, body []byte, alerts []*alert.Alert, err error) {
	t.Helper()
	if len(bytes.TrimSpace(body)) == 0 {
		return
	}
	want, wantErr := decodeEach(body, 100)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("DecodeBody error %v, decodeEach error %v", err, wantErr)
	}
	if err != nil {
		if err.Error() != wantErr.Error() {
			t.Fatalf("DecodeBody error %q, decodeEach error %q", err, wantErr)
		}
		return
	}
	if !reflect.DeepEqual(alerts, want) {
		t.Fatalf("DecodeBody = %+v, decodeEach = %+v", alerts, want)
	}
}
