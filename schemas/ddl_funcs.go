package schemas

import (
	"fmt"
	"strings"
	"text/template"
)

// ddlFuncs are the template functions of the DDL files: each renders the
// single-server form, or the cluster form when o.Cluster is set (see
// DDLOptions for what cluster mode creates).
//
//	{{onCluster}}                        "" | " ON CLUSTER `c`"
//	{{local .DB "t"}}                    db.t | db.t_local: the table that holds the data
//	{{sharded .DB "t" "Engine(args)"}}   Engine(args) | ReplicatedEngine('<zk>/{shard}/db/t_local', '{replica}', args)
//	{{everywhere .DB "t" "Engine"}}      Engine | ReplicatedEngine('<zk>/all/db/t', '{replica}')
//	{{distributed .DB "t" "key"}}        "" | CREATE TABLE db.t … ENGINE = Distributed(…, t_local, key);
//	{{in}}                               IN | GLOBAL IN
//
// everywhere records each table it makes replicated to every node in
// tables (db.t), for alterEverywhere.
func ddlFuncs(o DDLOptions, tables map[string]bool) template.FuncMap {
	cluster := o.Cluster != ""
	local := func(db, table string) string {
		if cluster {
			return db + "." + table + "_local"
		}
		return db + "." + table
	}
	return template.FuncMap{
		"onCluster": func() string {
			if cluster {
				return " ON CLUSTER `" + o.Cluster + "`"
			}
			return ""
		},
		"local": local,
		"sharded": func(db, table, engine string) string {
			if !cluster {
				return engine
			}
			return replicated(engine, o.ZooKeeperPath+"/{shard}/"+db+"/"+table+"_local")
		},
		"everywhere": func(db, table, engine string) string {
			if !cluster {
				return engine
			}
			tables[db+"."+table] = true
			return replicated(engine, o.ZooKeeperPath+"/all/"+db+"/"+table)
		},
		"distributed": func(db, table, shardingKey string) string {
			if !cluster {
				return ""
			}
			return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER `%s` AS %s\nENGINE = Distributed('%s', %s, %s_local, %s);",
				db, table, o.Cluster, local(db, table), o.Cluster, db, table, shardingKey)
		},
		"in": func() string {
			if cluster {
				return "GLOBAL IN" // each shard would otherwise query the Distributed table again
			}
			return "IN"
		},
	}
}

// replicated turns "ReplacingMergeTree(v)" into
// "ReplicatedReplacingMergeTree('path', '{replica}', v)".
func replicated(engine, zkPath string) string {
	name, args, _ := strings.Cut(strings.TrimSuffix(engine, ")"), "(")
	out := "Replicated" + name + "('" + zkPath + "', '{replica}'"
	if args != "" {
		out += ", " + args
	}
	return out + ")"
}

// alterEverywhere drops ON CLUSTER from the ALTERs of tables replicated to
// every node. 18.16's DDL worker runs an ON CLUSTER ALTER of a Replicated
// table on one replica per shard; a table replicated to every node is one
// table across the shards, so the second shard's run fails (Code 44,
// column exists) and its worker can stall on the task's "executed" node,
// keeping migrate waiting for distributed_ddl_task_timeout (180 s; seen
// on deploy/dev's 2x2 cluster). An ALTER of a Replicated table reaches
// every replica through ZooKeeper by itself, so one server runs it. The
// DDL files keep {{onCluster}} (their checksums are recorded); the
// rendered statements are what changes.
func alterEverywhere(sql, cluster string, tables map[string]bool) string {
	for t := range tables {
		sql = strings.ReplaceAll(sql, "ALTER TABLE "+t+" ON CLUSTER `"+cluster+"`", "ALTER TABLE "+t)
	}
	return sql
}
