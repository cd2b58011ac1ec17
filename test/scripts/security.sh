#!/usr/bin/env bash
# Security (issue 6; DESIGN §2, Appendix B "Identity and security", "Events") against the running
# cluster (PGHOST/PGPORT/PGUSER, a superuser), with ordinary LOGIN NOSUPERUSER roles: sec_alice and
# sec_bob (users), sec_mallory (may create schemas), sec_gw (member of flowent_gateway).
#   1 acting user: only flowent_gateway members, per transaction, refused inside a node; no GUC
#   2 search_path / pg_temp attacks on the engine's own statements (mallory must not become superuser)
#   3 a node cannot change the session: settings and advisory locks, sync and in the workers
#   4 a node cannot forge the acting user    5 sub-workflows keep the user and the mode
#   6 secrets scrubbed by value in async runs  7 events carry no user data; who sees executions
#   8 the worker's lease cannot be blocked   9 approved_by   10 run_as superuser   11 lo_create
#   12 nested flowent.run counts toward flowent.max_depth
# Every check runs (in a subshell, so one failure does not stop the others) and prints
# "security: ok ..." or "security: FAIL ..."; the failures are listed at the end (exit 1).
# Every wait is a poll with a deadline; every psql call has a timeout. SECURITY_KEEP=1 keeps the
# databases, roles and temporary files for a look afterwards (the next run drops them);
# SECURITY_CHECKS="3b 6" runs only those checks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DB=flowent_security_test
DB2=flowent_security_async # check 3 poisons the workers of this one
ROLES="sec_alice sec_bob sec_mallory sec_gw"
SECRET=sk-test-abcdef123456
TMP=$(mktemp -d)
SERVER_PID=""
ALLOW_SET=0
OLD_ALLOW=""
FAILED=()

# databases first: the roles own objects in them
drop_all() {
	local d r
	# background sessions of this script's roles (listener, lock holder)
	timeout 10 psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name LIKE 'sec\_%' AND usename::text LIKE 'sec\_%'" >/dev/null 2>&1 || true
	for d in "$DB" "$DB2"; do
		timeout 60 psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
	done
	for r in $ROLES; do
		timeout 20 psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 ||
			echo "security: warning: could not drop role $r" >&2
	done
}
cleanup() {
	[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
	if [ $ALLOW_SET -eq 1 ]; then
		local set_sql="RESET flowent.http_allow_hosts"
		[ -z "$OLD_ALLOW" ] || set_sql="SET flowent.http_allow_hosts = '$OLD_ALLOW'"
		timeout 10 psql -X -q -d postgres -c "ALTER SYSTEM $set_sql" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
	fi
	if [ -n "${SECURITY_KEEP:-}" ]; then # debugging: keep databases, roles and $TMP
		echo "security: kept $DB, $DB2, roles $ROLES and $TMP"
		return
	fi
	drop_all
	rm -rf "$TMP"
}
trap cleanup EXIT
drop_all

# ---------------------------------------------------------------- helpers
# fail ends the current check (each check runs in its own subshell)
fail() {
	printf '%s\n' "$*" >"$TMP/why"
	echo "security: FAIL: $*" >&2
	exit 1
}
ok() { echo "security: ok $*"; }
# psq ROLE [psql args]: SQL from stdin, in database $D (default $DB); statement_timeout bounds
# each statement, timeout the whole session
psq() {
	local role=$1
	shift
	PGOPTIONS="-c statement_timeout=60s" timeout 90 psql -X -At -q -v ON_ERROR_STOP=1 -U "$role" -d "${D:-$DB}" "$@"
}
# q ROLE SQL [psql args, e.g. -v name=value, used as :'name' in SQL]
q() {
	local role=$1 sql=$2
	shift 2
	psq "$role" "$@" <<<"$sql"
}
# state ROLE SQL [args]: "ok", or the SQLSTATE of the error
state() {
	local out
	if out=$(q "$@" -v VERBOSITY=sqlstate 2>&1 >/dev/null); then
		echo ok
	else
		out=$(sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\).*$/\1/p' <<<"$out" | head -1)
		echo "${out:-no-sqlstate}"
	fi
}
words() { tr -s ' \n' '  ' <<<"$1" | sed 's/^ //; s/ $//'; } # lines joined by one space, empty ones dropped
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
# one_of WHAT GOT ALLOWED...
one_of() {
	local what=$1 got=$2 x
	shift 2
	for x; do [ "$got" = "$x" ] && return 0; done
	fail "$what: got '$got', expected one of: $*"
}
# poll SQL SECONDS (as postgres, in $D): until SQL returns t
poll() {
	local end=$((SECONDS + ${2:-20}))
	while [ $SECONDS -lt $end ]; do
		[ "$(q postgres "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}
done_sql() { echo "SELECT status::text IN ('success', 'error', 'cancelled') FROM flowent.workflow_executions WHERE id = '$1'"; }
wait_done() { poll "$(done_sql "$1")" "${2:-20}" || fail "execution $1 not finished after ${2:-20} s: $(q postgres "SELECT status, error_code, error FROM flowent.workflow_executions WHERE id = '$1'")"; }
ex() { q postgres "SELECT $2 FROM flowent.workflow_executions WHERE id = '$1'"; } # ex ID EXPR (superuser view)
# wf ROLE NAME [OPTIONS] <<< '[[id, type, data], ...]': a workflow of nodes chained in order
wf() {
	local o='{}'
	[ $# -lt 3 ] || o=$3
	q "$1" "SELECT sec.wf(:'name', :'nodes', :'opts')" -v name="$2" -v nodes="$(cat)" -v opts="$o"
}

# check "NUMBER TITLE" FUNCTION: run it in a subshell with errexit, record a failure
check() {
	local rc
	[[ " ${SECURITY_CHECKS:-$1} " == *" ${1%% *} "* ]] || return 0
	rm -f "$TMP/why"
	set +e
	(
		set -e
		"$2"
	)
	rc=$?
	set -e
	[ $rc -eq 0 ] || FAILED+=("$1: $(cat "$TMP/why" 2>/dev/null || echo "exited with $rc")")
}

# ---------------------------------------------------------------- roles and databases
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE ROLE sec_alice LOGIN NOSUPERUSER;
CREATE ROLE sec_bob LOGIN NOSUPERUSER;
CREATE ROLE sec_mallory LOGIN NOSUPERUSER;
CREATE ROLE sec_gw LOGIN NOSUPERUSER;
SQL
setup_db() {
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $1" -c "GRANT CREATE ON DATABASE $1 TO sec_mallory" >/dev/null
	D=$1 psq postgres >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION flowent;
GRANT flowent_gateway TO sec_gw;
CREATE SCHEMA sec;
GRANT USAGE ON SCHEMA sec TO PUBLIC;
CREATE FUNCTION sec.wf(name text, nodes jsonb, options jsonb DEFAULT '{}') RETURNS uuid
LANGUAGE sql SET search_path = pg_catalog AS $$
	SELECT flowent.create_workflow(name,
		(SELECT jsonb_agg(jsonb_build_object('id', n->>0, 'type', n->>1, 'position', '{"x":0,"y":0}'::jsonb,
			'data', jsonb_build_object('label', n->>0) || coalesce(n->2, '{}')) ORDER BY i)
		 FROM jsonb_array_elements(nodes) WITH ORDINALITY a(n, i)),
		coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', 'e' || i, 'source', a.n->>0,
			'target', b.n->>0, 'sourceHandle', CASE WHEN a.n->>1 = 'human-approval' THEN 'approved' END)) ORDER BY i)
		 FROM jsonb_array_elements(nodes) WITH ORDINALITY a(n, i)
		 JOIN jsonb_array_elements(nodes) WITH ORDINALITY b(n, j) ON j = i + 1), '[]'),
		options)
$$;
-- 'ok' or the SQLSTATE of a statement: lets a node report what it was refused
CREATE FUNCTION sec.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;
-- wait (up to 10 s) until an execution the caller sees has a status
CREATE FUNCTION sec.wait_status(x uuid, st text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	s text;
BEGIN
	FOR i IN 1..100 LOOP
		SELECT e.status INTO s FROM flowent.workflow_executions e WHERE e.id = x;
		EXIT WHEN s = st;
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN s;
END
$$;
CREATE TABLE sec.bob_secret (v text);
INSERT INTO sec.bob_secret VALUES ('BOB_TABLE_SECRET_7f3a');
ALTER TABLE sec.bob_secret OWNER TO sec_bob;
CREATE TABLE sec.bob_rows (pid int, sp text, ro text, st text, lt text, at timestamptz DEFAULT clock_timestamp());
ALTER TABLE sec.bob_rows OWNER TO sec_bob;
SQL
	# mallory's trap: same-signature objects in schema m, usable by everyone, which record any
	# call not made as mallory and then try to make her superuser
	D=$1 psq sec_mallory >/dev/null <<'SQL'
CREATE SCHEMA m;
GRANT USAGE ON SCHEMA m TO PUBLIC;
CREATE TABLE m.calls (tag text, usr text, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT ON m.calls TO PUBLIC;
CREATE FUNCTION m.spy(tag text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
	IF current_user::text OPERATOR(pg_catalog.<>) 'sec_mallory' THEN
		BEGIN
			INSERT INTO m.calls (tag, usr) VALUES (tag, current_user::text);
		EXCEPTION WHEN OTHERS THEN NULL;
		END;
		BEGIN
			EXECUTE 'ALTER ROLE sec_mallory SUPERUSER';
		EXCEPTION WHEN OTHERS THEN NULL;
		END;
	END IF;
	RETURN true;
END $f$;
CREATE FUNCTION m.uuid_eq(a uuid, b uuid) RETURNS boolean LANGUAGE plpgsql AS
	$f$ BEGIN PERFORM m.spy('uuid ='); RETURN a OPERATOR(pg_catalog.=) b; END $f$;
CREATE OPERATOR m.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = m.uuid_eq);
CREATE FUNCTION m.text_eq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS
	$f$ BEGIN PERFORM m.spy('text ='); RETURN a OPERATOR(pg_catalog.=) b; END $f$;
CREATE OPERATOR m.= (LEFTARG = text, RIGHTARG = text, FUNCTION = m.text_eq);
-- m.f(args) = m.spy('f') then pg_catalog.f(args), for functions the engine may call unqualified
DO $d$
DECLARE
	f text[];
BEGIN
	FOREACH f SLICE 1 IN ARRAY ARRAY[['hashtext', 'a text', 'integer', 'a'],
		['current_setting', 'a text', 'text', 'a'], ['current_setting', 'a text, b boolean', 'text', 'a, b'],
		['set_config', 'a text, b text, c boolean', 'text', 'a, b, c'], ['pg_notify', 'a text, b text', 'void', 'a, b'],
		['pg_try_advisory_xact_lock', 'a bigint', 'boolean', 'a'], ['pg_advisory_lock', 'a bigint', 'void', 'a'],
		['to_jsonb', 'a anyelement', 'jsonb', 'a'], ['jsonb_typeof', 'a jsonb', 'text', 'a']] LOOP
		EXECUTE format('CREATE FUNCTION m.%1$I(%2$s) RETURNS %3$s LANGUAGE sql AS %5$L', f[1], f[2], f[3], f[4],
			format('SELECT m.spy(%1$L); SELECT pg_catalog.%1$I(%2$s)', f[1], f[4]));
	END LOOP;
END
$d$;
SQL
}
setup_db "$DB"
setup_db "$DB2"
MAX_DEPTH=$(q postgres "SELECT current_setting('flowent.max_depth')")

# private workflows of bob, to see whether someone acts as bob
BOB_WF=$(wf sec_bob 'bob private' <<<'[["t","trigger"],["o","output",{"value":"bob"}]]')

# ---------------------------------------------------------------- 1. acting user
c1() {
	eq "set_acting_user by a role outside flowent_gateway" "$(state sec_alice "SELECT flowent.set_acting_user('sec_bob')")" 42501
	local out
	out=$(psq sec_gw <<'SQL'
BEGIN;
SELECT flowent.set_acting_user('sec_bob');
SELECT flowent.current_user_id();
COMMIT;
SELECT flowent.current_user_id();
SELECT flowent.set_acting_user('sec_bob');
SELECT flowent.current_user_id();
SQL
	) || fail "gateway session with set_acting_user failed: $out"
	eq "gateway: acting user within the transaction, current_user after it" "$(words "$out")" "sec_bob sec_gw sec_gw"
	local w
	w=$(wf sec_gw 'gw acting in a node' <<'J'
[["t","trigger"],
 ["q","database-query",{"readOnly":false,"query":"SELECT sec.try('SELECT flowent.set_acting_user(''sec_bob'')') AS s"}],
 ["x","data-transform",{"expression":"jsonb_build_object('s', sec.try('SELECT flowent.set_acting_user(''sec_bob'')'), 'who', flowent.current_user_id())"}],
 ["o","output",{"value":{"q":"{{q.rows.0.s}}","x":"{{x.s}}","who":"{{x.who}}"}}]]
J
	)
	eq "set_acting_user inside a database-query / data-transform node (SQLSTATEs, then who)" \
		"$(q sec_gw "SELECT concat_ws('|', r#>>'{output,q}', r#>>'{output,x}', r#>>'{output,who}') FROM flowent.run(:'w') r" -v w="$w")" \
		"42501|42501|sec_gw"
	out=$(psq sec_gw -v ON_ERROR_STOP=0 2>/dev/null <<SQL
SET flowent.user_id = 'sec_bob';
SELECT flowent.current_user_id();
SELECT count(*) FROM flowent.workflows WHERE id = '$BOB_WF';
SQL
	) || true
	eq "gateway session: SET flowent.user_id is not read (current_user_id, bob's private workflows seen)" "$(words "$out")" "sec_gw 0"
	ok "1 acting user: set_acting_user only for flowent_gateway, per transaction, refused in nodes; flowent.user_id ignored"
}

# ---------------------------------------------------------------- 2. search_path attacks
# One attack session: engine entry points called with mallory's search_path, temp views
# shadowing unqualified names (pg_temp is searched first when not listed).
ATTACK=$(cat <<'SQL'
CREATE TEMP VIEW pg_roles AS SELECT * FROM pg_catalog.pg_roles WHERE m.spy('temp pg_roles');
CREATE TEMP VIEW pg_locks AS SELECT * FROM pg_catalog.pg_locks WHERE m.spy('temp pg_locks');
CREATE TEMP VIEW workflows AS SELECT id, name, nodes, edges, user_id, visibility, run_as, version
	FROM flowent.workflows WHERE m.spy('temp workflows');
CREATE TEMP VIEW workflow_executions AS SELECT * FROM flowent.workflow_executions WHERE m.spy('temp executions') WITH CHECK OPTION;
CREATE TEMP VIEW workflow_node_logs AS SELECT * FROM flowent.workflow_node_logs WHERE m.spy('temp node logs') WITH CHECK OPTION;
CREATE TEMP VIEW workflow_approval_requests AS SELECT * FROM flowent.workflow_approval_requests WHERE m.spy('temp approvals') WITH CHECK OPTION;
SELECT set_config('search_path', :'path', false);
SELECT flowent.run(:'simple')->>'executionId' AS s1 \gset
SELECT flowent.run(:'ap')->>'executionId' AS a1 \gset
SELECT flowent.run(:'ap')->>'executionId' AS a2 \gset
SELECT flowent.run(:'wt')->>'executionId' AS w1 \gset
SELECT flowent.approve(:'a1', true, 'fine');
SELECT flowent.cancel(:'a2', 'no');
SELECT flowent.resume(:'w1', '{"x": 1}');
SELECT flowent.rerun(:'s1', 's');
SELECT flowent.rerun(:'s1', 's', '{"mode": "async"}');
SELECT flowent.execute(:'simple');
SELECT flowent.execute(:'ap') AS x2 \gset
SELECT sec.wait_status(:'x2', 'suspended');
SELECT flowent.approve(:'x2', true, 'async');
SELECT :'a1' AS a1_id, :'x2' AS x2_id;
SQL
)
c2() {
	local ap simple wt path a1 x2
	ap=$(wf sec_mallory 'm approval' <<<'[["t","trigger"],["a","human-approval",{"title":"ok?"}],["o","output",{"value":"yes"}]]')
	simple=$(wf sec_mallory 'm simple' <<<'[["t","trigger"],["s","set-variable",{"name":"v","value":1}],["o","output",{}]]')
	wt=$(wf sec_mallory 'm wait' <<<'[["t","trigger"],["w","wait",{}],["o","output",{}]]')
	for path in 'm, pg_catalog' 'pg_temp, m, flowent, pg_catalog'; do
		psq sec_mallory -v ON_ERROR_STOP=0 -v path="$path" -v ap="$ap" -v simple="$simple" -v wt="$wt" \
			<<<"$ATTACK" >"$TMP/attack.out" 2>&1 || true
		a1=$(sed -n 's/^\([0-9a-f-]\{36\}\)|[0-9a-f-]\{36\}$/\1/p' "$TMP/attack.out")
		x2=$(sed -n 's/^[0-9a-f-]\{36\}|\([0-9a-f-]\{36\}\)$/\1/p' "$TMP/attack.out")
		poll "SELECT count(*) = 0 FROM flowent.workflow_executions WHERE workflow_id IN ('$ap', '$simple') AND status IN ('pending', 'running')" 20 || true
		eq "search_path '$path': sec_mallory is superuser" "$(q postgres "SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_mallory'")" f
		eq "search_path '$path': mallory's objects called as another role (tag:role)" \
			"$(q postgres "SELECT coalesce(string_agg(DISTINCT tag || ':' || usr, ', '), 'none') FROM m.calls")" none
		# the engine still works for her
		eq "search_path '$path': approve and async approve went through" \
			"$([ -n "$a1" ] && [ -n "$x2" ] && q postgres "SELECT string_agg(status::text, ',' ORDER BY id = '$a1' DESC) FROM flowent.workflow_executions WHERE id IN ('$a1', '$x2')")" \
			"success,success"
	done
	ok "2 search_path/pg_temp: run, execute, approve, cancel, resume, rerun never call mallory's objects as another role"
}

# ---------------------------------------------------------------- 3. session state
SETTINGS="concat_ws('|', current_setting('search_path'), current_setting('lock_timeout'), current_setting('default_transaction_read_only'), current_setting('statement_timeout'), current_setting('work_mem'))"
c3_sync() {
	local w out before
	w=$(wf sec_alice 'poison session' <<'J'
[["t","trigger"],
 ["q","database-query",{"readOnly":false,"query":"SELECT set_config('search_path','sec_nowhere, pg_catalog',false) a, set_config('lock_timeout','1',false) b, set_config('default_transaction_read_only','on',false) c, set_config('statement_timeout','1',false) d"}],
 ["x","data-transform",{"expression":"to_jsonb(set_config('work_mem','77kB',false))"}],
 ["l","database-query",{"readOnly":false,"query":"SELECT 1 AS locked FROM pg_advisory_lock(12345)"}],
 ["o","output",{"value":"done"}]]
J
	)
	out=$(psq sec_alice -v ON_ERROR_STOP=0 -v w="$w" 2>&1 <<SQL
SELECT $SETTINGS;
SELECT flowent.run(:'w')->>'status';
SELECT $SETTINGS;
SELECT 'locks:' || count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objid = 12345;
SQL
	) || true
	before=$(head -1 <<<"$out")
	one_of "sync run of the session-changing workflow" "$(sed -n 2p <<<"$out")" success error
	eq "settings after flowent.run (search_path|lock_timeout|default_transaction_read_only|statement_timeout|work_mem)" "$(sed -n 3p <<<"$out")" "$before"
	eq "advisory lock 12345 held by the session after flowent.run" "$(sed -n 4p <<<"$out")" "locks:0"
	ok "3a session state: settings a node changes are reverted and its advisory locks released (flowent.run)"
}
c3_async() {
	local D=$DB2 poison bobw base e pid bpid got poisoned=" " conclusive=0 round
	poison=$(wf sec_alice 'poison worker' <<'J'
[["t","trigger"],
 ["q","database-query",{"readOnly":false,"query":"SELECT pg_backend_pid() AS pid, set_config('search_path','m, pg_catalog',false) a, set_config('lock_timeout','1',false) b, set_config('default_transaction_read_only','on',false) c, set_config('statement_timeout','1',false) d"}],
 ["l","database-query",{"readOnly":false,"query":"SELECT pg_try_advisory_lock(12345) AS got"}],
 ["o","output",{"value":"{{q.rows.0.pid}}"}]]
J
	)
	bobw=$(wf sec_bob 'bob writes' <<'J'
[["t","trigger"],
 ["q","database-query",{"readOnly":false,"query":"INSERT INTO sec.bob_rows (pid, sp, ro, st, lt) SELECT pg_backend_pid(), current_setting('search_path'), current_setting('transaction_read_only'), current_setting('statement_timeout'), current_setting('lock_timeout') RETURNING concat_ws('|', pid, sp, ro, st, lt) AS r"}],
 ["o","output",{"value":"{{q.rows.0.r}}"}]]
J
	)
	# bob's run on a fresh worker: what a worker's settings are
	e=$(q sec_bob "SELECT flowent.execute(:'w')" -v w="$bobw")
	wait_done "$e" 20
	eq "bob's first async write" "$(ex "$e" "concat_ws('|', status, error_code, error)")" success
	base=$(ex "$e" "output #>> '{}'")
	base=${base#*|}
	# alice changes the session of whichever worker runs her execution, until bob's next run
	# lands on a worker she used
	for round in 1 2 3 4 5 6 7 8; do
		e=$(q sec_alice "SELECT flowent.execute(:'w')" -v w="$poison")
		poll "$(done_sql "$e")" 20 || fail "alice's session-changing async run did not finish (round $round; a worker changed by an earlier one?)"
		pid=$(ex "$e" "output #>> '{}'")
		[[ "$pid" =~ ^[0-9]+$ ]] && poisoned+="$pid "
		e=$(q sec_bob "SELECT flowent.execute(:'w')" -v w="$bobw")
		poll "$(done_sql "$e")" 20 || fail "bob's async write not finished 20 s after alice's run changed worker(s)$poisoned: $(ex "$e" status)"
		got=$(ex "$e" "concat_ws('|', status, error_code, error)")
		[ "$got" = success ] || fail "bob's async write after alice's run on worker(s)$poisoned: $got"
		got=$(ex "$e" "output #>> '{}'")
		bpid=${got%%|*}
		eq "settings bob's execution sees (search_path|read_only|statement_timeout|lock_timeout)" "${got#*|}" "$base"
		if [[ "$poisoned" == *" $bpid "* ]]; then
			conclusive=1
			break
		fi
	done
	[ $conclusive -eq 1 ] || fail "inconclusive: bob's executions never ran on a worker alice's run had used ($poisoned)"
	eq "advisory locks 12345 left in the workers" \
		"$(q postgres "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 12345 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" 0
	eq "mallory's objects called by the workers as another role (tag:role)" \
		"$(q postgres "SELECT coalesce(string_agg(DISTINCT tag || ':' || usr, ', '), 'none') FROM m.calls")" none
	eq "sec_mallory is superuser" "$(q postgres "SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_mallory'")" f
	ok "3b session state in the workers: alice's node settings and locks do not reach bob's later execution"
}

# ---------------------------------------------------------------- 4. identity forgery
c4() {
	local w out
	w=$(wf sec_gw 'forge' <<'J'
[["t","trigger"],
 ["a","database-query",{"readOnly":false,"onError":"continue","query":"SELECT set_config('flowent.user_id','sec_bob',false) AS s"}],
 ["b","database-query",{"readOnly":false,"onError":"continue","query":"SELECT sec.try('SELECT flowent.set_acting_user(''sec_bob'')') AS s"}],
 ["c","database-query",{"query":"SELECT flowent.current_user_id() AS u"}],
 ["x","data-transform",{"expression":"to_jsonb(flowent.current_user_id())"}],
 ["o","output",{"value":{"c":"{{c.rows.0.u}}","x":"{{x}}"}}]]
J
	)
	out=$(psq sec_gw -v w="$w" <<SQL
SELECT concat_ws('|', r->>'status', r#>>'{output,c}', r#>>'{output,x}') FROM flowent.run(:'w') r;
SELECT flowent.current_user_id();
SELECT count(*) FROM flowent.workflows WHERE id = '$BOB_WF';
SQL
	) || fail "gateway session: $out"
	eq "gateway session: later nodes' user (status|database-query|data-transform), the session's user, bob's workflows seen" \
		"$(words "$out")" "success|sec_gw|sec_gw sec_gw 0"
	ok "4 identity: a node setting flowent.user_id or calling set_acting_user changes no one's identity"
}

# ---------------------------------------------------------------- 5. sub-workflows
c5() {
	local c b a e out b2 a2 apid r
	c=$(wf sec_bob 'bob private C' <<<'[["t","trigger"],["q","database-query",{"query":"SELECT v FROM sec.bob_secret"}],["o","output",{}]]')
	b=$(wf sec_alice 'alice B' <<<"[[\"t\",\"trigger\"],[\"s\",\"sub-workflow\",{\"workflowId\":\"$c\"}],[\"o\",\"output\",{}]]")
	a=$(wf sec_alice 'alice A' <<<"[[\"t\",\"trigger\"],[\"s\",\"sub-workflow\",{\"workflowId\":\"$b\"}],[\"o\",\"output\",{}]]")
	e=$(q sec_alice "SELECT flowent.execute(:'a')" -v a="$a")
	wait_done "$e" 30
	eq "async A -> B -> bob's private C: status" "$(ex "$e" status)" error
	eq "bob's table in any execution or node log" \
		"$(q postgres "SELECT (SELECT count(*) FROM flowent.workflow_executions x WHERE x::text LIKE '%BOB_TABLE_SECRET%') + (SELECT count(*) FROM flowent.workflow_node_logs l WHERE l::text LIKE '%BOB_TABLE_SECRET%')")" 0
	eq "children of an async execution: user and mode (depth:user:mode)" \
		"$(q postgres "WITH RECURSIVE d AS (SELECT id, user_id, mode, 1 AS depth FROM flowent.workflow_executions WHERE parent_execution_id = '$e'
			UNION ALL SELECT x.id, x.user_id, x.mode, d.depth + 1 FROM flowent.workflow_executions x JOIN d ON x.parent_execution_id = d.id)
			SELECT string_agg(DISTINCT depth || ':' || user_id || ':' || mode, ',') FROM d WHERE depth = 1 OR user_id <> 'sec_alice' OR mode <> 'async'")" \
		"1:sec_alice:async"
	out=$(q sec_alice "SELECT r->>'status', r::text LIKE '%BOB_TABLE_SECRET%' FROM flowent.run(:'a') r" -v a="$a" 2>&1) || out="refused"
	one_of "sync A -> B -> bob's private C (status|bob's data in the result)" "$out" "refused" "error|f"
	# approving the child of an async parent hands it to the worker
	b2=$(wf sec_alice 'alice B2' <<<'[["t","trigger"],["ap","human-approval",{"title":"child"}],["o","output",{"value":"child approved"}]]')
	a2=$(wf sec_alice 'alice A2' <<<"[[\"t\",\"trigger\"],[\"s\",\"sub-workflow\",{\"workflowId\":\"$b2\"}],[\"o\",\"output\",{}]]")
	e=$(q sec_alice "SELECT flowent.execute(:'a')" -v a="$a2")
	poll "SELECT EXISTS (SELECT 1 FROM flowent.workflow_approval_requests r JOIN flowent.workflow_executions x ON x.id = r.execution_id WHERE x.parent_execution_id = '$e' AND r.status = 'pending')" 20 ||
		fail "async A2 -> B2: no pending approval in the child: $(ex "$e" "concat_ws('|', status, error_code, error)")"
	apid=$(q postgres "SELECT r.id FROM flowent.workflow_approval_requests r JOIN flowent.workflow_executions x ON x.id = r.execution_id WHERE x.parent_execution_id = '$e'")
	eq "mode of the child of an async parent" "$(q postgres "SELECT string_agg(mode || ':' || user_id, ',') FROM flowent.workflow_executions WHERE parent_execution_id = '$e'")" "async:sec_alice"
	r=$(q sec_alice "SELECT flowent.approve(:'id', true, 'ok')->>'status'" -v id="$apid" 2>&1) || fail "alice approving her child execution's approval: $r"
	eq "approve of the child of an async parent returns" "$r" pending
	wait_done "$e" 20
	eq "async parent after its child's approval" "$(ex "$e" "status || '|' || (output #>> '{}')")" "success|child approved"
	ok "5 sub-workflows: children keep the user and the async mode, bob's private workflow stays out, async approve is pending"
}

# ---------------------------------------------------------------- 6. secrets
c6() {
	local w e got
	q sec_alice "SELECT flowent.set_credential('sec_year', '\"2024\"'); SELECT flowent.set_credential('sec_tok', '\"$SECRET\"');
		SELECT flowent.set_credential('sec_basic', '{\"username\": \"sec-user\", \"password\": \"sec-pass-123\"}')" >/dev/null
	w=$(wf sec_alice 'secrets' <<J
[["t","trigger"],
 ["h","http-request",{"url":"$BASE/echo","headers":{"Authorization":"Bearer {{credentials.sec_tok}}","X-Year":"{{credentials.sec_year}}"}}],
 ["hb","http-request",{"url":"$BASE/echo","auth":{"type":"basic","credential":"sec_basic"}}],
 ["v","set-variable",{"variables":{"year":2024,"s":"abc2024def","exact":"2024","n":120245,"tok":"x-$SECRET-y"}}],
 ["o","output",{"value":{"year":"{{v.year}}","s":"{{v.s}}","exact":"{{v.exact}}","n":"{{v.n}}","tok":"{{v.tok}}","auth":"{{h.body.headers.authorization}}"}}]]
J
	)
	curl_log() { python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$BASE/$1"; }
	curl_log log/clear >/dev/null
	e=$(q sec_alice "SELECT flowent.execute(:'w')" -v w="$w")
	wait_done "$e" 30
	eq "the server got the credentials" "$(curl_log log | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["authorization"] == sys.argv[1]))' "Bearer $SECRET")" 1
	eq "async run with short and long secrets: status" "$(ex "$e" "concat_ws('|', status, error_code, error)")" success
	got=$(q sec_alice "SELECT concat_ws('|', o->'year', jsonb_typeof(o->'year'), o->'n',
		jsonb_typeof(o->'s'), o->>'s' LIKE 'abc%def' AND o->>'s' NOT LIKE '%2024%',
		jsonb_typeof(o->'exact'), o->>'exact' NOT LIKE '%2024%',
		o->>'tok' LIKE 'x-%-y' AND o->>'tok' NOT LIKE '%$SECRET%', o->>'auth' NOT LIKE '%$SECRET%')
		FROM (SELECT output AS o FROM flowent.workflow_executions WHERE id = '$e') s")
	eq "output: numbers kept, strings redacted in place (year|type|n|s type|s redacted|exact type|exact redacted|tok|auth)" \
		"$got" "2024|number|120245|string|t|string|t|t|t"
	eq "node logs and execution rows holding the secret" \
		"$(q postgres "SELECT (SELECT count(*) FROM flowent.workflow_node_logs l WHERE l::text LIKE '%$SECRET%' OR l::text LIKE '%abcdef123456%')
			+ (SELECT count(*) FROM flowent.workflow_executions x WHERE x::text LIKE '%$SECRET%' OR x::text LIKE '%abcdef123456%')")" 0
	# basic auth: the header is derived from the credential; the echoed response must not show it
	eq "node logs holding the basic-auth encoding of sec_basic" \
		"$(q postgres "SELECT count(*) FROM flowent.workflow_node_logs l WHERE l.execution_id = '$e'
			AND (l::text LIKE '%' || encode(convert_to('sec-user:sec-pass-123', 'UTF8'), 'base64') || '%' OR l::text LIKE '%sec-pass-123%')")" 0
	eq "the server got basic auth" "$(curl_log log | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if (r["authorization"] or "").startswith("Basic ")))')" 1
	eq "node log of v: year a number, s redacted" \
		"$(q postgres "SELECT concat_ws('|', output->'year', output->>'s' NOT LIKE '%2024%') FROM flowent.workflow_node_logs WHERE execution_id = '$e' AND node_id = 'v' AND status = 'success'")" \
		"2024|t"
	ok "6 secrets: async HTTP continuation scrubbed; '2024' redacted inside strings only, JSON stays valid"
}

# ---------------------------------------------------------------- 7. events and visibility
c7() {
	local p pf p2 e1 e2 e3 apid lpid got
	p=$(wf sec_alice 'alice public' '{"visibility":"public"}' <<<'[["t","trigger"],["s","set-variable",{"name":"m","value":"ALICE_SECRET_MARKER"}],["o","output",{"value":{"m":"{{s}}"}}]]')
	pf=$(wf sec_alice 'alice fails' <<<'[["t","trigger"],["x","stop-error",{"message":"ALICE_SECRET_MARKER boom","code":"MY_CODE"}]]')
	p2=$(wf sec_alice 'alice public approval' '{"visibility":"public"}' <<<'[["t","trigger"],["ap","human-approval",{"title":"ALICE_SECRET_MARKER"}],["o","output",{}]]')
	PGAPPNAME=sec_listen psq sec_bob >"$TMP/listen.out" 2>&1 <<<'LISTEN flowent; SELECT pg_sleep(6); SELECT 1;' &
	lpid=$!
	poll "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'sec_listen' AND query LIKE '%pg_sleep%')" 10 ||
		fail "bob's listener did not start"
	e1=$(q sec_alice "SELECT flowent.run(:'w')->>'executionId'" -v w="$p")
	q sec_alice "SELECT flowent.run(:'w')->>'executionId'" -v w="$pf" >/dev/null
	e2=$(q sec_alice "SELECT flowent.run(:'w')->>'executionId'" -v w="$p2")
	e3=$(q sec_alice "SELECT flowent.execute(:'w')" -v w="$p")
	wait_done "$e3" 5
	wait $lpid || fail "bob's listener failed: $(cat "$TMP/listen.out")"
	got=$(python3 - "$TMP/listen.out" "$e1" <<'PY'
import json, re, sys
allowed = {"event", "executionId", "workflowId", "seq", "nodeId", "nodeType", "status", "durationMs", "ts",
           "outputBytes", "iteration", "reason", "errorCode", "attempt", "kind", "parentExecutionId", "rootExecutionId",
           "approvalId", "failedNodeId", "totalCost", "totalTokens", "totalDurationMs"}
events, marker, extra = [], 0, set()
for line in open(sys.argv[1]):
    m = re.match(r'Asynchronous notification "flowent" with payload "(.*)" received from server process', line)
    if not m:
        continue
    marker += "ALICE_SECRET_MARKER" in m.group(1)
    p = json.loads(m.group(1))
    events += p if isinstance(p, list) else [p]
for ev in events:
    extra |= set(ev) - allowed
mine = sum(1 for ev in events if ev.get("executionId") == sys.argv[2])
print(f"seen:{mine > 0} marker:{marker} extra keys:{','.join(sorted(extra)) or '-'}")
PY
	)
	eq "bob's LISTEN: alice's events seen, payloads with her marker, keys beyond ids/status/timing/sizes" "$got" "seen:True marker:0 extra keys:-"
	apid=$(q postgres "SELECT id FROM flowent.workflow_approval_requests WHERE execution_id = '$e2'")
	eq "bob sees alice's executions, node logs, approvals of her public workflows" \
		"$(q sec_bob "SELECT (SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id IN ('$p', '$p2'))
			|| '|' || (SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id IN ('$e1', '$e2', '$e3'))
			|| '|' || (SELECT count(*) FROM flowent.workflow_approval_requests WHERE execution_id = '$e2')")" "0|0|0"
	one_of "bob cancels alice's execution" "$(state sec_bob "SELECT flowent.cancel('$e2', 'bob')")" 42704 42501
	one_of "bob approves alice's execution" "$(state sec_bob "SELECT flowent.approve('$e2', true)")" 42704 42501
	one_of "bob approves alice's approval request" "$(state sec_bob "SELECT flowent.approve('$apid', false)")" 42704 42501
	eq "alice's execution after bob's attempts" "$(ex "$e2" status)|$(q postgres "SELECT status FROM flowent.workflow_approval_requests WHERE id = '$apid'")" "suspended|pending"
	q sec_bob "SELECT flowent.run(:'w')" -v w="$p" >/dev/null
	eq "bob sees his own execution of alice's public workflow, and only it" \
		"$(q sec_bob "SELECT string_agg(user_id, ',') FROM flowent.workflow_executions WHERE workflow_id = '$p'")" sec_bob
	ok "7 events carry no user data; runs of a public workflow are seen and decided by their user only"
}

# ---------------------------------------------------------------- 8. lease
c8() {
	local w e bpid st
	w=$(wf sec_alice 'delay 1s' <<<'[["t","trigger"],["d","delay",{"durationMs":1000}],["o","output",{"value":"after"}]]')
	e=$(q sec_alice "SELECT flowent.execute(:'w')" -v w="$w")
	PGAPPNAME=sec_lease psq sec_bob -v id="$e" >/dev/null 2>&1 <<<"SELECT pg_advisory_lock(hashtext('flowent:' || :'id')); SELECT pg_sleep(40);" &
	bpid=$!
	poll "SELECT EXISTS (SELECT 1 FROM pg_locks k JOIN pg_stat_activity a ON a.pid = k.pid WHERE a.application_name = 'sec_lease' AND k.locktype = 'advisory' AND k.granted)" 10 ||
		echo "security: note: bob never got the advisory lock hashtext('flowent:' || id)"
	poll "$(done_sql "$e")" 20 || {
		st=$(ex "$e" status)
		q postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sec_lease'" >/dev/null
		wait $bpid || true
		fail "alice's async execution did not finish within 20 s while bob held pg_advisory_lock(hashtext('flowent:' || id)): $st"
	}
	q postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sec_lease'" >/dev/null
	wait $bpid || true
	eq "alice's execution with bob holding the advisory lock on its id" "$(ex "$e" "status || '|' || (output #>> '{}')")" "success|after"
	ok "8 lease: a user's advisory lock on hashtext('flowent:' || id) does not stop the worker"
}

# ---------------------------------------------------------------- 9. approved_by
c9() {
	local w e1 e2
	w=$(wf sec_alice 'approval' <<<'[["t","trigger"],["ap","human-approval",{"title":"pay"}],["o","output",{"value":"{{ap.approvedBy}}"}]]')
	e1=$(q sec_alice "SELECT flowent.run(:'w')->>'executionId'" -v w="$w")
	e2=$(q sec_alice "SELECT flowent.run(:'w')->>'executionId'" -v w="$w")
	eq "alice approves with approved_by => 'the-ceo'" "$(state sec_alice "SELECT flowent.approve('$e1', true, 'x', approved_by => 'the-ceo')")" 42501
	eq "that approval afterwards" "$(q postgres "SELECT status FROM flowent.workflow_approval_requests WHERE execution_id = '$e1'")" pending
	q sec_alice "SELECT flowent.approve(:'e', true, 'ok')" -v e="$e2" >/dev/null
	eq "approve without approved_by: resolved_by and output" \
		"$(q postgres "SELECT r.resolved_by || '|' || (x.output #>> '{}') FROM flowent.workflow_approval_requests r JOIN flowent.workflow_executions x ON x.id = r.execution_id WHERE x.id = '$e2'")" \
		"sec_alice|sec_alice"
	ok "9 approved_by: only an admin records another name; by default the acting user"
}

# ---------------------------------------------------------------- 10. run_as
c10() {
	local w pw out e
	eq "alice creates a workflow with runAs postgres" "$(state sec_alice "SELECT flowent.create_workflow('x', '[]', '[]', '{\"runAs\": \"postgres\"}')")" 42501
	w=$(wf sec_alice 'mine' <<<'[["t","trigger"]]')
	eq "alice sets runAs postgres" "$(state sec_alice "SELECT flowent.update_workflow('$w', '{\"runAs\": \"postgres\"}')")" 42501
	pw=$(wf postgres 'superuser public' '{"visibility":"public"}' <<<'[["t","trigger"],["q","database-query",{"query":"SELECT current_user::text AS u"}],["o","output",{}]]')
	out=$(q sec_bob "SELECT concat_ws('|', r->>'status', r#>>'{error,code}', r::text LIKE '%\"u\": \"postgres\"%') FROM flowent.run(:'w') r" -v w="$pw" -v VERBOSITY=sqlstate 2>&1) ||
		out=$(sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\).*$/\1/p' <<<"$out")
	one_of "bob runs postgres's public workflow with run_as postgres (status|code|ran as postgres)" "$out" 42501 "error|PERMISSION_DENIED|f"
	if e=$(q sec_bob "SELECT flowent.execute(:'w')" -v w="$pw" 2>/dev/null); then
		wait_done "$e" 20
		eq "bob executes it (async)" "$(ex "$e" "concat_ws('|', status, error_code)")" "error|PERMISSION_DENIED"
	fi
	eq "database-query nodes that ran as postgres for bob" \
		"$(q postgres "SELECT count(*) FROM flowent.workflow_node_logs l JOIN flowent.workflow_executions x ON x.id = l.execution_id WHERE x.workflow_id = '$pw' AND l.output::text LIKE '%\"u\": \"postgres\"%'")" 0
	ok "10 run_as: never a superuser for anyone else, at save and at run"
}

# ---------------------------------------------------------------- 11. lo_create
c11() {
	local w before
	w=$(wf sec_alice 'lo' <<<'[["t","trigger"],["q","database-query",{"query":"SELECT lo_create(0) AS lo"}],["o","output",{}]]')
	before=$(q postgres "SELECT count(*) FROM pg_largeobject_metadata")
	eq "read-only database-query calling lo_create" "$(q sec_alice "SELECT flowent.run(:'w')->>'status'" -v w="$w")" error
	eq "large objects" "$(q postgres "SELECT count(*) FROM pg_largeobject_metadata")" "$before"
	ok "11 a read-only database-query cannot create large objects"
}

# ---------------------------------------------------------------- 12. recursion
c12() {
	local w out n
	# shellcheck disable=SC2016 # $1 is the query's parameter
	w=$(wf sec_alice 'recursive' <<<'[["t","trigger"],["q","database-query",{"readOnly":false,"query":"SELECT flowent.run($1::uuid) AS r","params":["{{workflow.id}}"]}]]')
	out=$(state sec_alice "SELECT flowent.run('$w')")
	n=$(q postgres "SELECT count(*) || '|' || count(*) FILTER (WHERE status = 'error') FROM flowent.workflow_executions WHERE workflow_id = '$w'")
	echo "security: recursion: flowent.run -> $out, executions|errors: $n (max_depth $MAX_DEPTH)"
	if [ "$out" = 54000 ]; then
		ok "12 recursion: nested flowent.run refused past flowent.max_depth (54000)"
		return
	fi
	eq "nested flowent.run (ok, or 54000)" "$out" ok
	if [ "${n%|*}" -lt 2 ] || [ "${n%|*}" -gt $((MAX_DEPTH + 2)) ] || [ "${n#*|}" -lt 1 ]; then
		fail "self-recursive flowent.run: $n executions|errors, expected 2..$((MAX_DEPTH + 2)) with an error"
	fi
	ok "12 recursion: nested flowent.run stops at flowent.max_depth ($MAX_DEPTH)"
}

# ---------------------------------------------------------------- fake HTTP server (check 6)
python3 test/fake/http_server.py --bind 127.0.0.1 --port-file "$TMP/port" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
[ -s "$TMP/port" ] || { echo "security: FAIL: the fake server did not start" >&2; exit 1; }
BASE="http://127.0.0.1:$(cat "$TMP/port")"
OLD_ALLOW=$(q postgres "SHOW flowent.http_allow_hosts")
ALLOW_SET=1
NEW_ALLOW=${OLD_ALLOW:+$OLD_ALLOW,}127.0.0.1
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET flowent.http_allow_hosts = '$NEW_ALLOW'" -c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do [ "$(q postgres "SHOW flowent.http_allow_hosts")" = "$NEW_ALLOW" ] && break; sleep 0.05; done

check "1 acting user" c1
check "2 search_path attack" c2
check "3a session state (sync)" c3_sync
check "3b session state (workers)" c3_async
check "4 identity forgery" c4
check "5 sub-workflows" c5
check "6 secrets" c6
check "7 events and visibility" c7
check "8 lease" c8
check "9 approved_by" c9
check "10 run_as" c10
check "11 lo_create" c11
check "12 recursion" c12

if [ ${#FAILED[@]} -gt 0 ]; then
	echo "security: ${#FAILED[@]} check(s) failed:" >&2
	printf '  %s\n' "${FAILED[@]}" >&2
	exit 1
fi
echo "security: all checks passed"
