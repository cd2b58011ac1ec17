#!/usr/bin/env bash
# Background worker benchmarks (issue 3 item 9): asynchronous throughput and wake-up latency.
# Needs the dev cluster (scripts/cluster.sh start, flowent preloaded); makes and drops its own
# database. synchronous_commit stays on; the workers are the cluster's (flowent.workers, 2).
#
#   N=5000 LAT_N=200 DURATION=10 CLIENTS="2 8" bash bench/async.sh
#
# Throughput, two ways, each for a 3-node (trigger -> set-variable -> output) and the 10-node
# pure workflow of bench/bench.sh:
#   batch:   N executions queued by one transaction (SELECT flowent.execute(...) FROM
#            generate_series); executions/s = N / (last completed_at - first queued), where
#            "first queued" is the earliest execution's started_at (set by flowent.execute,
#            clock time). Also the drain rate from the queueing transaction's commit.
#   clients: for each count in CLIENTS, that many pgbench clients call flowent.execute for
#            DURATION s, one execution per transaction, while the workers run them; completed
#            executions / (last completed_at - first queued), and the backlog (executions still
#            pending) when pgbench stopped: 0 means the producers, not the workers, set the rate.
# Wake-up latency: LAT_N single executions of the 3-node workflow, one at a time, each started
#   from idle workers (the previous one finished, then 20 ms pause). A procedure does
#   `x := flowent.execute(...); t_before := clock_timestamp(); COMMIT; t_after := clock_timestamp()`
#   and the latency is (started_at of the execution's first node log) - t_before. All timestamps
#   come from the same server clock. The worker cannot see the queue row before the commit is
#   visible, so the first node starts after t_before: the figure is an upper bound on
#   commit -> first node that also contains the commit itself (WAL flush, synchronous_commit on);
#   the commit's own duration (t_after - t_before) is printed next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
N=${N:-5000}
LAT_N=${LAT_N:-200}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-2 8}
DB=flowent_bench_async
export PGDATABASE=$DB

q() { psql -X -At -q -v ON_ERROR_STOP=1 -c "$1"; }
die() { echo "bench/async: $*" >&2; exit 1; }

dropdb --if-exists "$DB" 2>/dev/null
createdb "$DB"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
q "SET client_min_messages = warning; CREATE EXTENSION flowent"
psql -X -q -v ON_ERROR_STOP=1 -f bench/baseline.sql -f bench/make_chain.sql
WORKERS=$(q "SELECT current_setting('flowent.workers')")
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'")" = "$WORKERS" ] && break
	sleep 0.1
done
[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowent worker' AND datname = '$DB'")" = "$WORKERS" ] ||
	die "the $WORKERS workers of $DB did not start"

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
-- until every execution of a workflow is finished (or timeout)
CREATE PROCEDURE bench_wait(wf uuid, timeout_s int DEFAULT 300) LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + make_interval(secs => timeout_s);
BEGIN
	LOOP
		EXIT WHEN NOT EXISTS (SELECT 1 FROM flowent.workflow_executions
			WHERE workflow_id = wf AND status IN ('pending', 'running', 'suspended'));
		IF clock_timestamp() > deadline THEN RAISE EXCEPTION 'executions of % not finished after % s', wf, timeout_s; END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
END $$;

-- rate of a workflow's executions from the first queued to the last finished
CREATE FUNCTION bench_rate(wf uuid, since timestamptz DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
	SELECT format('%s executions (%s success), %s ms from first queued to last finished: %s executions/s',
		count(*), count(*) FILTER (WHERE status = 'success'),
		round(extract(epoch FROM max(completed_at) - min(started_at)) * 1000),
		round(count(*) / extract(epoch FROM max(completed_at) - min(started_at))))
	|| CASE WHEN since IS NULL THEN '' ELSE format('; from the queueing commit: %s executions/s',
		round(count(*) / extract(epoch FROM max(completed_at) - since))) END
	FROM flowent.workflow_executions WHERE workflow_id = wf
$$;

CREATE TABLE bench_lat (i int, id uuid, before_commit timestamptz, after_commit timestamptz);

-- n single executions, one at a time, from idle workers; timestamps around each COMMIT
CREATE PROCEDURE bench_latency(wf uuid, n int) LANGUAGE plpgsql AS $$
DECLARE
	x uuid;
	tb timestamptz;
	ids uuid[] := '{}';
	bs timestamptz[] := '{}';
	afs timestamptz[] := '{}';
	deadline timestamptz;
BEGIN
	COMMIT;
	FOR i IN 1..n LOOP
		x := flowent.execute(wf, '{"amount": 70}');
		tb := clock_timestamp();
		COMMIT;
		afs := afs || clock_timestamp();
		ids := ids || x;
		bs := bs || tb;
		deadline := clock_timestamp() + interval '10 s';
		LOOP
			EXIT WHEN EXISTS (SELECT 1 FROM flowent.workflow_executions WHERE id = x AND completed_at IS NOT NULL);
			IF clock_timestamp() > deadline THEN RAISE EXCEPTION 'execution % not finished after 10 s', x; END IF;
			PERFORM pg_sleep(0.002);
		END LOOP;
		PERFORM pg_sleep(0.02);	-- the workers go back to sleep on their latch
	END LOOP;
	INSERT INTO bench_lat SELECT g, ids[g], bs[g], afs[g] FROM generate_series(1, n) g;
END $$;
SQL

echo "synchronous_commit = $(q 'SHOW synchronous_commit'), flowent.workers = $WORKERS, $(nproc) cores"
three=$(q "SELECT bench_chain(3, 'set-variable')")
ten=$(q "SELECT bench_ten()")
# warm-up (plan caches, workflow cache of the workers)
warm3=$(q "SELECT bench_chain(3, 'set-variable')")
q "SELECT count(flowent.execute('$warm3', '{\"amount\": 70}')) FROM generate_series(1, 200)" >/dev/null
q "CALL bench_wait('$warm3')"

batch() {	# label workflow
	local label=$1 wf=$2 since
	since=$(psql -X -At -q -v ON_ERROR_STOP=1 <<SQL
BEGIN;
SELECT count(flowent.execute('$wf', jsonb_build_object('amount', 70, 'i', g))) FROM generate_series(1, $N) g \\g /dev/null
SELECT clock_timestamp();
COMMIT;
SQL
)
	q "CALL bench_wait('$wf')"
	echo "batch, $label: $(q "SELECT bench_rate('$wf', '$since')")"
}

clients() {	# label workflow clients
	local label=$1 wf=$2 c=$3 out backlog
	printf "SELECT flowent.execute('%s', '{\"amount\": 70}');\n" "$wf" >/tmp/flowent_bench_async.sql
	out=$(pgbench -n -c "$c" -j "$c" -T "$DURATION" -f /tmp/flowent_bench_async.sql "$DB" 2>/dev/null | awk '/^tps/ {print $3}')
	backlog=$(q "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$wf' AND status = 'pending'")
	q "CALL bench_wait('$wf')"
	echo "clients ($c pgbench x ${DURATION}s), $label: queued at ${out%.*}/s, backlog $backlog when pgbench stopped; $(q "SELECT bench_rate('$wf')")"
}

echo "== asynchronous throughput"
batch "3-node" "$three"
batch "10-node" "$ten"
for c in $CLIENTS; do
	clients "3-node" "$(q "SELECT bench_chain(3, 'set-variable')")" "$c"
	clients "10-node" "$(q "SELECT bench_ten()")" "$c"
done
bad=$(q "SELECT count(*) FROM flowent.workflow_executions WHERE status <> 'success'")
[ "$bad" = 0 ] || die "$bad executions did not succeed: $(q "SELECT string_agg(DISTINCT coalesce(error_code, status::text), ', ') FROM flowent.workflow_executions WHERE status <> 'success'")"

echo "== wake-up latency: commit -> first node start, $LAT_N single 3-node executions from idle workers"
lat=$(q "SELECT bench_chain(3, 'set-variable')")
q "CALL bench_latency('$lat', $LAT_N)"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
WITH l AS (
	SELECT b.i,
		extract(epoch FROM (SELECT min(started_at) FROM flowent.workflow_node_logs n WHERE n.execution_id = b.id) - b.before_commit) * 1000 AS first_node_ms,
		extract(epoch FROM b.after_commit - b.before_commit) * 1000 AS commit_ms,
		extract(epoch FROM e.completed_at - b.before_commit) * 1000 AS done_ms
	FROM bench_lat b JOIN flowent.workflow_executions e ON e.id = b.id)
SELECT count(*) AS n,
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY first_node_ms)::numeric, 2) AS "p50 ms",
	round(percentile_cont(0.99) WITHIN GROUP (ORDER BY first_node_ms)::numeric, 2) AS "p99 ms",
	round(max(first_node_ms)::numeric, 2) AS "max ms",
	round(min(first_node_ms)::numeric, 2) AS "min ms",
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY commit_ms)::numeric, 2) AS "commit p50 ms",
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY done_ms)::numeric, 2) AS "commit->finished p50 ms"
FROM l;
SQL
