package responder

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riposte-sec/riposte/transport"
)

// BenchmarkJetStreamFloor measures the JetStream work that every decision
// needs, with nothing else. A stored alert is delivered to the shared
// durable consumer, a decision-sized message is published with a message id
// to the decisions stream, and the alert is acknowledged once the decision
// is stored. No alert is decoded and no policy is evaluated, so
// this bounds what the whole responder can reach. Sixteen workers share the
// consumer, as the responder's do on two CPUs.
func BenchmarkJetStreamFloor(b *testing.B) {
	for _, storage := range []string{"file", "memory"} {
		b.Run(storage, func(b *testing.B) { benchJetStreamFloor(b, storage == "memory") })
	}
}

func benchJetStreamFloor(b *testing.B, memory bool) {
	e := newEnv(b, memory)
	ctx := context.Background()
	pub := transport.NewPublisher(e.conn.JS)
	const batch = 500
	for i := 0; i < b.N; i += batch {
		alerts := shellAlerts(min(batch, b.N-i), 0)
		for _, err := range pub.PublishBatch(ctx, alerts) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	cons, err := e.conn.JS.CreateOrUpdateConsumer(ctx, transport.AlertsStream, jetstream.ConsumerConfig{
		Durable: "floor", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxAckPending: 1000,
	})
	if err != nil {
		b.Fatal(err)
	}

	var decided atomic.Int64
	done := make(chan struct{})
	msgs := make(chan jetstream.Msg, 200)
	decision := bytes.Repeat([]byte("x"), 900)
	for range 16 {
		go func() {
			for m := range msgs {
				if err := recordFloorDecision(e, m, decision); err != nil {
					b.Error(err)
					return
				}
				if decided.Add(1) == int64(b.N) {
					close(done)
				}
			}
		}()
	}

	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	cc, err := cons.Consume(func(m jetstream.Msg) { msgs <- m }, jetstream.PullMaxMessages(100))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d after 5 minutes", decided.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "decisions/s")
	reportCPU(b, cpu0)
}

// recordFloorDecision does the JetStream work of one decision on m: it
// reads the delivery count, as the responder does, stores decision with a
// message id and acknowledges m once JetStream stored it.
func recordFloorDecision(e *env, m jetstream.Msg, decision []byte) error {
	if _, err := m.Metadata(); err != nil {
		return err
	}
	id := "floor-" + m.Headers().Get(nats.MsgIdHdr)
	f, err := e.conn.JS.PublishMsgAsync(&nats.Msg{Subject: transport.DecisionSubject("dry-run"), Data: decision},
		jetstream.WithMsgID(id), jetstream.WithExpectStream(transport.DecisionsStream))
	if err != nil {
		return err
	}
	select {
	case <-f.Ok():
	case err := <-f.Err():
		return err
	}
	return m.Ack()
}
