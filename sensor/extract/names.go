package extract

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Resolver looks up the addresses of a host name; *net.Resolver's
// LookupNetIP, with the network "ip", is one.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// DefaultNamesRefresh is how often Names resolves its host names again
// when NamesOptions leaves Refresh zero.
const DefaultNamesRefresh = 30 * time.Second

// NamesOptions configures a Names table.
type NamesOptions struct {
	// Resolve looks up a host name. Required.
	Resolve Resolver
	// Refresh is the time between two resolutions of every host name. Zero
	// means DefaultNamesRefresh.
	Refresh time.Duration
	// Timeout bounds one lookup. Zero means 5 seconds.
	Timeout time.Duration
	// Logger receives lookup failures. Nil discards them.
	Logger *slog.Logger
}

// Names maps IP addresses to the host names that the rules compare
// fd.sip.name with. It resolves those names ahead of time and again at a
// fixed interval, so that matching an event never waits for DNS. The
// fd.sip.name of a connection is every watched name whose addresses include
// the server address.
type Names struct {
	opts NamesOptions

	mu    sync.Mutex
	hosts []string
	wake  chan struct{}

	// byAddr holds a map[netip.Addr][]string, replaced whole at each
	// resolution.
	byAddr atomic.Pointer[map[netip.Addr][]string]
}

// NewNames returns a table that watches hosts once Run starts.
func NewNames(hosts []string, opts NamesOptions) *Names {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultNamesRefresh
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Names{opts: opts, wake: make(chan struct{}, 1)}
	n.SetHosts(hosts)
	return n
}

// SetHosts replaces the watched host names, as when the rules are reloaded,
// and has Run resolve them at once.
func (n *Names) SetHosts(hosts []string) {
	hosts = slices.Clone(hosts)
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	n.mu.Lock()
	n.hosts = hosts
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Hosts returns the watched host names, sorted.
func (n *Names) Hosts() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.hosts)
}

// Run resolves the watched names now, then at every refresh and after each
// SetHosts, until ctx is done. A name that fails to resolve keeps the
// addresses of its last successful lookup.
func (n *Names) Run(ctx context.Context) error {
	tick := time.NewTicker(n.opts.Refresh)
	defer tick.Stop()
	last := map[string][]netip.Addr{}
	for {
		last = n.resolve(ctx, last)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-n.wake:
		}
	}
}

// Resolve resolves the watched names once, for callers that do not run the
// refresh loop.
func (n *Names) Resolve(ctx context.Context) {
	n.resolve(ctx, nil)
}

func (n *Names) resolve(ctx context.Context, last map[string][]netip.Addr) map[string][]netip.Addr {
	next := make(map[string][]netip.Addr)
	for _, host := range n.Hosts() {
		lookupCtx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
		addrs, err := n.opts.Resolve(lookupCtx, host)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				n.opts.Logger.Debug("resolve host name of a rule", "host", host, "error", err)
			}
			next[host] = last[host]
			continue
		}
		next[host] = addrs
	}
	byAddr := make(map[netip.Addr][]string)
	for host, addrs := range next {
		for _, a := range addrs {
			a = a.Unmap()
			if !slices.Contains(byAddr[a], host) {
				byAddr[a] = append(byAddr[a], host)
			}
		}
	}
	for _, hosts := range byAddr {
		slices.Sort(hosts)
	}
	n.byAddr.Store(&byAddr)
	return next
}

// SetNames makes fd.sip.name readable: the host names of names that
// resolve to the server address. Without it the field has no value.
func (e *Event) SetNames(names *Names) {
	e.names = names
}

// Lookup returns the watched names that resolve to addr, sorted. The
// returned slice must not be changed.
func (n *Names) Lookup(addr netip.Addr) []string {
	if n == nil {
		return nil
	}
	m := n.byAddr.Load()
	if m == nil {
		return nil
	}
	return (*m)[addr.Unmap()]
}
