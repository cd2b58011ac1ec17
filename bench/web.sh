#!/usr/bin/env bash
# The dashboard's figures (issue 12), not a test: the initial JavaScript of /pipelines gzipped,
# the time until a 500-node workflow is interactive in the editor in headless Chromium, and the
# frame times while a real run's events arrive over the WebSocket. Needs the development cluster
# and a built web/dist (make web; BENCH_BUILD=1 builds it); makes and drops its own database.
#   BENCH_NODES=500  WEB_PORT=3912
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
DB=flowent_web_bench
ROLE=flowent_web_gw
PORT=${WEB_PORT:-3912}
fail() { echo "bench/web: $*" >&2; exit 1; }
# shellcheck source=../test/lib/web_gateway.sh
. test/lib/web_gateway.sh
trap web_gateway_stop EXIT
[ -z "${BENCH_BUILD:-}" ] || make -s web
[ -f web/dist/index.html ] || fail "web/dist is not built: make web"
web_gateway_start
WEB_BASE="http://127.0.0.1:$PORT" WEB_TOKEN="$TOKEN" WEB_DIST="$ROOT/web/dist" \
	CHROMIUM=${CHROMIUM:-/usr/bin/chromium} node web/e2e/bench.mjs
