package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestRealServer proves that integration tests talk to a real ClickHouse
// server over the native protocol, and that the write path the sink relies
// on works on it: DDL, a columnar batch insert with an explicit column list
// (required by 18.16), reading back, and dropping.
func TestRealServer(t *testing.T) {
	addr := devenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	conn, err := ch.Open(&ch.Options{
		Addr:        []string{addr},
		Protocol:    ch.Native,
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("opening %s: %v", addr, err)
	}
	defer conn.Close()

	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatalf("SELECT version(): %v", err)
	}
	if version == "" || version[0] < '1' || version[0] > '9' {
		t.Fatalf("version() = %q, want a release number", version)
	}
	t.Logf("ClickHouse %s at %s", version, addr)

	table := fmt.Sprintf("it_server_%d", time.Now().UnixNano())
	ddl := "CREATE TABLE " + table + " (day Date, id UInt64, key String, features Array(Float32)) ENGINE = MergeTree ORDER BY id"
	if err := conn.Exec(ctx, ddl); err != nil {
		t.Fatalf("creating %s: %v", table, err)
	}
	t.Cleanup(func() { conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+table) })

	const rows = 1000
	days := make([]time.Time, rows)
	ids := make([]uint64, rows)
	keys := make([]string, rows)
	features := make([][]float32, rows)
	var wantSum uint64
	for i := range rows {
		days[i] = time.Date(2026, 11, 1+i%3, 0, 0, 0, 0, time.UTC)
		ids[i] = uint64(i + 1)
		keys[i] = fmt.Sprintf("country=BR|lang=pt|n=%d", i)
		features[i] = []float32{float32(i), 0.5}
		wantSum += ids[i]
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" (day, id, key, features)")
	if err != nil {
		t.Fatalf("preparing batch: %v", err)
	}
	for i, col := range []any{days, ids, keys, features} {
		if err := batch.Column(i).Append(col); err != nil {
			t.Fatalf("appending column %d: %v", i, err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatalf("sending batch: %v", err)
	}

	var count, sum uint64
	var featureSum float64
	var distinctDays uint64
	q := "SELECT count(), sum(id), sum(arraySum(features)), uniqExact(day) FROM " + table
	if err := conn.QueryRow(ctx, q).Scan(&count, &sum, &featureSum, &distinctDays); err != nil {
		t.Fatalf("reading back: %v", err)
	}
	wantFeatureSum := float64(rows*(rows-1)/2) + 0.5*rows
	if count != rows || sum != wantSum || featureSum != wantFeatureSum || distinctDays != 3 {
		t.Fatalf("read back count=%d sum=%d features=%v days=%d, want %d %d %v 3", count, sum, featureSum, distinctDays, rows, wantSum, wantFeatureSum)
	}

	if err := conn.Exec(ctx, "DROP TABLE "+table); err != nil {
		t.Fatalf("dropping %s: %v", table, err)
	}
	var left uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?", table).Scan(&left); err != nil {
		t.Fatalf("checking the drop: %v", err)
	}
	if left != 0 {
		t.Fatalf("table %s still exists after DROP", table)
	}
}
