#!/usr/bin/env python3
"""Runs SQL statements in one chDB session, for cohortline's tests.

    python driver.py SESSION_DIR

chDB (pip package chdb-core) is ClickHouse as a library: the same SQL
engine as a current server, in this process, with its data in SESSION_DIR.
The Go side (deploy/devenv ChDB) writes one JSON object per line on stdin
and reads one answer per line on stdout, in order:

    {"sql": "SELECT 1", "format": "JSONCompact"}
    {"ok": true, "data": "<the result in that format>", "ms": 0.4}
    {"ok": false, "error": "Code: 62. DB::Exception: Syntax error: ...", "ms": 0.1}

The first line written, before any request is read, is
{"version": "<ClickHouse version>"}. Settings (SET ...) last for the
session. The session's time zone is the process's: the Go side runs this
with TZ=UTC, as the dev server runs.
"""
import json
import sys
import time

from chdb import session


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: driver.py SESSION_DIR")
    sess = session.Session(sys.argv[1])
    out = sys.stdout
    version = sess.query("SELECT version()", "TSV").bytes().decode().strip()
    out.write(json.dumps({"version": version}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        start = time.monotonic()
        try:
            res = sess.query(req["sql"], req.get("format") or "TSV")
            ans = {"ok": True, "data": res.bytes().decode()}
        except Exception as e:  # chdb raises ChdbError, a RuntimeError, with ClickHouse's message
            ans = {"ok": False, "error": str(e)}
        ans["ms"] = round((time.monotonic() - start) * 1000, 3)
        out.write(json.dumps(ans) + "\n")
        out.flush()
    sess.close()


if __name__ == "__main__":
    main()
