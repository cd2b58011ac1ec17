#!/usr/bin/env bash
# Concurrent synchronous runs and their events: flowent.run of the peers' flow
# (../shared/peers/README.md: trigger -> transform -> condition -> set ->
# output) against the same flow as plain SQL with one INSERT (the peers'
# reference-sql.sh "sql-dag+insert") and with one INSERT and one pg_notify,
# at CONCS clients (default 1 10 50), pgbench -M prepared, DURATION s each,
# in this one run (CLIENT=node: also through the peers' Node client); then
# commit -> notification latency at 10 clients, and what the active backends
# wait on at 50 clients, and what the commit flush costs at 10 clients (WAL
# bytes per run, fdatasyncs, runs per sync).  Needs the dev cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
DURATION=${DURATION:-10}
CONCS=${CONCS:-1 10 50}
DB=flowent_bench_events
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
q -c "CREATE EXTENSION flowent" -c "CREATE TABLE dag_runs (id bigserial PRIMARY KEY, doc jsonb NOT NULL)"
cc -O2 -o "$TMP/listen" test/tools/listen.c -I"$(pg_config --includedir)" -lpq

wf=$(q -f bench/peers_flow.sql)
ID="CAST(:id AS int)"
DAG="jsonb_build_object('id', $ID, 'value', $ID % 100, 'doubled', ($ID % 100) * 2,
     'tier', CASE WHEN ($ID % 100) * 2 >= 100 THEN 'high' ELSE 'low' END)"
printf '%s\n' '\set id random(1, 1000000)' \
	"INSERT INTO dag_runs (doc) SELECT $DAG || '{\"workflow\":\"bench\",\"status\":\"done\",\"node\":\"output\"}' RETURNING doc;" >"$TMP/sql.sql"
printf '%s\n' '\set id random(1, 1000000)' \
	"WITH r AS (INSERT INTO dag_runs (doc) SELECT $DAG || '{\"workflow\":\"bench\",\"status\":\"done\",\"node\":\"output\"}' RETURNING id, doc)
	 SELECT pg_notify('bench', json_build_object('id', id)::text), doc FROM r;" >"$TMP/notify.sql"
printf '%s\n' '\set id random(1, 1000000)' \
	"SELECT flowent.run('$wf', jsonb_build_object('id', $ID, 'value', $ID % 100));" >"$TMP/flowent.sql"

tps() {	# tps FILE CLIENTS
	pgbench -n -M prepared -c "$2" -j "$(($2 < 2 ? 1 : 2))" -T "$DURATION" -f "$1" "$DB" 2>/dev/null |
		awk '/^tps/ {printf "%d", $3}'
}
echo "synchronous_commit = $(q -c 'SHOW synchronous_commit'), $(nproc) cores, ${DURATION}s per measurement"
printf '%-8s %14s %14s %14s %10s %10s\n' clients sql+insert +pg_notify flowent.run "fl/sql" "fl/notify"
for c in $CONCS; do
	s=$(tps "$TMP/sql.sql" "$c")
	n=$(tps "$TMP/notify.sql" "$c")
	f=$(tps "$TMP/flowent.sql" "$c")
	printf '%-8s %14s %14s %14s %10s %10s\n' "c=$c" "$s/s" "$n/s" "$f/s" \
		"$(awk -v f="$f" -v s="$s" 'BEGIN {printf "%.2f", f / s}')" "$(awk -v f="$f" -v n="$n" 'BEGIN {printf "%.2f", f / n}')"
done

# The same through the peers' own client (Node pg, ../shared/peers/sqlload.cjs),
# as ../shared/peers/reference-sql.sh and the issue's figures measure it.
if [ "${CLIENT:-}" = node ]; then
	PEERS=${PEERS:-/tmp/peers}
	if [ ! -d "$PEERS/sqlload/node_modules/pg" ]; then
		mkdir -p "$PEERS/sqlload"
		(cd "$PEERS/sqlload" && echo '{"private": true}' >package.json &&
			npm install --no-audit --no-fund --loglevel=error pg@8.23.1 >&2)
	fi
	NDAG="jsonb_build_object('id', \$1::int, 'value', \$2::int, 'doubled', \$2::int * 2,
	     'tier', CASE WHEN \$2::int * 2 >= 100 THEN 'high' ELSE 'low' END)"
	echo "== the peers' client (Node pg 8.23.1, TCP 127.0.0.1), ${DURATION}s per step"
	for step in "sql-dag+insert|INSERT INTO dag_runs (doc) SELECT $NDAG || '{\"workflow\":\"bench\",\"status\":\"done\",\"node\":\"output\"}' RETURNING doc" \
		"flowent.run|SELECT flowent.run('$wf', jsonb_build_object('id', \$1::int, 'value', \$2::int))"; do
		PGHOST=127.0.0.1 PGDATABASE=$DB NODE_PATH="$PEERS/sqlload/node_modules" DUR=$DURATION \
			CONCS=$(echo "$CONCS" | tr ' ' ,) LABEL=${step%%|*} SQL=${step#*|} node ../shared/peers/sqlload.cjs
	done
fi

# latency: the listener's receive time minus the event's ts (set while the
# run builds it, before its commit): an upper bound of commit -> notification.
# Baseline of the same run: the plain-SQL transaction with its own pg_notify
# of a payload stamped the same way (clock_timestamp() before its commit; no
# colons in the SQL: pgbench would take ":x" for a variable).
printf '%s\n' '\set id random(1, 1000000)' \
	"WITH r AS (INSERT INTO dag_runs (doc) SELECT $DAG || '{\"workflow\":\"bench\",\"status\":\"done\",\"node\":\"output\"}' RETURNING id, doc)
	 SELECT pg_notify('bench', json_build_object('event', 'baseline', 'id', id,
	   'ts', clock_timestamp() AT TIME ZONE 'UTC')::text), doc FROM r;" >"$TMP/notify_ts.sql"
latency() {	# latency CHANNEL SCRIPT: p50/p99 of ts -> receive at 10 clients
	PGDATABASE=$DB "$TMP/listen" "$1" 2000 $((DURATION * 1000 + 30000)) >"$TMP/lat.out" 2>"$TMP/lat.err" &
	local listener=$!
	for _ in $(seq 1 100); do grep -q listening "$TMP/lat.err" 2>/dev/null && break; sleep 0.05; done
	pgbench -n -M prepared -c 10 -j 2 -T "$DURATION" -f "$2" "$DB" >/dev/null 2>&1
	wait "$listener"
	python3 - "$TMP/lat.out" <<'PY'
import json, sys, datetime
lat, payloads, events = [], 0, 0
for line in open(sys.argv[1]):
    t, payload = line.rstrip('\n').split(' ', 1)
    payloads += 1
    p = json.loads(payload)
    for e in (p if isinstance(p, list) else [p]):
        events += 1
        if e.get('event') in ('workflow:complete', 'baseline'):
            ts = datetime.datetime.fromisoformat(e['ts'].replace('Z', '')).replace(tzinfo=datetime.timezone.utc)
            lat.append(int(t) / 1000.0 - ts.timestamp() * 1000.0)
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f'{len(lat)} runs, {events} events in {payloads} payloads ({events / max(payloads, 1):.1f} per payload); '
      f'latency p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, max {lat[-1]:.2f} ms')
PY
}
echo "== event -> notification latency, 10 clients, ${DURATION}s (workflow:complete events)"
printf 'flowent.run, events process:   '
latency flowent "$TMP/flowent.sql"
printf 'plain SQL + its own pg_notify: '
latency bench "$TMP/notify_ts.sql"

echo "== what active backends wait on, flowent.run at 50 clients (20 samples)"
pgbench -n -M prepared -c 50 -j 2 -T 6 -f "$TMP/flowent.sql" "$DB" >/dev/null 2>&1 &
bench=$!
sleep 2
for _ in $(seq 1 20); do
	q -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'running') FROM pg_stat_activity
		WHERE datname = '$DB' AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
	sleep 0.1
done | sort | uniq -c | sort -rn | head -8
wait "$bench" || true

# The commit flush: WAL bytes per run and what one fdatasync of them costs,
# at 10 clients (pg_stat_wal; track_wal_io_timing on in the clients' backends,
# so the WAL writer's own syncs are counted but not timed).
echo "== the commit flush at 10 clients, ${DURATION}s each (pg_stat_wal)"
printf '%-12s %8s %12s %10s %12s %14s %12s\n' statement runs/s "WAL B/run" syncs/s "runs/sync" "B per sync" "ms per sync"
for s in sql flowent; do
	q -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
	n=$(PGOPTIONS="-c track_wal_io_timing=on" pgbench -n -M prepared -c 10 -j 2 -T "$DURATION" -f "$TMP/$s.sql" "$DB" 2>/dev/null |
		awk '/^number of transactions actually processed/ {print $NF}')
	q -F ' ' -c "SELECT wal_bytes, wal_sync, wal_sync_time FROM pg_stat_wal" | {
		read -r bytes syncs ms
		awk -v s="$s" -v n="$n" -v b="$bytes" -v y="$syncs" -v t="$ms" -v d="$DURATION" 'BEGIN {
			printf "%-12s %8d %12d %10d %12.1f %14d %12.3f\n", s, n / d, b / n, y / d, n / y, b / y, t / y }'
	}
done
