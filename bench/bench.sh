#!/usr/bin/env bash
# Synchronous engine benchmarks: prints executions/s, µs per node and how
# cost grows with the number of nodes.  Needs the dev cluster
# (scripts/cluster.sh start).  DURATION (seconds per measurement) defaults to 10,
# ROUNDS (alternating flowent / baseline pairs of the 10-node workflow) to 3.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
DB=flowent_bench
dropdb --if-exists "$DB"
createdb "$DB"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION flowent'
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -f bench/baseline.sql -f bench/make_chain.sql

tps() {	# pgbench at one client, synchronous_commit on; prints tps
	local sql=$1
	printf '%s\n' "$sql" > /tmp/flowent_bench.sql
	pgbench -n -c 1 -T "$DURATION" -f /tmp/flowent_bench.sql "$DB" 2>/dev/null |
		awk '/^tps/ {print $3}'
}

echo "synchronous_commit = $(psql -X -At -d "$DB" -c 'SHOW synchronous_commit')"
echo "== 10-node pure workflow (trigger, data-transform, condition, 6 x set-variable, output)"
ten=$(psql -X -At -d "$DB" -c "SELECT bench_ten()")
psql -X -At -d "$DB" -c "SELECT flowent.run('$ten', '{\"amount\": 70}')->>'status'" >/dev/null
# Alternating rounds: the two cores are shared, so a slow spell hits both sides of a pair.
ratios=()
for round in $(seq "$ROUNDS"); do
	e=$(tps "SELECT flowent.run('$ten', '{\"amount\": 70}');")
	b=$(tps "SELECT bench_baseline('{\"amount\": 70}');")
	r=$(awk -v e="$e" -v b="$b" 'BEGIN {printf "%.2f", e / b}')
	ratios+=("$r")
	echo "round $round: flowent.run $e executions/s, PL/pgSQL baseline $b executions/s, ratio $r"
done
echo "ratio flowent/baseline: median $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') of $ROUNDS rounds (${ratios[*]})"

echo "== chains through flowent.run (node logs and events on)"
for kind in set-variable condition; do
	prev=""
	for n in 10 100 1000; do
		wf=$(psql -X -At -d "$DB" -c "SELECT bench_chain($n, '$kind')")
		r=$(tps "SELECT flowent.run('$wf', '{\"amount\": 70}');")
		us=$(awk -v r="$r" -v n="$n" 'BEGIN {printf "%.1f", 1e6 / r / n}')
		ms=$(awk -v r="$r" 'BEGIN {printf "%.3f", 1000 / r}')
		echo "$kind chain of $n: $r executions/s, $ms ms/execution, $us µs/node"
		[ "$n" = 10 ] && prev=$ms
		[ "$n" = 1000 ] && awk -v a="$ms" -v b="$prev" 'BEGIN {printf "  1000-node / 10-node time: %.1fx (linear would be 100x)\n", a / b}'
	done
done
dropdb "$DB"
