package extract

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/fields"
)

// zone is a resolver over a table that the test changes.
type zone struct {
	mu      sync.Mutex
	records map[string][]netip.Addr
	fail    bool
	lookups int
}

func (z *zone) resolve(_ context.Context, host string) ([]netip.Addr, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.lookups++
	if z.fail {
		return nil, errors.New("server misbehaving")
	}
	addrs, ok := z.records[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return addrs, nil
}

func (z *zone) set(host string, addrs ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	list := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		list[i] = netip.MustParseAddr(a)
	}
	z.records[host] = list
}

func TestNamesLookup(t *testing.T) {
	z := &zone{records: map[string][]netip.Addr{}}
	z.set("kubernetes.default.svc.cluster.local", "10.0.0.1")
	z.set("api.internal", "10.0.0.1", "2001:db8::1")
	names := NewNames([]string{"api.internal", "kubernetes.default.svc.cluster.local", "missing.example", "api.internal"}, NamesOptions{Resolve: z.resolve})
	if got := names.Lookup(netip.MustParseAddr("10.0.0.1")); got != nil {
		t.Errorf("Lookup before any resolution = %v, want none", got)
	}
	names.Resolve(context.Background())

	if got := names.Lookup(netip.MustParseAddr("10.0.0.1")); len(got) != 2 || got[0] != "api.internal" || got[1] != "kubernetes.default.svc.cluster.local" {
		t.Errorf("Lookup(10.0.0.1) = %v, want both names", got)
	}
	if got := names.Lookup(netip.MustParseAddr("::ffff:10.0.0.1")); len(got) != 2 {
		t.Errorf("Lookup of the IPv4-mapped address = %v, want both names", got)
	}
	if got := names.Lookup(netip.MustParseAddr("2001:db8::1")); len(got) != 1 || got[0] != "api.internal" {
		t.Errorf("Lookup(2001:db8::1) = %v, want api.internal", got)
	}
	if got := names.Lookup(netip.MustParseAddr("10.0.0.2")); got != nil {
		t.Errorf("Lookup(10.0.0.2) = %v, want none", got)
	}
	var none *Names
	if got := none.Lookup(netip.MustParseAddr("10.0.0.1")); got != nil {
		t.Errorf("Lookup on a nil table = %v", got)
	}
}

func TestNamesRefreshKeepsLastAnswer(t *testing.T) {
	z := &zone{records: map[string][]netip.Addr{}}
	z.set("api.internal", "10.0.0.1")
	names := NewNames([]string{"api.internal"}, NamesOptions{Resolve: z.resolve, Refresh: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- names.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	waitNames := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	has := func(addr string) bool { return len(names.Lookup(netip.MustParseAddr(addr))) == 1 }
	waitNames("first resolution", func() bool { return has("10.0.0.1") })

	// The name moves: a refresh follows it.
	z.set("api.internal", "10.0.0.9")
	waitNames("refresh", func() bool { return has("10.0.0.9") && !has("10.0.0.1") })

	// DNS fails: the last answer stays.
	z.mu.Lock()
	z.fail = true
	before := z.lookups
	z.mu.Unlock()
	waitNames("failed lookups", func() bool { z.mu.Lock(); defer z.mu.Unlock(); return z.lookups > before+2 })
	if !has("10.0.0.9") {
		t.Error("a failed lookup dropped the last answer")
	}

	// New rules watch another name; SetHosts resolves it at once.
	z.mu.Lock()
	z.fail = false
	z.mu.Unlock()
	z.set("metadata.internal", "169.254.169.254")
	names.SetHosts([]string{"metadata.internal"})
	waitNames("new host", func() bool { return has("169.254.169.254") && !has("10.0.0.9") })
}

func TestRuleOnServerName(t *testing.T) {
	eng, _, err := rules.Load(rules.Options{}, rules.File{Name: "api.yaml", Content: []byte(`
- macro: k8s_api_server
  condition: (fd.sip.name="kubernetes.default.svc.cluster.local")
- rule: Contact API server
  desc: d
  condition: evt.type=connect and k8s_api_server
  output: "connection=%fd.name server=%fd.sip.name"
  priority: NOTICE
`)})
	if err != nil {
		t.Fatal(err)
	}
	hosts := eng.Values(fields.FdSIPName)
	if len(hosts) != 1 || hosts[0] != "kubernetes.default.svc.cluster.local" {
		t.Fatalf("hosts of the rules = %v", hosts)
	}
	z := &zone{records: map[string][]netip.Addr{}}
	names := NewNames(hosts, NamesOptions{Resolve: z.resolve})
	e := New("", nil)
	e.SetNames(names)
	e.Reset(connectEvent()) // a connection to 10.0.0.1:443

	z.set("kubernetes.default.svc.cluster.local", "10.0.0.2")
	names.Resolve(context.Background())
	if got := eng.Match(e, nil); len(got) != 0 {
		t.Errorf("matched %d rules for a server that is not the API server", len(got))
	}

	z.set("kubernetes.default.svc.cluster.local", "10.0.0.2", "10.0.0.1")
	names.Resolve(context.Background())
	got := eng.Match(e, nil)
	if len(got) != 1 {
		t.Fatalf("matched %d rules for a connection to the API server, want 1", len(got))
	}
	a := got[0].Alert(e, time.Unix(0, 0), "node-1")
	if a.OutputFields["fd.sip.name"] != "kubernetes.default.svc.cluster.local" {
		t.Errorf("fd.sip.name in the output = %v", a.OutputFields["fd.sip.name"])
	}
}
