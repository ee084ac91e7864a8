package responder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/transport"
)

// Options configure a Responder. JS, Policies and Registry are required.
type Options struct {
	// JS is the JetStream context. The streams and the actions bucket must
	// exist: see transport.EnsureStreams.
	JS jetstream.JetStream
	// Policies are the policies to evaluate. SetPolicies replaces them while
	// the responder runs.
	Policies *policies.Set
	// Registry holds the actionners that policies may choose.
	Registry *actionners.Registry
	// Guards configure dry run, protections, cooldown and rate limit.
	Guards GuardOptions
	// Node is the node name given to policies as input.node.name. Empty means
	// the host name.
	Node string
	// Name identifies this replica in decisions. Empty means Node.
	Name string
	// Consumer is the durable consumer name, shared by every replica. Empty
	// means "riposte-responder".
	Consumer string
	// FilterSubject selects the alerts to consume. Empty means every alert,
	// riposte.alerts.>.
	FilterSubject string
	// Concurrency is the number of alerts decided at once. Zero means 8 per
	// CPU.
	Concurrency int
	// AckWait is how long JetStream waits for the acknowledgement of an alert
	// before redelivering it. Zero means 30 seconds.
	AckWait time.Duration
	// MaxDeliver bounds deliveries of one alert. At the last one, an alert that
	// still cannot be decided goes to the dead-letter subject. Zero means 5.
	MaxDeliver int
	// ActionTimeout bounds one action. Zero means 10 seconds.
	ActionTimeout time.Duration
	// PolicyTimeout bounds the evaluation of the policies on one alert, so
	// that a slow policy cannot hold a worker. Zero means DefaultPolicyTimeout.
	PolicyTimeout time.Duration
	// Logger receives one line per decision and every error. Nil discards.
	Logger *slog.Logger
	// OnDecision, when set, is called with every decision after it is
	// recorded. It must not block for long: it runs on the decision path.
	OnDecision func(Decision)
	// Metrics, when set, count alerts, decisions, actions and guard hits.
	Metrics *Metrics
	// Recovery, when set, recreates the streams, the actions bucket and the
	// durable consumer when NATS lost them, as after a server restart without
	// its JetStream storage, and Check reports them missing. Create it with
	// the stream options the process started with.
	Recovery *transport.Recovery
	// KubernetesContext, when set, returns the Kubernetes context of an alert,
	// for example pod labels from an informer cache. A nil result, or no
	// function, means the context derived from the alert's output fields.
	KubernetesContext func(ctx context.Context, a *alert.Alert) *policies.Kubernetes
}

// Responder consumes alerts, evaluates policies, applies guards, runs
// actions and records decisions.
type Responder struct {
	opts     Options
	js       jetstream.JetStream
	policies atomic.Pointer[policies.Set]
	registry *actionners.Registry
	guards   *guards
	ledger   *ledger
	log      *slog.Logger
	node     string
	name     string
	metrics  *Metrics
	running  atomic.Bool
	// reconsume, when it has a value, makes Run create the consumer again
	// and consume from it anew.
	reconsume chan error
	// evalOnly records every action that would run as a dry run, and needs
	// no NATS: see Evaluator.
	evalOnly bool
	// unconfirmed holds the uuids of alerts whose decision failed to record
	// here, so that one that JetStream stored all the same, as when its
	// acknowledgement was lost, is still passed on when it comes back.
	unconfirmed unconfirmedSet
}

// unconfirmedSet is a set of alert uuids. It keeps at most maxUnconfirmed
// of them, dropping the oldest first.
type unconfirmedSet struct {
	mu    sync.Mutex
	ids   map[string]bool
	order []string // in the order added; may hold uuids already taken
}

// maxUnconfirmed bounds unconfirmedSet, which grows only while decisions
// fail to record.
const maxUnconfirmed = 10000

func (u *unconfirmedSet) add(uuid string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ids == nil {
		u.ids = map[string]bool{}
	}
	if u.ids[uuid] {
		return
	}
	for len(u.ids) >= maxUnconfirmed && len(u.order) > 0 {
		delete(u.ids, u.order[0])
		u.order = u.order[1:]
	}
	if len(u.order) >= 2*maxUnconfirmed {
		// Drop the uuids taken since, which only the order still holds.
		u.order = slices.DeleteFunc(u.order, func(id string) bool { return !u.ids[id] })
	}
	u.ids[uuid] = true
	u.order = append(u.order, uuid)
}

// take removes uuid and reports whether it was in the set.
func (u *unconfirmedSet) take(uuid string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	ok := u.ids[uuid]
	delete(u.ids, uuid)
	return ok
}

// New checks the options and returns a responder. It does not contact NATS
// until Run.
func New(opts Options) (*Responder, error) {
	if opts.JS == nil {
		return nil, errors.New("new responder: missing JetStream context")
	}
	return newResponder(opts)
}

func newResponder(opts Options) (*Responder, error) {
	if opts.Policies == nil {
		return nil, errors.New("new responder: missing policies")
	}
	if opts.Registry == nil {
		return nil, errors.New("new responder: missing actionner registry")
	}
	if opts.Consumer == "" {
		opts.Consumer = "riposte-responder"
	}
	if opts.FilterSubject == "" {
		opts.FilterSubject = transport.AlertsSubjectPrefix + ".>"
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 8 * runtime.GOMAXPROCS(0)
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("new responder: invalid concurrency %d: use a positive number or 0 for the default", opts.Concurrency)
	}
	if opts.AckWait == 0 {
		opts.AckWait = 30 * time.Second
	}
	if opts.MaxDeliver == 0 {
		opts.MaxDeliver = 5
	}
	if opts.MaxDeliver < 1 {
		return nil, fmt.Errorf("new responder: invalid max deliveries %d: use 1 or more", opts.MaxDeliver)
	}
	if opts.ActionTimeout == 0 {
		opts.ActionTimeout = 10 * time.Second
	}
	if opts.PolicyTimeout == 0 {
		opts.PolicyTimeout = DefaultPolicyTimeout
	}
	guardOpts, err := resolveDryRunNames(opts.Guards, opts.Registry, opts.Policies)
	if err != nil {
		return nil, fmt.Errorf("new responder: %w", err)
	}
	opts.Guards = guardOpts
	r := &Responder{
		opts:     opts,
		js:       opts.JS,
		registry: opts.Registry,
		guards:   newGuards(opts.Guards),
		log:      opts.Logger,
		node:     opts.Node,
		name:     opts.Name,
		metrics:  opts.Metrics,

		reconsume: make(chan error, 1),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.node == "" {
		r.node, _ = os.Hostname()
	}
	if r.name == "" {
		r.name = r.node
	}
	r.policies.Store(opts.Policies)
	if opts.Recovery != nil {
		opts.Recovery.OnRecover(func(ctx context.Context) error {
			if _, err := r.createCooldownBucket(ctx); err != nil {
				return err
			}
			return r.createConsumer(ctx)
		})
	}
	return r, nil
}

// SetPolicies replaces the policies for alerts decided from now on. It logs
// a warning for each dry-run policy that s no longer has: the setting stays,
// and applies again once a policy of that name is loaded.
func (r *Responder) SetPolicies(s *policies.Set) {
	r.policies.Store(s)
	for _, name := range missingDryRunPolicies(r.opts.Guards.DryRunPolicies, s) {
		r.log.Warn("dry-run policy not found in the reloaded policies", "policy", name,
			"policies", strings.Join(s.Names(), ","), "policy_revision", s.Revision())
	}
}

// Policies returns the policies in force.
func (r *Responder) Policies() *policies.Set {
	return r.policies.Load()
}

// Run consumes alerts until ctx ends, then waits for the alerts in progress
// and returns nil. It returns an error when the consumer cannot be created.
// With a Recovery, Run recreates the streams and the consumer whenever
// JetStream reports them missing, instead of failing or waiting.
func (r *Responder) Run(ctx context.Context) error {
	kv, err := r.js.KeyValue(ctx, transport.ActionsBucket)
	if err != nil && r.opts.Recovery != nil && r.opts.Recovery.Recover(ctx, err) == nil {
		kv, err = r.js.KeyValue(ctx, transport.ActionsBucket)
	}
	if err != nil {
		return fmt.Errorf("open key-value bucket %s: %w", transport.ActionsBucket, err)
	}
	r.ledger = &ledger{kv: kv, responder: r.name}
	if r.guards.shared, err = r.createCooldownBucket(ctx); err != nil {
		return err
	}

	err = r.createConsumer(ctx)
	if err != nil && r.opts.Recovery != nil && r.opts.Recovery.Recover(ctx, err) == nil {
		err = r.createConsumer(ctx)
	}
	if err != nil {
		return err
	}
	stopAdvisories, err := r.watchMaxDeliveries(ctx)
	if err != nil {
		return err
	}
	defer stopAdvisories()

	msgs := make(chan jetstream.Msg, r.opts.Concurrency)
	cc, err := r.consume(ctx, msgs)
	if err != nil {
		return err
	}
	r.running.Store(true)
	defer r.running.Store(false)
	r.log.Info("responder started", "consumer", r.opts.Consumer, "policy_revision", r.Policies().Revision(),
		"act", r.opts.Guards.Act, "concurrency", r.opts.Concurrency)

	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Go(func() {
			for m := range msgs {
				r.handle(ctx, m)
			}
		})
	}

	cc = r.consumeUntilDone(ctx, cc, msgs)
	// Stop pulling, let the handler return for messages already received,
	// then let the workers finish them.
	if cc != nil {
		cc.Drain()
		<-cc.Closed()
	}
	close(msgs)
	wg.Wait()
	r.log.Info("responder stopped", "consumer", r.opts.Consumer)
	return nil
}

// consume starts pulling alerts from the durable consumer into msgs. Errors
// that mean the consumer or its stream is missing ask Run, through
// r.reconsume, to recreate them.
func (r *Responder) consume(ctx context.Context, msgs chan<- jetstream.Msg) (jetstream.ConsumeContext, error) {
	cons, err := r.js.Consumer(ctx, transport.AlertsStream, r.opts.Consumer)
	if err != nil {
		return nil, fmt.Errorf("open consumer %s on stream %s: %w", r.opts.Consumer, transport.AlertsStream, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		msgs <- m
	}, jetstream.PullMaxMessages(max(100, 2*r.opts.Concurrency)), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		r.log.Warn("consume alerts", "consumer", r.opts.Consumer, "error", err)
		if transport.IsMissing(err) {
			r.requestReconsume(err)
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("consume from %s: %w", r.opts.Consumer, err)
	}
	return cc, nil
}

func (r *Responder) requestReconsume(cause error) {
	select {
	case r.reconsume <- cause:
	default:
	}
}

// consumeUntilDone waits for ctx to end while it replaces cc whenever the
// consumer or its stream went missing: the Recovery recreates the streams and
// the consumer, at most once per transport.RecoveryInterval, and consuming
// starts again. Without a Recovery it only waits. It returns the
// ConsumeContext in use, nil when none is.
func (r *Responder) consumeUntilDone(ctx context.Context, cc jetstream.ConsumeContext, msgs chan<- jetstream.Msg) jetstream.ConsumeContext {
	for {
		select {
		case <-ctx.Done():
			return cc
		case cause := <-r.reconsume:
			if r.opts.Recovery == nil {
				continue
			}
			if err := r.opts.Recovery.Recover(ctx, cause); err != nil {
				r.retryReconsume(ctx, cause)
				continue
			}
			if cc != nil {
				// The messages already received are still decided, and
				// their acknowledgements fail if the consumer is new.
				r.stopConsuming(cc)
			}
			next, err := r.consume(ctx, msgs)
			if err != nil {
				r.log.Warn("consume alerts again", "consumer", r.opts.Consumer, "error", err)
				cc = nil
				r.retryReconsume(ctx, err)
				continue
			}
			cc = next
			r.log.Info("consuming alerts again", "consumer", r.opts.Consumer)
		}
	}
}

// stopConsuming stops cc and waits until its handler no longer sends on the
// messages channel, so that Run may close it later. The wait is bounded
// because the workers keep reading the channel meanwhile.
func (r *Responder) stopConsuming(cc jetstream.ConsumeContext) {
	cc.Stop()
	select {
	case <-cc.Closed():
	case <-time.After(5 * time.Second):
		r.log.Warn("consumer did not stop within 5s", "consumer", r.opts.Consumer)
	}
}

// retryReconsume requests another attempt after the recovery interval.
func (r *Responder) retryReconsume(ctx context.Context, cause error) {
	if !transport.IsMissing(cause) {
		cause = fmt.Errorf("%w: %w", jetstream.ErrConsumerNotFound, cause)
	}
	time.AfterFunc(transport.RecoveryInterval, func() {
		if ctx.Err() == nil {
			r.requestReconsume(cause)
		}
	})
}

// createConsumer creates the durable consumer, or updates its configuration
// when it exists.
// NOTE: a consumer recreated on a stream that kept its alerts delivers them
// all again, from the first. Their decisions are recorded again, outside the
// duplicate window. The actions bucket keeps each action from running twice,
// and GuardOptions.MaxAlertAge blocks the actions of the old alerts.
func (r *Responder) createConsumer(ctx context.Context) error {
	if _, err := r.js.CreateOrUpdateConsumer(ctx, transport.AlertsStream, r.consumerConfig()); err != nil {
		return fmt.Errorf("create consumer %s on stream %s: %w", r.opts.Consumer, transport.AlertsStream, err)
	}
	return nil
}

// createCooldownBucket creates the bucket of shared cooldowns when the
// guards use one, and returns nil otherwise.
func (r *Responder) createCooldownBucket(ctx context.Context) (jetstream.KeyValue, error) {
	if !r.opts.Guards.SharedCooldown || r.guards.cooldown <= 0 {
		return nil, nil
	}
	// NOTE: the bucket has one replica; in a NATS cluster, create it
	// beforehand with more if the cooldowns must survive a server loss.
	shared, err := r.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      transport.CooldownBucket,
		Description: "Cooldowns shared by all responders",
		History:     1,
		TTL:         r.guards.cooldown,
	})
	if err != nil {
		return nil, fmt.Errorf("create key-value bucket %s: %w", transport.CooldownBucket, err)
	}
	return shared, nil
}

// Check returns an error while the responder does not consume alerts: before
// Run started consuming, or while the streams or the durable consumer are
// missing. A missing consumer makes Run recreate it.
func (r *Responder) Check(ctx context.Context) error {
	if !r.running.Load() {
		return errors.New("the responder is not consuming alerts")
	}
	if r.opts.Recovery != nil {
		if err := r.opts.Recovery.Check(ctx); err != nil {
			return err
		}
	}
	if _, err := r.js.Consumer(ctx, transport.AlertsStream, r.opts.Consumer); err != nil {
		if transport.IsMissing(err) {
			r.requestReconsume(err)
		}
		return fmt.Errorf("consumer %s on stream %s: %w", r.opts.Consumer, transport.AlertsStream, err)
	}
	return nil
}

// consumerConfig is the durable consumer that every replica shares.
func (r *Responder) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       r.opts.Consumer,
		Description:   "Riposte responders deciding on alerts",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.opts.AckWait,
		MaxDeliver:    r.opts.MaxDeliver,
		FilterSubject: r.opts.FilterSubject,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: max(1000, 4*r.opts.Concurrency),
	}
}

// maxDeliveriesAdvisory is the subject on which JetStream announces that an
// alert reached the consumer's maximum deliveries without an acknowledgement,
// as after repeated crashes while deciding on it.
const maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"

// watchMaxDeliveries dead-letters the alerts that JetStream stops delivering
// because every delivery timed out, so that none is dropped silently. Every
// replica receives the advisory, and the dead-letter message id makes the
// copies one.
func (r *Responder) watchMaxDeliveries(ctx context.Context) (func(), error) {
	nc := r.js.Conn()
	if nc == nil {
		return func() {}, nil
	}
	stream, err := r.js.Stream(ctx, transport.AlertsStream)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", transport.AlertsStream, err)
	}
	subject := maxDeliveriesAdvisory + "." + transport.AlertsStream + "." + r.opts.Consumer
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var adv struct {
			StreamSeq  uint64 `json:"stream_seq"`
			Deliveries uint64 `json:"deliveries"`
		}
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			r.log.Error("decode max deliveries advisory", "error", err)
			return
		}
		getCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		stored, err := stream.GetMsg(getCtx, adv.StreamSeq)
		if err != nil {
			r.log.Error("read alert after max deliveries", "stream_sequence", adv.StreamSeq, "error", err)
			return
		}
		cause := fmt.Errorf("alert at stream sequence %d delivered %d times without a decision", adv.StreamSeq, adv.Deliveries)
		if err := r.publishDeadLetter(getCtx, stored.Subject, stored.Data, adv.StreamSeq, cause); err != nil {
			r.log.Error("dead-letter alert", "stream_sequence", adv.StreamSeq, "cause", cause, "error", err)
			return
		}
		r.metrics.deadLettered()
		r.log.Warn("alert dead-lettered", "subject", stored.Subject, "error", cause)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// handle decides on one message and acknowledges it once the decision is
// recorded. Errors that a retry may cure leave the message for redelivery.
func (r *Responder) handle(ctx context.Context, m jetstream.Msg) {
	defer func() {
		// A panic in a policy builtin or an actionner must not stop the
		// responder: the alert is left for redelivery, and the idempotency
		// record keeps a started action from running again.
		if p := recover(); p != nil {
			r.log.Error("panic while deciding on alert", "subject", m.Subject(), "panic", fmt.Sprint(p))
			_ = m.NakWithDelay(time.Second)
		}
	}()
	received := time.Now()
	meta, err := m.Metadata()
	if err != nil {
		r.log.Error("read message metadata", "subject", m.Subject(), "error", err)
		_ = m.Term()
		return
	}
	delivery := int(meta.NumDelivered)
	last := delivery >= r.opts.MaxDeliver
	r.metrics.alertReceived(delivery)

	a, err := alert.Decode(m.Data())
	if err != nil {
		r.deadLetter(ctx, m, fmt.Errorf("decode alert at stream sequence %d: %w", meta.Sequence.Stream, err))
		return
	}

	// Decisions and idempotency records must not be cut short by shutdown,
	// so the work runs on its own context once started. A claim whose
	// outcome NATS has not reported yet is retried for up to claimRetryWindow,
	// and the alert is kept in progress meanwhile.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.AckWait+claimRetryWindow)
	defer cancel()
	defer r.keepInProgress(m)()

	d := r.decide(work, a, delivery, meta.Timestamp, received, time.Time{})
	if d.infraErr != nil {
		r.log.Warn("decide alert", "alert_uuid", a.UUID, "delivery", delivery, "error", d.infraErr)
		if last {
			r.deadLetter(ctx, m, d.infraErr)
			return
		}
		_ = m.NakWithDelay(backoff(delivery))
		return
	}

	recordCtx, cancelRecord := context.WithTimeout(work, r.opts.AckWait)
	defer cancelRecord()
	duplicate, err := r.record(recordCtx, &d.Decision)
	if err != nil {
		r.log.Warn("record decision", "alert_uuid", a.UUID, "delivery", delivery, "error", err)
		r.unconfirmed.add(a.UUID)
		if r.opts.Recovery != nil {
			// The redelivery finds the decisions stream again.
			_ = r.opts.Recovery.RecoverStream(work, transport.DecisionsStream)
		}
		if last {
			r.deadLetter(ctx, m, err)
			return
		}
		_ = m.NakWithDelay(backoff(delivery))
		return
	}
	if err := m.Ack(); err != nil {
		// The alert will be redelivered, and the idempotency records and the
		// decision's message id make the second delivery harmless.
		r.log.Warn("acknowledge alert", "alert_uuid", a.UUID, "error", err)
	}
	lostAck := r.unconfirmed.take(a.UUID)
	if duplicate && !lostAck {
		// An earlier delivery, here or on another replica, stored its
		// decision but the alert was not acknowledged, as when a replica
		// stops between the two. The stored decision is the record, so this
		// one is neither logged as a decision, counted nor notified.
		// NOTE: when the earlier delivery's process saw its publish fail
		// although JetStream stored it, and the redelivery comes to another
		// process, no process passes that decision on: it is only on the
		// decisions stream.
		r.log.Info("decision already recorded by an earlier delivery", "alert_uuid", a.UUID, "delivery", delivery)
		r.metrics.duplicateDecision()
		return
	}
	if duplicate {
		// This process failed to record the earlier delivery's decision,
		// but JetStream stored it, so nothing passed it on yet.
		r.log.Info("decision stored by an earlier delivery whose acknowledgement was lost", "alert_uuid", a.UUID, "delivery", delivery)
	}
	r.logDecision(&d.Decision)
	r.metrics.decided(&d.Decision, r.guards.breakerOpen(time.Now()))
	if r.opts.OnDecision != nil {
		r.opts.OnDecision(d.Decision)
	}
}

// keepInProgress signals JetStream, every third of the acknowledgement wait,
// that the alert is still being decided on, so that it is not redelivered to
// another replica while this one waits for NATS. It returns the function
// that stops it.
func (r *Responder) keepInProgress(m jetstream.Msg) (stop func()) {
	every := max(r.opts.AckWait/3, 100*time.Millisecond)
	var (
		mu      sync.Mutex
		stopped bool
		timer   *time.Timer
	)
	tick := func() {
		_ = m.InProgress()
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			timer.Reset(every)
		}
	}
	mu.Lock()
	timer = time.AfterFunc(every, tick)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		timer.Stop()
	}
}

// backoff returns the delay before redelivery after a failed delivery.
func backoff(delivery int) time.Duration {
	d := 100 * time.Millisecond << min(delivery, 8)
	return min(d, 30*time.Second)
}

type decided struct {
	Decision
	// infraErr is an error of NATS or of the idempotency store: the alert is
	// redelivered instead of recording a decision.
	infraErr error
}

// decide evaluates the policies on an alert, applies the guards and runs the
// actions. Guards see guardTime as the current time, or time.Now() when it is
// zero, so that a replay applies cooldowns and rate limits in alert time.
func (r *Responder) decide(ctx context.Context, a *alert.Alert, delivery int, stored, received, guardTime time.Time) decided {
	set := r.Policies()
	d := decided{Decision: Decision{
		AlertUUID:      a.UUID,
		Rule:           a.Rule,
		Priority:       a.Priority,
		Hostname:       a.Hostname,
		DryRun:         !r.opts.Guards.Act,
		PolicyRevision: set.Revision(),
		Actions:        []ActionRecord{},
		Responder:      r.name,
		Delivery:       delivery,
	}}
	if !stored.IsZero() {
		d.Timings.Queue = received.Sub(stored)
	}

	var k8s *policies.Kubernetes
	if r.opts.KubernetesContext != nil {
		k8s = r.opts.KubernetesContext(ctx, a)
	}
	if k8s == nil {
		k8s = policies.KubernetesFromAlert(a)
	}
	t0 := time.Now()
	evalCtx, cancelEval := context.WithTimeout(ctx, r.opts.PolicyTimeout)
	choices, err := set.Eval(evalCtx, policies.Input{Alert: a, Kubernetes: k8s, Node: policies.Node{Name: r.node}})
	timedOut := errors.Is(evalCtx.Err(), context.DeadlineExceeded)
	cancelEval()
	t1 := time.Now()
	d.Timings.Policy = t1.Sub(t0)
	switch {
	case err != nil && timedOut:
		d.Error = fmt.Sprintf("%v: the policies took longer than %s on this alert; find the slow policy with riposte policy eval and make it faster", err, r.opts.PolicyTimeout)
	case err != nil:
		d.Error = err.Error()
	}

	for _, c := range choices {
		rec, err := r.act(ctx, a, c, k8s, delivery, guardTime)
		if err != nil {
			d.infraErr = err
			return d
		}
		d.Actions = append(d.Actions, rec)
	}
	now := time.Now()
	d.Timings.Actions = now.Sub(t1)
	if !stored.IsZero() {
		d.Timings.Total = now.Sub(stored)
	} else {
		d.Timings.Total = now.Sub(received)
	}
	d.Time = now.UTC()
	d.summarize()
	return d
}

// act applies the guards to one chosen action and runs it unless a guard
// blocked it or made it a dry run. A destructive action runs only after its
// idempotency key was claimed, so a redelivered alert does not run it again.
func (r *Responder) act(ctx context.Context, a *alert.Alert, c policies.Choice, k8s *policies.Kubernetes, delivery int, guardTime time.Time) (ActionRecord, error) {
	actionner, lookupErr := r.registry.Get(c.Actionner)
	if lookupErr == nil {
		// An alias and its registered name share one cooldown and one
		// idempotency key, because both use the registered name.
		c.Actionner = actionner.Name()
	}
	rec := ActionRecord{Policy: c.Policy, Action: c.Action, IdempotencyKey: idempotencyKey(a.UUID, c.Action)}

	if delivery > 1 && r.ledger != nil {
		getCtx, cancel := context.WithTimeout(ctx, natsOpTimeout)
		stored, err := r.ledger.get(getCtx, rec.IdempotencyKey)
		cancel()
		if err != nil {
			return rec, err
		}
		if stored != nil && !r.ledger.owns(rec.IdempotencyKey, stored) {
			rec.Result = replayed(stored)
			return rec, nil
		}
	}

	if lookupErr != nil {
		rec.Result = actionners.Result{Outcome: actionners.OutcomeRejected, Message: fmt.Sprintf("policy %s chose %v", c.Policy, lookupErr)}
		return rec, nil
	}
	if err := actionner.Validate(c.Parameters); err != nil {
		rec.Result = actionners.Result{Outcome: actionners.OutcomeRejected, Message: fmt.Sprintf("policy %s: %v", c.Policy, err)}
		return rec, nil
	}

	if guardTime.IsZero() {
		guardTime = time.Now()
	}
	guarded := c
	if n, ok := actionner.(actionners.Normalizer); ok {
		// The cooldown takes "KILL" and 9 as the same signal.
		guarded.Parameters = n.Normalize(c.Parameters)
	}
	guardCtx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	v, err := r.guards.apply(guardCtx, guarded, k8s, a.Time, guardTime)
	cancel()
	if err != nil {
		return rec, err
	}
	rec.Guards = v.hits
	if v.breakerOpened {
		r.log.Warn("action rate limit exceeded: circuit breaker open, every action is a dry run for a while",
			"alert_uuid", a.UUID, "reason", v.hits[0].Reason)
	}
	if v.block {
		last := v.hits[len(v.hits)-1]
		rec.Result = actionners.Result{Outcome: actionners.OutcomeSkipped, Message: "blocked by guard " + last.Guard + ": " + last.Reason}
		return rec, nil
	}
	if r.evalOnly && !v.dryRun {
		rec.Guards = append(rec.Guards, GuardHit{Guard: GuardEvaluationOnly, Effect: EffectDryRun, Reason: "evaluation only: no action runs"})
		v.dryRun = true
	}
	if v.dryRun {
		rec.DryRun = true
		rec.Result = r.preview(ctx, actionner, c, a)
		return rec, nil
	}

	stored, claimed, err := r.ledger.begin(ctx, rec.IdempotencyKey)
	if err != nil {
		return rec, err
	}
	if !claimed {
		rec.Result = replayed(stored)
		return rec, nil
	}

	runCtx, cancel := context.WithTimeout(ctx, r.opts.ActionTimeout)
	start := time.Now()
	res, err := actionner.Run(runCtx, actionners.Request{Action: c.Action, Alert: a})
	cancel()
	if err != nil {
		res = actionners.Result{Outcome: actionners.OutcomeFailed, Message: err.Error()}
	}
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	rec.Result = res
	if err := r.ledger.finish(ctx, rec.IdempotencyKey, res); err != nil {
		// The action ran, so the decision is still recorded: a redelivery
		// would find the started record and not run the action again.
		r.log.Error("record action result", "alert_uuid", a.UUID, "key", rec.IdempotencyKey, "error", err)
	}
	return rec, nil
}

// preview returns the result of an action in dry run: the rejection that
// the actionner's own checks find, or "would run".
func (r *Responder) preview(ctx context.Context, actionner actionners.Actionner, c policies.Choice, a *alert.Alert) actionners.Result {
	wouldRun := actionners.Result{Outcome: actionners.OutcomeDryRun, Message: fmt.Sprintf("would run %s on %s", c.Actionner, c.Target)}
	checker, ok := actionner.(actionners.Checker)
	if !ok {
		return wouldRun
	}
	outcome, reason, err := checker.Check(ctx, actionners.Request{Action: c.Action, Alert: a})
	if err != nil {
		r.log.Warn("check dry-run action", "alert_uuid", a.UUID, "actionner", c.Actionner, "error", err)
		return wouldRun
	}
	// A missing target is not shown: a short-lived process may be gone
	// before a dry run looks, and a stored or sample alert is older than the
	// processes that run now, while a dry run is about what policies choose.
	if outcome == "" && reason != "" {
		wouldRun.Message += " (" + reason + ")"
	}
	if outcome != actionners.OutcomeRejected {
		return wouldRun
	}
	return actionners.Result{Outcome: outcome, Message: "dry run: " + reason}
}

// DefaultPolicyTimeout bounds the evaluation of the policies on one alert
// when Options.PolicyTimeout is zero. Policies take microseconds to a few
// milliseconds; one that takes seconds loops over large data.
const DefaultPolicyTimeout = 2 * time.Second

// decisionStallWait bounds the wait for room among the JetStream context's
// pending asynchronous publishes before a decision publish fails.
const decisionStallWait = 5 * time.Second

// record publishes the decision on the decisions subject, with the alert
// uuid as message id so that a redelivery does not store it twice. It
// reports whether JetStream already held a decision with that id.
func (r *Responder) record(ctx context.Context, d *Decision) (duplicate bool, err error) {
	data, err := json.Marshal(d)
	if err != nil {
		return false, fmt.Errorf("encode decision for alert %s: %w", d.AlertUUID, err)
	}
	if nc := r.js.Conn(); nc != nil {
		if fitted := fitDecision(d, data, nc.MaxPayload()); len(fitted) != len(data) {
			r.log.Warn("decision exceeds the NATS maximum payload: its long strings are shortened in the stored record",
				"alert_uuid", d.AlertUUID, "bytes", len(data), "max_payload", nc.MaxPayload())
			data = fitted
		}
	}
	msg := &nats.Msg{Subject: transport.DecisionSubject(d.Outcome), Data: data}
	// An asynchronous publish shares one reply subscription between all
	// workers, where a synchronous one sets up a request per decision. The
	// worker still waits for JetStream's acknowledgement, so the alert is
	// acknowledged only once its decision is stored. The JetStream context's
	// maximum of pending asynchronous publishes bounds the decisions in
	// flight.
	future, err := r.js.PublishMsgAsync(msg, jetstream.WithMsgID(d.AlertUUID), jetstream.WithExpectStream(transport.DecisionsStream),
		jetstream.WithStallWait(decisionStallWait))
	if err != nil {
		return false, fmt.Errorf("publish decision for alert %s: %w", d.AlertUUID, err)
	}
	select {
	case ack := <-future.Ok():
		return ack.Duplicate, nil
	case err := <-future.Err():
		return false, fmt.Errorf("publish decision for alert %s: %w", d.AlertUUID, err)
	case <-ctx.Done():
		return false, fmt.Errorf("publish decision for alert %s: no acknowledgement from JetStream: %w", d.AlertUUID, ctx.Err())
	}
}

func (r *Responder) logDecision(d *Decision) {
	level := slog.LevelInfo
	if d.Outcome == OutcomeError || d.Outcome == OutcomeFailed || d.Error != "" {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !r.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs,
		slog.String("alert_uuid", d.AlertUUID),
		slog.String("rule", d.Rule),
		slog.String("outcome", d.Outcome),
		slog.Bool("dry_run", d.DryRun),
		slog.String("policy_revision", d.PolicyRevision),
		slog.Int("delivery", d.Delivery),
		slog.Duration("total", d.Timings.Total),
	)
	if len(d.Actions) > 0 {
		attrs = append(attrs, slog.String("actions", actionsSummary(d.Actions)))
	}
	if d.Error != "" {
		attrs = append(attrs, slog.String("error", d.Error))
	}
	r.log.LogAttrs(ctx, level, "decision", attrs...)
}

// actionsSummary formats actions for the log, such as
// "kill_container_shell: process:kill on process 4242: dry-run".
func actionsSummary(actions []ActionRecord) string {
	var b strings.Builder
	for i, a := range actions {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(a.Policy)
		b.WriteString(": ")
		b.WriteString(a.Actionner)
		b.WriteString(" on ")
		b.WriteString(a.Target.String())
		b.WriteString(": ")
		b.WriteString(string(a.Result.Outcome))
		switch {
		case a.Result.Outcome == actionners.OutcomeDryRun:
			// Name the first guard other than the global dry run that made
			// the action a dry run, such as the circuit breaker.
			for _, g := range a.Guards {
				if g.Guard != GuardDryRun {
					b.WriteString(" (")
					b.WriteString(g.Guard)
					b.WriteString(": ")
					b.WriteString(g.Reason)
					b.WriteString(")")
					break
				}
			}
		case a.Result.Message != "":
			b.WriteString(" (")
			b.WriteString(a.Result.Message)
			b.WriteString(")")
		}
	}
	return b.String()
}

// deadLetter stores an alert that cannot be decided on the dead-letter
// subject with the error, and terminates its delivery. When the dead-letter
// publish fails, the alert is left for redelivery instead.
func (r *Responder) deadLetter(ctx context.Context, m jetstream.Msg, cause error) {
	pubCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var seq uint64
	if meta, err := m.Metadata(); err == nil {
		seq = meta.Sequence.Stream
	}
	if err := r.publishDeadLetter(pubCtx, m.Subject(), m.Data(), seq, cause); err != nil {
		r.log.Error("dead-letter alert", "subject", m.Subject(), "cause", cause, "error", err)
		_ = m.NakWithDelay(5 * time.Second)
		return
	}
	r.metrics.deadLettered()
	r.log.Warn("alert dead-lettered", "subject", m.Subject(), "error", cause)
	_ = m.TermWithReason(cause.Error())
}

// publishDeadLetter stores an alert's data on the dead-letter subject, with
// the cause and the original subject in headers. The message id is the
// alert's stream sequence, so that the same alert is stored once.
func (r *Responder) publishDeadLetter(ctx context.Context, subject string, data []byte, seq uint64, cause error) error {
	msg := &nats.Msg{Subject: transport.DeadLetterSubject, Data: data, Header: nats.Header{}}
	msg.Header.Set(transport.ErrorHeader, cause.Error())
	msg.Header.Set(transport.SubjectHeader, subject)
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(transport.DeadLetterStream)}
	if seq != 0 {
		opts = append(opts, jetstream.WithMsgID(fmt.Sprintf("%s-%d", transport.AlertsStream, seq)))
	}
	_, err := r.js.PublishMsg(ctx, msg, opts...)
	return err
}
