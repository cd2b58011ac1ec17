#!/usr/bin/env bash
# flowent.generate (issue 10, item 11) against the fake OpenAI-style server's model "generator"
# (test/fake/api_server.py), on the running cluster: the model is told every node type (the
# system message) and asked in JSON mode with the sentence as it is ({{…}} in it not resolved);
# the answer comes back laid out (positions by depth), validated, repaired once with its errors
# (the model sees its answer and what is wrong), else a clear error; options.save creates the
# draft, which runs; usage and cost over the calls; bad input, a failing model, a missing
# credential and a budget named; POST /api/pipelines/generate through the gateway.
set -euo pipefail

DB=flowent_generate
NAME=generate
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_api.sh"
outbound_test_begin

start_fake_api --key sk-gen-9
V1="$API/v1"
createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE EXTENSION flowent;
SELECT flowent.set_credential('openai', '{"apiKey": "sk-gen-9"}');
INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('generator', 1, 2);
SQL
OPTS="{\"model\": \"generator\", \"credential\": \"openai\", \"baseUrl\": \"$V1\"}"
gen() { q "$DB" -c "SELECT flowent.generate(\$\$$1\$\$, '${2:-$OPTS}')"; }
log() { curl -s "$API/log"; }
curl -s "$API/log/clear" >/dev/null

# ---- a pipeline from a sentence
r=$(gen 'greet people by name, as {{trigger.payload.name}} says')
eq "shape" "$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(' '.join(n['id'] + '@' + str(n['position']['x']) + ',' + str(n['position']['y']) for n in d['nodes']), len(d['edges']), d['repaired'], d['usage'])" "$r")" \
	"start@0,0 greet@280,0 done@560,0 2 False {'costUsd': 0.2, 'totalTokens': 150}"
eq "explanation" "$(sval "$r" "['explanation']")" "Greets the name it is given."
eq "valid" "$(q "$DB" -c "SELECT flowent.validate('$(field "$r" "['nodes']")', '$(field "$r" "['edges']")') ->> 'valid'")" true
L=$(log)
eq "json mode" "$(field "$L" "[0]['body']['response_format']") $(field "$L" "[0]['body']['temperature']")" '{"type": "json_object"} 0'
eq "the sentence as it is" "$(sval "$L" "[0]['body']['messages'][-1]['content']")" 'greet people by name, as {{trigger.payload.name}} says'
listed=$(python3 -c "import json,sys; s=json.loads(sys.argv[1])[0]['body']['messages'][0]['content']; print(sum(1 for l in s.splitlines() if l.startswith('- ')))" "$L")
eq "every node type told" "$listed" "$(q "$DB" -c "SELECT count(*) FROM flowent.node_types")"
python3 -c "import json,sys; s=json.loads(sys.argv[1])[0]['body']['messages'][0]['content']; l=[x for x in s.splitlines() if x.startswith('- human-approval (')][0]; assert 'outputs: approved, rejected' in l and 'required: title' in l and 'label' not in l.split('fields:')[1], l" "$L" ||
	fail "the node types' lines lack handles or required fields"
ok "a sentence becomes {nodes, edges, explanation}: valid, laid out by depth, asked in JSON mode with every node type (outputs, required fields, own fields) and the sentence unresolved; usage and cost"

# ---- one repair round, then a clear error
curl -s "$API/log/clear" >/dev/null
r=$(gen 'a broken one')
eq "repaired" "$(sval "$r" "['repaired']") $(field "$r" "['usage']['totalTokens']") $(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])['edges']))" "$r")" "True 300 2"
L=$(log)
eq "repair request" "$(python3 -c "import json,sys; m=json.loads(sys.argv[1])[1]['body']['messages']; print([x['role'] for x in m], 'ghost' in m[2]['content'], m[-1]['content'][:57])" "$L")" \
	"['system', 'user', 'assistant', 'user'] True That pipeline is not valid: edge \"e3\": target node \"ghost"
msg=$(err "$DB" "SELECT flowent.generate('a hopeless one', '$OPTS')")
case "$msg" in "flowent.generate: the model's pipeline is not valid, also after one repair: edge \"e3\": target node \"ghost\""*) ;;
	*) fail "hopeless: $msg" ;; esac
ok "an invalid answer goes back once with its errors (the model sees what it said); invalid again: an error naming what is wrong"

# ---- saved as a draft, which runs
r=$(gen 'greet people by name' "$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); d.update(save=True, name='Greeter'); print(json.dumps(d))" "$OPTS")")
WF=$(sval "$r" "['workflowId']")
eq "saved" "$(q "$DB" -c "SELECT name || ' ' || status || ' ' || description || ' ' || (nodes -> 1 -> 'position' ->> 'x') FROM flowent.workflows WHERE id = '$WF'")" \
	"Greeter draft Greets the name it is given. 280"
eq "it runs" "$(q "$DB" -c "SELECT flowent.run('$WF', '{\"name\": \"Ana\"}') ->> 'output'")" 'hello Ana'
ok "options.save creates the workflow as a draft (name, explanation as its description, positions); it runs"

# ---- bad input and failures, named
eq "no prompt" "$(err "$DB" "SELECT flowent.generate('  ')")" "flowent.generate: prompt must describe the pipeline, got '  '"
msg=$(err "$DB" "SELECT flowent.generate('x', '{\"modle\": \"a\"}')")
case "$msg" in *modle*) ;; *) fail "an unknown option is not named: $msg" ;; esac
eq "save" "$(err "$DB" "SELECT flowent.generate('x', '{\"save\": \"yes\"}')")" 'options.save must be true or false, got "yes"'
code_of() { psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" -c "\\set VERBOSITY verbose" -c "$1" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): /\1 /p' | head -1 | cut -c1-65; }
eq "model down" "$(code_of "SELECT flowent.generate('x', '{\"model\": \"down\", \"credential\": \"openai\", \"baseUrl\": \"$V1\"}')")" \
	'58000 flowent.generate: the model call failed with AI_UNAVAILABLE'
eq "no credential" "$(code_of "SELECT flowent.generate('x', '{\"model\": \"generator\", \"credential\": \"nope\", \"baseUrl\": \"$V1\"}')")" \
	'42704 flowent.generate: the model call failed with CREDENTIAL_NOT'
q "$DB" -c "SELECT flowent.set_budget(flowent.current_user_id(), 'day', NULL, 100)" >/dev/null
eq "budget" "$(code_of "SELECT flowent.generate('x', '$OPTS')")" '53400 flowent.generate: the model call failed with BUDGET_EXCEEDE'
q "$DB" -c "SELECT flowent.set_budget(flowent.current_user_id(), 'day', NULL, NULL)" >/dev/null
ok "bad input is named; a failing model (58000), a missing credential (42704) and a budget (53400) say which"

# ---- through the gateway
GWDB=flowent_generate_gw
GWROLE=flowent_gw_generate
. "$(dirname "$0")/../lib/gateway_db.sh"
gateway_db "$GWDB" "$GWROLE" >/dev/null || fail "no gateway database"
make -s gateway >/dev/null
GW=src/gateway/flowent-gateway
TOKEN=$("$GW" token create --db "host=$PGHOST port=$PGPORT dbname=$GWDB user=postgres" --user carol | tail -n 1)
psql -X -q -v ON_ERROR_STOP=1 -U "$GWROLE" -d "$GWDB" -1 -c "SELECT flowent.set_acting_user('carol')" \
	-c "SELECT flowent.set_credential('openai', '{\"apiKey\": \"sk-gen-9\"}')" >/dev/null
GWPORT=${GW_GENERATE_PORT:-3932}
"$GW" --db "host=$PGHOST port=$PGPORT dbname=$GWDB user=$GWROLE" --listen "127.0.0.1:$GWPORT" >"$TMP/gateway.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$GWPORT/health" && break; sleep 0.1; done
body=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); d.update(prompt='greet people by name', save=True); print(json.dumps(d))" "$OPTS")
r=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$GWPORT/api/pipelines/generate")
eq "gateway" "$(tail -n 1 <<<"$r") $(head -n 1 <<<"$r" | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d['nodes']), d['explanation'])")" \
	"200 3 Greets the name it is given."
WF=$(head -n 1 <<<"$r" | python3 -c "import json,sys; print(json.load(sys.stdin)['workflowId'])")
eq "carol's draft" "$(q "$GWDB" -c "SELECT user_id || ' ' || status FROM flowent.workflows WHERE id = '$WF'")" "carol draft"
r=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"prompt": "x", "model": "down", "baseUrl": "'"$V1"'", "credential": "openai"}' "http://127.0.0.1:$GWPORT/api/pipelines/generate")
eq "gateway error" "$(tail -n 1 <<<"$r") $(head -n 1 <<<"$r" | python3 -c "import json,sys; print(json.load(sys.stdin)['error']['code'])")" "502 UPSTREAM_FAILED"
# the gateway goes first: its connections would keep the database (and its workers) alive
kill "$SERVER_PID" 2>/dev/null || true
while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.05; done
SERVER_PID=""
dropdb --if-exists --force "$GWDB" >/dev/null || fail "could not drop $GWDB"
ok "POST /api/pipelines/generate answers the pipeline (saved as the caller's draft); a failing model is 502"

leaks=$(q "$DB" -c "SELECT count(*) FROM flowent.workflows WHERE nodes::text LIKE '%sk-gen-9%' OR description LIKE '%sk-gen-9%'")
eq "no key" "$leaks" 0
srvlog="$(q "$DB" -c "SELECT current_setting('data_directory')")/log/postgresql.log"
if [ -r "$srvlog" ] && grep -q 'sk-gen-9' "$srvlog"; then fail "the API key is in the server log: $(grep -m1 'sk-gen-9' "$srvlog" | cut -c1-200)"; fi
ok "the API key is not in the server log"
echo "generate: all checks passed"
