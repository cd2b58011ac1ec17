#!/usr/bin/env bash
# The dashboard (issue 12): vitest unit tests (npm test in web/), then the browser tests
# (web/e2e/*.test.mjs, node's test runner driving Debian's headless Chromium through
# playwright-core) against the real gateway, database and worker. Builds web/dist, makes its
# own database, gateway login role and token, starts a gateway with --web web/dist on its own
# port, and stops and drops what it started. WEB_SKIP_BUILD=1 skips npm ci/test/build (iterating). Screenshots land in web/e2e/screenshots/
# (git-ignored). WEB_PORT picks the gateway's port (default 3911); CHROMIUM the browser.
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
trap web_gateway_stop EXIT

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
# every page route answers with the app (a reload or a shared link works)
for p in /pipelines /pipelines/analytics /approvals /pipelines/00000000-0000-4000-8000-000000000000/editor; do
	curl -fsS "http://127.0.0.1:$PORT$p" | grep -q '<div id="root">' || fail "$p does not answer with index.html"
done

echo "web: browser tests against http://127.0.0.1:$PORT"
rc=0
WEB_BASE="http://127.0.0.1:$PORT" WEB_TOKEN="$TOKEN" CHROMIUM="$CHROMIUM" \
	WEB_PSQL_DB="$DB" WEB_SHOTS="$ROOT/web/e2e/screenshots" \
	node --test --test-concurrency=1 web/e2e/*.test.mjs || rc=$?
if [ $rc -ne 0 ]; then
	tail -n 30 "$WEB_GW_LOG"
	fail "browser tests failed (screenshots in web/e2e/screenshots)"
fi
echo "web: OK"
