package cohorts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// canonicalFormat names the layout of canonical(). Changing that layout
// changes every spec's hash, which the privacy ledger reads as a new
// release: do it only with a new format name, never silently.
const canonicalFormat = "cohortline cohort spec, canonical form 1"

// Hash returns a stable digest of what s means, for the privacy ledger's
// spec hash: the hex SHA-256 of its canonical form, defaults applied. The
// same spec with other formatting, comments, key order or with defaults
// spelled out has the same hash; any change of value changes it.
//
// A field added to Spec later must be left out of the canonical form while
// it has its default value, so that existing specs keep their hash.
func (s Spec) Hash() string {
	sum := sha256.Sum256([]byte(s.canonical()))
	return hex.EncodeToString(sum[:])
}

// canonical is one "key=value" line per field, in a fixed order, with
// durations in nanoseconds and lists comma-separated.
func (s Spec) canonical() string {
	s.setDefaults() // s is a copy; setDefaults replaces nil lists, never edits them
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", canonicalFormat)
	fmt.Fprintf(&b, "version=%d\n", s.Version)
	fmt.Fprintf(&b, "dimensions=%s\n", joinDims(s.Dimensions, ","))
	fmt.Fprintf(&b, "generalize=%s\n", joinDims(s.Generalize, ","))
	fmt.Fprintf(&b, "k=%d\n", s.K)
	fmt.Fprintf(&b, "window_ns=%d\n", int64(s.Window))
	fmt.Fprintf(&b, "allowed_lateness_ns=%d\n", int64(s.AllowedLateness))
	fmt.Fprintf(&b, "bounds.events=%d\n", s.Bounds.Events)
	fmt.Fprintf(&b, "bounds.call_seconds=%d\n", s.Bounds.CallSeconds)
	// Added after canonical form 1 was in use: left out at their defaults.
	if s.Privacy.Epsilon != DefaultEpsilon {
		fmt.Fprintf(&b, "privacy.epsilon=%s\n", strconv.FormatFloat(s.Privacy.Epsilon, 'g', -1, 64))
	}
	if s.Privacy.Delta != DefaultDelta {
		fmt.Fprintf(&b, "privacy.delta=%s\n", strconv.FormatFloat(s.Privacy.Delta, 'g', -1, 64))
	}
	// Added with feature set 2: left out at their defaults too.
	if s.FeatureSet != DefaultFeatureSet {
		fmt.Fprintf(&b, "feature_set=%d\n", s.FeatureSet)
	}
	if s.Privacy.Rho != DefaultRho(s.Window) {
		fmt.Fprintf(&b, "privacy.rho=%s\n", strconv.FormatFloat(s.Privacy.Rho, 'g', -1, 64))
	}
	for _, name := range BlockNames { // fixed order; only overridden fields
		o, ok := s.Privacy.Blocks[name]
		if !ok {
			continue
		}
		e := s.Privacy.Block(name)
		if o.Weight != 0 && e.Weight != DefaultBlockWeights[name] {
			fmt.Fprintf(&b, "privacy.blocks.%s.weight=%s\n", name, strconv.FormatFloat(e.Weight, 'g', -1, 64))
		}
		if e.Off {
			fmt.Fprintf(&b, "privacy.blocks.%s.off=true\n", name)
		}
		if e.Mechanism != DefaultMechanism {
			fmt.Fprintf(&b, "privacy.blocks.%s.mechanism=%s\n", name, e.Mechanism)
		}
	}
	return b.String()
}
