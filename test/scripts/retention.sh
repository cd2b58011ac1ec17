#!/usr/bin/env bash
# History retention (issue 13): flowent.retention_days, a workflow's retentionDays, flowent.prune()
# and the workers' own prune, against the running cluster (PGHOST/PGPORT/PGUSER, workers preloaded):
#   the setting's default prunes what is older, a workflow's retentionDays overrides it (0 keeps
#   all); suspended executions stay (a finished one with an approval goes with it); a parent goes
#   with its child and both with their node logs; the rollups equal what the raw rows said before;
#   prune(older_than) overrides the retention; only flowent_admin may prune; bad input is named;
#   the workers prune on their own every flowent.prune_interval and log it; pg_dump keeps rollups.
set -euo pipefail

DB=flowent_retention
DB2=flowent_retention_restored
TMP=
cleanup() {
	psql -X -q -d postgres -c "ALTER SYSTEM RESET flowent.prune_interval" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
	for d in "$DB" "$DB2"; do timeout 30 dropdb --if-exists "$d" >/dev/null 2>&1 || true; done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS rt_user" >/dev/null 2>&1 || true
	[ -z "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
cleanup
TMP=$(mktemp -d)

NAME=retention
. "$(dirname "$0")/../lib/sql_checks.sh"

createdb "$DB"
q "$DB" -c "CREATE EXTENSION flowent" -c "CREATE ROLE rt_user LOGIN" >/dev/null
q "$DB" >/dev/null <<'SQL'
\set chain '[{"id":"t","type":"trigger","data":{}},{"id":"s","type":"set-variable","data":{"name":"v","value":"{{trigger.payload.n}}"}},{"id":"o","type":"output","data":{"value":"{{variables.v}}"}}]'
\set edges '[{"id":"e1","source":"t","target":"s"},{"id":"e2","source":"s","target":"o"}]'
SELECT flowent.create_workflow('default', :'chain', :'edges');
SELECT flowent.create_workflow('short', :'chain', :'edges', '{"retentionDays": 5}');
SELECT flowent.create_workflow('forever', :'chain', :'edges', '{"retentionDays": 0}');
SELECT flowent.create_workflow('approval',
 '[{"id":"t","type":"trigger","data":{}},{"id":"a","type":"human-approval","data":{"title":"ok?"}},{"id":"o","type":"output","data":{}}]',
 '[{"id":"e1","source":"t","target":"a"},{"id":"e2","source":"a","sourceHandle":"approved","target":"o"}]');
SELECT flowent.create_workflow('child', :'chain', :'edges');
SQL
wf() { q "$DB" -c "SELECT id FROM flowent.workflows WHERE name = '$1'"; }
CHILD=$(wf child)
q "$DB" -c "SELECT flowent.create_workflow('parent',
 '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"c\",\"type\":\"sub-workflow\",\"data\":{\"workflowId\":\"$CHILD\",\"payload\":{\"n\":\"{{trigger.payload.n}}\"}}}]',
 '[{\"id\":\"e\",\"source\":\"t\",\"target\":\"c\"}]')" >/dev/null

# ---- bad input
eq "retentionDays -1" "$(err "$DB" "SELECT flowent.create_workflow('x', '[]', '[]', '{\"retentionDays\": -1}')")" \
	'options.retentionDays must be an integer from 0 to 36500, got -1'
eq "retentionDays text" "$(err "$DB" "SELECT flowent.update_workflow('$(wf short)', '{\"retentionDays\": \"a week\"}')")" \
	'changes.retentionDays must be an integer from 0 to 36500, got "a week"'
eq "negative older_than" "$(err "$DB" "SELECT flowent.prune('-1 day')")" 'older_than must not be negative, got -1 days'
eq "not an admin" "$(err "$DB" "SET ROLE rt_user; SELECT flowent.prune()")" 'permission denied for function prune'
ok "bad retentionDays and older_than are named; only flowent_admin (or a superuser) may prune"

# ---- history: runs of every workflow, then aged (days ago: 40, 10, 7, 3)
q "$DB" >/dev/null <<'SQL'
CREATE TEMP TABLE made AS
SELECT w.name, d, (flowent.run(w.id, jsonb_build_object('n', d)) ->> 'executionId')::uuid AS id
FROM flowent.workflows w, unnest(ARRAY[40, 40, 10, 7, 3]) d
WHERE w.name IN ('default', 'short', 'forever', 'approval', 'parent');
UPDATE flowent.workflow_executions e SET started_at = e.started_at - make_interval(days => m.d)
FROM made m WHERE e.root_execution_id = m.id;
SQL
# one old approval decided (finished: it goes, with its approval), the rest still waiting
q "$DB" -c "SELECT flowent.approve(r.execution_id, true) FROM flowent.workflow_approval_requests r
	JOIN flowent.workflow_executions e ON e.id = r.execution_id
	WHERE e.started_at < now() - interval '39 days' ORDER BY e.started_at LIMIT 1" >/dev/null
q "$DB" -c "ANALYZE"
eq "made" "$(q "$DB" -c "SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'suspended') FROM flowent.workflow_executions")" "30 4"
# what the raw rows say, per workflow and day, before they go
raw() {
	q "$DB" -c "SELECT string_agg(x.line, E'\n' ORDER BY x.name, x.day) FROM (
		SELECT w.name, (e.started_at AT TIME ZONE 'UTC')::date AS day,
			format('%s %s %s/%s/%s/%s p50=%s p95=%s', w.name, (e.started_at AT TIME ZONE 'UTC')::date, count(*),
				count(*) FILTER (WHERE e.status = 'success'), count(*) FILTER (WHERE e.status = 'error'),
				count(*) FILTER (WHERE e.status = 'cancelled'),
				round(percentile_cont(0.5) WITHIN GROUP (ORDER BY e.duration_ms)::numeric, 1),
				round(percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_ms)::numeric, 1)) AS line
		FROM flowent.workflow_executions e JOIN flowent.workflows w ON w.id = e.workflow_id
		WHERE $1 GROUP BY 1, 2) x"
}
expected=$(raw "e.status IN ('success', 'error', 'cancelled') AND ((e.workflow_id = '$(wf short)' AND e.started_at < now() - interval '5 days')
	OR (e.workflow_id IN ('$(wf default)', '$(wf parent)', '$(wf child)', '$(wf approval)') AND e.started_at < now() - interval '30 days'))")
nodes_expected=$(q "$DB" -c "SELECT string_agg(format('%s %s %s %s/%s p95=%s', w.name, x.day, x.node_id, x.runs, x.errors, x.p95), E'\n' ORDER BY w.name, x.day, x.node_id)
	FROM (SELECT e.workflow_id, (e.started_at AT TIME ZONE 'UTC')::date AS day, l.node_id, count(*) AS runs,
			count(*) FILTER (WHERE l.status = 'error') AS errors,
			round(percentile_cont(0.95) WITHIN GROUP (ORDER BY l.duration_ms)::numeric, 1) AS p95
		FROM flowent.workflow_node_logs l JOIN flowent.workflow_executions e ON e.id = l.execution_id
		WHERE l.status IN ('success', 'error') AND e.status IN ('success', 'error', 'cancelled')
			AND ((e.workflow_id = '$(wf short)' AND e.started_at < now() - interval '5 days')
			OR (e.workflow_id IN ('$(wf default)', '$(wf parent)', '$(wf child)', '$(wf approval)') AND e.started_at < now() - interval '30 days'))
		GROUP BY 1, 2, 3) x JOIN flowent.workflows w ON w.id = x.workflow_id")
removed=$(q "$DB" -c "SELECT flowent.prune()")
left=$(q "$DB" -c "SELECT string_agg(w.name || ' ' || extract(day FROM now() - e.started_at)::int, ',' ORDER BY w.name, e.started_at)
	FROM flowent.workflow_executions e JOIN flowent.workflows w ON w.id = e.workflow_id WHERE e.parent_execution_id IS NULL")
# default and parent: the two 40-day-old runs go (the parent with its child); short: 40, 40, 10, 7;
# approval: the decided 40-day-old one; forever: nothing
eq "removed" "$removed" "$((2 + 2 * 2 + 4 + 1))"
eq "left" "$left" "approval 40,approval 10,approval 7,approval 3,default 10,default 7,default 3,forever 40,forever 40,forever 10,forever 7,forever 3,parent 10,parent 7,parent 3,short 3"
eq "orphans" "$(q "$DB" -c "SELECT (SELECT count(*) FROM flowent.workflow_node_logs l WHERE NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e WHERE e.id = l.execution_id))
	|| ' ' || (SELECT count(*) FROM flowent.workflow_approval_requests r WHERE NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e WHERE e.id = r.execution_id))
	|| ' ' || (SELECT count(*) FROM flowent.workflow_executions c WHERE c.parent_execution_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM flowent.workflow_executions p WHERE p.id = c.parent_execution_id))
	|| ' ' || (SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$CHILD')")" "0 0 0 3"
ok "prune(): the setting's 30 days, short's 5, forever's 0; the suspended 40-day-old approvals stay; children, node logs and approvals go with their executions"
got=$(q "$DB" -c "SELECT string_agg(format('%s %s %s/%s/%s/%s p50=%s p95=%s', w.name, d.day, d.executions, d.successes, d.errors, d.cancelled, d.p50_ms, d.p95_ms), E'\n' ORDER BY w.name, d.day)
	FROM flowent.daily_stats d JOIN flowent.workflows w ON w.id = d.workflow_id")
eq "rollups" "$got" "$expected"
eq "node rollups" "$(q "$DB" -c "SELECT string_agg(format('%s %s %s %s/%s p95=%s', w.name, d.day, d.node_id, d.runs, d.errors, d.p95_ms), E'\n' ORDER BY w.name, d.day, d.node_id)
	FROM flowent.daily_node_stats d JOIN flowent.workflows w ON w.id = d.workflow_id")" "$nodes_expected"
eq "analytics_daily" "$(q "$DB" -c "SELECT sum(executions) || ' ' || sum(successes) FROM flowent.analytics_daily")" \
	"$(q "$DB" -c "SELECT (SELECT count(*) FROM flowent.workflow_executions) + (SELECT sum(executions) FROM flowent.daily_stats)
		|| ' ' || ((SELECT count(*) FROM flowent.workflow_executions WHERE status = 'success') + (SELECT sum(successes) FROM flowent.daily_stats))")"
eq "... all 30" "$(q "$DB" -c "SELECT sum(executions) FROM flowent.analytics_daily")" 30
ok "daily_stats and daily_node_stats equal what the raw rows said (counts, p50, p95 per workflow, day and node); analytics_daily counts kept and pruned runs"
got=$(q "$DB" -c "SELECT (a #>> '{totals,executions}') || ' ' || (a #>> '{totals,successes}') || ' ' || (a #>> '{totals,p50_ms}' IS NOT NULL)
		|| ' ' || (SELECT string_agg((n ->> 'node_id') || '=' || (n ->> 'runs'), ',' ORDER BY n ->> 'node_id') FROM jsonb_array_elements(a -> 'slowest_nodes') n)
	FROM flowent.api_analytics(jsonb_build_object('from', ((now() - interval '45 days') AT TIME ZONE 'UTC')::date, 'workflowId', '$(wf short)')) a")
eq "analytics route" "$got" "5 5 true o=5,s=5,t=5"
ok "the analytics route counts pruned days: totals, percentiles and node statistics include the rollups"
eq "again" "$(q "$DB" -c "SELECT flowent.prune()")" 0
eq "older_than" "$(q "$DB" -c "SELECT flowent.prune('8 days')")" "$((1 + 3 + 2))"
ok "a second prune removes nothing; prune(older_than) overrides each workflow's retention (forever's 10- and 40-day runs too)"
q "$DB" -c "SELECT flowent.update_workflow('$(wf forever)', '{\"retentionDays\": null}')" >/dev/null
eq "reset" "$(q "$DB" -c "SELECT retention_days IS NULL FROM flowent.workflows WHERE name = 'forever'")" t

# ---- the workers prune on their own
q "$DB" -c "UPDATE flowent.workflow_executions SET started_at = started_at - interval '60 days'
	WHERE workflow_id = '$(wf default)'" >/dev/null
q "$DB" -c "ALTER SYSTEM SET flowent.prune_interval = 1" -c "SELECT pg_reload_conf()" >/dev/null
poll "$DB" "SELECT NOT EXISTS (SELECT 1 FROM flowent.workflow_executions WHERE workflow_id = '$(wf default)')" 30 ||
	fail "the workers did not prune within 30 s"
eq "prune_state" "$(q "$DB" -c "SELECT last_pruned_at > now() - interval '1 minute' AND last_removed >= 0 FROM flowent.prune_state")" t
LOG=$(q "$DB" -c "SELECT pg_current_logfile()")
DATA=$(q "$DB" -c "SHOW data_directory")
case "$LOG" in /*) ;; *) LOG=$DATA/$LOG ;; esac
grep -q "flowent: retention: removed" "$LOG" || fail "no log line of the workers' prune in $LOG"
q "$DB" -c "ALTER SYSTEM RESET flowent.prune_interval" -c "SELECT pg_reload_conf()" >/dev/null
ok "with flowent.prune_interval = 1 the workers prune on their own and log what they removed"

# ---- pg_dump keeps the rollups
createdb "$DB2"
pg_dump -d "$DB" -f "$TMP/dump.sql"
q "$DB2" -f "$TMP/dump.sql" >/dev/null 2>"$TMP/restore.err" || { cat "$TMP/restore.err"; fail "restore"; }
eq "restored rollups" "$(q "$DB2" -c "SELECT count(*) || ' ' || sum(executions) FROM flowent.daily_stats")" \
	"$(q "$DB" -c "SELECT count(*) || ' ' || sum(executions) FROM flowent.daily_stats")"
ok "pg_dump/restore keeps daily_stats"
echo "retention: all checks passed"
