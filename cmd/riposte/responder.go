package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/actionners/process"
	"github.com/riposte-sec/riposte/actionners/relay"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/responder/webhook"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
	"github.com/riposte-sec/riposte/transport"
)

func init() {
	subcommands = append(subcommands, newResponderCommand)
}

func newResponderCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "responder",
		Short: "Decide on alerts from NATS and the webhook, and act on them",
		Long: `Consume alerts from the JetStream alerts stream of an existing NATS
deployment, and receive alerts from Falco and Falcosidekick on an HTTP webhook
(Falco Talon's port 2803 and path /). Policies choose actions, guards apply,
and every decision is recorded on the decisions stream. Every replica shares
one durable consumer, so all replicas work at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(v, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			warnUnknownEnv(logger, cmd.Root())
			return runResponder(cmd.Context(), v, logger)
		},
	}
	flags := cmd.Flags()
	addNATSFlags(flags)
	flags.Duration("nats.wait", 0, "how long to wait at start for NATS to become reachable before exiting with the connection error; 0 waits until it is")
	flags.Bool("dry-run", true, "record the actions the policies choose without running them")
	flags.String("policies.dir", "", "directory of Rego policies that replaces the default policies; reloaded when its files change")
	flags.StringSlice("protected-namespaces", nil, protectedNamespacesHelp)
	flags.String("namespace", "riposte", "Riposte's own namespace, protected from actions")
	flags.StringSlice("dry-run-policies", nil, "policies whose actions are only recorded, even when --dry-run=false")
	flags.StringSlice("dry-run-actionners", nil, "actionners, such as process:kill, whose actions are only recorded, even when --dry-run=false; an alias such as kubernetes:networkpolicy names the actionner it resolves to")
	addGuardFlags(flags)
	flags.Bool("guards.shared-cooldown", false, "keep cooldowns in the JetStream key-value bucket riposte_cooldowns as well, so that every replica sees the actions of the others; set it when more than one responder runs")
	flags.String("node-name", "", "node name given to policies (default: $NODE_NAME, then the host name)")
	flags.String("host-actions", "sensor", "where host actions such as process:kill run: sensor (the sensor of the alert's node, over NATS) or local (this process, for a responder on the alerts' host)")
	flags.String("kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account); Kubernetes actionners are off without a cluster")
	flags.String("webhook.addr", webhook.DefaultAddr, "listen address of the webhook; empty turns the webhook off")
	flags.String("webhook.token-file", "", "file holding the bearer token that webhook requests must carry")
	flags.String("webhook.tls.cert", "", "TLS certificate file; serves the webhook over HTTPS")
	flags.String("webhook.tls.key", "", "TLS private key file")
	flags.String("webhook.tls.client-ca", "", "CA file that verifies client certificates (mutual TLS)")
	flags.Bool("webhook.no-auth", false, "accept webhook requests without a token or client certificate")
	flags.Float64("webhook.rate-limit", webhook.DefaultRateLimit, "webhook requests per second across all clients; above it, and after the burst, a request gets 429 with Retry-After; a negative value turns the limit off, and 0 is invalid")
	flags.Int("webhook.rate-burst", 2*webhook.DefaultRateLimit, "webhook requests allowed at once above webhook.rate-limit (1 or more)")
	flags.Int64("webhook.max-body-bytes", 0, "max size of a webhook request body in bytes (default 1 MiB); a request also holds at most 1,000 alerts, and each alert must fit in the NATS server's max payload")
	flags.String("metrics.addr", "127.0.0.1:9376", "listen address of /metrics, /healthz and /readyz, such as :9376 for every interface; empty turns them off")
	return cmd
}

func runResponder(ctx context.Context, v *viper.Viper, logger *slog.Logger) error {
	if err := checkWebhookAuth(v); err != nil {
		return err
	}
	hostActions := v.GetString("host-actions")
	if hostActions == "" {
		hostActions = "sensor"
	}
	if hostActions != "sensor" && hostActions != "local" {
		return fmt.Errorf("invalid host-actions %q: use sensor (the sensor of the alert's node runs process:kill) or local (this process runs it)", hostActions)
	}
	notifyConfigs, err := notificationConfigs(v)
	if err != nil {
		return err
	}
	guards, err := responderGuards(v)
	if err != nil {
		return err
	}
	warnUnprotectedKubeSystem(logger, guards.ProtectedNamespaces)

	connOpts, err := natsConnectOptions(v, "riposte-responder", logger)
	if err != nil {
		return err
	}
	// A responder that starts before NATS, as when the chart installs both
	// at once, waits for it and reports itself not ready meanwhile, instead
	// of exiting into a restart loop.
	connOpts.RetryFirstConnect = true
	conn, err := transport.Connect(ctx, connOpts)
	if err != nil {
		return fmt.Errorf("connect to NATS: %w", err)
	}
	defer conn.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := responder.NewMetrics(reg)
	if err != nil {
		return fmt.Errorf("create metrics: %w", err)
	}
	var running atomic.Pointer[responder.Responder]
	ready := func() error {
		if !conn.NC.IsConnected() {
			return errors.New("NATS is not connected")
		}
		resp := running.Load()
		if resp == nil {
			return errors.New("the responder is starting")
		}
		checkCtx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
		defer cancel()
		return resp.Check(checkCtx)
	}
	handlers := responder.HTTPHandlers(reg, ready)
	sup := newSupervisor(ctx)
	defer sup.Stop()
	if addr := v.GetString("metrics.addr"); addr != "" && addr != v.GetString("webhook.addr") {
		if err := startHTTP(sup, "metrics", addr, handlers); err != nil {
			return err
		}
	}
	if err := waitConnected(sup.ctx, conn, v.GetDuration("nats.wait"), logger); err != nil {
		return err
	}
	if sup.ctx.Err() != nil {
		return sup.Wait()
	}

	kill := actionners.Actionner(process.NewKill(process.KillOptions{}))
	if hostActions == "sensor" {
		kill = relay.NewForward(kill, conn.NC, 0)
	}
	registry, err := actionners.NewRegistry(kill)
	if err != nil {
		return err
	}
	kubeClient, err := registerKubernetes(v, registry, logger)
	if err != nil {
		return err
	}
	if kubeClient != nil {
		guards.PodLabels = kubeClient.PodLabels
	}
	policyDir := v.GetString("policies.dir")
	policySet, err := policies.Load(ctx, policies.Options{Dir: policyDir, Registry: registry})
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	streamOpts := transport.StreamOptions{Replicas: v.GetInt("nats.replicas")}
	if _, err := transport.EnsureStreams(ctx, conn.JS, streamOpts); err != nil {
		return fmt.Errorf("create streams: %w", err)
	}
	recovery := transport.NewRecovery(conn.JS, streamOpts, logger.With("component", "nats"))

	dispatcher := newDispatcher(notifyConfigs, conn, logger)
	onDecision := func(responder.Decision) {}
	if dispatcher != nil {
		onDecision = dispatcher.Notify
	}

	resp, err := responder.New(responder.Options{
		JS:         conn.JS,
		Policies:   policySet,
		Registry:   registry,
		Guards:     guards,
		Node:       nodeName(v.GetString("node-name")),
		Logger:     logger.With("component", "responder"),
		Metrics:    metrics,
		OnDecision: onDecision,
		Recovery:   recovery,
	})
	if err != nil {
		return fmt.Errorf("start responder: %w", err)
	}

	running.Store(resp)
	sup.Go("responder", resp.Run)
	if dispatcher != nil {
		sup.Go("notifications", dispatcher.Run)
	}
	reload := reloadOnHangup(sup, policyDir, logger)
	if policyDir != "" {
		sup.Go("policy watcher", func(ctx context.Context) error {
			return policies.Watch(ctx, policies.WatchOptions{
				Dir:      policyDir,
				Registry: registry,
				Reload:   reload,
				Current:  policySet.Revision(),
				OnReload: func(s *policies.Set) {
					resp.SetPolicies(s)
					logger.Info("policies reloaded", "policy_revision", s.Revision(), "files", len(s.Files()))
				},
				OnError: func(err error) {
					logger.Error("reload policies: previous policies stay in force", "error", err)
				},
			})
		})
	}

	if addr := v.GetString("webhook.addr"); addr != "" {
		receiver, err := newReceiver(v, addr, transport.NewPublisher(conn.JS).WithRecovery(recovery), metrics, logger)
		if err != nil {
			return err
		}
		warnBodyOverMaxPayload(v, conn.NC.MaxPayload(), logger)
		var extra map[string]http.Handler
		if v.GetString("metrics.addr") == addr {
			extra = handlers
		}
		ln, err := receiver.Listen()
		if err != nil {
			return err
		}
		sup.Go("webhook", func(ctx context.Context) error { return receiver.ServeListener(ctx, ln, extra) })
	}
	logger.Info("responder running", "dry_run", v.GetBool("dry-run"), "actionners", strings.Join(registry.Names(), ","),
		"policy_revision", policySet.Revision(), "nats", conn.NC.ConnectedUrlRedacted(),
		"cooldown", guards.Cooldown, "rate_limit", guards.RateLimit, "burst", guards.RateBurst, "shared_cooldown", guards.SharedCooldown,
		"max_alert_age", guards.MaxAlertAge)
	return sup.Wait()
}

// reloadOnHangup returns a channel that receives on each SIGHUP, when the
// policies come from dir, so that they load again at once, as Falco reloads
// its rules. Without a directory, the built-in policies are in force and a
// SIGHUP is only logged.
func reloadOnHangup(sup *supervisor, dir string, logger *slog.Logger) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	sup.Go("SIGHUP handler", func(ctx context.Context) error {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-hup:
			}
			if dir == "" {
				logger.Info("SIGHUP: the built-in default policies are in force, so there is nothing to reload; set --policies.dir to load policies from files")
				continue
			}
			logger.Info("SIGHUP: loading the policies again", "dir", dir)
			select {
			case reload <- struct{}{}:
			default: // A reload is already pending.
			}
		}
	})
	return reload
}

// waitConnected waits until conn reaches NATS, with a warning every 30
// seconds, or until ctx ends. After limit, unless it is zero, it returns an
// error with the last connection error.
func waitConnected(ctx context.Context, conn *transport.Conn, limit time.Duration, logger *slog.Logger) error {
	start := time.Now()
	warned := time.Time{}
	for !conn.NC.IsConnected() {
		if limit > 0 && time.Since(start) >= limit {
			// nats.go v1.56.0 keeps no last error while it retries a first
			// connection, which the connection's log lines show instead.
			lastErr := conn.NC.LastError()
			if lastErr == nil {
				lastErr = errors.New("no server accepted a connection")
			}
			return fmt.Errorf("connect to NATS: not reachable after %s: %w: check --nats.url, or raise --nats.wait", limit, lastErr)
		}
		if time.Since(warned) >= 30*time.Second {
			warned = time.Now()
			logger.Warn("waiting for NATS before starting the responder", "waited", time.Since(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// responderGuards returns the guard options of `riposte responder`.
func responderGuards(v *viper.Viper) (responder.GuardOptions, error) {
	guards, err := guardTuning(v)
	if err != nil {
		return guards, err
	}
	guards.Act = !v.GetBool("dry-run")
	guards.ProtectedNamespaces = protectedNamespaces(v)
	guards.OwnNamespace = v.GetString("namespace")
	guards.DryRunPolicies = stringList(v, "dry-run-policies")
	guards.DryRunActionners = stringList(v, "dry-run-actionners")
	guards.SharedCooldown = v.GetBool("guards.shared-cooldown")
	return guards, nil
}

// registerKubernetes adds the Kubernetes actionners and returns their
// client. Without a configured cluster it returns a nil client. The
// actionners are then registered without one, so that policies naming them
// load and each of their actions fails with a clear outcome.
func registerKubernetes(v *viper.Viper, registry *actionners.Registry, logger *slog.Logger) (*kubernetes.Client, error) {
	var client *kubernetes.Client
	cfg, err := clusterConfig(v.GetString("kubeconfig"))
	switch {
	case errors.Is(err, k8smeta.ErrNoCluster):
		logger.Info("no Kubernetes cluster configured: Kubernetes actions fail; pass --kubeconfig or run in a pod to use one")
	case err != nil:
		return nil, err
	default:
		if client, err = kubernetes.NewClient(cfg, logger.With("component", "kubernetes")); err != nil {
			return nil, err
		}
	}
	return client, kubernetes.Register(registry, client)
}

func newReceiver(v *viper.Viper, addr string, pub webhook.Publisher, metrics *responder.Metrics, logger *slog.Logger) (*webhook.Receiver, error) {
	opts := webhook.Options{
		Addr:         addr,
		NoAuth:       v.GetBool("webhook.no-auth"),
		MaxBodyBytes: v.GetInt64("webhook.max-body-bytes"),
		RateLimit:    v.GetFloat64("webhook.rate-limit"),
		RateBurst:    v.GetInt("webhook.rate-burst"),
		Publisher:    pub,
		Logger:       logger.With("component", "webhook"),
		OnRequest:    metrics.WebhookRequest,
	}
	if opts.NoAuth && v.GetString("webhook.token-file") == "" && v.GetString("webhook.tls.client-ca") == "" {
		logger.Warn("the webhook accepts alerts from anyone who can reach it: --webhook.no-auth is set", "addr", addr)
	}
	if file := v.GetString("webhook.token-file"); file != "" {
		token, err := readWebhookToken(file)
		if err != nil {
			return nil, err
		}
		opts.Token = token
	}
	tlsConfig, err := serverTLSConfig(v.GetString("webhook.tls.cert"), v.GetString("webhook.tls.key"), v.GetString("webhook.tls.client-ca"), logger)
	if err != nil {
		return nil, err
	}
	opts.TLS = tlsConfig
	return webhook.New(opts)
}

// warnBodyOverMaxPayload warns when the webhook's body limit is larger than
// the NATS server's max payload. Such a body is fine as a batch of smaller
// alerts, but a single alert larger than maxPayload gets 413 whatever the
// body limit.
func warnBodyOverMaxPayload(v *viper.Viper, maxPayload int64, logger *slog.Logger) {
	maxBody := v.GetInt64("webhook.max-body-bytes")
	if maxBody == 0 {
		maxBody = webhook.DefaultMaxBodyBytes
	}
	if maxPayload > 0 && maxBody > maxPayload {
		logger.Warn("webhook.max-body-bytes is larger than the NATS server's max payload, so a batch may be that large but a single alert larger than the max payload gets 413: raise max_payload in the NATS server configuration to accept larger alerts",
			"max_body_bytes", maxBody, "max_payload", maxPayload)
	}
}

// startHTTP binds addr at once, so that an address in use stops the command
// before it reports running, and serves handlers there under sup.
func startHTTP(sup *supervisor, name, addr string, handlers map[string]http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w: choose a free address with --metrics.addr", name, addr, err)
	}
	sup.Go(name, func(ctx context.Context) error { return serveHTTP(ctx, ln, handlers) })
	return nil
}

// serveHTTP serves handlers, keyed by ServeMux pattern, on ln until ctx
// ends.
func serveHTTP(ctx context.Context, ln net.Listener, handlers map[string]http.Handler) error {
	mux := http.NewServeMux()
	for pattern, h := range handlers {
		mux.Handle(pattern, h)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	select {
	case err := <-errs:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

// checkWebhookAuth fails before anything starts when the webhook would accept
// requests from anyone without --webhook.no-auth, or when its token file is
// unreadable or empty.
func checkWebhookAuth(v *viper.Viper) error {
	if v.GetString("webhook.addr") == "" {
		return nil
	}
	tokenFile, clientCA := v.GetString("webhook.token-file"), v.GetString("webhook.tls.client-ca")
	cert, key := v.GetString("webhook.tls.cert"), v.GetString("webhook.tls.key")
	switch {
	case cert != "" && key == "":
		return errors.New("missing --webhook.tls.key: --webhook.tls.cert needs the private key of the certificate")
	case key != "" && cert == "":
		return errors.New("missing --webhook.tls.cert: --webhook.tls.key needs the certificate it belongs to")
	case clientCA != "" && cert == "":
		return errors.New("missing --webhook.tls.cert and --webhook.tls.key: mutual TLS with --webhook.tls.client-ca needs the server's certificate and key")
	}
	if v.GetBool("webhook.no-auth") {
		if tokenFile != "" || clientCA != "" {
			return errors.New("--webhook.no-auth contradicts --webhook.token-file and --webhook.tls.client-ca: remove --webhook.no-auth to require authentication, or the others to accept anyone")
		}
		return nil
	}
	if tokenFile == "" && clientCA == "" {
		return errors.New("the webhook has no authentication: set --webhook.token-file, or --webhook.tls.cert, --webhook.tls.key and --webhook.tls.client-ca for mutual TLS, or --webhook.no-auth to accept anyone; --webhook.addr= turns the webhook off")
	}
	if tokenFile != "" {
		if _, err := readWebhookToken(tokenFile); err != nil {
			return err
		}
	}
	return nil
}

// readWebhookToken reads the webhook's bearer token: the one line of file,
// without the white space around it.
func readWebhookToken(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read webhook token: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("webhook token file %s is empty: write the token into it", file)
	}
	if lines := strings.Count(token, "\n") + 1; lines > 1 {
		return "", fmt.Errorf("webhook token file %s has %d lines: a bearer token is one line, so write the token alone", file, lines)
	}
	if err := webhook.CheckToken(token); err != nil {
		return "", fmt.Errorf("webhook token file %s: %w", file, err)
	}
	return token, nil
}
