#!/usr/bin/env bash
# The llm-agent node (issue 10, item 1 and the async call of item 4) against a fake
# OpenAI-style chat-completions server on 127.0.0.1 (test/fake/api_server.py), on the running
# cluster (PGHOST/PGPORT/PGUSER, workers preloaded):
#   the request (model, messages in order, temperature, max_tokens, response_format, bearer
#   key from a credential, baseUrl and flowent.llm_base_url); the output (text, model,
#   finishReason, usage) with its cost from flowent.model_prices and the execution's totals;
#   responseFormat json parsed with numbers exact; the provider's errors as stable codes with
#   its message (401 CREDENTIAL_INVALID, 500 and 429 AI_UNAVAILABLE retried by the node's retry
#   setting, 404 INVALID_CONFIG, no chat completion or no JSON AI_RESPONSE_INVALID, TIMEOUT,
#   unreachable AI_UNAVAILABLE); bad config named; the key never in an output or error; the
#   same call in an asynchronous run through the worker.
set -euo pipefail

DB=flowent_llm_agent
NAME=llm_agent
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_api.sh"
outbound_test_begin

start_fake_api --key sk-test-123
API="$API/v1"

createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE EXTENSION flowent;
SELECT flowent.set_credential('openai', '{"apiKey": "sk-test-123"}');
SELECT flowent.set_credential('wrong', '"sk-nope"');
INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('echo', 0.5, 1.5);
SQL
# agent NAME DATA: a workflow trigger -> llm-agent (data) -> output
agent() {
	q "$DB" -c "SELECT flowent.create_workflow('$1',
		jsonb_build_array('{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}'::jsonb,
			jsonb_build_object('id', 'ai', 'type', 'llm-agent', 'data', '$2'::jsonb),
			'{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{ai}}\"}}'::jsonb),
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ai\"},{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"o\"}]')"
}
run() { q "$DB" -c "SELECT flowent.run('$1', '${2:-{\}}')"; }

# ---- a call: the request as sent and the output with its cost
curl -s "$API/../log/clear" >/dev/null
WF=$(agent ok "{\"model\": \"echo\", \"baseUrl\": \"$API\", \"credential\": \"openai\", \"systemPrompt\": \"be brief\",
	\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}],
	\"prompt\": \"what is {{trigger.payload.q}}\", \"temperature\": 0.25, \"maxTokens\": 64}")
r=$(run "$WF" '{"q": "two plus two"}')
eq "status" "$(field "$r" "['status']")" '"success"'
eq "output" "$(field "$r" "['output']")" \
	'{"costUsd": 0.0135, "finishReason": "stop", "model": "echo", "priced": true, "text": "echo: what is two plus two", "usage": {"completionTokens": 6, "promptTokens": 9, "totalTokens": 15}}'
eq "totals" "$(field "$r" "['totalTokens']") $(field "$r" "['totalCost']")" "15 0.0135"
req=$(curl -s "$API/../log")
eq "request" "$(field "$req" "[0]['body']") $(field "$req" "[0]['authorization']")" \
	'{"max_tokens": 64, "messages": [{"content": "be brief", "role": "system"}, {"content": "hi", "role": "user"}, {"content": "hello", "role": "assistant"}, {"content": "what is two plus two", "role": "user"}], "model": "echo", "temperature": 0.25} "Bearer sk-test-123"'
eq "execution row" "$(q "$DB" -c "SELECT total_tokens || ' ' || total_cost FROM flowent.workflow_executions WHERE id = '$(sval "$r" "['executionId']")'")" "15 0.013500"
eq "node log" "$(q "$DB" -c "SELECT string_agg(node_id || '=' || coalesce(tokens_used::text, '-') || '/' || coalesce(cost_usd::text, '-'), ',' ORDER BY seq)
	FROM flowent.workflow_node_logs WHERE execution_id = '$(sval "$r" "['executionId']")'")" "t=-/-,ai=15/0.013500,o=-/-"
ok "a call: system prompt, conversation, prompt (templated), temperature and max_tokens sent with the bearer key; text, usage and cost from model_prices, also on the execution and in its node log"

# ---- JSON mode, a model without a price, flowent.llm_base_url
q "$DB" -c "ALTER DATABASE $DB SET flowent.llm_base_url = '$API'" >/dev/null
WF=$(agent json '{"model": "json", "credential": "openai", "prompt": "answer", "responseFormat": "json"}')
r=$(run "$WF")
eq "json" "$(field "$r" "['output']['json']") $(field "$r" "['output']['priced']") $(field "$r" "['output']['costUsd']")" \
	'{"answer": 42, "exact": 0.1} false 0'
q "$DB" -c "SELECT flowent.run('$WF') -> 'output' -> 'json' ->> 'exact'" | grep -qx '0.1000000000000000000001' || fail "the JSON answer's number is not exact"
eq "response_format" "$(field "$(curl -s "$API/../log")" "[-1]['body']['response_format']")" '{"type": "json_object"}'
WF=$(agent listed '{"model": "gpt-4o-mini", "credential": "openai", "prompt": "one two"}')
eq "list price" "$(field "$(run "$WF")" "['output']['costUsd']")" 2e-06
q "$DB" -c "INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('gpt-4o-mini', 1, 1)" >/dev/null
eq "own price" "$(field "$(run "$WF")" "['output']['costUsd']") $(q "$DB" -c "SELECT source FROM flowent.model_price WHERE model = 'gpt-4o-mini'")" "0.005 model_prices"
ok "responseFormat json: the answer parsed (numbers exact), response_format sent; an unpriced model costs 0 (priced false), a listed one its list price unless model_prices has its own; flowent.llm_base_url as the default"

# ---- the provider's errors as stable codes
err_of() {	# err_of DATA: "status code | message" of a run
	local wf r
	wf=$(agent "e$RANDOM" "$1")
	r=$(run "$wf")
	echo "$(sval "$r" "['status']") $(sval "$r" "['error']['code']") | $(sval "$r" "['error']['message']")"
}
eq "401" "$(err_of '{"model": "echo", "credential": "wrong", "prompt": "x"}')" \
	'error CREDENTIAL_INVALID | node "ai": the model API refused the credential (HTTP 401): Incorrect API key provided'
curl -s "$API/../log/clear" >/dev/null
eq "500" "$(err_of '{"model": "down", "credential": "openai", "prompt": "x", "retry": {"maxAttempts": 3}}')" \
	'error AI_UNAVAILABLE | node "ai": the model API answered HTTP 500: the model is overloaded'
eq "... retried" "$(field "$(curl -s "$API/../log")" "[-1]['body']['model']") $(curl -s "$API/../log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" '"down" 3'
# without a retry of its own a model call is made 3 times, 1 s and 2 s apart; maxAttempts 1: once
curl -s "$API/../log/clear" >/dev/null
err_of '{"model": "down", "credential": "openai", "prompt": "x"}' >/dev/null
gaps=$(curl -s "$API/../log" | python3 -c 'import json,sys; l=json.load(sys.stdin); print(len(l), all(b["at"] - a["at"] >= w for a, b, w in zip(l, l[1:], (0.95, 1.95))))')
eq "default retries" "$gaps" "3 True"
curl -s "$API/../log/clear" >/dev/null
err_of '{"model": "down", "credential": "openai", "prompt": "x", "retry": {"maxAttempts": 1}}' >/dev/null
eq "maxAttempts 1" "$(curl -s "$API/../log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1
eq "429" "$(err_of '{"model": "busy", "credential": "openai", "prompt": "x"}')" \
	'error AI_UNAVAILABLE | node "ai": the model API answered HTTP 429: Rate limit reached'
eq "404" "$(err_of '{"model": "unknown-model", "credential": "openai", "prompt": "x"}')" \
	'error INVALID_CONFIG | node "ai": the model API refused the request (HTTP 404): The model `unknown-model` does not exist'
case "$(err_of '{"model": "garbage", "credential": "openai", "prompt": "x"}')" in
	"error AI_RESPONSE_INVALID | node \"ai\": the model API's answer is not a chat completion"*) ;;
	*) fail "no chat completion: $(err_of '{"model": "garbage", "credential": "openai", "prompt": "x"}')" ;;
esac
case "$(err_of '{"model": "html", "credential": "openai", "prompt": "x"}')" in
	"error AI_RESPONSE_INVALID"*"<html>maintenance</html>"*) ;; *) fail "an HTML answer" ;;
esac
case "$(err_of '{"model": "not-json", "credential": "openai", "prompt": "x", "responseFormat": "json"}')" in
	"error AI_RESPONSE_INVALID | node \"ai\": responseFormat is json, but the model's answer is not JSON: certainly!"*) ;;
	*) fail "not JSON" ;;
esac
case "$(err_of '{"model": "slow", "credential": "openai", "prompt": "x", "timeoutMs": 500}')" in
	"error TIMEOUT | node \"ai\": HTTP request POST "*"timed out after 500 ms") ;; *) fail "timeout" ;;
esac
case "$(err_of "{\"model\": \"echo\", \"credential\": \"openai\", \"prompt\": \"x\", \"baseUrl\": \"http://127.0.0.1:9/v1\"}")" in
	"error AI_UNAVAILABLE | node \"ai\": the model API at http://127.0.0.1:9/v1/chat/completions could not be reached"*) ;;
	*) fail "unreachable" ;;
esac
ok "401 CREDENTIAL_INVALID, 500 and 429 AI_UNAVAILABLE (retried: 3 attempts, by default 1 s and 2 s apart), 404 INVALID_CONFIG, no completion / HTML / not JSON AI_RESPONSE_INVALID, TIMEOUT, unreachable AI_UNAVAILABLE, each with the provider's message"

# ---- 429 with Retry-After: a retry waits as long as the server asks (the node's backoff is 0)
# attempts GAP: the number of requests the server saw and the seconds from the first to the last
attempts() { curl -s "$API/../log" | python3 -c 'import json,sys; l=json.load(sys.stdin); print("%d %.1f" % (len(l), l[-1]["at"] - l[0]["at"]))'; }
at_least() { awk -v g="${2#* }" -v m="$3" 'BEGIN {exit !(g >= m)}' || fail "$1: ${2#* } s between the attempts, expected at least $3"; }
curl -s "$API/../log/clear" >/dev/null
eq "429, Retry-After: 1" "$(err_of '{"model": "busy", "credential": "openai", "prompt": "x", "retry": {"maxAttempts": 2}}')" \
	'error AI_UNAVAILABLE | node "ai": the model API answered HTTP 429: Rate limit reached'
a=$(attempts); eq "attempts" "${a%% *}" 2; at_least "Retry-After: 1" "$a" 0.95
curl -s "$API/../log/clear" >/dev/null
err_of '{"model": "busy-date", "credential": "openai", "prompt": "x", "retry": {"maxAttempts": 2}}' >/dev/null
a=$(attempts); eq "attempts" "${a%% *}" 2; at_least "Retry-After as a date 2 s ahead" "$a" 0.95
curl -s "$API/../log/clear" >/dev/null
eq "429, Retry-After: 3600" "$(err_of '{"model": "busy-long", "credential": "openai", "prompt": "x", "retry": {"maxAttempts": 2}}')" \
	'error AI_UNAVAILABLE | node "ai": the model API answered HTTP 429: Rate limit reached (the server asks to retry after 3600 s, longer than a synchronous run waits: 60 s)'
eq "attempts" "$(attempts)" "1 0.0"
# in an asynchronous run the retry timer waits for it (the workers' sessions predate the
# database's flowent.llm_base_url: the node names its base URL)
curl -s "$API/../log/clear" >/dev/null
WF=$(agent busy-async "{\"model\": \"busy\", \"baseUrl\": \"$API\", \"credential\": \"openai\", \"prompt\": \"x\", \"retry\": {\"maxAttempts\": 2}}")
ID=$(q "$DB" -c "SELECT flowent.execute('$WF')")
poll "$DB" "SELECT status = 'error' FROM flowent.workflow_executions WHERE id = '$ID'" 30 || fail "the async 429 run did not end"
eq "async 429" "$(q "$DB" -c "SELECT error_code FROM flowent.workflow_executions WHERE id = '$ID'")" AI_UNAVAILABLE
a=$(attempts); eq "async attempts" "${a%% *}" 2; at_least "async, Retry-After: 1" "$a" 0.95
ok "429 with Retry-After (seconds or an HTTP date): the retry waits as long as the server asks, in synchronous and asynchronous runs; one asking longer than the run waits (60 s synchronous, an hour asynchronous) is not retried and the error says so"

# ---- condition's AI fallback (issue 10, item 5): the model decides what the rules cannot
# cond_wf NAME DATA: trigger -> condition (tier equals gold; DATA merged in) -> output yes / no
cond_wf() {
	q "$DB" -c "SELECT flowent.create_workflow('$1',
		jsonb_build_array('{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}'::jsonb,
			jsonb_build_object('id', 'c', 'type', 'condition', 'data',
				'{\"conditions\": [{\"left\": \"{{trigger.payload.tier}}\", \"operator\": \"equals\", \"right\": \"gold\"}]}'::jsonb || '$2'::jsonb),
			'{\"id\":\"yes\",\"type\":\"output\",\"data\":{\"value\":\"yes\"}}'::jsonb,
			'{\"id\":\"no\",\"type\":\"output\",\"data\":{\"value\":\"no\"}}'::jsonb),
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"c\"},{\"id\":\"e2\",\"source\":\"c\",\"sourceHandle\":\"true\",\"target\":\"yes\"},
		  {\"id\":\"e3\",\"source\":\"c\",\"sourceHandle\":\"false\",\"target\":\"no\"}]')"
}
calls() { curl -s "$API/../log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
q "$DB" -c "INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('judge', 1, 2)" >/dev/null
WF=$(cond_wf judge "{\"fallbackToAI\": true, \"model\": \"judge\", \"baseUrl\": \"$API\", \"credential\": \"openai\"}")
curl -s "$API/../log/clear" >/dev/null
r=$(run "$WF" '{"tier": "gold", "note": "no"}')
eq "the rules decide" "$(field "$r" "['output']") $(calls)" '"yes" 0'
r=$(run "$WF" '{"note": "the customer said yes"}')
eq "the model decides yes" "$(field "$r" "['output']") $(field "$r" "['totalTokens']") $(field "$r" "['totalCost']")" '"yes" 25 0.03'
eq "its node log" "$(q "$DB" -c "SELECT concat_ws(' ', status, output->>'decidedBy', output->>'result', output->>'reasoning', output->>'model',
		output->>'costUsd', tokens_used, cost_usd) FROM flowent.workflow_node_logs WHERE execution_id = '$(sval "$r" "['executionId']")' AND node_id = 'c'")" \
	"success ai true the data says yes judge 0.030000 25 0.030000"
req=$(curl -s "$API/../log")
eq "asked in JSON mode with the key" "$(sval "$req" "[-1]['body']['response_format']['type']") $(sval "$req" "[-1]['authorization']")" \
	"json_object Bearer sk-test-123"
python3 -c "import json,sys
m = json.loads(sys.argv[1])[-1]['body']['messages']
asked = json.loads(m[1]['content'])
assert m[0]['role'] == 'system' and 'decision' in m[0]['content'], m
assert asked['conditions'] == [{'left': '{{trigger.payload.tier}}', 'operator': 'equals', 'right': 'gold'}], asked
assert asked['combinator'] == 'and' and 'the customer said yes' in json.dumps(asked['data']), asked" "$req" ||
	fail "the model was not told the rules and the data"
eq "the model decides no" "$(field "$(run "$WF" '{"note": "nothing"}')" "['output']") $(calls)" '"no" 2'
WF2=$(cond_wf judge-bad "{\"fallbackToAI\": true, \"model\": \"judge-bad\", \"baseUrl\": \"$API\", \"credential\": \"openai\"}")
r=$(run "$WF2" '{}')
eq "an answer without a decision" "$(sval "$r" "['error']['code']") | $(sval "$r" "['error']['message']")" \
	'AI_RESPONSE_INVALID | node "c": the model'"'"'s answer has no boolean "decision" (expected {"decision": true or false, "reasoning"}): {"verdict": "maybe"}'
WF2=$(cond_wf nomodel '{"fallbackToAI": true}')
case "$(sval "$(run "$WF2" '{}')" "['error']['message']")" in
	*'fallbackToAI is set: field "model" is required'*) ;; *) fail "fallbackToAI without a model: $(run "$WF2" '{}')" ;; esac
eq "without fallbackToAI the undecided rule is false" "$(field "$(run "$(cond_wf nofallback '{}')" '{}')" "['output']")" '"no"'
# asynchronous: the worker's curl loop asks the model; rules that decide ask nothing
curl -s "$API/../log/clear" >/dev/null
ID=$(q "$DB" -c "SELECT flowent.execute('$WF', '{\"note\": \"yes please\"}')")
ID2=$(q "$DB" -c "SELECT flowent.execute('$WF', '{\"tier\": \"silver\"}')")
poll "$DB" "SELECT count(*) = 2 FROM flowent.workflow_executions WHERE id IN ('$ID', '$ID2') AND status = 'success'" 30 ||
	fail "the async condition runs did not finish: $(q "$DB" -c "SELECT string_agg(status || ' ' || coalesce(error, ''), '; ') FROM flowent.workflow_executions WHERE id IN ('$ID', '$ID2')")"
eq "async" "$(q "$DB" -c "SELECT string_agg(e.output #>> '{}' || ' ' || coalesce(l.output->>'decidedBy', 'rules') || ' ' || coalesce(l.tokens_used::text, '-'), ', ' ORDER BY e.id = '$ID' DESC)
	FROM flowent.workflow_executions e JOIN flowent.workflow_node_logs l ON l.execution_id = e.id AND l.node_id = 'c' WHERE e.id IN ('$ID', '$ID2')") $(calls)" \
	"yes ai 25, no rules - 1"
ok "condition's fallbackToAI: rules that decide ask nothing; undecided, the model (JSON mode, the rules and the data) decides the branch, its reasoning, tokens and cost in the node log; no decision AI_RESPONSE_INVALID, no model INVALID_CONFIG; the same in asynchronous runs through the worker"

# ---- bad config, named: by the workflow's validation (schema), else by the node
verr() { err "$DB" "SELECT flowent.run('$(agent "v$RANDOM" "$1")')"; }
case "$(verr '{"prompt": "x"}')" in *'node "ai" (llm-agent): required field "model" is missing') ;; *) fail "no model: $(verr '{"prompt": "x"}')" ;; esac
case "$(verr '{"model": "echo", "prompt": "x", "responseFormat": "xml"}')" in
	*'node "ai" (llm-agent): field "responseFormat" must be one of ["text", "json"], got xml') ;; *) fail "responseFormat xml" ;; esac
case "$(verr '{"model": "echo", "prompt": "x", "temperature": "hot"}')" in
	*'node "ai" (llm-agent): field "temperature"'*) ;; *) fail "temperature: $(verr '{"model": "echo", "prompt": "x", "temperature": "hot"}')" ;; esac
eq "no prompt" "$(err_of '{"model": "echo"}')" 'error INVALID_CONFIG | node "ai": field "prompt" is required (or "messages")'
eq "messages" "$(err_of '{"model": "echo", "messages": [{"role": "user"}]}')" \
	'error INVALID_CONFIG | node "ai": messages[0] must be {role, content} with strings'
eq "credential" "$(err_of '{"model": "echo", "prompt": "x", "credential": "nobody"}')" \
	'error CREDENTIAL_NOT_FOUND | node "ai": credential "nobody" does not exist for the workflow owner'
ok "bad config names the node and the field"
leaks=$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE output::text LIKE '%sk-test-123%' OR error LIKE '%sk-test-123%' OR options::text LIKE '%sk-test-123%'")
leaks=$((leaks + $(q "$DB" -c "SELECT count(*) FROM flowent.workflow_node_logs WHERE input::text LIKE '%sk-test-123%' OR output::text LIKE '%sk-test-123%' OR error LIKE '%sk-test-123%'")))
eq "no key stored" "$leaks" 0
ok "the API key is in no execution, node log, output or error"

# ---- asynchronous: the worker makes the call
WF=$(agent async "{\"model\": \"echo\", \"baseUrl\": \"$API\", \"credential\": \"openai\", \"prompt\": \"async {{trigger.payload.n}}\"}")
ID=$(q "$DB" -c "SELECT flowent.execute('$WF', '{\"n\": 7}')")
poll "$DB" "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$ID'" 30 || fail "the async run did not finish: $(q "$DB" -c "SELECT status || ' ' || coalesce(error, '') FROM flowent.workflow_executions WHERE id = '$ID'")"
eq "async" "$(q "$DB" -c "SELECT output ->> 'text' || ' ' || total_tokens || ' ' || total_cost || ' ' || mode FROM flowent.workflow_executions WHERE id = '$ID'")" \
	"echo: async 7 5 0.005500 async"
eq "async node log" "$(q "$DB" -c "SELECT tokens_used || '/' || cost_usd FROM flowent.workflow_node_logs WHERE execution_id = '$ID' AND node_id = 'ai'")" "5/0.005500"
ok "in an asynchronous run the worker's curl loop makes the call: same output, tokens and cost"
echo "llm_agent: all checks passed"
