package natstest_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/internal/natstest"
	"github.com/riposte-sec/riposte/transport"
)

// TestNodeLossExactlyOnce publishes alerts from several sensors while two
// responders act on each of them, stops the node that leads the alerts
// stream part-way and restarts it with its storage. Every alert must end with
// exactly one decision in the audit trail and exactly one run of its action.
func TestNodeLossExactlyOnce(t *testing.T) {
	const sensors = 8
	total := 100_000
	if testing.Short() {
		total = 10_000
	}
	cluster := natstest.StartCluster(t, 3)
	admin := connectCluster(t, cluster, "admin")
	streams := ensureStreams(t, admin)
	rec := newRecorder()
	startResponders(t, cluster, 2, rec, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()

	// Sensors publish in batches of 250 alerts, each on its own connection.
	perSensor := total / sensors
	var published atomic.Int64
	var retries atomic.Int64
	uuids := make([][]string, sensors)
	var wg sync.WaitGroup
	errs := make(chan error, sensors)
	for s := range sensors {
		pub := transport.NewPublisher(connectCluster(t, cluster, "sensor").JS)
		wg.Go(func() {
			for i := 0; i < perSensor; i += 250 {
				batch := make([]*alert.Alert, 0, 250)
				for j := i; j < min(i+250, perSensor); j++ {
					a := newAlert(s, j)
					batch = append(batch, a)
					uuids[s] = append(uuids[s], a.UUID)
				}
				n, err := publishUntilStored(ctx, pub, batch)
				retries.Add(int64(n))
				if err != nil {
					errs <- err
					return
				}
				published.Add(int64(len(batch)))
			}
		})
	}

	// Stop the alerts stream leader once a third of the alerts are in, and
	// restart it a few seconds later.
	for published.Load() < int64(total/3) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	info, err := streams.Alerts.Info(ctx)
	if err != nil {
		t.Fatalf("alerts stream info: %v", err)
	}
	victim := 0
	for i := range cluster.Size() {
		if s := cluster.Server(i); s != nil && s.Name() == info.Cluster.Leader {
			victim = i
		}
	}
	t.Logf("stopping node %s, the alerts stream leader, after %d alerts and %s", info.Cluster.Leader, published.Load(), time.Since(start).Round(time.Millisecond))
	cluster.Stop(victim)
	time.Sleep(5 * time.Second)
	decisionsWhileDown := streamMsgs(t, streams.Decisions)
	cluster.Restart(victim)
	t.Logf("restarted node %s after %s; %d decisions so far", info.Cluster.Leader, time.Since(start).Round(time.Millisecond), decisionsWhileDown)

	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("publish: %v", err)
	}
	t.Logf("%d alerts published in %s, %d publish attempts failed and were retried", published.Load(), time.Since(start).Round(time.Millisecond), retries.Load())

	want := uint64(sensors * perSensor)
	for streamMsgs(t, streams.Decisions) < want {
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d decisions after %s", streamMsgs(t, streams.Decisions), want, time.Since(start))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d decisions after %s", want, time.Since(start).Round(time.Millisecond))
	// Redeliveries of alerts whose acknowledgement was lost may still be in
	// flight: wait until the consumer has nothing pending or unacknowledged,
	// so that a second decision or run would be seen below.
	waitConsumerIdle(t, ctx, streams)

	if got := streamMsgs(t, streams.Alerts); got != want {
		t.Errorf("alerts stream has %d alerts, want %d", got, want)
	}
	decisions := streamMsgs(t, streams.Decisions)
	if decisions != want {
		t.Errorf("decisions stream has %d decisions, want %d", decisions, want)
	}
	perAlert, outcomes := readDecisions(t, streams.Decisions, decisions)
	t.Logf("decision outcomes: %v", outcomes)
	runs := rec.snapshot()
	var missingDecision, duplicateDecision, notRun, ranTwice int
	for _, list := range uuids {
		for _, uuid := range list {
			switch n := perAlert[uuid]; {
			case n == 0:
				missingDecision++
			case n > 1:
				duplicateDecision++
			}
			switch n := runs[uuid]; {
			case n == 0:
				notRun++
			case n > 1:
				ranTwice++
			}
		}
	}
	if missingDecision > 0 {
		t.Errorf("%d alerts have no decision", missingDecision)
	}
	if duplicateDecision > 0 {
		t.Errorf("%d alerts have more than one decision", duplicateDecision)
	}
	if notRun > 0 {
		t.Errorf("%d alerts never ran their action", notRun)
	}
	if ranTwice > 0 {
		t.Errorf("%d alerts ran their action more than once", ranTwice)
	}
	if len(perAlert) != int(want) {
		t.Errorf("decisions name %d distinct alerts, want %d", len(perAlert), want)
	}
	if len(runs) != int(want) {
		t.Errorf("actions ran for %d distinct alerts, want %d", len(runs), want)
	}
	deadLetters := streamMsgs(t, streams.DeadLetter)
	if deadLetters != 0 {
		t.Errorf("%d alerts were dead-lettered", deadLetters)
	}
}

// waitConsumerIdle waits until the responders' consumer has no alert pending
// or awaiting acknowledgement.
func waitConsumerIdle(t testing.TB, ctx context.Context, streams *transport.Streams) {
	t.Helper()
	var last error
	for ctx.Err() == nil {
		last = consumerIdle(ctx, streams)
		if last == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("consumer not idle: %v", last)
}

func consumerIdle(ctx context.Context, streams *transport.Streams) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cons, err := streams.Alerts.Consumer(ctx, "riposte-responder")
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		return fmt.Errorf("%d alerts pending, %d awaiting acknowledgement", info.NumPending, info.NumAckPending)
	}
	return nil
}
