// Package relay runs host actions, such as process:kill, on the node where
// the alert happened. A responder that runs elsewhere, as a Deployment does
// in a cluster, cannot signal a process of another node, so it sends the
// action over NATS to the sensor of that node, which runs it and replies
// with the result.
//
// The subject of a node is derived from the host name that the sensor stamps
// on its alerts (the alert's hostname field), so an alert names the sensor
// that can act on it.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
)

// subjectPrefix starts the subject of every node's host actions.
const subjectPrefix = "riposte.node."

// QueueGroup is the queue group in which sensors serve host actions, so that
// two sensors of one node, as during a rolling update, run an action once.
const QueueGroup = "riposte-host-actions"

// Subject returns the NATS subject on which the sensor of host serves host
// actions. Dots of a host name become underscores, which RFC 1123 host
// names never contain; any other name is hex-encoded after "x-".
func Subject(host string) string {
	return subjectPrefix + hostToken(host) + ".actions"
}

// CheckSubject returns the NATS subject on which the sensor of host checks,
// without acting, whether it would run a host action, for dry runs. It is
// apart from Subject so that a sensor that does not know checks never takes
// one for an action.
func CheckSubject(host string) string {
	return subjectPrefix + hostToken(host) + ".checks"
}

func hostToken(host string) string {
	valid := host != ""
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			valid = false
			break
		}
	}
	if valid {
		return strings.ReplaceAll(host, ".", "_")
	}
	return fmt.Sprintf("x-%x", host)
}

// request is the message sent to a node.
type request struct {
	Action actionners.Action `json:"action"`
	Alert  *alert.Alert      `json:"alert,omitempty"`
}

// reply is the message a node sends back: the result, or the error of an
// action that failed to run.
type reply struct {
	Result *actionners.Result `json:"result,omitempty"`
	Error  string             `json:"error,omitempty"`
}

// DefaultTimeout bounds the wait for a node's reply when Forward's timeout
// is zero.
const DefaultTimeout = 10 * time.Second

// Forward is an actionner that runs another actionner on the node named by
// the alert's hostname, through the sensor of that node. It validates
// parameters and lists permissions as the actionner it forwards to.
type Forward struct {
	local   actionners.Actionner
	nc      *nats.Conn
	timeout time.Duration
}

// NewForward returns an actionner that sends the actions of local to the
// node of each alert over nc. timeout bounds the wait for a reply; zero means
// DefaultTimeout.
func NewForward(local actionners.Actionner, nc *nats.Conn, timeout time.Duration) *Forward {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Forward{local: local, nc: nc, timeout: timeout}
}

// Name returns the name of the forwarded actionner.
func (f *Forward) Name() string { return f.local.Name() }

// Validate validates params as the forwarded actionner does.
func (f *Forward) Validate(params map[string]any) error { return f.local.Validate(params) }

// Normalize normalizes params as the forwarded actionner does, if it does.
func (f *Forward) Normalize(params map[string]any) map[string]any {
	if n, ok := f.local.(actionners.Normalizer); ok {
		return n.Normalize(params)
	}
	return params
}

// Permissions returns the forwarded actionner's permissions, which the
// sensors need.
func (f *Forward) Permissions() []actionners.Permission { return f.local.Permissions() }

// Describe describes the forwarded actionner and where it runs.
func (f *Forward) Describe() (string, map[string]string) {
	summary, params := "", map[string]string(nil)
	if d, ok := f.local.(actionners.Describer); ok {
		summary, params = d.Describe()
	}
	return strings.TrimSuffix(summary, ".") + ", run by the sensor of the alert's node", params
}

// checkTimeout bounds the wait for a node's reply to a check, which only
// reads the node's process table.
const checkTimeout = 2 * time.Second

// Check sends the action to the sensor of the alert's node, which runs the
// checks that Run would run there without acting. A dry run in a cluster so
// shows the outcome that acting would have, such as a rejected kill of
// pid 1. When no sensor of that node serves checks, Check returns an empty
// outcome, because the action would be sent, with a note that acting would
// fail unless a sensor serves the node by then.
func (f *Forward) Check(ctx context.Context, req actionners.Request) (actionners.Outcome, string, error) {
	if req.Alert == nil || req.Alert.Hostname == "" {
		return actionners.OutcomeNoTarget, "the alert names no host, so no node can run the action", nil
	}
	host := req.Alert.Hostname
	data, err := json.Marshal(request{Action: req.Action, Alert: req.Alert})
	if err != nil {
		return "", "", fmt.Errorf("encode %s check for node %s: %w", f.Name(), host, err)
	}
	ctx, cancel := context.WithTimeout(ctx, min(f.timeout, checkTimeout))
	defer cancel()
	msg, err := f.nc.RequestWithContext(ctx, CheckSubject(host), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return "", fmt.Sprintf("no Riposte sensor of node %s answered the check, so acting would fail unless one serves host actions by then", host), nil
	}
	if err != nil {
		return "", "", fmt.Errorf("check %s on node %s: %w", f.Name(), host, err)
	}
	var rep reply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return "", "", fmt.Errorf("check %s on node %s: invalid reply %q: %w", f.Name(), host, msg.Data, err)
	}
	if rep.Error != "" {
		return "", "", fmt.Errorf("check %s on node %s: %s", f.Name(), host, rep.Error)
	}
	if rep.Result == nil {
		return "", "", fmt.Errorf("check %s on node %s: the reply has no result", f.Name(), host)
	}
	return rep.Result.Outcome, rep.Result.Message, nil
}

// Run sends the action to the sensor of the alert's node and returns its
// result. It fails when no sensor of that node serves host actions, or when
// none replies in time. In the second case the action may have run.
func (f *Forward) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	if req.Alert == nil || req.Alert.Hostname == "" {
		return actionners.Result{Outcome: actionners.OutcomeNoTarget, Message: "the alert names no host, so no node can run the action"}, nil
	}
	host := req.Alert.Hostname

	data, err := json.Marshal(request{Action: req.Action, Alert: req.Alert})
	if err != nil {
		return actionners.Result{}, fmt.Errorf("encode %s request for node %s: %w", f.Name(), host, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	msg, err := f.nc.RequestWithContext(ctx, Subject(host), data)

	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return actionners.Result{}, fmt.Errorf("%s on node %s: no Riposte sensor of that node serves host actions: run riposte sensor there with --serve-host-actions, or the responder on that host with --host-actions=local", f.Name(), host)
	case errors.Is(err, context.DeadlineExceeded):
		return actionners.Result{}, fmt.Errorf("%s on node %s: no reply within %s; the action may have run: %w", f.Name(), host, f.timeout, err)
	case err != nil:
		return actionners.Result{}, fmt.Errorf("%s on node %s: %w", f.Name(), host, err)
	}

	var rep reply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return actionners.Result{}, fmt.Errorf("%s on node %s: invalid reply %q: %w", f.Name(), host, msg.Data, err)
	}
	if rep.Error != "" {
		return actionners.Result{}, fmt.Errorf("%s on node %s: %s", f.Name(), host, rep.Error)
	}
	if rep.Result == nil {
		return actionners.Result{}, fmt.Errorf("%s on node %s: the reply has no result", f.Name(), host)
	}
	return *rep.Result, nil
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// Host is the host name that this node's alerts carry. Required.
	Host string
	// Registry holds the actionners that this node runs for others, such as
	// process:kill. Required.
	Registry *actionners.Registry
	// Timeout bounds one action. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger records each action. Nil discards the records.
	Logger *slog.Logger
}

// Serve runs the host actions that responders send to this node until ctx
// is done. Each action is validated again and run by the actionner of the
// same name in the registry. A request for any other actionner gets an error.
func Serve(ctx context.Context, nc *nats.Conn, opts ServeOptions) error {
	if opts.Host == "" || opts.Registry == nil {
		return errors.New("relay: Serve needs a host name and a registry")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	subject := Subject(opts.Host)
	msgs := make(chan *nats.Msg, 64)
	sub, err := nc.ChanQueueSubscribe(subject, QueueGroup, msgs)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	checks := make(chan *nats.Msg, 64)
	checkSub, err := nc.ChanQueueSubscribe(CheckSubject(opts.Host), QueueGroup, checks)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", CheckSubject(opts.Host), err)
	}
	defer func() { _ = checkSub.Unsubscribe() }()
	// A connection that has not reached NATS yet, as on a node that boots
	// before NATS, sends the subscription once it connects.
	if !nc.IsConnected() {
		log.Info("serving host actions once NATS is connected", "subject", subject, "actionners", opts.Registry.Names())
	} else if err := nc.Flush(); err != nil {
		log.Warn("subscription to host actions not confirmed: NATS receives it when the connection is back", "subject", subject, "error", err)
	} else {
		log.Info("serving host actions", "subject", subject, "actionners", opts.Registry.Names())
	}

	// Checks, which dry runs send for every previewed action, are served on
	// a goroutine of their own, so that a burst of them never delays an
	// action.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-checks:
				respond(m, check(ctx, m.Data, opts), log)
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			respond(m, run(ctx, m.Data, opts, log), log)
		}
	}
}

func respond(m *nats.Msg, rep reply, log *slog.Logger) {
	data, err := json.Marshal(rep)
	if err != nil {
		log.Error("encode host action reply", "error", err)
		return
	}
	if err := m.Respond(data); err != nil {
		log.Error("reply to host action", "subject", m.Subject, "error", err)
	}
}

// check decodes one request and runs the actionner's checks without
// acting. An actionner that has no checks gives an empty outcome.
func check(ctx context.Context, data []byte, opts ServeOptions) reply {
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		return reply{Error: fmt.Sprintf("invalid request: %v", err)}
	}
	a, err := opts.Registry.Get(req.Action.Actionner)
	if err != nil {
		return reply{Error: fmt.Sprintf("node %s does not run %q: %v", opts.Host, req.Action.Actionner, err)}
	}
	checker, ok := a.(actionners.Checker)
	if !ok {
		return reply{Result: &actionners.Result{}}
	}
	checkCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	outcome, reason, err := checker.Check(checkCtx, actionners.Request{Action: req.Action, Alert: req.Alert})
	if err != nil {
		return reply{Error: err.Error()}
	}
	return reply{Result: &actionners.Result{Outcome: outcome, Message: reason}}
}

// run decodes and runs one request.
func run(ctx context.Context, data []byte, opts ServeOptions, log *slog.Logger) reply {
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		log.Warn("invalid host action request", "error", err)
		return reply{Error: fmt.Sprintf("invalid request: %v", err)}
	}
	a, err := opts.Registry.Get(req.Action.Actionner)
	if err != nil {
		log.Warn("host action for an actionner this node does not run", "actionner", req.Action.Actionner)
		return reply{Error: fmt.Sprintf("node %s does not run %q: %v", opts.Host, req.Action.Actionner, err)}
	}
	if err := a.Validate(req.Action.Parameters); err != nil {
		return reply{Error: err.Error()}
	}

	runCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	start := time.Now()
	res, err := a.Run(runCtx, actionners.Request{Action: req.Action, Alert: req.Alert})

	uuid := ""
	if req.Alert != nil {
		uuid = req.Alert.UUID
	}
	if err != nil {
		log.Warn("host action failed", "actionner", a.Name(), "target", req.Action.Target.String(), "alert_uuid", uuid, "error", err)
		return reply{Error: err.Error()}
	}
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	log.Info("host action", "actionner", a.Name(), "target", req.Action.Target.String(), "alert_uuid", uuid, "outcome", res.Outcome, "message", res.Message)
	return reply{Result: &res}
}
