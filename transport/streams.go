package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamOptions size the streams and the actions bucket. Zero values take the
// defaults named on each field.
type StreamOptions struct {
	// Memory keeps streams in memory instead of files. Alerts and decisions are
	// then lost when the server stops, so use it only for tests and benchmarks.
	Memory bool
	// Replicas is the number of copies in a NATS cluster. Zero means 1.
	Replicas int
	// AlertsMaxAge is how long alerts stay in their stream. Zero means 24 hours.
	AlertsMaxAge time.Duration
	// AlertsMaxBytes caps the alerts stream. Zero means 1 GiB. The oldest alerts
	// are removed first.
	AlertsMaxBytes int64
	// DecisionsMaxAge is how long decisions stay in the audit trail. Zero means
	// 30 days.
	DecisionsMaxAge time.Duration
	// DecisionsMaxBytes caps the decisions stream. Zero means 1 GiB.
	DecisionsMaxBytes int64
	// DuplicateWindow is how long JetStream remembers message ids to drop
	// duplicates of an alert or a decision. Zero means 10 minutes.
	// NOTE: an alert redelivered after this window, for example when every
	// responder was down for longer, can get a second decision in the audit
	// trail. Its actions still run at most once, through the actions bucket.
	DuplicateWindow time.Duration
	// ActionsTTL is how long the idempotency record of an action is kept. It
	// must exceed the time an alert can spend being redelivered. Zero means 24
	// hours.
	ActionsTTL time.Duration
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.AlertsMaxAge == 0 {
		o.AlertsMaxAge = 24 * time.Hour
	}
	if o.AlertsMaxBytes == 0 {
		o.AlertsMaxBytes = 1 << 30
	}
	if o.DecisionsMaxAge == 0 {
		o.DecisionsMaxAge = 30 * 24 * time.Hour
	}
	if o.DecisionsMaxBytes == 0 {
		o.DecisionsMaxBytes = 1 << 30
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 10 * time.Minute
	}
	if o.ActionsTTL == 0 {
		o.ActionsTTL = 24 * time.Hour
	}
	return o
}

// Streams are the JetStream streams and bucket that EnsureStreams created.
type Streams struct {
	Alerts     jetstream.Stream
	Decisions  jetstream.Stream
	DeadLetter jetstream.Stream
	Actions    jetstream.KeyValue
}

// EnsureStreams creates the alerts, decisions and dead-letter streams and the
// actions bucket, or updates their configuration when they exist.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, opts StreamOptions) (*Streams, error) {
	opts = opts.withDefaults()
	storage := jetstream.FileStorage
	if opts.Memory {
		storage = jetstream.MemoryStorage
	}

	var s Streams
	var err error
	s.Alerts, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        AlertsStream,
		Description: "Alerts awaiting a decision, in Falco's JSON alert format",
		Subjects:    []string{AlertsSubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      opts.AlertsMaxAge,
		MaxBytes:    opts.AlertsMaxBytes,
		Discard:     jetstream.DiscardOld,
		Storage:     storage,
		Replicas:    opts.Replicas,
		Duplicates:  opts.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", AlertsStream, withJetStreamHint(err))
	}

	s.Decisions, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DecisionsStream,
		Description: "Audit trail of responder decisions",
		Subjects:    []string{DecisionsSubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      opts.DecisionsMaxAge,
		MaxBytes:    opts.DecisionsMaxBytes,
		Discard:     jetstream.DiscardOld,
		Storage:     storage,
		Replicas:    opts.Replicas,
		Duplicates:  opts.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", DecisionsStream, err)
	}

	s.DeadLetter, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeadLetterStream,
		Description: "Alerts the responder could not decide on",
		Subjects:    []string{"riposte.deadletter.>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      opts.DecisionsMaxAge,
		MaxBytes:    opts.AlertsMaxBytes,
		Discard:     jetstream.DiscardOld,
		Storage:     storage,
		Replicas:    opts.Replicas,
		Duplicates:  opts.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", DeadLetterStream, err)
	}

	s.Actions, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      ActionsBucket,
		Description: "One record per alert and action, so that no action runs twice",
		History:     1,
		TTL:         opts.ActionsTTL,
		Storage:     storage,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("create key-value bucket %s: %w", ActionsBucket, err)
	}
	return &s, nil
}

// errCodeReplicasNotSupported is the JetStream API error code for a stream
// of more than one replica on a server that is not clustered (nats-server's
// JSStreamReplicasNotSupportedErr), which nats.go does not name.
const errCodeReplicasNotSupported jetstream.ErrorCode = 10074

// withJetStreamHint adds the fix to an error that shows that the server
// runs without JetStream, where no subscriber handles JetStream API requests,
// or that it cannot keep the requested number of replicas.
func withJetStreamHint(err error) error {
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		return fmt.Errorf("%w: JetStream is not enabled on the NATS server or for this account: start nats-server with -js, or add a jetstream block to its configuration", err)
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeReplicasNotSupported {
		return fmt.Errorf("%w: the NATS server is not clustered, so each stream has one copy: set --nats.replicas 1 (nats.streamReplicas in the chart)", err)
	}
	return err
}
