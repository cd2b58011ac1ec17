#!/usr/bin/env bash
# The llm-agent's tools (issue 10, item 2) against the fake OpenAI-style server's scripted
# tool-calling model "agent" (test/fake/api_server.py), on the running cluster (workers
# preloaded): workflows offered as functions (name, description, parameters from the child's
# trigger schema or given); each tool call a child execution whose output (or error) goes back
# as the tool's message with its tool_call_id; unknown tools and arguments that are no JSON
# answered with an error the model sees; maxSteps with tool_choice none on the last call, and
# LIMIT_EXCEEDED when the model still calls tools; every step a node-log row with its tokens
# and cost, the node's row and the execution the totals; a retried step repeats only itself;
# a tool whose child waits (an approval, an HTTP node in a worker) suspends the agent until the
# child ends; bad tools named before any model call; no key stored.
set -euo pipefail

DB=flowent_llm_tools
NAME=llm_tools
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_api.sh"
outbound_test_begin

start_fake_api --key sk-tools-77
V1="$API/v1"

createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE EXTENSION flowent;
SELECT flowent.set_credential('openai', '{"apiKey": "sk-tools-77"}');
INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('agent', 1, 2);
SQL
log() { curl -s "$API/log"; }
clear_log() { curl -s "$API/log/clear" >/dev/null; }

# the tools: lookup (a trigger schema, a description), fail (stop-error), fetch (an HTTP node)
LOOKUP=$(q "$DB" -c "SELECT flowent.create_workflow('Look up order',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{\"schema\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"]}}},
	  {\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":{\"order\":\"{{trigger.payload.id}}\",\"state\":\"shipped\"}}}]',
	'[{\"id\":\"e\",\"source\":\"t\",\"target\":\"o\"}]', '{\"description\": \"Finds an order by its id\"}')")
FAILS=$(q "$DB" -c "SELECT flowent.create_workflow('failing',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"x\",\"type\":\"stop-error\",\"data\":{\"message\":\"no such order\",\"code\":\"NOT_FOUND\"}}]',
	'[{\"id\":\"e\",\"source\":\"t\",\"target\":\"x\"}]')")
FETCH=$(q "$DB" -c "SELECT flowent.create_workflow('fetch',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"h\",\"type\":\"http-request\",\"data\":{\"url\":\"$API/ddg/?q={{trigger.payload.q}}&format=json\"}},
	  {\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":{\"status\":\"{{h.status}}\",\"q\":\"{{trigger.payload.q}}\"}}}]',
	'[{\"id\":\"e\",\"source\":\"t\",\"target\":\"h\"},{\"id\":\"e2\",\"source\":\"h\",\"target\":\"o\"}]')")
APPROVE=$(q "$DB" -c "SELECT flowent.create_workflow('approve',
	'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},{\"id\":\"a\",\"type\":\"human-approval\",\"data\":{\"title\":\"ok?\"}},
	  {\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"approved\"}}]',
	'[{\"id\":\"e\",\"source\":\"t\",\"target\":\"a\"},{\"id\":\"e2\",\"source\":\"a\",\"target\":\"o\",\"sourceHandle\":\"approved\"}]')")

# agent NAME SCRIPT TOOLS [EXTRA]: trigger -> llm-agent (model agent, the script as its prompt) -> output
agent() {
	q "$DB" -c "SELECT flowent.create_workflow('$1',
		jsonb_build_array('{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}'::jsonb,
			jsonb_build_object('id', 'ai', 'type', 'llm-agent', 'data',
				jsonb_build_object('model', 'agent', 'baseUrl', '$V1', 'credential', 'openai',
					'prompt', '$2', 'tools', '$3'::jsonb) || '${4:-{\}}'::jsonb),
			'{\"id\":\"o\",\"type\":\"output\",\"data\":{}}'::jsonb),
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ai\"},{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"o\"}]')"
}
run() { q "$DB" -c "SELECT flowent.run('$1', '{}')"; }

# ---- the loop: two steps of tool calls, then the answer
SCRIPT='{"calls": [[{"name": "look_up_order", "arguments": {"id": 7}}], [{"name": "check", "arguments": {"id": 8}}, {"name": "nope", "arguments": {}}, {"name": "look_up_order", "arguments": "{not json"}]]}'
TOOLS="[{\"workflowId\": \"$LOOKUP\"}, {\"workflowId\": \"$FAILS\", \"name\": \"check\", \"description\": \"Checks an order\", \"parameters\": {\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"integer\"}}}}]"
WF=$(agent loop "$SCRIPT" "$TOOLS")
clear_log
r=$(run "$WF")
eq "status" "$(sval "$r" "['status']")" success
eq "answer" "$(sval "$r" "['output']['text']")" \
	'final: {"order":7,"state":"shipped"} | {"error":{"code":"NOT_FOUND","message":"no such order"}} | {"error":{"code":"UNKNOWN_TOOL","message":"there is no tool named \"nope\""}} | {"error":{"code":"INVALID_ARGUMENTS","message":"the arguments are not JSON: {not json"}}'
eq "steps and usage" "$(field "$r" "['output']['steps']") $(field "$r" "['output']['usage']") $(field "$r" "['output']['costUsd']") $(field "$r" "['totalTokens']") $(field "$r" "['totalCost']")" \
	'3 {"completionTokens": 15, "promptTokens": 110, "totalTokens": 125} 0.14 125 0.14'
eq "tool calls" "$(python3 -c "import json,sys; print(' '.join('%s:%s:%s:%s' % (c['step'], c['name'], c['status'], 'child' if c['executionId'] else '-') for c in json.loads(sys.argv[1])['output']['toolCalls']))" "$r")" \
	"1:look_up_order:success:child 2:check:error:child 2:nope:error:- 2:look_up_order:error:-"
L=$(log)
eq "requests" "$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])))" "$L")" 3
eq "tools sent" "$(field "$L" "[0]['body']['tools']")" \
	"[{\"function\": {\"description\": \"Finds an order by its id\", \"name\": \"look_up_order\", \"parameters\": {\"properties\": {\"id\": {\"type\": \"integer\"}}, \"required\": [\"id\"], \"type\": \"object\"}}, \"type\": \"function\"}, {\"function\": {\"description\": \"Checks an order\", \"name\": \"check\", \"parameters\": {\"properties\": {\"id\": {\"type\": \"integer\"}}, \"type\": \"object\"}}, \"type\": \"function\"}]"
eq "second request" "$(field "$L" "[1]['body']['messages'][1:]")" \
	'[{"content": null, "role": "assistant", "tool_calls": [{"function": {"arguments": "{\"id\": 7}", "name": "look_up_order"}, "id": "call_1_0", "type": "function"}]}, {"content": "{\"order\":7,\"state\":\"shipped\"}", "role": "tool", "tool_call_id": "call_1_0"}]'
eq "tool_choice" "$(field "$L" "[2]['body'].get('tool_choice')")" null
EX=$(sval "$r" "['executionId']")
eq "step rows" "$(q "$DB" -c "SELECT string_agg(iteration || '=' || tokens_used || '/' || cost_usd || '/' || (output ? 'toolCalls'), ' ' ORDER BY seq)
	FROM flowent.workflow_node_logs WHERE execution_id = '$EX' AND node_id = 'ai'")" \
	"#1=15/0.020000/true #2=35/0.040000/true #3=75/0.080000/false =125/0.140000/true"
eq "children" "$(q "$DB" -c "SELECT count(*) || ' ' || string_agg(DISTINCT parent_node_id, ',') FROM flowent.workflow_executions WHERE parent_execution_id = '$EX'")" "2 ai"
eq "step events" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_node_logs l WHERE execution_id = '$EX' AND iteration LIKE '#%' AND seq > 0")" 3
ok "a tool loop: functions from workflows (name from the workflow's, its description, parameters from its trigger schema or given), children's outputs and errors fed back with their tool_call_id, unknown tools and bad arguments answered with errors; totals over the steps, one node-log row per step with its tokens and cost"

# ---- maxSteps: the last call must answer (tool_choice none); a model that will not fails
MANY='{"calls": [[{"name": "look_up_order", "arguments": {"id": 1}}], [{"name": "look_up_order", "arguments": {"id": 2}}], [{"name": "look_up_order", "arguments": {"id": 3}}]]}'
WF=$(agent capped "$MANY" "[{\"workflowId\": \"$LOOKUP\"}]" '{"maxSteps": 2}')
clear_log
r=$(run "$WF")
eq "capped" "$(sval "$r" "['status']") $(field "$r" "['output']['steps']") $(field "$(log)" "[1]['body']['tool_choice']")" 'success 2 "none"'
STUB='{"stubborn": true, "calls": [[{"name": "look_up_order", "arguments": {"id": 1}}], [{"name": "look_up_order", "arguments": {"id": 2}}]]}'
WF=$(agent stubborn "$STUB" "[{\"workflowId\": \"$LOOKUP\"}]" '{"maxSteps": 2}')
r=$(run "$WF")
eq "stubborn" "$(sval "$r" "['error']['code']") | $(sval "$r" "['error']['message']")" \
	'LIMIT_EXCEEDED | node "ai": the model still calls tools after maxSteps (2) model calls, the last sent with tool_choice none'
ok "maxSteps: the last call goes with tool_choice none; a model that still calls tools fails with LIMIT_EXCEEDED"

# ---- a failed step is retried alone: its tools do not run again
RETRY='{"key": "sync", "failOnce": 2, "calls": [[{"name": "look_up_order", "arguments": {"id": 5}}]]}'
WF=$(agent retried "$RETRY" "[{\"workflowId\": \"$LOOKUP\"}]" '{"retry": {"maxAttempts": 2, "backoffMs": 0}}')
clear_log
r=$(run "$WF")
EX=$(sval "$r" "['executionId']")
eq "retried" "$(sval "$r" "['status']") $(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])))" "$(log)") $(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE parent_execution_id = '$EX'")" \
	"success 3 1"
ok "a step that fails (500) is retried by the node's retry setting without running its tools again"

# ---- a tool whose child waits: the agent suspends until it ends
WF=$(agent waits '{"calls": [[{"name": "approve", "arguments": {}}]]}' "[{\"workflowId\": \"$APPROVE\"}]")
r=$(run "$WF")
EX=$(sval "$r" "['executionId']")
eq "suspended" "$(sval "$r" "['status']")" suspended
CHILD=$(q "$DB" -c "SELECT id FROM flowent.workflow_executions WHERE parent_execution_id = '$EX'")
q "$DB" -c "SELECT flowent.approve('$CHILD', true)" >/dev/null
eq "continued" "$(q "$DB" -c "SELECT status || ' ' || (output ->> 'text') || ' ' || (output -> 'toolCalls' -> 0 ->> 'status') FROM flowent.workflow_executions WHERE id = '$EX'")" \
	"success final: approved success"
ok "a tool whose child waits for an approval suspends the agent; the approval continues the child and then the agent"

# ---- asynchronous: the worker sends each step; children with HTTP nodes suspend the agent
PAR='{"calls": [[{"name": "fetch", "arguments": {"q": "a"}}, {"name": "fetch", "arguments": {"q": "b"}}], [{"name": "look_up_order", "arguments": {"id": 9}}]]}'
WF=$(agent async "$PAR" "[{\"workflowId\": \"$FETCH\"}, {\"workflowId\": \"$LOOKUP\"}]")
sync=$(run "$WF")
ID=$(q "$DB" -c "SELECT flowent.execute('$WF', '{}')")
poll "$DB" "SELECT status IN ('success', 'error') FROM flowent.workflow_executions WHERE id = '$ID'" 30 || fail "the async agent did not finish"
eq "async" "$(q "$DB" -c "SELECT status || ' ' || (output ->> 'text') || ' ' || total_tokens FROM flowent.workflow_executions WHERE id = '$ID'")" \
	"success $(sval "$sync" "['output']['text']") $(sval "$sync" "['totalTokens']")"
eq "async steps" "$(q "$DB" -c "SELECT string_agg(iteration, ' ' ORDER BY seq) FROM flowent.workflow_node_logs WHERE execution_id = '$ID' AND node_id = 'ai'")" "#1 #2 #3 "
eq "async children" "$(q "$DB" -c "SELECT count(*) FILTER (WHERE status = 'success') || '/' || count(*) FROM flowent.workflow_executions WHERE parent_execution_id = '$ID'")" "3/3"
RETRY='{"key": "async", "failOnce": 2, "calls": [[{"name": "look_up_order", "arguments": {"id": 6}}]]}'
WF=$(agent async_retry "$RETRY" "[{\"workflowId\": \"$LOOKUP\"}]" '{"retry": {"maxAttempts": 2, "backoffMs": 200}}')
ID=$(q "$DB" -c "SELECT flowent.execute('$WF', '{}')")
poll "$DB" "SELECT status IN ('success', 'error') FROM flowent.workflow_executions WHERE id = '$ID'" 30 || fail "the async retry did not finish"
eq "async retry" "$(q "$DB" -c "SELECT status || ' ' || (output ->> 'text') FROM flowent.workflow_executions WHERE id = '$ID'") $(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE parent_execution_id = '$ID'")" \
	'success final: {"order":6,"state":"shipped"} 1'
ok "in an asynchronous run each step goes through the worker's curl loop, children with HTTP nodes suspend the agent, a retry timer repeats only the failed step: the same answer and totals as the synchronous run"

# ---- bad tools, named before any model call
bad() {	# bad TOOLS [EXTRA]: "code | message"
	local wf r extra=${2:-'{}'}
	wf=$(agent "b$RANDOM" '{}' "$1" "$extra")
	if r=$(run "$wf" 2>&1); then
		echo "$(sval "$r" "['error']['code']") | $(sval "$r" "['error']['message']")"
	else
		sed -n 's/^ERROR:  //p' <<<"$r"
	fi
}
clear_log
eq "not array" "$(bad '{"workflowId": "x"}' | sed 's/ is not valid: .*//; s/"b[0-9]*"/W/')" 'workflow W'
eq "no uuid" "$(bad '[{"workflowId": "lookup"}]')" 'INVALID_CONFIG | node "ai": tools[0].workflowId must be a workflow id (a uuid), got "lookup"'
eq "missing" "$(bad '[{"name": "x"}]')" 'INVALID_CONFIG | node "ai": tools[0].workflowId must be a workflow id (a uuid), got nothing'
eq "unknown" "$(bad '[{"workflowId": "00000000-0000-0000-0000-000000000001"}]')" \
	"INVALID_CONFIG | node \"ai\": tools[0]: workflow 00000000-0000-0000-0000-000000000001 does not exist or is not visible to $(q "$DB" -c "SELECT flowent.current_user_id()")"
eq "bad name" "$(bad "[{\"workflowId\": \"$LOOKUP\", \"name\": \"look up\"}]")" \
	'INVALID_CONFIG | node "ai": tools[0].name must be 1 to 64 letters, digits, _ or -, got "look up"'
eq "twice" "$(bad "[{\"workflowId\": \"$LOOKUP\"}, {\"workflowId\": \"$LOOKUP\"}]")" \
	'INVALID_CONFIG | node "ai": tools[0] and tools[1] are both named "look_up_order"; give one a name'
eq "parameters" "$(bad "[{\"workflowId\": \"$LOOKUP\", \"parameters\": [1]}]")" \
	'INVALID_CONFIG | node "ai": tools[0].parameters must be a JSON Schema object, got array'
eq "maxSteps" "$(bad "[{\"workflowId\": \"$LOOKUP\"}]" '{"maxSteps": 0}')" 'INVALID_CONFIG | node "ai": field "maxSteps" must be between 1 and 50, got 0'
eq "no model call" "$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])))" "$(log)")" 0
ok "bad tools are named (not an array, no workflow id, not visible, a bad or repeated name, parameters no object, maxSteps out of range) before any model call"

leaks=$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_node_logs WHERE input::text LIKE '%sk-tools-77%' OR output::text LIKE '%sk-tools-77%' OR error LIKE '%sk-tools-77%'")
leaks=$((leaks + $(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE output::text LIKE '%sk-tools-77%' OR error LIKE '%sk-tools-77%'")))
eq "no key stored" "$leaks" 0
ok "the API key is in no node log (step rows and waiting info included), output or error"
srvlog="$(q "$DB" -c "SELECT current_setting('data_directory')")/log/postgresql.log"
if [ -r "$srvlog" ] && grep -q 'sk-tools-77' "$srvlog"; then fail "the API key is in the server log: $(grep -m1 'sk-tools-77' "$srvlog" | cut -c1-200)"; fi
ok "the API key is not in the server log"
echo "llm_tools: all checks passed"
