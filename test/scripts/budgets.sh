#!/usr/bin/env bash
# Budgets and run caps (issue 10, item 6) against the fake OpenAI-style server
# (test/fake/api_server.py, model "metered": 0.3 s, usage 30 + max_tokens), on the running
# cluster (PGHOST/PGPORT/PGUSER, workers preloaded):
#   set_budget for administrators only, budget_status per user (row-level security);
#   each call reserves its most (prompt bytes + maxTokens) and settles its real usage;
#   sequential runs stop at the limit with BUDGET_EXCEEDED (spent, limit, node) and keep what
#   ran before; 20 concurrent asynchronous executions against a budget of 5 calls: at most 5
#   reach the server and spent is exactly the node logs' sum; a run's caps (maxTokens,
#   maxCostUsd); skipBudgetCheck only for flowent_budget_admin; a timed-out call is spent in
#   full; a reservation no answer settled is spent once its execution is over; a new period
#   starts with nothing spent.
set -euo pipefail

DB=flowent_budgets
NAME=budgets
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_api.sh"
budgets_end() {
	outbound_test_end
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS budget_alice" -c "DROP ROLE IF EXISTS budget_boss" >/dev/null 2>&1 || true
}
budgets_end
outbound_test_begin
trap budgets_end EXIT

start_fake_api
API="$API/v1"
createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE ROLE budget_alice LOGIN NOSUPERUSER;
CREATE ROLE budget_boss LOGIN NOSUPERUSER IN ROLE flowent_admin, flowent_budget_admin;
CREATE EXTENSION flowent;
INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('metered', 1, 2);
SQL
as() { local role=$1; shift; psql -X -At -q -v ON_ERROR_STOP=1 -U "$role" -d "$DB" "$@"; }
as_err() {
	local out
	if out=$(psql -X -At -q -v ON_ERROR_STOP=1 -U "$1" -d "$DB" -c "$2" 2>&1); then fail "expected an error from: $2 (got $out)"; fi
	sed -n 's/^psql:[^E]*ERROR:  //p; s/^ERROR:  //p' <<<"$out" | head -n 1
}
calls() { python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r['path'].endswith('/chat/completions')))" < <(curl -s "$API/../log"); }
# agent ROLE NAME [NODES]: alice's workflow trigger -> ai (llm-agent, metered, maxTokens 10) [-> ai2] -> output
agent() {
	local two=${3:-1} nodes edges
	nodes="{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"ai\",\"type\":\"llm-agent\",\"data\":{\"model\":\"metered\",\"baseUrl\":\"$API\",\"credential\":\"k\",\"prompt\":\"go\",\"maxTokens\":10}}"
	edges="{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ai\"}"
	if [ "$two" = 2 ]; then
		nodes="$nodes,{\"id\":\"ai2\",\"type\":\"llm-agent\",\"data\":{\"model\":\"metered\",\"baseUrl\":\"$API\",\"credential\":\"k\",\"prompt\":\"again\",\"maxTokens\":10}}"
		edges="$edges,{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"ai2\"},{\"id\":\"e3\",\"source\":\"ai2\",\"target\":\"o\"}"
	else
		edges="$edges,{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"o\"}"
	fi
	nodes="$nodes,{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{ai.text}}\"}}"
	as "$1" -c "SELECT flowent.create_workflow('$2', '[$nodes]', '[$edges]')"
}
status() { q "$DB" -c "SELECT concat_ws(' ', spent_tokens, reserved_tokens, remaining_tokens) FROM flowent.budget_status WHERE user_id = '$1' AND period = '$2'"; }

as budget_alice -c "SELECT flowent.set_credential('k', '\"sk-test\"')" >/dev/null
as budget_boss -c "SELECT flowent.set_credential('k', '\"sk-test\"')" >/dev/null

# ---- who sets budgets, who reads them
case "$(as_err budget_alice "SELECT flowent.set_budget('budget_alice', 'day', 100, NULL)")" in
	*'user "budget_alice" may not set budgets'*) ;; *) fail "a user set their own budget" ;; esac
eq "bad period" "$(as_err budget_boss "SELECT flowent.set_budget('budget_alice', 'hour', 1, NULL)")" \
	'set_budget: period must be day, week, month or total, got hour'
eq "negative" "$(as_err budget_boss "SELECT flowent.set_budget('budget_alice', 'day', -1, NULL)")" \
	'set_budget: limits must not be negative, got -1 USD and <NULL> tokens'
# one metered call reserves 32 prompt bytes + 3 + 10 = 45 tokens and spends 40: 5 fit in 220, a 6th does not
as budget_boss -c "SELECT flowent.set_budget('budget_alice', 'day', NULL, 220)" >/dev/null
as budget_boss -c "SELECT flowent.set_budget('budget_boss', 'month', 1000, NULL)" >/dev/null
eq "alice reads her own" "$(as budget_alice -c "SELECT string_agg(user_id || ' ' || period || ' ' || limit_tokens, ',') FROM flowent.budget_status")" \
	"budget_alice day 220"
eq "an admin reads all" "$(as budget_boss -c "SELECT count(*) FROM flowent.budget_status")" 2
ok "set_budget is for administrators (bad period and negative limits named); flowent.budget_status shows a user their own, an administrator all"

# ---- sequential runs: five calls, then BUDGET_EXCEEDED with what was spent; what ran before is kept
WF=$(agent budget_alice seq)
curl -s "$API/../log/clear" >/dev/null
for i in 1 2 3 4 5; do
	r=$(as budget_alice -c "SELECT flowent.run('$WF')")
	eq "run $i" "$(field "$r" "['status']")" '"success"'
done
eq "after five" "$(status budget_alice day)" "200 0 20"
r=$(as budget_alice -c "SELECT flowent.run('$WF')")
eq "sixth" "$(field "$r" "['status']") $(field "$r" "['error']['code']") $(field "$r" "['error']['nodeId']")" '"error" "BUDGET_EXCEEDED" "ai"'
case "$(field "$r" "['error']['message']")" in
	*'node \"ai\": the call may cost up to 45 tokens; user \"budget_alice\"'"'"'s day budget is 220 tokens, of which 200 is spent and 0 held by calls in flight'*) ;;
	*) fail "BUDGET_EXCEEDED message: $(field "$r" "['error']")" ;; esac
eq "calls" "$(calls)" 5
eq "spent is the node logs' sum" "$(q "$DB" -c "SELECT sum(tokens_used) FROM flowent.workflow_node_logs WHERE workflow_id = '$WF'")" 200
ok "each call reserves its most (prompt bytes + maxTokens) and settles its usage: five fit, the sixth fails BUDGET_EXCEEDED naming the node, the spent and the limit, and never reaches the server"

# ---- 20 concurrent asynchronous executions against a budget of 5 calls
q "$DB" -c "UPDATE flowent.budgets SET spent_tokens = 0 WHERE user_id = 'budget_alice'" >/dev/null
curl -s "$API/../log/clear" >/dev/null
pids=()
for i in $(seq 1 20); do as budget_alice -c "SELECT flowent.execute('$WF')" >"$TMP/exec.$i" 2>&1 & pids+=($!); done
for i in "${!pids[@]}"; do wait "${pids[$i]}" || fail "flowent.execute $((i + 1)) failed: $(cat "$TMP/exec.$((i + 1))")"; done
poll "$DB" "SELECT count(*) = 20 FROM flowent.workflow_executions WHERE workflow_id = '$WF' AND mode = 'async' AND status IN ('success', 'error')" 60 ||
	fail "the concurrent runs did not finish: $(q "$DB" -c "SELECT string_agg(status::text, ',') FROM flowent.workflow_executions WHERE workflow_id = '$WF' AND mode = 'async'")"
n=$(calls)
[ "$n" -ge 1 ] && [ "$n" -le 5 ] || fail "$n calls reached the server; the budget allows 5"
eq "successes" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$WF' AND mode = 'async' AND status = 'success'")" "$n"
eq "the rest" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '$WF' AND mode = 'async' AND status = 'error' AND error_code = 'BUDGET_EXCEEDED'")" "$((20 - n))"
eq "spent exact" "$(status budget_alice day)" "$((n * 40)) 0 $((220 - n * 40))"
eq "spent = node logs" "$(q "$DB" -c "SELECT sum(tokens_used) FROM flowent.workflow_node_logs l JOIN flowent.workflow_executions e ON e.id = l.execution_id WHERE e.workflow_id = '$WF' AND e.mode = 'async'")" "$((n * 40))"
eq "no reservation left" "$(q "$DB" -c "SELECT count(*) FROM flowent.budget_reservations")" 0
ok "20 concurrent asynchronous executions against a budget of 5 calls: $n reached the server, the other $((20 - n)) failed BUDGET_EXCEEDED, spent is exactly the node logs' sum"

# ---- a run's caps: options.maxTokens and maxCostUsd
WF2=$(agent budget_boss two 2)
r=$(as budget_boss -c "SELECT flowent.run('$WF2', '{}', '{\"maxTokens\": 60}')")
eq "maxTokens" "$(field "$r" "['status']") $(field "$r" "['error']['code']") $(field "$r" "['error']['nodeId']") $(field "$r" "['totalTokens']")" \
	'"error" "BUDGET_EXCEEDED" "ai2" 40'
case "$(field "$r" "['error']['message']")" in
	*'node \"ai2\": the call may cost up to 48 tokens, and this run may spend 60 tokens (options.maxTokens); it has spent 40'*) ;;
	*) fail "maxTokens message: $(field "$r" "['error']")" ;; esac
eq "kept" "$(q "$DB" -c "SELECT string_agg(node_id || ' ' || status, ',' ORDER BY seq) FROM flowent.workflow_node_logs WHERE execution_id = '$(field "$r" "['executionId']" | tr -d '"')'")" \
	"t success,ai success,ai2 error"
r=$(as budget_boss -c "SELECT flowent.run('$WF2', '{}', '{\"maxCostUsd\": 0.11}')")
eq "maxCostUsd fits" "$(field "$r" "['status']") $(field "$r" "['totalCost']")" '"success" 0.1'
r=$(as budget_boss -c "SELECT flowent.run('$WF2', '{}', '{\"maxCostUsd\": 0.09}')")
eq "maxCostUsd" "$(field "$r" "['error']['code']") $(field "$r" "['error']['details']['unit']") $(field "$r" "['totalCost']")" '"BUDGET_EXCEEDED" "usd" 0.05'
eq "bad cap" "$(err "$DB" "SELECT flowent.run('$WF2', '{}', '{\"maxTokens\": 1.5}')")" \
	'options.maxTokens must be a whole number of tokens, not negative, got 1.5'
eq "bad cap type" "$(err "$DB" "SELECT flowent.run('$WF2', '{}', '{\"maxCostUsd\": \"lots\"}')")" \
	'options.maxCostUsd must be a number of USD, got "lots"'
ok "a run's caps: maxTokens and maxCostUsd stop the call that could pass them (BUDGET_EXCEEDED, the run's totals kept); bad caps named"

# ---- skipBudgetCheck: for flowent_budget_admin only; past the user's budget, not the run's caps
eq "skip refused" "$(as_err budget_alice "SELECT flowent.run('$WF', '{}', '{\"skipBudgetCheck\": true}')")" \
	'options.skipBudgetCheck is for members of flowent_budget_admin; user "budget_alice" is not one'
as budget_boss -c "SELECT flowent.set_budget('budget_boss', 'day', NULL, 10)" >/dev/null
r=$(as budget_boss -c "SELECT flowent.run('$WF2')")
eq "boss over budget" "$(field "$r" "['error']['code']")" '"BUDGET_EXCEEDED"'
r=$(as budget_boss -c "SELECT flowent.run('$WF2', '{}', '{\"skipBudgetCheck\": true}')")
eq "boss skips" "$(field "$r" "['status']") $(status budget_boss day)" '"success" 0 0 10'
r=$(as budget_boss -c "SELECT flowent.run('$WF2', '{}', '{\"skipBudgetCheck\": true, \"maxTokens\": 50}')")
eq "caps still hold" "$(field "$r" "['error']['code']") $(field "$r" "['error']['details']['scope']")" '"BUDGET_EXCEEDED" "run"'
ok "skipBudgetCheck: refused for a user without flowent_budget_admin; a budget admin's run passes their budget (and is not charged to it), while the run's own caps still hold"

# ---- a call that timed out may have been charged: spent in full; a provider's refusal costs nothing
q "$DB" -c "UPDATE flowent.budgets SET spent_tokens = 0 WHERE user_id = 'budget_alice'" >/dev/null
WF3=$(as budget_alice -c "SELECT flowent.create_workflow('slow', '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
	{\"id\":\"ai\",\"type\":\"llm-agent\",\"data\":{\"model\":\"slow\",\"baseUrl\":\"$API\",\"credential\":\"k\",\"prompt\":\"go\",\"maxTokens\":10,\"timeoutMs\":300,\"retry\":{\"maxAttempts\":1}}},
	{\"id\":\"d\",\"type\":\"llm-agent\",\"data\":{\"model\":\"down\",\"baseUrl\":\"$API\",\"credential\":\"k\",\"prompt\":\"go\",\"maxTokens\":10,\"onError\":\"continue\",\"retry\":{\"maxAttempts\":1}}}]',
	'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"d\"},{\"id\":\"e2\",\"source\":\"d\",\"target\":\"ai\"}]')")
r=$(as budget_alice -c "SELECT flowent.run('$WF3')")
eq "timeout" "$(field "$r" "['error']['code']") $(status budget_alice day)" '"TIMEOUT" 45 0 175'
ok "a timed-out call is spent in full (it may have been charged); a provider's 500 costs nothing"

# ---- a reservation no answer settled (its worker died mid-call) is spent once its execution is over
q "$DB" -c "UPDATE flowent.budgets SET spent_tokens = 0 WHERE user_id = 'budget_alice'" >/dev/null
X=$(q "$DB" -c "SELECT id FROM flowent.workflow_executions WHERE workflow_id = '$WF' AND status = 'success' LIMIT 1")
q "$DB" -c "SELECT flowent._budget_reserve('budget_alice', '$X', 'ai', '', 0, 45, false, NULL, NULL, 0, 0)" >/dev/null
eq "held" "$(status budget_alice day)" "0 45 175"
q "$DB" -c "UPDATE flowent.budget_reservations SET created_at = now() - interval '1 minute'" >/dev/null
poll "$DB" "SELECT count(*) = 0 FROM flowent.budget_reservations" 30 || fail "the workers did not settle the orphaned reservation"
eq "swept" "$(status budget_alice day)" "45 0 175"
ok "a reservation left by a call that never answered counts as spent in full once its execution is over (the workers' sweep)"

# ---- a new period starts with nothing spent; what is in flight stays held
q "$DB" -c "UPDATE flowent.budgets SET period_start = period_start - interval '1 day', reserved_tokens = 7 WHERE user_id = 'budget_alice'" >/dev/null
eq "rolled" "$(status budget_alice day)" "0 7 213"
q "$DB" -c "UPDATE flowent.budgets SET reserved_tokens = 0 WHERE user_id = 'budget_alice'" >/dev/null
r=$(as budget_alice -c "SELECT flowent.run('$WF')")
eq "next day" "$(field "$r" "['status']") $(status budget_alice day) $(q "$DB" -c "SELECT period_start = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' FROM flowent.budgets WHERE user_id = 'budget_alice'")" \
	'"success" 40 0 180 t'
ok "a day budget starts over each UTC day: a new day has spent nothing, calls in flight stay held"
echo "budgets: all checks passed"
