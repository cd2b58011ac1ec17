#!/usr/bin/env bash
# Events off the commit path (DESIGN §9): with the library preloaded a run's
# events are handed over at commit to the database's events process, which
# sends them in batches.
#   (a) 5,000 runs from 10 sessions: every event of every run arrives exactly
#       once, in seq order per execution, in payloads under 8000 bytes
#   (b) the buffer full (events process stopped): every run commits; each
#       execution's events arrive or an "events:skipped" event names their
#       seq range, in stream order; the server log says so
#   (c) kill -9 of the events process under load: no run half-written, the
#       events process is back and events flow again
#   (d) a server without the preload: events are sent from the transaction
#   and a rolled-back run or savepoint hands nothing over
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=flowent_events_load_test
TMP=$(mktemp -d)
chmod 755 "$TMP"
TMPPG=""
cleanup() {
	[ -z "$TMPPG" ] || as_pg "$(pg_config --bindir)/pg_ctl" -D "$TMPPG" -m immediate stop >/dev/null 2>&1 || true
	pkill -CONT -f "flowent events for $DB" 2>/dev/null || true
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "events_load: FAIL: $*"; exit 1; }
ok() { echo "events_load: ok: $*"; }
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
if [ "$(id -u)" = 0 ]; then as_pg() { (cd / && runuser -u postgres -- "$@"); }; else as_pg() { "$@"; }; fi

cc -O2 -Wall -Wextra -Werror -o "$TMP/listen" test/tools/listen.c -I"$(pg_config --includedir)" -lpq

dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
q -c "CREATE EXTENSION flowent"
wf=$(q -f bench/peers_flow.sql)
cat >"$TMP/run.sql" <<SQL
\set id random(1, 1000000)
SELECT flowent.run('$wf', jsonb_build_object('id', :id, 'value', :id % 100));
SQL

events_pid() {
	q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'flowent events' AND datname = '$DB'"
}
wait_events_process() {
	local i pid
	for i in $(seq 1 150); do
		pid=$(events_pid 2>/dev/null || true)
		[ -z "$pid" ] || { echo "$pid"; return 0; }
		sleep 0.1
	done
	return 1
}
# listen NAME: start a listener into $TMP/NAME.out, return once it listens
listen() {
	PGDATABASE=$DB "$TMP/listen" flowent 3000 180000 >"$TMP/$1.out" 2>"$TMP/$1.err" &
	LISTENER=$!
	for _ in $(seq 1 100); do
		grep -q listening "$TMP/$1.err" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "the listener did not start: $(cat "$TMP/$1.err")"
}
# verify NAME: the events received against the executions stored
verify() {
	q -c "SELECT id, seq, status FROM flowent.workflow_executions WHERE workflow_id = '$wf' AND id::text > '${2:-0}'" >"$TMP/$1.rows"
	python3 - "$TMP/$1.out" "$TMP/$1.rows" <<'PY'
import json, sys
events, seen, payloads, skips = {}, set(), 0, 0
for line in open(sys.argv[1]):
    _, payload = line.rstrip('\n').split(' ', 1)
    payloads += 1
    if len(payload.encode()) >= 8000:
        sys.exit(f'a payload of {len(payload.encode())} bytes')
    p = json.loads(payload)
    for e in (p if isinstance(p, list) else [p]):
        if e['event'] == 'events:skipped':
            if e.get('executionId') is None:
                sys.exit(f'events skipped without their execution: {e}')
            skips += 1
            seqs = list(range(e['fromSeq'], e['toSeq'] + 1))
        else:
            seqs = [e['seq']]
        for s in seqs:
            key = (e['executionId'], s)
            if key in seen:
                sys.exit(f'seq {s} of execution {e["executionId"]} arrived twice')
            seen.add(key)
            got = events.setdefault(e['executionId'], [])
            if got and got[-1] >= s:
                sys.exit(f'execution {e["executionId"]}: seq {s} arrived after {got[-1]}')
            got.append(s)
rows = [r.split('|') for r in open(sys.argv[2]).read().split('\n') if r]
for exec_id, seq, status in rows:
    if status != 'success':
        sys.exit(f'execution {exec_id} is {status}')
    if events.get(exec_id) != list(range(1, int(seq) + 1)):
        sys.exit(f'execution {exec_id}: got seqs {events.get(exec_id)}, expected 1..{seq}')
extra = set(events) - {r[0] for r in rows}
if extra:
    sys.exit(f'events of {len(extra)} executions that are not stored, e.g. {sorted(extra)[0]}')
print(f'{len(rows)} executions, {len(seen)} events, {payloads} payloads, {skips} skip notices')
PY
}

# ---------------------------------------------------------------- (a)
pid=$(wait_events_process) || fail "no events process for $DB"
listen a
pgbench -n -c 10 -t 500 -f "$TMP/run.sql" "$DB" >"$TMP/a.pgbench" 2>&1 || fail "pgbench: $(cat "$TMP/a.pgbench")"
wait "$LISTENER"
res=$(verify a 2>&1) || fail "(a) $res"
case $res in 5000\ executions*) ;; *) fail "(a) expected 5000 executions: $res" ;; esac
case $res in *" 0 skip notices") ;; *) fail "(a) nothing should be skipped: $res" ;; esac
ok "(a) 5,000 runs from 10 sessions: every event once, in seq order per execution ($res)"

# ---------------------------------------------------------------- rollbacks
# a rolled-back run, and one in a rolled-back savepoint, hand nothing over
last=$(q -c "SELECT max(id::text) FROM flowent.workflow_executions")
listen r
q -c "BEGIN" -c "SELECT flowent.run('$wf', '{\"id\": 1, \"value\": 1}')" -c "ROLLBACK" >/dev/null
kept=$(q -c "BEGIN" -c "SAVEPOINT s" -c "SELECT flowent.run('$wf', '{\"id\": 2, \"value\": 2}')" -c "ROLLBACK TO s" \
	-c "SELECT flowent.run('$wf', '{\"id\": 3, \"value\": 3}')->>'executionId'" -c "COMMIT" | tail -n1)
wait "$LISTENER"
res=$(verify r "$last" 2>&1) || fail "(rollbacks) $res"
case $res in 1\ executions*) ;; *) fail "(rollbacks) expected the events of 1 execution: $res" ;; esac
grep -q "$kept" "$TMP/r.out" || fail "(rollbacks) the committed run's events are missing"
ok "rollbacks: a rolled-back run and a rolled-back savepoint emit nothing; the committed run's events arrive ($res)"

# ---------------------------------------------------------------- (b)
last=$(q -c "SELECT max(id::text) FROM flowent.workflow_executions")
log_before=$(wc -l <"$(q -c "SELECT current_setting('data_directory')")/log/postgresql.log" 2>/dev/null || echo 0)
kill -STOP "$pid"
listen b
pgbench -n -c 2 -t 75 -f "$TMP/run.sql" "$DB" >"$TMP/b.pgbench" 2>&1 || { kill -CONT "$pid"; fail "pgbench with the events process stopped: $(cat "$TMP/b.pgbench")"; }
kill -CONT "$pid"
wait "$LISTENER"
res=$(verify b "$last" 2>&1) || fail "(b) $res"
case $res in 150\ executions*) ;; *) fail "(b) expected 150 executions: $res" ;; esac
case $res in *" 0 skip notices") fail "(b) a full buffer should have skipped events: $res" ;; esac
logfile="$(q -c "SELECT current_setting('data_directory')")/log/postgresql.log"
if [ -r "$logfile" ]; then
	tail -n +"$((log_before + 1))" "$logfile" | grep -q "event buffer is full" || fail "(b) the server log does not say events were skipped"
fi
ok "(b) buffer full: all 150 runs committed; events or skipped ranges cover every seq, in order ($res)"

# ---------------------------------------------------------------- (c)
pgbench -n -c 4 -T 6 -f "$TMP/run.sql" "$DB" >"$TMP/c.pgbench" 2>&1 &
bench=$!
sleep 2
kill -9 "$pid"
wait "$bench" || true
for _ in $(seq 1 200); do pg_isready -q && q -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
half=$(q -c "SELECT count(*) FROM flowent.workflow_executions WHERE status IN ('pending', 'running')")
[ "$half" = 0 ] || fail "(c) $half executions left running after the crash"
pid2=$(wait_events_process) || fail "(c) the events process did not come back"
[ "$pid2" != "$pid" ] || fail "(c) the events process has the pid of the killed one"
last=$(q -c "SELECT max(id::text) FROM flowent.workflow_executions")
listen c
pgbench -n -c 2 -t 20 -f "$TMP/run.sql" "$DB" >"$TMP/c2.pgbench" 2>&1 || fail "pgbench after the crash: $(cat "$TMP/c2.pgbench")"
wait "$LISTENER"
res=$(verify c "$last" 2>&1) || fail "(c) $res"
ok "(c) kill -9 of the events process under load: no run half-written, the events process is back ($pid -> $pid2), events flow ($res)"

# ---------------------------------------------------------------- (d)
TMPPG="$TMP/pg"
mkdir -m 700 "$TMPPG"
[ "$(id -u)" != 0 ] || chown postgres "$TMPPG" "$TMP"
as_pg "$(pg_config --bindir)/initdb" -D "$TMPPG" -A trust -U postgres >/dev/null
as_pg "$(pg_config --bindir)/pg_ctl" -D "$TMPPG" -w -l "$TMP/pg.log" \
	-o "-p 54339 -k $TMP -c listen_addresses='' -c shared_preload_libraries=''" start >/dev/null
out=$(psql -X -h "$TMP" -p 54339 -U postgres -d postgres -v ON_ERROR_STOP=1 2>&1 <<SQL
CREATE EXTENSION flowent;
LISTEN flowent;
SELECT flowent.run(flowent.create_workflow('plain', '[{"id":"t","type":"trigger","data":{}},{"id":"o","type":"output","data":{"value":1}}]',
  '[{"id":"e","source":"t","target":"o"}]'))->>'status';
SELECT 1;
SQL
)
n=$(printf '%s\n' "$out" | grep -c '^Asynchronous notification "flowent" with payload "{"event"' || true)
[ "$n" = 5 ] || fail "(d) without the preload: expected 5 events sent from the transaction, got $n: $out"
ok "(d) without the preload the events are sent from the transaction ($n events)"
echo "events_load: all checks passed"
