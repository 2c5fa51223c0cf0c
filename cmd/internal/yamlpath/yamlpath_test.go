package yamlpath

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Wait  time.Duration `yaml:"wait"`
	Count int           `yaml:"count"`
}

type common struct {
	Name string `yaml:"name"`
}

type doc struct {
	common  `yaml:",inline"`
	Inner   inner     `yaml:"inner"`
	List    []inner   `yaml:"list"`
	Ptr     *bool     `yaml:"ptr"`
	Section yaml.Node `yaml:"section"`
	Skipped string    `yaml:"-"`
	Plain   float64
}

type sectionType struct {
	K int `yaml:"k"`
}

func check(t *testing.T, src string) (Lines, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return Check(&n, reflect.TypeOf(doc{}), map[string]reflect.Type{"section": reflect.TypeOf(sectionType{})})
}

func TestCheckNamesTheKeyAndLine(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"name: a\ninner:\n  wiat: 1s\n", "inner.wiat (line 3): unknown key; did you mean wait? (known here: count, wait)"},
		{"inner: {wait: 5}\n", `inner.wait (line 1): "5" is not a duration`},
		{"list:\n  - count: 1\n  - count: x\n", `list[1].count (line 3): "x" is not a whole number`},
		{"ptr: maybe\n", `ptr (line 1): "maybe" is not true or false`},
		{"plain: [1]\n", "plain (line 1): want a single value, not a list or mapping"},
		{"section:\n  k: 1\n  kk: 2\n", "section.kk (line 3): unknown key; did you mean k?"},
		{"skipped: x\n", "skipped (line 1): unknown key"},
		{"inner: 3\n", "inner (line 1): want a mapping of keys to values"},
		{"list: 3\n", "list (line 1): want a list"},
		{"name: a\nname: b\n", "name (line 2): repeated key"},
	} {
		_, err := check(t, c.src)
		var ke *KeyError
		if !errors.As(err, &ke) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}

func TestCheckAcceptsAndRecordsLines(t *testing.T) {
	lines, err := check(t, "name: a\ninner:\n  wait: 1s\n  count: 2\nlist: [{count: 1}]\nsection: {k: 3}\nplain: 1.5\nptr: ~\n")
	if err != nil {
		t.Fatal(err)
	}
	want := Lines{"name": 1, "inner": 2, "inner.wait": 3, "inner.count": 4, "list": 5, "list[0]": 5, "list[0].count": 5,
		"section": 6, "section.k": 6, "plain": 7, "ptr": 8}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
}

func TestLocate(t *testing.T) {
	lines := Lines{"kafka.topic": 3, "cohorts.k": 9}
	sentinel := errors.New("sentinel")
	err := fmt.Errorf("kafka.topic: required\ncohort spec: k: 1, want at least 2\nkafka.group: left to its default: %w", sentinel)
	got := lines.Locate(err, []Prefix{{From: "cohort spec: ", To: "cohorts."}})
	want := "kafka.topic (line 3): required\ncohorts.k (line 9): 1, want at least 2\nkafka.group: left to its default: sentinel"
	if got.Error() != want || !errors.Is(got, sentinel) {
		t.Errorf("Locate: %q (is sentinel: %t), want %q", got, errors.Is(got, sentinel), want)
	}
	if plain := errors.New("no key here"); lines.Locate(plain, nil) != plain {
		t.Error("an error without a known key must come back as it is")
	}
}

func TestNearestKey(t *testing.T) {
	known := []string{"brokers", "group", "max_future_skew", "max_out_of_order", "topic"}
	for key, want := range map[string]string{"max_out_of_ordr": "max_out_of_order", "topics": "topic", "brokr": "brokers", "partitions": ""} {
		if got := NearestKey(key, known); got != want {
			t.Errorf("NearestKey(%q) = %q, want %q", key, got, want)
		}
	}
}
