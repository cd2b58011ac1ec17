#!/usr/bin/env bash
# Table-change triggers (issue 11, item 8), on the dev cluster with its workers:
#  1. COPY of ROWS rows into a table, without a trigger and with flowent.on_change (async: the
#     COPY stores its rows as written, a worker queues their executions after the commit),
#     ROUNDS alternating pairs, rows/s and ratio; and the same with a `when` that keeps a tenth
#     of the rows (evaluated by the worker, like columns).
#  2. rows -> finished executions: the stored rows queued and the executions drained by the
#     workers, executions/s from the COPY's commit until the last one finished; baseline: as many executions of the
#     same workflow queued by flowent.execute in one statement, drained the same way.
# Prints figures and ratios, asserts no timing.  Needs `make install` and the dev cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
ROWS=${ROWS:-100000}
ROUNDS=${ROUNDS:-3}
DB=flowent_bench_table_triggers
TMP=$(mktemp -d)
cleanup() { dropdb --if-exists "$DB" >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
f2() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
bash scripts/cluster.sh status >/dev/null || bash scripts/cluster.sh start >/dev/null
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
q >/dev/null <<'SQL'
CREATE EXTENSION flowent;
CREATE TABLE plain (id bigint, kind text, value numeric, at timestamptz);
CREATE TABLE watched (LIKE plain);
CREATE TABLE filtered (LIKE plain);
-- as an application's table would be: a primary key and an index
CREATE TABLE plain_pk (id bigint PRIMARY KEY, kind text, value numeric, at timestamptz);
CREATE INDEX ON plain_pk (kind, at);
CREATE TABLE watched_pk (LIKE plain_pk INCLUDING INDEXES);
SELECT flowent.create_workflow('echo',
 '[{"id":"t","type":"trigger","data":{"triggerType":"table"}},{"id":"o","type":"output","data":{"value":"{{trigger.payload.new.id}}"}}]',
 '[{"id":"e","source":"t","target":"o"}]');
SQL
WF=$(q -c "SELECT id FROM flowent.workflows WHERE name = 'echo'")
q -c "SELECT flowent.on_change('$WF', 'watched', '{insert}')" >/dev/null
q -c "SELECT flowent.on_change('$WF', 'watched_pk', '{insert}')" >/dev/null
q -c "SELECT flowent.on_change('$WF', 'filtered', '{insert}', '{\"when\": {\"left\": \"{{new.kind}}\", \"operator\": \"equals\", \"right\": \"k0\"}}')" >/dev/null
python3 -c "import sys
for i in range(1, $ROWS + 1): sys.stdout.write(f'{i}\tk{i % 10}\t{i}.{i % 100:02d}\t2026-12-02 00:00:00+00\n')" >"$TMP/rows.tsv"
echo "ROWS=$ROWS, $(nproc) cores, synchronous_commit = $(q -c 'SHOW synchronous_commit'), flowent.workers = $(q -c 'SHOW flowent.workers' 2>/dev/null || echo '?')"

copy_rate() {	# copy_rate TABLE: rows/s of one COPY (its own transaction, committed)
	local t0 t1
	q -c "TRUNCATE $1" >/dev/null
	t0=$(ms)
	q -c "\\copy $1 FROM '$TMP/rows.tsv'" >/dev/null
	t1=$(ms)
	awk -v n="$ROWS" -v d=$((t1 - t0)) 'BEGIN {printf "%.0f", n / (d / 1000)}'
}
drain() {	# drain: ms until no execution is pending or running
	local t0=$1
	while [ "$(q -c "SELECT EXISTS (SELECT 1 FROM flowent.workflow_executions WHERE status IN ('pending', 'running'))
			OR EXISTS (SELECT 1 FROM flowent.table_change_batches)")" = t ]; do
		sleep 0.2
	done
	echo $(($(ms) - t0))
}
# what the workers had not done yet goes too (TRUNCATE waits for the unit they are in)
reset() { q -c "TRUNCATE flowent.table_change_batches, flowent.run_queue, flowent.workflow_node_logs, flowent.workflow_executions CASCADE" -c "CHECKPOINT" >/dev/null; }
# executions queued, and rows stored for the workers to queue, in one snapshot
queued() { q -c "SELECT (SELECT count(*) FROM flowent.workflow_executions) + (SELECT coalesce(sum(row_count), 0) FROM flowent.table_change_batches)"; }

# ---- 1. COPY with and without the trigger (the workers are idle: nothing to drain in between)
declare -a P W R F RF PK WK RK
for r in $(seq 1 "$ROUNDS"); do
	reset
	p=$(copy_rate plain)
	w=$(copy_rate watched)
	queued=$(queued)
	reset
	f=$(copy_rate filtered)
	fq=$(queued)
	reset
	pk=$(copy_rate plain_pk)
	wk=$(copy_rate watched_pk)
	reset
	P+=("$p"); W+=("$w"); F+=("$f"); R+=("$(f2 "$w" "$p")"); RF+=("$(f2 "$f" "$p")")
	PK+=("$pk"); WK+=("$wk"); RK+=("$(f2 "$wk" "$pk")")
	echo "round $r: COPY $ROWS rows: plain $p rows/s; watched $w rows/s ($queued executions queued or stored, ratio ${R[-1]}); with when $f rows/s ($fq queued or stored, ratio ${RF[-1]}); with a primary key and an index: $pk / $wk rows/s (ratio ${RK[-1]})"
done

# ---- 2. rows -> finished executions, against flowent.execute's queue drained the same way
reset
q -c "TRUNCATE watched" >/dev/null
t0=$(ms)
q -c "\\copy watched FROM '$TMP/rows.tsv'" >/dev/null
tq=$(ms)
d=$(drain "$tq")
n=$(q -c "SELECT count(*) FILTER (WHERE status = 'success') FROM flowent.workflow_executions")
E2E=$(awk -v n="$n" -v d="$d" 'BEGIN {printf "%.0f", n / (d / 1000)}')
echo "table: COPY of $ROWS rows committed in $((tq - t0)) ms; $n executions finished in $d ms after it: $E2E executions/s"
reset
t0=$(ms)
q -c "SELECT count(flowent.execute('$WF', jsonb_build_object('op', 'insert', 'table', 'public.watched', 'new', to_jsonb(p), 'old', NULL)))
	FROM (SELECT * FROM plain) p" >/dev/null
tq=$(ms)
d=$(drain "$tq")
n2=$(q -c "SELECT count(*) FILTER (WHERE status = 'success') FROM flowent.workflow_executions")
BASE=$(awk -v n="$n2" -v d="$d" 'BEGIN {printf "%.0f", n / (d / 1000)}')
echo "flowent.execute: $n2 executions queued in one statement in $((tq - t0)) ms; finished in $d ms after it: $BASE executions/s"

echo
echo "== table triggers, $(date -u '+%Y-%m-%d %H:%M UTC'), tree $(git rev-parse --short HEAD), $ROWS rows"
printf '%-52s %s\n' "COPY, plain table (median of $ROUNDS)" "$(med "${P[@]}") rows/s (${P[*]})"
printf '%-52s %s\n' "COPY, watched (every row stored for the workers)" "$(med "${W[@]}") rows/s (${W[*]}); ratio to plain median $(med "${R[@]}") (${R[*]})"
printf '%-52s %s\n' "COPY, watched with when (a tenth kept by the workers)" "$(med "${F[@]}") rows/s (${F[*]}); ratio median $(med "${RF[@]}") (${RF[*]})"
printf '%-52s %s\n' "COPY, table with a primary key and an index" "plain $(med "${PK[@]}") rows/s, watched $(med "${WK[@]}") rows/s; ratio median $(med "${RK[@]}") (${RK[*]})"
printf '%-52s %s\n' "table rows -> finished executions" "$E2E executions/s"
printf '%-52s %s\n' "flowent.execute's queue, drained the same way" "$BASE executions/s (table / execute $(f2 "$E2E" "$BASE"))"
