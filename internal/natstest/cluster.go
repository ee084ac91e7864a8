package natstest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of nats-servers in this process, each with
// its own client port, route port and storage directory on 127.0.0.1. A node
// can be stopped and restarted on the same ports with the same storage.
type Cluster struct {
	t     testing.TB
	mu    sync.Mutex
	nodes []*clusterNode
}

type clusterNode struct {
	opts server.Options
	srv  *server.Server // nil while stopped
}

// StartCluster starts a cluster of size nodes, waits until JetStream has a
// meta leader that every node follows, and shuts it down when the test ends.
func StartCluster(t testing.TB, size int) *Cluster {
	t.Helper()
	if size < 1 {
		t.Fatalf("start NATS cluster: invalid size %d: use 1 or more", size)
	}
	c := &Cluster{t: t}
	clientPorts := freePorts(t, size)
	routePorts := freePorts(t, size)
	base := t.TempDir()
	for i := range size {
		var routes []string
		for j, p := range routePorts {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
			}
		}
		c.nodes = append(c.nodes, &clusterNode{opts: server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   filepath.Join(base, fmt.Sprintf("n%d", i+1)),
			Cluster:    server.ClusterOpts{Name: "riposte-test", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
			NoSigs:     true,
			NoLog:      true,
		}})
	}
	t.Cleanup(c.shutdown)
	for i := range size {
		c.startNode(i)
	}
	if err := c.WaitJetStream(60 * time.Second); err != nil {
		t.Fatalf("start NATS cluster: %v", err)
	}
	return c
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment
// ago.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var listeners []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range listeners {
		_ = l.Close()
	}
	return ports
}

func (c *Cluster) startNode(i int) {
	c.t.Helper()
	n := c.nodes[i]
	opts := n.opts // The server keeps and changes its options, so give it a copy.
	s, err := server.NewServer(&opts)
	if err != nil {
		c.t.Fatalf("new nats-server %s: %v", n.opts.ServerName, err)
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		c.t.Fatalf("nats-server %s not ready for connections after 30s", n.opts.ServerName)
	}
	c.mu.Lock()
	n.srv = s
	c.mu.Unlock()
}

// Size returns the number of nodes, running or stopped.
func (c *Cluster) Size() int { return len(c.nodes) }

// URLs returns the client URLs of every node, separated by commas, in the
// form that nats.Connect accepts.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port)
	}
	return strings.Join(urls, ",")
}

// Server returns node i, or nil while it is stopped.
func (c *Cluster) Server(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].srv
}

// Stop shuts node i down and waits until it stopped. Its storage stays.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.nodes[i].srv
	c.nodes[i].srv = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts stopped node i again on its ports with its storage.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.Server(i) != nil {
		c.t.Fatalf("restart nats-server %s: it is running", c.nodes[i].opts.ServerName)
	}
	c.startNode(i)
}

// WaitJetStream waits until a JetStream meta leader exists and every running
// node follows it.
func (c *Cluster) WaitJetStream(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		leader, current, running := false, 0, 0
		c.mu.Lock()
		for _, n := range c.nodes {
			if n.srv == nil {
				continue
			}
			running++
			if n.srv.JetStreamIsLeader() {
				leader = true
			}
			if n.srv.JetStreamIsCurrent() {
				current++
			}
		}
		c.mu.Unlock()
		if leader && current == running {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("JetStream not ready after %s: meta leader %t, %d of %d running nodes current", timeout, leader, current, running)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) shutdown() {
	for i := range c.nodes {
		c.Stop(i)
	}
}
