package clickhouse

import (
	"slices"
	"testing"
)

// TestShardOf: the remainder of the key by the sum of the weights, handed
// out in shard order by weight, as a Distributed table does (measured on
// the 2x2 dev cluster: ids 10 and 2^64-2 on shard 1, 11 and 2^64-1 on
// shard 2; TestReplaceEnrichmentWindowOnCluster checks it on the server).
func TestShardOf(t *testing.T) {
	even := []shard{{num: 1, weight: 1}, {num: 2, weight: 1}}
	for key, want := range map[uint64]int{10: 0, 11: 1, 1<<64 - 2: 0, 1<<64 - 1: 1, 0: 0} {
		if got := shardOf(even, 2, key); got != want {
			t.Errorf("even weights: shardOf(%d) = %d, want %d", key, got, want)
		}
	}
	weighted := []shard{{num: 1, weight: 2}, {num: 2, weight: 1}} // remainders 0, 1 → shard 1; 2 → shard 2
	var got []int
	for key := range uint64(6) {
		got = append(got, shardOf(weighted, 3, key))
	}
	if want := []int{0, 0, 1, 0, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("weights 2 and 1: shards of keys 0..5 = %v, want %v", got, want)
	}
	rows := []EnrichmentRow{{CohortID: 4}, {CohortID: 5}, {CohortID: 7}}
	split := shardRows(even, rows)
	if len(split) != 2 || len(split[0]) != 1 || split[0][0].CohortID != 4 || len(split[1]) != 2 {
		t.Errorf("shardRows = %+v, want [[4] [5 7]]", split)
	}
}
