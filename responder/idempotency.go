package responder

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/actionners"
)

// Idempotency record states.
const (
	stateStarted = "started"
	stateDone    = "done"
)

// actionRecord is the value stored under an idempotency key.
type actionRecord struct {
	State     string `json:"state"`
	Responder string `json:"responder,omitempty"`
	// Token identifies the claim attempt that stored a started record.
	Token  string             `json:"token,omitempty"`
	Time   time.Time          `json:"time"`
	Result *actionners.Result `json:"result,omitempty"`
}

// idempotencyKey returns the key of one action for one alert: the alert uuid
// and a hash of the actionner, target and parameters, so that the same policy
// choice on a redelivered alert maps to the same key. Callers pass the
// registered actionner name, never an alias, so that both map to one key.
func idempotencyKey(alertUUID string, a actionners.Action) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode(a.Actionner)
	_ = enc.Encode(a.Target)
	_ = enc.Encode(a.Parameters) // encoding/json sorts map keys.
	return alertUUID + "." + hex.EncodeToString(h.Sum(nil)[:8])
}

// ledger stores idempotency records in a JetStream key-value bucket.
type ledger struct {
	kv        jetstream.KeyValue
	responder string

	// unresolved maps the keys whose last claim by this process ended with
	// an unknown outcome to that claim's token. A later delivery of the same
	// alert to this process claims with the same token, so it can prove the
	// stored claim its own.
	mu         sync.Mutex
	unresolved map[string]string
}

// maxUnresolved bounds the claims with an unknown outcome that a ledger
// remembers; past it, such a claim is recorded as skipped on redelivery.
const maxUnresolved = 10000

// claimRetryWindow bounds how long begin retries a claim whose outcome is
// unknown, such as during a NATS leader election or while a node restarts.
// The responder keeps the alert in progress meanwhile, so that JetStream
// does not hand it to another replica.
const claimRetryWindow = 2 * time.Minute

// begin claims the key before an action runs. It returns the stored record
// and false when the key was claimed before, by another delivery.
//
// Each claim carries a random token. When the bucket stores a claim but its
// reply is lost, as in a NATS failover, begin retries; the retry finds the
// key taken by its own token, which proves that the claim is its own, so the
// action still runs once instead of being skipped. When the retries run out,
// the token is kept for a later delivery of the alert to this process.
func (l *ledger) begin(ctx context.Context, key string) (*actionRecord, bool, error) {
	token, err := l.token(key)
	if err != nil {
		return nil, false, err
	}
	value, err := json.Marshal(actionRecord{State: stateStarted, Responder: l.responder, Token: token, Time: time.Now().UTC()})
	if err != nil {
		return nil, false, err
	}
	var (
		rec     *actionRecord
		claimed bool
	)
	err = retry(ctx, func(ctx context.Context) (err error) {
		rec, claimed, err = l.tryClaim(ctx, key, value, token)
		return err
	})
	if err != nil {
		l.remember(key, token)
		return nil, false, err
	}
	l.resolve(key)
	return rec, claimed, nil
}

// natsOpTimeout bounds one request to NATS, so that a request lost in a
// failover is repeated instead of waited for.
const natsOpTimeout = 5 * time.Second

// retry calls fn until it succeeds, ctx is done or claimRetryWindow has
// passed, waiting longer between calls each time. Each call gets a context
// bounded by natsOpTimeout. It returns the last error.
func retry(ctx context.Context, fn func(context.Context) error) error {
	deadline := time.Now().Add(claimRetryWindow)
	delay := 50 * time.Millisecond
	for {
		attempt, cancel := context.WithTimeout(ctx, natsOpTimeout)
		err := fn(attempt)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// token returns the token of this process's unresolved claim on key, or a
// new random one.
func (l *ledger) token(key string) (string, error) {
	l.mu.Lock()
	token, ok := l.unresolved[key]
	l.mu.Unlock()
	if ok {
		return token, nil
	}
	return claimToken()
}

// owns reports whether rec is a claim of this process whose outcome was
// unknown, so that its action never ran.
func (l *ledger) owns(key string, rec *actionRecord) bool {
	if rec.State != stateStarted || rec.Token == "" {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unresolved[key] == rec.Token
}

func (l *ledger) remember(key, token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unresolved == nil {
		l.unresolved = make(map[string]string)
	}
	if len(l.unresolved) < maxUnresolved {
		l.unresolved[key] = token
	}
}

func (l *ledger) resolve(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.unresolved, key)
}

// tryClaim makes one attempt to create the claim. An error means the outcome
// is unknown and the attempt may be repeated.
func (l *ledger) tryClaim(ctx context.Context, key string, value []byte, token string) (*actionRecord, bool, error) {
	_, err := l.kv.Create(ctx, key, value)
	if err == nil {
		return nil, true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, fmt.Errorf("claim idempotency key %s: %w", key, err)
	}
	rec, err := l.get(ctx, key)
	if err != nil {
		return nil, false, err
	}
	if rec == nil {
		return nil, false, fmt.Errorf("claim idempotency key %s: the key vanished between create and read", key)
	}
	if rec.State == stateStarted && rec.Token == token {
		return nil, true, nil
	}
	return rec, false, nil
}

// claimToken returns a random token that identifies one claim attempt.
func claimToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make claim token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// get returns the record stored under key, or nil when there is none.
func (l *ledger) get(ctx context.Context, key string) (*actionRecord, error) {
	entry, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency key %s: %w", key, err)
	}
	var rec actionRecord
	if err := json.Unmarshal(entry.Value(), &rec); err != nil {
		return nil, fmt.Errorf("read idempotency key %s: invalid record %q: %w", key, entry.Value(), err)
	}
	return &rec, nil
}

// finish stores the result of an action that begin claimed.
func (l *ledger) finish(ctx context.Context, key string, res actionners.Result) error {
	value, err := json.Marshal(actionRecord{State: stateDone, Responder: l.responder, Time: time.Now().UTC(), Result: &res})
	if err != nil {
		return err
	}
	// A put may be repeated safely, so it is retried like a claim: a result
	// lost here shows as a skipped action on a later delivery.
	err = retry(ctx, func(ctx context.Context) error {
		_, err := l.kv.Put(ctx, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("record result under idempotency key %s: %w", key, err)
	}
	return nil
}

// replayed turns a stored record into the result recorded for a redelivered
// alert, without running the action again.
func replayed(rec *actionRecord) actionners.Result {
	if rec.State == stateDone && rec.Result != nil {
		res := *rec.Result
		res.Message = "recorded by an earlier delivery: " + res.Message
		return res
	}
	return actionners.Result{
		Outcome: actionners.OutcomeSkipped,
		Message: fmt.Sprintf("an earlier delivery started this action at %s on %s and did not record its end, so it is not run again", rec.Time.Format(time.RFC3339Nano), rec.Responder),
	}
}
