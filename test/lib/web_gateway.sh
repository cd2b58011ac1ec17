# Sourced by test/scripts/web.sh and bench/web.sh: a database with the extension, a gateway login
# role (not a superuser), a token for user `webtester`, and a gateway serving web/dist on its own
# port. Needs fail(), ROOT, DB, ROLE, PORT and the cluster's PG* variables; sets TOKEN and GW_PID;
# web_gateway_stop stops the gateway and drops the database. The log is $WEB_GW_LOG.
. "$(dirname "${BASH_SOURCE[0]}")/gateway_db.sh"
WEB_GW_LOG=$(mktemp /tmp/flowent_web_gw.XXXXXX)
GW_PID=""

web_gateway_stop() {
	if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
		kill -TERM "$GW_PID"
		for _ in $(seq 1 50); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$GW_PID" 2>/dev/null || true
	fi
	GW_PID=""
	timeout 30 dropdb --if-exists --force "$DB" >/dev/null 2>&1 || true
	rm -f "$WEB_GW_LOG"
}

web_gateway_start() {
	local bin=$ROOT/src/gateway/flowent-gateway
	make -s gateway
	gateway_db "$DB" "$ROLE" || fail "no gateway database"
	TOKEN=$("$bin" token create --db "host=$PGHOST port=$PGPORT dbname=$DB user=postgres" --user webtester | tail -1)
	"$bin" --db "host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE application_name=flowent-web" \
		--listen "127.0.0.1:$PORT" --web "$ROOT/web/dist" >"$WEB_GW_LOG" 2>&1 &
	GW_PID=$!
	for _ in $(seq 1 100); do
		curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && return 0
		kill -0 "$GW_PID" 2>/dev/null || { cat "$WEB_GW_LOG"; fail "the gateway exited at start"; }
		sleep 0.1
	done
	fail "the gateway does not answer /health on port $PORT"
}
