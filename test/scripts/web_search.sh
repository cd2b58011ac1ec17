#!/usr/bin/env bash
# The web-search node (issue 10, item 9) against stand-ins of the Brave, DuckDuckGo and Google
# search APIs on 127.0.0.1 (test/fake/api_server.py, their real response formats), on the running
# cluster: each provider's results normalised to {title, url, snippet} (count honoured, DuckDuckGo's
# nested topics flattened, Google's "no items"), the request (query URL-encoded, Brave's
# X-Subscription-Token, Google's key and cx); errors with the provider's message (401 / 400 bad key,
# 503 HTTP_ERROR retryable); bad config named; the key in no stored row; an asynchronous run.
set -euo pipefail

DB=flowent_web_search
NAME=web_search
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_api.sh"
outbound_test_begin

start_fake_api

createdb "$DB"
q "$DB" >/dev/null <<'SQL'
CREATE EXTENSION flowent;
SELECT flowent.set_credential('brave', '"brave-key"');
SELECT flowent.set_credential('brave-bad', '{"apiKey": "nope"}');
SELECT flowent.set_credential('google', '{"apiKey": "g-key", "cx": "g-cx"}');
SELECT flowent.set_credential('google-bad', '{"apiKey": "g-nope", "cx": "g-cx"}');
SQL
search() {	# search DATA: a workflow trigger -> web-search (data) -> output
	q "$DB" -c "SELECT flowent.create_workflow('s$RANDOM',
		jsonb_build_array('{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}'::jsonb,
			jsonb_build_object('id', 'ws', 'type', 'web-search', 'data', '$1'::jsonb),
			'{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{ws}}\"}}'::jsonb),
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"ws\"},{\"id\":\"e2\",\"source\":\"ws\",\"target\":\"o\"}]')"
}
# out DATA [PAYLOAD]: "status | output (sorted JSON) or code: message"
out() {
	local r
	r=$(q "$DB" -c "SELECT flowent.run('$(search "$1")', '${2:-{\}}')")
	python3 -c "import json,sys; r=json.loads(sys.argv[1])
print(r['status'], '|', json.dumps(r['output'], sort_keys=True) if r['status'] == 'success' else r['error']['code'] + ': ' + r['error']['message'])" "$r"
}
log() { curl -s "$API/log" | python3 -c "import json,sys; e=json.load(sys.stdin)[-1]; print(e['path'], e['headers'].get('x-subscription-token', '-'))"; }

eq "brave" "$(out "{\"provider\": \"brave\", \"baseUrl\": \"$API/brave/search\", \"credential\": \"brave\", \"query\": \"{{trigger.payload.q}}\", \"count\": 2}" '{"q": "pg & you"}')" \
	'success | {"provider": "brave", "query": "pg & you", "results": [{"snippet": "About pg & you, part 1", "title": "Brave 1 for pg & you", "url": "https://example.com/brave/1"}, {"snippet": "About pg & you, part 2", "title": "Brave 2 for pg & you", "url": "https://example.com/brave/2"}]}'
eq "brave request" "$(log)" "/brave/search?q=pg%20%26%20you&count=2 brave-key"
eq "duckduckgo" "$(out "{\"provider\": \"duckduckgo\", \"baseUrl\": \"$API/ddg/\", \"query\": \"postgresql\", \"count\": 3}")" \
	'success | {"provider": "duckduckgo", "query": "postgresql", "results": [{"snippet": "PostgreSQL is a free and open-source relational database.", "title": "PostgreSQL", "url": "https://en.wikipedia.org/wiki/PostgreSQL"}, {"snippet": "PostgreSQL Global Development Group - The community that develops PostgreSQL.", "title": "PostgreSQL Global Development Group", "url": "https://duckduckgo.com/PostgreSQL_Global_Development_Group"}, {"snippet": "SQL - A domain-specific language.", "title": "SQL", "url": "https://duckduckgo.com/SQL"}]}'
eq "ddg request" "$(log)" "/ddg/?q=postgresql&format=json&no_html=1&skip_disambig=1 -"
eq "google" "$(out "{\"provider\": \"google\", \"baseUrl\": \"$API/google/customsearch/v1\", \"credential\": \"google\", \"query\": \"flowent\"}")" \
	'success | {"provider": "google", "query": "flowent", "results": [{"snippet": "Snippet 1 of flowent", "title": "Google 1 for flowent", "url": "https://example.com/google/1"}, {"snippet": "Snippet 2 of flowent", "title": "Google 2 for flowent", "url": "https://example.com/google/2"}, {"snippet": "Snippet 3 of flowent", "title": "Google 3 for flowent", "url": "https://example.com/google/3"}]}'
eq "google request" "$(log)" "/google/customsearch/v1?key=g-key&cx=g-cx&q=flowent&num=10 -"
eq "google nothing" "$(out "{\"provider\": \"google\", \"baseUrl\": \"$API/google/customsearch/v1\", \"credential\": \"google\", \"query\": \"nothing\"}")" \
	'success | {"provider": "google", "query": "nothing", "results": []}'
ok "brave, duckduckgo (abstract and nested topics) and google results normalised to {title, url, snippet}; query URL-encoded, keys where each provider wants them; count honoured"

eq "brave bad key" "$(out "{\"provider\": \"brave\", \"baseUrl\": \"$API/brave/search\", \"credential\": \"brave-bad\", \"query\": \"x\"}")" \
	'error | CREDENTIAL_INVALID: node "ws": the brave search API refused the credential (HTTP 401): The provided subscription token is invalid.'
eq "google bad key" "$(out "{\"provider\": \"google\", \"baseUrl\": \"$API/google/customsearch/v1\", \"credential\": \"google-bad\", \"query\": \"x\"}")" \
	'error | INVALID_CONFIG: node "ws": the google search API refused the request (HTTP 400): API key not valid. Please pass a valid API key.'
eq "503" "$(out "{\"provider\": \"duckduckgo\", \"baseUrl\": \"$API/ddg/\", \"query\": \"down\"}")" \
	'error | HTTP_ERROR: node "ws": the duckduckgo search API answered HTTP 503: search is down for maintenance'
eq "not a search response" "$(out "{\"provider\": \"brave\", \"baseUrl\": \"$API/ddg/\", \"credential\": \"brave\", \"query\": \"x\"}" | cut -c1-200 | sed 's/): .*/)/')" \
	'error | HTTP_ERROR: node "ws": the brave search API'"'"'s answer is not its search response (no web.results)'
ok "errors keep the provider's message: Brave's 401 CREDENTIAL_INVALID, Google's 400, 503 HTTP_ERROR, another format named"

eq "no key" "$(out "{\"provider\": \"brave\", \"baseUrl\": \"$API/brave/search\", \"query\": \"x\"}")" \
	'error | INVALID_CONFIG: node "ws": provider brave needs "credential": the name of a credential with the API key (a string or {apiKey})'
eq "google without cx" "$(out "{\"provider\": \"google\", \"credential\": \"brave\", \"query\": \"x\"}")" \
	'error | INVALID_CONFIG: node "ws": provider google needs "credential": the name of a credential {apiKey, cx}'
eq "count" "$(out "{\"provider\": \"duckduckgo\", \"query\": \"x\", \"count\": 0}")" \
	'error | INVALID_CONFIG: node "ws": field "count" must be between 1 and 50, got 0'
case "$(err "$DB" "SELECT flowent.run('$(search '{"provider": "bing", "query": "x"}')')")" in
	*'field "provider" must be one of ["brave", "duckduckgo", "google"], got bing') ;; *) fail "provider bing" ;; esac
ok "bad config named: a provider's missing credential, count, an unknown provider (validation)"
eq "no key stored" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_node_logs WHERE concat(input, output, error) ~ 'brave-key|g-key'")
	$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions WHERE concat(output, error, options) ~ 'brave-key|g-key'")" "0
	0"
ok "no API key in a node log or execution"

WF=$(search "{\"provider\": \"brave\", \"baseUrl\": \"$API/brave/search\", \"credential\": \"brave\", \"query\": \"async\", \"count\": 1}")
ID=$(q "$DB" -c "SELECT flowent.execute('$WF')")
poll "$DB" "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$ID'" 30 || fail "the async search did not finish"
eq "async" "$(q "$DB" -c "SELECT output #>> '{results,0,title}' FROM flowent.workflow_executions WHERE id = '$ID'")" "Brave 1 for async"
ok "an asynchronous run searches through the worker's curl loop"
echo "web_search: all checks passed"
