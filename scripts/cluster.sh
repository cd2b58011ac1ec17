#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for Flowent: data in .pgdata/, Unix socket in .run/, both inside
# the project. As root the server runs as the `postgres` OS user (PostgreSQL refuses root);
# as any other user it runs as that user.
#
#   scripts/cluster.sh start    initialise if needed, start (or keep running), create database flowent
#   scripts/cluster.sh stop     fast shutdown
#   scripts/cluster.sh restart  stop + start
#   scripts/cluster.sh status   exit 0 when running, 3 when not
#   scripts/cluster.sh env      `export PG...` lines for eval "$(scripts/cluster.sh env)"
#
# Port: FLOWENT_PGPORT (default 54329). `start` restarts a running server when the installed
# flowent.so, pg_cron.so, the postgres binary or the generated settings changed since it started:
# a preloaded library is only read at server start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA="$ROOT/.pgdata"
RUN="$ROOT/.run"
CONF="$DATA/flowent.conf"
STAMP="$DATA/flowent.stamp"
PORT=${FLOWENT_PGPORT:-54329}
PG_CONFIG=${PG_CONFIG:-pg_config}

die() { echo "cluster: $*" >&2; exit 1; }

command -v "$PG_CONFIG" >/dev/null 2>&1 || die "pg_config not found: run scripts/install-deps.sh first"
PGBIN=$("$PG_CONFIG" --bindir)
PKGLIB=$("$PG_CONFIG" --pkglibdir)

# Run a server-side command as the cluster's owner.
if [ "$(id -u)" -eq 0 ]; then
	OWNER=postgres
	as_owner() { (cd / && runuser -u postgres -- "$@"); }
else
	OWNER=$(id -un)
	as_owner() { "$@"; }
fi

# Unix sockets have a 107-byte path limit; a deeply nested project falls back to TCP only.
sock_path="$RUN/.s.PGSQL.$PORT"
if [ ${#sock_path} -le 100 ]; then
	SOCKDIR="$RUN"
else
	SOCKDIR=""
fi

is_running() {
	[ -f "$DATA/PG_VERSION" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

# Host and port clients should use: the running server's (postmaster.pid), else the configured ones.
client_target() {
	local port="$PORT" sock="$SOCKDIR"
	if is_running && [ -r "$DATA/postmaster.pid" ]; then
		port=$(sed -n 4p "$DATA/postmaster.pid")
		sock=$(sed -n 5p "$DATA/postmaster.pid")
	fi
	HOST=${sock:-127.0.0.1}
	CPORT=$port
}

# The postgres user must be able to traverse every directory down to the project.
ensure_reachable() {
	[ "$OWNER" = postgres ] || return 0
	runuser -u postgres -- test -x "$ROOT" && return 0
	local d="" part
	IFS=/ read -r -a parts <<<"${ROOT#/}"
	for part in "${parts[@]}"; do
		d="$d/$part"
		if ! runuser -u postgres -- test -x "$d"; then
			echo "cluster: chmod o+x $d (so the postgres user can reach $ROOT)"
			chmod o+x "$d"
		fi
	done
	runuser -u postgres -- test -x "$ROOT" || die "the postgres user still cannot reach $ROOT"
}

check_libs() {
	[ -f "$PKGLIB/flowent.so" ] ||
		die "$PKGLIB/flowent.so is missing: build and install the extension first (make && make install); the server preloads it."
	[ -f "$PKGLIB/pg_cron.so" ] ||
		die "$PKGLIB/pg_cron.so is missing: run scripts/install-deps.sh (postgresql-15-cron)."
}

init_if_needed() {
	mkdir -p "$RUN"
	chown "$OWNER" "$RUN"
	chmod 700 "$RUN"
	[ -f "$DATA/PG_VERSION" ] && return 0
	echo "cluster: initdb $DATA"
	mkdir -p "$DATA"
	chown "$OWNER" "$DATA"
	chmod 700 "$DATA"
	if ! as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$RUN/initdb.log" 2>&1; then
		cat "$RUN/initdb.log" >&2
		die "initdb failed"
	fi
	as_owner mkdir -p "$DATA/log"
	# Create the database before the first start, so pg_cron (cron.database_name) and flowent's
	# workers never see it missing. Single-user mode, without the preloads.
	if ! echo "CREATE DATABASE flowent;" |
		as_owner "$PGBIN/postgres" --single -D "$DATA" -c shared_preload_libraries= template1 \
			>"$RUN/single.log" 2>&1; then
		cat "$RUN/single.log" >&2
		die "could not create database flowent"
	fi
	echo "include 'flowent.conf'" >>"$DATA/postgresql.conf"
}

write_conf() {
	local tmp
	tmp=$(mktemp)
	cat >"$tmp" <<EOF
# Written by scripts/cluster.sh on every start: change the script, not this file.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKDIR'
max_connections = 100
max_worker_processes = 32
shared_preload_libraries = 'pg_cron,flowent'
cron.database_name = 'flowent'
cron.host = '127.0.0.1'
logging_collector = on
log_directory = 'log'
log_filename = 'postgresql.log'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
	if ! cmp -s "$tmp" "$CONF"; then
		cp "$tmp" "$CONF"
		chown "$OWNER" "$CONF"
	fi
	rm -f "$tmp"
}

# What the running server was started with; a change means it must restart to see it.
current_stamp() {
	md5sum "$PKGLIB/flowent.so" "$PKGLIB/pg_cron.so" "$PGBIN/postgres" "$CONF"
}

show_log_tail() {
	echo "---- last lines of $DATA/log/ ----" >&2
	tail -n 30 "$DATA/log/pg_ctl.log" "$DATA/log/postgresql.log" 2>/dev/null >&2 || true
}

ensure_database() {
	local exists
	exists=$(PGHOST=$HOST PGPORT=$CPORT PGUSER=postgres "$PGBIN/psql" -X -At -d postgres \
		-c "SELECT 1 FROM pg_database WHERE datname = 'flowent'")
	if [ "$exists" != 1 ]; then
		echo "cluster: creating database flowent"
		PGHOST=$HOST PGPORT=$CPORT PGUSER=postgres "$PGBIN/psql" -X -q -d postgres \
			-v ON_ERROR_STOP=1 -c "CREATE DATABASE flowent"
	fi
}

wait_ready() {
	client_target
	for _ in $(seq 1 60); do
		"$PGBIN/pg_isready" -q -h "$HOST" -p "$CPORT" -U postgres -d postgres && return 0
		sleep 0.5
	done
	show_log_tail
	die "server did not become ready on $HOST:$CPORT"
}

start_server() {
	current_stamp >"$STAMP"
	if ! as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/log/pg_ctl.log" -w -t 60 start >/dev/null; then
		show_log_tail
		die "server failed to start"
	fi
}

cmd_start() {
	check_libs
	ensure_reachable
	init_if_needed
	if is_running; then
		write_conf
		if [ "$(current_stamp)" != "$(cat "$STAMP" 2>/dev/null)" ]; then
			echo "cluster: flowent.so, pg_cron.so, postgres or the settings changed since the server started: restarting"
			as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
			start_server
		else
			echo "cluster: already running"
		fi
	else
		if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres; then
			die "another server already listens on 127.0.0.1:$PORT: set FLOWENT_PGPORT to a free port"
		fi
		write_conf
		start_server
	fi
	wait_ready
	ensure_database
	echo "cluster: ready on ${HOST}:${CPORT} (data $DATA, log $DATA/log/postgresql.log)"
}

cmd_stop() {
	if is_running; then
		as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
		echo "cluster: stopped"
	else
		echo "cluster: not running"
	fi
}

cmd_status() {
	if is_running; then
		client_target
		echo "cluster: running on ${HOST}:${CPORT} (data $DATA)"
	else
		echo "cluster: not running (data $DATA)"
		return 3
	fi
}

cmd_env() {
	client_target
	echo "export PGHOST=$HOST"
	echo "export PGPORT=$CPORT"
	echo "export PGUSER=postgres"
	echo "export PGDATABASE=flowent"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
restart) cmd_stop; cmd_start ;;
status) cmd_status ;;
env) cmd_env ;;
*)
	echo "usage: $0 {start|stop|restart|status|env}" >&2
	exit 2
	;;
esac
