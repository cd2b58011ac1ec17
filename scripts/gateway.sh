#!/usr/bin/env bash
# The local gateway: scripts/gateway.sh {start|stop|restart|status|token USER|conninfo}
#   start   build flowent-gateway if needed, make sure its login role exists, start it
#           on 127.0.0.1:${FLOWENT_GATEWAY_PORT:-3000} (PID and log in .gateway/, git-ignored)
#   stop    SIGTERM: it finishes the requests in flight and closes sockets with 1001
#   token   print a new API token for USER (alone on the last line)
# The gateway logs in as role ${FLOWENT_GATEWAY_ROLE:-flowent_gateway_login}: LOGIN, a member
# of flowent_gateway, not a superuser, owning nothing, so row-level security applies to it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
eval "$(bash scripts/cluster.sh env)"
export PGHOST PGPORT PGUSER
PORT=${FLOWENT_GATEWAY_PORT:-3000}
ROLE=${FLOWENT_GATEWAY_ROLE:-flowent_gateway_login}
DB=${FLOWENT_GATEWAY_DB:-flowent}
DIR=$ROOT/.gateway
PIDFILE=$DIR/gateway-$PORT.pid
LOG=$DIR/gateway-$PORT.log
BIN=${FLOWENT_GATEWAY_BIN:-$ROOT/src/gateway/flowent-gateway}
CONNINFO="host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE application_name=flowent-gateway"
die() { echo "gateway: $*" >&2; exit 1; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

ensure_role() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -v role="$ROLE" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN IN ROLE flowent_gateway', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('GRANT flowent_gateway TO %I', :'role') \gexec
SQL
}

case "${1:-}" in
start)
	[ -x "$BIN" ] || make -s gateway
	mkdir -p "$DIR"
	if running; then echo "gateway: already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"; exit 0; fi
	ensure_role
	web=()
	[ -d "$ROOT/web/dist" ] && web=(--web "$ROOT/web/dist")
	nohup "$BIN" --db "$CONNINFO" --listen "127.0.0.1:$PORT" "${web[@]}" ${FLOWENT_GATEWAY_ARGS:-} >>"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
	for _ in $(seq 1 100); do
		curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && { echo "gateway: ready on http://127.0.0.1:$PORT/ (log $LOG)"; exit 0; }
		running || { tail -5 "$LOG" >&2; die "it exited at start (log $LOG)"; }
		sleep 0.1
	done
	die "not answering /health after 10 s (log $LOG)"
	;;
stop)
	if running; then
		pid=$(cat "$PIDFILE")
		kill -TERM "$pid"
		for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
		echo "gateway: stopped"
	else
		echo "gateway: not running"
	fi
	rm -f "$PIDFILE"
	;;
restart) "$0" stop; "$0" start ;;
status)
	if running; then echo "gateway: running (pid $(cat "$PIDFILE")) on http://127.0.0.1:$PORT/"; else echo "gateway: not running"; exit 3; fi
	;;
token)
	[ -n "${2:-}" ] || die "usage: scripts/gateway.sh token USER"
	[ -x "$BIN" ] || make -s gateway
	"$BIN" token create --db "host=$PGHOST port=$PGPORT dbname=$DB user=postgres" --user "$2" ${3:+--name "$3"}
	;;
conninfo) echo "$CONNINFO" ;;
role) echo "$ROLE" ;;
*) die "usage: scripts/gateway.sh {start|stop|restart|status|token USER|conninfo|role}" ;;
esac
