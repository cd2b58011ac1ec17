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
# field JSON PATH: the value at PATH (a Python subscript, e.g. "['output']['text']") as sorted
# JSON; sval JSON PATH: a string there as it is
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(eval('d' + sys.argv[2]), sort_keys=True))" "$1" "$2"; }
sval() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d' + sys.argv[2]))" "$1" "$2"; }
