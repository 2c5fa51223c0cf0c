package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/pipeline/archive"
	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// execGen runs "cohortline gen args…" and returns its stdout and stderr.
func execGen(t *testing.T, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(append([]string{"gen"}, args...))
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(t.Context())
	return out.Bytes(), errOut.Bytes(), err
}

func TestGenFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error message
	}{
		{[]string{"--out", "-", "--bad", "2"}, "--bad: 2 is not a fraction"},
		{[]string{"--out", "-", "--late", "-0.1"}, "--late:"},
		{[]string{"--out", "-", "--out-of-order", "1.5"}, "--out-of-order:"},
		{[]string{"--out", "-", "--minor-share", "3"}, "--minor-share:"},
		{[]string{"--out", "-", "--business-share", "-1"}, "--business-share:"},
		{[]string{"--out", "-", "--bad", "0.5", "--duplicates", "0.6"}, "--bad: bad + duplicates"},
		{[]string{"--out", "-", "--country-skew", "-2"}, "--country-skew:"},
		{[]string{"--out", "-", "--events", "0"}, "--events:"},
		{[]string{"--out", "-", "--users", "0"}, "--users:"},
		{[]string{"--out", "-", "--span", "0s"}, "--span:"},
		{[]string{"--out", "-", "--late-delay", "-1m"}, "--late-delay:"},
		{[]string{"--out", "-", "--start", "yesterday"}, "--start:"},
		{[]string{"--out", "-", "--start", "1990-01-01T00:00:00Z"}, "--start:"},
		{[]string{"--out", "-", "--bad-mix", "typo=1"}, "--bad-mix: unknown class"},
		{[]string{"--out", "-", "--bad-mix", "too_large=0"}, "--bad-mix:"},
		{[]string{"--out", "-", "--bad-mix", "too_large=-1"}, "--bad-mix:"},
		{nil, "--out"},
		{[]string{"--out", "-", "--kafka", "127.0.0.1:1"}, "exclude each other"},
		{[]string{"--kafka", "127.0.0.1:1"}, "--kafka needs --topic"},
		{[]string{"--out", "-", "--topic", "t"}, "--topic needs --kafka"},
		{[]string{"--kafka", "127.0.0.1:1", "--topic", "t", "--partitions", "0"}, "--partitions:"},
		{[]string{"--out", "-", "--no-such-flag"}, "no-such-flag"},
		{[]string{"--out", "-", "extra-arg"}, "extra-arg"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, _, err := execGen(t, tt.args...)
			var usage usageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
			if len(stdout) > 0 {
				t.Errorf("wrote %d bytes before failing", len(stdout))
			}
		})
	}
}

var genSummaryRE = regexp.MustCompile(`^gen: (\d+) events \((\d+) bad, (\d+) duplicates, (\d+) late\) in [0-9.]+s: [0-9.]+[kM]? events/s\n$`)

// parseGenSummary returns the counts of gen's stderr summary line.
func parseGenSummary(t *testing.T, stderr []byte) (events, bad, dups, late int) {
	t.Helper()
	m := genSummaryRE.FindSubmatch(stderr)
	if m == nil {
		t.Fatalf("stderr %q is not a gen summary line", stderr)
	}
	n := make([]int, 4)
	for i := range n {
		n[i], _ = strconv.Atoi(string(m[i+1]))
	}
	return n[0], n[1], n[2], n[3]
}

func TestGenFileIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--events", "20000", "--users", "3000", "--seed", "42", "--bad", "0.01"}
	a, b := filepath.Join(dir, "a.ndjson"), filepath.Join(dir, "b.ndjson")
	for _, path := range []string{a, b} {
		stdout, stderr, err := execGen(t, append(args, "--out", path)...)
		if err != nil {
			t.Fatalf("gen --out %s: %v", path, err)
		}
		if len(stdout) != 0 {
			t.Errorf("gen --out FILE wrote %d bytes to stdout", len(stdout))
		}
		if events, _, _, _ := parseGenSummary(t, stderr); events != 20000 {
			t.Errorf("summary counts %d events, want 20000", events)
		}
	}
	da, db := genReadFile(t, a), genReadFile(t, b)
	if !bytes.Equal(da, db) {
		t.Fatal("two runs with the same flags wrote different bytes")
	}
	if n := bytes.Count(da, []byte("\n")); n != 20000 {
		t.Errorf("%d lines, want 20000", n)
	}
	stdout, _, err := execGen(t, append(args, "--out", "-")...)
	if err != nil || !bytes.Equal(stdout, da) {
		t.Errorf("--out - wrote %d bytes (err %v), want the file's %d", len(stdout), err, len(da))
	}
	other, _, err := execGen(t, "--events", "20000", "--users", "3000", "--seed", "43", "--bad", "0.01", "--out", "-")
	if err != nil || bytes.Equal(other, da) {
		t.Errorf("seed 43 gave the bytes of seed 42 (err %v)", err)
	}
	gz := filepath.Join(dir, "c.ndjson.gz")
	if _, _, err := execGen(t, append(args, "--out", gz)...); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(genReadFile(t, gz)))
	if err != nil {
		t.Fatalf("%s is not gzip: %v", gz, err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, da) {
		t.Errorf("gunzipped .gz output differs from plain output (err %v)", err)
	}
}

// Every line meets the decoder as the summary says: bad ones are
// rejected, the rest are valid.
func TestGenLinesDecode(t *testing.T) {
	stdout, stderr, err := execGen(t, "--events", "30000", "--users", "5000", "--bad", "0.02", "--out", "-")
	if err != nil {
		t.Fatal(err)
	}
	events, bad, _, _ := parseGenSummary(t, stderr)
	var d schemas.Decoder
	var ev schemas.Event
	lines, rejected := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<20) // too_large records exceed bufio's default
	for sc.Scan() {
		lines++
		if d.Decode(sc.Bytes(), &ev) != nil {
			rejected++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != events || rejected != bad || bad == 0 {
		t.Errorf("%d lines, %d rejected; summary says %d events, %d bad", lines, rejected, events, bad)
	}
}

func TestGenSummary(t *testing.T) {
	st := synth.Stats{Records: 1000000, Bad: 987, Duplicates: 4981, Late: 10012}
	got := genSummary(st, 1420*time.Millisecond)
	if want := "gen: 1000000 events (987 bad, 4981 duplicates, 10012 late) in 1.42s: 704k events/s"; got != want {
		t.Errorf("genSummary = %q, want %q", got, want)
	}
}

func genReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var genColumnarSummaryRE = regexp.MustCompile(`^gen: \d+ events \((\d+) bad, .*events/s\ngen: (\d+) bad records not written: Parquet and Arrow hold only valid events\n$`)

// Parquet and Arrow output holds the valid records of the NDJSON output,
// duplicates included, in the same order, and the summary counts the bad
// records left out.
func TestGenParquetAndArrow(t *testing.T) {
	args := []string{"--events", "30000", "--users", "3000", "--seed", "5", "--bad", "0.02", "--duplicates", "0.02"}
	stdout, _, err := execGen(t, append(args, "--out", "-")...)
	if err != nil {
		t.Fatal(err)
	}
	var d schemas.Decoder
	var ev schemas.Event
	var want []string // the valid events, as AppendJSON writes them
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if d.Decode(sc.Bytes(), &ev) == nil {
			want = append(want, string(schemas.AppendJSON(nil, &ev)))
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"e.parquet", "e.arrow", "e.arrows"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			out, stderr, err := execGen(t, append(args, "--out", path)...)
			if err != nil || len(out) != 0 {
				t.Fatalf("gen --out %s: %v (%d bytes on stdout)", name, err, len(out))
			}
			m := genColumnarSummaryRE.FindSubmatch(stderr)
			if m == nil || string(m[1]) != string(m[2]) || string(m[1]) == "0" {
				t.Fatalf("summary %q does not count its bad records as not written", stderr)
			}
			r, err := archive.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []string
			for {
				v, _, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Decode(v, &ev); err != nil {
					t.Fatalf("%s: %v", v, err)
				}
				got = append(got, string(schemas.AppendJSON(nil, &ev)))
			}
			if len(got) != len(want) {
				t.Fatalf("%d events, the NDJSON output has %d valid ones", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("event %d:\n %s\nNDJSON has\n %s", i, got[i], want[i])
				}
			}
			// Same flags, same bytes, in columns too.
			again := filepath.Join(dir, "again-"+name)
			if _, _, err := execGen(t, append(args, "--out", again)...); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(genReadFile(t, path), genReadFile(t, again)) {
				t.Error("two runs with the same flags wrote different files")
			}
		})
	}
}
