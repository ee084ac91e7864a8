package transport

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// Stats are counts of the alerts published over one connection and of its
// outages, so that an outage shows in metrics and logs instead of passing
// silently.
type Stats struct {
	// Published counts alerts that JetStream acknowledged.
	Published uint64
	// PublishFailures counts publishes that returned an error, Dropped
	// included.
	PublishFailures uint64
	// Buffered counts publishes made while the client was disconnected, which
	// nats.go keeps in its reconnect buffer and sends after reconnecting,
	// Dropped included. A buffered publish still fails when its
	// acknowledgement does not arrive before the publish times out.
	Buffered uint64
	// Dropped counts publishes rejected because the reconnect buffer was full.
	Dropped uint64
	// BufferedBytes is the size of the reconnect buffer now, in bytes.
	BufferedBytes int
	// Reconnects counts reconnections since Connect.
	Reconnects uint64
	// Connected is true while the client is connected to a server.
	Connected bool
}

// publishStats counts the publishes of every Publisher on one connection.
type publishStats struct {
	nc       *nats.Conn
	log      *slog.Logger
	ok       atomic.Uint64
	failures atomic.Uint64
	buffered atomic.Uint64
	dropped  atomic.Uint64

	mu          sync.Mutex
	lastDropLog time.Time
}

// statsByConn maps each *nats.Conn that Connect opened to its counters, so
// that a Publisher made with NewPublisher from the connection's JetStream
// context counts into them without further wiring. Close removes the entry.
var statsByConn sync.Map

// dropLogInterval bounds the warnings about dropped publishes to one per
// interval, each with the running totals.
const dropLogInterval = 10 * time.Second

func registerStats(nc *nats.Conn, log *slog.Logger) *publishStats {
	s := &publishStats{nc: nc, log: log}
	statsByConn.Store(nc, s)
	return s
}

func statsFor(nc *nats.Conn) *publishStats {
	if nc == nil {
		return nil
	}
	s, _ := statsByConn.Load(nc)
	ps, _ := s.(*publishStats)
	return ps
}

// start counts a publish that goes into the reconnect buffer because the
// client is reconnecting.
func (s *publishStats) start() {
	if s == nil {
		return
	}
	if s.nc.IsReconnecting() {
		s.buffered.Add(1)
	}
}

// done counts the outcome of one publish.
func (s *publishStats) done(err error) {
	if s == nil {
		return
	}
	if err == nil {
		s.ok.Add(1)
		return
	}
	s.failures.Add(1)
	if !errors.Is(err, nats.ErrReconnectBufExceeded) {
		return
	}
	dropped := s.dropped.Add(1)
	s.mu.Lock()
	logNow := time.Since(s.lastDropLog) >= dropLogInterval
	if logNow {
		s.lastDropLog = time.Now()
	}
	s.mu.Unlock()
	if logNow {
		s.log.Warn("NATS reconnect buffer full: alert publish dropped",
			"dropped_total", dropped, "buffered_total", s.buffered.Load(), "error", err)
	}
}

// Stats returns the connection's publish and outage counts.
func (c *Conn) Stats() Stats {
	st := Stats{Connected: c.NC.IsConnected(), Reconnects: c.NC.Stats().Reconnects}
	if n, err := c.NC.Buffered(); err == nil {
		st.BufferedBytes = n
	}
	if s := c.stats; s != nil {
		st.Published = s.ok.Load()
		st.PublishFailures = s.failures.Load()
		st.Buffered = s.buffered.Load()
		st.Dropped = s.dropped.Load()
	}
	return st
}

// Collector returns a Prometheus collector of the connection's Stats. Each
// metric has the label "connection" set to the connection name, so that a
// process with several connections can register one collector for each.
func (c *Conn) Collector() prometheus.Collector {
	return &statsCollector{conn: c, name: c.NC.Opts.Name}
}

var (
	publishedDesc = prometheus.NewDesc("riposte_nats_published_total",
		"Alerts published and acknowledged by JetStream.", []string{"connection"}, nil)
	publishFailuresDesc = prometheus.NewDesc("riposte_nats_publish_failures_total",
		"Alert publishes that failed, dropped ones included.", []string{"connection"}, nil)
	bufferedDesc = prometheus.NewDesc("riposte_nats_reconnect_buffered_total",
		"Alert publishes made while disconnected, held in the reconnect buffer.", []string{"connection"}, nil)
	droppedDesc = prometheus.NewDesc("riposte_nats_reconnect_dropped_total",
		"Alert publishes rejected because the reconnect buffer was full.", []string{"connection"}, nil)
	bufferBytesDesc = prometheus.NewDesc("riposte_nats_reconnect_buffer_bytes",
		"Bytes in the reconnect buffer now.", []string{"connection"}, nil)
	reconnectsDesc = prometheus.NewDesc("riposte_nats_reconnects_total",
		"Reconnections to NATS.", []string{"connection"}, nil)
	connectedDesc = prometheus.NewDesc("riposte_nats_connected",
		"1 while connected to a NATS server, else 0.", []string{"connection"}, nil)
)

type statsCollector struct {
	conn *Conn
	name string
}

func (sc *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{publishedDesc, publishFailuresDesc, bufferedDesc, droppedDesc,
		bufferBytesDesc, reconnectsDesc, connectedDesc} {
		ch <- d
	}
}

func (sc *statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := sc.conn.Stats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), sc.name)
	}
	counter(publishedDesc, st.Published)
	counter(publishFailuresDesc, st.PublishFailures)
	counter(bufferedDesc, st.Buffered)
	counter(droppedDesc, st.Dropped)
	counter(reconnectsDesc, st.Reconnects)
	ch <- prometheus.MustNewConstMetric(bufferBytesDesc, prometheus.GaugeValue, float64(st.BufferedBytes), sc.name)
	connected := 0.0
	if st.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(connectedDesc, prometheus.GaugeValue, connected, sc.name)
}
