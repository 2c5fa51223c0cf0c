package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas/synth"
)

// startBroker starts the embedded broker, unless --kafka names one, and
// creates the demo topic there. The returned func stops the embedded
// broker; call it after everything that uses the broker has stopped.
func (d *demo) startBroker(ctx context.Context) (stop func(), err error) {
	addr, what := d.opts.kafka, "broker"
	// On a real broker the topic and the group are new each time: an
	// earlier demo's events must not be read again.
	topic := fmt.Sprintf("cohortline-demo-%d", time.Now().Unix())
	stop = func() {}
	if addr == "" {
		d.prog.Update("kafka", "starting the embedded broker")
		cluster, err := startEmbeddedBroker()
		if err != nil {
			return nil, err
		}
		addr, topic, what, stop = cluster.ListenAddrs()[0], demoTopic, "embedded broker (kfake)", cluster.Close
	}
	d.prog.Update("kafka", "creating topic %s on %s", topic, addr)
	k := &d.cfg.File.Kafka
	if err := pipeline.CheckBroker(ctx, k.Dialer, addr); err != nil {
		stop()
		return nil, err
	}
	if err := pipeline.EnsureTopic(ctx, k.Dialer, addr, topic, d.opts.partitions); err != nil {
		stop()
		return nil, err
	}
	k.Brokers, k.Topic, k.DeadLetterTopic = []string{addr}, topic, topic+".dlq"
	if d.opts.kafka != "" {
		k.Group = topic
		// A real broker keeps topics: remove the demo's, whose unique
		// names nobody else knows.
		stop = func() { pipeline.DeleteTopics(context.WithoutCancel(ctx), k.Dialer, addr, topic, k.DeadLetterTopic) }
	}
	d.topic = topic
	d.prog.Done("kafka", "%s at %s: topic %s with %d partitions", what, addr, topic, d.opts.partitions)
	return stop, nil
}

// startEmbeddedBroker starts an in-process Kafka-protocol broker: kfake,
// one node on a random 127.0.0.1 port, everything in memory. It serves
// what the pipeline asks of a broker: metadata, topic creation, produce
// (lz4), fetch, list offsets and the consumer group protocol with offset
// commits (cmd/cohortline/demo_broker_integration_test.go checks the
// pipeline's results on it against the reference).
func startEmbeddedBroker() (*kfake.Cluster, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, fmt.Errorf("starting the embedded Kafka broker: %w", err)
	}
	return c, nil
}

// produce generates the day into the topic, showing the rate, and returns
// how many records it produced.
func (d *demo) produce(ctx context.Context) (int64, error) {
	g, err := synth.New(d.gen)
	if err != nil {
		return 0, err
	}
	var sent atomic.Int64
	began := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- produceKafka(ctx, g, genOptions{kafka: d.cfg.File.Kafka.Brokers[0], topic: d.topic, partitions: d.opts.partitions, dialer: d.cfg.File.Kafka.Dialer}, &sent)
	}()
	tick := time.NewTicker(console.Interval)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return 0, err
			}
			st, took := g.Stats(), time.Since(began)
			d.prog.Done("produced", "%s events of %s users over %s in %s (%s events/s), with on purpose %s bad, %s duplicate and %s late",
				console.Count(st.Records), console.Count(int64(d.gen.Users)), console.Duration(d.gen.Span), console.Seconds(took), console.Rate(st.Records, took),
				console.Count(st.Bad), console.Count(st.Duplicates), console.Count(st.Late))
			return st.Records, nil
		case <-tick.C:
			n := sent.Load()
			d.prog.Update("produced", "%s of %s events (%s events/s)", console.Count(n), console.Count(d.gen.Events), console.Rate(n, time.Since(began)))
		}
	}
}
