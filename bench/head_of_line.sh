#!/usr/bin/env bash
# Head-of-line blocking (issue 7 target): one execution whose node takes
# SLOW_MS (default 15000) queued in the same transaction as ten trivial
# ones; prints how long after that commit the last of the ten finished,
# against the baseline of the same script: the ten queued alone.  Needs the
# dev cluster (flowent preloaded, its workers running).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
SLOW_MS=${SLOW_MS:-15000}
DB=flowent_bench_hol
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
q "SET client_min_messages = warning; CREATE EXTENSION flowent; CREATE TABLE t0 (t timestamptz)" >/dev/null
slow=$(q "SELECT flowent.create_workflow('slow', '[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}},
	{\"id\": \"s\", \"type\": \"data-transform\", \"data\": {\"expression\": \"(SELECT to_jsonb(true) FROM pg_sleep($SLOW_MS / 1000.0))\", \"timeoutMs\": $((SLOW_MS + 60000))}}]',
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"s\"}]')")
trivial=$(q "SELECT flowent.create_workflow('trivial', '[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}},
	{\"id\": \"o\", \"type\": \"output\", \"data\": {\"value\": \"{{trigger.payload.i}}\"}}]',
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"o\"}]')")
# ten WITH_SLOW: ms from the commit that queued them to the last of the ten finished
ten() {
	q "TRUNCATE t0; DELETE FROM flowent.workflow_executions WHERE workflow_id = '$trivial'" >/dev/null
	psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
BEGIN;
$( [ "$1" = yes ] && echo "SELECT flowent.execute('$slow');" )
SELECT flowent.execute('$trivial', jsonb_build_object('i', i)) FROM generate_series(1, 10) i;
COMMIT;
INSERT INTO t0 VALUES (clock_timestamp());
SQL
	for _ in $(seq 1 $((SLOW_MS / 50 + 600))); do
		[ "$(q "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$trivial' AND status = 'success'")" = 10 ] && break
		sleep 0.05
	done
	q "SELECT round(extract(epoch FROM max(completed_at) - (SELECT t FROM t0)) * 1000) FROM flowent.workflow_executions
	   WHERE workflow_id = '$trivial' AND status = 'success' HAVING count(*) = 10"
}
base=$(ten no)
with=$(ten yes)
printf '%-52s %8s\n' "ten trivial executions, last finished after" ms
printf '%-52s %8s\n' "queued alone (baseline)" "$base"
printf '%-52s %8s\n' "queued behind one ${SLOW_MS} ms node, same commit" "$with"
printf '%-52s %8s\n' "extra wait caused by the slow one" "$((with - base))"
# let the slow one end before the database goes
for _ in $(seq 1 $((SLOW_MS / 100 + 100))); do
	[ "$(q "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$slow' AND status IN ('pending', 'running')")" = 0 ] && break
	sleep 0.1
done
