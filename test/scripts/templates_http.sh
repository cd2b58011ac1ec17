#!/usr/bin/env bash
# The shipped templates that call out over HTTP (sql/parts/10_templates.sql), end to end:
# cloned by an ordinary user and run against a small local server on 127.0.0.1 —
# "Endpoint health check" (up, down with an alert on NOTIFY, unreachable through its error
# branch) and "Research source collector" (three sources, one failing; synchronously with
# flowent.run and asynchronously with flowent.execute, where the worker drives the calls).
# The other templates run in test/pgtap/templates_analytics.sql.
#
# Needs the cluster of scripts/cluster.sh (its env is read when PGHOST is not set), which
# preloads flowent. flowent.http_allow_hosts is a SIGHUP setting: it is set with ALTER SYSTEM
# and reset on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ -z "${PGHOST:-}" ]; then
	eval "$(bash scripts/cluster.sh env)"
fi
export PGHOST PGPORT PGUSER

DB=flowent_templates_http
ROLE=tpl_http_alice
TMP=$(mktemp -d)
SERVER_PID=""
PASS=0

fail() { echo "templates_http: FAIL: $*" >&2; exit 1; }
cleanup() {
	[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
	psql -X -q -d postgres -c "ALTER SYSTEM RESET flowent.http_allow_hosts" -c "SELECT pg_reload_conf()" \
		>/dev/null 2>&1 || true
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

# eq NAME GOT EXPECTED
eq() {
	if [ "$2" != "$3" ]; then
		printf 'templates_http: FAIL: %s\n  got:      %s\n  expected: %s\n' "$1" "$2" "$3" >&2
		exit 1
	fi
	PASS=$((PASS + 1))
	echo "ok $PASS - $1"
}

# q SQL...: as the user $ROLE (not a superuser) in $DB
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SET SESSION AUTHORIZATION $ROLE" "$@"; }

# allow HOSTS (flowent.http_allow_hosts for the cluster, waiting until sessions see it)
# shellcheck source=test/lib/fake_http.sh
. test/lib/fake_http.sh

# ---- the server: /<source>/search?q=&limit= answers {results: [...]}, /fail 500,
# /health/<code> that status; every request is appended to requests.log
cat >"$TMP/server.py" <<'PY'
import json, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, fmt, *args):
        pass
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        args = urllib.parse.parse_qs(url.query)
        with open(sys.argv[2], "a") as log:
            log.write(self.path + "\n")
        parts = url.path.strip("/").split("/")
        status, body = 404, {"error": "not found"}
        if len(parts) == 2 and parts[1] == "search":
            topic, limit = args.get("q", [""])[0], int(args.get("limit", ["10"])[0])
            status, body = 200, {"results": [{"title": "%s %d from %s" % (topic, i, parts[0]),
                                              "url": "https://%s.example/%d" % (parts[0], i)} for i in range(1, limit + 1)]}
        elif parts == ["fail"]:
            status, body = 500, {"error": "boom"}
        elif len(parts) == 2 and parts[0] == "health":
            status, body = int(parts[1]), {"status": int(parts[1])}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
python3 "$TMP/server.py" "$TMP/port" "$TMP/requests.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
[ -s "$TMP/port" ] || fail "the local server did not start"
BASE="http://127.0.0.1:$(cat "$TMP/port")"
# a port nothing listens on: bound and closed again
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION flowent;
DROP ROLE IF EXISTS $ROLE;
CREATE ROLE $ROLE LOGIN;
SQL
allow 127.0.0.1

# ---- clones of the two templates, made by the user
health=$(q -c "SELECT flowent.clone_template(id) FROM flowent.workflows WHERE is_template AND name = 'Endpoint health check'")
research=$(q -c "SELECT flowent.clone_template(id) FROM flowent.workflows WHERE is_template AND name = 'Research source collector'")
eq "the user's clones are private drafts of their own" \
	"$(q -c "SELECT string_agg(user_id || '/' || visibility || '/' || status || '/' || is_template, ',')
		FROM flowent.workflows WHERE id IN ('$health', '$research')")" \
	"$ROLE/private/draft/false,$ROLE/private/draft/false"

# ---- Endpoint health check
run_health() {
	q -c "SELECT r->>'status', r->'output'->>'health', coalesce(r->'output'->>'status', 'null')
		FROM flowent.run('$health', jsonb_build_object('url', '$1')) r" | tr '|' ' '
}
eq "health check: a 200 is up" "$(run_health "$BASE/health/200")" "success up 200"
eq "health check: a 503 is down" "$(run_health "$BASE/health/503")" "success down 503"
eq "health check: no server is unreachable (the probe's error branch)" \
	"$(run_health "http://127.0.0.1:$CLOSED/health")" "success unreachable null"
eq "health check: the unreachable probe was tried twice (retry maxAttempts 2)" \
	"$(q -c "SELECT l.attempts FROM flowent.workflow_node_logs l JOIN flowent.workflow_executions e ON e.id = l.execution_id
		WHERE e.workflow_id = '$health' AND l.node_id = 'probe' AND l.status = 'error'")" "2"
alerts=$(psql -X -q -At -d "$DB" -c "SET SESSION AUTHORIZATION $ROLE" -c "LISTEN health_alerts" \
	-c "SELECT flowent.run('$health', jsonb_build_object('url', '$BASE/health/500')) ->> 'status'" -c "SELECT 1")
eq "health check: a down endpoint raises an alert on NOTIFY health_alerts" \
	"$(sed -n 's/^Asynchronous notification "health_alerts" with payload "\(.*\)" received from .*/\1/p' <<<"$alerts")" \
	"{\"url\":\"$BASE/health/500\",\"health\":\"down\",\"status\":500}"

# ---- Research source collector
payload="{\"topic\": \"postgres\", \"maxResults\": 2, \"sources\": [
	{\"name\": \"alpha\", \"url\": \"$BASE/alpha/search\"},
	{\"name\": \"broken\", \"url\": \"$BASE/fail\"},
	{\"name\": \"beta\", \"url\": \"$BASE/beta/search\"}]}"
findings() {
	q -c "SELECT o->>'topic', o->'findings'->>'sources', o->'findings'->>'failed',
			(SELECT string_agg(r->>'source' || ':' || (r->>'title'), ',') FROM jsonb_array_elements(o->'findings'->'results') r)
		FROM (SELECT $1 AS o) x" | tr '|' ' '
}
expected='postgres 3 ["broken"] alpha:postgres 1 from alpha,alpha:postgres 2 from alpha,beta:postgres 1 from beta,beta:postgres 2 from beta'
: >"$TMP/requests.log"
sync=$(q -c "SELECT flowent.run('$research', '$payload') ->> 'status'")
eq "research collector (sync): the run succeeds although one source fails" "$sync" "success"
eq "research collector (sync): results of the sources that answered, the failing one named" \
	"$(findings "(SELECT e.output FROM flowent.workflow_executions e WHERE e.workflow_id = '$research' ORDER BY e.started_at DESC LIMIT 1)")" \
	"$expected"
eq "research collector: each source was asked for the topic and maxResults" \
	"$(sort "$TMP/requests.log" | tr '\n' ' ')" "/alpha/search?q=postgres&limit=2 /beta/search?q=postgres&limit=2 /fail?q=postgres&limit=2 "

exec_id=$(q -c "SELECT flowent.execute('$research', '$payload')")
status=""
for _ in $(seq 1 200); do
	status=$(q -c "SELECT status FROM flowent.workflow_executions WHERE id = '$exec_id'")
	case "$status" in success | error | cancelled) break ;; esac
	sleep 0.1
done
[ "$status" != pending ] ||
	fail "the execution is still pending after 20 s: does a worker serve $DB? (the server log says when max_worker_processes is short)"
eq "research collector (async, the worker's HTTP calls): the execution succeeds" "$status" "success"
eq "research collector (async): the same findings" \
	"$(findings "(SELECT e.output FROM flowent.workflow_executions e WHERE e.id = '$exec_id')")" "$expected"

echo "templates_http: all $PASS checks passed"
