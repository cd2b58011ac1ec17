# Sourced by the gateway's tests and benchmarks: gateway_db DB ROLE makes database DB afresh with
# the extension, and ROLE, a gateway login role (LOGIN, a member of flowent_gateway) that must
# not be a superuser, so row-level security applies to it. Needs the cluster's PG* variables.
gateway_db() {
	local db=$1 role=$2
	dropdb --if-exists --force "$db" >/dev/null 2>&1 || true
	createdb "$db"
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION flowent;
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
		CREATE ROLE $role LOGIN IN ROLE flowent_gateway;
	END IF;
END \$\$;
SQL
	if [ "$(psql -X -At -d "$db" -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$role'")" != f ]; then
		echo "$role must not be a superuser" >&2
		return 1
	fi
}
