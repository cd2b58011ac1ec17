#!/usr/bin/env bash
# Table-change triggers (issue 11): flowent.on_change / drop_on_change against the running
# cluster (PGHOST/PGPORT/PGUSER, workers preloaded), in databases of its own:
#   insert, update and delete each start one execution with {op, table, new, old} (numbers
#   exact, an update's old and new rows of the same row); a rolled-back write starts none;
#   columns and when filter; sync mode runs in the statement (its writes roll back with the
#   row, a failed run fails the statement, recursion stops at flowent.max_depth); a writer with
#   no Flowent rights starts runs as the trigger's creator; a role that does not own the table
#   (nor holds TRIGGER) is refused; bad options name what is wrong; COPY of ROWS rows queues
#   ROWS executions in one statement and the workers finish each exactly once; the
#   table_triggers view counts; dropping the trigger, the table, the workflow or the extension
#   cleans up; pg_dump/restore keeps a trigger working.
# Every wait is a poll with a deadline.
set -euo pipefail

DB=flowent_table_triggers
DB2=flowent_table_triggers_restored
ROWS=${ROWS:-100000}
TMP=
cleanup() {
	for d in "$DB" "$DB2"; do timeout 30 dropdb --if-exists "$d" >/dev/null 2>&1 || true; done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS tt_writer" -c "DROP ROLE IF EXISTS tt_other" \
		-c "DROP ROLE IF EXISTS tt_owner" -c "DROP ROLE IF EXISTS tt_gone" >/dev/null 2>&1 || true
	[ -z "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
cleanup
TMP=$(mktemp -d)

NAME=table_triggers
. "$(dirname "$0")/../lib/sql_checks.sh"
# executions of workflow WF (by its name) in DB
runs() { q "$1" -c "SELECT count(*) FROM flowent.workflow_executions e JOIN flowent.workflows w ON w.id = e.workflow_id WHERE w.name = '$2'"; }
# every change queued (no batch waits for a worker) and every execution finished
finished() { poll "$1" "SELECT count(*) FILTER (WHERE e.status IN ('pending', 'running')) = 0
	AND NOT EXISTS (SELECT 1 FROM flowent.table_change_batches WHERE error IS NULL) FROM flowent.workflow_executions e" "${2:-30}"; }

createdb "$DB"
q "$DB" >/dev/null <<'SQL'
CREATE EXTENSION flowent;
CREATE ROLE tt_owner LOGIN;
CREATE ROLE tt_writer LOGIN;
CREATE ROLE tt_other LOGIN;
GRANT CREATE ON SCHEMA public TO tt_owner;
SQL
# tt_owner owns the tables and the workflows; tt_writer may only write the rows
q "$DB" -U tt_owner >/dev/null <<'SQL'
CREATE TABLE orders (id int PRIMARY KEY, status text, amount numeric, note text);
CREATE TABLE audit (order_id int, seen text);
GRANT INSERT, UPDATE, DELETE, SELECT ON orders TO tt_writer;
SELECT flowent.create_workflow('echo',
 '[{"id":"t","type":"trigger","data":{"triggerType":"table"}},{"id":"o","type":"output","data":{"value":"{{trigger.payload}}"}}]',
 '[{"id":"e","source":"t","target":"o"}]');
SELECT flowent.create_workflow('audit',
 '[{"id":"t","type":"trigger","data":{}},
   {"id":"q","type":"database-query","data":{"query":"INSERT INTO public.audit VALUES ($1, $2)",
     "params":["{{trigger.payload.new.id}}","{{trigger.payload.new.status}}"],"readOnly":false}},
   {"id":"o","type":"output","data":{"value":"done"}}]',
 '[{"id":"e1","source":"t","target":"q"},{"id":"e2","source":"q","target":"o"}]');
SELECT flowent.create_workflow('refuse',
 '[{"id":"t","type":"trigger","data":{}},{"id":"x","type":"stop-error","data":{"message":"amount too high"}}]',
 '[{"id":"e","source":"t","target":"x"}]');
SQL
wf() { q "$DB" -c "SELECT id FROM flowent.workflows WHERE name = '$1'"; }
ECHO=$(wf echo); AUDIT=$(wf audit); REFUSE=$(wf refuse)

# ---- bad input, each naming what is wrong
eq "events" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', '{insert,upsert}')")" \
	'events: "upsert" is not one of insert, update, delete'
eq "no events" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', '{}')")" \
	'events must name at least one of insert, update, delete'
eq "unknown option" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', options => '{\"colums\": [\"status\"]}')" | cut -c1-40)" \
	'unknown key "colums" in options; allowed'
eq "missing column" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', options => '{\"columns\": [\"state\"]}')")" \
	'options.columns: table orders has no column "state"'
eq "columns without update" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', '{insert}', '{\"columns\": [\"status\"]}')")" \
	'options.columns filters updates, but events {insert} has no update'
msg=$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', options => '{\"when\": {\"left\": \"{{new.status}}\", \"operator\": \"is_about\", \"right\": 1}}')")
case "$msg" in "options.when."*operator*is_about*) ;; *) fail "bad when: $msg" ;; esac
msg=$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', options => '{\"when\": {\"combinator\": \"xor\", \"conditions\": []}}')")
case "$msg" in "options.when.combinator"*xor*) ;; *) fail "bad when combinator: $msg" ;; esac
eq "unknown column in when" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', options => '{\"when\": {\"left\": \"{{new.status}}\", \"operator\": \"equals\", \"right\": \"{{new.state}}\"}}')")" \
	'options.when: variable {{new.state}} does not resolve'
eq "bad mode" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', options => '{\"mode\": \"now\"}')")" \
	'options.mode must be "async" or "sync", got "now"'
eq "no such version" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders', options => '{\"version\": 7}')")" \
	"options.version: workflow $ECHO has no version 7"
q "$DB" -U tt_owner -c "CREATE VIEW orders_v AS SELECT * FROM orders" >/dev/null
eq "a view" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'orders_v')")" \
	'target orders_v: only tables can be watched, this is a view'
eq "flowent's own" "$(err "$DB" "SELECT flowent.on_change('$ECHO', 'flowent.workflows')")" \
	"target flowent.workflows: Flowent's own tables cannot be watched"
eq "no such workflow" "$(err "$DB" "SELECT flowent.on_change(gen_random_uuid(), 'orders')" | cut -c1-9)" 'workflow '
ok "bad input is refused, naming the event, option, column, operator, mode, version or table"

# ---- who may: tt_other neither owns orders nor holds TRIGGER; it does see the workflow
q "$DB" -U tt_owner -c "SELECT flowent.update_workflow('$ECHO', '{\"visibility\": \"public\"}')" >/dev/null
msg=$(err "$DB" "SET ROLE tt_other; SELECT flowent.on_change('$ECHO', 'orders')")
eq "not the table's owner" "$msg" "permission denied for table orders"
eq "... nothing recorded" "$(q "$DB" -c "SELECT count(*) FROM flowent.table_change_triggers")" 0
ok "a role that neither owns the table nor holds TRIGGER on it is refused"

# ---- insert, update, delete: one execution each, the payload as to_jsonb gives the rows
T1=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'orders')")
eq "three PostgreSQL triggers" "$(q "$DB" -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND tgname LIKE 'flowent_%'")" 3
eq "duplicate" "$(err "$DB" "SET ROLE tt_owner; SELECT flowent.on_change('$ECHO', 'orders')")" \
	"workflow $ECHO already has a trigger on table public.orders: $T1"
q "$DB" -U tt_writer -c "INSERT INTO orders VALUES (1, 'new', 12345678901234567890.50, 'first')" >/dev/null
q "$DB" -U tt_writer -c "UPDATE orders SET status = 'paid' WHERE id = 1" >/dev/null
q "$DB" -U tt_writer -c "DELETE FROM orders WHERE id = 1" >/dev/null
finished "$DB" || fail "the three runs did not finish"
got=$(q "$DB" -c "SELECT string_agg(e.trigger_type || ' ' || e.user_id || ' ' || e.status || ' ' || e.output::text, E'\n' ORDER BY e.started_at, e.id)
	FROM flowent.workflow_executions e WHERE e.workflow_id = '$ECHO'")
expected='table tt_owner success {"op": "insert", "new": {"id": 1, "note": "first", "amount": 12345678901234567890.50, "status": "new"}, "old": null, "table": "public.orders"}
table tt_owner success {"op": "update", "new": {"id": 1, "note": "first", "amount": 12345678901234567890.50, "status": "paid"}, "old": {"id": 1, "note": "first", "amount": 12345678901234567890.50, "status": "new"}, "table": "public.orders"}
table tt_owner success {"op": "delete", "new": null, "old": {"id": 1, "note": "first", "amount": 12345678901234567890.50, "status": "paid"}, "table": "public.orders"}'
eq "the three payloads" "$got" "$expected"
ok "insert, update and delete each start one execution as the trigger's creator, the rows exact; the writer has no Flowent rights"

q "$DB" -U tt_writer >/dev/null <<'SQL'
BEGIN;
INSERT INTO orders VALUES (2, 'new', 1, 'rolled back');
ROLLBACK;
BEGIN;
INSERT INTO orders VALUES (3, 'new', 1, 'kept');
SAVEPOINT s;
INSERT INTO orders VALUES (4, 'new', 1, 'undone');
ROLLBACK TO s;
COMMIT;
SQL
finished "$DB" || fail "runs did not finish"
eq "rollback" "$(q "$DB" -c "SELECT string_agg(e.input #>> '{new,id}', ',' ORDER BY (e.input #>> '{new,id}')::int) FROM flowent.workflow_executions e WHERE e.workflow_id = '$ECHO' AND e.input ->> 'op' = 'insert'")" "1,3"
ok "a rolled-back write (and a savepoint rolled back) starts nothing"

# one statement, many rows: each update's old and new are the same row
q "$DB" -U tt_writer -c "INSERT INTO orders SELECT i, 'new', i, 'bulk' FROM generate_series(10, 209) i" >/dev/null
q "$DB" -U tt_writer -c "UPDATE orders SET amount = amount * 2, status = 'paid' WHERE id BETWEEN 10 AND 209" >/dev/null
finished "$DB" || fail "runs did not finish"
eq "pairs" "$(q "$DB" -c "SELECT count(*) || ' ' || count(*) FILTER (WHERE e.input #> '{new,id}' = e.input #> '{old,id}'
		AND (e.input #>> '{new,amount}')::numeric = 2 * (e.input #>> '{old,amount}')::numeric)
	FROM flowent.workflow_executions e WHERE e.workflow_id = '$ECHO' AND e.input ->> 'op' = 'update' AND e.input #>> '{new,note}' = 'bulk'")" "200 200"
ok "a 200-row update: 200 executions, each with the old and new versions of the same row"
eq "view" "$(q "$DB" -c "SELECT \"table\" || ' ' || events::text || ' ' || created_by || ' ' || fires || ' ' || executions || ' ' || (last_fired_at IS NOT NULL) FROM flowent.table_triggers WHERE id = '$T1'")" \
	"orders {insert,update,delete} tt_owner 6 404 true"
ok "flowent.table_triggers counts the firings (statements) and the executions they made"
q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$T1')" >/dev/null
eq "dropped" "$(q "$DB" -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND tgname LIKE 'flowent_%'") $(q "$DB" -c "SELECT count(*) FROM flowent.table_change_triggers")" "0 0"
eq "drop again" "$(q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$T1')")" f
ok "drop_on_change removes the PostgreSQL triggers and the record (false the second time)"

# ---- columns and when
T2=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'orders', '{update}', '{\"columns\": [\"status\"], \"when\": {\"left\": \"{{new.status}}\", \"operator\": \"equals\", \"right\": \"shipped\"}}')")
before=$(runs "$DB" echo)
q "$DB" -U tt_writer >/dev/null <<'SQL'
UPDATE orders SET note = 'only the note' WHERE id = 3;
UPDATE orders SET status = 'packed' WHERE id = 3;
UPDATE orders SET status = 'shipped', note = 'x' WHERE id IN (3, 10);
UPDATE orders SET status = 'shipped' WHERE id = 3;
SQL
finished "$DB" || fail "runs did not finish"
eq "filtered" "$(q "$DB" -c "SELECT string_agg(e.input #>> '{new,id}', ',' ORDER BY (e.input #>> '{new,id}')::int) FROM flowent.workflow_executions e
	WHERE e.workflow_id = '$ECHO' AND e.input #>> '{new,status}' = 'shipped'") $(( $(runs "$DB" echo) - before ))" "3,10 2"
ok "columns: an update that leaves them unchanged starts nothing; when: only rows where the condition holds"
q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$T2')" >/dev/null
# columns alone: the rows are stored as written and compared when the worker reads them
T2=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'orders', '{update}', '{\"columns\": [\"status\", \"amount\"]}')")
before=$(runs "$DB" echo)
q "$DB" -U tt_writer >/dev/null <<'SQL'
UPDATE orders SET note = 'only the note again' WHERE id = 3;
UPDATE orders SET amount = 1.000 WHERE id = 3;
UPDATE orders SET status = 'returned' WHERE id IN (3, 10);
SQL
finished "$DB" || fail "runs did not finish"
eq "columns alone" "$(q "$DB" -c "SELECT string_agg(e.input #>> '{new,id}', ',' ORDER BY (e.input #>> '{new,id}')::int) FROM flowent.workflow_executions e
	WHERE e.workflow_id = '$ECHO' AND e.input #>> '{new,status}' = 'returned'") $(( $(runs "$DB" echo) - before ))" "3,10 2"
ok "columns without when: an update of other columns, or to an equal number (1 as 1.000), starts nothing"
q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$T2')" >/dev/null
# when over both rows: the status changed
T2=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'orders', '{update}', '{\"when\": {\"left\": \"{{new.status}}\", \"operator\": \"not_equals\", \"right\": \"{{old.status}}\"}}')")
before=$(runs "$DB" echo)
q "$DB" -U tt_writer >/dev/null <<'SQL'
UPDATE orders SET status = 'returned', note = 'same status' WHERE id IN (3, 10);
UPDATE orders SET status = 'refunded' WHERE id IN (3, 10, 11);
SQL
finished "$DB" || fail "runs did not finish"
eq "when new and old" "$(q "$DB" -c "SELECT string_agg((e.input #>> '{old,status}') || '>' || (e.input #>> '{new,status}'), ',' ORDER BY (e.input #>> '{new,id}')::int) FROM flowent.workflow_executions e
	WHERE e.workflow_id = '$ECHO' AND e.input #>> '{new,status}' = 'refunded'") $(( $(runs "$DB" echo) - before ))" "returned>refunded,returned>refunded,paid>refunded 3"
ok "when comparing the new row with the old ({{old.status}}): only the updates that changed the status"
q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$T2')" >/dev/null

# ---- sync: the workflow's writes commit or roll back with the row
T3=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$AUDIT', 'orders', '{insert}', '{\"mode\": \"sync\"}')")
q "$DB" -U tt_writer >/dev/null <<'SQL'
BEGIN;
INSERT INTO orders VALUES (500, 'sync-rolled-back', 1, '');
ROLLBACK;
INSERT INTO orders VALUES (501, 'sync-kept', 1, '');
SQL
eq "sync" "$(q "$DB" -c "SELECT string_agg(order_id || ' ' || seen, ',') FROM audit") $(q "$DB" -c "SELECT string_agg(e.status || ' ' || e.mode, ',') FROM flowent.workflow_executions e WHERE e.workflow_id = '$AUDIT'")" \
	"501 sync-kept success sync"
ok "sync: the run is part of the writing transaction (its insert rolled back with the row, kept with it)"
T4=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$REFUSE', 'orders', '{insert}', '{\"mode\": \"sync\", \"when\": {\"left\": \"{{new.amount}}\", \"operator\": \"gt\", \"right\": 1000}}')")
msg=$(err "$DB" "SET ROLE tt_writer; INSERT INTO orders VALUES (502, 'big', 5000, '')")
case "$msg" in "table trigger $T4: workflow $REFUSE failed at node \"x\": STOP_ERROR: amount too high") ;; *) fail "a failed sync run: $msg" ;; esac
eq "... the row is not written" "$(q "$DB" -c "SELECT count(*) FROM orders WHERE id = 502")" 0
q "$DB" -U tt_writer -c "INSERT INTO orders VALUES (503, 'small', 5, '')" >/dev/null
eq "... a small one is" "$(q "$DB" -c "SELECT count(*) FROM orders WHERE id = 503")" 1
ok "sync: a failed run fails the statement, naming the trigger, workflow, node and code"
q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$T3'), flowent.drop_on_change('$T4')" >/dev/null
# a sync workflow that writes the table it watches: stopped at flowent.max_depth
q "$DB" -U tt_owner >/dev/null <<SQL
SELECT flowent.create_workflow('loop',
 '[{"id":"t","type":"trigger","data":{}},
   {"id":"q","type":"database-query","data":{"query":"INSERT INTO public.orders SELECT max(id) + 1, ''loop'', 0, '''' FROM public.orders","readOnly":false}}]',
 '[{"id":"e","source":"t","target":"q"}]');
SQL
LOOPT=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change(id, 'orders', '{insert}', '{\"mode\": \"sync\"}') FROM flowent.workflows WHERE name = 'loop'")
msg=$(err "$DB" "SET ROLE tt_writer; INSERT INTO orders VALUES (600, 'start', 0, '')")
case "$msg" in *"nest deeper than flowent.max_depth"*) ;; *) fail "recursion: $msg" ;; esac
eq "... nothing kept" "$(q "$DB" -c "SELECT count(*) FROM orders WHERE id >= 600")" 0
q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$LOOPT')" >/dev/null
ok "sync recursion (a workflow writing the table it watches) stops at flowent.max_depth and undoes the write"

# ---- COPY of ROWS rows: one firing, ROWS executions, each finished once
q "$DB" -U tt_owner -c "CREATE TABLE events (id bigint, kind text, value numeric)" -c "GRANT INSERT ON events TO tt_writer" >/dev/null
TC=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'events', '{insert}')")
python3 -c "import sys
for i in range(1, $ROWS + 1): sys.stdout.write(f'{i}\tk{i % 7}\t{i}.{i % 100:02d}\n')" >"$TMP/events.tsv"
before=$(runs "$DB" echo)
. "$(dirname "$0")/../lib/server_log.sh"
log_mark
# in the COPY's own transaction: its rows stored in batches of 10,000, one firing
stored=$(q "$DB" <<SQL
BEGIN;
SET ROLE tt_writer;
\\copy events FROM '$TMP/events.tsv'
RESET ROLE;
SELECT count(*) || ' ' || sum(row_count) || ' ' || count(*) FILTER (WHERE length(rows) > 0)
	|| ' ' || (SELECT fires FROM flowent.table_triggers WHERE id = '$TC')
FROM flowent.table_change_batches WHERE trigger_id = '$TC';
COMMIT;
SQL
)
eq "stored by the COPY" "$stored" "$(( (ROWS + 9999) / 10000 )) $ROWS $(( (ROWS + 9999) / 10000 )) 1"
finished "$DB" 600 || fail "the $ROWS executions did not finish in 10 minutes"
eq "queued from it" "$(( $(runs "$DB" echo) - before )) $(q "$DB" -c "SELECT fires || ' ' || executions || ' ' || waiting || ' ' || failed FROM flowent.table_triggers WHERE id = '$TC'")" "$ROWS 1 $ROWS 0 0"
eq "each once" "$(q "$DB" -c "SELECT count(*) || ' ' || count(DISTINCT e.input #>> '{new,id}') || ' ' || count(*) FILTER (WHERE e.status = 'success' AND e.output = e.input)
		|| ' ' || (SELECT count(*) FROM flowent.run_queue)
	FROM flowent.workflow_executions e WHERE e.workflow_id = '$ECHO' AND e.input ->> 'table' = 'public.events'")" "$ROWS $ROWS $ROWS 0"
eq "numbers exact" "$(q "$DB" -c "SELECT e.input #>> '{new,value}' FROM flowent.workflow_executions e WHERE e.input ->> 'table' = 'public.events' AND e.input #>> '{new,id}' = '7'")" "7.07"
eq "lease warnings while the workers drained it" "$(log_since_mark | grep -c "you don't own a lock" || true)" 0
ok "COPY of $ROWS rows queues $ROWS executions in one firing; the workers finish each exactly once"

# ---- the rows as they were written: the worker reads them after the commit, so a change of
# the table's columns, or its TOAST rows gone with a rewrite, between the two changes nothing
q "$DB" -U tt_owner -c "CREATE TABLE shapes (id int, big text, amount numeric, gone text)" >/dev/null
TS=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'shapes', '{insert,update}')")
BIG_MD5=$(q "$DB" -c "SELECT md5(string_agg(md5(i::text), '' ORDER BY i)) FROM generate_series(1, 40000) i")
q "$DB" -U tt_owner >/dev/null <<'SQL'
-- 1.28 MB of hex: kept out of line, in the table's TOAST relation
INSERT INTO shapes SELECT 1, string_agg(md5(i::text), '' ORDER BY i), 1.50, 'dropped later' FROM generate_series(1, 40000) i;
BEGIN;
-- rows written before lack the column: the old row of the update has its default
ALTER TABLE shapes ADD COLUMN added int DEFAULT 7;
UPDATE shapes SET amount = 2.50 WHERE id = 1;
-- the rewrite drops the TOAST rows the update's rows pointed to, at this commit
ALTER TABLE shapes DROP COLUMN gone, ALTER COLUMN amount TYPE text;
COMMIT;
SQL
finished "$DB" || fail "the shapes runs did not finish"
eq "as written" "$(q "$DB" -c "SELECT string_agg(concat_ws(' ', e.status, e.input ->> 'op', md5(e.input #>> '{new,big}') = '$BIG_MD5',
		e.input #> '{new,amount}', e.input #>> '{new,gone}', e.input #> '{new,added}',
		md5(e.input #>> '{old,big}') = '$BIG_MD5', e.input #> '{old,amount}', e.input #> '{old,added}'), E'\n' ORDER BY e.started_at, e.id)
	FROM flowent.workflow_executions e WHERE e.input ->> 'table' = 'public.shapes'")" \
	"success insert t 1.50 dropped later
success update t 2.50 dropped later 7 t 1.50 7"
ok "the payloads are the rows as written: a column added, dropped or retyped and the TOAST rows rewritten before the worker read them change nothing"
q "$DB" -U tt_owner -c "SELECT flowent.drop_on_change('$TS')" >/dev/null
q "$DB" -U tt_owner >/dev/null <<'SQL'
CREATE TABLE scratch (id int);
SELECT flowent.on_change(w.id, 'scratch', '{insert}') FROM flowent.workflows w WHERE w.name = 'echo';
BEGIN;
INSERT INTO scratch VALUES (77);
DROP TABLE scratch;
COMMIT;
SQL
finished "$DB" || fail "the scratch run did not finish"
eq "table dropped after the write" "$(q "$DB" -c "SELECT e.status || ' ' || (e.input #>> '{new,id}') FROM flowent.workflow_executions e WHERE e.input ->> 'table' = 'public.scratch'")" "success 77"
ok "rows committed with the DROP TABLE that followed them still run"
# a batch that cannot be queued (the table's owner, who reads the rows, is gone) keeps its rows and says why
q "$DB" >/dev/null <<'SQL'
CREATE ROLE tt_gone;
CREATE TABLE gone_t (id int);
ALTER TABLE gone_t OWNER TO tt_gone;
GRANT TRIGGER ON gone_t TO tt_owner;
SQL
TG=$(q "$DB" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'gone_t', '{insert}')")
q "$DB" >/dev/null <<'SQL'
BEGIN;
INSERT INTO gone_t VALUES (1), (2);
DROP TABLE gone_t;
DROP ROLE tt_gone;
COMMIT;
SQL
poll "$DB" "SELECT EXISTS (SELECT 1 FROM flowent.table_change_batches WHERE trigger_id = '$TG' AND error IS NOT NULL)" 30 ||
	fail "the batch of a gone owner did not fail"
msg=$(q "$DB" -c "SELECT row_count || ' ' || error FROM flowent.table_change_batches WHERE trigger_id = '$TG'")
case "$msg" in "2 table change batch "*": the owner of public.gone_t (role "*") no longer exists") ;; *) fail "failed batch: $msg" ;; esac
q "$DB" -U tt_writer -c "INSERT INTO events VALUES (-5, 'after a failed batch', 5)" >/dev/null
finished "$DB" || fail "runs did not finish after a failed batch"
eq "... later rows run" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE input #>> '{new,id}' = '-5' AND status = 'success'")" 1
ok "a batch that cannot be queued keeps its rows with the error, and the workers go on"

# ---- pg_dump / restore keeps a trigger working
dropdb --if-exists "$DB2"
createdb "$DB2"
pg_dump -d "$DB" -f "$TMP/dump.sql"
q "$DB2" -f "$TMP/dump.sql" >/dev/null 2>"$TMP/restore.err" || { cat "$TMP/restore.err"; fail "restore"; }
eq "restored record" "$(q "$DB2" -c "SELECT \"table\" || ' ' || workflow FROM flowent.table_triggers WHERE id = '$TC'")" "events $ECHO"
q "$DB2" -U tt_writer -c "INSERT INTO events VALUES (-1, 'after restore', 1.10)" >/dev/null
poll "$DB2" "SELECT EXISTS (SELECT 1 FROM flowent.workflow_executions WHERE input #>> '{new,id}' = '-1' AND status = 'success' AND output #>> '{new,value}' = '1.10')" 30 ||
	fail "the restored trigger did not start a run"
ok "pg_dump/restore: the trigger and its record come back, and a row written afterwards runs"

# ---- lifecycle: the workflow deleted, the table dropped, the extension dropped
q "$DB2" -U tt_owner -c "SELECT flowent.on_change('$AUDIT', 'orders', '{delete}')" >/dev/null
q "$DB2" -U tt_owner -c "SELECT flowent.delete_workflow('$AUDIT')" >/dev/null
eq "workflow deleted" "$(q "$DB2" -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND tgname LIKE 'flowent_%'") $(q "$DB2" -c "SELECT count(*) FROM flowent.table_change_triggers WHERE workflow_id = '$AUDIT'")" "0 0"
q "$DB2" -U tt_owner -c "CREATE TABLE scratch (id int)" -c "SELECT flowent.on_change('$ECHO', 'scratch')" >/dev/null
q "$DB2" -U tt_owner -c "DROP TABLE scratch" >/dev/null
eq "table dropped" "$(q "$DB2" -c "SELECT count(*) FROM flowent.table_change_triggers WHERE \"target\"::text NOT IN ('events')")" 0
# the restored trigger on events, and a new one on orders, go with the extension; the table's own trigger stays
q "$DB2" -U tt_owner >/dev/null <<'SQL'
CREATE FUNCTION own_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'stamped'; RETURN NEW; END $$;
CREATE TRIGGER own_stamp BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION own_stamp();
SQL
q "$DB2" -U tt_owner -c "SELECT flowent.on_change('$ECHO', 'orders', '{insert}')" >/dev/null
q "$DB2" -c "DROP EXTENSION flowent" >/dev/null
eq "extension dropped" "$(q "$DB2" -c "SELECT string_agg(tgname, ',') FROM pg_trigger WHERE tgrelid IN ('orders'::regclass, 'events'::regclass) AND NOT tgisinternal")" own_stamp
q "$DB2" -U tt_writer -c "INSERT INTO orders VALUES (900, 'no flowent', 1, '')" -c "INSERT INTO events VALUES (-2, 'x', 1)" >/dev/null
eq "... its own trigger still runs" "$(q "$DB2" -c "SELECT note FROM orders WHERE id = 900")" stamped
eq "... the table's own constraint kept" "$(err "$DB2" "SET ROLE tt_writer; INSERT INTO orders VALUES (900, 'twice', 1, '')" | cut -c1-50)" \
	'duplicate key value violates unique constraint "or'
ok "deleting the workflow, dropping the table or the extension (a restored trigger too) removes its triggers; the table's own trigger and constraints stay"
echo "table_triggers: all checks passed"
