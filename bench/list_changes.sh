#!/usr/bin/env bash
# GET /api/pipelines while the data changes (kept answers and their single
# flight, issue 9): one gateway on the dev cluster as a non-superuser member
# of flowent_gateway, a user with PIPELINES workflows, wrk c=10 for DURATION s
# on the first page while one session commits a change to a workflow every
# GAP_MS ms (each change makes every kept answer stale).  Rounds: no changes;
# changes with the gateway under test (GW_BIN, default the built one); the
# same with BASE_BIN if given (e.g. a build of an older tree); changes with
# kept answers off (--answer-cache-mb 0: every list made by its SQL).  Prints
# req/s, latency and how the answers were served (/metrics), and the ratios
# against kept answers off; asserts no timing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
DURATION=${DURATION:-8}
GAP_MS=${GAP_MS:-2}
PIPELINES=${PIPELINES:-300}
PORT=${PORT:-3990}
GW=${GW_BIN:-$ROOT/src/gateway/flowent-gateway}
BASE=${BASE_BIN:-}
DB=flowent_bench_list
ROLE=bench_gw
while ss -Hltn "sport = :$PORT" | grep -q .; do PORT=$((PORT + 1)); done
GWPID=
CHPID=
cleanup() {
	[ -z "$CHPID" ] || { kill "$CHPID" 2>/dev/null; wait "$CHPID" 2>/dev/null || true; }
	[ -z "$GWPID" ] || { kill "$GWPID" 2>/dev/null; wait "$GWPID" 2>/dev/null || true; }
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
. "$ROOT/test/lib/gateway_db.sh"
gateway_db "$DB" "$ROLE" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT flowent.set_acting_user('bob')" \
	-c "SELECT count(*) FROM (SELECT flowent.create_workflow('list ' || i, '[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}]', '[]')
	    FROM generate_series(1, $PIPELINES) i) x" >/dev/null
TOKEN=$("$GW" token create --db "host=$PGHOST port=$PGPORT dbname=$DB user=$PGUSER" --user bob | tail -n 1)
CHANGES=$(( DURATION * 1000 / GAP_MS + 1000 ))

round() {	# label, gateway binary, changes (yes/no), extra gateway options
	local label=$1 bin=$2 changes=$3
	shift 3
	"$bin" --db "host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE" --listen "127.0.0.1:$PORT" --rate-limit 0 "$@" \
		>/dev/null 2>&1 &
	GWPID=$!
	for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.1; done
	if [ "$changes" = yes ]; then
		psql -X -q -d "$DB" -c "DO \$\$ BEGIN FOR i IN 1..$CHANGES LOOP
			UPDATE flowent.workflows SET description = i::text WHERE name = 'list 1'; COMMIT;
			PERFORM pg_sleep($GAP_MS / 1000.0); END LOOP; END \$\$" >/dev/null 2>&1 &
		CHPID=$!
		sleep 0.5
	fi
	local out rps lat
	out=$(wrk -t2 -c10 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/pipelines")
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	lat=$(awk '$1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2} END {printf "p50 %s, p99 %s", p50, p99}' <<<"$out")
	local served
	served=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk -F'[{}"]' '/^flowent_gateway_answers_total/ {split($0, v, " "); printf "%s %s, ", $3, v[2]}')
	if [ -n "$CHPID" ]; then kill "$CHPID" 2>/dev/null; wait "$CHPID" 2>/dev/null || true; CHPID=; fi
	kill "$GWPID"; wait "$GWPID" 2>/dev/null || true; GWPID=
	printf '%-44s %9s req/s, %s; answers %s\n' "$label" "$rps" "$lat" "${served%, }" >&2
	echo "$rps"
}

echo "== GET /api/pipelines c=10, $PIPELINES pipelines, a change every ${GAP_MS} ms, ${DURATION}s per round ($(date -u '+%F %H:%M UTC'), tree $(git rev-parse --short HEAD))" >&2
round "no changes" "$GW" no >/dev/null
OFF=$(round "changes, kept answers off" "$GW" yes --answer-cache-mb 0)
ON=$(round "changes, $(basename "$GW") (single flight)" "$GW" yes)
awk -v a="$ON" -v b="$OFF" 'BEGIN {printf "  ratio against kept answers off: %.2f\n", a / b}' >&2
if [ -n "$BASE" ]; then
	B=$(round "changes, BASE_BIN" "$BASE" yes)
	awk -v a="$ON" -v b="$B" 'BEGIN {printf "  ratio against BASE_BIN: %.2f\n", a / b}' >&2
fi
