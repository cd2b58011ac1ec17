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

# ---- gateway and web dashboard: later issues start them here ----
# (build the gateway, start it on 127.0.0.1:3000, build web/ and print the dashboard URL)
# ---- end gateway and web dashboard ----

echo
echo "Flowent is ready. Connect with:"
echo "    psql -h $PGHOST -p $PGPORT -U postgres flowent"
echo "Stop the cluster with: bash scripts/cluster.sh stop"
