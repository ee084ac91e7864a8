package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/alert"
)

// publishStallWait bounds the wait for room among the JetStream context's
// pending asynchronous publishes before Publish fails.
const publishStallWait = 5 * time.Second

// defaultPublishTimeout bounds the wait for JetStream's acknowledgement when
// the caller's context has no deadline. It is the bound that a synchronous
// PublishMsg of nats.go v1.56.0's jetstream package applies in that case.
const defaultPublishTimeout = 5 * time.Second

// Publisher publishes alerts to the alerts stream. It is safe for concurrent
// use.
type Publisher struct {
	js       jetstream.JetStream
	stats    *publishStats
	recovery *Recovery
}

// NewPublisher returns a publisher that uses js. When js belongs to a
// connection that Connect opened, the publisher counts into its Stats.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js, stats: statsFor(js.Conn())}
}

// WithRecovery makes the publisher recreate the streams through r when a
// publish fails because they are missing, and report every publish to r. It
// returns p.
func (p *Publisher) WithRecovery(r *Recovery) *Publisher {
	p.recovery = r
	return p
}

// Publish stores one alert in the alerts stream and returns once JetStream has
// acknowledged it. An alert without a uuid gets one first. A duplicate uuid
// within the duplicate window is acknowledged but not stored again. With a
// Recovery, a publish that fails because the stream is missing is made once
// more after the streams are recreated.
func (p *Publisher) Publish(ctx context.Context, a *alert.Alert) (*jetstream.PubAck, error) {
	msg, err := alertMsg(a)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultPublishTimeout)
		defer cancel()
	}
	ack, err := p.publish(ctx, a, msg)
	if err != nil && p.recovery != nil {
		if IsMissing(err) {
			if p.recovery.Recover(ctx, err) == nil {
				ack, err = p.publish(ctx, a, msg)
			}
		} else if ctx.Err() != nil {
			// The caller's retry finds the stream recreated.
			_ = p.recovery.RecoverStream(ctx, AlertsStream)
		}
	}
	if p.recovery != nil {
		p.recovery.observe(err)
	}
	return ack, err
}

func (p *Publisher) publish(ctx context.Context, a *alert.Alert, msg *nats.Msg) (*jetstream.PubAck, error) {
	// An asynchronous publish shares one reply subscription between all
	// callers, where a synchronous one sets up a request per alert.
	p.stats.start()
	future, err := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(a.UUID), jetstream.WithExpectStream(AlertsStream),
		jetstream.WithStallWait(publishStallWait))
	if err != nil {
		p.stats.done(err)
		return nil, fmt.Errorf("publish alert %s to %s: %w", a.UUID, msg.Subject, p.tooLarge(notConnectedYet(p.js.Conn(), err), msg, a.UUID))
	}
	select {
	case ack := <-future.Ok():
		p.stats.done(nil)
		return ack, nil
	case err := <-future.Err():
		p.stats.done(err)
		return nil, fmt.Errorf("publish alert %s to %s: %w", a.UUID, msg.Subject, err)
	case <-ctx.Done():
		p.stats.done(ctx.Err())
		return nil, fmt.Errorf("publish alert %s to %s: no acknowledgement from JetStream: %w", a.UUID, msg.Subject, ctx.Err())
	}
}

// PublishBatch stores alerts with asynchronous publishes and waits for every
// acknowledgement. It returns one error per alert, nil where the alert was
// stored, so that a caller can report which ones failed. With a Recovery, the
// alerts that failed because the stream is missing are published once more
// after the streams are recreated.
func (p *Publisher) PublishBatch(ctx context.Context, alerts []*alert.Alert) []error {
	_, errs := p.StoreBatch(ctx, alerts)
	return errs
}

// StoreBatch is PublishBatch that also reports, per alert, whether JetStream
// acknowledged it as a duplicate: an alert of the same uuid was stored
// within the duplicate window, so this one was not stored again.
func (p *Publisher) StoreBatch(ctx context.Context, alerts []*alert.Alert) (duplicates []bool, errs []error) {
	duplicates, errs = p.publishBatch(ctx, alerts)
	if p.recovery == nil {
		return duplicates, errs
	}
	var retry []*alert.Alert
	var at []int
	for i, err := range errs {
		if IsMissing(err) {
			retry = append(retry, alerts[i])
			at = append(at, i)
		}
	}
	if len(retry) > 0 && p.recovery.Recover(ctx, errs[at[0]]) == nil {
		retryDups, retryErrs := p.publishBatch(ctx, retry)
		for j, err := range retryErrs {
			errs[at[j]] = err
			duplicates[at[j]] = retryDups[j]
		}
	}
	for _, err := range errs {
		p.recovery.observe(err)
	}
	return duplicates, errs
}

func (p *Publisher) publishBatch(ctx context.Context, alerts []*alert.Alert) ([]bool, []error) {
	duplicates := make([]bool, len(alerts))
	errs := make([]error, len(alerts))
	futures := make([]jetstream.PubAckFuture, len(alerts))
	for i, a := range alerts {
		msg, err := alertMsg(a)
		if err != nil {
			errs[i] = err
			continue
		}
		p.stats.start()
		f, err := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(a.UUID), jetstream.WithExpectStream(AlertsStream))
		if err != nil {
			p.stats.done(err)
			errs[i] = fmt.Errorf("publish alert %s to %s: %w", a.UUID, msg.Subject, p.tooLarge(notConnectedYet(p.js.Conn(), err), msg, a.UUID))
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			duplicates[i] = ack.Duplicate
		case err := <-f.Err():
			errs[i] = fmt.Errorf("publish alert %s: %w", alerts[i].UUID, err)
		case <-ctx.Done():
			errs[i] = fmt.Errorf("publish alert %s: %w", alerts[i].UUID, ctx.Err())
		}
		p.stats.done(errs[i])
	}
	return duplicates, errs
}

// ErrNotConnectedYet is the error of a publish made before the first
// connection to NATS, on a connection opened with RetryFirstConnect.
var ErrNotConnectedYet = errors.New("NATS is not connected yet")

// notConnectedYet replaces the error that nats.go returns for a message with
// headers before it has learnt from a server that headers are supported.
func notConnectedYet(nc *nats.Conn, err error) error {
	if errors.Is(err, nats.ErrHeadersNotSupported) && nc != nil && !nc.IsConnected() {
		return ErrNotConnectedYet
	}
	return err
}

// PayloadTooLargeError is the error of an alert whose NATS message, its JSON
// and the JetStream headers that the publisher adds, is larger than the max
// payload of the NATS server. Publishing it again fails the same way, until
// the server's max_payload setting is raised or the alert is made smaller.
type PayloadTooLargeError struct {
	// UUID is the alert's uuid.
	UUID string
	// Size is the size of the message in bytes: the alert's JSON and the
	// headers.
	Size int64
	// MaxPayload is the max payload in bytes that the server announced.
	MaxPayload int64
}

func (e *PayloadTooLargeError) Error() string {
	return fmt.Sprintf("message of %d bytes is larger than the NATS server's max payload of %d bytes", e.Size, e.MaxPayload)
}

// Unwrap returns nats.ErrMaxPayload, the error that nats.go returns for such
// a message.
func (e *PayloadTooLargeError) Unwrap() error { return nats.ErrMaxPayload }

// CheckSize returns a *PayloadTooLargeError when the message that Publish
// would send for a is larger than the max payload of the NATS server, so that
// a caller can reject the alert before publishing any of a batch. An alert
// without a uuid gets one first, as in Publish. It returns nil while the max
// payload is unknown, before the first connection.
func (p *Publisher) CheckSize(a *alert.Alert) error {
	msg, err := alertMsg(a)
	if err != nil {
		return err
	}
	maxPayload := p.js.Conn().MaxPayload()
	if maxPayload <= 0 {
		return nil
	}
	if size := payloadSize(msg, a.UUID); size > maxPayload {
		return &PayloadTooLargeError{UUID: a.UUID, Size: size, MaxPayload: maxPayload}
	}
	return nil
}

// payloadSize returns the bytes of msg that nats.go compares with the max
// payload: the data and the encoded headers, with the headers that
// jetstream.WithMsgID and jetstream.WithExpectStream add to it on publish.
func payloadSize(msg *nats.Msg, uuid string) int64 {
	sized := &nats.Msg{Subject: msg.Subject, Data: msg.Data, Header: nats.Header{}}
	sized.Header.Set(jetstream.MsgIDHeader, uuid)
	sized.Header.Set(jetstream.ExpectedStreamHeader, AlertsStream)
	return int64(sized.Size() - len(sized.Subject))
}

// tooLarge replaces nats.ErrMaxPayload with a *PayloadTooLargeError that
// gives the sizes, and returns any other error unchanged.
func (p *Publisher) tooLarge(err error, msg *nats.Msg, uuid string) error {
	if !errors.Is(err, nats.ErrMaxPayload) {
		return err
	}
	return &PayloadTooLargeError{UUID: uuid, Size: payloadSize(msg, uuid), MaxPayload: p.js.Conn().MaxPayload()}
}

func alertMsg(a *alert.Alert) (*nats.Msg, error) {
	if a == nil {
		return nil, errors.New("publish alert: nil alert")
	}
	a.EnsureUUID()
	// Calling MarshalJSON directly skips the validation and compaction pass
	// that json.Marshal makes over a Marshaler's output.
	data, err := a.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("publish alert %s: %w", a.UUID, err)
	}
	return &nats.Msg{Subject: AlertSubject(a), Data: data}, nil
}
