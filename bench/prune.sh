#!/usr/bin/env bash
# History pruning (issue 13, item 7), on the dev cluster: EXECUTIONS finished executions of
# 40 days ago with 6 node logs each (written directly, as flowent.run would leave them: ids
# time-ordered, so each lands in its day's partition), then flowent.prune() with the default
# 30 days: seconds, executions and node logs removed per second, the tables' sizes before,
# after, and after VACUUM, against the size of the rows that stay (KEEP executions of
# yesterday).  EXECUTIONS=1666667 is 10M node logs.  Prints figures, asserts no timing.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
EXECUTIONS=${EXECUTIONS:-200000}
KEEP=${KEEP:-20000}
DB=flowent_bench_prune
cleanup() { dropdb --if-exists "$DB" >/dev/null 2>&1 || true; }
trap cleanup EXIT
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
bash scripts/cluster.sh status >/dev/null || bash scripts/cluster.sh start >/dev/null
cleanup
createdb "$DB"
q -c "CREATE EXTENSION flowent" >/dev/null
# the workers would prune a new database's old rows on their own within a minute
q -c "UPDATE flowent.prune_state SET last_pruned_at = now()" >/dev/null
WF=$(q -c "SELECT flowent.create_workflow('six',
 '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"a\",\"type\":\"set-variable\",\"data\":{\"name\":\"a\",\"value\":1}},
   {\"id\":\"b\",\"type\":\"set-variable\",\"data\":{\"name\":\"b\",\"value\":2}},{\"id\":\"c\",\"type\":\"set-variable\",\"data\":{\"name\":\"c\",\"value\":3}},
   {\"id\":\"d\",\"type\":\"set-variable\",\"data\":{\"name\":\"d\",\"value\":4}},{\"id\":\"o\",\"type\":\"output\",\"data\":{}}]',
 '[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"a\"},{\"id\":\"e2\",\"source\":\"a\",\"target\":\"b\"},{\"id\":\"e3\",\"source\":\"b\",\"target\":\"c\"},
   {\"id\":\"e4\",\"source\":\"c\",\"target\":\"d\"},{\"id\":\"e5\",\"source\":\"d\",\"target\":\"o\"}]')")
# the shape of real rows: one real run, copied (ids and times changed)
EX=$(q -c "SELECT flowent.run('$WF', '{\"order\": 1, \"amount\": 19.99}') ->> 'executionId'")
fill() {	# fill N DAYS_AGO: ids of that day's first minutes, as flowent.run makes them
	q >/dev/null <<SQL
SELECT flowent._add_partition((now() AT TIME ZONE 'UTC')::date - $2);
CREATE TEMP TABLE ids AS SELECT encode(set_byte(overlay(uuid_send(gen_random_uuid())
		placing substr(int8send((extract(epoch FROM at) * 1000)::bigint), 3, 6) FROM 1 FOR 6), 6,
		(get_byte(uuid_send(gen_random_uuid()), 6) & 15) | 112), 'hex')::uuid AS id, at
	FROM (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $2)
		+ i * interval '1 ms' AS at FROM generate_series(1, $1) i) t;
INSERT INTO flowent.workflow_executions (id, workflow_id, workflow_version, input, output, status, started_at, completed_at,
	duration_ms, user_id, mode, trigger_type, options, variables, seq, run_as, depth, root_execution_id)
SELECT ids.id, e.workflow_id, e.workflow_version, e.input, e.output, e.status, ids.at, ids.at + interval '2 ms',
	e.duration_ms, e.user_id, e.mode, e.trigger_type, e.options, e.variables, e.seq, e.run_as, e.depth, ids.id
FROM ids, flowent.workflow_executions e WHERE e.id = '$EX';
INSERT INTO flowent.workflow_node_logs (execution_id, workflow_id, node_id, node_type, status, input, output, seq,
	started_at, completed_at, duration_ms)
SELECT ids.id, l.workflow_id, l.node_id, l.node_type, l.status, l.input, l.output, l.seq, ids.at, ids.at, l.duration_ms
FROM ids, flowent.workflow_node_logs l WHERE l.execution_id = '$EX';
SQL
}
t0=$(ms)
fill "$EXECUTIONS" 40
fill "$KEEP" 1
q -c "VACUUM ANALYZE flowent.workflow_executions" -c "VACUUM ANALYZE flowent.workflow_node_logs" >/dev/null
echo "filled $EXECUTIONS old and $KEEP recent executions with 6 node logs each in $(( $(ms) - t0 )) ms"
size() {	# of all partitions, with their indexes
	q -c "SELECT round((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('flowent.workflow_executions')) / 1048576.0, 1)
		|| ' + ' || round((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('flowent.workflow_node_logs')) / 1048576.0, 1) || ' MB'"
}
BEFORE=$(size)
t0=$(ms)
N=$(q -c "SELECT flowent.prune()")
d=$(( $(ms) - t0 ))
AFTER=$(size)
q -c "VACUUM flowent.workflow_executions" -c "VACUUM flowent.workflow_node_logs" >/dev/null
VACUUMED=$(size)
LIVE=$(q -c "SELECT (SELECT sum(pg_column_size(e.*)) FROM flowent.workflow_executions e) / 1048576 || ' + ' ||
	(SELECT sum(pg_column_size(l.*)) FROM flowent.workflow_node_logs l) / 1048576 || ' MB'")
PARTS=$(q -c "SELECT string_agg(day::text, ', ' ORDER BY day) FROM flowent.history_partitions")
# what the rows that stay take in fresh tables with the same indexes
FRESH=$(q <<'SQL'
CREATE TABLE fresh_e (LIKE flowent.workflow_executions_default INCLUDING ALL);
INSERT INTO fresh_e SELECT * FROM flowent.workflow_executions;
CREATE TABLE fresh_l (LIKE flowent.workflow_node_logs_default INCLUDING ALL);
INSERT INTO fresh_l SELECT * FROM flowent.workflow_node_logs;
VACUUM fresh_e;
VACUUM fresh_l;
SELECT round(pg_total_relation_size('fresh_e') / 1048576.0, 1) || ' + ' || round(pg_total_relation_size('fresh_l') / 1048576.0, 1) || ' MB';
SQL
)
LOGS=$((N * 6))
echo
echo "== prune, $(date -u '+%Y-%m-%d %H:%M UTC'), tree $(git rev-parse --short HEAD), $EXECUTIONS old executions, $KEEP kept"
printf '%-48s %s\n' "flowent.prune(): executions removed" "$N in $d ms ($(awk -v n="$N" -v d="$d" 'BEGIN {printf "%.0f", n / (d / 1000)}')/s)"
printf '%-48s %s\n' "... node logs removed" "$LOGS ($(awk -v n="$LOGS" -v d="$d" 'BEGIN {printf "%.0f", n / (d / 1000)}')/s; 10M at this rate: $(awk -v n="$LOGS" -v d="$d" 'BEGIN {printf "%.0f", 1e7 / (n / (d / 1000))}') s)"
printf '%-48s %s\n' "executions + node logs, before" "$BEFORE"
printf '%-48s %s\n' "... after prune / after VACUUM" "$AFTER / $VACUUMED"
printf '%-48s %s\n' "... the rows that stay (pg_column_size)" "$LIVE"
printf '%-48s %s\n' "... the same rows in fresh tables, same indexes" "$FRESH"
printf '%-48s %s\n' "day partitions left" "$PARTS"
