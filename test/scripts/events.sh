#!/usr/bin/env bash
# Events: pg_notify('flowent', …) per step, sent on commit only, seq in
# order, payloads under 8000 bytes, and no user data in them (sizes, not outputs).
set -euo pipefail
DB=flowent_events_test
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION flowent"
fail() { echo "events: FAIL: $*"; exit 1; }
# a payload is one event or an array of them: one event per line
flatten() {
	python3 -c '
import json, sys
for line in sys.stdin:
    p = json.loads(line)
    for e in (p if isinstance(p, list) else [p]):
        print(json.dumps(e, separators=(",", ":")))'
}
# The events of committed work arrive after the commit, from the events
# process: psql prints what arrived by its next command.

wf=$(psql -X -At -d "$DB" -v ON_ERROR_STOP=1 -c "SELECT flowent.create_workflow('events',
 '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
   {\"id\":\"c\",\"type\":\"condition\",\"data\":{\"conditions\":[{\"left\":\"{{trigger.payload.n}}\",\"operator\":\"gt\",\"right\":1}]}},
   {\"id\":\"big\",\"type\":\"data-transform\",\"data\":{\"expression\":\"to_jsonb(repeat(''x'', 20000))\"}},
   {\"id\":\"no\",\"type\":\"set-variable\",\"data\":{\"name\":\"v\",\"value\":1}},
   {\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"done\"}}]',
 '[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"c\"},
   {\"id\":\"e2\",\"source\":\"c\",\"sourceHandle\":\"true\",\"target\":\"big\"},
   {\"id\":\"e3\",\"source\":\"c\",\"sourceHandle\":\"false\",\"target\":\"no\"},
   {\"id\":\"e4\",\"source\":\"big\",\"target\":\"o\"}]')")

# one session: LISTEN, then run; psql prints notifications after each command
out=$(psql -X -d "$DB" -v ON_ERROR_STOP=1 <<SQL 2>&1
LISTEN flowent;
SELECT flowent.run('$wf', '{"n": 5}')->>'status';
SELECT pg_sleep(0.5);
SELECT 1;
SQL
)
payloads=$(printf '%s\n' "$out" | sed -n 's/^Asynchronous notification "flowent" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p')
[ -n "$payloads" ] || fail "no events received: $out"
printf '%s\n' "$payloads" | while IFS= read -r ev; do
	len=$(printf '%s' "$ev" | wc -c)
	[ "$len" -lt 8000 ] || { echo "events: FAIL: payload of $len bytes"; exit 1; }
done
events=$(printf '%s\n' "$payloads" | flatten)
n=$(printf '%s\n' "$events" | wc -l)
# trigger, condition, big, output: started+completed each; no: skipped; workflow:complete
[ "$n" -eq 10 ] || fail "expected 10 events, got $n"
check() {	# jsonpath-ish checks in SQL over the received events
	psql -X -At -d "$DB" -v ON_ERROR_STOP=1 -v evs="$events" <<'SQL'
WITH e AS (SELECT ord, line::jsonb AS j FROM regexp_split_to_table(:'evs', E'\n') WITH ORDINALITY AS t(line, ord))
SELECT
  (SELECT array_agg(j->>'event' || ':' || coalesce(j->>'nodeId', '-') ORDER BY ord) FROM e)::text,
  (SELECT bool_and(( j->>'seq')::int = ord) FROM e),
  (SELECT (j->>'outputBytes')::int > 20000 FROM e WHERE j->>'event' = 'step:completed' AND j->>'nodeId' = 'big'),
  (SELECT string_agg(DISTINCT k, ',' ORDER BY k) FROM e, jsonb_object_keys(j) k
   WHERE k NOT IN ('event', 'executionId', 'workflowId', 'seq', 'nodeId', 'nodeType', 'status',
                   'durationMs', 'ts', 'outputBytes', 'totalDurationMs', 'totalCost', 'totalTokens')),
  (SELECT j->>'status' FROM e WHERE j->>'nodeId' = 'no'),
  (SELECT count(*) FROM e WHERE j->>'executionId' IS NULL OR j->>'workflowId' IS NULL OR j->'ts' IS NULL)
SQL
}
res=$(check)
expected='{step:started:t,step:completed:t,step:started:c,step:completed:c,state:update:no,step:started:big,step:completed:big,step:started:o,step:completed:o,workflow:complete:-}|t|t||skipped|0'
[ "$res" = "$expected" ] || fail "got $res, expected $expected"

# the full output is in the node log, with the same seq as the event
logged=$(psql -X -At -d "$DB" -c "SELECT length(output #>> '{}'), seq FROM flowent.workflow_node_logs WHERE node_id = 'big'")
[ "$logged" = "20000|7" ] || fail "node log of the large output: $logged"

# a rolled-back run emits nothing
out=$(psql -X -d "$DB" <<SQL 2>&1
LISTEN flowent;
BEGIN;
SELECT flowent.run('$wf', '{"n": 0}')->>'status';
ROLLBACK;
SELECT pg_sleep(0.5);
SELECT 1;
SQL
)
if printf '%s\n' "$out" | grep -q 'Asynchronous notification'; then fail "rolled-back run emitted events"; fi

# a failing run: step:failed, fatal:error, workflow:complete with status error
wf2=$(psql -X -At -d "$DB" -c "SELECT flowent.create_workflow('events-fail',
 '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"s\",\"type\":\"stop-error\",\"data\":{\"message\":\"boom\",\"code\":\"MY_CODE\"}}]',
 '[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"s\"}]')")
out=$(psql -X -d "$DB" <<SQL 2>&1
LISTEN flowent;
SELECT flowent.run('$wf2')->>'status';
SELECT pg_sleep(0.5);
SELECT 1;
SQL
)
order=$(printf '%s\n' "$out" | sed -n 's/^Asynchronous notification "flowent" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' |
	flatten | sed -n 's/^{"event":"\([^"]*\)".*/\1/p' | tr '\n' ' ')
[ "$order" = "step:started step:completed step:started step:failed fatal:error workflow:complete " ] || fail "failure events: $order"
if printf '%s\n' "$out" | grep 'Asynchronous notification' | grep -q boom; then
	fail "the error message (user data) is in an event: $out"
fi
printf '%s\n' "$out" | grep -q '"errorCode":"MY_CODE"' || fail "fatal:error lacks errorCode"
echo "events: OK"
