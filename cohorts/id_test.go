package cohorts

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "append to golden files in testdata/ (cohort ids, feature slots); pinned entries never change")

const goldenIDs = "testdata/cohort_ids.golden"

// goldenKeys are the keys pinned in testdata/cohort_ids.golden. Append to
// this list and run `go test ./cohorts/ -run TestIDGolden -update`.
//
// The ids are ClickHouse's: the first one is reproduced by
//
//	SELECT cityHash64('country=BR|lang=pt|age=25-34|platform=android')
//	-- 4918191456130276520
var goldenKeys = []string{
	"country=BR|lang=pt|age=25-34|platform=android",
	"country=BR|lang=pt|age=25-34|platform=*",
	"country=BR|lang=pt|age=*|platform=*",
	"country=BR|lang=*|age=*|platform=*",
	"country=*|lang=*|age=*|platform=*",
	"country=US|lang=en|age=18-24|platform=ios",
	"country=US|lang=es|age=35-44|platform=web",
	"country=IN|lang=hi|age=45-54|platform=android",
	"country=IN|lang=en|age=55-64|platform=desktop",
	"country=ID|lang=id|age=65+|platform=android",
	"country=NG|lang=en|age=unknown|platform=android",
	"country=DE|lang=de|age=25-34|platform=desktop",
	"country=MX|lang=es|age=18-24|platform=*",
	"country=FR|lang=fr|age=*|platform=ios",
	"country=*|lang=pt|age=25-34|platform=android",
	"country=*|lang=*|age=65+|platform=*",
	"country=*|lang=*|age=*|platform=web",
	"country=AD|lang=ab|age=18-24|platform=android",
	"country=ZW|lang=zu|age=unknown|platform=desktop",
	"country=EG|lang=ar|age=35-44|platform=ios",
	"country=JP|lang=ja|age=45-54|platform=web",
	"country=ZA|lang=zu|age=55-64|platform=android",
	"country=TR|lang=tr|age=unknown|platform=*",
	"country=GB|lang=cy|age=65+|platform=desktop",
	// Other specs' keys, so that every length branch of CityHash64 is
	// pinned (4–8, 9–16, 17–32 and 33–64 bytes).
	"age=*",
	"age=25-34",
	"platform=android",
	"country=BR|lang=pt",
	"lang=pt|country=BR",
	"country=BR|age=unknown|platform=ios",
	"platform=desktop|age=unknown|lang=en|country=US",
}

// TestIDGolden pins cohort ids: they are published and joined on, so the
// id of a key string must never change, whatever becomes of the code.
func TestIDGolden(t *testing.T) {
	golden, err := readGoldenIDs()
	if err != nil && !(*update && os.IsNotExist(err)) {
		t.Fatal(err)
	}
	if *update {
		writeGoldenIDs(t, golden)
		if golden, err = readGoldenIDs(); err != nil {
			t.Fatal(err)
		}
	}
	inFile := map[string]bool{}
	for _, g := range golden {
		inFile[g.key] = true
		k, err := ParseKey(specOfKey(g.key), g.key)
		if err != nil {
			t.Errorf("%s:%d: %v", goldenIDs, g.line, err)
			continue
		}
		if got := k.ID(); got != g.id {
			t.Errorf("%s:%d: ID of %s = %d, want %d", goldenIDs, g.line, g.key, got, g.id)
		}
	}
	for _, key := range goldenKeys {
		if !inFile[key] {
			t.Errorf("%s lacks %q: run go test -run TestIDGolden -update", goldenIDs, key)
		}
	}
	if len(golden) < 20 {
		t.Errorf("%s pins %d ids, want at least 20", goldenIDs, len(golden))
	}
}

type goldenID struct {
	key  string
	id   uint64
	line int
}

// readGoldenIDs reads lines of "id<TAB>key"; "#" starts a comment line.
func readGoldenIDs() ([]goldenID, error) {
	data, err := os.ReadFile(goldenIDs)
	if err != nil {
		return nil, err
	}
	var out []goldenID
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		idText, key, ok := strings.Cut(text, "\t")
		id, err := strconv.ParseUint(idText, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: want id<TAB>key, got %q", goldenIDs, line, text)
		}
		out = append(out, goldenID{key: key, id: id, line: line})
	}
	return out, sc.Err()
}

// writeGoldenIDs adds the goldenKeys missing from the file. It refuses to
// change an id already pinned: that would break every published join.
func writeGoldenIDs(t *testing.T, golden []goldenID) {
	t.Helper()
	have := map[string]bool{}
	for _, g := range golden {
		have[g.key] = true
	}
	var b strings.Builder
	b.WriteString("# cohort_id<TAB>cohort_key: ClickHouse cityHash64(cohort_key), CityHash64 v1.0.2.\n")
	b.WriteString("# Pinned forever: add lines with go test ./cohorts/ -run TestIDGolden -update, never edit them.\n")
	for _, g := range golden {
		fmt.Fprintf(&b, "%d\t%s\n", g.id, g.key)
	}
	for _, key := range goldenKeys {
		if have[key] {
			continue
		}
		k, err := ParseKey(specOfKey(key), key)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d\t%s\n", k.ID(), key)
	}
	if err := os.WriteFile(goldenIDs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// specOfKey returns the default spec with the dimensions a key names, in
// its order.
func specOfKey(key string) Spec {
	var s Spec
	for part := range strings.SplitSeq(key, "|") {
		name, _, _ := strings.Cut(part, "=")
		s.Dimensions = append(s.Dimensions, Dimension(name))
	}
	s.setDefaults()
	return s
}
