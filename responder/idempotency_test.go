package responder

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// lossyKV is a key-value bucket whose replies are lost while down is set:
// Create stores the value and then fails, as when the reply to a stored
// write does not survive a NATS failover, and Get fails outright.
type lossyKV struct {
	jetstream.KeyValue
	down atomic.Bool
}

var errReplyLost = errors.New("nats: timeout")

func (kv *lossyKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	rev, err := kv.KeyValue.Create(ctx, key, value, opts...)
	if kv.down.Load() {
		return 0, errReplyLost
	}
	return rev, err
}

func (kv *lossyKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if kv.down.Load() {
		return nil, errReplyLost
	}
	return kv.KeyValue.Get(ctx, key)
}

func TestClaimWithLostReplyRunsOnRedelivery(t *testing.T) {
	e := newEnv(t, true)
	kv := &lossyKV{KeyValue: e.streams.Actions}
	kv.down.Store(true)
	mine := &ledger{kv: kv, responder: "responder-1"}
	other := &ledger{kv: kv, responder: "responder-2"}
	const key = "alert-1.0011223344556677"

	// The claim is stored but every reply is lost until the delivery gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, _, err := mine.begin(ctx, key)
	cancel()
	if !errors.Is(err, errReplyLost) {
		t.Fatalf("begin while NATS is down: err = %v, want the lost reply", err)
	}
	kv.down.Store(false)

	stored, err := mine.get(context.Background(), key)
	if err != nil || stored == nil || stored.State != stateStarted {
		t.Fatalf("stored record = %+v, %v; want the started claim", stored, err)
	}
	if !mine.owns(key, stored) {
		t.Error("the process whose claim was lost does not own it")
	}
	if other.owns(key, stored) {
		t.Error("another replica owns a claim it never made")
	}

	// Another replica must not run the action: the claim may be running.
	rec, claimed, err := other.begin(context.Background(), key)
	if err != nil || claimed || rec == nil {
		t.Fatalf("other replica's begin = %+v, %v, %v; want the earlier claim", rec, claimed, err)
	}
	// The redelivery to the process that made the claim runs it once.
	rec, claimed, err = mine.begin(context.Background(), key)
	if err != nil || !claimed {
		t.Fatalf("redelivered begin = %+v, %v, %v; want the claim", rec, claimed, err)
	}
	if mine.owns(key, stored) {
		t.Error("a resolved claim is still remembered")
	}
	// A third delivery finds the claim resolved and does not run it again.
	if _, claimed, err := mine.begin(context.Background(), key); err != nil || claimed {
		t.Fatalf("third begin: claimed = %v, err = %v; want the earlier claim", claimed, err)
	}
}

func TestClaimRetriedUntilNATSAnswers(t *testing.T) {
	e := newEnv(t, true)
	kv := &lossyKV{KeyValue: e.streams.Actions}
	kv.down.Store(true)
	l := &ledger{kv: kv, responder: "responder-1"}
	time.AfterFunc(500*time.Millisecond, func() { kv.down.Store(false) })

	_, claimed, err := l.begin(context.Background(), "alert-2.0011223344556677")
	if err != nil || !claimed {
		t.Fatalf("begin across a half-second outage: claimed = %v, err = %v; want the claim", claimed, err)
	}
}
