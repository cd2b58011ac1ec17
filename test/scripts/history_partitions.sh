#!/usr/bin/env bash
# History partitioned by day (issue 13, release 0.9), against the running cluster (workers
# preloaded): runs land in their day's partition (executions and node logs); flowent.prune()
# drops the partitions of days that all go, with the children of their trees on later days,
# their approvals and their figures folded into the rollups exactly; a day with a suspended
# execution or a workflow that keeps its runs stays (its other rows go one by one); rows of the
# default partition (random ids of old releases) go row by row; a partition in use is not
# waited for and goes at the next prune, counted once; a new partition takes the rows of its
# day out of the default one; the workers make partitions on their own; pg_dump/restore keeps
# the partitions with their rows.
set -euo pipefail

DB=flowent_partitions
DB2=flowent_partitions_restored
DB3=flowent_partitions_load
TMP=
HOLDER=
cleanup() {
	[ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true
	psql -X -q -d postgres -c "ALTER SYSTEM RESET flowent.prune_interval" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
	for d in "$DB" "$DB2" "$DB3"; do timeout 30 dropdb --if-exists "$d" >/dev/null 2>&1 || true; done
	[ -z "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
cleanup
TMP=$(mktemp -d)

NAME=history_partitions
. "$(dirname "$0")/../lib/sql_checks.sh"

# the workers prune a new database's old rows on their own: not while this test prunes
psql -X -q -d postgres -c "ALTER SYSTEM SET flowent.prune_interval = 0" -c "SELECT pg_reload_conf()" >/dev/null
createdb "$DB"
q "$DB" -c "CREATE EXTENSION flowent" >/dev/null
q "$DB" >/dev/null <<'SQL'
\set chain '[{"id":"t","type":"trigger","data":{}},{"id":"s","type":"set-variable","data":{"name":"v","value":"{{trigger.payload.n}}"}},{"id":"o","type":"output","data":{"value":"{{variables.v}}"}}]'
\set edges '[{"id":"e1","source":"t","target":"s"},{"id":"e2","source":"s","target":"o"}]'
SELECT flowent.create_workflow('daily', :'chain', :'edges');
SELECT flowent.create_workflow('forever', :'chain', :'edges', '{"retentionDays": 0}');
SELECT flowent.create_workflow('child', :'chain', :'edges');
SELECT flowent.create_workflow('approval',
 '[{"id":"t","type":"trigger","data":{}},{"id":"a","type":"human-approval","data":{"title":"ok?"}},{"id":"o","type":"output","data":{}}]',
 '[{"id":"e1","source":"t","target":"a"},{"id":"e2","source":"a","sourceHandle":"approved","target":"o"}]');
-- A version-7 uuid of the time at, as the engine makes them.
CREATE FUNCTION public.v7(at timestamptz) RETURNS uuid LANGUAGE sql AS $$
	SELECT encode(set_byte(overlay(uuid_send(gen_random_uuid())
		placing substr(int8send((extract(epoch FROM at) * 1000)::bigint), 3, 6) FROM 1 FOR 6), 6,
		(get_byte(uuid_send(gen_random_uuid()), 6) & 15) | 112), 'hex')::uuid
$$;
-- A copy of the execution src (and its node logs and approvals) that started at at, with
-- the id nid (default: a version-7 one of at) under the parent and root given.
CREATE FUNCTION public.aged(src uuid, at timestamptz, parent uuid DEFAULT NULL, root uuid DEFAULT NULL,
	nid uuid DEFAULT NULL) RETURNS uuid LANGUAGE plpgsql AS $$
BEGIN
	nid := coalesce(nid, public.v7(at));
	INSERT INTO flowent.workflow_executions
	SELECT (jsonb_populate_record(NULL::flowent.workflow_executions, to_jsonb(e) || jsonb_build_object('id', nid,
		'started_at', at, 'completed_at', at + make_interval(secs => e.duration_ms / 1000.0),
		'parent_execution_id', parent, 'root_execution_id', coalesce(root, nid)))).*
	FROM flowent.workflow_executions e WHERE e.id = src;
	INSERT INTO flowent.workflow_node_logs
	SELECT (jsonb_populate_record(NULL::flowent.workflow_node_logs, to_jsonb(l) || jsonb_build_object('id', gen_random_uuid(),
		'execution_id', nid, 'started_at', at))).*
	FROM flowent.workflow_node_logs l WHERE l.execution_id = src;
	INSERT INTO flowent.workflow_approval_requests
	SELECT (jsonb_populate_record(NULL::flowent.workflow_approval_requests, to_jsonb(a) || jsonb_build_object('id', gen_random_uuid(),
		'execution_id', nid))).*
	FROM flowent.workflow_approval_requests a WHERE a.execution_id = src;
	RETURN nid;
END
$$;
CREATE FUNCTION public.day_at(days integer, minute integer DEFAULT 10) RETURNS timestamptz LANGUAGE sql AS $$
	SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => days, mins => -minute)) AT TIME ZONE 'UTC'
$$;
CREATE FUNCTION public.suffix(days integer) RETURNS text LANGUAGE sql AS $$
	SELECT to_char((now() AT TIME ZONE 'UTC')::date - days, 'YYYYMMDD')
$$;
SQL
wf() { q "$DB" -c "SELECT id FROM flowent.workflows WHERE name = '$1'"; }
CHILD=$(wf child)
q "$DB" -c "SELECT flowent.create_workflow('parent',
 '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"c\",\"type\":\"sub-workflow\",\"data\":{\"workflowId\":\"$CHILD\",\"payload\":{\"n\":\"{{trigger.payload.n}}\"}}}]',
 '[{\"id\":\"e\",\"source\":\"t\",\"target\":\"c\"}]')" >/dev/null

# ---- today's runs land in today's partition (the workers make it once there is a workflow)
q "$DB" -c "SELECT flowent.run('$(wf daily)', '{\"n\": 1}')" >/dev/null
poll "$DB" "SELECT to_regclass('flowent.workflow_executions_' || public.suffix(-2)) IS NOT NULL" 30 ||
	fail "the workers made no partitions for today and the next two days"
RUN=$(q "$DB" -c "SELECT flowent.run('$(wf daily)', '{\"n\": 2.50}') ->> 'executionId'")
eq "where a run lands" "$(q "$DB" -c "SELECT (SELECT tableoid::regclass FROM flowent.workflow_executions WHERE id = '$RUN') || ' ' ||
	(SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM flowent.workflow_node_logs WHERE execution_id = '$RUN')")" \
	"flowent.workflow_executions_$(q "$DB" -c "SELECT public.suffix(0)") flowent.workflow_node_logs_$(q "$DB" -c "SELECT public.suffix(0)")"
eq "a run's output" "$(q "$DB" -c "SELECT output FROM flowent.workflow_executions WHERE id = '$RUN'")" '2.50'
ok "the workers make today's and the next two days' partitions; a run's execution and node logs land in today's"

# ---- history: days 40 (goes whole), 39 (holds a child of day 40's tree), 38 (a suspended run),
# 35 (a run of a workflow that keeps everything), 45 (random ids: the default partition)
for d in 40 39 38 35 42; do q "$DB" -c "SELECT flowent._add_partition((now() AT TIME ZONE 'UTC')::date - $d)" >/dev/null; done
q "$DB" >/dev/null <<SQL
CREATE TABLE public.src AS
SELECT 'daily' AS kind, (flowent.run('$(wf daily)', jsonb_build_object('n', i)) ->> 'executionId')::uuid AS id
FROM generate_series(1, 3) i;
INSERT INTO public.src SELECT 'forever', (flowent.run('$(wf forever)', '{"n": 1}') ->> 'executionId')::uuid;
INSERT INTO public.src SELECT 'approval', (flowent.run('$(wf approval)', '{"n": 1}') ->> 'executionId')::uuid;
INSERT INTO public.src SELECT 'parent', (flowent.run('$(wf parent)', '{"n": 7}') ->> 'executionId')::uuid;
INSERT INTO public.src SELECT 'child', id FROM flowent.workflow_executions
	WHERE parent_execution_id = (SELECT id FROM public.src WHERE kind = 'parent');
-- a finished approval run: its approval row must go with it
INSERT INTO public.src SELECT 'approved', (flowent.run('$(wf approval)', '{"n": 2}') ->> 'executionId')::uuid;
SELECT flowent.approve((SELECT id FROM public.src WHERE kind = 'approved'), true);
CREATE TABLE public.old (kind text, days integer, id uuid);
INSERT INTO public.old SELECT 'daily', 40, public.aged(s.id, public.day_at(40, i)) FROM public.src s, generate_series(1, 4) i WHERE s.kind = 'daily';
INSERT INTO public.old SELECT 'approved', 40, public.aged(id, public.day_at(40, 30)) FROM public.src WHERE kind = 'approved';
INSERT INTO public.old SELECT 'parent', 40, public.aged(id, public.day_at(40, 50)) FROM public.src WHERE kind = 'parent';
INSERT INTO public.old SELECT 'child', 39, public.aged(c.id, public.day_at(39, 5), p.id, p.id)
	FROM public.src c, public.old p WHERE c.kind = 'child' AND p.kind = 'parent';
INSERT INTO public.old SELECT 'daily', 39, public.aged(id, public.day_at(39, 20)) FROM public.src WHERE kind = 'daily';
INSERT INTO public.old SELECT 'daily', 38, public.aged(id, public.day_at(38, 20)) FROM public.src WHERE kind = 'daily';
INSERT INTO public.old SELECT 'approval', 38, public.aged(id, public.day_at(38, 40)) FROM public.src WHERE kind = 'approval';
INSERT INTO public.old SELECT 'daily', 35, public.aged(id, public.day_at(35, 20)) FROM public.src WHERE kind = 'daily';
INSERT INTO public.old SELECT 'forever', 35, public.aged(id, public.day_at(35, 40)) FROM public.src WHERE kind = 'forever';
INSERT INTO public.old SELECT 'daily', 45, public.aged(id, public.day_at(45, 20), nid => gen_random_uuid()) FROM public.src WHERE kind = 'daily';
INSERT INTO public.old SELECT 'daily', 42, public.aged(id, public.day_at(42, 20)) FROM public.src WHERE kind = 'daily';
-- what the raw rows say of days 40 and 42, before the prune
CREATE TABLE public.raw_day AS
SELECT e.workflow_id, (e.started_at AT TIME ZONE 'UTC')::date AS day, count(*) AS executions, count(*) FILTER (WHERE e.status = 'success') AS successes,
	round((percentile_cont(0.5) WITHIN GROUP (ORDER BY e.duration_ms))::numeric, 1) AS p50,
	round((percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_ms))::numeric, 1) AS p95
FROM flowent.workflow_executions e WHERE e.id IN (SELECT id FROM public.old WHERE days IN (40, 42)) GROUP BY 1, 2;
CREATE TABLE public.raw_nodes AS
SELECT e.workflow_id, (e.started_at AT TIME ZONE 'UTC')::date AS day, l.node_id, count(*) AS runs,
	round((percentile_cont(0.95) WITHIN GROUP (ORDER BY l.duration_ms))::numeric, 1) AS p95
FROM flowent.workflow_node_logs l JOIN flowent.workflow_executions e ON e.id = l.execution_id
WHERE e.id IN (SELECT id FROM public.old WHERE days IN (40, 42)) AND l.status IN ('success', 'error') GROUP BY 1, 2, 3;
SQL
S40=$(q "$DB" -c "SELECT public.suffix(40)")
S42=$(q "$DB" -c "SELECT public.suffix(42)")
eq "where aged runs land" "$(q "$DB" -c "SELECT string_agg(DISTINCT o.days || ':' || e.tableoid::regclass, ' ' ORDER BY o.days || ':' || e.tableoid::regclass)
	FROM public.old o JOIN flowent.workflow_executions e ON e.id = o.id")" \
	"35:flowent.workflow_executions_$(q "$DB" -c "SELECT public.suffix(35)") 38:flowent.workflow_executions_$(q "$DB" -c "SELECT public.suffix(38)") 39:flowent.workflow_executions_$(q "$DB" -c "SELECT public.suffix(39)") 40:flowent.workflow_executions_$S40 42:flowent.workflow_executions_$S42 45:flowent.workflow_executions_default"

# ---- a partition in use is not waited for: day 42 is read by another session meanwhile
psql -X -q -d "$DB" -c "BEGIN; LOCK TABLE flowent.workflow_executions_$S42 IN ACCESS SHARE MODE; SELECT pg_sleep(8); COMMIT" >/dev/null 2>&1 &
HOLDER=$!
poll "$DB" "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'flowent.workflow_executions_$S42'::regclass AND mode = 'AccessShareLock' AND granted)" 10 ||
	fail "the session that holds day 42 did not start"
N=$(q "$DB" -c "SELECT flowent.prune()")
# row by row: day 45 (the default partition), the daily runs of days 39, 38 and 35 (3 each);
# days 40 and 42 wait for the next prune
eq "executions pruned while day 42 is in use" "$N" 12
eq "days 40 and 42 still there" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions e JOIN public.old o ON o.id = e.id WHERE o.days IN (40, 42)")" 17
eq "no rollups of them yet" "$(q "$DB" -c "SELECT coalesce(sum(executions), 0) FROM flowent.daily_stats WHERE day IN (current_date - 40, current_date - 42)")" 0
wait "$HOLDER" || true
HOLDER=
ok "a prune does not wait for a partition in use (400 ms): it removes the rest and folds none of that day's figures"

# ---- the next prune drops days 40 and 42 whole
N=$(q "$DB" -c "SELECT flowent.prune()")
# day 40: 12 daily, the approved run, the parent; its child (day 39) goes with it; day 42: 3
eq "executions pruned" "$N" 18
eq "partitions left of the old days" "$(q "$DB" -c "SELECT string_agg(to_char(day, 'YYYYMMDD'), ' ' ORDER BY day) FROM flowent.history_partitions
	WHERE day < (now() AT TIME ZONE 'UTC')::date - 30")" \
	"$(q "$DB" -c "SELECT public.suffix(39) || ' ' || public.suffix(38) || ' ' || public.suffix(35)")"
eq "node log partitions" "$(q "$DB" -c "SELECT count(*) FROM pg_class WHERE relname IN ('workflow_node_logs_$S40', 'workflow_node_logs_$S42')")" 0
eq "old rows left" "$(q "$DB" -c "SELECT string_agg(o.kind || ':' || o.days, ' ' ORDER BY o.days, o.kind) FROM public.old o JOIN flowent.workflow_executions e ON e.id = o.id")" \
	"forever:35 approval:38"
eq "approvals of pruned runs" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_approval_requests WHERE execution_id NOT IN (SELECT id FROM flowent.workflow_executions)")" 0
eq "node logs of pruned runs" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id NOT IN (SELECT id FROM flowent.workflow_executions)")" 0
eq "the suspended run's approval" "$(q "$DB" -c "SELECT a.status FROM flowent.workflow_approval_requests a JOIN public.old o ON o.id = a.execution_id WHERE o.kind = 'approval'")" pending
eq "daily_stats of days 40 and 42 against the raw rows" "$(q "$DB" -c "SELECT count(*) FROM public.raw_day r FULL JOIN (
		SELECT * FROM flowent.daily_stats WHERE day IN (current_date - 40, current_date - 42)) d
		ON d.workflow_id = r.workflow_id AND d.day = r.day
	WHERE (d.executions, d.successes, d.p50_ms, d.p95_ms) IS DISTINCT FROM (r.executions, r.successes, r.p50, r.p95)")" 0
eq "rollup rows" "$(q "$DB" -c "SELECT count(*) FROM public.raw_day")" 4
eq "daily_node_stats against the raw rows" "$(q "$DB" -c "SELECT count(*) FROM public.raw_nodes r FULL JOIN (
		SELECT * FROM flowent.daily_node_stats WHERE day IN (current_date - 40, current_date - 42)) d
		ON d.workflow_id = r.workflow_id AND d.day = r.day AND d.node_id = r.node_id
	WHERE d.runs IS DISTINCT FROM r.runs OR d.p95_ms IS DISTINCT FROM r.p95")" 0
ok "the next prune drops days 40 and 42 whole (partitions gone), with the child of day 40's tree on day 39, its approvals and node logs; the rollups equal the raw rows"

# ---- day 39 is empty now: it goes at the next prune; 38 (suspended) and 35 (forever) stay
eq "third prune" "$(q "$DB" -c "SELECT flowent.prune()")" 0
eq "day 39" "$(q "$DB" -c "SELECT to_regclass('flowent.workflow_executions_' || public.suffix(39)) IS NULL")" t
eq "days 38 and 35" "$(q "$DB" -c "SELECT count(*) FROM flowent.history_partitions WHERE day IN (current_date - 38, current_date - 35)")" 2
ok "an emptied day goes at the next prune; a day with a suspended run or a run kept forever stays"

# ---- a new partition takes its day's rows out of the default partition
q "$DB" >/dev/null <<'SQL'
INSERT INTO public.old SELECT 'daily', 50, public.aged(id, public.day_at(50, 20)) FROM public.src WHERE kind = 'daily';
SQL
S50=$(q "$DB" -c "SELECT public.suffix(50)")
eq "day 50 before its partition" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions_default e JOIN public.old o ON o.id = e.id WHERE o.days = 50")" 3
eq "make it" "$(q "$DB" -c "SELECT flowent._add_partition(current_date - 50)")" t
eq "day 50 after" "$(q "$DB" -c "SELECT (SELECT count(*) FROM flowent.workflow_executions_$S50) || ' ' ||
	(SELECT count(*) FROM flowent.workflow_node_logs_$S50) || ' ' ||
	(SELECT count(*) FROM flowent.workflow_executions_default e JOIN public.old o ON o.id = e.id WHERE o.days = 50) || ' ' ||
	(SELECT count(*) FROM flowent.workflow_node_logs_default l JOIN public.old o ON o.id = l.execution_id WHERE o.days = 50)")" "3 9 0 0"
eq "made again" "$(q "$DB" -c "SELECT flowent._add_partition(current_date - 50)")" f
ok "a day's new partition takes that day's executions and node logs out of the default partition"

# ---- pg_dump/restore keeps the partitions and their rows; the restored database prunes them
q "$DB" -c "DROP FUNCTION public.aged, public.v7, public.day_at, public.suffix" >/dev/null
pg_dump -d "$DB" >"$TMP/dump.sql"
createdb "$DB2"
q "$DB2" -f "$TMP/dump.sql" >/dev/null 2>"$TMP/restore.err" || { cat "$TMP/restore.err"; fail "restore"; }
eq "partitions restored" "$(q "$DB2" -c "SELECT string_agg(to_char(day, 'YYYYMMDD'), ' ' ORDER BY day) FROM flowent.history_partitions")" \
	"$(q "$DB" -c "SELECT string_agg(to_char(day, 'YYYYMMDD'), ' ' ORDER BY day) FROM flowent.history_partitions")"
rows="SELECT (SELECT count(*) || ' ' || md5(string_agg(e.id::text || e.status::text || coalesce(e.output::text, ''), ',' ORDER BY e.id)) FROM flowent.workflow_executions e)
	|| ' ' || (SELECT count(*) FROM flowent.workflow_node_logs) || ' ' || (SELECT count(*) FROM flowent.workflow_executions_default)"
eq "rows restored" "$(q "$DB2" -c "$rows")" "$(q "$DB" -c "$rows")"
eq "restored prune" "$(q "$DB2" -c "SELECT flowent.prune()")" 3
eq "day 50 dropped in the restored database" "$(q "$DB2" -c "SELECT to_regclass('flowent.workflow_executions_$S50') IS NULL")" t
ok "pg_dump/restore keeps the day partitions and their rows; the restored database prunes them"
# ---- under steady load, a day's partitions are made and take its rows out of the default ones.
# Runs in transactions of three (as the gateway's webhook batches), four at a time; the workers
# are kept out (the history lock) until runs have filled the default partitions.  Before runs
# locked the execution's partition before the node logs', each attempt closed a lock cycle with
# them: every run stalled for the 400 ms lock wait, and the partitions were never made.
createdb "$DB3"
q "$DB3" -c "CREATE EXTENSION flowent" >/dev/null
cat >"$TMP/load.sql" <<'SQL'
BEGIN;
SELECT flowent.run(w.id, '{"n": 1}') FROM flowent.workflows w, generate_series(1, 3) WHERE w.name = 'load';
COMMIT;
SQL
psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB3" >"$TMP/made" 2>&1 <<SQL &
SELECT pg_advisory_lock(hashtext('flowent.history')) IS NULL;
SELECT flowent.create_workflow('load',
 '[{"id":"t","type":"trigger","data":{}},{"id":"s","type":"set-variable","data":{"name":"v","value":"{{trigger.payload.n}}"}},{"id":"o","type":"output","data":{"value":"{{variables.v}}"}}]',
 '[{"id":"e1","source":"t","target":"s"},{"id":"e2","source":"s","target":"o"}]') IS NULL;
\! touch $TMP/load-ready
SELECT pg_sleep(3);
SELECT 'before ' || count(*) FROM ONLY flowent.workflow_executions_default;
SELECT 'made ' || flowent._add_partitions();
SELECT pg_sleep(1);
SELECT 'after ' || (SELECT count(*) FROM ONLY flowent.workflow_executions_default) || ' ' ||
	(SELECT count(*) FROM ONLY flowent.workflow_node_logs_default);
SQL
MAKER=$!
for _ in $(seq 1 100); do [ -e "$TMP/load-ready" ] && break; sleep 0.1; done
pgbench -n -c 4 -T 6 -f "$TMP/load.sql" "$DB3" >"$TMP/load.pgbench" 2>&1 || fail "runs under load: $(cat "$TMP/load.pgbench")"
wait "$MAKER" || fail "making partitions under load: $(cat "$TMP/made")"
grep -q '^before [1-9]' "$TMP/made" || fail "no runs landed in the default partition first: $(cat "$TMP/made")"
eq "partitions made under load" "$(sed -n 's/^made //p' "$TMP/made")" 3
eq "default partitions after the load (executions, node logs)" "$(sed -n 's/^after //p' "$TMP/made")" "0 0"
eq "runs that failed" "$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$TMP/load.pgbench")" 0
eq "runs" "$(q "$DB3" -c "SELECT count(*) = 3 * $(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$TMP/load.pgbench")
	AND count(*) > 0 FROM flowent.workflow_executions WHERE status = 'success'")" t
ok "under steady load (transactions of 3 runs, 4 at a time) the day's partitions are made at the first try and take the default partitions' rows; no run fails"
echo "history_partitions: all checks passed"
