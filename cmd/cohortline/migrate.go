package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// envClickHouse is the default of --clickhouse (migrate, lookup, demo).
const envClickHouse = "COHORTLINE_CLICKHOUSE"

func newMigrateCmd() *cobra.Command {
	addr := os.Getenv(envClickHouse)
	if addr == "" {
		addr = clickhouse.DefaultAddr
	}
	var cfg clickhouse.Config
	var printOnly bool
	var configPath string
	cmd := &cobra.Command{
		Use:   "migrate [flags]",
		Short: "Create or update Cohortline's ClickHouse tables",
		Long: `Migrate creates the two databases (internal, and published: the only one the
targeter's account may read) and applies the numbered DDL migrations that the
database's schema_migrations table does not list yet, in order. Running it
again applies nothing. The DDL runs on ClickHouse 18.16 and current releases.

--cluster creates everything ON CLUSTER, with Replicated* tables (ZooKeeper
paths under --zookeeper-path) and Distributed tables over them.
--print writes the DDL that migrate would run and connects to nothing.

The password, if the user needs one, comes from ` + configfile.EnvClickHousePassword + `,
or from the password_env or password_file of --config's clickhouse section,
whose tls block secures the connection (its other keys are the defaults of
the flags).`,
		Example: `  cohortline migrate --clickhouse 127.0.0.1:19000
  cohortline migrate --print --cluster analytics`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := migrateConfig(cmd, cfg, configPath, addr)
			if err != nil {
				return err
			}
			return runMigrate(cmd, cfg, printOnly)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "clickhouse", addr, "ClickHouse native-protocol address host:port, or several separated by commas; $"+envClickHouse+" when set")
	f.StringVar(&cfg.Database, "database", schemas.DefaultDatabase, "internal database")
	f.StringVar(&cfg.PublishedDatabase, "published-database", schemas.DefaultPublishedDatabase, "database of the published tables, the targeter's")
	f.StringVar(&cfg.Username, "user", clickhouse.DefaultUsername, "ClickHouse user")
	f.StringVar(&cfg.Cluster, "cluster", "", "cluster name from the servers' remote_servers: create ON CLUSTER, Replicated and Distributed")
	f.StringVar(&cfg.ZooKeeperPath, "zookeeper-path", schemas.DefaultZooKeeperPath, "with --cluster: prefix of the Replicated tables' ZooKeeper paths")
	f.BoolVar(&printOnly, "print", false, "print the DDL instead of applying it")
	f.StringVar(&configPath, "config", "", "YAML config file whose clickhouse section (tls, username, password_env or password_file, addresses, databases, cluster) applies where no flag is given")
	return cmd
}

// migrateConfig is the flags' settings over --config's clickhouse
// section, with the password read from its source.
func migrateConfig(cmd *cobra.Command, flags clickhouse.Config, path, addr string) (clickhouse.Config, error) {
	cfg := flags
	if path != "" {
		file, _, err := configfile.Read(path)
		if err != nil {
			return cfg, usageError{err}
		}
		cfg = file.ClickHouse
		changed := cmd.Flags().Changed
		for _, f := range []struct {
			flag      string
			to, value *string
		}{
			{"database", &cfg.Database, &flags.Database}, {"published-database", &cfg.PublishedDatabase, &flags.PublishedDatabase},
			{"user", &cfg.Username, &flags.Username}, {"cluster", &cfg.Cluster, &flags.Cluster},
			{"zookeeper-path", &cfg.ZooKeeperPath, &flags.ZooKeeperPath},
		} {
			if changed(f.flag) || *f.to == "" {
				*f.to = *f.value
			}
		}
		if len(cfg.Addr) == 0 || changed("clickhouse") {
			cfg.Addr = strings.Split(addr, ",")
		}
	} else {
		cfg.Addr = strings.Split(addr, ",")
	}
	if err := configfile.CheckClickHouse(&cfg, os.Getenv); err != nil {
		return cfg, usageErrorf("migrate: %v", err)
	}
	return cfg, nil
}

func runMigrate(cmd *cobra.Command, cfg clickhouse.Config, printOnly bool) error {
	if err := cfg.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	out := cmd.OutOrStdout()
	if printOnly {
		ddl, err := schemas.RenderDDL(schemas.DDLOptions{
			Database: cfg.Database, PublishedDatabase: cfg.PublishedDatabase,
			Cluster: cfg.Cluster, ZooKeeperPath: cfg.ZooKeeperPath,
		})
		if err != nil {
			return usageErrorf("%v", err)
		}
		_, err = fmt.Fprint(out, ddl.Script())
		return err
	}
	ctx := cmd.Context() // interrupted by Ctrl-C; DDL may take minutes on a cluster
	client, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return err // names the address
	}
	defer client.Close()
	applied, err := client.Migrate(ctx)
	for _, name := range applied {
		fmt.Fprintf(out, "applied %s\n", name)
	}
	if err != nil {
		return fmt.Errorf("migrating %s and %s at %s: %w", cfg.Database, cfg.PublishedDatabase, strings.Join(cfg.Addr, ","), err)
	}
	if len(applied) == 0 {
		fmt.Fprintf(out, "up to date: %s and %s\n", cfg.Database, cfg.PublishedDatabase)
	}
	return nil
}
