#!/usr/bin/env bash
# Many slow model calls at once (issue 10, item 4): N asynchronous executions of trigger ->
# llm-agent -> output, queued in one transaction, against the fake OpenAI-style server on
# 127.0.0.1 whose model "sleep-S" answers after S seconds; the cluster's workers (flowent.workers,
# 2 by default) send them through their curl multi loops. Prints the wall time from the commit
# until all N have succeeded, and its ratio to one such execution alone (the baseline: the
# latency of one call), so ~1.0x means no call waited for another. The answers stream (the
# llm-agent's default in asynchronous runs: the workers store each one's text as it comes);
# STREAM=false asks for whole answers.
#   N=200 SECONDS_PER_CALL=2 STREAM=true bash bench/llm_concurrent.sh
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
N=${N:-200}
S=${SECONDS_PER_CALL:-2}
STREAM=${STREAM:-true}
DB=flowent_bench_llm
NAME=bench_llm
. test/lib/sql_checks.sh
. test/lib/fake_api.sh
outbound_test_begin
start_fake_api
createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE EXTENSION flowent;
SELECT flowent.set_credential('k', '"sk-test"');
SQL
WF=$(q "$DB" -c "SELECT flowent.create_workflow('slow', '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
	{\"id\":\"ai\",\"type\":\"llm-agent\",\"data\":{\"model\":\"sleep-$S\",\"baseUrl\":\"$API/v1\",\"credential\":\"k\",\"prompt\":\"call {{trigger.payload.i}}\",\"timeoutMs\":120000,\"stream\":$STREAM}},
	{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{ai.text}}\"}}]',
	'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ai\"},{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"o\"}]')")
workers=$(q "$DB" -c "SHOW flowent.workers")
wall() {	# wall COUNT: seconds from queueing COUNT executions until all have succeeded
	local t0 t1
	q "$DB" -c "DELETE FROM flowent.workflow_executions" >/dev/null
	t0=$(date +%s.%N)
	q "$DB" -c "SELECT count(flowent.execute('$WF', jsonb_build_object('i', i))) FROM generate_series(1, $1) i" >/dev/null
	poll "$DB" "SELECT count(*) FILTER (WHERE status = 'success') = $1 OR count(*) FILTER (WHERE status = 'error') > 0 FROM flowent.workflow_executions WHERE parent_execution_id IS NULL" 600 ||
		fail "the executions did not finish"
	t1=$(date +%s.%N)
	[ "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE status = 'success'")" = "$1" ] ||
		fail "not all succeeded: $(q "$DB" -c "SELECT string_agg(DISTINCT coalesce(error_code || ': ' || error, status::text), ', ') FROM flowent.workflow_executions WHERE status <> 'success'")"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
one=$(wall 1)
many=$(wall "$N")
printf "%-52s %7.2f s\n" "1 execution, one ${S}-s model call (baseline)" "$one"
printf "%-52s %7.2f s  (%.2fx the baseline; %d workers, stream %s)\n" "$N executions at once, each one ${S}-s model call" "$many" "$(awk -v m="$many" -v o="$one" 'BEGIN { print m / o }')" "$workers" "$STREAM"
