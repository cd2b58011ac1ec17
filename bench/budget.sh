#!/usr/bin/env bash
# What a budget reservation costs per model call: a synchronous run of trigger -> llm-agent ->
# output against the fake OpenAI-style server on 127.0.0.1 (model "echo", answers at once),
# through pgbench for DURATION seconds at one client, first for a user with no budget (no
# reservation), then with a day budget and a month budget (each call reserved and settled
# against two rows), then with a run cap (options.maxTokens) on top. Prints runs/s, ms per run
# and the difference per call.
#   DURATION=10 bash bench/budget.sh
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
DURATION=${DURATION:-10}
DB=flowent_bench_budget
NAME=bench_budget
. test/lib/sql_checks.sh
. test/lib/fake_api.sh
outbound_test_begin
start_fake_api
createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE EXTENSION flowent;
SELECT flowent.set_credential('k', '"sk-test"');
INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('echo', 0.5, 1.5);
SQL
WF=$(q "$DB" -c "SELECT flowent.create_workflow('b', '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
	{\"id\":\"ai\",\"type\":\"llm-agent\",\"data\":{\"model\":\"echo\",\"baseUrl\":\"$API/v1\",\"credential\":\"k\",\"prompt\":\"hello there\",\"maxTokens\":50}},
	{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{ai.text}}\"}}]',
	'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ai\"},{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"o\"}]')")
measure() {	# measure OPTIONS: runs/s of flowent.run with these options
	echo "SELECT flowent.run('$WF', '{}', '$1');" > "$TMP/run.sql"
	pgbench -n -c 1 -T "$DURATION" -f "$TMP/run.sql" "$DB" 2>"$TMP/pgbench.err" | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
report() { awk -v n="$1" -v t="$2" -v b="$3" 'BEGIN { printf "%-44s %8.1f runs/s  %6.3f ms/run  %+7.1f µs per call\n", n, t, 1000 / t, (1000 / t - 1000 / b) * 1000 }'; }
base=$(measure "{}")
[ -n "$base" ] || fail "pgbench: $(cat "$TMP/pgbench.err")"
report "no budget (nothing reserved)" "$base" "$base"
q "$DB" -c "SELECT flowent.set_budget('postgres', 'day', 100000, NULL), flowent.set_budget('postgres', 'month', NULL, 1000000000000)" >/dev/null
held=$(measure '{}')
report "day + month budget (reserve, settle)" "$held" "$base"
capped=$(measure '{"maxTokens": 1000000000}')
report "budgets + a run cap (options.maxTokens)" "$capped" "$base"
