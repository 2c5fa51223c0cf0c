// Package privacy is the differential-privacy noise of published cohort
// rows (DESIGN.md, privacy invariants 3 and 4): how the per-window budget
// is split among a row's values, the deterministic keyed noise added to
// each (discrete Laplace or discrete Gaussian), the δ that the k
// threshold costs, and the zCDP accounting that composes releases. It is
// pure computation: no I/O, no clock, no global state.
//
// # Two feature sets, two accountings
//
// Feature set 1 (92 slots) splits a pure ε per window (Split, below).
// Feature set 2 (45 slots, the default) splits a zCDP ρ per window among
// six blocks by weight (SplitZCDP, budget_zcdp.go), each with its L1 and
// squared L2 sensitivity; Gaussian blocks get σ² = Δ₂²/(2ρ_b), Laplace
// blocks ε_b = sqrt(2ρ_b). Releases compose by adding ρ (a pure ε-DP
// release counts ε²/2), and EpsilonOf/DeltaOf (zcdp.go) convert a sum to
// (ε, δ) with the tight conversion of Canonne, Kamath and Steinke 2020:
// ρ 0.4 is ε 5.38 at δ 10^-8 (Bun–Steinke's bound says 5.83).
//
// The discrete Gaussian (gaussian.go) is CKS 2020 Algorithm 3: discrete
// Laplace proposals of scale t = ⌊σ⌋+1 accepted with probability
// exp(-(|Y|-σ²/t)²/(2σ²)), every step in exact integer arithmetic (u128.go)
// from the same keyed stream and seeds as the Laplace, so it is as
// deterministic and as exact (BenchmarkGaussianNoise: ~0.6 µs per draw,
// no allocation; TestDiscreteGaussianDistribution: chi-square, variance
// and tails against the exact pmf over 10^6 draws).
//
// # Privacy model
//
// Neighbouring inputs differ by all events of one user in one window (add
// or remove the user). Contribution bounds (cohorts.Spec.Bounds) cap what
// one user adds to each value. A user is in exactly one published row per
// window, so rows compose in parallel; within a row the values form
// blocks that compose sequentially, and their ε add up to the window's ε.
//
// # Budget split of feature set 1
//
// Split gives the users counts UsersShare (50%) of ε, because they alone
// decide k-anonymity and the thresholds' δ, and the rest equally to the
// other blocks. A block's L1 sensitivity Δ is the most one user can change
// all its slots together (feature set v1, cohorts.Feature.MaxPerUser and
// Feature.Group; E is the events bound, C the call-seconds bound, R the
// number of reach slots):
//
//	block             slots                              Δ
//	users             the users count at each chain level  L+1 (L = len(Spec.Generalize))
//	reach             every reach slot                   R   (a user can reach them all)
//	sum.kind          event sums by kind                 E   (an event adds to one slot per group)
//	sum.peer          event sums by peer                 E
//	sum.media         event sums by media                E
//	sum.category      event sums by business category    E
//	hist              activity histogram                 1   (a user is in exactly one bucket)
//	sum.call_seconds  call seconds                       C
//
// # Sampler
//
// Every slot of a block of values with budget ε_b and L1 sensitivity Δ_b
// gets discrete Laplace noise with a = exp(-ε_b/Δ_b), which makes the
// block ε_b-differentially private. The noise Z has
// P(Z=z) = (1-a)/(1+a)·a^|z|: the discrete Laplace, or two-sided
// geometric, distribution; variance 2a/(1-a)². It is drawn
// exactly, with integer arithmetic only: Canonne, Kamath and Steinke, "The
// Discrete Gaussian for Differential Privacy" (2020), Algorithm 2, with
// Bernoulli(exp(-γ)) from their Algorithm 1 (laplace.go). γ = ε_b/Δ_b is
// held in fixed point as a multiple of 2^-40, rounded down (Scale), so the
// noise is never smaller than the budget asks for; Split computes the
// shares of ε as exact rationals, so the effective ε of a row never
// exceeds the configured ε.
//
// Why not inversion, ⌊ln U / ln a⌋ from a 53-bit uniform U? Mironov
// ("On Significance of the Least Significant Bits for Differential
// Privacy", CCS 2012) showed that floating-point Laplace noise leaks the
// value through which doubles can come out. With integer outputs that
// attack does not apply as such, and the error of inversion is small (U
// has 2^-53 granularity, so the pmf is off by about that much absolutely
// and the tail beyond 2^-53 is cut off), which would be acceptable. But
// its output depends on math.Log, which is assembly on amd64 and Go
// elsewhere, and on fused multiply-add, which the compiler uses on arm64
// and on amd64 built with GOAMD64=v3 but not otherwise: the noise must be
// the same wherever and however a window is republished. The exact
// sampler costs about as much (BenchmarkNoise: well under 1 µs per draw,
// no allocation, most of it SHA-256), and its distribution is exact, so
// it needs no caveat.
//
// # Deterministic keyed randomness
//
// A Noiser derives a noise subkey from the configured secret,
// HMAC-SHA256(secret, "cohortline/dp-noise/v1"), separate from the
// re-keying subkeys (cohorts.Rekeyer). Each draw is seeded by
//
//	HMAC-SHA256(subkey, uint64 len(release) ‖ release ‖ int64 window start ms ‖
//	            input digest [32] ‖ uint64 cohort_id ‖ int64 slot)
//
// (big-endian, fixed width; the one variable field is length-prefixed, so
// no two draws share an input), and the sampler reads its bits from
// SHA-256(seed ‖ uint64 counter) blocks (stream.go). TestNoiseGolden pins
// draws: changing any of this changes every published value.
//
// The Scope of a draw is the release (the version of the cohort spec and
// feature set), the window and a digest of the window's input partials
// that the caller computes. Same data gives the same noise: a republish or
// a backfill gives the same numbers, and asking again cannot average the
// noise away. Changed data gives fresh noise, because reusing the old
// noise would publish the exact difference of two releases, the
// stragglers' contribution; such a release spends the budget again, and
// the privacy ledger must count it.
//
// Slots: SlotUsers (-1) is Partial.Users and 0 … N-1 are the feature
// slots of Partial.Values. Partial.Events is not published (the
// cohort_enrichment columns are users and features; the event sums by kind
// add up to it), so it spends no budget and has no slot. Noisy counts are
// clamped at 0 (AddClamped), which is post-processing.
//
// # Threshold
//
// publish.Release judges groups level by level along the generalization
// chain: at each of the L+1 levels, the groups of the cohorts not yet
// published get a fresh noisy users count, and a group is published when
// that count reaches k. A user is in one group per level at most, and
// which groups exist at a level depends only on earlier levels' released
// decisions, so the L+1 counts compose adaptively: the users block has
// Δ = L+1. (Summing the finest cohorts' noisy counts instead would spend
// nothing per level, but a lone user's cohort would then move a merged
// group's sum by 1+Z, which no ε bounds.)
//
// A group that exists only because of one user reaches k with probability
// P(Z ≥ k-1) = a^(k-1)/(1+a) (ThresholdDelta); no ε covers that event, so
// it is the δ of the rows' (ε, δ) guarantee: L+1 times that per release
// (ReleaseDelta), and CheckDelta refuses a configured δ below it. With
// ε = 4 per window (users 2, 0.4 per level) and k = 50, δ ≈ 9.2·10^-9;
// with ε = 1 it would be ≈ 0.02.
//
// # Across releases
//
// The caller owns the accounting across releases: a window republished
// with changed inputs spends the budget again; the privacy ledger records
// what was spent.
package privacy
