package buildinfo

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// Version is what `cohortline version` prints: the build, and the
// versions of each contract it speaks, so that an operator can tell
// whether two deployments write compatible data.
type Version struct {
	Module      string `json:"module"`       // the main module's version, "devel" for a local build
	Commit      string `json:"commit"`       // VCS revision, "+dirty" when built with uncommitted changes; "" when unstamped
	CommitTime  string `json:"commit_time"`  // of Commit, RFC 3339; "" when unstamped
	Go          string `json:"go"`           // toolchain, e.g. go1.26.0
	Platform    string `json:"platform"`     // GOOS/GOARCH
	EventFormat int    `json:"event_format"` // the "v" of the events read (DESIGN.md, "Event format v1")
	FeatureSet  int    `json:"feature_set"`  // of the published vectors
	Features    int    `json:"features"`     // slots in that feature set
	DDLVersion  int    `json:"ddl_version"`  // the newest migration this build applies
	DDLFile     string `json:"ddl_file"`
}

// Current is this build's Version.
func Current() (Version, error) {
	v := Version{
		Module:      "devel",
		Go:          runtime.Version(),
		Platform:    runtime.GOOS + "/" + runtime.GOARCH,
		EventFormat: schemas.Version,
		FeatureSet:  cohorts.FeatureSetVersion,
		Features:    cohorts.NumFeaturesV1(),
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if m := Module(info); m != "" {
			v.Module = m
		}
		v.Commit, v.CommitTime = VCS(info)
	}
	ddl, err := schemas.RenderDDL(schemas.DDLOptions{})
	if err != nil {
		return v, err
	}
	if n := len(ddl.Migrations); n > 0 {
		v.DDLVersion, v.DDLFile = ddl.Migrations[n-1].Version, ddl.Migrations[n-1].Name
	}
	return v, nil
}

// Write prints v as one JSON object, or as a table for people.
func (v Version) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(v)
	}
	commit := v.Commit
	switch {
	case commit == "":
		commit = "unknown (built without VCS stamping: go run or go test)"
	case v.CommitTime != "":
		commit += " (" + v.CommitTime + ")"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "cohortline\t%s\n", v.Module)
	fmt.Fprintf(tw, "commit\t%s\n", commit)
	fmt.Fprintf(tw, "go\t%s %s\n", v.Go, v.Platform)
	fmt.Fprintf(tw, "event format\tv%d\n", v.EventFormat)
	fmt.Fprintf(tw, "feature set\t%d (%d features)\n", v.FeatureSet, v.Features)
	fmt.Fprintf(tw, "ddl version\t%d (%s)\n", v.DDLVersion, v.DDLFile)
	return tw.Flush()
}
