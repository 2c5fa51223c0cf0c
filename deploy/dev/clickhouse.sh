# shellcheck shell=bash
# ClickHouse for deploy/dev/*: Debian's clickhouse-server package (18.16, the
# version CI has), run as a plain background process with its own generated
# config under $STATE_DIR/clickhouse, never as the system service.

CH_DIR=$STATE_DIR/clickhouse

# The targeter's read-only account (DESIGN.md, privacy invariant 7). 18.16
# restricts a user per database, by exact name (allow_databases in
# users.xml), so the account gets the published database and, on this dev
# server only, the two fixed databases of the integration tests that log in
# as the targeter (deploy/devenv names them): every other test uses a
# database of its own, with a unique name that no exact list could cover.
TARGETER_USER=targeter
TARGETER_DATABASES=("$PUBLISHED_DATABASE" itp_targeter_sinks itp_targeter_cli)
# A password, unlike the default user, so that tests go through the same
# authenticated path as a real deployment: a client that forgot to send it
# would fail here, not in production. The default is public and dev-only;
# users.xml holds its SHA-256, never the password.
TARGETER_PASSWORD=${COHORTLINE_TARGETER_PASSWORD:-targeter-dev-only}
# A writer with a password, full rights like default, for the tests that
# connect over TLS with a password from a file (password_file:), as a
# hardened deployment does. Its password is made once (tls_secret) and
# lives in the state folder only.
WRITER_USER=cohortline
WRITER_PASSWORD_FILE=$CH_DIR/secrets/$WRITER_USER.password

# /usr/sbin is not on every user's PATH.
ch_server_bin() { command -v clickhouse-server || echo /usr/sbin/clickhouse-server; }

# Quick checks, before any slow install, of what the user must fix.
clickhouse_preflight() {
	require_free_port "$CLICKHOUSE_PORT" COHORTLINE_CLICKHOUSE_PORT
	require_free_port "$CLICKHOUSE_HTTP_PORT" COHORTLINE_CLICKHOUSE_HTTP_PORT
	require_free_port "$CLICKHOUSE_TLS_PORT" COHORTLINE_CLICKHOUSE_TLS_PORT
}

clickhouse_prepare() {
	tls_make_certs
	[[ -x $(ch_server_bin) ]] && command -v clickhouse-client >/dev/null && return 0
	((EUID == 0)) || die "clickhouse-server is not installed; install it as root (apt-get install clickhouse-server clickhouse-client) or rerun this as root"
	mkdir -p "$CH_DIR/logs"
	local log=$CH_DIR/logs/apt.log
	say "clickhouse: installing clickhouse-server and clickhouse-client with apt-get (minutes on a fresh machine; log: $log)"
	# The package's postinst starts the system service (port 9000, data in
	# /var/lib/clickhouse) unless policy-rc.d forbids it; we never want that
	# one, so forbid it for the duration of the install when no policy exists.
	local policy=/usr/sbin/policy-rc.d added=""
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\n# Added by cohortline deploy/dev/up during apt-get install; removed after.\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		added=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
	local rc=0
	{ "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		clickhouse-server clickhouse-client; } </dev/null >"$log" 2>&1 || rc=$?
	if [[ -n $added ]]; then
		rm -f "$policy"
		trap - EXIT
	fi
	((rc == 0)) || die_with_logs "installing clickhouse-server with apt-get failed (exit $rc); see $log" "$log"
	# The package also enables the system service for the next boot. We only
	# ever run our own instance, so undo that (and nothing else).
	if [[ -d /run/systemd/system ]]; then
		systemctl disable --now clickhouse-server.service
	else
		update-rc.d clickhouse-server disable
	fi >>"$log" 2>&1 || true
	say "clickhouse: installed $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || echo clickhouse-server)"
}

clickhouse_start() {
	mkdir -p "$CH_DIR"/{data,tmp,user_files,format_schemas,logs}
	clickhouse_write_config
	clickhouse_write_users
	clickhouse_ports >"$CH_DIR/ports"
	say "clickhouse: starting on 127.0.0.1:$CLICKHOUSE_PORT, TLS on $CLICKHOUSE_TLS_PORT (log: $CH_DIR/logs/)"
	launch clickhouse "$CH_DIR/logs/stdout.log" "$(ch_server_bin)" --config-file="$CH_DIR/config.xml"
}

# The config is rewritten on every start so a change of port or of this
# script applies after down + up; data survives.
# Ports: only the native (tcp_port) and HTTP ones. interserver_http_port
# (9009, replication) is left out so it is not opened at all; 18.16 has no
# MySQL, PostgreSQL or Prometheus ports. The secure native port (TLS, with
# tls.sh's server certificate) serves the TLS tests; the HTTPS port stays
# off.
clickhouse_write_config() {
	clickhouse_config_xml clickhouse.sh "$CLICKHOUSE_PORT" "$CLICKHOUSE_HTTP_PORT" 268435456 3 "
    <tcp_port_secure>$CLICKHOUSE_TLS_PORT</tcp_port_secure>
    <openSSL>
        <server>
            <certificateFile>$TLS_SERVER_CERT</certificateFile>
            <privateKeyFile>$TLS_SERVER_KEY</privateKeyFile>
            <!-- Clients are not asked for a certificate: users log in by password. -->
            <verificationMode>none</verificationMode>
            <loadDefaultCAFile>false</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
        </server>
    </openSSL>
    <!-- One local shard, so Distributed tables (cluster mode) can be tried
         without ZooKeeper. Replicated* tables need ZooKeeper: deploy/dev/up
         cluster has them (cluster.sh). -->
    <remote_servers>
        <cohortline_dev>
            <shard>
                <replica>
                    <host>127.0.0.1</host>
                    <port>$CLICKHOUSE_PORT</port>
                </replica>
            </shard>
        </cohortline_dev>
    </remote_servers>

    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>"
}

# clickhouse_config_xml SCRIPT TCP_PORT HTTP_PORT CACHE_BYTES LOG_FILES EXTRA:
# writes $CH_DIR/config.xml, the settings every dev server shares (its
# files under $CH_DIR, loopback only, UTC, small caches, drops allowed)
# and EXTRA, the server's own XML (cluster.sh's nodes add ZooKeeper,
# macros and their cluster). SCRIPT is named as the file to edit.
clickhouse_config_xml() {
	cat >"$CH_DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Generated by deploy/dev/up at each start: edit deploy/dev/$1 instead. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$CH_DIR/logs/clickhouse-server.log</log>
        <errorlog>$CH_DIR/logs/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>$5</count>
    </logger>

    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$2</tcp_port>
    <http_port>$3</http_port>

    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/tmp/</tmp_path>
    <user_files_path>$CH_DIR/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
    <users_config>$CH_DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <!-- Fixed so DateTime results do not depend on the machine. -->
    <timezone>UTC</timezone>

    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <!-- The packaged defaults (5 GiB marks, 8 GiB uncompressed) are for
         dedicated servers; a dev box shares its memory with Kafka and tests. -->
    <mark_cache_size>$4</mark_cache_size>
    <uncompressed_cache_size>$4</uncompressed_cache_size>
    <mlock_executable>false</mlock_executable>

    <!-- Tests drop tables and partitions freely. -->
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
$6
</yandex>
EOF
}

# clickhouse_refresh: what can change while the server runs. The server
# reloads users.xml by itself within seconds (clickhouse_ready waits for
# it), so a running server gets a new account without a restart.
clickhouse_refresh() {
	clickhouse_write_users
	local tls
	read -r _ _ tls <<<"$(recorded_ports clickhouse)"
	[[ -n $tls ]] ||
		say "clickhouse: started by an older checkout, without the TLS native port (its tests skip, or fail in CI); it comes with deploy/dev/down clickhouse and up"
}

# 18.16 has no SQL user management: accounts live in users.xml only. The
# file is replaced only when its content changes, and by a rename, so the
# server never reloads a half-written file. The server notices a change by
# the file's mtime in whole seconds, so a rewrite within the second of the
# previous one would go unseen: wait for the next second first.
clickhouse_write_users() {
	mkdir -p "$CH_DIR"
	local file=$CH_DIR/users.xml tmp=$CH_DIR/users.xml.new old
	clickhouse_users_xml >"$tmp"
	if cmp -s "$tmp" "$file"; then
		rm -f "$tmp"
	else
		old=$(stat -c %Y "$file" 2>/dev/null || echo 0)
		while (($(date +%s) <= old)); do sleep 0.2; done
		mv "$tmp" "$file"
		touch "$file"
	fi
	# The client config the readiness check logs in with, so the password
	# is never on a command line (ps shows those).
	(
		umask 077
		printf '<config>\n    <user>%s</user>\n    <password>%s</password>\n</config>\n' \
			"$TARGETER_USER" "$(xml_escape "$TARGETER_PASSWORD")" >"$CH_DIR/targeter-client.xml"
	)
}

# sed, not ${s//&/&amp;}: bash 5.2 reads & in a replacement as the match.
xml_escape() {
	printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'
}

clickhouse_users_xml() {
	local sha databases="" db writer_sha
	sha=$(printf '%s' "$TARGETER_PASSWORD" | sha256sum)
	sha=${sha%% *}
	writer_sha=$(tls_secret "$WRITER_PASSWORD_FILE" | tr -d '\n' | sha256sum)
	writer_sha=${writer_sha%% *}
	for db in "${TARGETER_DATABASES[@]}"; do
		databases+="
                <database>$db</database>"
	done
	cat <<EOF
<?xml version="1.0"?>
<!-- Generated by deploy/dev/up, also into a running server: edit deploy/dev/clickhouse.sh instead. -->
<yandex>
    <profiles>
        <default>
            <!-- 18.16 has no server-wide memory cap (max_server_memory_usage
                 came later): bound each query and all queries together. -->
            <max_memory_usage>2000000000</max_memory_usage>
            <max_memory_usage_for_all_queries>4000000000</max_memory_usage_for_all_queries>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <!-- The targeter's. readonly=1 allows SELECT only: no INSERT, DDL or
             SET, and no table functions, so remote('127.0.0.1', …) cannot
             reach the internal database as another user. Settings that a
             client sends with a query are ignored, not applied, so the
             profile sets what the targeter's queries need: pushing a WHERE
             into the views (cohort_enrichment_current, _latest), which
             18.16 does only when asked. -->
        <readonly>
            <profile>default</profile>
            <readonly>1</readonly>
            <max_execution_time>60</max_execution_time>
            <enable_optimize_predicate_expression>1</enable_optimize_predicate_expression>
        </readonly>
    </profiles>

    <users>
        <!-- Dev only: no password, reachable from loopback only. -->
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>

        <!-- The TLS tests' writer: as default, with a password (its
             SHA-256 here; the password is in $WRITER_PASSWORD_FILE). -->
        <$WRITER_USER>
            <password_sha256_hex>$writer_sha</password_sha256_hex>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </$WRITER_USER>

        <!-- The ad targeter: read-only, published database only (the system
             database stays readable, as for every 18.16 user, but lists
             only the databases the user may read). Dev password, see
             deploy/dev/clickhouse.sh; loopback only. -->
        <$TARGETER_USER>
            <password_sha256_hex>$sha</password_sha256_hex>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>readonly</profile>
            <quota>default</quota>
            <allow_databases>$databases
            </allow_databases>
        </$TARGETER_USER>
    </users>

    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

clickhouse_answers() {
	local port
	read -r port _ <<<"$(recorded_ports clickhouse)"
	clickhouse-client --host 127.0.0.1 --port "${port:-$CLICKHOUSE_PORT}" --query 'SELECT 1' >/dev/null 2>&1
}

# The targeter's login proves the server has loaded users.xml as this
# script wrote it, which after a refresh takes it a few seconds.
clickhouse_targeter_answers() {
	local port
	read -r port _ <<<"$(recorded_ports clickhouse)"
	clickhouse-client --config-file "$CH_DIR/targeter-client.xml" \
		--host 127.0.0.1 --port "${port:-$CLICKHOUSE_PORT}" --query 'SELECT 1' >/dev/null 2>&1
}

clickhouse_ready() {
	local rc=0
	wait_ready clickhouse 60 clickhouse_answers || rc=$?
	if ((rc == 0)); then
		wait_ready clickhouse 20 clickhouse_targeter_answers && return 0
		die_with_logs "clickhouse: the $TARGETER_USER account cannot log in 20s after users.xml was written; see $CH_DIR/users.xml" \
			"$CH_DIR/logs/clickhouse-server.err.log"
	fi
	local why="did not answer within 60s"
	((rc == 2)) && why="exited"
	stop_service clickhouse >/dev/null 2>&1 || true
	die_with_logs "clickhouse-server $why; logs in $CH_DIR/logs/" \
		"$CH_DIR/logs/clickhouse-server.err.log" "$CH_DIR/logs/stdout.log"
}

clickhouse_stop_timeout() { echo 30; }

# The ports asked for now, in the order of $CH_DIR/ports.
clickhouse_ports() { echo "$CLICKHOUSE_PORT $CLICKHOUSE_HTTP_PORT $CLICKHOUSE_TLS_PORT"; }

clickhouse_describe() {
	local port http tls
	read -r port http tls <<<"$(recorded_ports clickhouse)"
	echo "native 127.0.0.1:${port:-?}, http 127.0.0.1:${http:-?}, native TLS 127.0.0.1:${tls:-none}, logs $CH_DIR/logs/"
}

# A server started before the TLS port existed exports none of it: down +
# up adds it.
clickhouse_export() {
	local port tls
	read -r port _ tls <<<"$(recorded_ports clickhouse)"
	echo "export COHORTLINE_CLICKHOUSE=127.0.0.1:${port:-$CLICKHOUSE_PORT}"
	[[ -n $tls ]] || return 0
	echo "export COHORTLINE_CLICKHOUSE_TLS=127.0.0.1:$tls"
	echo "export COHORTLINE_CLICKHOUSE_TLS_USER=$WRITER_USER"
	echo "export COHORTLINE_CLICKHOUSE_TLS_PASSWORD_FILE=$WRITER_PASSWORD_FILE"
	tls_export CLICKHOUSE
}

clickhouse_purge() {
	rm -rf "$CH_DIR"
}
