package webhook

import "testing"

func TestDecodeBodyWithByteOrderMark(t *testing.T) {
	body := "\xef\xbb\xbf" + `{"rule":"r","priority":"Warning","time":"2026-12-04T17:20:42.123456789Z","output":"o","output_fields":{}}`
	alerts, err := DecodeBody([]byte(body), 10)
	if err != nil {
		t.Fatalf("DecodeBody of a body with a byte order mark: %v", err)
	}
	if len(alerts) != 1 || alerts[0].Rule != "r" {
		t.Errorf("alerts = %+v, want the one alert", alerts)
	}
}
