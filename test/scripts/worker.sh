#!/usr/bin/env bash
# Background worker (DESIGN §8, Appendix B "Worker", "Modes"; issue 3 items 1-4, 8) against the
# running cluster (PGHOST/PGPORT/PGUSER), in databases of its own:
#   workers and launcher in pg_stat_activity; a new database gets its workers;
#   flowent.execute returns at once and the execution finishes; mode/trigger_type;
#   async output = flowent.run output (3-node chain, branchy graph);
#   delay (timer), approval expiry (reject path / APPROVAL_EXPIRED), async approve -> pending,
#   async resume of a wait, cancel of a suspended execution (a later timer does nothing),
#   wait.timeoutMs -> TIMEOUT, failing nodes -> error with their code;
#   no CPU while idle; DROP DATABASE of a served database (idle and busy) is not blocked.
# Not here: execute without the preload (SQLSTATE 55000), crash recovery and bad GUCs need a
# private cluster: test/scripts/worker_crash.sh.
# Every wait is a poll with a deadline; the only fixed sleeps are the 3 s idle-CPU sample and
# the wait past a cancelled timer's due time.
set -euo pipefail

DB=flowent_worker_test
DB2=flowent_worker_drop
DB3=flowent_worker_busy
# shellcheck disable=SC2317
cleanup() {
	for d in "$DB" "$DB2" "$DB3"; do
		timeout 30 dropdb --if-exists "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT
cleanup

fail() {
	echo "worker: FAIL: $*" >&2
	exit 1
}
ok() { echo "worker: ok: $*"; }

# q DB SQL: one value (or rows) unaligned, errors stop the script.
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# eq WHAT GOT EXPECTED
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
# poll DB SQL SECONDS: until SQL returns 't'; false on the deadline
poll() {
	local db=$1 sql=$2 secs=${3:-10} end
	end=$(($(date +%s%N) + secs * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		[ "$(q "$db" "$sql")" = t ] && return 0
		sleep 0.05
	done
	return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
status_of() { q "$DB" "SELECT status FROM flowent.workflow_executions WHERE id = '$1'"; }
# until an execution is in one of the given states (comma-separated, quoted SQL list)
wait_status() {
	local id=$1 states=$2 secs=${3:-10}
	poll "$DB" "SELECT status::text IN ($states) FROM flowent.workflow_executions WHERE id = '$id'" "$secs" ||
		fail "execution $id not in ($states) after ${secs}s: $(q "$DB" "SELECT status, error_code, error FROM flowent.workflow_executions WHERE id = '$id'")"
}
wait_finished() { wait_status "$1" "'success','error','cancelled'" "${2:-10}"; }
nworkers() { q postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$1'"; }

# the server log from here on: the workers must not warn about their leases
. "$(dirname "$0")/../lib/server_log.sh"
log_mark

createdb "$DB"
q "$DB" "SET client_min_messages = warning; CREATE EXTENSION flowent" >/dev/null
WORKERS=$(q "$DB" "SELECT current_setting('flowent.workers')")

# ------------------------------------------------------------------ workers and launcher
t0=$(now_ms)
poll postgres "SELECT count(*) = $WORKERS FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'" 5 ||
	fail "CREATE EXTENSION flowent: expected $WORKERS workers for $DB within 5 s, have $(nworkers "$DB")"
ok "a new database with CREATE EXTENSION gets its $WORKERS workers ($(($(now_ms) - t0)) ms)"
eq "launcher in pg_stat_activity" \
	"$(q postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent launcher'")" 1
eq "workers' application_name" \
	"$(q postgres "SELECT string_agg(DISTINCT application_name, ',') FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'")" \
	"flowent worker"
ok "launcher ('flowent launcher') and $WORKERS workers ('flowent worker') in pg_stat_activity"

# ------------------------------------------------------------------ workflows
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
CREATE SCHEMA t;
CREATE FUNCTION t.n(id text, type text, data jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('id', id, 'type', type, 'position', '{"x":0,"y":0}'::jsonb,
							  'data', jsonb_build_object('label', id) || data)
$$;
CREATE FUNCTION t.e(id text, src text, tgt text, handle text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object('id', id, 'source', src, 'target', tgt, 'sourceHandle', handle))
$$;
CREATE TABLE t.wf (name text PRIMARY KEY, id uuid NOT NULL);
CREATE FUNCTION t.w(name text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM t.wf WHERE wf.name = w.name $$;
-- (node_id, status, output, handle) of an execution in seq order: compares a sync and an async run
CREATE FUNCTION t.trace(x uuid) RETURNS jsonb LANGUAGE sql AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_array(node_id, status, output, handle) ORDER BY seq, node_id), '[]')
	FROM flowent.workflow_node_logs WHERE execution_id = x
$$;

INSERT INTO t.wf VALUES
('slow', flowent.create_workflow('slow',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('s', 'data-transform', '{"expression":"(SELECT to_jsonb(''slept''::text) FROM pg_sleep(1.5))"}'),
		t.n('o', 'output')),
	jsonb_build_array(t.e('e1', 't', 's'), t.e('e2', 's', 'o')))),
('chain', flowent.create_workflow('chain',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('x', 'data-transform', '{"expression":"jsonb_build_object(''sum'', (input->>''a'')::numeric + (input->>''b'')::numeric, ''tags'', input->''tags'')"}'),
		t.n('o', 'output', '{"value":{"sum":"{{x.sum}}","first":"{{x.tags.0}}","text":"a={{trigger.payload.a}}"}}')),
	jsonb_build_array(t.e('e1', 't', 'x'), t.e('e2', 'x', 'o')))),
-- t -> c (n > 1) -true-> big -> m ; -false-> small -> m ; m (merge) -> sw (switch on kind) -> a|b|default -> o
('branchy', flowent.create_workflow('branchy',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('c', 'condition', '{"conditions":[{"left":"{{trigger.payload.n}}","operator":"gt","right":1}]}'),
		t.n('big', 'data-transform', '{"expression":"jsonb_build_object(''size'', ''big'', ''n2'', (state->''trigger''->''payload''->>''n'')::int * 2)"}'),
		t.n('small', 'set-variable', '{"name":"size","value":"small"}'),
		t.n('m', 'merge'),
		t.n('sw', 'switch', '{"value":"{{trigger.payload.kind}}","cases":[{"id":"a","right":"alpha"},{"id":"b","right":"beta"}]}'),
		t.n('ca', 'set-variable', '{"name":"picked","value":"A {{trigger.payload.n}}"}'),
		t.n('cb', 'set-variable', '{"name":"picked","value":"B"}'),
		t.n('cd', 'set-variable', '{"name":"picked","value":"default"}'),
		t.n('o', 'output', '{"value":{"merged":"{{m}}","picked":"{{variables.picked}}","n":"{{trigger.payload.n}}"}}')),
	jsonb_build_array(t.e('e1', 't', 'c'),
		t.e('e2', 'c', 'big', 'true'), t.e('e3', 'c', 'small', 'false'),
		t.e('e4', 'big', 'm'), t.e('e5', 'small', 'm'), t.e('e6', 'm', 'sw'),
		t.e('e7', 'sw', 'ca', 'a'), t.e('e8', 'sw', 'cb', 'b'), t.e('e9', 'sw', 'cd', 'default'),
		t.e('e10', 'ca', 'o'), t.e('e11', 'cb', 'o'), t.e('e12', 'cd', 'o')))),
('delay', flowent.create_workflow('delay',
	jsonb_build_array(t.n('t', 'trigger'), t.n('d', 'delay', '{"durationMs":500}'),
		t.n('o', 'output', '{"value":{"after":"{{trigger.payload.v}}"}}')),
	jsonb_build_array(t.e('e1', 't', 'd'), t.e('e2', 'd', 'o')))),
('delay_long', flowent.create_workflow('delay_long',
	jsonb_build_array(t.n('t', 'trigger'), t.n('d', 'delay', '{"durationMs":1000}'), t.n('o', 'output')),
	jsonb_build_array(t.e('e1', 't', 'd'), t.e('e2', 'd', 'o')))),
('expire_reject', flowent.create_workflow('expire_reject',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('ap', 'human-approval', '{"title":"expiring","expiresInMs":300}'),
		t.n('y', 'output', '{"value":"approved"}'),
		t.n('n', 'output', '{"value":{"rejected":true,"expired":"{{ap.expired}}","approved":"{{ap.approved}}"}}')),
	jsonb_build_array(t.e('e1', 't', 'ap'), t.e('e2', 'ap', 'y', 'approved'), t.e('e3', 'ap', 'n', 'rejected')))),
('expire_fail', flowent.create_workflow('expire_fail',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('ap', 'human-approval', '{"title":"expiring","expiresInMs":300,"onExpire":"fail"}'),
		t.n('y', 'output', '{"value":"approved"}'),
		t.n('n', 'output', '{"value":"rejected"}')),
	jsonb_build_array(t.e('e1', 't', 'ap'), t.e('e2', 'ap', 'y', 'approved'), t.e('e3', 'ap', 'n', 'rejected')))),
('approve', flowent.create_workflow('approve',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('ap', 'human-approval', '{"title":"pay {{trigger.payload.amount}}"}'),
		t.n('y', 'output', '{"value":{"approved":"{{ap.approved}}","comment":"{{ap.comment}}","by":"{{ap.approvedBy}}"}}'),
		t.n('n', 'output', '{"value":"rejected"}')),
	jsonb_build_array(t.e('e1', 't', 'ap'), t.e('e2', 'ap', 'y', 'approved'), t.e('e3', 'ap', 'n', 'rejected')))),
('wait', flowent.create_workflow('wait',
	jsonb_build_array(t.n('t', 'trigger'), t.n('w', 'wait', '{"signal":"go"}'),
		t.n('o', 'output', '{"value":{"got":"{{w}}"}}')),
	jsonb_build_array(t.e('e1', 't', 'w'), t.e('e2', 'w', 'o')))),
('wait_timeout', flowent.create_workflow('wait_timeout',
	jsonb_build_array(t.n('t', 'trigger'), t.n('w', 'wait', '{"timeoutMs":300}'), t.n('o', 'output')),
	jsonb_build_array(t.e('e1', 't', 'w'), t.e('e2', 'w', 'o')))),
('stop', flowent.create_workflow('stop',
	jsonb_build_array(t.n('t', 'trigger'), t.n('s', 'stop-error', '{"message":"boom {{trigger.payload.v}}","code":"MY_CODE"}')),
	jsonb_build_array(t.e('e1', 't', 's')))),
('sqlerr', flowent.create_workflow('sqlerr',
	jsonb_build_array(t.n('t', 'trigger'), t.n('x', 'data-transform', '{"expression":"to_jsonb(1/0)"}'), t.n('o', 'output')),
	jsonb_build_array(t.e('e1', 't', 'x'), t.e('e2', 'x', 'o'))));
SQL
W() { q "$DB" "SELECT t.w('$1')"; }

# ------------------------------------------------------------------ execute returns at once
wf=$(W slow)
res=$(psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SELECT clock_timestamp() AS t0 \gset
SELECT flowent.execute('$wf', '{"k":1}') AS id \gset
SELECT :'id', (extract(epoch FROM clock_timestamp() - :'t0') * 1000)::int;
SQL
)
id=${res%%|*}
ms=${res##*|}
[ "$ms" -lt 500 ] || fail "flowent.execute of a workflow with a 1.5 s node took ${ms} ms: it must return at once"
# the worker holds it in one transaction: others see it pending (or running) until it is done
st=$(status_of "$id")
[ "$st" = pending ] || [ "$st" = running ] || fail "right after execute the execution is '$st', expected pending or running"
wait_finished "$id" 10
eq "slow execution" "$(q "$DB" "SELECT status || '|' || output::text || '|' || mode || '|' || trigger_type || '|' || (completed_at IS NOT NULL) FROM flowent.workflow_executions WHERE id = '$id'")" \
	'success|"slept"|async|manual|true'
eq "slow execution's node logs" "$(q "$DB" "SELECT string_agg(node_id || ':' || status, ',' ORDER BY seq) FROM flowent.workflow_node_logs WHERE execution_id = '$id'")" \
	"t:success,s:success,o:success"
ok "execute returned in ${ms} ms and the background worker finished it (mode async, trigger_type manual)"

# options.triggerType is recorded (schedules and webhooks run the published version)
q "$DB" "SELECT flowent.publish(t.w('chain'))" >/dev/null
id=$(q "$DB" "SELECT flowent.execute(t.w('chain'), '{\"a\":1,\"b\":2,\"tags\":[\"w\"]}', '{\"triggerType\":\"webhook\"}')")
wait_finished "$id" 10
eq "execute with triggerType webhook" "$(q "$DB" "SELECT status || '|' || mode || '|' || trigger_type FROM flowent.workflow_executions WHERE id = '$id'")" "success|async|webhook"
ok "options.triggerType webhook recorded as trigger_type"

# a synchronous run of the same workflow records mode sync
sid=$(q "$DB" "SELECT flowent.run(t.w('chain'), '{\"a\":1,\"b\":2,\"tags\":[\"p\"]}')->>'executionId'")
eq "run's mode" "$(q "$DB" "SELECT mode || '|' || trigger_type FROM flowent.workflow_executions WHERE id = '$sid'")" "sync|manual"
ok "flowent.run records mode sync"

# a rolled-back execute leaves nothing queued and nothing runs
q "$DB" "BEGIN; SELECT flowent.execute(t.w('chain'), '{\"a\":1,\"b\":2}'); ROLLBACK;" >/dev/null
eq "rolled-back execute" "$(q "$DB" "SELECT count(*) FROM flowent.run_queue")|$(q "$DB" "SELECT count(*) FROM flowent.workflow_executions WHERE mode = 'async' AND status <> 'success'")" "0|0"
ok "a rolled-back execute queues nothing"

# ------------------------------------------------------------------ same output as flowent.run
compare() {	# name payload
	local name=$1 payload=$2 sres aid got want
	sres=$(q "$DB" "SELECT flowent.run(t.w('$name'), '$payload')")
	aid=$(q "$DB" "SELECT flowent.execute(t.w('$name'), '$payload')")
	wait_finished "$aid" 10
	want=$(q "$DB" "SELECT '$sres'::jsonb->>'status', '$sres'::jsonb->'output', t.trace(('$sres'::jsonb->>'executionId')::uuid)")
	got=$(q "$DB" "SELECT status, output, t.trace(id) FROM flowent.workflow_executions WHERE id = '$aid'")
	eq "async vs sync of $name $payload" "$got" "$want"
	echo "$got"
}
out=$(compare chain '{"a":1.10,"b":2,"tags":["p","q"]}')
eq "chain output" "$(echo "$out" | cut -d'|' -f1-2)" 'success|{"sum": 3.10, "text": "a=1.10", "first": "p"}'
compare branchy '{"n":5,"kind":"alpha"}' >/dev/null
compare branchy '{"n":0,"kind":"beta"}' >/dev/null
compare branchy '{"n":3,"kind":"zeta"}' >/dev/null
eq "branchy n=5 alpha output" "$(q "$DB" "SELECT (flowent.run(t.w('branchy'), '{\"n\":5,\"kind\":\"alpha\"}')->'output')::text")" \
	'{"n": 5, "merged": {"big": {"n2": 10, "size": "big"}}, "picked": "A 5"}'
ok "3-node chain and branchy graph (condition, merge, switch; 3 payloads): async output and node logs = flowent.run's"

# ------------------------------------------------------------------ delay 500 ms
id=$(q "$DB" "SELECT flowent.execute(t.w('delay'), '{\"v\":7}')")
wait_status "$id" "'suspended','success'" 5
eq "delay: suspended first" "$(status_of "$id")" suspended
eq "delay: node d waiting, one unfired timer" \
	"$(q "$DB" "SELECT (SELECT status FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'd') || '|' || (SELECT count(*) FROM flowent.timers WHERE execution_id = '$id' AND kind = 'delay' AND fired_at IS NULL)")" \
	"waiting|1"
wait_finished "$id" 10
eq "delay: finished" "$(q "$DB" "SELECT status || '|' || output::text FROM flowent.workflow_executions WHERE id = '$id'")" 'success|{"after": 7}'
eq "delay: d took at least its 500 ms, no more than 3 s" \
	"$(q "$DB" "SELECT status || '|' || (completed_at - started_at >= interval '500 ms') || '|' || (completed_at - started_at < interval '3 s') || '|' || (output ? 'resumedAt') FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'd'")" \
	"success|true|true|true"
eq "delay: timer fired" "$(q "$DB" "SELECT count(*) FILTER (WHERE fired_at IS NOT NULL) || '/' || count(*) FROM flowent.timers WHERE execution_id = '$id'")" "1/1"
ok "delay {durationMs: 500}: suspended, then completed by itself after >= 500 ms"

# ------------------------------------------------------------------ approval expiry
id=$(q "$DB" "SELECT flowent.execute(t.w('expire_reject'))")
wait_finished "$id" 10
eq "expiry (reject): approval request" "$(q "$DB" "SELECT status || '|' || resolved_by || '|' || (resolved_at IS NOT NULL) FROM flowent.workflow_approval_requests WHERE execution_id = '$id'")" \
	"expired|system|true"
eq "expiry (reject): execution" "$(q "$DB" "SELECT status || '|' || output::text FROM flowent.workflow_executions WHERE id = '$id'")" \
	'success|{"expired": true, "approved": false, "rejected": true}'
eq "expiry (reject): nodes" "$(q "$DB" "SELECT string_agg(node_id || ':' || status || ':' || coalesce(handle, '-'), ',' ORDER BY node_id) FROM flowent.workflow_node_logs WHERE execution_id = '$id'")" \
	"ap:success:rejected,n:success:-,t:success:out,y:skipped:-"
ok "approval expiresInMs (onExpire reject): request expired, the rejected path ran"

id=$(q "$DB" "SELECT flowent.execute(t.w('expire_fail'))")
wait_finished "$id" 10
eq "expiry (fail): approval request" "$(q "$DB" "SELECT status FROM flowent.workflow_approval_requests WHERE execution_id = '$id'")" expired
eq "expiry (fail): execution" "$(q "$DB" "SELECT status || '|' || error_code || '|' || error_node_id FROM flowent.workflow_executions WHERE id = '$id'")" \
	"error|APPROVAL_EXPIRED|ap"
eq "expiry (fail): nothing after ap succeeded" "$(q "$DB" "SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id IN ('y', 'n') AND status = 'success'")" 0
ok "approval expiresInMs (onExpire fail): request expired, execution error APPROVAL_EXPIRED"

# ------------------------------------------------------------------ async approve
id=$(q "$DB" "SELECT flowent.execute(t.w('approve'), '{\"amount\":12.50}')")
wait_status "$id" "'suspended'" 10
eq "approve: pending request" "$(q "$DB" "SELECT status || '|' || title FROM flowent.workflow_approval_requests WHERE execution_id = '$id'")" "pending|pay 12.50"
r=$(q "$DB" "SELECT flowent.approve('$id', true, 'ok by me', 'bob')")
eq "approve of an async execution" "$(q "$DB" "SELECT r->>'success', r->>'status', r->>'executionId', r->>'resumedFromNodeId', r->'error' FROM (SELECT '$r'::jsonb r) s")" \
	"true|pending|$id|ap|null"
eq "approve: request decided at once" "$(q "$DB" "SELECT status FROM flowent.workflow_approval_requests WHERE execution_id = '$id'")" approved
wait_finished "$id" 10
eq "approve: execution" "$(q "$DB" "SELECT status || '|' || output::text FROM flowent.workflow_executions WHERE id = '$id'")" \
	'success|{"by": "bob", "comment": "ok by me", "approved": true}'
eq "approve: branches" "$(q "$DB" "SELECT string_agg(node_id || ':' || status, ',' ORDER BY node_id) FROM flowent.workflow_node_logs WHERE execution_id = '$id'")" \
	"ap:success,n:skipped,t:success,y:success"
ok "approve of an async execution returns pending, the worker finishes it on the approved branch"

# ------------------------------------------------------------------ async resume of a wait
id=$(q "$DB" "SELECT flowent.execute(t.w('wait'))")
wait_status "$id" "'suspended'" 10
r=$(q "$DB" "SELECT flowent.resume('$id', '{\"answer\":42,\"x\":1.10}')")
eq "resume of an async execution" "$(q "$DB" "SELECT r->>'status', r->>'resumedFromNodeId' FROM (SELECT '$r'::jsonb r) s")" "pending|w"
wait_finished "$id" 10
eq "resume: execution" "$(q "$DB" "SELECT status || '|' || output::text FROM flowent.workflow_executions WHERE id = '$id'")" \
	'success|{"got": {"x": 1.10, "answer": 42}}'
ok "resume of an async wait returns pending, the worker finishes it with the resume data"

# ------------------------------------------------------------------ cancel of a suspended async execution
id=$(q "$DB" "SELECT flowent.execute(t.w('delay_long'))")
wait_status "$id" "'suspended'" 5
r=$(q "$DB" "SELECT flowent.cancel('$id', 'changed my mind')")
eq "cancel" "$(q "$DB" "SELECT r->>'success', r->>'status', r->>'previousStatus' FROM (SELECT '$r'::jsonb r) s")" "true|cancelled|suspended"
eq "cancel: timers gone" "$(q "$DB" "SELECT count(*) FROM flowent.timers WHERE execution_id = '$id'")" 0
# past the delay's due time (1 s after the start): still cancelled, nothing ran
sleep 1.3
# and a stray due timer for it (as if left behind) is consumed without effect
q "$DB" "INSERT INTO flowent.timers (execution_id, node_id, kind, fire_at) VALUES ('$id', 'd', 'delay', clock_timestamp())"
wake=$(q "$DB" "SELECT flowent.execute(t.w('chain'), '{\"a\":1,\"b\":1,\"tags\":[1]}')") # wakes the workers
wait_status "$wake" "'success'" 10
poll "$DB" "SELECT count(*) = 0 FROM flowent.timers WHERE execution_id = '$id' AND fired_at IS NULL" 5 ||
	fail "cancel: the stray timer of a cancelled execution was not consumed"
eq "cancel: still cancelled, nothing after the delay ran" \
	"$(q "$DB" "SELECT e.status || '|' || e.error_code || '|' || e.cancel_reason || '|' || (SELECT string_agg(node_id || ':' || status, ',' ORDER BY node_id) FROM flowent.workflow_node_logs WHERE execution_id = e.id) FROM flowent.workflow_executions e WHERE id = '$id'")" \
	"cancelled|CANCELLED|changed my mind|d:waiting,t:success"
eq "cancel of a finished execution" "$(psql -X -At -q -d "$DB" -c "SELECT flowent.cancel('$id')" 2>&1 | grep -c 'already finished' || true)" 1
ok "cancel of a suspended async execution: cancelled, its timers gone, a later timer does nothing"

# ------------------------------------------------------------------ cancel of a running async execution
# t -> s (1.5 s) -> after -> o: cancelled while s runs, s is interrupted and "after" never runs
rid=$(q "$DB" "SELECT flowent.execute(flowent.create_workflow('cancel running',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
	  {\"id\":\"s\",\"type\":\"data-transform\",\"data\":{\"expression\":\"(SELECT to_jsonb(1) FROM pg_sleep(1.5))\"}},
	  {\"id\":\"after\",\"type\":\"set-variable\",\"data\":{\"name\":\"x\",\"value\":1}},
	  {\"id\":\"o\",\"type\":\"output\",\"data\":{}}]',
	'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"s\"},{\"id\":\"e2\",\"source\":\"s\",\"target\":\"after\"},{\"id\":\"e3\",\"source\":\"after\",\"target\":\"o\"}]'))")
poll postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB' AND wait_event = 'PgSleep'" 5 ||
	fail "cancel running: no worker entered the slow node"
r=$(q "$DB" "SELECT flowent.cancel('$rid', 'stop it')")
eq "cancel running: result" "$(q "$DB" "SELECT r->>'status', r->>'previousStatus' FROM (SELECT '$r'::jsonb r) s")" "cancelled|running"
wait_finished "$rid" 10 || fail "cancel running: the execution did not end"
eq "cancel running: the running node interrupted, nothing after it" \
	"$(q "$DB" "SELECT e.status || '|' || e.error_code || '|' || (SELECT string_agg(node_id || ':' || status, ',' ORDER BY node_id) FROM flowent.workflow_node_logs WHERE execution_id = e.id) FROM flowent.workflow_executions e WHERE id = '$rid'")" \
	"cancelled|CANCELLED|s:error,t:success"
ok "cancel of a running async execution: its running node interrupted (cancelled, later nodes never ran)"

# ------------------------------------------------------------------ async sub-workflows see what their user sees
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flowent_w_alice') THEN CREATE ROLE flowent_w_alice; END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flowent_w_bob') THEN CREATE ROLE flowent_w_bob; END IF;
END $$;
SQL
child_private=$(q "$DB" "SET ROLE flowent_w_alice; SELECT flowent.create_workflow('alice private child',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"secret\"}}]',
	'[{\"id\":\"e\",\"source\":\"t\",\"target\":\"o\"}]')")
child_public=$(q "$DB" "SET ROLE flowent_w_alice; SELECT flowent.create_workflow('alice public child',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"shared\"}}]',
	'[{\"id\":\"e\",\"source\":\"t\",\"target\":\"o\"}]', '{\"visibility\":\"public\"}')")
parent() {
	q "$DB" "SET ROLE flowent_w_bob; SELECT flowent.execute(flowent.create_workflow('bob parent',
		'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"s\",\"type\":\"sub-workflow\",\"data\":{\"workflowId\":\"$1\"}}]',
		'[{\"id\":\"e\",\"source\":\"t\",\"target\":\"s\"}]'))"
}
pid1=$(parent "$child_private")
pid2=$(parent "$child_public")
wait_finished "$pid1" 10 || fail "async sub-workflow (private child) did not finish"
wait_finished "$pid2" 10 || fail "async sub-workflow (public child) did not finish"
eq "async sub-workflow of a workflow the user cannot see" "$(q "$DB" "SELECT status || '|' || error_code FROM flowent.workflow_executions WHERE id = '$pid1'")" "error|SUB_WORKFLOW_FAILED"
eq "async sub-workflow of a public workflow" "$(q "$DB" "SELECT status || '|' || output::text FROM flowent.workflow_executions WHERE id = '$pid2'")" 'success|"shared"'
ok "async sub-workflows: a worker loads only children the execution's user may see"

# ------------------------------------------------------------------ asynchronous rerun
# t -> r (random) -> x (uses r) -> o: rerun from x asynchronously reuses r's output
rwf=$(q "$DB" "SELECT flowent.create_workflow('rerun async',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
	  {\"id\":\"r\",\"type\":\"data-transform\",\"data\":{\"expression\":\"to_jsonb(random())\"}},
	  {\"id\":\"x\",\"type\":\"data-transform\",\"data\":{\"expression\":\"jsonb_build_object(''r'', input, ''at'', clock_timestamp())\"}},
	  {\"id\":\"o\",\"type\":\"output\",\"data\":{}}]',
	'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"r\"},{\"id\":\"e2\",\"source\":\"r\",\"target\":\"x\"},{\"id\":\"e3\",\"source\":\"x\",\"target\":\"o\"}]')")
orig=$(q "$DB" "SELECT flowent.run('$rwf')->>'executionId'")
rid2=$(q "$DB" "SELECT flowent.rerun('$orig', 'x', '{\"mode\": \"async\"}')")
wait_finished "$rid2" 10 || fail "async rerun did not finish"
eq "async rerun" "$(q "$DB" "SELECT n.status || '|' || n.mode || '|' || (n.output->'r' = o.output->'r')::text || '|' || (n.output->'at' <> o.output->'at')::text || '|' || (n.rerun_of = o.id)::text
	FROM flowent.workflow_executions n, flowent.workflow_executions o WHERE n.id = '$rid2' AND o.id = '$orig'")" "success|async|true|true|true"
ok "asynchronous rerun from a node: earlier outputs reused, the node and what follows run again"

# ------------------------------------------------------------------ wait.timeoutMs, failing nodes
id=$(q "$DB" "SELECT flowent.execute(t.w('wait_timeout'))")
wait_finished "$id" 10
eq "wait timeout" "$(q "$DB" "SELECT status || '|' || error_code || '|' || error_node_id FROM flowent.workflow_executions WHERE id = '$id'")" "error|TIMEOUT|w"
eq "wait timeout: node log" "$(q "$DB" "SELECT status || '|' || error_code FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'w'")" "error|TIMEOUT"
ok "wait {timeoutMs: 300} -> error TIMEOUT"

id=$(q "$DB" "SELECT flowent.execute(t.w('stop'), '{\"v\":\"x\"}')")
wait_finished "$id" 10
eq "stop-error" "$(q "$DB" "SELECT status || '|' || error_code || '|' || error_node_id || '|' || error FROM flowent.workflow_executions WHERE id = '$id'")" \
	"error|MY_CODE|s|boom x"
id=$(q "$DB" "SELECT flowent.execute(t.w('sqlerr'))")
wait_finished "$id" 10
eq "SQL error" "$(q "$DB" "SELECT status || '|' || error_code || '|' || error_node_id || '|' || (error LIKE '%division by zero%') FROM flowent.workflow_executions WHERE id = '$id'")" \
	"error|SQL_ERROR|x|true"
eq "SQL error: o never ran" "$(q "$DB" "SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'o' AND status = 'success'")" 0
ok "failing nodes: status error with the node's code (MY_CODE, SQL_ERROR)"

# nothing left behind for the workers
eq "queue and timers drained" "$(q "$DB" "SELECT (SELECT count(*) FROM flowent.run_queue) || '|' || (SELECT count(*) FROM flowent.timers WHERE fired_at IS NULL) || '|' || (SELECT count(*) FROM flowent.workflow_executions WHERE status IN ('pending', 'running'))")" \
	"0|0|0"

# ------------------------------------------------------------------ no CPU while idle
pids=$(q postgres "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'")
[ "$(echo "$pids" | wc -w)" -eq "$WORKERS" ] || fail "idle: expected $WORKERS workers, found '$pids'"
ticks() {	# utime + stime of each pid
	local p
	for p in $pids; do
		# fields after the ')' of the command: state is 1, utime 12, stime 13
		sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'
	done
}
sleep 0.5
mapfile -t before < <(ticks)
sleep 3
mapfile -t after < <(ticks)
i=0
for p in $pids; do
	d=$((after[i] - before[i]))
	[ "$d" -le 1 ] || fail "idle: worker $p used $d clock ticks in 3 s while idle (expected <= 1; CLK_TCK $(getconf CLK_TCK))"
	echo "worker: idle worker $p: $d ticks in 3 s"
	i=$((i + 1))
done
ok "no CPU while idle (workers sleep on their latch)"

# ------------------------------------------------------------------ DROP DATABASE is not blocked
createdb "$DB2"
q "$DB2" "SET client_min_messages = warning; CREATE EXTENSION flowent" >/dev/null
t0=$(now_ms)
poll postgres "SELECT count(*) = $WORKERS FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB2'" 5 ||
	fail "$DB2: expected $WORKERS workers within 5 s, have $(nworkers "$DB2")"
ok "second new database got its workers in $(($(now_ms) - t0)) ms"
oid=$(q postgres "SELECT oid FROM pg_database WHERE datname = '$DB2'")
t0=$(now_ms)
timeout 20 dropdb "$DB2" || fail "dropdb $DB2 (served by $WORKERS workers) failed or took over 20 s"
ms=$(($(now_ms) - t0))
ok "DROP DATABASE of an idle served database: ${ms} ms"
poll postgres "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datid = $oid" 5 ||
	fail "workers of the dropped database $DB2 are still there"

# while a worker is busy in a slow node
createdb "$DB3"
q "$DB3" "SET client_min_messages = warning; CREATE EXTENSION flowent" >/dev/null
poll postgres "SELECT count(*) = $WORKERS FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB3'" 5 ||
	fail "$DB3: expected $WORKERS workers within 5 s, have $(nworkers "$DB3")"
q "$DB3" "SELECT flowent.execute(flowent.create_workflow('busy',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"s\",\"type\":\"data-transform\",\"data\":{\"expression\":\"(SELECT to_jsonb(1) FROM pg_sleep(30))\"}}]',
	'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"s\"}]'))" >/dev/null
poll postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB3' AND wait_event = 'PgSleep'" 5 ||
	fail "$DB3: no worker is in the slow node"
t0=$(now_ms)
timeout 20 dropdb "$DB3" || fail "dropdb $DB3 while a worker runs a 30 s node failed or took over 20 s"
ms=$(($(now_ms) - t0))
ok "DROP DATABASE while a worker is busy in a 30 s node: ${ms} ms"

lease_warnings=$(log_since_mark | grep -c "you don't own a lock" || true)
eq "lease warnings in the server log" "$lease_warnings" 0
ok "the workers give back the leases they took as they took them (no \"you don't own a lock\" in the server log)"
echo "worker: all checks passed"
