package output

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

func TestRender(t *testing.T) {
	ev := rulestest.New("open",
		"proc.name", "cat", "proc.cmdline", "cat /dev/null", "fd.name", "/dev/null",
		"proc.aname", []string{"bash", "sshd"}, "user.uid", 1000, "fd.num", -1,
		"evt.is_open_read", true, "fd.sip", netip.MustParseAddr("10.0.0.1"), "evt.arg.flags", "O_RDONLY",
		"evt.arg.data", "aGVsbG8=",
	)
	tests := []struct {
		format string
		text   string
		fields map[string]any
	}{
		{"An open was seen (cport=%fd.cport command=%proc.cmdline)", "An open was seen (cport=<NA> command=cat /dev/null)",
			map[string]any{"fd.cport": nil, "proc.cmdline": "cat /dev/null"}},
		{"%proc.namex", "catx", map[string]any{"proc.name": "cat"}},
		{"(%proc.name,%fd.name)", "(cat,/dev/null)", map[string]any{"proc.name": "cat", "fd.name": "/dev/null"}},
		{"%proc.aname[2] %proc.aname", "sshd bash sshd", map[string]any{"proc.aname[2]": "sshd", "proc.aname": "bash sshd"}},
		{"uid=%user.uid fd=%fd.num read=%evt.is_open_read ip=%fd.sip", "uid=1000 fd=-1 read=true ip=10.0.0.1",
			map[string]any{"user.uid": uint64(1000), "fd.num": int64(-1), "evt.is_open_read": true, "fd.sip": "10.0.0.1"}},
		{"flags=%evt.arg.flags type=%evt.type", "flags=O_RDONLY type=open", map[string]any{"evt.arg.flags": "O_RDONLY", "evt.type": "open"}},
		{"[%5proc.name][%2fd.name]", "[cat  ][/d]", map[string]any{"proc.name": "cat", "fd.name": "/dev/null"}},
		{"%toupper(proc.name) %len(fd.name)", "CAT 9", map[string]any{"toupper(proc.name)": "CAT", "len(fd.name)": uint64(9)}},
		{"%b64(evt.arg.data) %b64(proc.name)", "hello <NA>", map[string]any{"b64(evt.arg.data)": "hello", "b64(proc.name)": nil}},
		{"no fields", "no fields", map[string]any{}},
		{"out 1 (%container.info)", "out 1 ()", map[string]any{}},
	}
	for _, tt := range tests {
		f, _, err := Compile(tt.format)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.format, err)
			continue
		}
		text, got := f.Render(ev)
		if text != tt.text {
			t.Errorf("Render(%q) text = %q, want %q", tt.format, text, tt.text)
		}
		if !reflect.DeepEqual(got, tt.fields) {
			t.Errorf("Render(%q) fields = %#v, want %#v", tt.format, got, tt.fields)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ format, want string }{
		{"ends with %", "formatting cannot end with a %"},
		{"ends with %12", "formatting cannot end with a %"},
		{"An open was seen %not_a_real_field", "unknown filter: not_a_real_field"},
		{"%proc.nobody", "unknown filter: proc.nobody"},
		{"%fd.net", "can only be used in conditions"},
		{"100% sure", "unknown filter"},
	}
	for _, tt := range tests {
		_, _, err := Compile(tt.format)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%q) error = %v, want %q", tt.format, err, tt.want)
		}
	}
	_, _, err := Compile("%proc.nobody")
	if !errors.Is(err, fields.ErrUnknownField) {
		t.Errorf("unknown output field error %v does not match fields.ErrUnknownField", err)
	}
}

func TestCompileWarnings(t *testing.T) {
	_, w, err := Compile("out 1 (%container.info)")
	if err != nil || len(w) != 1 || w[0].Code != "LOAD_DEPRECATED_ITEM" {
		t.Errorf("container.info: warnings %v, err %v; want one LOAD_DEPRECATED_ITEM", w, err)
	}
	_, w, err = Compile("dir=%evt.dir")
	if err != nil || len(w) != 1 || !strings.Contains(w[0].Msg, "usage of deprecated field 'evt.dir' has been detected in the rule output") {
		t.Errorf("evt.dir: warnings %v, err %v", w, err)
	}
}

func TestTimeFormats(t *testing.T) {
	ns := int64(1470327477881781397)
	ev := rulestest.New("open", "evt.time.iso8601", ns, "evt.rawtime", ns)
	f, _, err := Compile("%evt.time.iso8601 %evt.rawtime")
	if err != nil {
		t.Fatal(err)
	}
	text, got := f.Render(ev)
	if text != "2016-08-04T16:17:57.881781397+0000 1470327477881781397" {
		t.Errorf("text = %q", text)
	}
	if got["evt.time.iso8601"] != uint64(ns) {
		t.Errorf("typed time = %#v", got["evt.time.iso8601"])
	}
	at := time.Unix(0, 1470327477882054739)
	line := Line(at, true, "Warning", "An open was seen (command=cat /dev/null)")
	if line != "2016-08-04T16:17:57.882054739+0000: Warning An open was seen (command=cat /dev/null)" {
		t.Errorf("iso line = %q", line)
	}
	local := Line(at, false, "Warning", "m")
	if want := at.Local().Format("15:04:05.000000000") + ": Warning m"; local != want {
		t.Errorf("local line = %q, want %q", local, want)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\nb\tc", `a\nb\tc`},
		{"q\"b\\", `q\"b\\`},
		{"\x01", `\u0001`},
		{"bad\xffX", "bad\uFFFDX"},
		{"bad\xe2\x82X", "bad\uFFFD\uFFFDX"},
		{"ok é", "ok é"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
