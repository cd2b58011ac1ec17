#!/usr/bin/env bash
# README command #1: install dependencies, build and install the extension, start the local
# cluster, create the extensions, load the examples and run one of them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

echo "==> dependencies"
bash scripts/install-deps.sh

echo "==> build and install the extension"
make -j"$(nproc)"
make install

echo "==> cluster"
bash scripts/cluster.sh start
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER PGDATABASE

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d flowent)

echo "==> extensions in database flowent"
"${PSQL[@]}" -c 'CREATE EXTENSION IF NOT EXISTS pg_cron' -c 'CREATE EXTENSION IF NOT EXISTS flowent' \
	-c 'ALTER EXTENSION flowent UPDATE'

echo "==> examples (examples/load.sql)"
"${PSQL[@]}" -f examples/load.sql

echo "==> running the example \"Order triage\" with payload {\"amount\": 1500}"
"${PSQL[@]}" -At -c "
	SELECT jsonb_pretty(flowent.run(id, '{\"amount\": 1500}'))
	FROM flowent.workflows
	WHERE name = 'Order triage'
	ORDER BY created_at DESC
	LIMIT 1"

echo "==> dashboard (make web: npm ci and build web/dist, which the gateway serves)"
make -s web

echo "==> gateway (make gateway; scripts/gateway.sh start)"
make -s gateway
FLOWENT_GATEWAY_PORT=${FLOWENT_GATEWAY_PORT:-3000}
export FLOWENT_GATEWAY_PORT
bash scripts/gateway.sh restart
USER_NAME=${FLOWENT_USER:-admin}
TOKEN=$(bash scripts/gateway.sh token "$USER_NAME" setup | tail -1)
# The examples were loaded by postgres: hand them to the dashboard's user, running as the
# gateway's role (not as a superuser), so the token sees and runs them.
"${PSQL[@]}" -c "UPDATE flowent.workflows SET user_id = '$USER_NAME', run_as = '$(bash scripts/gateway.sh role)'
	WHERE name IN ('Order triage', 'Loop and transform', 'Approval') AND user_id = 'postgres'"

URL="http://127.0.0.1:$FLOWENT_GATEWAY_PORT"
echo
echo "Flowent is ready."
echo "    psql:     psql -h $PGHOST -p $PGPORT -U postgres flowent"
echo "    gateway:  $URL/  (log .gateway/gateway-$FLOWENT_GATEWAY_PORT.log; bash scripts/gateway.sh stop|start|status)"
if [ -d web/dist ]; then
	echo "    dashboard: $URL/#token=$TOKEN   (open it: it signs you in)"
fi
echo "    API token for user \"$USER_NAME\" (shown once; make more with: bash scripts/gateway.sh token NAME):"
echo "        $TOKEN"
echo "    try:      curl -H 'Authorization: Bearer $TOKEN' $URL/api/pipelines"
echo "Stop everything with: bash scripts/gateway.sh stop; bash scripts/cluster.sh stop"
