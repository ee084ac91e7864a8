package responder_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/process"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/responder/notify"
	"github.com/riposte-sec/riposte/responder/webhook"
	"github.com/riposte-sec/riposte/transport"
)

// Example wires a standalone responder against an external NATS, with the
// webhook receiver, metrics, health probes, Slack notifications and policy
// reloading, as `riposte responder` does.
func Example() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	conn, err := transport.Connect(ctx, transport.ConnectOptions{URL: "nats://127.0.0.1:4222", Name: "riposte-responder", Logger: log})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	if _, err := transport.EnsureStreams(ctx, conn.JS, transport.StreamOptions{Replicas: 1}); err != nil {
		fmt.Println(err)
		return
	}

	registry, err := actionners.NewRegistry(process.NewKill(process.KillOptions{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := policies.Load(ctx, policies.Options{Dir: "/etc/riposte/policies", Registry: registry})
	if err != nil {
		fmt.Println(err) // Names file, line and column of every problem.
		return
	}

	promRegistry := prometheus.NewRegistry()
	metrics, err := responder.NewMetrics(promRegistry)
	if err != nil {
		fmt.Println(err)
		return
	}
	notifications := notify.NewDispatcher(notify.Options{
		Routes: []notify.Route{{Sink: &notify.Slack{URL: os.Getenv("SLACK_WEBHOOK_URL")}}},
		Logger: log,
	})
	go func() { _ = notifications.Run(ctx) }()

	r, err := responder.New(responder.Options{
		JS:         conn.JS,
		Policies:   set,
		Registry:   registry,
		Guards:     responder.GuardOptions{Act: false}, // --dry-run=true
		Logger:     log,
		Metrics:    metrics,
		OnDecision: notifications.Notify,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() {
		_ = policies.Watch(ctx, policies.WatchOptions{
			Dir: "/etc/riposte/policies", Registry: registry, Current: set.Revision(),
			OnReload: r.SetPolicies,
			OnError:  func(err error) { log.Error("reload policies", "error", err) },
		})
	}()

	receiver, err := webhook.New(webhook.Options{
		Addr:      ":2803",
		Token:     os.Getenv("RIPOSTE_WEBHOOK_TOKEN"),
		Publisher: transport.NewPublisher(conn.JS),
		Logger:    log,
		OnRequest: metrics.WebhookRequest,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() { _ = receiver.Serve(ctx, responder.HTTPHandlers(promRegistry, r.Ready)) }()

	if err := r.Run(ctx); err != nil {
		fmt.Println(err)
	}
}
