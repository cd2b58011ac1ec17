#!/usr/bin/env bash
# HTTP concurrency of the background workers: N executions each calling a
# local endpoint that answers after DELAY_MS, with the cluster's workers
# (flowent.workers, default 2).  Prints the wall time from queueing to the
# last execution finished.  Needs the dev cluster (scripts/cluster.sh start).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
N=${N:-1000}
DELAY_MS=${DELAY_MS:-1000}
DB=flowent_bench_http
tmp=$(mktemp -d)
cleanup() {
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null || true
	psql -X -q -d postgres -c "ALTER SYSTEM RESET flowent.http_allow_hosts" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
python3 test/fake/slow_server.py --port-file "$tmp/port" --delay-ms "$DELAY_MS" &
srv=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
psql -X -q -d postgres -c "ALTER SYSTEM SET flowent.http_allow_hosts = '127.0.0.1'" -c "SELECT pg_reload_conf()" >/dev/null
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION flowent"
# wait for this database's workers
for _ in $(seq 100); do
	w=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'")
	[ "$w" -ge 1 ] && break; sleep 0.1
done
echo "workers serving $DB: $w; flowent.max_inflight_http = $(psql -X -At -d "$DB" -c 'SHOW flowent.max_inflight_http')"
wf=$(psql -X -At -d "$DB" -v ON_ERROR_STOP=1 -c "SELECT flowent.create_workflow('slow call',
 '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
   {\"id\":\"h\",\"type\":\"http-request\",\"data\":{\"url\":\"http://127.0.0.1:$port/slow\",\"timeoutMs\":60000}},
   {\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{h.body.ok}}\"}}]',
 '[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"h\"},{\"id\":\"e2\",\"source\":\"h\",\"target\":\"o\"}]')")
start=$(date +%s.%N)
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -c "SELECT count(flowent.execute('$wf', jsonb_build_object('i', i))) FROM generate_series(1, $N) i" >/dev/null
while :; do
	left=$(psql -X -At -d "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE status NOT IN ('success', 'error', 'cancelled')")
	[ "$left" -eq 0 ] && break
	sleep 0.05
done
end=$(date +%s.%N)
ok=$(psql -X -At -d "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE status = 'success' AND output = 'true'")
db_wall=$(psql -X -At -d "$DB" -c "SELECT round(extract(epoch FROM max(completed_at) - min(started_at))::numeric, 3) FROM flowent.workflow_executions")
echo "$N executions x 1 HTTP call answering after ${DELAY_MS} ms: $ok succeeded"
awk -v s="$start" -v e="$end" 'BEGIN {printf "wall time, queueing to last finished (client clock): %.2f s\n", e - s}'
echo "wall time, first started_at to last completed_at (server clock): ${db_wall} s"
[ "$ok" -eq "$N" ] || { echo "not every execution succeeded"; exit 1; }
