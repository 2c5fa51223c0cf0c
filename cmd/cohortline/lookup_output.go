package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// lookupResult is what lookup prints; its JSON form is --json's output.
type lookupResult struct {
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	CohortKey   string    `json:"cohort_key"`
	// CohortID is a decimal string: JSON numbers lose 64-bit precision in
	// JavaScript and many other readers.
	CohortID   string `json:"cohort_id"`
	Level      string `json:"level"`       // generalized dimensions as published; "" for the finest cohort
	ChainLevel int    `json:"chain_level"` // 0 finest … TopLevel all "*"
	TopLevel   int    `json:"top_level"`
	FinestKey  string `json:"finest_key"` // the key of the attributes asked for
	Users      uint64 `json:"users"`
	// UsersSigma is the standard deviation of the users count's noise;
	// absent when the release recorded none (feature_noise).
	UsersSigma  *float64        `json:"users_sigma,omitempty"`
	FeatureSet  uint16          `json:"feature_set"`
	Release     string          `json:"release"`
	PublishedAt time.Time       `json:"published_at"`
	Features    []lookupFeature `json:"features"`
}

type lookupFeature struct {
	Index   int     `json:"index"`
	Name    string  `json:"name"` // "#<index>" when feature_dictionary has no name for it
	Unit    string  `json:"unit"`
	Value   float32 `json:"value"`
	PerUser float64 `json:"per_user"` // Value / Users
	// Sigma is the standard deviation of the value's noise (feature_noise),
	// absent when the release recorded none; Noisy is true when it exceeds
	// the value: the value is then mostly noise.
	Sigma *float64 `json:"sigma,omitempty"`
	Noisy bool     `json:"noisy,omitempty"`
}

// addNoise sets the error bars of the release's slots.
func (r *lookupResult) addNoise(noise []clickhouse.FeatureNoise) {
	for _, n := range noise {
		sigma := n.Sigma
		switch {
		case n.Index == clickhouse.UsersIndex:
			r.UsersSigma = &sigma
		case int(n.Index) < len(r.Features) && !math.IsNaN(sigma):
			f := &r.Features[n.Index]
			f.Sigma, f.Noisy = &sigma, sigma > float64(f.Value)
		}
	}
}

func newLookupResult(finest cohorts.Key, level, top int, r clickhouse.EnrichmentRow, dict []clickhouse.DictionaryEntry) lookupResult {
	res := lookupResult{
		WindowStart: r.WindowStart, WindowEnd: r.WindowEnd,
		CohortKey: r.CohortKey, CohortID: strconv.FormatUint(r.CohortID, 10),
		Level: r.Level, ChainLevel: level, TopLevel: top, FinestKey: finest.String(),
		Users: r.Users, FeatureSet: r.FeatureSet, Release: r.Release, PublishedAt: r.PublishedAt,
		Features: make([]lookupFeature, len(r.Features)),
	}
	names := make(map[uint32]clickhouse.DictionaryEntry, len(dict))
	for _, e := range dict {
		names[e.Index] = e
	}
	for i, v := range r.Features {
		f := lookupFeature{Index: i, Name: "#" + strconv.Itoa(i), Value: v}
		if e, ok := names[uint32(i)]; ok {
			f.Name, f.Unit = e.Name, e.Unit
		}
		if r.Users > 0 { // never 0 when published (at least k), but a bad row must not print Inf
			f.PerUser = float64(v) / float64(r.Users)
		}
		res.Features[i] = f
	}
	return res
}

func (r lookupResult) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r lookupResult) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	level := r.Level
	if level == "" {
		level = "none (finest cohort)"
	}
	match := "the finest cohort of the attributes"
	if r.ChainLevel > 0 {
		match = fmt.Sprintf("generalized %d of %d levels: %s is not published", r.ChainLevel, r.TopLevel, r.FinestKey)
	}
	fmt.Fprintf(tw, "cohort_key\t%s\n", r.CohortKey)
	fmt.Fprintf(tw, "cohort_id\t%s\n", r.CohortID)
	fmt.Fprintf(tw, "level\t%s\n", level)
	fmt.Fprintf(tw, "match\t%s\n", match)
	fmt.Fprintf(tw, "window\t%s to %s\n", r.WindowStart.Format(time.RFC3339), r.WindowEnd.Format(time.RFC3339))
	if r.UsersSigma != nil {
		fmt.Fprintf(tw, "users\t%d ± %.1f\n", r.Users, *r.UsersSigma)
	} else {
		fmt.Fprintf(tw, "users\t%d\n", r.Users)
	}
	fmt.Fprintf(tw, "release\t%s (feature set %d), published %s\n", r.Release, r.FeatureSet, r.PublishedAt.Format(time.RFC3339))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nValues are noised counts (differential privacy) over at least k users; per_user = value / users.\n\n")
	if r.UsersSigma == nil {
		fmt.Fprintf(tw, "index\tfeature\tunit\tvalue\tper_user\n")
		for _, f := range r.Features {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.4f\n", f.Index, f.Name, f.Unit, strconv.FormatFloat(float64(f.Value), 'f', -1, 32), f.PerUser)
		}
		return tw.Flush()
	}
	fmt.Fprintf(tw, "index\tfeature\tunit\tvalue\t± sigma\tper_user\t\n")
	noisy := 0
	for _, f := range r.Features {
		sigma, warn := "-", ""
		if f.Sigma != nil {
			sigma = strconv.FormatFloat(*f.Sigma, 'f', 1, 64)
		}
		if f.Noisy {
			warn, noisy = "!", noisy+1
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t± %s\t%.4f\t%s\n", f.Index, f.Name, f.Unit, strconv.FormatFloat(float64(f.Value), 'f', -1, 32), sigma, f.PerUser, warn)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if noisy > 0 {
		fmt.Fprintf(w, "\n! %d values are below one standard deviation of their noise: they are mostly noise (use a coarser cohort, a longer window, or the value's block's weight).\n", noisy)
	}
	return nil
}
