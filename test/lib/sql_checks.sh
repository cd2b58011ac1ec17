# Sourced by test scripts: messages and psql checks against the running
# cluster.  Needs NAME (what the messages start with).

fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
ok() { echo "$NAME: ok: $*"; }
# q DB [psql args]: values unaligned; an error stops the script
q() { local db=$1; shift; psql -X -At -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# eq WHAT GOT EXPECTED
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
# err DB SQL: the error message of SQL, which must fail
err() {
	local out
	if out=$(psql -X -At -q -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1); then fail "expected an error from: $2 (got $out)"; fi
	sed -n 's/^psql:[^E]*ERROR:  //p; s/^ERROR:  //p' <<<"$out" | head -n 1
}
# poll DB SQL [SECONDS]: until SQL returns t; false at the deadline
poll() {
	local db=$1 sql=$2 secs=${3:-20} end
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ "$(q "$db" -c "$sql")" = t ] && return 0
		sleep 0.1
	done
	return 1
}
