# Sourced by test scripts that need a cluster of their own (crashes, special
# settings, a perturbed allocator): initdb into a temporary directory, its own
# port and socket, run by `postgres` when the test runs as root.  Needs
# fail(); sets TMP, DATA, SOCK, LOG, PGHOST/PGPORT/PGUSER; removes it all on
# exit.  PORT picks the port.
PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
PKGLIB=$("$PG_CONFIG" --pkglibdir)

[ -f "$PKGLIB/flowent.so" ] || fail "$PKGLIB/flowent.so is not installed: make && make install"
if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
	fail "port $PORT is taken: set another port"
fi
if [ "$(id -u)" -eq 0 ]; then
	as_owner() { (cd / && runuser -u postgres -- "$@"); }
	OWNER=postgres
else
	as_owner() { "$@"; }
	OWNER=$(id -un)
fi

TMP=$(mktemp -d /tmp/flowent_private.XXXXXX)
chmod 755 "$TMP"
DATA=$TMP/data
SOCK=$TMP/sock
LOG=$TMP/server.log
mkdir -p "$DATA" "$SOCK"
chown "$OWNER" "$DATA" "$SOCK"
chmod 700 "$DATA"
touch "$LOG"
chown "$OWNER" "$LOG"

# shellcheck disable=SC2317
private_cluster_cleanup() {
	[ -z "${KEEP:-}" ] || { echo "kept: $TMP"; return; }
	if [ -f "$DATA/postmaster.pid" ]; then
		as_owner "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$TMP"
}
trap private_cluster_cleanup EXIT

export PGHOST=$SOCK PGPORT=$PORT PGUSER=postgres
unset PGDATABASE

pgctl() { as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" "$@"; }
# start [VAR=value ...]: start the cluster with these in the server's environment
start() { as_owner env "$@" "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null || fail "the private cluster did not start"; }
stop() { pgctl -m fast -w stop >/dev/null; }

as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
	>"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; fail "initdb failed"; }
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
max_worker_processes = 16
include_if_exists = 'test.conf'
CONF
