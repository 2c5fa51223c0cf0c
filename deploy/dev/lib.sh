# shellcheck shell=bash
# Shared by deploy/dev/up, down and status; sourced, never run. Holds the
# settings and the process helpers. The steps of each service live in
# clickhouse.sh and kafka.sh beside this file, behind the same few function
# names: <service>_preflight, _prepare, _start, _refresh, _ready,
# _stop_timeout, _ports, _describe, _export, _purge.

PROG="deploy/dev/${0##*/}"
DEV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$DEV_DIR/../.." && pwd)

# Everything the services write (data, logs, pid files, downloaded jars) stays
# in one folder, so a checkout is self-contained and nothing lands in $HOME,
# /var/lib or /var/log.
STATE_DIR=${COHORTLINE_STATE_DIR:-$REPO_DIR/.state}
case $STATE_DIR in /*) ;; *) STATE_DIR=$PWD/$STATE_DIR ;; esac

CLICKHOUSE_PORT=${COHORTLINE_CLICKHOUSE_PORT:-19000}
CLICKHOUSE_HTTP_PORT=${COHORTLINE_CLICKHOUSE_HTTP_PORT:-18123}
KAFKA_PORT=${COHORTLINE_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${COHORTLINE_KAFKA_CONTROLLER_PORT:-19093}
# The dev broker's secured listeners (tls.sh makes their certificates):
# SASL_SSL with SCRAM users, and SSL that requires a client certificate.
KAFKA_SASL_SSL_PORT=${COHORTLINE_KAFKA_SASL_SSL_PORT:-19094}
KAFKA_MTLS_PORT=${COHORTLINE_KAFKA_MTLS_PORT:-19095}
# ClickHouse's secure native port (TLS), beside the plain one.
CLICKHOUSE_TLS_PORT=${COHORTLINE_CLICKHOUSE_TLS_PORT:-19440}
# The published database that ClickHouse's targeter account may read: the
# --published-database (published_database) that cohortline migrates.
PUBLISHED_DATABASE=${COHORTLINE_PUBLISHED_DATABASE:-cohortline_published}

# Start order; down stops in the reverse order. Without names, up, down
# and status act on these.
ALL_SERVICES=(clickhouse kafka)
# The cluster topology (cluster.sh), started only when named, or all
# three as "cluster".
CLUSTER_SERVICES=(zookeeper chcluster kafkacluster)
# Tools are installed by up when named, never run: chDB (chdb.sh).
ALL_TOOLS=(chdb)
is_tool() { [[ " ${ALL_TOOLS[*]} " == *" $1 "* ]]; }

# Progress and errors go to stderr: stdout of `up` is reserved for the export
# lines that callers eval.
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "$*"; exit 1; }

# die_with_logs MESSAGE LOG...: the one-line error, then the tail of each log
# that has something in it, so a CI failure shows its cause without a rerun.
die_with_logs() {
	local msg=$1 f
	shift
	say "$msg"
	for f in "$@"; do
		[[ -s $f ]] || continue
		printf -- '--- last 20 lines of %s\n' "$f" >&2
		tail -n 20 "$f" >&2
	done
	exit 1
}

check_settings() {
	local var port
	for var in COHORTLINE_CLICKHOUSE_PORT COHORTLINE_CLICKHOUSE_HTTP_PORT \
		COHORTLINE_KAFKA_PORT COHORTLINE_KAFKA_CONTROLLER_PORT COHORTLINE_ZOOKEEPER_PORT \
		COHORTLINE_KAFKA_SASL_SSL_PORT COHORTLINE_KAFKA_MTLS_PORT COHORTLINE_CLICKHOUSE_TLS_PORT \
		COHORTLINE_CHCLUSTER_BASE_PORT COHORTLINE_KAFKACLUSTER_BASE_PORT; do
		port=${!var:-}
		[[ -z $port ]] && continue
		if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
			die "$var=$port is not a TCP port number (1-65535)"
		fi
	done
	# It goes into users.xml: a plain identifier, as cohortline requires.
	[[ $PUBLISHED_DATABASE =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
		die "COHORTLINE_PUBLISHED_DATABASE=$PUBLISHED_DATABASE is not a database name (letters, digits and _, not starting with a digit)"
	local -A seen=()
	for port in "$CLICKHOUSE_PORT" "$CLICKHOUSE_HTTP_PORT" "$CLICKHOUSE_TLS_PORT" \
		"$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_MTLS_PORT"; do
		[[ -z ${seen[$port]:-} ]] || die "port $port is configured twice; give each COHORTLINE_*_PORT its own port"
		seen[$port]=1
	done
}

# parse_services ARG...: sets SERVICES to the named services (all when none)
# and OPTIONS to the arguments that start with a dash.
parse_services() {
	SERVICES=() OPTIONS=()
	local arg
	for arg in "$@"; do
		case $arg in
		-*) OPTIONS+=("$arg") ;;
		clickhouse | kafka | chdb | zookeeper | chcluster | kafkacluster) SERVICES+=("$arg") ;;
		cluster) SERVICES+=("${CLUSTER_SERVICES[@]}") ;;
		*) die "unknown service '$arg' (known: ${ALL_SERVICES[*]} ${ALL_TOOLS[*]} ${CLUSTER_SERVICES[*]}, and cluster for all three)" ;;
		esac
	done
	((${#SERVICES[@]})) || SERVICES=("${ALL_SERVICES[@]}")
}

# take_lock: serialises up and down, so two callers (say, parallel CI steps)
# never start two servers on the same data folder. The lock is released when
# the script exits; servers are started with fd 9 closed so they don't hold it.
take_lock() {
	mkdir -p "$STATE_DIR"
	exec 9>"$STATE_DIR/.lock"
	flock 9
}

# alive PID: true while the process exists and is not a zombie (a zombie still
# answers kill -0 when nothing reaps it, e.g. in a container).
alive() {
	local stat
	# read, not $(<file): under set -e a failing $(<file) ends the script.
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# pid_of SERVICE: prints the pid of the running SERVICE. The pid file only
# counts while that process lives and its command line names our state folder:
# a stale file, or a pid reused by another program, reads as "not running".
pid_of() {
	local pidfile=$STATE_DIR/$1/server.pid pid
	[[ -r $pidfile ]] || return 1
	read -r pid <"$pidfile" || return 1
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STATE_DIR/$1/" || return 1
	printf '%s\n' "$pid"
}

# launch SERVICE LOG CMD...: runs CMD as a plain background process in its own
# session: it outlives this script, a Ctrl-C in the caller's terminal does not
# reach it, and with stdin/stdout/stderr and the lock fd redirected it does not
# keep `eval "$(deploy/dev/up)"` waiting. The wrapper writes its own pid and
# then execs CMD, so the pid file holds the server's pid even if setsid forks.
launch() {
	local svc=$1 log=$2
	shift 2
	local pidfile=$STATE_DIR/$svc/server.pid
	rm -f "$pidfile"
	# shellcheck disable=SC2016 # $$ and $0 are for the inner shell
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 9>&- &
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s $pidfile ]] && return 0
		sleep 0.1
	done
	die_with_logs "$svc did not start (no pid in $pidfile); see $log" "$log"
}

# wait_gone PID SECONDS: true once PID has exited, false on timeout.
wait_gone() {
	local deadline=$((SECONDS + $2))
	while alive "$1"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# service_pid SERVICE: the pid (or, for a cluster service, the pids of all
# its nodes) of the running SERVICE; fails when it (any node) is down.
service_pid() {
	if declare -F "${1}_pid" >/dev/null; then "${1}_pid"; else pid_of "$1"; fi
}

# service_stop SERVICE: stops every process of SERVICE.
service_stop() {
	if declare -F "${1}_stop" >/dev/null; then "${1}_stop"; else stop_service "$1"; fi
}

# stop_service SERVICE: SIGTERM, then SIGKILL if it outlives its timeout.
# SERVICE may be one node of a cluster service: chcluster/s1r1.
stop_service() {
	local svc=$1 pid timeout
	timeout=$("${svc%%/*}_stop_timeout")
	if ! pid=$(pid_of "$svc"); then
		rm -f "$STATE_DIR/$svc/server.pid"
		say "$svc: not running"
		return 0
	fi
	say "$svc: stopping (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" "$timeout"; then
		say "$svc: still running ${timeout}s after SIGTERM; sending SIGKILL to pid $pid"
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 10 || die "$svc: pid $pid is still there after SIGKILL"
	fi
	rm -f "$STATE_DIR/$svc/server.pid"
	say "$svc: stopped"
}

# wait_ready SERVICE SECONDS CHECK...: polls CHECK until it succeeds. Returns 1
# on timeout and 2 as soon as the server process has died.
wait_ready() {
	local svc=$1 deadline=$((SECONDS + $2))
	shift 2
	until "$@"; do
		service_pid "$svc" >/dev/null || return 2
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# port_open PORT: true when something accepts connections on 127.0.0.1:PORT.
# Uses bash's /dev/tcp, so it needs neither ss nor nc.
port_open() {
	# shellcheck disable=SC2016 # $0 is for the inner shell
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

# require_free_port PORT VAR: fails, naming the setting to change, when
# another program already listens on PORT.
require_free_port() {
	port_open "$1" || return 0
	local who=""
	if command -v ss >/dev/null; then
		who=$(ss -Hltnp "sport = :$1" 2>/dev/null |
			sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/ by \1 (pid \2)/p' | head -n 1)
	fi
	die "port $1 on 127.0.0.1 is already in use$who; stop that program or set $2 to a free port"
}

# recorded_ports SERVICE: the ports the running SERVICE was started with (a
# later change of COHORTLINE_*_PORT only applies after down + up).
recorded_ports() {
	cat "$STATE_DIR/$1/ports" 2>/dev/null || true
}
