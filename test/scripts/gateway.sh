#!/usr/bin/env bash
# The gateway (DESIGN §10) through real clients against the real server:
# test/gateway/test_gateway.py, with the gateway built under ASan/UBSan
# (GW_BIN to use another build).  It logs in as a non-superuser member of
# flowent_gateway, so row-level security holds for every request.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
DB=flowent_gateway_test
ROLE=flowent_gw_test
TMP=$(mktemp -d)
fail() { echo "gateway: FAIL: $*"; exit 1; }
cleanup() {
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ -z "${GW_BIN:-}" ]; then
	make -s gateway-asan >/dev/null
	GW_BIN=$ROOT/src/gateway/flowent-gateway-asan
fi
. test/lib/gateway_db.sh
gateway_db "$DB" "$ROLE" || fail "no gateway database"

cat >"$TMP/restart.sh" <<EOF2
cd "$ROOT" && bash scripts/cluster.sh restart >/dev/null
EOF2
export GW_BIN GW_DB=$DB GW_LOG_DIR=$TMP GW_CLUSTER_RESTART=$TMP/restart.sh
export GW_ADMIN_CONNINFO="host=$PGHOST port=$PGPORT dbname=$DB user=postgres"
export GW_CONNINFO="host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE application_name=flowent-gateway-test"
export GW_PORT=${GW_PORT:-3901} GW_PORT2=${GW_PORT2:-3902}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
python3 test/gateway/test_gateway.py || rc=$?
if grep -l "Sanitizer" "$TMP"/gateway-*.log >/dev/null 2>&1; then
	grep -h -A30 "Sanitizer" "$TMP"/gateway-*.log | head -60
	fail "the sanitizers reported errors (above)"
fi
if [ "$rc" -ne 0 ]; then
	tail -n 20 "$TMP"/gateway-*.log
	fail "test_gateway.py failed"
fi
echo "gateway: OK"
