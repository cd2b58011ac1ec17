#!/usr/bin/env bash
# Background worker under crashes and bad settings (issue 3 item 8, DESIGN §8, Appendix B
# "Worker"), in a PRIVATE cluster (own data directory, port and socket) so that crashing it
# disturbs nobody. It uses the installed flowent.so (make install first).
#   (d) without the preload: CREATE EXTENSION and flowent.run work, flowent.execute raises
#       55000 with a hint naming shared_preload_libraries; no flowent processes.
#   (c) flowent.workers = 0 / 99 in postgresql.conf: the server refuses to start and its log
#       names flowent.workers and the allowed range.
#   (a) kill -9 of a worker inside a slow node: the execution still finishes, each node has
#       exactly one success log.
#   (b) 1,000 executions (some queued, some suspended on a delay, some done) and
#       `pg_ctl restart -m immediate`: all finish with success, each node of each with exactly
#       one success log.
#   (e) HTTP in flight: kill -9 of the worker holding a request (and the calls of three
#       parallel loop iterations) sends each again with its own key; hung endpoints time out.
# FLOWENT_CRASH_PGPORT (default 54360) picks the port. Exit status 0 only when all passed.
set -euo pipefail

PORT=${FLOWENT_CRASH_PGPORT:-54360}
N=${FLOWENT_CRASH_N:-1000}

fail() {
	echo "worker_crash: FAIL: $*" >&2
	if [ -n "${LOG:-}" ] && [ -f "$LOG" ]; then
		echo "---- last lines of $LOG ----" >&2
		tail -n 25 "$LOG" >&2
	fi
	exit 1
}
ok() { echo "worker_crash: ok: $*"; }
SOFT_FAILED=()
soft_fail() {
	echo "worker_crash: FAIL: $*" >&2
	SOFT_FAILED+=("$*")
}
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# shellcheck source=test/lib/private_cluster.sh
. "$(dirname "$0")/../lib/private_cluster.sh"

DB=crash

q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "${2:-$DB}" -c "$1"; }
# poll SQL SECONDS [DB]: until SQL returns 't'
poll() {
	local sql=$1 secs=$2 db=${3:-$DB} end
	end=$(($(date +%s%N) + secs * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		[ "$(psql -X -At -q -d "$db" -c "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

cat >>"$DATA/postgresql.conf" <<EOF
synchronous_commit = on
include_if_exists = 'preload.conf'
include_if_exists = 'bad.conf'
EOF

# ------------------------------------------------------------------ (d) without the preload
start
q "CREATE DATABASE $DB" postgres
q "SET client_min_messages = warning; CREATE EXTENSION flowent" >/dev/null
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
-- t -> a -> s (2 s) -> o
INSERT INTO t.wf VALUES ('slow', flowent.create_workflow('slow',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('a', 'data-transform', '{"expression":"jsonb_build_object(''k'', input->''k'')"}'),
		t.n('s', 'data-transform', '{"expression":"(SELECT jsonb_build_object(''slept'', true) FROM pg_sleep(2))"}'),
		t.n('o', 'output', '{"value":{"k":"{{a.k}}","slept":"{{s.slept}}"}}')),
	jsonb_build_array(t.e('e1', 't', 'a'), t.e('e2', 'a', 's'), t.e('e3', 's', 'o'))));
-- t -> a -> d (500 ms) -> b -> o
INSERT INTO t.wf VALUES ('many', flowent.create_workflow('many',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('a', 'data-transform', '{"expression":"to_jsonb((input->>''i'')::int * 2)"}'),
		t.n('d', 'delay', '{"durationMs":500}'),
		t.n('b', 'set-variable', '{"name":"v","value":"{{a}}"}'),
		t.n('o', 'output', '{"value":{"i":"{{trigger.payload.i}}","twice":"{{variables.v}}"}}')),
	jsonb_build_array(t.e('e1', 't', 'a'), t.e('e2', 'a', 'd'), t.e('e3', 'd', 'b'), t.e('e4', 'b', 'o'))));
SQL
eq "(d) flowent.run without the preload" "$(q "SELECT r->>'status', r->'output' FROM (SELECT flowent.run(t.w('slow'), '{\"k\":1}') r) s")" \
	'success|{"k": 1, "slept": true}'
res=$(psql -X -q -d "$DB" 2>&1 <<'SQL' | sed -n 's/^NOTICE:  RESULT //p'
DO $$
DECLARE st text; msg text; hint text;
BEGIN
	PERFORM flowent.execute(t.w('slow'));
	RAISE NOTICE 'RESULT no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
	RAISE NOTICE 'RESULT %|%|%', st, msg, hint;
END $$;
SQL
)
case "$res" in
55000\|*\|*shared_preload_libraries*) ;;
*) fail "(d) flowent.execute without the preload: expected SQLSTATE 55000 with a hint naming shared_preload_libraries, got: $res" ;;
esac
eq "(d) nothing queued" "$(q "SELECT count(*) FROM flowent.run_queue")|$(q "SELECT count(*) FROM flowent.workflow_executions WHERE mode = 'async'")" "0|0"
eq "(d) no flowent processes" "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'flowent%'")" 0
ok "(d) without the preload: CREATE EXTENSION and flowent.run work; flowent.execute -> ${res%%|*}: ${res#*|}"
stop

# ------------------------------------------------------------------ (c) bad GUC values
echo "shared_preload_libraries = 'flowent'" >"$DATA/preload.conf"
chown "$OWNER" "$DATA/preload.conf"
for bad in 0 99; do
	echo "flowent.workers = $bad" >"$DATA/bad.conf"
	chown "$OWNER" "$DATA/bad.conf"
	: >"$LOG"
	if pgctl -w -t 30 start >/dev/null 2>&1; then
		# a contract failure, but (a) and (b) can still run: record it, go on, exit 1 at the end
		soft_fail "(c) flowent.workers = $bad: the server started (expected it to refuse to start) and runs with flowent.workers = $(q 'SHOW flowent.workers' postgres 2>&1); its log said: $(grep -i 'flowent.workers' "$LOG" | head -3 | sed 's/^[^]]*] //')"
		stop
		continue
	fi
	grep -q 'flowent\.workers' "$LOG" || fail "(c) flowent.workers = $bad: the server log does not name flowent.workers"
	grep -qE '1 *(\.\.|to|and) *16' "$LOG" || fail "(c) flowent.workers = $bad: the server log does not give the allowed range 1..16"
	ok "(c) flowent.workers = $bad refused at start: $(grep -m1 -i 'flowent\.workers' "$LOG" | sed 's/^[^]]*] //')"
done
rm -f "$DATA/bad.conf"
: >"$LOG"
start

# workers of database $DB
poll "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'" 15 ||
	fail "the preloaded private cluster has no 2 workers for $DB"
ok "restored: the server starts and serves $DB with 2 workers"

# ------------------------------------------------------------------ (a) kill -9 a worker in a slow node
id=$(q "SELECT flowent.execute(t.w('slow'), '{\"k\":42}')")
poll "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB' AND wait_event = 'PgSleep'" 10 ||
	fail "(a) no worker entered the slow node"
victim=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB' AND wait_event = 'PgSleep'")
kill -9 "$victim"
killed_at=$(now_ms)
# the postmaster reinitialises after a backend's crash: wait for it to accept connections again
poll "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'" 30 ||
	fail "(a) the workers did not come back after kill -9 of worker $victim"
poll "SELECT status::text IN ('success', 'error', 'cancelled') FROM flowent.workflow_executions WHERE id = '$id'" 30 ||
	fail "(a) the execution did not finish within 30 s of the kill: $(q "SELECT status, error_code, error FROM flowent.workflow_executions WHERE id = '$id'")"
eq "(a) execution after kill -9" "$(q "SELECT status || '|' || output::text || '|' || mode FROM flowent.workflow_executions WHERE id = '$id'")" \
	'success|{"k": 42, "slept": true}|async'
eq "(a) one success log per node" \
	"$(q "SELECT string_agg(node_id || ':' || c, ',' ORDER BY node_id) FROM (SELECT node_id, count(*) FILTER (WHERE status = 'success') c FROM flowent.workflow_node_logs WHERE execution_id = '$id' GROUP BY node_id) x")" \
	"a:1,o:1,s:1,t:1"
eq "(a) no other log rows" "$(q "SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = '$id'")" 4
grep -q "terminated by signal 9" "$LOG" || fail "(a) the server log does not show the killed worker"
ok "(a) kill -9 of worker $victim in a 2 s node: the execution finished $(($(now_ms) - killed_at)) ms later (re-run from its queue entry), one success log per node"

# ------------------------------------------------------------------ (b) 1,000 in flight, immediate restart
t0=$(now_ms)
half=$((N / 2))
q "SELECT count(flowent.execute(t.w('many'), jsonb_build_object('i', g))) FROM generate_series(1, $half) g" >/dev/null
# once the first have come through their delay (others are still suspended on it), queue the
# rest and restart at once: some done, some suspended, some queued or running
poll "SELECT count(*) FILTER (WHERE status = 'success') >= 1 FROM flowent.workflow_executions WHERE workflow_id = t.w('many')" 30 ||
	fail "(b) no execution got through its delay within 30 s"
q "SELECT count(flowent.execute(t.w('many'), jsonb_build_object('i', g))) FROM generate_series($half + 1, $N) g" >/dev/null
mix=$(q "SELECT string_agg(status || '=' || c, ' ' ORDER BY status) FROM (SELECT status::text, count(*) c FROM flowent.workflow_executions WHERE workflow_id = t.w('many') GROUP BY 1) x")
pgctl -m immediate -w -t 60 restart >/dev/null || fail "(b) pg_ctl restart -m immediate failed"
restarted=$(now_ms)
echo "worker_crash: (b) restarted (immediate) $((restarted - t0)) ms after queueing the first $half of $N, with: $mix"
case "$mix" in
*pending=*) ;;
*) echo "worker_crash: note: no execution was still queued at the restart (all started)" ;;
esac
inflight=$(q "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = t.w('many') AND status IN ('pending', 'running', 'suspended')")
[ "$inflight" -ge 50 ] || fail "(b) only $inflight executions were in flight at the restart: the test proves nothing (raise FLOWENT_CRASH_N)"
poll "SELECT count(*) = $N FROM flowent.workflow_executions WHERE workflow_id = t.w('many') AND status IN ('success', 'error', 'cancelled')" 180 ||
	fail "(b) not all $N finished within 180 s of the restart: $(q "SELECT string_agg(status || '=' || c, ' ') FROM (SELECT status::text, count(*) c FROM flowent.workflow_executions WHERE workflow_id = t.w('many') GROUP BY 1) x")"
done_ms=$(($(now_ms) - restarted))
eq "(b) all finished with success" "$(q "SELECT count(*) FILTER (WHERE status = 'success') || '/' || count(*) FROM flowent.workflow_executions WHERE workflow_id = t.w('many')")" "$N/$N"
eq "(b) outputs" "$(q "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = t.w('many') AND output <> jsonb_build_object('i', (input->>'i')::int, 'twice', (input->>'i')::int * 2)")" 0
eq "(b) (execution, node) pairs whose success logs are not exactly one" \
	"$(q "SELECT count(*) FROM (SELECT execution_id, node_id FROM flowent.workflow_node_logs WHERE workflow_id = t.w('many') AND status = 'success' GROUP BY execution_id, node_id HAVING count(*) <> 1) x")" 0
eq "(b) nodes without a success log" \
	"$(q "SELECT count(*) FROM flowent.workflow_executions e CROSS JOIN (VALUES ('t'), ('a'), ('d'), ('b'), ('o')) n(node_id)
	      WHERE e.workflow_id = t.w('many') AND NOT EXISTS (SELECT 1 FROM flowent.workflow_node_logs l
	          WHERE l.execution_id = e.id AND l.node_id = n.node_id AND l.status = 'success')")" 0
eq "(b) log rows that are not success" "$(q "SELECT count(*) FROM flowent.workflow_node_logs WHERE workflow_id = t.w('many') AND status <> 'success'")" 0
eq "(b) queue and timers drained" "$(q "SELECT (SELECT count(*) FROM flowent.run_queue) || '|' || (SELECT count(*) FROM flowent.timers WHERE fired_at IS NULL)")" "0|0"
ok "(b) $N executions across pg_ctl restart -m immediate: all success ${done_ms} ms after the restart, each node exactly one success log"


# ------------------------------------------------------------------ (e) HTTP in flight
# Requests of async executions are driven by the workers' curl multi loops: many more in
# flight than there are workers, and a request in flight when its worker dies is sent again
# (same Idempotency-Key) and the execution finishes once.
HTTPDIR=$TMP/http
mkdir -p "$HTTPDIR"
python3 "$(dirname "$0")/../fake/slow_server.py" --port-file "$HTTPDIR/port" --delay-ms 2000 &
SLOW_PID=$!
trap 'kill $SLOW_PID 2>/dev/null || true; private_cluster_cleanup' EXIT
for _ in $(seq 50); do [ -s "$HTTPDIR/port" ] && break; sleep 0.1; done
HPORT=$(cat "$HTTPDIR/port")
stats() { python3 -c "import json,urllib.request; d=json.load(urllib.request.urlopen('http://127.0.0.1:$HPORT/stats')); print($1)"; }
q "ALTER SYSTEM SET flowent.http_allow_hosts = '127.0.0.1'" postgres >/dev/null
q "SELECT pg_reload_conf()" postgres >/dev/null
sleep 0.5
q "INSERT INTO t.wf VALUES ('call', flowent.create_workflow('call',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('h', 'http-request', '{\"url\":\"http://127.0.0.1:$HPORT/slow\",\"timeoutMs\":30000}'),
		t.n('o', 'output', '{\"value\":{\"ok\":\"{{h.body.ok}}\",\"i\":\"{{trigger.payload.i}}\"}}')),
	jsonb_build_array(t.e('e1', 't', 'h'), t.e('e2', 'h', 'o'))))" >/dev/null
q "SELECT count(flowent.execute(t.w('call'), jsonb_build_object('i', g))) FROM generate_series(1, 40) g" >/dev/null
poll "SELECT count(*) = 40 FROM flowent.workflow_executions WHERE workflow_id = t.w('call') AND status = 'success'" 60 ||
	fail "(e) 40 HTTP executions did not all succeed: $(q "SELECT string_agg(status || '=' || c, ' ') FROM (SELECT status::text, count(*) c FROM flowent.workflow_executions WHERE workflow_id = t.w('call') GROUP BY 1) x")"
maxin=$(stats 'd["maxInflight"]')
[ "$maxin" -ge 20 ] || fail "(e) at most $maxin requests were in flight at once with 2 workers (expected the 40 to overlap)"
ok "(e) 40 async HTTP executions with 2 workers: up to $maxin requests in flight at once"

# an HTTP call per loop item in an async run: the loop waits in each iteration
q "INSERT INTO t.wf VALUES ('loopcall', flowent.create_workflow('loopcall',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('l', 'loop-controller', '{\"items\":[1,2,3]}'),
		t.n('h', 'http-request', '{\"url\":\"http://127.0.0.1:$HPORT/slow?i={{loop.item}}\"}'),
		t.n('s', 'set-variable', '{\"name\":\"v\",\"value\":\"{{loop.item}}:{{h.body.ok}}\"}'),
		t.n('o', 'output')),
	jsonb_build_array(t.e('e1', 't', 'l'), t.e('e2', 'l', 'h', 'body'), t.e('e3', 'h', 's'), t.e('e4', 'l', 'o', 'done'))))" >/dev/null
lid=$(q "SELECT flowent.execute(t.w('loopcall'))")
poll "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$lid'" 30 ||
	fail "(e) the loop of HTTP calls did not finish: $(q "SELECT status, error_code, error FROM flowent.workflow_executions WHERE id = '$lid'")"
eq "(e) loop of HTTP calls" "$(q "SELECT output::text FROM flowent.workflow_executions WHERE id = '$lid'")" '{"count": 3, "results": ["1:true", "2:true", "3:true"]}'
eq "(e) one Idempotency-Key per iteration" "$(stats "','.join(sorted(k.split(':', 1)[1] for k in d['keys'] if k.startswith('$lid')))")" "h:l:0,h:l:1,h:l:2"
ok "(e) an HTTP call per loop item in an async run: one request per iteration, keys per iteration"

id=$(q "SELECT flowent.execute(t.w('call'), '{\"i\": 7}')")
key="$id:h:0"
poll "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'userlock' AND granted AND classid = 'flowent.workflow_executions'::regclass AND objid = hashtext('$id')::oid)" 10 ||
	fail "(e) no worker holds execution $id"
for _ in $(seq 50); do [ "$(stats "d['keys'].get('$key', 0)")" -ge 1 ] && break; sleep 0.1; done
[ "$(stats "d['keys'].get('$key', 0)")" -eq 1 ] || fail "(e) the request of $id did not reach the server"
victim=$(q "SELECT pid FROM pg_locks WHERE locktype = 'userlock' AND granted AND classid = 'flowent.workflow_executions'::regclass AND objid = hashtext('$id')::oid LIMIT 1")
kill -9 "$victim"
poll "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$id'" 60 ||
	fail "(e) the execution whose worker was killed mid-request did not finish: $(q "SELECT status, error_code, error FROM flowent.workflow_executions WHERE id = '$id'")"
eq "(e) output after the kill" "$(q "SELECT output::text FROM flowent.workflow_executions WHERE id = '$id'")" '{"i": 7, "ok": true}'
sends=$(stats "d['keys'].get('$key', 0)")
# at-least-once: sent again after the kill, always with the same key (the count of
# re-sends may exceed one if both restarted workers pick the orphan up in turn)
[ "$sends" -ge 2 ] || fail "(e) the request was not sent again after the kill (seen $sends time(s) with key $key)"
eq "(e) requests with another key for this execution" "$(stats "sum(v for k, v in d['keys'].items() if k.startswith('$id') and k != '$key')")" 0
eq "(e) one success log for the HTTP node" "$(q "SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = '$id' AND node_id = 'h' AND status = 'success'")" 1
ok "(e) kill -9 of worker $victim with a request in flight: sent $sends times with key $key, finished once"


# kill -9 with the calls of three parallel loop iterations in flight: each is sent again with
# its own key and continues its own iteration
q "INSERT INTO t.wf SELECT 'parcall', flowent.create_workflow('parcall',
	(SELECT jsonb_agg(CASE WHEN x->>'id' = 'l' THEN jsonb_set(x, '{data,parallel}', '3') ELSE x END)
	 FROM jsonb_array_elements(w.nodes) x), w.edges)
	FROM flowent.workflows w WHERE w.id = t.w('loopcall')" >/dev/null	# loopcall with parallel 3
pid_=$(q "SELECT flowent.execute(t.w('parcall'))")
for _ in $(seq 50); do
	[ "$(stats "sum(1 for k in d['keys'] if k.startswith('$pid_'))")" = 3 ] && break
	sleep 0.1
done
eq "(e) parallel loop: three keys seen before the kill" "$(stats "','.join(sorted(k.split(':', 1)[1] for k in d['keys'] if k.startswith('$pid_')))")" "h:l:0,h:l:1,h:l:2"
victim=$(q "SELECT pid FROM pg_locks WHERE locktype = 'userlock' AND granted AND classid = 'flowent.workflow_executions'::regclass AND objid = hashtext('$pid_')::oid LIMIT 1")
[ -n "$victim" ] || fail "(e) no worker holds the parallel loop's execution"
kill -9 "$victim"
poll "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$pid_'" 60 ||
	fail "(e) the parallel loop whose worker was killed did not finish: $(q "SELECT status, error_code, error FROM flowent.workflow_executions WHERE id = '$pid_'")"
eq "(e) parallel loop after the kill" "$(q "SELECT output::text FROM flowent.workflow_executions WHERE id = '$pid_'")" '{"count": 3, "results": ["1:true", "2:true", "3:true"]}'
eq "(e) each iteration's call sent again with its own key" \
	"$(stats "','.join(str(v >= 2) for k, v in sorted(d['keys'].items()) if k.startswith('$pid_'))")" "True,True,True"
eq "(e) one success log per iteration" "$(q "SELECT string_agg(iteration, ',' ORDER BY iteration) FROM flowent.workflow_node_logs WHERE execution_id = '$pid_' AND node_id = 'h' AND status = 'success'")" "l:0,l:1,l:2"
ok "(e) kill -9 with three parallel loop calls in flight: each sent again with its key, each iteration finished once"

# a hung endpoint: TIMEOUT, while the workers keep serving other executions
q "INSERT INTO t.wf VALUES ('hung', flowent.create_workflow('hung',
	jsonb_build_array(t.n('t', 'trigger'),
		t.n('h', 'http-request', '{\"url\":\"http://127.0.0.1:$HPORT/slow\",\"timeoutMs\":1000}')),
	jsonb_build_array(t.e('e1', 't', 'h'))))" >/dev/null
hung=$(q "SELECT flowent.execute(t.w('hung'))")
poll "SELECT EXISTS (SELECT 1 FROM flowent.workflow_node_logs WHERE execution_id = '$hung' AND node_id = 'h' AND status = 'waiting')" 10 ||
	fail "(e) the hung call did not start"
quick=$(q "SELECT flowent.execute(t.w('many'), '{\"i\": 3}')")
poll "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$quick'" 10 ||
	fail "(e) a workflow queued while a call hangs did not finish"
quick_state=$(q "SELECT status FROM flowent.workflow_executions WHERE id = '$hung'")
poll "SELECT status = 'error' FROM flowent.workflow_executions WHERE id = '$hung'" 20 ||
	fail "(e) the hung call did not time out: $(q "SELECT status, error_code FROM flowent.workflow_executions WHERE id = '$hung'")"
eq "(e) hung endpoint" "$(q "SELECT error_code FROM flowent.workflow_executions WHERE id = '$hung'")" TIMEOUT
eq "(e) the other execution finished while the call hung" "$quick_state" suspended
ok "(e) a hung endpoint ends in TIMEOUT; an execution queued meanwhile finished first"


# cancel aborts a request in flight
cid=$(q "SELECT flowent.execute(t.w('call'), '{\"i\": 9}')")
poll "SELECT EXISTS (SELECT 1 FROM flowent.workflow_node_logs WHERE execution_id = '$cid' AND node_id = 'h' AND status = 'waiting')" 10 ||
	fail "(e) the call to cancel did not start"
eq "(e) cancel during the request" "$(q "SELECT flowent.cancel('$cid')->>'previousStatus'")" suspended
sleep 2.5
eq "(e) cancelled execution after its response time" \
	"$(q "SELECT e.status || '|' || (SELECT string_agg(node_id || ':' || status, ',' ORDER BY node_id) FROM flowent.workflow_node_logs WHERE execution_id = e.id) FROM flowent.workflow_executions e WHERE id = '$cid'")" \
	"cancelled|h:waiting,t:success"
eq "(e) no lease left on the cancelled execution" \
	"$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'userlock' AND granted AND classid = 'flowent.workflow_executions'::regclass AND objid = hashtext('$cid')::oid")" 0
ok "(e) cancel during an HTTP request: the transfer is dropped, nothing after it runs"

# ------------------------------------------------------------------ (f) kill -9 during the new paths
# a node waiting on its retry timer, and work claimed one at a time behind a slow execution
q "CREATE SEQUENCE t.flaky" >/dev/null
flaky=$(q "SELECT flowent.create_workflow('flaky', jsonb_build_array(t.n('t', 'trigger'),
	t.n('f', 'database-query', '{\"readOnly\": false, \"retry\": {\"maxAttempts\": 3, \"backoffMs\": 1500},
	   \"query\": \"SELECT CASE WHEN v < 3 THEN 1 / (v - v) ELSE 7 END AS x FROM nextval(''t.flaky'') v\"}')),
	jsonb_build_array(t.e('e1', 't', 'f')))")
fid=$(q "SELECT flowent.execute('$flaky')")
poll "SELECT EXISTS (SELECT 1 FROM flowent.workflow_node_logs WHERE execution_id = '$fid' AND node_id = 'f' AND status = 'waiting' AND output->>'kind' = 'retry')" 10 ||
	fail "(f) the flaky node did not wait on its retry timer"
sid=$(q "SELECT flowent.execute(t.w('slow'), '{\"k\": 1}')")
q "SELECT flowent.execute(t.w('many'), jsonb_build_object('i', i)) FROM generate_series(1, 20) i" >/dev/null
poll "SELECT count(*) >= 1 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB' AND wait_event = 'PgSleep'" 10 ||
	fail "(f) no worker entered the slow node"
kill -9 "$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB' AND wait_event = 'PgSleep' LIMIT 1")"
poll "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'" 30 ||
	fail "(f) the workers did not come back after kill -9"
poll "SELECT count(*) = 0 FROM flowent.workflow_executions WHERE (id IN ('$fid', '$sid') OR workflow_id = t.w('many')) AND status IN ('pending', 'running', 'suspended')" 60 ||
	fail "(f) executions did not finish after the kill: $(q "SELECT string_agg(status::text, ',') FROM flowent.workflow_executions WHERE status IN ('pending', 'running', 'suspended')")"
eq "(f) the retried node, after the kill" "$(q "SELECT status || '|' || (output->'rows'->0->>'x') FROM flowent.workflow_executions WHERE id = '$fid'")" "success|7"
eq "(f) one success log of the retried node" "$(q "SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = '$fid' AND node_id = 'f' AND status = 'success'")" 1
eq "(f) the slow one" "$(q "SELECT status FROM flowent.workflow_executions WHERE id = '$sid'")" success
ok "(f) kill -9 of a worker in a slow node while another execution waits on a retry timer and 20 are queued: all finish, one success log each"

if [ ${#SOFT_FAILED[@]} -gt 0 ]; then
	echo "worker_crash: ${#SOFT_FAILED[@]} check(s) FAILED:" >&2
	printf '  %s\n' "${SOFT_FAILED[@]}" >&2
	exit 1
fi
echo "worker_crash: all checks passed"
