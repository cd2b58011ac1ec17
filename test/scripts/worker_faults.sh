#!/usr/bin/env bash
# The worker's error paths and decisions (issue 7), against the running cluster
# (PGHOST/PGPORT/PGUSER, flowent preloaded), in a database of its own:
#   (a) a continuation that fails after its HTTP response ends the execution
#       `error` at once; the request is not sent again;
#   (b) an abandoned HTTP request (its worker terminated) is sent again and
#       counted; after the last try the execution fails with ORPHANED;
#   (c) approve racing cancel: one wins, the other gets 55000, never 40P01;
#   (d) cancel while the last node of an async execution runs: it ends
#       `cancelled` with the reason; a node that runs long (60 s of SQL) is
#       interrupted by the cancel, and the worker goes on with other work;
#   (e) ten trivial executions queued behind a slow one finish while it runs
#       (the other worker takes them);
#   (f) flowent.node_timeout_ms bounds a SQL node unless its timeoutMs says
#       otherwise; a timeoutMs over 2^31 is a validation error naming it;
#   (g) requests in flight that do not complete cost (almost) no transactions;
#   (h) in async runs a node's retry backoff is a timer (the execution waits,
#       committed), not a sleep in the worker's transaction;
#   (i) deleting a workflow whose execution a parent waits on fails the
#       parent's sub-workflow node instead of leaving it suspended forever;
#   (j) the HTTP calls of parallel branches of an async run are in flight at
#       the same time;
#   (k) so are those of loop-controller items, up to the loop's `parallel`,
#       each answer continuing its own iteration.
# Workers are stopped only with pg_terminate_backend (a clean exit): kill -9
# cases are in worker_crash.sh, in a private cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DB=flowent_faults_test
TMP=$(mktemp -d)
# shellcheck disable=SC2317
cleanup() {
	stop_fake_http
	allow '' >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] || timeout 30 dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
fail() { echo "worker_faults: FAIL: $*" >&2; exit 1; }
ok() { echo "worker_faults: ok: $*"; }
# shellcheck source=test/lib/fake_http.sh
. test/lib/fake_http.sh
trap cleanup EXIT

q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
poll() {	# poll SQL SECONDS: until SQL returns 't'
	local end=$(($(date +%s%N) + $2 * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		[ "$(q "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.05
	done
	return 1
}
row() { q "SELECT status || '|' || coalesce(error_code, '') FROM flowent.workflow_executions WHERE id = '$1'"; }
wait_finished() {
	poll "SELECT status::text IN ('success', 'error', 'cancelled') FROM flowent.workflow_executions WHERE id = '$1'" "${2:-15}" ||
		fail "execution $1 did not finish: $(q "SELECT status, error_code, error FROM flowent.workflow_executions WHERE id = '$1'")"
}
# the pid of the worker holding execution $1 (its lease)
holder() {
	q "SELECT pid FROM pg_locks WHERE locktype = 'userlock' AND granted AND classid = 'flowent.workflow_executions'::regclass
	   AND objid = hashtext('$1')::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
}

start_fake_http
allow 127.0.0.1
timeout 30 dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION flowent;
CREATE FUNCTION n(id text, type text, data jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS \$\$
	SELECT jsonb_build_object('id', id, 'type', type, 'position', '{"x":0,"y":0}'::jsonb, 'data', data)
\$\$;
CREATE FUNCTION chain(name text, VARIADIC nodes jsonb[]) RETURNS uuid LANGUAGE sql AS \$\$
	SELECT flowent.create_workflow(name, to_jsonb(nodes),
		(SELECT coalesce(jsonb_agg(jsonb_build_object('id', 'e' || i, 'source', nodes[i]->>'id', 'target', nodes[i + 1]->>'id')), '[]')
		 FROM generate_series(1, array_length(nodes, 1) - 1) i))
\$\$;
CREATE TABLE wf (name text PRIMARY KEY, id uuid);
CREATE SEQUENCE flaky;
INSERT INTO wf VALUES
 ('post', chain('post', n('t', 'trigger'), n('h', 'http-request', '{"method": "POST", "url": "$BASE/echo/once", "body": {"a": 1}}'), n('o', 'output', '{"value": "{{h.status}}"}'))),
 ('slow', chain('slow', n('t', 'trigger'), n('h', 'http-request', '{"url": "$BASE/slow?ms=30000", "timeoutMs": 60000}'))),
 ('approval', flowent.create_workflow('approval',
	jsonb_build_array(n('t', 'trigger'), n('a', 'human-approval', '{"title": "ok?"}'), n('o', 'output', '{"value": "done"}')),
	'[{"id": "e1", "source": "t", "target": "a"}, {"id": "e2", "source": "a", "target": "o", "sourceHandle": "approved"}]')),
 ('last', chain('last', n('t', 'trigger'), n('s', 'data-transform', '{"expression": "(SELECT to_jsonb(true) FROM pg_sleep(1.5))"}'))),
 ('slow5', chain('slow5', n('t', 'trigger'), n('s', 'data-transform', '{"expression": "(SELECT to_jsonb(true) FROM pg_sleep(5))"}'))),
 ('slow60', chain('slow60', n('t', 'trigger'), n('s', 'data-transform', '{"expression": "(SELECT to_jsonb(true) FROM pg_sleep(60))", "timeoutMs": 120000}'),
	n('after', 'data-transform', '{"expression": "to_jsonb(1)"}'))),
 ('half', chain('half', n('t', 'trigger'), n('s', 'data-transform', '{"expression": "(SELECT to_jsonb(true) FROM pg_sleep(0.5))"}'))),
 ('half2s', chain('half2s', n('t', 'trigger'), n('s', 'data-transform', '{"expression": "(SELECT to_jsonb(true) FROM pg_sleep(0.5))", "timeoutMs": 2000}'))),
 ('flaky', chain('flaky', n('t', 'trigger'), n('f', 'database-query', '{"query": "SELECT CASE WHEN v < 3 THEN 1 / (v - v) ELSE 7 END AS x FROM nextval(''public.flaky'') v", "readOnly": false, "retry": {"maxAttempts": 3, "backoffMs": 400}}'))),
 ('trivial', chain('trivial', n('t', 'trigger'), n('o', 'output', '{"value": "{{trigger.payload.i}}"}')));
SQL
w() { q "SELECT id FROM wf WHERE name = '$1'"; }

# ---------------------------------------------------------------- (a)
# A continuation that raises (here: a trigger refusing the final row) after the response is in.
q "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'refused by the test'; END \$\$"
q "CREATE TRIGGER refuse BEFORE UPDATE ON flowent.workflow_executions FOR EACH ROW
   WHEN (NEW.status = 'success' AND NEW.input->>'refuse' = 'yes') EXECUTE FUNCTION refuse()"
clear_log
id=$(q "SELECT flowent.execute('$(w post)', '{\"refuse\": \"yes\"}')")
wait_finished "$id"
eq "(a) the failed continuation ends the execution" "$(row "$id")" "error|SQL_ERROR"
eq "(a) its message" "$(q "SELECT error FROM flowent.workflow_executions WHERE id = '$id'")" "refused by the test"
sleep 6	# orphan recovery looks every 5 s
eq "(a) the POST was sent once" "$(requests_to /echo/once)" 1
eq "(a) the execution stays failed" "$(row "$id")" "error|SQL_ERROR"
q "DROP TRIGGER refuse ON flowent.workflow_executions"
ok "(a) a continuation failing after its HTTP response: error at once, the POST sent once in 6 s"

# ---------------------------------------------------------------- (b)
clear_log
id=$(q "SELECT flowent.execute('$(w slow)')")
poll "SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'userlock' AND granted AND objid = hashtext('$id')::oid" 10 ||
	fail "(b) no worker holds the slow request"
poll "SELECT true FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'h' AND status = 'waiting'" 5 ||
	fail "(b) the HTTP node is not waiting"
q "SELECT pg_terminate_backend($(holder "$id"))" >/dev/null
poll "SELECT (output->>'recoveries')::int = 1 FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'h' AND status = 'waiting'" 20 ||
	fail "(b) the abandoned request was not recovered: $(q "SELECT output FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'h'")"
poll "SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'userlock' AND granted AND objid = hashtext('$id')::oid" 10 ||
	fail "(b) no worker took up the recovered request"
for _ in $(seq 1 50); do [ "$(requests_to /slow)" = 2 ] && break; sleep 0.1; done
eq "(b) the request was sent again" "$(requests_to /slow)" 2
eq "(b) still suspended" "$(row "$id")" "suspended|"
# as if it had been abandoned four more times: the next loss is the last try
q "UPDATE flowent.workflow_node_logs SET output = output || '{\"recoveries\": 5, \"recoveredAt\": \"2000-01-01T00:00:00Z\"}'
   WHERE execution_id = '$id' AND node_id = 'h'"
q "SELECT pg_terminate_backend($(holder "$id"))" >/dev/null
wait_finished "$id" 20
eq "(b) recovery gave up" "$(row "$id")" "error|ORPHANED"
eq "(b) the node log says so" "$(q "SELECT status FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'h'")" error
eq "(b) not sent a third time" "$(requests_to /slow)" 2
ok "(b) abandoned request: recovered and counted, then ORPHANED after the last try"

# ---------------------------------------------------------------- (c)
# approve and cancel at the same moment (both wait on a barrier the test holds)
race() {	# race ID: prints the SQLSTATE (or ok) of approve, then of cancel
	local id=$1 pid
	psql -X -At -q -d "$DB" -c "SELECT pg_advisory_lock(4242)" -c "SELECT pg_sleep(0.3)" >/dev/null &
	pid=$!
	sleep 0.1
	for f in "flowent.approve('$id', true)" "flowent.cancel('$id', 'raced')"; do
		psql -X -At -q -d "$DB" -v VERBOSITY=verbose -c "SELECT pg_advisory_lock_shared(4242)" -c "SELECT $f" \
			>"$TMP/race.$f.out" 2>&1 &
	done
	wait
	for f in "flowent.approve('$id', true)" "flowent.cancel('$id', 'raced')"; do
		if grep -q '^ERROR:' "$TMP/race.$f.out"; then
			sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' "$TMP/race.$f.out" | head -1
		else
			echo ok
		fi
	done | paste -sd' '
}
wins=""
for i in $(seq 1 12); do
	# a synchronous run: approve continues it in its own transaction
	id=$(q "SELECT flowent.run('$(w approval)')->>'executionId'")
	r=$(race "$id")
	case "$r" in
	"ok 55000") [ "$(row "$id")" = "success|" ] || fail "(c) approve won but the execution is $(row "$id")" ;;
	"55000 ok") [ "$(row "$id")" = "cancelled|CANCELLED" ] || fail "(c) cancel won but the execution is $(row "$id")" ;;
	*) fail "(c) sync try $i: approve, cancel -> $r (expected one ok and one 55000): $(cat "$TMP"/race.*)" ;;
	esac
	wins="$wins ${r%% *}"
	# an asynchronous one: approve hands it to the worker, a cancel after it still cancels
	id=$(q "SELECT flowent.execute('$(w approval)')")
	poll "SELECT status = 'suspended' FROM flowent.workflow_executions WHERE id = '$id'" 10 || fail "(c) async execution not suspended"
	r=$(race "$id")
	case "$r" in *40P01*) fail "(c) async try $i: deadlock: $(cat "$TMP"/race.*)" ;; esac
	wait_finished "$id"
	case "$r|$(row "$id")" in
	"ok ok|cancelled|CANCELLED" | "55000 ok|cancelled|CANCELLED" | "ok 55000|success|") ;;
	*) fail "(c) async try $i: approve, cancel -> $r, execution $(row "$id")" ;;
	esac
done
ok "(c) approve racing cancel, 12 + 12 tries: never a deadlock; sync winners (approve=ok):$wins"

# ---------------------------------------------------------------- (d)
id=$(q "SELECT flowent.execute('$(w last)')")
poll "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = current_database() AND wait_event = 'PgSleep'" 10 ||
	fail "(d) no worker entered the last node"
eq "(d) cancel answers" "$(q "SELECT r->>'status' || '|' || (r->>'previousStatus') FROM flowent.cancel('$id', 'stop now') r")" "cancelled|running"
wait_finished "$id"
eq "(d) the execution ends cancelled" "$(row "$id")" "cancelled|CANCELLED"
eq "(d) with its reason" "$(q "SELECT cancel_reason || '|' || error FROM flowent.workflow_executions WHERE id = '$id'")" "stop now|cancelled: stop now"
eq "(d) a second cancel" "$(psql -X -At -q -d "$DB" -v VERBOSITY=verbose -c "SELECT flowent.cancel('$id')" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p')" 55000
ok "(d) cancel during the last node of an async execution: cancelled, with the reason"
id=$(q "SELECT flowent.execute('$(w slow60)')")
poll "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = current_database() AND wait_event = 'PgSleep'" 10 ||
	fail "(d) no worker entered the 60 s node"
t0=$(date +%s%N)
q "SELECT flowent.cancel('$id', 'too slow')" >/dev/null
wait_finished "$id" 5
ms=$((($(date +%s%N) - t0) / 1000000))
eq "(d) the long node interrupted: the execution" "$(row "$id")|$(q "SELECT error FROM flowent.workflow_executions WHERE id = '$id'")" "cancelled|CANCELLED|cancelled: too slow"
eq "(d) the node's log" "$(q "SELECT string_agg(node_id || '=' || status || ':' || coalesce(error_code, ''), ',' ORDER BY seq) FROM flowent.workflow_node_logs WHERE execution_id = '$id'")" "t=success:,s=error:CANCELLED"
eq "(d) no worker still sleeps in it" "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = current_database() AND wait_event = 'PgSleep'")" 0
id2=$(q "SELECT flowent.execute('$(w trivial)', '{\"i\": 5}')")
wait_finished "$id2" 10
eq "(d) the workers go on" "$(row "$id2")" "success|"
q "DELETE FROM flowent.workflow_executions WHERE id = '$id2'"	# (e) counts the trivial ones
ok "(d) cancel of an execution whose node runs 60 s of SQL: interrupted, cancelled after $ms ms"

# ---------------------------------------------------------------- (e)
slow=$(q "SELECT flowent.execute('$(w slow5)')")
poll "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = current_database() AND wait_event = 'PgSleep'" 10 ||
	fail "(e) no worker entered the slow node"
q "SELECT flowent.execute('$(w trivial)', jsonb_build_object('i', i)) FROM generate_series(1, 10) i" >/dev/null
poll "SELECT count(*) = 10 FROM flowent.workflow_executions WHERE workflow_id = '$(w trivial)' AND status = 'success'" 4 ||
	fail "(e) the trivial executions waited for the slow one: $(q "SELECT string_agg(status::text, ',') FROM flowent.workflow_executions WHERE workflow_id = '$(w trivial)'")"
case "$(row "$slow")" in pending\|* | running\|*) ;; *) fail "(e) the slow one is $(row "$slow")" ;; esac
wait_finished "$slow" 15
ok "(e) ten trivial executions behind a 5 s node: done while it ran"

# ---------------------------------------------------------------- (f)
eq "(f) default flowent.node_timeout_ms" "$(q "SHOW flowent.node_timeout_ms")" "5min"
r=$(psql -X -At -q -d "$DB" -c "SET flowent.node_timeout_ms = 200" -c "SELECT r->>'status', r->'error'->>'code', r->'error'->>'message' FROM flowent.run('$(w half)') r")
eq "(f) a 500 ms node with flowent.node_timeout_ms = 200" "$r" 'error|TIMEOUT|node "s" timed out after 200 ms'
r=$(psql -X -At -q -d "$DB" -c "SET flowent.node_timeout_ms = 200" -c "SELECT r->>'status' FROM flowent.run('$(w half2s)') r")
eq "(f) its timeoutMs 2000 raises the limit" "$r" success
r=$(psql -X -At -q -d "$DB" -c "SELECT e->>'code', e->>'field', e->>'message' FROM jsonb_array_elements(flowent.validate(
	'[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}}, {\"id\": \"s\", \"type\": \"data-transform\", \"data\": {\"expression\": \"1\", \"timeoutMs\": 2147483648, \"retry\": {\"maxAttempts\": 99999999999}}}]',
	'[{\"id\": \"e\", \"source\": \"t\", \"target\": \"s\"}]')->'errors') e ORDER BY 2")
eq "(f) numbers over 2^31 in timeoutMs and retry" "$r" 'INVALID_FIELD_TYPE|retry.maxAttempts|node "s": field "retry.maxAttempts" must be an integer from 1 to 100, got 99999999999
INVALID_FIELD_TYPE|timeoutMs|node "s": field "timeoutMs" must be an integer from 0 to 86400000, got 2147483648'
r=$( (psql -X -At -q -d "$DB" -v VERBOSITY=verbose -c "SELECT flowent.run('$(w half)', '{}', '{\"version\": 99999999999}')" 2>&1 || true) | sed -n 's/^ERROR:  //p')
eq "(f) options.version over 2^31" "$r" '22023: options.version must be an integer from 1 to 2147483647, got 99999999999'
ok "(f) flowent.node_timeout_ms and timeoutMs; numbers out of range named"

# ---------------------------------------------------------------- (g)
# requests in flight do not make the workers poll: they sleep on curl's sockets and the latch
q "SELECT flowent.execute('$(w slow)') FROM generate_series(1, 50)" >/dev/null
for _ in $(seq 100); do [ "$(requests_to /slow)" -ge 52 ] && break; sleep 0.1; done
sleep 1.5
a=$(q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
sleep 3
sleep 1.2
b=$(q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
[ $((b - a)) -lt 90 ] || fail "(g) with 50 requests in flight the database committed $((b - a)) transactions in about 4 s (the workers poll)"
# and pg_stat_activity shows them idle while they wait (10 samples over a second)
busy=0
for _ in $(seq 10); do
	busy=$((busy + $(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = current_database() AND wait_event = 'Extension' AND state = 'active'")))
	sleep 0.1
done
eq "(g) samples of a waiting worker shown as active" "$busy" 0
ok "(g) 50 requests in flight, none completing: $((b - a)) transactions in about 4 s, the workers idle"
q "SELECT flowent.cancel(id) FROM flowent.workflow_executions WHERE status = 'suspended'" >/dev/null

# ---------------------------------------------------------------- (h)
id=$(q "SELECT flowent.execute('$(w flaky)')")
poll "SELECT output->>'kind' = 'retry' AND (output->>'attempt')::int = 2 FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'f' AND status = 'waiting'" 5 ||
	fail "(h) no committed retry wait: $(q "SELECT status, output FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'f'")"
eq "(h) a retry timer" "$(q "SELECT kind FROM flowent.timers WHERE execution_id = '$id' AND fired_at IS NULL")" retry
eq "(h) no worker sleeps meanwhile" "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = current_database() AND wait_event = 'Extension' AND state = 'active'")" 0
wait_finished "$id"
eq "(h) the third attempt succeeds" "$(q "SELECT status || '|' || (output->'rows'->0->>'x') FROM flowent.workflow_executions WHERE id = '$id'")" 'success|7'
eq "(h) one success log with 3 attempts" "$(q "SELECT string_agg(status::text || ':' || coalesce(attempts::text, '-'), ',') FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'f'")" "success:3"
ok "(h) async retry backoff: a committed wait on a retry timer, then success at attempt 3"

# ---------------------------------------------------------------- (i)
child=$(q "SELECT flowent.create_workflow('child waits', jsonb_build_array(n('t', 'trigger'), n('a', 'human-approval', '{\"title\": \"ok?\"}')),
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"a\"}]')")
parent=$(q "SELECT chain('parent waits', n('t', 'trigger'), n('s', 'sub-workflow', '{\"workflowId\": \"$child\"}'), n('o', 'output', '{\"value\": \"done\"}'))")
id=$(q "SELECT flowent.run('$parent')->>'executionId'")
eq "(i) the parent waits on its child" "$(row "$id")" "suspended|"
q "SELECT flowent.delete_workflow('$child')" >/dev/null
wait_finished "$id" 15
eq "(i) the parent's node fails" "$(row "$id")" "error|SUB_WORKFLOW_FAILED"
case "$(q "SELECT error FROM flowent.workflow_executions WHERE id = '$id'")" in
*"ended with DELETED: its workflow $child was deleted"*) ;;
*) fail "(i) the error: $(q "SELECT error FROM flowent.workflow_executions WHERE id = '$id'")" ;;
esac
ok "(i) the child's workflow deleted: the waiting parent fails SUB_WORKFLOW_FAILED instead of waiting forever"

# ---------------------------------------------------------------- (j)
clear_log
par=$(q "SELECT flowent.create_workflow('parallel calls', jsonb_build_array(n('t', 'trigger'),
	n('a', 'http-request', '{\"url\": \"$BASE/slow?ms=3000&b=a\"}'), n('b', 'http-request', '{\"url\": \"$BASE/slow?ms=3000&b=b\"}'),
	n('m', 'merge'), n('o', 'output', '{\"value\": [\"{{a.status}}\", \"{{b.status}}\"]}')),
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"a\"}, {\"id\": \"e2\", \"source\": \"t\", \"target\": \"b\"},
	  {\"id\": \"e3\", \"source\": \"a\", \"target\": \"m\"}, {\"id\": \"e4\", \"source\": \"b\", \"target\": \"m\"},
	  {\"id\": \"e5\", \"source\": \"m\", \"target\": \"o\"}]')")
id=$(q "SELECT flowent.execute('$par')")
for _ in $(seq 1 40); do [ "$(requests_to /slow)" = 2 ] && break; sleep 0.05; done
eq "(j) both branches' requests arrived while neither was answered" "$(requests_to /slow)|$(row "$id")" "2|suspended|"
wait_finished "$id" 15
eq "(j) the run" "$(q "SELECT status || '|' || output::text FROM flowent.workflow_executions WHERE id = '$id'")" 'success|[200, 200]'
ok "(j) two parallel HTTP branches of an async run: both requests in flight at once"

# ---------------------------------------------------------------- (k)
clear_log
ploop() {	# ploop NAME PARALLEL: a loop over the trigger's items, one slow call per item
	q "SELECT flowent.create_workflow('$1', jsonb_build_array(n('t', 'trigger'),
		n('l', 'loop-controller', '{\"items\": \"{{trigger.payload.items}}\", \"parallel\": $2}'),
		n('h', 'http-request', '{\"url\": \"$BASE/slow?ms={{loop.item}}&i={{loop.index}}\"}'), n('o', 'output')),
		'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"l\"}, {\"id\": \"e2\", \"source\": \"l\", \"sourceHandle\": \"body\", \"target\": \"h\"},
		  {\"id\": \"e4\", \"source\": \"l\", \"sourceHandle\": \"done\", \"target\": \"o\"}]')"
}
all4=$(ploop 'parallel loop' 4)
# item 1 answers first, item 0 last: each answer must land in its own iteration
id=$(q "SELECT flowent.execute('$all4', '{\"items\": [3000, 1000, 2000, 1500]}')")
for _ in $(seq 1 40); do [ "$(requests_to /slow)" = 4 ] && break; sleep 0.05; done
eq "(k) parallel 4: all four items' requests arrived while none was answered" "$(requests_to /slow)|$(row "$id")" "4|suspended|"
wait_finished "$id" 15
eq "(k) parallel 4: the results, in item order" \
	"$(q "SELECT status || '|' || (SELECT string_agg((r->>'status') || ':' || (r->'body'->>'slept'), ',') FROM jsonb_array_elements(output->'results') r)
	      FROM flowent.workflow_executions WHERE id = '$id'")" 'success|200:3000,200:1000,200:2000,200:1500'
eq "(k) each iteration logged its own answer" \
	"$(q "SELECT string_agg(iteration || '=' || (output->'body'->>'slept'), ',' ORDER BY iteration) FROM flowent.workflow_node_logs
	      WHERE execution_id = '$id' AND node_id = 'h' AND status = 'success'")" 'l:0=3000,l:1=1000,l:2=2000,l:3=1500'
clear_log
two=$(ploop 'loop of two at once' 2)
# (answers after 4 s: time enough to see that no third request went out meanwhile)
id=$(q "SELECT flowent.execute('$two', '{\"items\": [4000, 4000, 4000, 4000]}')")
for _ in $(seq 1 40); do [ "$(requests_to /slow)" = 2 ] && break; sleep 0.05; done
sleep 1
eq "(k) parallel 2: two requests in flight, the others not sent yet" "$(requests_to /slow)" 2
wait_finished "$id" 20
eq "(k) parallel 2: every item ran" "$(row "$id")|$(requests_to /slow)" "success||4"
# timers in parallel iterations: each fires for its own iteration (the shorter delay, item 1, first)
dl=$(q "SELECT flowent.create_workflow('parallel delays', jsonb_build_array(n('t', 'trigger'),
	n('l', 'loop-controller', '{\"items\": [2000, 300], \"parallel\": 2}'),
	n('d', 'delay', '{\"durationMs\": \"{{loop.item}}\"}'), n('o', 'output')),
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"l\"}, {\"id\": \"e2\", \"source\": \"l\", \"sourceHandle\": \"body\", \"target\": \"d\"},
	  {\"id\": \"e3\", \"source\": \"l\", \"sourceHandle\": \"done\", \"target\": \"o\"}]')")
id=$(q "SELECT flowent.execute('$dl')")
poll "SELECT count(*) = 1 FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'd' AND status = 'success'" 10 ||
	fail "(k) no delay ended"
eq "(k) the first delay to end is item 1's (300 ms), item 0 still waits" \
	"$(q "SELECT string_agg(iteration || '=' || status, ',' ORDER BY iteration) FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'd'")" \
	'l:0=waiting,l:1=success'
wait_finished "$id" 15
eq "(k) parallel delays: the run" "$(row "$id")" "success|"
ok "(k) loop-controller items: up to \`parallel\` requests in flight at once, each answer continuing its own iteration"

# every decision above in one lock order: not one deadlock was detected in this database
sleep 1.2	# workers report their statistics at most once a second
eq "deadlocks detected" "$(q "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")" 0
