#!/usr/bin/env bash
# pg_dump keeps every workflow: build a database with two workflows (one with a second version)
# and an execution, dump it, restore the dump into a fresh database (CREATE EXTENSION comes from
# the dump), and compare the rows of the user tables.
# Needs PGHOST/PGPORT/PGUSER of a running cluster (scripts/test.sh provides them).
set -euo pipefail

SRC=flowent_dump_src_$$
DST=flowent_dump_dst_$$

fail() { echo "dump_restore: FAIL: $*" >&2; exit 1; }
psql_db() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
drop_dbs() {
	psql_db postgres -c "DROP DATABASE IF EXISTS $SRC WITH (FORCE)" -c "DROP DATABASE IF EXISTS $DST WITH (FORCE)" || true
}
trap drop_dbs EXIT

psql_db postgres -c "CREATE DATABASE $SRC TEMPLATE template0" -c "CREATE DATABASE $DST TEMPLATE template0"
psql_db "$SRC" -c "CREATE EXTENSION flowent"

# Two workflows: trigger -> output; the second one renamed by update_workflow (version 2).
# A run of the first one, with a payload whose numbers jsonb keeps exactly.
out=$(psql_db "$SRC" <<'SQL'
\set nodes '[{"id":"t","type":"trigger","position":{"x":0,"y":0},"data":{"label":"T"}},{"id":"o","type":"output","position":{"x":200,"y":0},"data":{"label":"O"}}]'
\set edges '[{"id":"e1","source":"t","target":"o"}]'
SELECT flowent.create_workflow('dump-a', :'nodes'::jsonb, :'edges'::jsonb) AS a \gset
SELECT flowent.create_workflow('dump-b', :'nodes'::jsonb, :'edges'::jsonb) AS b \gset
SELECT 'version=' || flowent.update_workflow(:'b', '{"name":"x"}');
SELECT 'run=' || (flowent.run(:'a', '{"n": 1.1, "big": 123456789012345678901234567890}')->>'status');
SQL
)
echo "$out"
grep -qx 'version=2' <<<"$out" || fail "update_workflow did not return version 2"
grep -qx 'run=success' <<<"$out" || fail "flowent.run of trigger -> output did not succeed"

# One line per table: name, row count, md5 of the rows as ordered JSON (the
# templates the extension ships included: a restore must have them once).
fingerprint() {
	psql_db "$1" <<'SQL'
SELECT 'templates ' || count(*) FROM flowent.workflows WHERE user_id = 'flowent';
SELECT 'workflows ' || count(*) || ' ' || md5(coalesce(json_agg(t ORDER BY t.id)::text, '[]'))
FROM flowent.workflows t;
SELECT 'workflow_versions ' || count(*) || ' ' || md5(coalesce(json_agg(t ORDER BY t.workflow_id, t.version)::text, '[]'))
FROM flowent.workflow_versions t;
SELECT 'workflow_executions ' || count(*) || ' ' || md5(coalesce(json_agg(t ORDER BY t.id)::text, '[]'))
FROM flowent.workflow_executions t;
SELECT 'workflow_node_logs ' || count(*) || ' ' || md5(coalesce(json_agg(t ORDER BY t.id)::text, '[]'))
FROM flowent.workflow_node_logs t;
SQL
}

before=$(fingerprint "$SRC")
echo "source:"
echo "$before"
templates=$(sed -n 's/^templates //p' <<<"$before")
[ "$templates" -gt 0 ] || fail "no templates in the source database"
grep -q "^workflows $((2 + templates)) " <<<"$before" || fail "expected 2 workflows and $templates templates in the source database"
grep -q "^workflow_versions $((3 + templates)) " <<<"$before" ||
	fail "expected 3 workflow versions (1 + 2) and one per template in the source database"
grep -q '^workflow_executions 1 ' <<<"$before" || fail "expected 1 execution in the source database"

pg_dump -d "$SRC" >"${TMPDIR:-/tmp}/$SRC.sql"
trap 'rm -f "${TMPDIR:-/tmp}/$SRC.sql"; drop_dbs' EXIT
grep -q 'CREATE EXTENSION IF NOT EXISTS flowent' "${TMPDIR:-/tmp}/$SRC.sql" || fail "the dump does not create the extension"
psql -X -q -v ON_ERROR_STOP=1 -d "$DST" -f "${TMPDIR:-/tmp}/$SRC.sql" >/dev/null || fail "restoring the dump failed"

after=$(fingerprint "$DST")
echo "restored:"
echo "$after"
if [ "$before" != "$after" ]; then
	diff <(echo "$before") <(echo "$after") >&2 || true
	fail "restored rows differ from the source (tables whose rows pg_dump does not keep are not registered with pg_extension_config_dump)"
fi

# The restored database works: the restored workflow runs again.
status=$(psql_db "$DST" -c "SELECT flowent.run(id)->>'status' FROM flowent.workflows WHERE name = 'dump-a'")
[ "$status" = success ] || fail "running the restored workflow gave status '$status'"

echo "dump_restore: OK"
