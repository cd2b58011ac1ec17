# Sourced by test scripts: the fake HTTP server (test/fake/http_server.py) on
# 127.0.0.1 and the outbound allow list.  Needs TMP (a scratch directory) and
# fail(); sets BASE and FAKE_HTTP_PID.  stop_fake_http and allow '' undo it.

start_fake_http() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/../fake/http_server.py" --bind 127.0.0.1 --port-file "$TMP/fake_http.port" &
	FAKE_HTTP_PID=$!
	for _ in $(seq 1 100); do [ -s "$TMP/fake_http.port" ] && break; sleep 0.05; done
	[ -s "$TMP/fake_http.port" ] || fail "the fake HTTP server did not start"
	BASE="http://127.0.0.1:$(cat "$TMP/fake_http.port")"
}

stop_fake_http() {
	[ -z "${FAKE_HTTP_PID:-}" ] || kill "$FAKE_HTTP_PID" 2>/dev/null || true
	FAKE_HTTP_PID=
}

# allow HOSTS: set flowent.http_allow_hosts for the cluster ('' resets it) and
# wait until new sessions see it
allow() {
	local set="SET flowent.http_allow_hosts = '$1'"
	[ -n "$1" ] || set="RESET flowent.http_allow_hosts"
	psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "ALTER SYSTEM $set" -c "SELECT pg_reload_conf()" >/dev/null
	for _ in $(seq 1 100); do
		[ "$(psql -X -At -d postgres -c 'SHOW flowent.http_allow_hosts')" = "$1" ] && return 0
		sleep 0.05
	done
	fail "flowent.http_allow_hosts did not become '$1'"
}

# the fake server's record of requests, as JSON
server_log() { python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$BASE/log"; }
clear_log() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "$BASE/log/clear"; }
# requests_to PATH: how many requests the server got for PATH
requests_to() { server_log | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["path"].split("?")[0] == sys.argv[1]))' "$1"; }

# outbound_test_begin: for the scripts of the outbound nodes (llm-agent, web-search, HubSpot, email)
# with their database DB: from here on, on exit, the fake servers they started (API_PID,
# SERVER_PID) stop, the allow list is reset, DB is dropped and TMP (made now) removed.
outbound_test_end() {
	local pid
	for pid in "${API_PID:-}" "${SERVER_PID:-}"; do [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; done
	psql -X -q -d postgres -c "ALTER SYSTEM RESET flowent.http_allow_hosts" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
	timeout 30 dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	# a gateway's database of the script (GWDB), once the gateway (SERVER_PID) is gone
	[ -z "${GWDB:-}" ] || timeout 30 dropdb --if-exists --force "$GWDB" >/dev/null 2>&1 || true
	[ -z "${TMP:-}" ] || rm -rf "$TMP"
}
outbound_test_begin() {
	trap outbound_test_end EXIT
	outbound_test_end
	TMP=$(mktemp -d)
}
