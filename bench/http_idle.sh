#!/usr/bin/env bash
# What workers cost while they wait on HTTP: N asynchronous executions (default
# 500) each waiting on a local endpoint that answers only after 10 minutes;
# once all requests are in flight, prints the transactions per second the
# database commits over SECONDS (default 10), with the same figure for the idle
# database (nothing in flight) as the baseline of the same run.  Needs the dev
# cluster (scripts/cluster.sh start).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
N=${N:-500}
SECONDS_=${SECONDS:-10}
DB=flowent_bench_http_idle
TMP=$(mktemp -d)
fail() { echo "http_idle: $*" >&2; exit 1; }
# shellcheck source=test/lib/fake_http.sh
. test/lib/fake_http.sh
cleanup() {
	stop_fake_http
	allow '' >/dev/null 2>&1 || true
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
start_fake_http
allow 127.0.0.1
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
q "SET client_min_messages = warning; CREATE EXTENSION flowent" >/dev/null
for _ in $(seq 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'")" -ge 1 ] && break
	sleep 0.1
done
commits() { q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB'"; }
rate() {	# transactions per second of the workers over SECONDS_ (this script's own are not counted)
	local a b
	sleep 1.5	# statistics are reported at most once a second
	a=$(commits)
	sleep "$SECONDS_"
	sleep 1.5
	b=$(commits)
	# every commits() is one transaction of ours
	echo $(((b - a - 1) / SECONDS_))
}
idle=$(rate)
wf=$(q "SELECT flowent.create_workflow('idle', '[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}},
	{\"id\": \"h\", \"type\": \"http-request\", \"data\": {\"url\": \"$BASE/slow?ms=600000\", \"timeoutMs\": 3600000}}]',
	'[{\"id\": \"e\", \"source\": \"t\", \"target\": \"h\"}]')")
q "SELECT flowent.execute('$wf') FROM generate_series(1, $N)" >/dev/null
for _ in $(seq 600); do
	[ "$(q "SELECT count(*) FROM flowent.workflow_node_logs WHERE status = 'waiting'")" -ge "$N" ] && break
	sleep 0.1
done
for _ in $(seq 600); do
	[ "$(requests_to /slow)" -ge "$N" ] && break
	sleep 0.1
done
echo "requests in flight: $(requests_to /slow) (of $N), workers: $(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'")"
busy=$(rate)
echo "transactions/s, idle database: $idle"
echo "transactions/s, $N requests in flight, none completing: $busy"
