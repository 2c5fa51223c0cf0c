# shellcheck shell=bash
# chDB for deploy/dev/*: ClickHouse as a Python library (pip package
# chdb-core, a current ClickHouse release, in-process), installed into a
# virtual environment under $STATE_DIR/chdb. Not a server: nothing runs,
# nothing listens. The compatibility test (sinks/clickhouse TestChDB) runs
# every statement cohortline sends through it, by deploy/chdb/driver.py.
# A tool, not a service: up installs it, status says whether it is
# installed, down has nothing to stop.

CHDB_DIR=$STATE_DIR/chdb
CHDB_REQUIREMENTS=$(cd "$DEV_DIR/../chdb" && pwd)/requirements.txt
# The interpreter that makes the environment; the environment's own
# python is what tests run (COHORTLINE_CHDB).
CHDB_PYTHON=${COHORTLINE_PYTHON:-python3}

chdb_preflight() {
	command -v "$CHDB_PYTHON" >/dev/null && return 0
	((EUID == 0)) || die "$CHDB_PYTHON not found: chDB needs Python 3.9 or newer (Debian: apt-get install python3 python3-venv)"
}

# chdb_prepare: makes the environment once. The stamp holds the checksum
# of requirements.txt, so editing it (a new chDB) installs again; the
# stamp is written last, so an interrupted install never looks complete
# (and a virtual environment cannot be moved into place afterwards: its
# scripts name their own path).
chdb_prepare() {
	local stamp log=$STATE_DIR/chdb-install.log
	stamp=$(sha256sum "$CHDB_REQUIREMENTS" | cut -d' ' -f1)
	[[ -f $CHDB_DIR/.requirements-sha256 && $(<"$CHDB_DIR/.requirements-sha256") == "$stamp" ]] && return 0
	chdb_need_venv "$log"
	rm -rf "$CHDB_DIR"
	say "chdb: installing chdb-core from PyPI into $CHDB_DIR (once; log: $log)"
	local pip=("$CHDB_DIR/bin/pip" install --disable-pip-version-check --no-input -r "$CHDB_REQUIREMENTS")
	{ "$CHDB_PYTHON" -m venv "$CHDB_DIR" && "${pip[@]}"; } </dev/null >"$log" 2>&1 ||
		die_with_logs "installing chDB failed: $CHDB_PYTHON -m venv $CHDB_DIR && ${pip[*]} (log: $log)" "$log"
	echo "$stamp" >"$CHDB_DIR/.requirements-sha256"
}

# chdb_need_venv LOG: Debian splits venv and ensurepip out of python3;
# as root, install them (and python3 itself) when missing.
chdb_need_venv() {
	command -v "$CHDB_PYTHON" >/dev/null && "$CHDB_PYTHON" -c 'import ensurepip, venv' 2>/dev/null && return 0
	((EUID == 0)) || die "$CHDB_PYTHON cannot make a virtual environment; install python3-venv (apt-get install python3-venv) or rerun this as root"
	mkdir -p "$STATE_DIR"
	say "chdb: installing python3 and python3-venv with apt-get (log: $1)"
	{ apt-get -q -o DPkg::Lock::Timeout=300 update &&
		DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends python3 python3-venv; } </dev/null >"$1" 2>&1 ||
		die_with_logs "installing python3-venv with apt-get failed; see $1" "$1"
	CHDB_PYTHON=/usr/bin/python3
}

chdb_start() { :; }
chdb_refresh() { :; }

# chdb_ready: the environment imports chDB and runs a query.
chdb_ready() {
	local out
	out=$("$CHDB_DIR/bin/python" -c 'import chdb; print(chdb.query("SELECT version()", "TSV").bytes().decode().strip())' 2>&1) ||
		die "chdb: $CHDB_DIR/bin/python cannot run chDB: ${out##*$'\n'} (remove $CHDB_DIR and run up again)"
	CHDB_VERSION=$out
}

chdb_installed() { [[ -x $CHDB_DIR/bin/python && -f $CHDB_DIR/.requirements-sha256 ]]; }
chdb_describe() {
	[[ -n ${CHDB_VERSION:-} ]] || chdb_ready 2>/dev/null || true
	echo "ClickHouse ${CHDB_VERSION:-?} in $CHDB_DIR (chdb-core, in-process: no port)"
}
chdb_export() { echo "export COHORTLINE_CHDB=$CHDB_DIR/bin/python"; }
chdb_stop_timeout() { echo 0; }
chdb_ports() { :; }
# The environment is a download, like Kafka's jars: --purge keeps it.
chdb_purge() { :; }
