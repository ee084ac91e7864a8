package responder

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/transport"
)

// EvalOptions configure an Evaluator.
type EvalOptions struct {
	Policies *policies.Set
	Registry *actionners.Registry
	// Guards apply as in the responder, except that no action runs.
	Guards GuardOptions
	// Node is the node name given to policies as input.node.name.
	Node   string
	Logger *slog.Logger
	// KubernetesContext is as in Options.
	KubernetesContext func(ctx context.Context, a *alert.Alert) *policies.Kubernetes
}

// Evaluator decides on alerts without NATS and without acting: every action
// that would run is recorded with outcome dry-run and the guard
// "evaluation-only". It backs `riposte policy eval` and `riposte replay`.
// Guard state (cooldowns, rate limit) carries over from one alert to the
// next, as in a responder.
type Evaluator struct {
	r *Responder
}

// NewEvaluator returns an evaluator.
func NewEvaluator(opts EvalOptions) (*Evaluator, error) {
	r, err := newResponder(Options{
		Policies: opts.Policies,
		Registry: opts.Registry,
		Guards:   opts.Guards,
		Node:     opts.Node,
		Logger:   opts.Logger,

		KubernetesContext: opts.KubernetesContext,
	})
	if err != nil {
		return nil, err
	}
	r.evalOnly = true
	r.guards.evaluationOnly = true
	return &Evaluator{r: r}, nil
}

// Evaluate decides on one alert. Guards see the alert's time as the current
// time, so that a replay of stored alerts applies cooldowns as they would
// have applied when the alerts arrived. An alert without a uuid, as Falco
// writes them, is evaluated as a copy with a new random uuid; callers that
// have the alert's bytes set alert.ContentUUID instead.
func (e *Evaluator) Evaluate(ctx context.Context, a *alert.Alert) Decision {
	if a.UUID == "" {
		withUUID := *a
		withUUID.EnsureUUID()
		a = &withUUID
	}
	now := time.Now()
	guardTime := a.Time
	if guardTime.IsZero() {
		guardTime = now
	}
	return e.r.decide(ctx, a, 1, time.Time{}, now, guardTime).Decision
}

// ReplayStats summarize a replay.
type ReplayStats struct {
	// Alerts is the number of alerts decided.
	Alerts int `json:"alerts"`
	// Outcomes counts decisions by outcome.
	Outcomes map[string]int `json:"outcomes"`
	// Invalid lists the inputs that were skipped, such as "line 7: invalid
	// alert: missing \"rule\"".
	Invalid []string `json:"invalid,omitempty"`
}

func (s *ReplayStats) add(d Decision) {
	s.Alerts++
	if s.Outcomes == nil {
		s.Outcomes = map[string]int{}
	}
	s.Outcomes[d.Outcome]++
}

// maxLineBytes bounds one line of a JSON-lines file.
const maxLineBytes = 16 << 20

// ReplayFile decides, without acting, on every alert of a JSON-lines stream
// (one alert in Falco's JSON alert format per line) and passes each decision
// to onDecision. Lines that are not valid alerts are skipped and listed in
// the stats. Blank lines are ignored.
func (e *Evaluator) ReplayFile(ctx context.Context, in io.Reader, onDecision func(Decision)) (ReplayStats, error) {
	var stats ReplayStats
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	for line := 1; sc.Scan(); line++ {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		text := sc.Bytes()
		if len(trimSpace(text)) == 0 {
			continue
		}
		a, err := alert.Decode(text)
		if err != nil {
			stats.Invalid = append(stats.Invalid, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		if a.UUID == "" {
			a.UUID = alert.ContentUUID(text)
		}
		d := e.Evaluate(ctx, a)
		stats.add(d)
		if onDecision != nil {
			onDecision(d)
		}
	}
	if err := sc.Err(); err != nil {
		return stats, fmt.Errorf("read alerts: %w", err)
	}
	return stats, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// StreamReplayOptions select the stored alerts to replay.
type StreamReplayOptions struct {
	// Since replays alerts stored at or after this time. Zero means every
	// stored alert.
	Since time.Time
	// FilterSubject selects alerts by subject, such as
	// "riposte.alerts.critical.>". Empty means every alert.
	FilterSubject string
}

// replayIdle is how long ReplayStream waits for the next stored alert before
// it concludes that no selected alert is left.
const replayIdle = 2 * time.Second

// ReplayStream decides, without acting, on the alerts stored in the alerts
// stream, from the oldest selected to the newest stored when the replay
// started, and passes each decision to onDecision. It reads through an
// ephemeral ordered consumer, so the responders' durable consumer is not
// affected.
func (e *Evaluator) ReplayStream(ctx context.Context, js jetstream.JetStream, opts StreamReplayOptions, onDecision func(Decision)) (ReplayStats, error) {
	var stats ReplayStats
	stream, err := js.Stream(ctx, transport.AlertsStream)
	if err != nil {
		return stats, fmt.Errorf("open stream %s: %w", transport.AlertsStream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return stats, fmt.Errorf("read stream %s: %w", transport.AlertsStream, err)
	}
	if info.State.Msgs == 0 {
		return stats, nil
	}
	lastSeq := info.State.LastSeq

	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !opts.Since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		since := opts.Since
		cfg.OptStartTime = &since
	}
	if opts.FilterSubject != "" {
		cfg.FilterSubjects = []string{opts.FilterSubject}
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return stats, fmt.Errorf("create replay consumer: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		// A filter that matches no newer alert leaves nothing to wait for.
		msg, err := cons.Next(jetstream.FetchMaxWait(replayIdle))
		if errors.Is(err, nats.ErrTimeout) {
			return stats, nil
		}
		if err != nil {
			return stats, fmt.Errorf("read stored alert: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return stats, fmt.Errorf("read stored alert metadata: %w", err)
		}
		a, err := alert.Decode(msg.Data())
		if err != nil {
			stats.Invalid = append(stats.Invalid, fmt.Sprintf("stream sequence %d: %v", meta.Sequence.Stream, err))
		} else {
			d := e.Evaluate(ctx, a)
			stats.add(d)
			if onDecision != nil {
				onDecision(d)
			}
		}
		if meta.Sequence.Stream >= lastSeq || meta.NumPending == 0 {
			return stats, nil
		}
	}
}
