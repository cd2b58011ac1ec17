#!/usr/bin/env bash
# http-request and webhook nodes against a local fake server (test/fake/http_server.py), run
# synchronously through flowent.run: methods, query, headers, exact JSON numbers, auth from
# credentials (never in node logs), status handling, timeouts, cancel, response size cap, the
# outbound address policy (loopback refused unless flowent.http_allow_hosts lists it, redirects
# re-checked, IPv6 and numeric forms), webhook HMAC signatures and a stable Idempotency-Key.
#
# Needs PGHOST/PGPORT/PGUSER of a cluster that preloads flowent (scripts/test.sh sets them).
# flowent.http_allow_hosts is a SIGHUP setting: it is set with ALTER SYSTEM and reset on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DB=flowent_http_test
TMP=$(mktemp -d)
SERVER_PID=""
PASS=0

cleanup() {
	[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
	psql -X -q -d postgres -c "ALTER SYSTEM RESET flowent.http_allow_hosts" -c "SELECT pg_reload_conf()" \
		>/dev/null 2>&1 || true
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "http_nodes: FAIL: $*" >&2; exit 1; }

# eq NAME GOT EXPECTED
eq() {
	if [ "$2" != "$3" ]; then
		printf 'http_nodes: FAIL: %s\n  got:      %s\n  expected: %s\n' "$1" "$2" "$3" >&2
		exit 1
	fi
	PASS=$((PASS + 1))
	echo "ok $PASS - $1"
}

# like NAME GOT PATTERN (bash glob)
like() {
	# shellcheck disable=SC2053
	if [[ "$2" != $3 ]]; then
		printf 'http_nodes: FAIL: %s\n  got:     %s\n  pattern: %s\n' "$1" "$2" "$3" >&2
		exit 1
	fi
	PASS=$((PASS + 1))
	echo "ok $PASS - $1"
}

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# allow, server_log, clear_log (the fake server on 127.0.0.2 as well is started below)
# shellcheck source=test/lib/fake_http.sh
. test/lib/fake_http.sh

# ---- fake server on 127.0.0.1 and 127.0.0.2, same port
python3 test/fake/http_server.py --bind 127.0.0.1 --bind 127.0.0.2 --port-file "$TMP/port" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
[ -s "$TMP/port" ] || fail "the fake server did not start"
PORT=$(cat "$TMP/port")
BASE="http://127.0.0.1:$PORT"
BASE2="http://127.0.0.2:$PORT"

dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION flowent;
-- run one node "h" behind a trigger; its output is the run's output
CREATE FUNCTION run_node(node jsonb, payload jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT flowent.run(flowent.create_workflow('http test',
		jsonb_build_array('{"id": "t", "type": "trigger", "data": {}}'::jsonb, node),
		'[{"id": "e", "source": "t", "target": "h"}]'), payload)
$$;
CREATE FUNCTION http(data jsonb, payload jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT run_node(jsonb_build_object('id', 'h', 'type', 'http-request', 'data', data), payload)
$$;
CREATE FUNCTION webhook(data jsonb, payload jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT run_node(jsonb_build_object('id', 'h', 'type', 'webhook', 'data', data), payload)
$$;
SQL

# ---------------------------------------------------------------- settings
allow ''
eq "http_timeout_ms default" "$(q -c 'SHOW flowent.http_timeout_ms')" "30s"
eq "http_max_response_bytes default" "$(q -c 'SHOW flowent.http_max_response_bytes')" "10MB"
eq "http_allow_hosts default" "$(q -c "SELECT current_setting('flowent.http_allow_hosts')")" ""
bad() {	# bad VALUE EXPECTED-MESSAGE
	local out
	out=$(psql -X -q -d postgres -c "ALTER SYSTEM SET flowent.http_allow_hosts = '$1'" 2>&1 || true)
	eq "allow list '$1' refused" "$(printf '%s\n' "$out" | sed -n 's/^ERROR:  //p')" "$2"
}
bad '10.0.0.0/33' 'invalid entry "10.0.0.0/33" in flowent.http_allow_hosts: the prefix length after / must be 0 to 32'
bad 'ok.example, fd00::/129' 'invalid entry "fd00::/129" in flowent.http_allow_hosts: the prefix length after / must be 0 to 128'
bad '300.1.2.3' 'invalid entry "300.1.2.3" in flowent.http_allow_hosts: not a valid IPv4 address (write all four parts in decimal)'
bad 'host name' 'invalid entry "host name" in flowent.http_allow_hosts: not a host name, IP address or CIDR (host names have letters, digits, '"'-', '_' and '.'"')'
bad 'foo/8' 'invalid entry "foo/8" in flowent.http_allow_hosts: the part before / is not an IPv4 or IPv6 address'
eq "bad values left the setting alone" "$(psql -X -At -d postgres -c 'SHOW flowent.http_allow_hosts')" ""

# ---------------------------------------------------------------- policy: nothing allowed
clear_log
refused() {	# refused NAME URL ADDRESS
	local r
	r=$(q -c "SELECT concat_ws('|', r#>>'{error,code}', r->>'status') FROM http('{\"url\": \"$2\"}') r")
	eq "$1: refused" "$r" "OUTBOUND_REFUSED|error"
	r=$(q -c "SELECT http('{\"url\": \"$2\"}')#>>'{error,message}'")
	like "$1: message names the address and the setting" "$r" "*(address $3)*flowent.http_allow_hosts*"
}
refused "127.0.0.1" "$BASE/echo" "127.0.0.1"
refused "127.0.0.2" "$BASE2/echo" "127.0.0.2"
refused "localhost (a name that resolves to loopback)" "http://localhost:$PORT/echo" "*"
refused "decimal IPv4 form" "http://2130706433:$PORT/echo" "127.0.0.1"
refused "hex/short IPv4 form" "http://0x7f.1:$PORT/echo" "127.0.0.1"
refused "IPv6 loopback" "http://[::1]:$PORT/echo" "::1"
refused "IPv4-mapped IPv6" "http://[::ffff:127.0.0.1]:$PORT/echo" "::ffff:127.0.0.1"
refused "IPv4-mapped IPv6, hex" "http://[::ffff:7f00:1]:$PORT/echo" "::ffff:127.0.0.1"
refused "unspecified 0.0.0.0" "http://0.0.0.0:$PORT/echo" "0.0.0.0"
refused "link-local metadata address" "http://169.254.169.254/latest/meta-data" "169.254.169.254"
refused "private 10/8" "http://10.1.2.3/" "10.1.2.3"
refused "private 192.168/16" "http://192.168.0.1/" "192.168.0.1"
refused "CGNAT 100.64/10" "http://100.64.0.1/" "100.64.0.1"
refused "unique-local IPv6" "http://[fd00::1]/" "fd00::1"
refused "NAT64 embedding 10.0.0.1" "http://[64:ff9b::a00:1]/" "64:ff9b::a00:1"
eq "refused before connecting: the server saw nothing" "$(server_log)" "[]"
eq "message text" "$(q -c "SELECT http('{\"url\": \"$BASE/echo\"}')#>>'{error,message}'")" \
	'node "h": refused to connect to "127.0.0.1" (address 127.0.0.1): loopback addresses are not allowed; list the host or address in flowent.http_allow_hosts to allow it'

# ---------------------------------------------------------------- redirects re-checked
allow '127.0.0.2'
clear_log
eq "allowed 127.0.0.2 → redirect to 127.0.0.2 is followed" \
	"$(q -c "SELECT concat_ws('|', r->>'status', r#>>'{output,status}', r#>>'{output,body,path}') FROM http('{\"url\": \"$BASE2/redirect?to=$BASE2/echo\"}') r")" \
	"success|200|/echo"
eq "allowed 127.0.0.2 → redirect to 127.0.0.1 is refused" \
	"$(q -c "SELECT concat_ws('|', r#>>'{error,code}', r#>>'{error,message}' LIKE '%\"127.0.0.1\" (address 127.0.0.1)%') FROM http('{\"url\": \"$BASE2/redirect?to=$BASE/echo\"}') r")" \
	"OUTBOUND_REFUSED|t"
eq "the refused redirect target was never contacted" \
	"$(server_log | python3 -c 'import json,sys; print(" ".join(e["server"]+e["path"] for e in json.load(sys.stdin)))')" \
	"127.0.0.2/redirect 127.0.0.2/echo 127.0.0.2/redirect"
allow 'localhost'
eq "allowed by name: localhost" "$(q -c "SELECT http('{\"url\": \"http://localhost:$PORT/echo\"}')#>>'{output,status}'")" "200"
eq "allowed by name → redirect to the same address by number is refused" \
	"$(q -c "SELECT http('{\"url\": \"http://localhost:$PORT/redirect?to=$BASE/echo\"}')#>>'{error,code}'")" \
	"OUTBOUND_REFUSED"
allow '127.0.0.0/8, ::1'
eq "allowed by CIDR" "$(q -c "SELECT http('{\"url\": \"$BASE2/echo\"}')#>>'{output,status}'")" "200"
eq "an allowed IPv4 address also allows its IPv4-mapped IPv6 form" \
	"$(q -c "SELECT http('{\"url\": \"http://[::ffff:127.0.0.1]:$PORT/echo\"}')#>>'{output,status}'")" "200"
eq "other private ranges stay refused" "$(q -c "SELECT http('{\"url\": \"http://10.0.0.1/\"}')#>>'{error,code}'")" "OUTBOUND_REFUSED"
eq "redirect to a non-http scheme fails" \
	"$(q -c "SELECT http('{\"url\": \"$BASE/redirect?to=file:///etc/passwd\"}')#>>'{error,code}'")" "HTTP_ERROR"
eq "5 redirects are followed" "$(q -c "SELECT http('{\"url\": \"$BASE/redirect-chain?n=5\"}')#>>'{output,body,redirects}'")" "5"
like "6 redirects are too many" "$(q -c "SELECT http('{\"url\": \"$BASE/redirect-chain?n=6\"}')#>>'{error,code}'")" "HTTP_ERROR"
eq "non-http URL is INVALID_CONFIG" "$(q -c "SELECT http('{\"url\": \"file:///etc/passwd\"}')#>>'{error,message}'")" \
	'node "h": field "url" is not a valid http(s) URL: only http and https URLs are allowed'

# The rest runs with 127.0.0.1 allowed, as the tests of the worker do.
allow '127.0.0.1'

# A backend that already talked to 127.0.0.1 (a kept-alive connection) obeys a reload at once.
out=$(psql -X -q -At -d "$DB" -v ON_ERROR_STOP=1 <<SQL
SELECT http('{"url": "$BASE/echo"}')#>>'{output,status}';
\\! psql -X -q -d postgres -c "ALTER SYSTEM SET flowent.http_allow_hosts = '127.0.0.2'" -c "SELECT pg_reload_conf()" >/dev/null
SELECT pg_sleep(0.5);
SELECT http('{"url": "$BASE/echo"}')#>>'{error,code}';
SQL
)
eq "a reload applies to a backend with an open connection" "$(printf '%s' "$out" | tr '\n' ' ')" "200  OUTBOUND_REFUSED"
allow '127.0.0.1'

# ---------------------------------------------------------------- GET: query and headers
clear_log
r=$(q -c "SELECT http('{\"url\": \"$BASE/echo?x=1\", \"query\": {\"a\": \"b c&d=é\", \"n\": 5, \"arr\": [1, true], \"skip\": null, \"o\": {\"k\": 1}}, \"headers\": {\"X-Test\": \"yes\", \"X-Num\": 42, \"X-Null\": null}}')")
eq "GET: status and method" "$(q -c "SELECT concat_ws('|', r->>'status', r#>>'{output,status}', r#>>'{output,body,method}', r#>>'{output,body,path}') FROM (SELECT '$r'::jsonb r) s")" "success|200|GET|/echo"
eq "GET: query appended URL-encoded (jsonb key order, arrays repeat, null left out)" \
	"$(q -c "SELECT '$r'::jsonb#>>'{output,body,rawQuery}'")" "x=1&a=b%20c%26d%3D%C3%A9&n=5&o=%7B%22k%22%3A1%7D&arr=1&arr=true"
eq "GET: query as the server parsed it" "$(q -c "SELECT '$r'::jsonb#>>'{output,body,query}'")" \
	'{"a": "b c&d=é", "n": "5", "o": "{\"k\":1}", "x": "1", "arr": ["1", "true"]}'
eq "GET: headers sent" "$(q -c "SELECT concat_ws('|', h->>'x-test', h->>'x-num', h ? 'x-null', h->>'user-agent', h ? 'content-type', h ? 'expect') FROM (SELECT '$r'::jsonb#>'{output,body,headers}' h) s")" \
	"yes|42|f|flowent/0.1|f|f"
eq "GET: Idempotency-Key is <executionId>:<nodeId>:0" \
	"$(q -c "SELECT r#>>'{output,body,headers,idempotency-key}' = (r->>'executionId') || ':h:0' FROM (SELECT '$r'::jsonb r) s")" "t"
eq "GET: response headers lower-cased, content type kept" "$(q -c "SELECT '$r'::jsonb#>>'{output,headers,content-type}'")" "application/json"
eq "GET: output keys" "$(q -c "SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys('$r'::jsonb->'output') k")" "body,headers,status"

# ---------------------------------------------------------------- bodies and methods
r=$(q -c "SELECT http('{\"method\": \"POST\", \"url\": \"$BASE/echo\", \"body\": {\"price\": 19.99, \"big\": 12345678901234567890.123456789, \"tiny\": 1e-30, \"s\": \"ü\\\"q\", \"list\": [1.10, null]}}')")
eq "POST JSON: sent compact with application/json" \
	"$(q -c "SELECT concat_ws('|', r#>>'{output,body,method}', r#>>'{output,body,headers,content-type}', r#>>'{output,body,body}') FROM (SELECT '$r'::jsonb r) s")" \
	'POST|application/json|{"s":"ü\"q","big":12345678901234567890.123456789,"list":[1.10,null],"tiny":0.000000000000000000000000000001,"price":19.99}'
eq "POST JSON: numbers exact after the round trip (19.99, 20 digits, 1.10)" \
	"$(q -c "SELECT concat_ws('|', j->>'price', j->>'big', j#>>'{list,0}', j->>'tiny', j = '{\"price\": 19.99, \"big\": 12345678901234567890.123456789, \"tiny\": 1e-30, \"s\": \"ü\\\"q\", \"list\": [1.10, null]}'::jsonb) FROM (SELECT '$r'::jsonb#>'{output,body,json}' j) s")" \
	'19.99|12345678901234567890.123456789|1.10|0.000000000000000000000000000001|t'
r=$(q -c "SELECT http('{\"method\": \"PUT\", \"url\": \"$BASE/echo\", \"body\": \"plain text, not JSON {\"}')")
eq "PUT string body: as is, text/plain" \
	"$(q -c "SELECT concat_ws('|', r#>>'{output,body,method}', r#>>'{output,body,body}', r#>>'{output,body,headers,content-type}') FROM (SELECT '$r'::jsonb r) s")" \
	'PUT|plain text, not JSON {|text/plain; charset=utf-8'
r=$(q -c "SELECT http('{\"method\": \"{{trigger.payload.m}}\", \"url\": \"$BASE/echo\", \"body\": [1, 2], \"headers\": {\"Content-Type\": \"application/merge-patch+json\"}}', '{\"m\": \"patch\"}')")
eq "PATCH (a templated method is case-insensitive), own content type" \
	"$(q -c "SELECT concat_ws('|', r#>>'{output,body,method}', r#>>'{output,body,body}', r#>>'{output,body,headers,content-type}') FROM (SELECT '$r'::jsonb r) s")" \
	'PATCH|[1,2]|application/merge-patch+json'
r=$(q -c "SELECT http('{\"method\": \"DELETE\", \"url\": \"$BASE/echo\"}')")
eq "DELETE without a body: no body, no content headers" \
	"$(q -c "SELECT concat_ws('|', r#>>'{output,body,method}', r#>>'{output,body,body}', h ? 'content-type', h ? 'content-length') FROM (SELECT '$r'::jsonb r, '$r'::jsonb#>'{output,body,headers}' h) s")" \
	'DELETE||f|f'
r=$(q -c "SELECT http('{\"method\": \"POST\", \"url\": \"$BASE/echo\"}')")
eq "POST without a body: Content-Length 0, no form content type" \
	"$(q -c "SELECT concat_ws('|', h->>'content-length', h ? 'content-type') FROM (SELECT '$r'::jsonb#>'{output,body,headers}' h) s")" '0|f'
eq "templates resolve in url, query and body" \
	"$(q -c "SELECT concat_ws('|', r#>>'{output,body,path}', r#>>'{output,body,query,id}', r#>>'{output,body,json,n}') FROM http('{\"method\": \"POST\", \"url\": \"$BASE/echo/{{trigger.payload.p}}\", \"query\": {\"id\": \"{{trigger.payload.id}}\"}, \"body\": {\"n\": \"{{trigger.payload.n}}\"}}', '{\"p\": \"x\", \"id\": 7, \"n\": 0.30}') r")" \
	'/echo/x|7|0.30'

# ---------------------------------------------------------------- response bodies
eq "text body stays text" "$(q -c "SELECT http('{\"url\": \"$BASE/text\"}')#>'{output,body}'")" '"hello, world\n"'
eq "JSON content type that does not parse stays text" "$(q -c "SELECT http('{\"url\": \"$BASE/json-bad\"}')#>'{output,body}'")" '"{not json"'
eq "bytes that are not text come back base64" \
	"$(q -c "SELECT concat_ws('|', r#>>'{output,body}', r#>>'{output,bodyEncoding}') FROM http('{\"url\": \"$BASE/bytes\"}') r")" '//4AYmluYXJ5|base64'
eq "repeated response headers are joined" "$(q -c "SELECT http('{\"url\": \"$BASE/dup-headers\"}')#>>'{output,headers,x-dup}'")" 'a, b'
eq "response over flowent.http_max_response_bytes is LIMIT_EXCEEDED" \
	"$(q -c "SET flowent.http_max_response_bytes = 1024" -c "SELECT concat_ws('|', r#>>'{error,code}', r#>>'{error,message}') FROM http('{\"url\": \"$BASE/big?n=5000\"}') r")" \
	"LIMIT_EXCEEDED|node \"h\": the response of GET $BASE/big is larger than 1024 bytes (flowent.http_max_response_bytes)"
eq "a response just under the cap is fine" \
	"$(q -c "SET flowent.http_max_response_bytes = 1024" -c "SELECT length(http('{\"url\": \"$BASE/big?n=1024\"}')#>>'{output,body}')")" "1024"

# ---------------------------------------------------------------- statuses
r=$(q -c "SELECT http('{\"url\": \"$BASE/status/404\"}')")
eq "404 is HTTP_ERROR with status and body in details" \
	"$(q -c "SELECT concat_ws('|', r->>'status', r#>>'{error,code}', r#>>'{error,message}', r#>>'{error,details}') FROM (SELECT '$r'::jsonb r) s")" \
	"error|HTTP_ERROR|node \"h\": GET $BASE/status/404 returned HTTP 404|{\"body\": \"{\\\"status\\\": 404}\", \"status\": 404}"
eq "acceptStatus [404] accepts it" \
	"$(q -c "SELECT concat_ws('|', r->>'status', r#>>'{output,status}', r#>>'{output,body,status}') FROM http('{\"url\": \"$BASE/status/404\", \"acceptStatus\": [200, 404]}') r")" "success|404|404"
eq "acceptStatus [\"4xx\"] accepts 418" "$(q -c "SELECT http('{\"url\": \"$BASE/status/418\", \"acceptStatus\": [\"4xx\"]}')->>'status'")" "success"
eq "acceptStatus [201] refuses 200" "$(q -c "SELECT http('{\"url\": \"$BASE/status/200\", \"acceptStatus\": [201]}')#>>'{error,code}'")" "HTTP_ERROR"
eq "acceptStatus with a bad element is INVALID_CONFIG" \
	"$(q -c "SELECT http('{\"url\": \"$BASE/status/200\", \"acceptStatus\": [200, 99]}')#>>'{error,message}'")" \
	'node "h": field "acceptStatus" element 1 must be a status 100 to 599 or a class like "4xx", got 99'
eq "onError continue: output {error: {code, message, details}}" \
	"$(q -c "SELECT concat_ws('|', r->>'status', r#>>'{output,error,code}', r#>>'{output,error,details,status}') FROM run_node('{\"id\": \"h\", \"type\": \"http-request\", \"data\": {\"url\": \"$BASE/status/503\", \"onError\": \"continue\"}}') r")" \
	"success|HTTP_ERROR|503"
t0=$(date +%s%N)
eq "429 with Retry-After: 1, retried once" \
	"$(q -c "SELECT concat_ws('|', r->>'status', r#>>'{error,code}', r#>>'{error,details,status}') FROM run_node('{\"id\": \"h\", \"type\": \"http-request\", \"data\": {\"url\": \"$BASE/status/429?retry_after=1\", \"retry\": {\"maxAttempts\": 2}}}') r")" \
	"error|HTTP_ERROR|429"
waited=$((($(date +%s%N) - t0) / 1000000))
[ "$waited" -ge 950 ] || fail "a 429 with Retry-After: 1 was retried after $waited ms"
eq "connection refused is HTTP_ERROR" \
	"$(q -c "SELECT http('{\"url\": \"http://127.0.0.1:1/\"}')#>>'{error,code}'")" "HTTP_ERROR"

# ---------------------------------------------------------------- timeouts and cancel
r=$(q -c "SELECT http('{\"url\": \"$BASE/slow?ms=3000\", \"timeoutMs\": 200}')")
eq "timeoutMs 200 against a 3 s endpoint: TIMEOUT" "$(q -c "SELECT concat_ws('|', r#>>'{error,code}', r#>>'{error,message}') FROM (SELECT '$r'::jsonb r) s")" \
	"TIMEOUT|node \"h\": HTTP request GET $BASE/slow timed out after 200 ms"
eq "... and quickly (durationMs < 1500)" "$(q -c "SELECT ('$r'::jsonb->>'durationMs')::int < 1500")" "t"
eq "flowent.http_timeout_ms is the default" \
	"$(q -c "SET flowent.http_timeout_ms = 300" -c "SELECT http('{\"url\": \"$BASE/slow?ms=3000\"}')#>>'{error,message}'")" \
	"node \"h\": HTTP request GET $BASE/slow timed out after 300 ms"
start=$(date +%s%N)
out=$(psql -X -At -d "$DB" -c "SET statement_timeout = 300" -c "SELECT http('{\"url\": \"$BASE/slow?ms=5000\", \"timeoutMs\": 10000}')" 2>&1 || true)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
eq "statement_timeout cancels a transfer" "$(printf '%s\n' "$out" | grep -o 'canceling statement due to statement timeout')" "canceling statement due to statement timeout"
eq "... within 2 s" "$([ "$ms" -lt 2000 ] && echo fast || echo "slow: $ms ms")" "fast"
eq "the backend is fine afterwards" "$(q -c "SELECT http('{\"url\": \"$BASE/text\"}')#>>'{output,status}'")" "200"

# ---------------------------------------------------------------- auth from credentials
q -c "SELECT flowent.set_credential('tok', '\"s3cr3t-bearer-token\"')" \
  -c "SELECT flowent.set_credential('tokobj', '{\"token\": \"obj-bearer-token-9\"}')" \
  -c "SELECT flowent.set_credential('basic', '{\"username\": \"alice\", \"password\": \"pa55word!\"}')" >/dev/null
clear_log
r=$(q -c "SELECT http('{\"url\": \"$BASE/echo\", \"auth\": {\"type\": \"bearer\", \"credential\": \"tok\"}}')")
exec_bearer=$(q -c "SELECT '$r'::jsonb->>'executionId'")
eq "bearer: the server got the token" \
	"$(server_log | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["authorization"])')" "Bearer s3cr3t-bearer-token"
eq "bearer: the echoed token is scrubbed from the output" "$(q -c "SELECT '$r'::jsonb#>>'{output,body,headers,authorization}'")" "Bearer [redacted]"
r=$(q -c "SELECT http('{\"url\": \"$BASE/echo\", \"auth\": {\"type\": \"bearer\", \"credential\": \"tokobj\"}}')")
eq "bearer from {token}" \
	"$(server_log | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["authorization"])')" "Bearer obj-bearer-token-9"
r=$(q -c "SELECT http('{\"url\": \"$BASE/echo\", \"auth\": {\"type\": \"basic\", \"credential\": \"basic\"}}')")
exec_basic=$(q -c "SELECT '$r'::jsonb->>'executionId'")
eq "basic: the server got base64(user:password)" \
	"$(server_log | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["authorization"])')" "Basic $(printf 'alice:pa55word!' | base64)"
eq "basic: scrubbed from the output" "$(q -c "SELECT '$r'::jsonb#>>'{output,body,headers,authorization}'")" "Basic [redacted]"
eq "no secret in workflow_node_logs" \
	"$(q -c "SELECT count(*) FROM flowent.workflow_node_logs l WHERE l.execution_id IN ('$exec_bearer', '$exec_basic') AND (l::text LIKE '%s3cr3t-bearer%' OR l::text LIKE '%pa55word%' OR l::text LIKE '%$(printf 'alice:pa55word!' | base64)%')")" "0"
eq "node logs keep the credential's name (unresolved config)" \
	"$(q -c "SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = '$exec_bearer' AND node_id = 'h' AND status = 'success'")" "1"
eq "no secret in the executions table" \
	"$(q -c "SELECT count(*) FROM flowent.workflow_executions e WHERE e.id IN ('$exec_bearer', '$exec_basic') AND (e::text LIKE '%s3cr3t-bearer%' OR e::text LIKE '%pa55word%')")" "0"
eq "unknown credential is CREDENTIAL_NOT_FOUND" \
	"$(q -c "SELECT concat_ws('|', r#>>'{error,code}', r#>>'{error,message}') FROM http('{\"url\": \"$BASE/echo\", \"auth\": {\"type\": \"bearer\", \"credential\": \"nope\"}}') r")" \
	'CREDENTIAL_NOT_FOUND|node "h": credential "nope" does not exist for the workflow owner'
eq "basic with a string credential lacking ':' is INVALID_CONFIG" \
	"$(q -c "SELECT http('{\"url\": \"$BASE/echo\", \"auth\": {\"type\": \"basic\", \"credential\": \"tok\"}}')#>>'{error,code}'")" "INVALID_CONFIG"
eq "auth type must be bearer or basic" \
	"$(q -c "SELECT http('{\"url\": \"$BASE/echo\", \"auth\": {\"type\": \"digest\", \"credential\": \"tok\"}}')#>>'{error,message}'")" \
	'node "h": field "auth.type" must be "bearer" or "basic"'

# ---------------------------------------------------------------- config errors
eq "header with a line break is refused" \
	"$(q -c "SELECT http('{\"url\": \"$BASE/echo\", \"headers\": {\"X-A\": \"a\\r\\nX-Injected: 1\"}}')#>>'{error,message}'")" \
	'node "h": header "X-A" must not contain line breaks'
eq "headers must be an object (checked at run time when templated)" \
	"$(q -c "SELECT http('{\"url\": \"$BASE/echo\", \"headers\": \"{{trigger.payload.h}}\"}', '{\"h\": [1]}')#>>'{error,message}'")" \
	'node "h": field "headers" must be an object of header names and values, got array'
eq "validate: unknown method" \
	"$(q -c "SELECT e->>'code' FROM jsonb_array_elements((flowent.validate('[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}}, {\"id\": \"h\", \"type\": \"http-request\", \"data\": {\"url\": \"http://x/\", \"method\": \"TRACE\"}}]', '[{\"id\": \"e\", \"source\": \"t\", \"target\": \"h\"}]'))->'errors') e")" \
	"INVALID_FIELD_TYPE"
eq "validate: url is required" \
	"$(q -c "SELECT concat_ws('|', e->>'code', e->>'field') FROM jsonb_array_elements((flowent.validate('[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}}, {\"id\": \"h\", \"type\": \"webhook\", \"data\": {}}]', '[{\"id\": \"e\", \"source\": \"t\", \"target\": \"h\"}]'))->'errors') e")" \
	"MISSING_REQUIRED_FIELD|url"

# ---------------------------------------------------------------- webhook
q -c "SELECT flowent.set_credential('whsec', '\"webhook-secret-1\"')" \
  -c "SELECT flowent.set_credential('whobj', '{\"secret\": \"webhook-secret-2\"}')" >/dev/null
r=$(q -c "SELECT webhook('{\"url\": \"$BASE/hmac-check?secret=webhook-secret-1\", \"secret\": \"whsec\", \"payload\": {\"amount\": 10.50, \"who\": \"ü\"}}')")
eq "webhook: signature verified by the receiver" \
	"$(q -c "SELECT concat_ws('|', r->>'status', r#>>'{output,status}', r#>>'{output,body,valid}', abs((r#>>'{output,body,timestamp}')::bigint - extract(epoch FROM now())::bigint) < 60) FROM (SELECT '$r'::jsonb r) s")" \
	"success|200|true|t"
eq "webhook: secret from {secret}" \
	"$(q -c "SELECT webhook('{\"url\": \"$BASE/hmac-check?secret=webhook-secret-2\", \"secret\": \"whobj\", \"payload\": [1]}')#>>'{output,body,valid}'")" "true"
eq "webhook: a receiver with another secret refuses it" \
	"$(q -c "SELECT concat_ws('|', r#>>'{error,code}', r#>>'{error,details,status}') FROM webhook('{\"url\": \"$BASE/hmac-check?secret=other\", \"secret\": \"whsec\"}') r")" \
	"HTTP_ERROR|401"
eq "webhook: unsigned without secret" \
	"$(q -c "SELECT webhook('{\"url\": \"$BASE/hmac-check?secret=x\"}')#>>'{error,details,body}'")" \
	'{"valid": false, "reason": "no X-Flowent-Timestamp"}'
r=$(q -c "SELECT webhook('{\"url\": \"$BASE/echo\", \"headers\": {\"X-Extra\": \"1\"}}', '{\"order\": {\"total\": 19.99, \"id\": 12345678901234567890}}')")
eq "webhook: POSTs the input (the trigger payload) as JSON by default, exactly" \
	"$(q -c "SELECT concat_ws('|', r#>>'{output,body,method}', r#>>'{output,body,headers,content-type}', r#>>'{output,body,headers,x-extra}', r#>>'{output,body,body}') FROM (SELECT '$r'::jsonb r) s")" \
	'POST|application/json|1|{"order":{"id":12345678901234567890,"total":19.99}}'
eq "webhook: Idempotency-Key" \
	"$(q -c "SELECT r#>>'{output,body,headers,idempotency-key}' = (r->>'executionId') || ':h:0' FROM (SELECT '$r'::jsonb r) s")" "t"
eq "webhook: payload null is sent as null" \
	"$(q -c "SELECT webhook('{\"url\": \"$BASE/echo\", \"payload\": null}')#>>'{output,body,body}'")" 'null'
eq "webhook: unknown secret credential" \
	"$(q -c "SELECT webhook('{\"url\": \"$BASE/echo\", \"secret\": \"nope\"}')#>>'{error,code}'")" "CREDENTIAL_NOT_FOUND"
r=$(q -c "SELECT webhook('{\"url\": \"$BASE/echo\", \"secret\": \"whsec\", \"payload\": {\"a\": 1}}')")
eq "webhook: signed request carries timestamp and sha256 signature headers" \
	"$(q -c "SELECT concat_ws('|', h->>'x-flowent-timestamp' ~ '^[0-9]{10}$', h->>'x-flowent-signature' ~ '^sha256=[0-9a-f]{64}$') FROM (SELECT '$r'::jsonb#>'{output,body,headers}' h) s")" "t|t"
eq "webhook: the signing secret is not in node logs or the output" \
	"$(q -c "SELECT count(*) FROM flowent.workflow_node_logs l WHERE l.execution_id = ('$r'::jsonb->>'executionId')::uuid AND l::text LIKE '%webhook-secret-1%'") $(q -c "SELECT '$r'::jsonb::text LIKE '%webhook-secret-1%'")" "0 f"

# ---------------------------------------------------------------- Idempotency-Key across retries
clear_log
r=$(q -c "SELECT run_node('{\"id\": \"h\", \"type\": \"http-request\", \"data\": {\"url\": \"$BASE/status/500\", \"retry\": {\"maxAttempts\": 3, \"backoffMs\": 10}}}')")
exec_retry=$(q -c "SELECT '$r'::jsonb->>'executionId'")
eq "retry: fails with HTTP_ERROR after 3 attempts" \
	"$(q -c "SELECT concat_ws('|', l.status, l.error_code, l.attempts) FROM flowent.workflow_node_logs l WHERE l.execution_id = '$exec_retry' AND node_id = 'h'")" "error|HTTP_ERROR|3"
eq "retry: the server saw 3 requests with the same key <executionId>:h:0" \
	"$(server_log | python3 -c 'import json,sys; print(" ".join(e["idempotencyKey"] for e in json.load(sys.stdin) if e["path"] == "/status/500"))')" \
	"$exec_retry:h:0 $exec_retry:h:0 $exec_retry:h:0"
clear_log
r=$(q -c "SELECT flowent.run(flowent.create_workflow('loop keys',
	'[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}},
	  {\"id\": \"l\", \"type\": \"loop-controller\", \"data\": {\"items\": [\"a\", \"b\"]}},
	  {\"id\": \"h\", \"type\": \"http-request\", \"data\": {\"url\": \"$BASE/echo/{{loop.item}}\"}}]',
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"l\"}, {\"id\": \"e2\", \"source\": \"l\", \"sourceHandle\": \"body\", \"target\": \"h\"}]'))")
exec_loop=$(q -c "SELECT '$r'::jsonb->>'executionId'")
eq "loop: one key per iteration <executionId>:h:l:<index>" \
	"$(server_log | python3 -c 'import json,sys; print(" ".join(e["path"] + "=" + e["idempotencyKey"] for e in json.load(sys.stdin)))')" \
	"/echo/a=$exec_loop:h:l:0 /echo/b=$exec_loop:h:l:1"

# ---------------------------------------------------------------- registry rows
eq "registry: http-request and webhook are action nodes with handle out, free" \
	"$(q -c "SELECT string_agg(concat_ws('|', type, category, handles::text, cost_model::text, config_schema->'required'), ';' ORDER BY type) FROM flowent.node_types WHERE type IN ('http-request', 'webhook')")" \
	'http-request|action|["out"]|{"kind": "free"}|["url"];webhook|action|["out"]|{"kind": "free"}|["url"]'

echo "http_nodes: all $PASS checks passed"
