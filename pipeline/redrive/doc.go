// Package redrive re-publishes dead letters to the input topic once what
// rejected them is fixed: `cohortline redrive`.
//
// It reads a range of the dead-letter topic (offsets or write times per
// partition), takes the dead letters of the chosen reasons and judges each
// with the pipeline's own rules before producing anything:
//
//   - pii_suspected dead letters have no payload (DESIGN.md): never
//     re-driven, only counted;
//   - a message that this version's decoder, with the config's
//     max_future_skew, or the key check still rejects is not produced (it
//     would only be dead-lettered again), and stays re-drivable;
//   - a valid event whose window had closed at its partition's last flush
//     (the watermark in window_progress, partition chosen by murmur2 of the
//     key) is not produced: the pipeline would count it late and drop it,
//     as any late event. A window that closes between that flush and the
//     copy's arrival makes the copy late all the same: counted as late by
//     the pipeline (cohortline_events_total{outcome="late"}), nothing else.
//     An event of a closed window counts only through a backfill of the
//     window from files that hold it (backfill --files).
//
// A copy keeps the dead letter's key and value, so murmur2 puts it in its
// user's partition and its event time stays in its payload; its Kafka
// timestamp is the time it is produced. It carries HeaderRedrivenFrom,
// naming the dead letter.
//
// Idempotence. Before producing, a re-drive scans the input topic for that
// header: from the first message at or after the oldest chosen dead
// letter's timestamp, less 10 minutes for the hosts' clocks (a copy is
// produced after its dead letter was written, and Kafka finds that offset
// by timestamp), or from the oldest
// input message a chosen dead letter names, when earlier. A dead letter
// whose name it finds is skipped; so is one whose original is such a copy
// (a copy the running pipeline rejected after all): each dead letter is
// re-driven at most once, and a re-drive never loops. The cost is one read
// of the input topic since the range's oldest dead letter (or its
// original), about 300k messages/s on one connection per partition; the
// report says how many messages and how long. The chosen dead letters are
// held in memory until they are produced: narrow a very large range. Limits: two re-drives of one range at once may
// both produce (run one at a time); a copy deleted by the input topic's
// retention is not found, and its dead letter would be produced again.
package redrive
