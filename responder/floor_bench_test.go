package responder

import (
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
	decision := make([]byte, 900)
	for i := range decision {
		decision[i] = 'x'
	}
	var decided atomic.Int64
	done := make(chan struct{})
	msgs := make(chan jetstream.Msg, 200)
	for range 16 {
		go func() {
			for m := range msgs {
				// The responder reads the delivery count of every alert.
				if _, err := m.Metadata(); err != nil {
					b.Error(err)
					return
				}
				id := "floor-" + m.Headers().Get(nats.MsgIdHdr)
				f, err := e.conn.JS.PublishMsgAsync(&nats.Msg{Subject: transport.DecisionSubject("dry-run"), Data: decision},
					jetstream.WithMsgID(id), jetstream.WithExpectStream(transport.DecisionsStream))
				if err != nil {
					b.Error(err)
					return
				}
				select {
				case <-f.Ok():
				case err := <-f.Err():
					b.Error(err)
					return
				}
				if err := m.Ack(); err != nil {
					b.Error(err)
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
