package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/buildinfo"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// buildVersion is what `cohortline version` prints: the build, and the
// versions of each contract it speaks, so that an operator can tell
// whether two deployments write compatible data.
type buildVersion struct {
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

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the build and the contract versions it speaks",
		Long: `Version prints the module version, the commit it was built from, the Go
toolchain, and the versions of the contracts it reads and writes: the event
format, the feature set of published vectors and the newest ClickHouse
migration (migrate applies up to it).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := versionOfBuild()
			if err != nil {
				return err
			}
			return v.write(cmd.OutOrStdout(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func versionOfBuild() (buildVersion, error) {
	v := buildVersion{
		Module:      "devel",
		Go:          runtime.Version(),
		Platform:    runtime.GOOS + "/" + runtime.GOARCH,
		EventFormat: schemas.Version,
		FeatureSet:  cohorts.FeatureSetVersion,
		Features:    cohorts.NumFeaturesV1(),
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if m := buildinfo.Module(info); m != "" {
			v.Module = m
		}
		v.Commit, v.CommitTime = buildinfo.VCS(info)
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

func (v buildVersion) write(w io.Writer, asJSON bool) error {
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
