package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/actionners/relay"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/sensor/detector"
	"github.com/riposte-sec/riposte/transport"
)

func init() {
	subcommands = append(subcommands, newSensorCommand)
}

func newSensorCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sensor",
		Short: "Run the eBPF sensor of this node and publish its alerts to NATS",
		Long: `Run the eBPF sensor and the rules engine, and publish every alert to the
JetStream alerts stream of an existing NATS deployment, for responders to
consume. While NATS is unreachable, alerts wait in a bounded queue; alerts
that do not fit are dropped and counted in the log. With a cluster
(--kubeconfig, $KUBECONFIG or running in a pod), alerts carry the pod
metadata of this node; the sensor then needs get, list and watch on pods.
Needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(v, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			warnUnknownEnv(logger, cmd.Root())
			kubernetes.RouteKlog(logger.With("component", "client-go"))
			return runSensor(cmd.Context(), v, logger)
		},
	}
	flags := cmd.Flags()
	addNATSFlags(flags)
	flags.StringSlice("rules.files", nil, "Falco rules files to load, in order, after the default rules")
	flags.Bool("rules.defaults", true, "load Riposte's default rules")
	flags.Bool("rules.watch", true, "load the rules again when a rules file changes or on SIGHUP; rules that fail to load leave the previous ones in force")
	addRuleOptionFlags(flags)
	flags.StringP("output", "o", "none", "also print alerts on standard output: none, text or json")
	flags.String("metrics.addr", "127.0.0.1:9376", "listen address of /metrics, /healthz and /readyz, such as :9376 for every interface; empty turns them off")
	flags.Bool("serve-host-actions", true, "run the host actions, such as process:kill, that responders send to this node over NATS")
	addClusterFlags(flags)
	return cmd
}

func runSensor(ctx context.Context, v *viper.Viper, logger *slog.Logger) error {
	ruleOpts, err := ruleOptionsFrom(v)
	if err != nil {
		return err
	}
	engine, err := loadRuleFiles(v.GetBool("rules.defaults"), stringList(v, "rules.files"), ruleOpts, logger.With("component", "rules"))
	if err != nil {
		return err
	}
	format := v.GetString("output")
	if format != "none" && format != "text" && format != "json" {
		return fmt.Errorf("invalid output format %q: use none, text or json", format)
	}

	node := nodeName(v.GetString("node-name"))
	kube, err := connectCluster(v.GetString("kubeconfig"), node, logger)
	if err != nil {
		return err
	}

	connOpts, err := natsConnectOptions(v, "riposte-sensor", logger)
	if err != nil {
		return err
	}
	// The sensor detects while NATS is away, as after a node reboot where
	// NATS starts later: alerts wait in the detector's bounded queue and
	// the client's reconnect buffer, and overflow is counted.
	connOpts.RetryFirstConnect = true
	conn, err := transport.Connect(ctx, connOpts)
	if err != nil {
		return fmt.Errorf("connect to NATS: %w", err)
	}
	defer conn.Close()
	streamOpts := transport.StreamOptions{Replicas: v.GetInt("nats.replicas")}
	ensureLater := !conn.NC.IsConnected()
	if !ensureLater {
		if _, err := transport.EnsureStreams(ctx, conn.JS, streamOpts); err != nil {
			return fmt.Errorf("create streams: %w", err)
		}
	}

	recovery := transport.NewRecovery(conn.JS, streamOpts, logger.With("component", "nats"))
	publisher := transport.NewPublisher(conn.JS).WithRecovery(recovery)
	var out *printer
	var printing *printQueue
	var onAlert func(*alert.Alert)
	if format != "none" {
		out = &printer{w: os.Stdout, format: format}
		printing = newPrintQueue(out.alert, logger)
		onAlert = printing.push
	}
	sink := alertSink(publisher)

	side, err := newSensorSide(engine, sink, onAlert, alertHostname(node), logger)
	if err != nil {
		return err
	}
	if kube != nil {
		side.usePods(kube.pods)
	}
	sup := newSupervisor(ctx)
	if out != nil {
		out.closed = outputClosed(sup, logger)
		sup.Go("printer", printing.run)
	}
	if ensureLater {
		sup.Go("streams", func(ctx context.Context) error {
			ensureStreamsOnConnect(ctx, conn, streamOpts, logger.With("component", "nats"))
			return nil
		})
	}
	side.start(sup)
	if v.GetBool("rules.watch") {
		side.watchRules(sup, v.GetBool("rules.defaults"), stringList(v, "rules.files"), ruleOpts, logger)
	}
	if v.GetBool("serve-host-actions") {
		hostActions, err := hostRegistry()
		if err != nil {
			return err
		}
		sup.Go("host actions", func(ctx context.Context) error {
			return relay.Serve(ctx, conn.NC, relay.ServeOptions{Host: side.hostname, Registry: hostActions, Logger: logger.With("component", "host-actions")})
		})
	}
	if addr := v.GetString("metrics.addr"); addr != "" {
		handlers := responder.HTTPHandlers(sensorMetrics(side, conn), sensorReady(ctx, conn, recovery))
		if err := startHTTP(sup, "metrics", addr, handlers); err != nil {
			return err
		}
	}
	natsURL := conn.NC.ConnectedUrlRedacted()
	if natsURL == "" {
		natsURL = "not connected yet"
	}
	logger.Info("sensor running", "node", node, "kubernetes", kube != nil, "rules", len(engine.Rules()), "nats", natsURL)
	return sup.Wait()
}

// ensureStreamsOnConnect creates the streams once NATS is connected, trying
// again every few seconds until it succeeds or ctx ends. A publish that finds
// the streams missing also creates them, so this only saves the first alert
// a round trip and lets the responders find the streams early.
func ensureStreamsOnConnect(ctx context.Context, conn *transport.Conn, opts transport.StreamOptions, logger *slog.Logger) {
	const retry = 2 * time.Second
	var lastWarn time.Time
	for {
		if conn.NC.IsConnected() {
			_, err := transport.EnsureStreams(ctx, conn.JS, opts)
			if err == nil {
				logger.Info("NATS connected; streams ready", "url", conn.NC.ConnectedUrlRedacted())
				return
			}
			if time.Since(lastWarn) >= time.Minute {
				lastWarn = time.Now()
				logger.Warn("create streams failed: retrying", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

// alertSink returns the sink of the sensor's alerts: it publishes each
// alert, retrying with backoff. A publisher with a Recovery recreates the
// streams when they are missing.
func alertSink(publisher *transport.Publisher) detector.Sink {
	return detector.Retry(detector.SinkFunc(func(ctx context.Context, a *alert.Alert) error {
		_, err := publisher.Publish(ctx, a)
		return err
	}), detector.RetryOptions{})
}

// printQueueSize bounds the alerts waiting to be printed.
const printQueueSize = detector.DefaultQueueSize

// printQueue prints alerts on a goroutine of its own, in the order they were
// raised, so that the output goes on while NATS is unreachable and a slow
// reader of the output never stalls the sensor. When the reader falls
// printQueueSize alerts behind, new alerts are not printed, and counted;
// they are still published.
type printQueue struct {
	alerts   chan *alert.Alert
	print    func(*alert.Alert)
	logger   *slog.Logger
	skipped  atomic.Uint64
	lastWarn atomic.Int64
}

func newPrintQueue(print func(*alert.Alert), logger *slog.Logger) *printQueue {
	return &printQueue{alerts: make(chan *alert.Alert, printQueueSize), print: print, logger: logger}
}

// push queues a for printing without blocking.
func (q *printQueue) push(a *alert.Alert) {
	select {
	case q.alerts <- a:
		return
	default:
	}
	skipped := q.skipped.Add(1)
	now := time.Now().UnixNano()
	if last := q.lastWarn.Load(); now-last >= int64(10*time.Second) && q.lastWarn.CompareAndSwap(last, now) {
		q.logger.Warn("output too slow: alerts not printed, still published", "not_printed_total", skipped)
	}
}

// run prints queued alerts until ctx ends, then prints those still queued.
func (q *printQueue) run(ctx context.Context) error {
	for {
		select {
		case a := <-q.alerts:
			q.print(a)
		case <-ctx.Done():
			for {
				select {
				case a := <-q.alerts:
					q.print(a)
				default:
					return nil
				}
			}
		}
	}
}

// readyCheckTimeout bounds the requests of one readiness check to NATS.
const readyCheckTimeout = 2 * time.Second

// sensorReady returns the readiness check of the sensor. It fails while NATS
// is not connected, while the streams are missing or while publishes keep
// failing.
func sensorReady(ctx context.Context, conn *transport.Conn, recovery *transport.Recovery) func() error {
	return func() error {
		if !conn.NC.IsConnected() {
			return errors.New("NATS is not connected")
		}
		checkCtx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
		defer cancel()
		return recovery.Check(checkCtx)
	}
}

// sensorMetrics gathers the metrics of a running sensor: the kernel's drop
// counters and the sensor's own, the detector's, and the NATS publishes.
func sensorMetrics(side *sensorSide, conn *transport.Conn) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerSensorMetrics(reg, side, conn)
	return reg
}

// registerSensorMetrics adds the metrics of sensorMetrics, except the Go
// runtime's and the process's, to reg.
func registerSensorMetrics(reg *prometheus.Registry, side *sensorSide, conn *transport.Conn) {
	reg.MustRegister(side.sensor.Collector(), conn.Collector())
	counter := func(name, help string, value func(detector.Stats) uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			return float64(value(side.detector.Stats()))
		}))
	}
	counter("riposte_detector_events_total", "Events matched against the rules.", func(s detector.Stats) uint64 { return s.Events })
	counter("riposte_detector_alerts_total", "Rule matches that became alerts.", func(s detector.Stats) uint64 { return s.Matches })
	counter("riposte_detector_alerts_delivered_total", "Alerts stored in NATS.", func(s detector.Stats) uint64 { return s.Delivered })
	counter("riposte_detector_alerts_dropped_total", "Alerts dropped because the queue to NATS was full.", func(s detector.Stats) uint64 { return s.Dropped })
	counter("riposte_detector_delivery_errors_total", "Alerts that NATS did not accept after retries.", func(s detector.Stats) uint64 { return s.SinkErrors })
	registerRuleLoadMetrics(reg, &side.ruleLoads)
}

// registerRuleLoadMetrics adds the metrics of the rules reloads to reg. A
// failed reload leaves the previous rules in force, so it shows here and in
// the log, not in /readyz.
func registerRuleLoadMetrics(reg *prometheus.Registry, loads *ruleLoads) {
	const reloadsName = "riposte_sensor_rules_reloads_total"
	const reloadsHelp = "Reloads of the rules files after a change or SIGHUP, by result; a failed reload leaves the previous rules in force."
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: reloadsName, Help: reloadsHelp, ConstLabels: prometheus.Labels{"result": "success"}},
			func() float64 { return float64(loads.succeeded.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: reloadsName, Help: reloadsHelp, ConstLabels: prometheus.Labels{"result": "failure"}},
			func() float64 { return float64(loads.failed.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "riposte_sensor_rules_last_load_success_timestamp_seconds",
			Help: "Unix time of the last successful load of the rules, at start or on reload.",
		}, func() float64 { return float64(loads.lastSuccess.Load()) / 1e9 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "riposte_sensor_rules_last_reload_successful",
			Help: "1 unless the last reload of the rules failed, 0 while it has failed and the previous rules are in force.",
		}, func() float64 {
			if loads.lastFailed.Load() {
				return 0
			}
			return 1
		}),
	)
}
