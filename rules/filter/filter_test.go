package filter_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/rules/filter"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

func compile(t *testing.T, cond string) (*filter.Filter, []filter.Warning, error) {
	t.Helper()
	n, err := condition.Parse(cond, condition.RuleMaxDepth)
	if err != nil {
		return nil, nil, err
	}
	return filter.Compile(n)
}

func mustCompile(t *testing.T, cond string) *filter.Filter {
	t.Helper()
	f, _, err := compile(t, cond)
	if err != nil {
		t.Fatalf("compile %q: %v", cond, err)
	}
	return f
}

func match(t *testing.T, cond string, ev fields.Event) bool {
	t.Helper()
	return mustCompile(t, cond).Match(ev, filter.NewScratch())
}

func TestBooleanLogic(t *testing.T) {
	// proc.name=yes stands for an always-true check, proc.name=no for an
	// always-false one.
	ev := rulestest.New("open", "proc.name", "yes")
	tr, fa := "proc.name=yes", "proc.name=no"
	r := strings.NewReplacer("T", tr, "F", fa)
	tests := []struct {
		expr string
		want bool
	}{
		{"T", true}, {"not not T", true}, {"not (not T)", true}, {"not not not not T", true}, {"not not(not not T)", true},
		{"F", false}, {"not T", false}, {"not(T)", false}, {"not not not T", false}, {"not(not(not T))", false},
		{"T and F", false}, {"T and not T", false},
		{"F or not F", true},
		{"T or T and F", true},
		{"(T or T) and F", false},
		{"not (not (T or T) and F)", true},
		{"not (F or F or T)", false},
		{"not (F or F and not T)", true},
		{"not ((F or not (F and not T)) and T)", false},
	}
	for _, tt := range tests {
		cond := r.Replace(tt.expr)
		if got := match(t, cond, ev); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestQuotedValues(t *testing.T) {
	single := rulestest.New("open", "proc.name", `hello 'quoted'`)
	double := rulestest.New("open", "proc.name", `hello "quoted"`)
	tests := []struct {
		cond string
		ev   fields.Event
		want bool
	}{
		{`proc.name = 'hello \'quoted\''`, single, true},
		{`proc.name = "hello 'quoted'"`, single, true},
		{`proc.name = 'hello \\'quoted\\''`, single, false},
		{`proc.name = "hello ''quoted''"`, single, false},
		{`proc.name = 'hello "quoted"'`, double, true},
		{`proc.name = "hello \"quoted\""`, double, true},
		{`proc.name = "hello \\"quoted\\""`, double, false},
	}
	for _, tt := range tests {
		f, _, err := compile(t, tt.cond)
		if err != nil {
			if tt.want {
				t.Errorf("%s: %v", tt.cond, err)
			}
			continue
		}
		if got := f.Match(tt.ev, filter.NewScratch()); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestOperatorTypeChecks(t *testing.T) {
	all := []string{"exists", "=", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith", "endswith",
		"glob", "iglob", "pmatch", "bcontains", "bstartswith", "regex", "in", "intersects"}
	tests := []struct {
		field   string
		value   string
		allowed []string
	}{
		{"evt.rawtime", "1", []string{"exists", "=", "!=", "<", "<=", ">", ">=", "in", "intersects"}},
		{"evt.is_io", "true", []string{"exists", "=", "!=", "in", "intersects"}},
		{"evt.buffer", "41", []string{"exists", "=", "!=", "contains", "startswith", "endswith", "in", "intersects", "bcontains", "bstartswith"}},
		{"fd.name", "1", []string{"exists", "=", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith", "endswith", "glob", "iglob", "pmatch", "regex", "in", "intersects"}},
		{"proc.pid", "1", []string{"exists", "=", "!=", "<", "<=", ">", ">=", "in", "intersects"}},
		{"fd.dev", "1", []string{"exists", "=", "!=", "<", "<=", ">", ">=", "in", "intersects"}},
		{"evt.cpu", "1", []string{"exists", "=", "!=", "<", "<=", ">", ">=", "in", "intersects"}},
		{"fd.ip", "127.0.0.1", []string{"exists", "=", "!=", "in", "intersects"}},
	}
	for _, tt := range tests {
		ok := map[string]bool{}
		for _, op := range tt.allowed {
			ok[op] = true
		}
		for _, op := range all {
			var cond string
			switch op {
			case "exists":
				cond = tt.field + " exists"
			case "in", "intersects", "pmatch":
				cond = tt.field + " " + op + " (" + tt.value + ")"
			default:
				cond = tt.field + " " + op + " " + tt.value
			}
			_, _, err := compile(t, cond)
			if ok[op] && err != nil {
				t.Errorf("%s: %v, want allowed", cond, err)
			}
			if !ok[op] && err == nil {
				t.Errorf("%s compiled, want a type error", cond)
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ cond, want string }{
		{"proc.nobody = x", "filter_check called with nonexistent field proc.nobody"},
		{"evt.type = some_invalid_event", "unknown event type some_invalid_event"},
		{"proc.pid contains 1", "filter error: 'contains' operator not supported for numeric filters"},
		{"thread.tid = 1.0", "invalid value '1.0'"},
		{"proc.pid = abc", "invalid value 'abc'"},
		{"fd.num > 1.0", "invalid value '1.0'"},
		{`proc.name = "\x00"`, "NUL"},
		{`proc.name contains "\x00"`, "NUL"},
		{`proc.name startswith "\x00"`, "NUL"},
		{`proc.name glob "\x00"`, "NUL"},
		{`proc.name regex "\x00"`, "NUL"},
		{`proc.name pmatch ("\x00")`, "NUL"},
		{"syscall.type = val(evt.is_wait)", "cannot compare string field"},
		{"evt.buffer bstartswith g", "bcontains and bstartswith operator support hex strings only"},
		{"evt.buffer bstartswith 123Z", "hex strings only"},
		{"evt.buffer bstartswith abc_1", "hex strings only"},
		{"toupper(evt.rawres) = -1", "transformer 'toupper' requires a string field"},
		{"toupper(evt.rawarg.res) = -1", "does not support transformers"},
		{"proc.aname = val(proc.name)", "cannot be compared with another field"},
		{"proc.name = val(proc.aname)", "cannot be used on the right side"},
		{"evt.plugininfo regex val(evt.source)", "'regex' operator cannot compare with a field"},
		{"fd.name pmatch val(proc.name)", "'pmatch' operator cannot compare with a field"},
		{"proc.name regex 'a(b'", "invalid regex pattern"},
		{"evt.arg.nosuchparam = x", "nonexistent field evt.arg.nosuchparam"},
		{"evt.arg = x", "requires an argument"},
		{"proc.name[1] = x", "nonexistent field proc.name[1]"},
		{"proc.aname[x] = x", "nonexistent field proc.aname[x]"},
		{"user.uid = -1", "invalid value '-1'"},
		{"fd.sport = 70000", "invalid value '70000'"},
		{"fd.ip = notanip", "invalid IP address"},
		{"evt.is_open_read = maybe", "invalid value 'maybe'"},
		{"evt.type = val(proc.name)", "evt.type cannot be compared with another field"},
	}
	for _, tt := range tests {
		_, _, err := compile(t, tt.cond)
		if err == nil {
			if tt.want != "" {
				t.Errorf("%s compiled, want error containing %q", tt.cond, tt.want)
			}
			continue
		}
		if tt.want == "" || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.cond, err, tt.want)
		}
	}
}

func TestUnknownFieldErrorsMatchSentinel(t *testing.T) {
	for _, cond := range []string{"proc.nobody = x", "evt.type = some_invalid_event"} {
		_, _, err := compile(t, cond)
		if !errors.Is(err, fields.ErrUnknownField) {
			t.Errorf("%s: error %v does not match fields.ErrUnknownField", cond, err)
		}
	}
	_, _, err := compile(t, "proc.pid contains 1")
	if errors.Is(err, fields.ErrUnknownField) {
		t.Errorf("type error %v matches fields.ErrUnknownField", err)
	}
}

func TestStringOperators(t *testing.T) {
	open := rulestest.New("openat",
		"fd.name", "/opt/dir/SUBDIR/file.txt",
		"evt.arg.flags", "O_RDWR|O_CREAT",
		"proc.name", "myexe",
	)
	tests := []struct {
		cond string
		want bool
	}{
		{"evt.arg.flags contains O_CREAT", true},
		{"evt.arg.flags icontains o_creat", true},
		{"fd.name contains /dir", true},
		{"fd.name icontains /subdir", true},
		{"evt.arg.flags contains O_TMPFILE", false},
		{"fd.name icontains notthis", false},
		{"fd.name startswith /opt/", true},
		{"fd.name endswith .txt", true},
		{"fd.name glob /opt/*.txt", true},
		{"fd.name glob '/opt/di?/*/file.[tx]xt'", true},
		{"fd.name glob '/opt/di[!r]/*'", false},
		{"fd.name iglob /OPT/*/subdir/*", true},
		{"fd.name glob /OPT/*", false},
		{"fd.name regex '/opt/.*'", true},
		{"fd.name regex 'opt/.*'", false},
		{"fd.name < 1", true},
		{"fd.name > 1", false},
		{"proc.name in (a, myexe, b)", true},
		{"proc.name in (a, b)", false},
		{"proc.name intersects (myexe)", true},
		{"proc.name != myexe", false},
		{"proc.name == oneof (myexe, bash)", true},
		{"proc.name == oneof (myexe, myexe)", false},
		{"proc.name == anyof (myexe, myexe)", true},
		{"proc.name == allof (myexe, bash)", false},
		{"proc.name == allof (myexe, myexe)", true},
		{"proc.name == anyof ()", false},
		{"proc.name != anyof ()", false},
		{"proc.name startswith oneof (my, exe)", true},
	}
	for _, tt := range tests {
		if got := match(t, tt.cond, open); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestLargeInSet(t *testing.T) {
	var items []string
	for i := 0; i < 100; i++ {
		items = append(items, "bin"+strings.Repeat("x", i%7)+string(rune('a'+i%26)))
	}
	cond := "proc.name in (" + strings.Join(items, ", ") + ")"
	f := mustCompile(t, cond)
	s := filter.NewScratch()
	for _, it := range items {
		if !f.Match(rulestest.New("execve", "proc.name", it), s) {
			t.Errorf("%s not found in the set", it)
		}
	}
	if f.Match(rulestest.New("execve", "proc.name", "bash"), s) {
		t.Error("bash found in a set without it")
	}
}

func TestPmatch(t *testing.T) {
	ev := rulestest.New("open", "fd.name", "/opt/dir/subdir/file.txt")
	yes := []string{"(/opt/dir)", "(/opt/dir/subdir)", "(/opt/dir, /opt/dir2)", "(/opt/*)", "(/opt/*/subdir)",
		"(/opt/di?/subdir)", "(/opt/di[r]/subdir)", "(/opt/*/*)"}
	no := []string{"(/opt/dir2)", "(/opt/dir3, /opt/dir2)", "(/opt/dii?/subdir)", "(/opt/di[!r]/subdir)",
		"(/opt/di/subdir)", "(/opt/*/subdir2)", "(/opt/*/*/subsubdir)"}
	for _, l := range yes {
		if !match(t, "fd.name pmatch "+l, ev) {
			t.Errorf("pmatch %s = false, want true", l)
		}
	}
	for _, l := range no {
		if match(t, "fd.name pmatch "+l, ev) {
			t.Errorf("pmatch %s = true, want false", l)
		}
	}
	if match(t, "fd.name pmatch (/var/run)", rulestest.New("open", "fd.name", "/var/runx")) {
		t.Error("/var/runx is under /var/run")
	}
	if match(t, "fd.name pmatch (/var/run)", rulestest.New("open", "fd.name", "/var")) {
		t.Error("/var is under /var/run")
	}
}

func TestNetworkComparisons(t *testing.T) {
	ev := rulestest.New("connect",
		"fd.ip", []netip.Addr{netip.MustParseAddr("172.40.111.222"), netip.MustParseAddr("142.251.111.147")},
		"fd.net", []netip.Addr{netip.MustParseAddr("172.40.111.222"), netip.MustParseAddr("142.251.111.147")},
		"fd.sip", netip.MustParseAddr("142.251.111.147"),
		"fd.cip", netip.MustParseAddr("172.40.111.222"),
		"fd.snet", netip.MustParseAddr("142.251.111.147"),
		"fd.sport", 443,
	)
	tests := []struct {
		cond string
		want bool
	}{
		{"fd.ip == 142.251.111.147", true},
		{"fd.sip == 142.251.111.147", true},
		{"fd.cip == 172.40.111.222", true},
		{"fd.net == 142.251.0.0/8", true},
		{"fd.net != 10.0.0.0/8", true},
		{"fd.sip != 0:0:0:0:0:0:0:1", true},
		{"fd.net == 10.0.0.0/8", false},
		{`fd.snet in ("10.0.0.0/8", "142.0.0.0/8")`, true},
		{`fd.snet in ("10.0.0.0/8", "192.168.0.0/16")`, false},
		{"fd.sport in (80, 443)", true},
		{"fd.sport = 80", false},
		{"fd.sip = ::ffff:142.251.111.147", true},
	}
	for _, tt := range tests {
		if got := match(t, tt.cond, ev); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestNumericComparisons(t *testing.T) {
	ev := rulestest.New("open", "evt.cpu", 3, "fd.num", -1, "evt.rawres", -2, "evt.num", uint64(1)<<63+5, "user.uid", 0)
	tests := []struct {
		cond string
		want bool
	}{
		{"evt.cpu < 300", true}, {"evt.cpu > -500", true}, {"evt.cpu <= 1025", true},
		{"evt.cpu > 300", false}, {"evt.cpu >= 1025", false},
		{"evt.rawres < 0", true}, {"evt.rawres < -1", true}, {"evt.rawres > -65535", true},
		{"evt.rawres > 0", false}, {"evt.rawres > 4294967295", false},
		{"fd.num < 0", true}, {"fd.num >= 0", false}, {"fd.num=-1", true},
		{"evt.num > 5", true}, {"evt.num > 9223372036854775808", true},
		{"user.uid in (0, 1)", true}, {"user.uid != 0", false}, {"user.uid = 0x0", true},
	}
	for _, tt := range tests {
		if got := match(t, tt.cond, ev); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestRegexIsAnchored(t *testing.T) {
	ev := rulestest.New("open")
	tests := []struct {
		cond string
		want bool
	}{
		{"evt.source regex 'syscal.*'", true},
		{"evt.source regex '^[s]{1}ysca[l]{2}$'", true},
		{"evt.source regex 'yscal.*'", false},
		{"evt.source regex '.*yscal'", false},
	}
	for _, tt := range tests {
		if got := match(t, tt.cond, ev); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestEngineAnsweredFields(t *testing.T) {
	ev := rulestest.New("connect")
	for _, cond := range []string{"evt.type = connect", "syscall.type = connect", "evt.source = syscall", "evt.dir = <", "tolower(evt.source) = syscall"} {
		if !match(t, cond, ev) {
			t.Errorf("%s = false", cond)
		}
	}
}

func TestMissingValues(t *testing.T) {
	ev := rulestest.New("open", "proc.name", "cat")
	for _, cond := range []string{"fd.cport = 80", "fd.cport != 80", "fd.cport exists", "fd.name contains x", "fd.name != x", "fd.name in (x)"} {
		if match(t, cond, ev) {
			t.Errorf("%s = true on an event without the field", cond)
		}
	}
	if !match(t, "not fd.name = x", ev) {
		t.Error("not fd.name = x = false on an event without fd.name")
	}
	if !match(t, "proc.name = '<NA>' or proc.name exists", ev) {
		t.Error("proc.name exists = false")
	}
}

func TestAncestorFields(t *testing.T) {
	ev := rulestest.New("execve", "proc.name", "sh", "proc.aname", []string{"bash", "sshd", "systemd"})
	tests := []struct {
		cond string
		want bool
	}{
		{"proc.aname = sshd", true},
		{"proc.aname[2] = sshd", true},
		{"proc.aname[1] = sshd", false},
		{"proc.aname[0] = sh", true},
		{"proc.aname in (init, systemd)", true},
		{"proc.aname startswith ssh", true},
		{"proc.aname[4] exists", false},
	}
	for _, tt := range tests {
		if got := match(t, tt.cond, ev); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestFieldComparison(t *testing.T) {
	ev := rulestest.New("open", "evt.args", "fd=3", "proc.name", "cat", "proc.pname", "cat", "fd.name", "/tmp/cat", "proc.pid", 10, "proc.ppid", 9)
	tests := []struct {
		cond string
		want bool
	}{
		{"evt.args = evt.args", false},
		{"evt.args = val(evt.args)", true},
		{"proc.name = val(proc.pname)", true},
		{"fd.name endswith val(proc.name)", true},
		{"proc.pid > val(proc.ppid)", true},
		{"proc.pid < val(proc.ppid)", false},
		{"proc.name = toupper(proc.pname)", false},
		{"toupper(proc.name) = toupper(proc.pname)", true},
		{"toupper(proc.name) = CAT", true},
		{"basename(fd.name) = cat", true},
		{"len(fd.name) = 8", true},
		{"b64(proc.name) exists", false},
	}
	for _, tt := range tests {
		if got := match(t, tt.cond, ev); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
	if !match(t, "b64(proc.name) = hello", rulestest.New("open", "proc.name", "aGVsbG8=")) {
		t.Error("b64 did not decode")
	}
}

func TestByteBuffers(t *testing.T) {
	ev := rulestest.New("write", "evt.buffer", []byte("HTTP/1.1 200"))
	tests := []struct {
		cond string
		want bool
	}{
		{"evt.buffer bstartswith 48545450", true},
		{"evt.buffer bcontains 2f312e31", true},
		{"evt.buffer bcontains 12ab001fc5", false},
		{"evt.buffer contains 200", true},
		{`evt.buffer = "\x00"`, false},
	}
	for _, tt := range tests {
		if got := match(t, tt.cond, ev); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestEventTypeSets(t *testing.T) {
	names := func(ns ...string) evttype.Set {
		var s evttype.Set
		for _, n := range ns {
			ty, ok := evttype.Lookup(n)
			if !ok {
				t.Fatalf("unknown event type %s", n)
			}
			s.Add(ty)
		}
		return s
	}
	all := evttype.Full()
	tests := []struct {
		conds []string
		want  evttype.Set
	}{
		{[]string{"evt.type=openat", "not evt.type != openat", "not not evt.type = openat", "evt.type in (openat)",
			"evt.type=openat and not proc.name=nginx", "evt.type=openat and not (evt.type=close and proc.name=nginx)"}, names("openat")},
		{[]string{"evt.type!=openat", "not evt.type=openat", "not not not evt.type = openat", "evt.type=close or evt.type!=openat"},
			names("openat").Complement()},
		{[]string{"evt.type in (openat, close)", "evt.type=openat or (evt.type=close and proc.name=nginx)"}, names("openat", "close")},
		{[]string{"not evt.type in (openat, close)", "evt.type!=openat and evt.type!=close"}, names("openat", "close").Complement()},
		{[]string{"proc.name=nginx", "evt.type=openat or proc.name=nginx", "evt.type!=openat or evt.type!=close",
			"evt.type=close or not (evt.type=openat and proc.name=nginx)", "evt.type exists", "not proc.name=cat"}, all},
		{[]string{"evt.type=close and evt.type=openat", "(evt.type=mmap and not evt.type=mmap)", "evt.type in ()"}, evttype.Set{}},
		{[]string{"evt.type in (connect, execve, accept, mmap, container) and not (proc.name=cat and evt.type=mmap)"},
			names("accept", "connect", "container", "execve", "mmap")},
		{[]string{"evt.num=0", "evt.num<1", "evt.num<=0", "evt.num in (0)"}, evttype.Set{}},
		{[]string{"evt.num>0", "evt.num>=1", "evt.num!=0", "not evt.num=0"}, all},
		{[]string{"syscall.type = execve"}, names("execve")},
	}
	for _, tt := range tests {
		for _, cond := range tt.conds {
			f := mustCompile(t, cond)
			if got := f.EventTypes(); got != tt.want {
				t.Errorf("%s: event types %v, want %v", cond, got.Names(), tt.want.Names())
			}
		}
	}
}

func TestCompileWarnings(t *testing.T) {
	tests := []struct {
		cond string
		want int
	}{
		{"evt.source regex syscall", 1}, {"evt.source regex '^syscall$'", 1}, {"evt.source regex '^syscall'", 1},
		{"evt.source regex 'syscall$'", 1}, {"evt.source regex '.*syscall'", 1}, {"evt.source regex 'syscall.*'", 1},
		{"evt.source regex '.+syscall.+'", 1}, {"evt.source regex '.?syscall.?'", 1},
		{"evt.source regex 'syscall.{1}'", 0}, {`evt.source regex syscall\.*`, 0}, {"evt.source regex 's.*l'", 0},
		{"evt.source regex 'syscal[l]?'", 0},
		{"evt.source = unknown.field", 0}, {"evt.source = tolower", 0}, {"evt.source = 'tolow(evt.plugininfo)'", 0},
		{"evt.source = evt.plugininfo", 1}, {"evt.source = 'tolower(evt.plugininfo)'", 1},
		{"proc.name = proc.pname", 1}, {`proc.name = "proc.pname "`, 1}, {`proc.name = "toupper( proc.pname)"`, 1},
		{"proc.name = toupper(proc.pname)", 0},
		{"evt.dir = <", 1},
	}
	for _, tt := range tests {
		_, warns, err := compile(t, tt.cond)
		if err != nil {
			t.Errorf("%s: %v", tt.cond, err)
			continue
		}
		if len(warns) != tt.want {
			t.Errorf("%s: %d warnings %v, want %d", tt.cond, len(warns), warns, tt.want)
		}
	}
}

func TestUnsafeNAChecks(t *testing.T) {
	tests := []struct {
		cond string
		want int
	}{
		{"ka.field = <NA>", 1}, {"ka.field == <NA>", 1}, {"ka.field != <NA>", 1}, {"ka.field in (otherval, <NA>)", 1},
		{"ka.field intersects (<NA>)", 1}, {"ka.field pmatch (<NA>)", 1}, {"jevt.field = <NA>", 1},
		{"tolower(ka.field) = <NA>", 1},
		{"ka.field exists", 0}, {"some.field = <NA>", 0}, {"tolower(safe.field) = <NA>", 0},
	}
	for _, tt := range tests {
		n, err := condition.Parse(tt.cond, condition.DefaultMaxDepth)
		if err != nil {
			t.Fatalf("parse %s: %v", tt.cond, err)
		}
		if got := len(filter.UnsafeNAChecks(n)); got != tt.want {
			t.Errorf("%s: %d unsafe checks, want %d", tt.cond, got, tt.want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	f := mustCompile(t, `evt.type in (open, openat) and fd.name startswith /etc/ and not proc.name in (cat, ls, vi, sshd, bash, sh, zsh, dash, ash, tcsh) and fd.typechar='f' and fd.num>=0`)
	ev := rulestest.New("openat", "fd.name", "/etc/shadow", "proc.name", "python3", "fd.typechar", "f", "fd.num", 3)
	s := filter.NewScratch()
	if !f.Match(ev, s) {
		t.Fatal("filter does not match the event")
	}
	if n := testing.AllocsPerRun(100, func() { f.Match(ev, s) }); n != 0 {
		t.Errorf("Match allocates %v times per event, want 0", n)
	}
}

func TestRawArgTypes(t *testing.T) {
	ev := rulestest.New("open", "evt.rawarg.res", -2, "evt.rawarg.name", "/etc/passwd")
	for _, cond := range []string{"evt.rawarg.res < 0", "evt.rawarg.name startswith /etc", "evt.rawarg.res = -2"} {
		if !match(t, cond, ev) {
			t.Errorf("%s = false", cond)
		}
	}
	if _, _, err := compile(t, "evt.rawarg.res = abc"); err == nil {
		t.Error("evt.rawarg.res = abc compiled; res is numeric")
	}
}
