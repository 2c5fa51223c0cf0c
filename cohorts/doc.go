// Package cohorts holds the cohort spec, canonical cohort keys and ids,
// event-time windows, per-user window state, the feature aggregates (one file
// each) and the privacy machinery (contribution bounding, k-anonymity,
// deterministic noise, ledger records). It does no Kafka or ClickHouse I/O.
// The noise and the split of the privacy budget are in cohorts/privacy.
//
// # Spec
//
// A Spec (spec.go) is parsed from strict YAML by ParseSpec. Its Hash is the
// "spec hash" of the privacy ledger: it depends on what the spec means, not
// on how the YAML is written.
//
// # Keys and ids
//
// A cohort is named by its canonical key string, the spec's dimensions in
// the spec's order, "*" for a generalized one:
//
//	country=BR|lang=pt|age=25-34|platform=android
//	country=BR|lang=pt|age=*|platform=*
//
// Values are spelled as in the event contract (country upper case, lang
// lower case, age band, platform). The age band 13-17 never appears: minors
// are excluded from every cohort.
//
// In memory a cohort is a Key, 64 bits, comparable, built from an event
// without allocating (KeyOf), or from a person's attributes with the
// decoder's checks (KeyFromAttributes: how a targeter finds its users'
// cohort). Key.ID is the published cohort_id: ClickHouse's
// cityHash64 of the key string, so that a targeter can compute it in SQL,
// fixed forever by testdata/cohort_ids.golden.
//
// # Generalization
//
// Key.Level is the set of generalized dimensions (the published `level`
// column, spelled "age,platform" in the fixed order country, lang, age,
// platform; "" for a finest cohort). Along the spec's generalize order the
// chain level i of a cohort has the first i dimensions of Generalize set to
// "*" (Spec.Ancestor, Spec.Ancestors, Spec.ChainLevel); a cohort below k is
// merged into its parent one level up.
//
// # Windows
//
// Windows are event-time tumbling windows, [Start, End) in epoch
// milliseconds, aligned to the epoch and hence to UTC days. With watermark W
// meaning "every event before W has been seen", window w closes once
// W ≥ w.End + AllowedLateness (Spec.Closes); an event whose window has
// closed is late and is dropped and counted (Spec.Late).
//
// # Re-keying
//
// A Rekeyer (rekey.go) turns user tokens into UserIDs and event ids into
// dedup keys with a keyed 64-bit PRF (SipHash-2-4 under subkeys that
// HMAC-SHA256 derives from the configured secret). They live only in a
// window's state.
//
// # Aggregation
//
// A partition worker keeps one WindowState (window_state.go) per open
// window and feeds it every decoded event: Add excludes minors and
// sensitive categories, drops duplicate event ids, fixes each user's
// cohort at their first counted event, bounds each user's contribution
// (Spec.Bounds) and updates the cohort's partials; Partials returns them,
// one per finest cohort, when the window closes, and PartialsRecord turns
// them into the Arrow batch of schemas.PartialsSchema. The worker then
// drops the WindowState, and with it every UserID and event id.
//
// Per-user state is 24 bytes in an open-addressing table and each event id
// 8 bytes in another (hash_table.go): about 80 bytes per active user with
// five events each (BenchmarkWindowStateMemory).
//
// # Feature set v1
//
// Partial values follow the slot layout of FeatureSetV1 (features.go),
// pinned by testdata/feature_set_v1.golden: reach and bounded event sums
// per kind, peer, media and non-sensitive business category, a histogram
// of users by activity, and bounded call seconds. The layout is
// append-only; Feature.MaxPerUser gives each slot's per-user sensitivity
// for the noise of the privacy step.
//
// # Partial layout 2 and feature set 2
//
// Partials (PartialFeatureSet 2) append one reach slot per category group
// (CategoryGroups, features_v2.go), counted from the users' reach sets
// when the window closes. The published vector follows the spec's
// FeatureSet (feature_set.go): feature set 1 is the partials' first 92
// slots, feature set 2 (the default, 45 slots) projects them: reach by
// kind, peer, media and category group, event sums by kind and category
// group, the histogram and call seconds.
package cohorts
