#!/usr/bin/env bash
# The dashboard (issue 12): vitest unit tests (npm test in web/), then the browser tests
# (web/e2e/*.test.mjs, node's test runner driving Debian's headless Chromium through
# playwright-core) against the real gateway, database and worker. Builds web/dist, makes its
# own database, gateway login role and token, starts a gateway with --web web/dist on its own
# port, and stops and drops what it started. WEB_SKIP_BUILD=1 skips npm ci/test/build (iterating); WEB_E2E_ONLY=<files> runs only those test files. Screenshots land in web/e2e/screenshots/
# (git-ignored). WEB_PORT picks the gateway's port (default 3911); CHROMIUM the browser. The fake
# OpenAI-style server (test/fake/api_server.py) answers the streaming test's model calls.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
DB=flowent_web_test
ROLE=flowent_web_gw
PORT=${WEB_PORT:-3911}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
fail() { echo "web: FAIL: $*"; exit 1; }
# shellcheck source=../lib/web_gateway.sh
. test/lib/web_gateway.sh
API_PID=""
# the fake OpenAI-style server of the streaming test (web/e2e/stream.test.mjs), allowed as an outbound host
web_stop() {
	web_gateway_stop
	[ -z "$API_PID" ] || kill "$API_PID" 2>/dev/null || true
	psql -X -q -d postgres -c "ALTER SYSTEM RESET flowent.http_allow_hosts" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
	rm -f "$ROOT/.web-api.port"
}
trap web_stop EXIT

command -v node >/dev/null || fail "node is missing: bash scripts/install-deps.sh"
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing: bash scripts/install-deps.sh (Debian's chromium)"

if [ -z "${WEB_SKIP_BUILD:-}" ]; then
	echo "web: npm ci, vitest, build"
	(cd web && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run build) || fail "npm ci, npm test or npm run build failed"
else
	echo "web: WEB_SKIP_BUILD is set: using the web/dist there is"
fi
[ -f web/dist/index.html ] || fail "web/dist/index.html was not built"
web_gateway_start
rm -f "$ROOT/.web-api.port"
python3 test/fake/api_server.py --port-file "$ROOT/.web-api.port" --key sk-web-test &
API_PID=$!
for _ in $(seq 1 100); do [ -s "$ROOT/.web-api.port" ] && break; sleep 0.05; done
[ -s "$ROOT/.web-api.port" ] || fail "the fake model server did not start"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER SYSTEM SET flowent.http_allow_hosts = '127.0.0.1'" -c "SELECT pg_reload_conf()" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -U "$ROLE" -d "$DB" -1 -c "SELECT flowent.set_acting_user('webtester')" \
	-c "SELECT flowent.set_credential('openai', '\"sk-web-test\"')" >/dev/null
WEB_LLM_BASE="http://127.0.0.1:$(cat "$ROOT/.web-api.port")/v1"
# every page route answers with the app (a reload or a shared link works)
for p in /pipelines /pipelines/analytics /approvals /pipelines/00000000-0000-4000-8000-000000000000/editor; do
	curl -fsS "http://127.0.0.1:$PORT$p" | grep -q '<div id="root">' || fail "$p does not answer with index.html"
done

echo "web: browser tests against http://127.0.0.1:$PORT"
rc=0
WEB_BASE="http://127.0.0.1:$PORT" WEB_TOKEN="$TOKEN" CHROMIUM="$CHROMIUM" WEB_LLM_BASE="$WEB_LLM_BASE" \
	WEB_PSQL_DB="$DB" WEB_SHOTS="$ROOT/web/e2e/screenshots" \
	node --test --test-concurrency=1 ${WEB_E2E_ONLY:-web/e2e/*.test.mjs} || rc=$?
if [ $rc -ne 0 ]; then
	tail -n 30 "$WEB_GW_LOG"
	fail "browser tests failed (screenshots in web/e2e/screenshots)"
fi
echo "web: OK"
