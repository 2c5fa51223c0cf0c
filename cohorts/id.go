package cohorts

import "github.com/go-faster/city"

// ID returns the cohort_id of k: CityHash64 v1.0.2, as ClickHouse's
// cityHash64 computes it, of the canonical key string (String). A targeter
// can so compute it in SQL from a key it built itself:
//
//	SELECT cityHash64('country=BR|lang=pt|age=25-34|platform=android')
//	-- 4918191456130276520
//
// The id of a key string is fixed forever (testdata/cohort_ids.golden):
// it is published, and joins are by it. It does not allocate.
//
// Why this hash: ClickHouse has it built in on every version we support
// (18.16 onwards), and github.com/go-faster/city's CH64 is the
// implementation ch-go uses for ClickHouse compatibility (ClickHouse pins
// CityHash v1.0.2, whose output differs from later CityHash releases).
func (k Key) ID() uint64 {
	var buf [maxKeyLen]byte
	return city.CH64(k.AppendString(buf[:0]))
}
