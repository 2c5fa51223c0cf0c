package schemas

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// The ClickHouse DDL lives in ddl/*.sql as text/template files: bootstrap.sql
// (databases and schema_migrations, applied on every migrate) and numbered
// migrations 0001_<what>.sql, applied once each in order. Files are
// append-only once released: a change is a new numbered file.
//
// Everything must run on ClickHouse 18.16 and on current releases, so the
// files use none of TTL, Map, codecs, DateTime64, LowCardinality or
// SETTINGS on INSERT.
//
//go:embed ddl/*.sql
var ddlFiles embed.FS

// Defaults of DDLOptions.
const (
	DefaultDatabase          = "cohortline"
	DefaultPublishedDatabase = "cohortline_published"
	DefaultZooKeeperPath     = "/clickhouse/tables"
)

// DDLOptions say where and how the tables are created. The zero value is a
// single server with the default database names.
//
// Cluster mode (Cluster set) renders every statement ON CLUSTER, and:
//   - the data tables (cohort_partials, window_progress, backfill_progress,
//     cohort_enrichment) become <name>_local with a Replicated* engine at ZooKeeper path
//     <ZooKeeperPath>/{shard}/<database>/<name>_local, replica '{replica}',
//     plus a Distributed table <name> over them, sharded by cohort_id (by
//     topic and partition for window_progress) so that the rows one
//     ReplacingMergeTree must fold always meet on one shard. Programs read
//     and write <name>, in both modes;
//   - the small tables (schema_migrations, feature_dictionary,
//     privacy_ledger) are replicated to every node, at
//     <ZooKeeperPath>/all/<database>/<name>: {replica} must then be unique
//     across the whole cluster, not only within a shard;
//   - views read the Distributed tables and use GLOBAL IN.
//
// {shard} and {replica} are the servers' macros. Writers should insert with
// insert_distributed_sync=1 (sinks/clickhouse sets it) so that a flush's
// window_progress row cannot reach its shard before the partials do.
type DDLOptions struct {
	Database          string // internal tables; default DefaultDatabase
	PublishedDatabase string // what the targeter may read; default DefaultPublishedDatabase
	Cluster           string // cluster name from the servers' remote_servers; "" for one server
	ZooKeeperPath     string // cluster mode: prefix of Replicated* paths; default DefaultZooKeeperPath
}

// Migration is one DDL file rendered for a deployment.
type Migration struct {
	Version int    // 1 for 0001_cohort_partials.sql; 0 for bootstrap.sql
	Name    string // file name
	// Checksum is the SHA-256 of the file's template, so that it is the same
	// in every mode and catches an edit of an applied file.
	Checksum   string
	SQL        string   // rendered, with comments: what --print shows
	Statements []string // rendered, comments removed, one statement each without ';'
}

// DDL is the whole schema rendered for one DDLOptions.
type DDL struct {
	Bootstrap  Migration   // safe to repeat: applied before every migrate
	Migrations []Migration // in version order
}

// Script is all of the DDL as one SQL script, in the order migrate applies it.
func (d *DDL) Script() string {
	var b strings.Builder
	for i, m := range append([]Migration{d.Bootstrap}, d.Migrations...) {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "-- ==== %s ====\n%s\n", m.Name, strings.TrimSpace(m.SQL))
	}
	return b.String()
}

// identifier is what DDLOptions accept as a database name: they are
// interpolated into SQL, so nothing that would need quoting.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// clusterName also admits '-' and '.', common in remote_servers names; it
// is always rendered quoted.
var clusterName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// zooKeeperPath admits the characters of paths and {macros}, nothing that
// would end the SQL string literal it is rendered into.
var zooKeeperPath = regexp.MustCompile(`^/[A-Za-z0-9_./{}-]*$`)

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

func (o *DDLOptions) setDefaults() {
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.PublishedDatabase == "" {
		o.PublishedDatabase = DefaultPublishedDatabase
	}
	if o.ZooKeeperPath == "" {
		o.ZooKeeperPath = DefaultZooKeeperPath
	}
}

// Validate reports the first option that cannot be rendered into SQL safely,
// named as the YAML keys of sinks/clickhouse.Config name it. Empty fields
// take their defaults first.
func (o DDLOptions) Validate() error {
	o.setDefaults()
	switch {
	case !identifier.MatchString(o.Database):
		return fmt.Errorf("database %q: want letters, digits and _, not starting with a digit", o.Database)
	case !identifier.MatchString(o.PublishedDatabase):
		return fmt.Errorf("published_database %q: want letters, digits and _, not starting with a digit", o.PublishedDatabase)
	case o.Database == o.PublishedDatabase:
		return fmt.Errorf("database and published_database are both %q: the targeter's account must see published tables only", o.Database)
	case o.Cluster != "" && !clusterName.MatchString(o.Cluster):
		return fmt.Errorf("cluster %q: want letters, digits, _, . and -", o.Cluster)
	case !zooKeeperPath.MatchString(o.ZooKeeperPath) || strings.HasSuffix(o.ZooKeeperPath, "/"):
		return fmt.Errorf("zookeeper_path %q: want an absolute path without a trailing /, of letters, digits, _ . - / and {macros}", o.ZooKeeperPath)
	}
	return nil
}

// RenderDDL renders bootstrap.sql and every numbered migration for o.
func RenderDDL(o DDLOptions) (*DDL, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.setDefaults()
	names, err := fs.Glob(ddlFiles, "ddl/*.sql")
	if err != nil {
		return nil, err
	}
	d := &DDL{}
	everywhere := map[string]bool{} // filled by the files that create the tables, used by later ALTERs
	for _, name := range names {    // fs.Glob sorts: 0001 before 0002
		m, err := renderFile(o, name, everywhere)
		if err != nil {
			return nil, err
		}
		if m.Name == "bootstrap.sql" {
			d.Bootstrap = m
			continue
		}
		if n := len(d.Migrations); n > 0 && d.Migrations[n-1].Version == m.Version {
			return nil, fmt.Errorf("BUG: %s and %s share version %d", d.Migrations[n-1].Name, m.Name, m.Version)
		}
		d.Migrations = append(d.Migrations, m)
	}
	return d, nil
}

func renderFile(o DDLOptions, name string, everywhere map[string]bool) (Migration, error) {
	src, err := ddlFiles.ReadFile(name)
	if err != nil {
		return Migration{}, err
	}
	m := Migration{Name: path.Base(name)}
	if m.Name != "bootstrap.sql" {
		match := migrationName.FindStringSubmatch(m.Name)
		if match == nil {
			return Migration{}, fmt.Errorf("BUG: DDL file %s is not named NNNN_name.sql", m.Name)
		}
		m.Version, _ = strconv.Atoi(match[1])
	}
	sum := sha256.Sum256(src)
	m.Checksum = hex.EncodeToString(sum[:])
	t, err := template.New(m.Name).Option("missingkey=error").Funcs(ddlFuncs(o, everywhere)).Parse(string(src))
	if err != nil {
		return Migration{}, fmt.Errorf("BUG: parsing %s: %w", m.Name, err)
	}
	var out bytes.Buffer
	data := struct{ DB, PublishedDB string }{o.Database, o.PublishedDatabase}
	if err := t.Execute(&out, data); err != nil {
		return Migration{}, fmt.Errorf("BUG: rendering %s: %w", m.Name, err)
	}
	m.SQL = out.String()
	if o.Cluster != "" {
		m.SQL = alterEverywhere(m.SQL, o.Cluster, everywhere)
	}
	m.Statements = SplitStatements(m.SQL)
	return m, nil
}
