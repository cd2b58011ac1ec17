#!/usr/bin/env bash
# Cost of loops per item: nested loop-controllers of N x N items (N in NESTED,
# default 64 256 512) and one flat loop of FLAT items (default 100000), each
# body one set-variable node, run by flowent.run; prints the time per item
# (the engine's cost must stay linear in the total items).  The baseline of the
# same run: the flat loop over 4,096 items.  Needs the dev cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
NESTED=${NESTED:-64 256 512}
SUSPENDED=${SUSPENDED:-1000 4000}
FLAT=${FLAT:-100000}
DB=flowent_bench_loops
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
q "SET client_min_messages = warning; CREATE EXTENSION flowent" >/dev/null
nested=$(q "SELECT flowent.create_workflow('nested', '[
	{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}},
	{\"id\": \"outer\", \"type\": \"loop-controller\", \"data\": {\"items\": \"{{trigger.payload.items}}\", \"maxIterations\": 1000000}},
	{\"id\": \"inner\", \"type\": \"loop-controller\", \"data\": {\"items\": \"{{trigger.payload.items}}\", \"maxIterations\": 1000000}},
	{\"id\": \"s\", \"type\": \"set-variable\", \"data\": {\"name\": \"v\", \"value\": \"{{loop.item}}\"}},
	{\"id\": \"o\", \"type\": \"output\", \"data\": {\"value\": \"{{variables.v}}\"}}]',
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"outer\"}, {\"id\": \"e2\", \"source\": \"outer\", \"sourceHandle\": \"body\", \"target\": \"inner\"},
	  {\"id\": \"e3\", \"source\": \"inner\", \"sourceHandle\": \"body\", \"target\": \"s\"}, {\"id\": \"e4\", \"source\": \"outer\", \"sourceHandle\": \"done\", \"target\": \"o\"}]')")
flat=$(q "SELECT flowent.create_workflow('flat', '[
	{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}},
	{\"id\": \"l\", \"type\": \"loop-controller\", \"data\": {\"items\": \"{{trigger.payload.items}}\", \"maxIterations\": 1000000}},
	{\"id\": \"s\", \"type\": \"set-variable\", \"data\": {\"name\": \"v\", \"value\": \"{{loop.item}}\"}},
	{\"id\": \"o\", \"type\": \"output\", \"data\": {\"value\": \"{{variables.v}}\"}}]',
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"l\"}, {\"id\": \"e2\", \"source\": \"l\", \"sourceHandle\": \"body\", \"target\": \"s\"},
	  {\"id\": \"e3\", \"source\": \"l\", \"sourceHandle\": \"done\", \"target\": \"o\"}]')")
# run WF N: milliseconds of flowent.run over items 1..N (server-side clock)
run() {
	q "SELECT round(extract(epoch FROM clock_timestamp() - t0) * 1000)
	   FROM (SELECT clock_timestamp() t0) s, LATERAL (SELECT flowent.run('$1', jsonb_build_object('items', (SELECT jsonb_agg(i) FROM generate_series(1, $2) i)),
	         '{\"isTest\": true}') ->> 'status' AS st) r WHERE r.st = 'success'"
}
per_item() { awk -v ms="$1" -v n="$2" 'BEGIN {printf "%.2f", ms * 1000 / n}'; }
base_ms=$(run "$flat" 4096)
base=$(per_item "$base_ms" 4096)
printf '%-22s %10s %10s %14s %10s\n' loop items ms "µs per item" "vs flat 4096"
printf '%-22s %10s %10s %14s %10s\n' "flat 4096 (baseline)" 4096 "$base_ms" "$base" 1.00
for n in $NESTED; do
	ms=$(run "$nested" "$n")
	[ -n "$ms" ] || { echo "nested $n x $n did not succeed" >&2; exit 1; }
	p=$(per_item "$ms" $((n * n)))
	printf '%-22s %10s %10s %14s %10s\n' "nested $n x $n" $((n * n)) "$ms" "$p" "$(awk -v p="$p" -v b="$base" 'BEGIN {printf "%.2f", p / b}')"
done
ms=$(run "$flat" "$FLAT")
p=$(per_item "$ms" "$FLAT")
printf '%-22s %10s %10s %14s %10s\n' "flat $FLAT" "$FLAT" "$ms" "$p" "$(awk -v p="$p" -v b="$base" 'BEGIN {printf "%.2f", p / b}')"

suspending=$(q "SELECT flowent.create_workflow('suspending', '[
	{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}},
	{\"id\": \"l\", \"type\": \"loop-controller\", \"data\": {\"items\": \"{{trigger.payload.items}}\", \"maxIterations\": 1000000}},
	{\"id\": \"d\", \"type\": \"delay\", \"data\": {\"durationMs\": 3600000}},
	{\"id\": \"s\", \"type\": \"set-variable\", \"data\": {\"name\": \"v\", \"value\": \"{{loop.item}}\"}},
	{\"id\": \"o\", \"type\": \"output\", \"data\": {\"value\": \"{{l.count}}\"}}]',
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"l\"}, {\"id\": \"e2\", \"source\": \"l\", \"sourceHandle\": \"body\", \"target\": \"d\"},
	  {\"id\": \"e3\", \"source\": \"d\", \"target\": \"s\"}, {\"id\": \"e4\", \"source\": \"l\", \"sourceHandle\": \"done\", \"target\": \"o\"}]')")
# resumes WF N: milliseconds of the N resumes that take a run suspended in every item to its end
resumes() {
	psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE TEMP TABLE x AS SELECT (flowent.run('$1', jsonb_build_object('items', (SELECT jsonb_agg(i) FROM generate_series(1, $2) i)),
	'{"isTest": true}') ->> 'executionId')::uuid AS id, clock_timestamp() AS t0;
-- one transaction per resume, as when the resumes come from different callers
DO \$\$ DECLARE id uuid := (SELECT x.id FROM x); r jsonb; BEGIN
	FOR i IN 1..$2 LOOP r := flowent.resume(id); COMMIT; END LOOP;
	IF r->>'status' <> 'success' THEN RAISE EXCEPTION 'the run ended %', r->>'status'; END IF;
END \$\$;
SELECT round(extract(epoch FROM clock_timestamp() - t0) * 1000) FROM x;
SQL
}
printf '\n%-22s %10s %10s %14s %10s\n' "suspending loop" items ms "µs per resume" "vs first"
first=
for n in $SUSPENDED; do
	ms=$(resumes "$suspending" "$n")
	p=$(per_item "$ms" "$n")
	[ -n "$first" ] || first=$p
	printf '%-22s %10s %10s %14s %10s\n' "every item suspends" "$n" "$ms" "$p" "$(awk -v p="$p" -v b="$first" 'BEGIN {printf "%.2f", p / b}')"
done
