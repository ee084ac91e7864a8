package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/actionners/process"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/sensor/detector"
	"github.com/riposte-sec/riposte/transport"
)

func init() {
	subcommands = append(subcommands, newRunCommand)
}

func newRunCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Detect and answer attacks on this host, with an embedded NATS server",
		Long: `Run the eBPF sensor, an embedded NATS server with JetStream and the
responder in one process. Alerts and decisions are printed on standard output.
The responder only records what it would do unless --dry-run=false is given.
With a cluster (--kubeconfig, $KUBECONFIG or running in a pod), alerts carry
the pod metadata of this node and policies may act through the Kubernetes API.
Needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := hostConfigFrom(v)
			if err != nil {
				return err
			}
			logger, err := newLogger(v, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			warnUnknownEnv(logger, cmd.Root())
			kubernetes.RouteKlog(logger.With("component", "client-go"))
			return runHost(cmd.Context(), cfg, cmd.OutOrStdout(), logger)
		},
	}
	flags := cmd.Flags()
	flags.Bool("dry-run", true, "record the actions the policies choose without running them")
	flags.StringSlice("rules.files", nil, "Falco rules files to load, in order, after the default rules")
	flags.Bool("rules.defaults", true, "load Riposte's default rules")
	flags.Bool("rules.watch", true, "load the rules again when a rules file changes or on SIGHUP; rules that fail to load leave the previous ones in force")
	addRuleOptionFlags(flags)
	flags.String("policies.dir", "", "directory of Rego policies that replaces the default policies")
	flags.Int("nats.port", 0, "client port of the embedded NATS server on 127.0.0.1 (0 picks a free port)")
	flags.String("nats.store-dir", "", "JetStream storage directory (default: a temporary directory removed on exit)")
	flags.StringP("output", "o", "text", "output format of alerts and decisions: text or json")
	flags.String("metrics.addr", "", "listen address of /metrics, /healthz and /readyz, such as 127.0.0.1:9377; empty turns them off")
	addClusterFlags(flags)
	flags.StringSlice("protected-namespaces", nil, protectedNamespacesHelp)
	flags.StringSlice("dry-run-policies", nil, "policies whose actions are only recorded, even when --dry-run=false")
	flags.StringSlice("dry-run-actionners", nil, "actionners, such as process:kill, whose actions are only recorded, even when --dry-run=false; an alias such as kubernetes:networkpolicy names the actionner it resolves to")
	addGuardFlags(flags)
	return cmd
}

// hostConfig is the configuration of `riposte run`.
type hostConfig struct {
	DryRun              bool
	RuleFiles           []string
	DefaultRules        bool
	WatchRules          bool
	RuleOptions         ruleOptions
	PoliciesDir         string
	NATSPort            int
	NATSStoreDir        string
	Output              string
	MetricsAddr         string
	NodeName            string
	Kubeconfig          string
	ProtectedNamespaces []string
	DryRunPolicies      []string
	DryRunActionners    []string
	// Notifications are the decision notifications of the configuration
	// file.
	Notifications []notificationConfig
	// Guards contains the cooldown, rate limit and protected labels of the
	// guard flags. The other fields of GuardOptions come from the fields
	// above.
	Guards responder.GuardOptions

	// tuneGuards, when set, changes the responder's guards; benchmarks use
	// it to lift the rate limit.
	tuneGuards func(*responder.GuardOptions)
}

func hostConfigFrom(v *viper.Viper) (hostConfig, error) {
	cfg := hostConfig{
		DryRun:              v.GetBool("dry-run"),
		RuleFiles:           stringList(v, "rules.files"),
		DefaultRules:        v.GetBool("rules.defaults"),
		WatchRules:          v.GetBool("rules.watch"),
		PoliciesDir:         v.GetString("policies.dir"),
		NATSPort:            v.GetInt("nats.port"),
		NATSStoreDir:        v.GetString("nats.store-dir"),
		Output:              v.GetString("output"),
		MetricsAddr:         v.GetString("metrics.addr"),
		NodeName:            nodeName(v.GetString("node-name")),
		Kubeconfig:          v.GetString("kubeconfig"),
		ProtectedNamespaces: protectedNamespaces(v),
		DryRunPolicies:      stringList(v, "dry-run-policies"),
		DryRunActionners:    stringList(v, "dry-run-actionners"),
	}
	guards, err := guardTuning(v)
	if err != nil {
		return cfg, err
	}
	cfg.Guards = guards
	if cfg.RuleOptions, err = ruleOptionsFrom(v); err != nil {
		return cfg, err
	}
	if cfg.Notifications, err = notificationConfigs(v); err != nil {
		return cfg, err
	}
	if cfg.Output != "text" && cfg.Output != "json" {
		return cfg, fmt.Errorf("invalid output format %q: use text or json", cfg.Output)
	}
	if cfg.NATSPort < 0 || cfg.NATSPort > 65535 {
		return cfg, fmt.Errorf("invalid NATS port %d: use 0 for a free port or a port up to 65535", cfg.NATSPort)
	}
	return cfg, nil
}

// runHost runs the whole pipeline on this host until ctx ends: sensor, rules,
// embedded NATS, responder. Alerts and decisions are written to out.
func runHost(ctx context.Context, cfg hostConfig, out io.Writer, logger *slog.Logger) error {
	p, err := startHost(ctx, cfg, out, logger)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Wait()
}

// hostPipeline is a running `riposte run`.
type hostPipeline struct {
	server  *transport.Server
	conn    *transport.Conn
	sensor  *sensorSide
	sup     *supervisor
	printer *printer
}

// startHost loads the rules and policies, starts NATS, the responder, the
// detector and the sensor, and returns once they run. Rules and policies are
// loaded first so that a mistake in them stops start-up before anything runs.
func startHost(ctx context.Context, cfg hostConfig, out io.Writer, logger *slog.Logger) (p *hostPipeline, err error) {
	engine, err := loadRuleFiles(cfg.DefaultRules, cfg.RuleFiles, cfg.RuleOptions, logger.With("component", "rules"))
	if err != nil {
		return nil, err
	}

	warnUnprotectedKubeSystem(logger, cfg.ProtectedNamespaces)
	if cfg.NodeName == "" {
		cfg.NodeName = nodeName("")
	}
	kube, err := connectCluster(cfg.Kubeconfig, cfg.NodeName, logger)
	if err != nil {
		return nil, err
	}
	registry, err := runRegistry(kube.actionClient())
	if err != nil {
		return nil, err
	}
	policySet, err := policies.Load(ctx, policies.Options{Dir: cfg.PoliciesDir, Registry: registry})
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}

	pipeline := &hostPipeline{printer: &printer{w: out, format: cfg.Output}}
	p = pipeline
	// A failing step returns nil as p, so the cleanup keeps its own copy.
	defer func() {
		if err != nil {
			pipeline.Close()
		}
	}()

	p.server, err = transport.StartServer(transport.ServerOptions{
		Port:     cfg.NATSPort,
		StoreDir: cfg.NATSStoreDir,
		Logger:   logger, // the server adds component=nats-server
	})
	if err != nil {
		return nil, fmt.Errorf("start NATS: %w", err)
	}
	p.conn, err = transport.Connect(ctx, transport.ConnectOptions{InProcess: p.server, Name: "riposte", Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	if _, err := transport.EnsureStreams(ctx, p.conn.JS, transport.StreamOptions{}); err != nil {
		return nil, fmt.Errorf("create streams: %w", err)
	}
	recovery := transport.NewRecovery(p.conn.JS, transport.StreamOptions{}, logger.With("component", "nats"))
	logger.Info("NATS started", "url", p.server.ClientURL())

	guards := cfg.Guards
	guards.Act = !cfg.DryRun
	guards.ProtectedNamespaces = cfg.ProtectedNamespaces
	if client := kube.actionClient(); client != nil {
		guards.PodLabels = client.PodLabels
	}
	guards.DryRunPolicies = cfg.DryRunPolicies
	guards.DryRunActionners = cfg.DryRunActionners
	if cfg.tuneGuards != nil {
		cfg.tuneGuards(&guards)
	}
	// Metrics of the responder, the sensor and the transport, served when
	// cfg.MetricsAddr is set.
	var metricsReg *prometheus.Registry
	var metrics *responder.Metrics
	if cfg.MetricsAddr != "" {
		metricsReg = prometheus.NewRegistry()
		metricsReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		if metrics, err = responder.NewMetrics(metricsReg); err != nil {
			return nil, fmt.Errorf("create metrics: %w", err)
		}
	}

	onDecision := p.printer.decision
	dispatcher := newDispatcher(cfg.Notifications, p.conn, logger)
	if dispatcher != nil {
		onDecision = func(d responder.Decision) {
			p.printer.decision(d)
			dispatcher.Notify(d)
		}
	}
	resp, err := responder.New(responder.Options{
		JS:       p.conn.JS,
		Policies: policySet,
		Registry: registry,
		Guards:   guards,
		Node:     cfg.NodeName,
		// A responder pointed at this embedded server keeps its own
		// durable consumer instead of sharing this one.
		Consumer:   "riposte-run",
		Logger:     logger.With("component", "responder"),
		OnDecision: onDecision,
		Recovery:   recovery,
		Metrics:    metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("start responder: %w", err)
	}

	publisher := transport.NewPublisher(p.conn.JS).WithRecovery(recovery)
	sink := detector.SinkFunc(func(ctx context.Context, a *alert.Alert) error {
		p.printer.alert(a)
		_, err := publisher.Publish(ctx, a)
		return err
	})
	p.sensor, err = newSensorSide(engine, sink, nil, alertHostname(cfg.NodeName), logger)
	if err != nil {
		return nil, err
	}
	if kube != nil {
		p.sensor.usePods(kube.pods)
	}

	p.sup = newSupervisor(ctx)
	p.printer.closed = outputClosed(p.sup, logger)
	p.sup.Go("responder", resp.Run)
	if dispatcher != nil {
		p.sup.Go("notifications", dispatcher.Run)
	}
	if cfg.MetricsAddr != "" {
		registerSensorMetrics(metricsReg, p.sensor, p.conn)
		responderReady := func() error {
			checkCtx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
			defer cancel()
			return resp.Check(checkCtx)
		}
		handlers := responder.HTTPHandlers(metricsReg, sensorReady(ctx, p.conn, recovery), responderReady)
		if err := startHTTP(p.sup, "metrics", cfg.MetricsAddr, handlers); err != nil {
			return nil, err
		}
	}
	p.sensor.start(p.sup)
	if cfg.WatchRules {
		p.sensor.watchRules(p.sup, cfg.DefaultRules, cfg.RuleFiles, cfg.RuleOptions, logger)
	}
	logger.Info("riposte running", "dry_run", cfg.DryRun, "kubernetes", kube != nil, "rules", len(engine.Rules()), "policy_revision", policySet.Revision())
	return p, nil
}

// Wait blocks until the pipeline stops and returns the first error of a part
// that stopped on its own.
func (p *hostPipeline) Wait() error {
	return p.sup.Wait()
}

// Close stops every part and releases NATS.
func (p *hostPipeline) Close() {
	if p.sup != nil {
		p.sup.Stop()
	}
	if p.conn != nil {
		p.conn.Close()
	}
	if p.server != nil {
		p.server.Close()
	}
}

// outputClosed returns the function that stops the parts of sup when the
// reader of the command's output has gone away.
func outputClosed(sup *supervisor, logger *slog.Logger) func() {
	return func() {
		logger.Info("the reader of the output has gone away: stopping")
		sup.cancel()
	}
}

// hostRegistry returns the actionners that act on this host.
func hostRegistry() (*actionners.Registry, error) {
	return actionners.NewRegistry(process.NewKill(process.KillOptions{}))
}

// printer writes alerts and decisions, one per line, as text or JSON.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	format string
	// closed, when set, is called once when the reader of w has gone away,
	// as when the output is piped into head, so that the command stops and
	// cleans up instead of writing into the void.
	closed     func()
	readerGone bool
}

func (p *printer) alert(a *alert.Alert) {
	if p.format == "json" {
		p.writeJSON(a)
		return
	}
	p.writeLine(a.Output)
}

func (p *printer) decision(d responder.Decision) {
	if p.format == "json" {
		p.writeJSON(d)
		return
	}
	var actions []string
	for _, a := range d.Actions {
		actions = append(actions, fmt.Sprintf("%s on %s: %s", a.Actionner, a.Target, a.Result.Outcome))
	}
	if len(actions) == 0 {
		actions = append(actions, "no action")
	}
	p.writeLine(fmt.Sprintf("%s: Decision %s for rule %q (alert %s): %s",
		d.Time.UTC().Format(alert.TimeLayout), d.Outcome, d.Rule, d.AlertUUID, strings.Join(actions, "; ")))
}

func (p *printer) writeJSON(v any) {
	// Like Falco, write <, > and & as they are.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		p.writeLine(fmt.Sprintf(`{"error":%q}`, err.Error()))
		return
	}
	p.writeLine(strings.TrimSuffix(buf.String(), "\n"))
}

func (p *printer) writeLine(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.readerGone {
		return
	}
	if _, err := fmt.Fprintln(p.w, line); errors.Is(err, syscall.EPIPE) {
		p.readerGone = true
		if p.closed != nil {
			p.closed()
		}
	}
}
