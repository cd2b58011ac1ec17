#!/usr/bin/env bash
# Streamed answers (issue 10, item 3) against the fake OpenAI-style server (test/fake/api_server.py,
# model "stream-slow": a chunk of 4 characters every 0.25 s), on the running cluster (workers
# preloaded): an asynchronous run asks with stream: true and stream_options.include_usage; the
# worker stores the text so far in flowent.node_progress, each a prefix of the answer, and sends
# step:progress events (live, no seq) that carry sizes but no text, at most ~10 a second; the
# output, usage and cost equal those of the same workflow run synchronously (not streamed); the
# progress row goes when the answer is in; another user reads none of it; stream: false asks
# without streaming; the gateway pushes the text to a subscriber allowed to see it.
set -euo pipefail

DB=flowent_llm_stream
NAME=llm_stream
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_api.sh"
outbound_test_begin

start_fake_api --key sk-stream-5
V1="$API/v1"
createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE EXTENSION flowent;
SELECT flowent.set_credential('openai', '{"apiKey": "sk-stream-5"}');
INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('stream-slow', 1, 2);
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stream_eve') THEN CREATE ROLE stream_eve LOGIN; END IF;
END \$\$;
SQL
agent() {	# agent NAME EXTRA: trigger -> llm-agent (stream-slow) -> output
	q "$DB" -c "SELECT flowent.create_workflow('$1',
		jsonb_build_array('{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}'::jsonb,
			jsonb_build_object('id', 'ai', 'type', 'llm-agent', 'data',
				jsonb_build_object('model', 'stream-slow', 'baseUrl', '$V1', 'credential', 'openai',
					'prompt', 'the quick brown fox jumps over the lazy dog') || '$2'::jsonb),
			'{\"id\":\"o\",\"type\":\"output\",\"data\":{}}'::jsonb),
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ai\"},{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"o\"}]')"
}
ANSWER="echo: the quick brown fox jumps over the lazy dog"
WF=$(agent streamed '{}')
sync=$(q "$DB" -c "SELECT flowent.run('$WF', '{}') -> 'output'")
eq "sync answer" "$(sval "$sync" "['text']")" "$ANSWER"
curl -s "$API/log/clear" >/dev/null

# listen while the asynchronous run streams (psql prints the notifications after the sleep)
psql -X -d "$DB" -c "LISTEN flowent" -c "SELECT pg_sleep(4.5)" >"$TMP/notify.txt" 2>&1 &
LISTENER=$!
sleep 0.3
ID=$(q "$DB" -c "SELECT flowent.execute('$WF', '{}')")
# the text so far, as the worker stores it, and what another user sees meanwhile
: >"$TMP/seen.txt"
other=""
end=$(($(date +%s) + 20))
while [ "$(date +%s)" -lt "$end" ]; do
	st=$(q "$DB" -c "SELECT status FROM flowent.workflow_executions WHERE id = '$ID'")
	[ "$st" = success ] || [ "$st" = error ] && break
	t=$(q "$DB" -c "SELECT text FROM flowent.node_progress WHERE execution_id = '$ID'")
	if [ -n "$t" ]; then
		echo "$t" >>"$TMP/seen.txt"
		[ -n "$other" ] || other=$(psql -X -At -q -U stream_eve -d "$DB" -c "SELECT count(*) || '/' || coalesce(flowent.api_node_progress('$ID', 'ai')::text, 'none') FROM flowent.node_progress")
	fi
	sleep 0.05
done
wait "$LISTENER" || true
eq "async status" "$(q "$DB" -c "SELECT status FROM flowent.workflow_executions WHERE id = '$ID'")" success
partial=$(sort -u "$TMP/seen.txt" | grep -cv "^$ANSWER\$" || true)
[ "$partial" -ge 3 ] || fail "saw $partial partial texts while streaming, expected at least 3: $(sort -u "$TMP/seen.txt" | tr '\n' '|')"
while read -r t; do
	case "$ANSWER" in "$t"*) ;; *) fail "a progress text is no prefix of the answer: '$t'" ;; esac
done <"$TMP/seen.txt"
eq "another user" "$other" "0/none"
ok "the worker stores the streamed text so far ($partial partial texts seen, each a prefix of the answer); another user reads none of it"

events=$(grep -o '"event":"step:progress"[^}]*' "$TMP/notify.txt" | grep -c '"live":true' || true)
[ "$events" -ge 3 ] || fail "$events live step:progress notifications, expected at least 3: $(head -c 600 "$TMP/notify.txt")"
[ "$events" -le 30 ] || fail "$events live step:progress notifications in about 2.5 s of streaming: not throttled"
if grep -q 'quick\|brown\|echo:' "$TMP/notify.txt"; then fail "a notification carries the answer's text: $(grep -m1 'quick\|brown\|echo:' "$TMP/notify.txt")"; fi
ok "step:progress notifications ($events for ~2.5 s of streaming: throttled) carry ids and sizes, never the text"

async=$(q "$DB" -c "SELECT output FROM flowent.workflow_executions WHERE id = '$ID'")
eq "same output" "$(field "$async" "")" "$(field "$sync" "")"
eq "node log" "$(q "$DB" -c "SELECT tokens_used || '/' || cost_usd FROM flowent.workflow_node_logs WHERE execution_id = '$ID' AND node_id = 'ai' AND status = 'success'")" \
	"$(sval "$sync" "['usage']['totalTokens']")/$(printf '%.6f' "$(sval "$sync" "['costUsd']")")"
L=$(curl -s "$API/log")
eq "asked to stream" "$(field "$L" "[0]['body']['stream']") $(field "$L" "[0]['body']['stream_options']")" 'true {"include_usage": true}'
eq "progress row gone" "$(q "$DB" -c "SELECT count(*) FROM flowent.node_progress")" 0
ok "the streamed answer's output, usage and cost equal the synchronous run's; the request asked for the usage; the progress row is gone"

WF2=$(agent plain '{"stream": false}')
curl -s "$API/log/clear" >/dev/null
ID=$(q "$DB" -c "SELECT flowent.execute('$WF2', '{}')")
poll "$DB" "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$ID'" 30 || fail "the unstreamed run did not finish"
eq "not streamed" "$(field "$(curl -s "$API/log")" "[0]['body'].get('stream')")" null
eq "unstreamed output" "$(q "$DB" -c "SELECT output ->> 'text' FROM flowent.workflow_executions WHERE id = '$ID'")" "$ANSWER"
ok "stream: false asks for the whole answer at once"
# ---- through the gateway: a subscriber of the execution gets the text as it is written
GWDB=flowent_llm_stream_gw
GWROLE=flowent_gw_stream
. "$(dirname "$0")/../lib/gateway_db.sh"
gateway_db "$GWDB" "$GWROLE" >/dev/null || fail "no gateway database"
make -s gateway >/dev/null
GW=src/gateway/flowent-gateway
ALICE=$("$GW" token create --db "host=$PGHOST port=$PGPORT dbname=$GWDB user=postgres" --user alice | tail -n 1)
GWF=$(psql -X -At -q -v ON_ERROR_STOP=1 -U "$GWROLE" -d "$GWDB" -1 -c "SELECT flowent.set_acting_user('alice')" \
	-c "SELECT flowent.set_credential('openai', '{\"apiKey\": \"sk-stream-5\"}')" \
	-c "SELECT flowent.create_workflow('streamed', '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
		{\"id\":\"ai\",\"type\":\"llm-agent\",\"data\":{\"model\":\"stream-slow\",\"baseUrl\":\"$V1\",\"credential\":\"openai\",\"prompt\":\"the quick brown fox jumps over the lazy dog\"}},
		{\"id\":\"o\",\"type\":\"output\",\"data\":{}}]',
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ai\"},{\"id\":\"e2\",\"source\":\"ai\",\"target\":\"o\"}]')" | tail -n 1)
GWPORT=${GW_STREAM_PORT:-3931}
"$GW" --db "host=$PGHOST port=$PGPORT dbname=$GWDB user=$GWROLE" --listen "127.0.0.1:$GWPORT" >"$TMP/gateway.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$GWPORT/health" && break; sleep 0.1; done
PYTHONPATH=test/gateway python3 - "$GWPORT" "$ALICE" "$GWF" "$ANSWER" <<'PY' || fail "the gateway's live text: see above"
import sys
from gwclient import WebSocket, http
port, token, wf, answer = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
base = f"http://127.0.0.1:{port}"
ws = WebSocket("127.0.0.1", port, f"/ws?token={token}")
assert ws.status == 101, ws.status
r = http(base, "POST", f"/api/pipelines/{wf}/execute", token, body={"mode": "async"})
assert r.status in (200, 201, 202), r
ex = r.json["executionId"]
ws.send({"type": "join:execution", "executionId": ex, "since": 0})
msgs = ws.until(lambda m: m.get("event") == "workflow:complete", timeout=30)
texts = [m.get("text") for m in msgs if m.get("event") == "step:progress" and m.get("live")]
assert len(texts) >= 3, ("live progress messages", [m.get("event") for m in msgs])
assert all(isinstance(t, str) and answer.startswith(t) for t in texts), texts
assert texts == sorted(texts, key=len), texts
done = [m for m in msgs if m.get("event") == "step:completed" and m.get("nodeId") == "ai"]
assert done and done[0]["output"]["text"] == answer, done
print("llm_stream: gateway: %d live texts, growing: %s" % (len(texts), " | ".join(texts[:3])))
PY
ok "through the gateway a subscriber gets step:progress with the text so far, growing, then the step's output"
# the gateway goes first: its connections would keep the database (and its workers) alive
kill "$SERVER_PID" 2>/dev/null || true
while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.05; done
SERVER_PID=""
dropdb --if-exists --force "$GWDB" >/dev/null || fail "could not drop $GWDB"
srvlog="$(q "$DB" -c "SELECT current_setting('data_directory')")/log/postgresql.log"
if [ -r "$srvlog" ] && grep -q 'sk-stream-5' "$srvlog"; then fail "the API key is in the server log: $(grep -m1 'sk-stream-5' "$srvlog" | cut -c1-200)"; fi
ok "the API key is not in the server log"
echo "llm_stream: all checks passed"
