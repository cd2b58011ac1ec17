# Sourced by test scripts: test/fake/api_server.py (stand-ins of an OpenAI-style API, the Brave,
# DuckDuckGo and Google search APIs and HubSpot) on 127.0.0.1, allowed as an outbound host.
# Needs TMP and fail(); sets API (its base URL) and API_PID.  Arguments go to the server.
. "$(dirname "${BASH_SOURCE[0]}")/fake_http.sh"

start_fake_api() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/../fake/api_server.py" --port-file "$TMP/api.port" "$@" &
	API_PID=$!
	for _ in $(seq 1 100); do [ -s "$TMP/api.port" ] && break; sleep 0.05; done
	[ -s "$TMP/api.port" ] || fail "the fake API server did not start"
	API="http://127.0.0.1:$(cat "$TMP/api.port")"
	allow '127.0.0.1'
}
