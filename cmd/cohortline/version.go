package main

import (
	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/buildinfo"
)

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
			v, err := buildinfo.Current()
			if err != nil {
				return err
			}
			return v.Write(cmd.OutOrStdout(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
