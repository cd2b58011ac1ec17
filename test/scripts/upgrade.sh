#!/usr/bin/env bash
# Extension upgrades: every earlier release in sql/releases updates in place to
# the current one, ends with exactly the catalog of a fresh install, and keeps
# its workflows and executions working (a suspended one continues).
set -euo pipefail
OLD=flowent_upgrade_old
NEW=flowent_upgrade_new
fail() { echo "upgrade: FAIL: $*"; exit 1; }
cleanup() {
	for d in $OLD $NEW; do dropdb --if-exists "$d" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
[ -z "${KEEP:-}" ] || trap - EXIT
cleanup
q() { local db=$1; shift; psql -X -At -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$(dirname "$0")/../../flowent.control")

# Everything that defines the extension's objects, one line each, in a stable order.
# The day partitions of history (flowent.history_partitions) are the database's
# own tables, made for the days it has: they are checked after the update.
fingerprint() {
	q "$1" <<'SQL'
SELECT 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid)) || ' ' || coalesce(p.proacl::text, '')
FROM pg_proc p WHERE p.pronamespace = 'flowent'::regnamespace AND p.prokind IN ('f', 'p')
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	|| ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = 'flowent'::regnamespace AND c.relkind IN ('r', 'v', 'p') AND c.relname !~ '_[0-9]{8}$'
UNION ALL
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity || ' ' || coalesce(c.relacl::text, '')
FROM pg_class c WHERE c.relnamespace = 'flowent'::regnamespace AND c.relname !~ '_[0-9]{8}(_|$)'
UNION ALL
SELECT 'index ' || regexp_replace(indexdef, 'INDEX \S+ ON', 'INDEX ON') FROM pg_indexes WHERE schemaname = 'flowent'
	AND tablename !~ '_[0-9]{8}$'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'flowent'::regnamespace AND conrelid::regclass::text !~ '_[0-9]{8}$'
UNION ALL
SELECT 'policy ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
FROM pg_policies WHERE schemaname = 'flowent'
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = 'flowent'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'type ' || t.typname || ' ' || coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid), '')
FROM pg_type t WHERE t.typnamespace = 'flowent'::regnamespace AND t.typtype = 'e'
UNION ALL
SELECT 'config ' || c.relname || ' ' || coalesce(x.cond, '')
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond) JOIN pg_class c ON c.oid = x.cfg
WHERE e.extname = 'flowent'
ORDER BY 1
SQL
}

# every earlier release's install script: each updates to the current one (through the chain)
releases=0
for old_script in "$(pg_config --sharedir)"/extension/flowent--*.sql; do
	from=$(basename "$old_script" .sql)
	from=${from#flowent--}
	case "$from" in *--* | "$current") continue ;; esac
	releases=$((releases + 1))
	cleanup
	createdb $OLD
	createdb $NEW
	q $OLD -c "CREATE EXTENSION flowent VERSION '$from'"
	[ "$(q $OLD -c "SELECT extversion FROM pg_extension WHERE extname = 'flowent'")" = "$from" ] ||
		fail "could not install version $from"

	# History as the old release stored it: made by this build in $NEW (its
	# library runs only the current schema) and copied over in the old
	# columns: two runs waiting for approval. Only the rows pg_dump keeps
	# (the filters of pg_extension_config_dump) are user data: the templates
	# a fresh install ships come with the update itself.
	q $NEW -c "CREATE EXTENSION flowent"
	wf=$(q $NEW -c "SELECT flowent.create_workflow('up',
		'[{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}},
		  {\"id\":\"a\",\"type\":\"human-approval\",\"data\":{\"title\":\"ok?\"}},
		  {\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{trigger.payload.n}}\"}}]',
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"a\"},
		  {\"id\":\"e2\",\"source\":\"a\",\"sourceHandle\":\"approved\",\"target\":\"o\"}]')")
	waiting=$(q $NEW -c "SELECT flowent.run('$wf', '{\"n\": 12345678901234567890.5}')->>'executionId'")
	q $NEW -c "SELECT flowent.run('$wf', '{\"n\": 1}')" >/dev/null
	for t in workflows workflow_versions workflow_executions workflow_node_logs workflow_approval_requests; do
		cols=$(q $OLD -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
			WHERE attrelid = 'flowent.$t'::regclass AND attnum > 0 AND NOT attisdropped")
		filter=$(q $NEW -c "SELECT x.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond)
			WHERE e.extname = 'flowent' AND x.cfg = 'flowent.$t'::regclass")
		q $NEW -c "COPY (SELECT $cols FROM flowent.$t $filter) TO STDOUT" | q $OLD -c "COPY flowent.$t ($cols) FROM STDIN"
	done
	q $NEW -c "DROP EXTENSION flowent"

	q $OLD -c "ALTER EXTENSION flowent UPDATE TO '$current'"
	q $NEW -c "CREATE EXTENSION flowent"
	fingerprint $OLD >/tmp/flowent-upgrade.old
	fingerprint $NEW >/tmp/flowent-upgrade.new
	[ -s /tmp/flowent-upgrade.new ] || fail "no catalog read"
	if ! diff /tmp/flowent-upgrade.old /tmp/flowent-upgrade.new; then
		fail "$from updated to $current differs from a fresh $current install (above: < updated, > fresh)"
	fi
	echo "upgrade: ok: $from -> $current gives the catalog of a fresh install ($(wc -l </tmp/flowent-upgrade.new) objects compared)"
	# and the rows the extension ships: the builtin node types and the list prices
	shipped="SELECT md5(coalesce(string_agg(x, '' ORDER BY x), '')) FROM (
		SELECT to_jsonb(t)::text AS x FROM (SELECT type, category, label, description, handles, config_schema,
			cost_model FROM flowent.node_types WHERE builtin) t
		UNION ALL SELECT to_jsonb(p)::text FROM flowent.model_list_prices p) s"
	[ "$(q $OLD -c "$shipped")" = "$(q $NEW -c "$shipped")" ] ||
		fail "$from updated to $current: the builtin node types or list prices differ from a fresh install's"
	shipped="SELECT count(*) || ' ' || md5(coalesce(json_agg(w ORDER BY w.id)::text, '')) FROM flowent.workflows w WHERE w.user_id = 'flowent'"
	[ "$(q $OLD -c "$shipped")" = "$(q $NEW -c "$shipped")" ] ||
		fail "the templates of $from updated to $current differ from those of a fresh install"

	ctx=$(q $OLD -c "SELECT run_as, depth, root_execution_id = id FROM flowent.workflow_executions WHERE id = '$waiting'")
	[ "$ctx" = "postgres|0|t" ] || fail "the context of an execution from $from: $ctx"
	res=$(q $OLD -c "SELECT r->>'status', r->>'output' FROM flowent.approve('$waiting', true) r")
	[ "$res" = "success|12345678901234567890.5" ] || fail "the suspended execution from $from after the update: $res"
	[ "$(q $OLD -c "SELECT string_agg(status::text, ',' ORDER BY started_at) FROM flowent.workflow_executions WHERE workflow_id = '$wf'")" = success,suspended ] ||
		fail "executions from $from lost"
	echo "upgrade: ok: $from -> $current keeps executions; one suspended before the update finishes after it"
	# from before 0.9: the history moved into the partitions of its day, which are the
	# database's tables (later releases had that layout already)
	[ "$(printf '%s\n' "$from" 0.9 | sort -V | head -n 1)" = 0.9 ] && continue
	day=$(q $OLD -c "SELECT flowent._id_day('$waiting')")
	moved=$(q $OLD -c "SELECT (SELECT count(*) FROM flowent.workflow_executions_${day//-/} WHERE workflow_id = '$wf') || ' ' ||
		(SELECT count(*) FROM flowent.workflow_node_logs_${day//-/} l JOIN flowent.workflow_executions e ON e.id = l.execution_id
			WHERE e.workflow_id = '$wf') || ' ' ||
		(SELECT count(*) FROM flowent.workflow_executions_default) || ' ' ||
		(SELECT count(*) FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
			AND d.objid IN (SELECT executions FROM flowent.history_partitions UNION ALL SELECT node_logs FROM flowent.history_partitions))")
	[ "${moved%% *}" = 2 ] && [ "$(echo "$moved" | cut -d' ' -f3-)" = "0 0" ] && [ "$(echo "$moved" | cut -d' ' -f2)" -ge 4 ] ||
		fail "$from -> $current: the executions, node logs, rows left in the default partition, extension-owned day partitions: $moved"
	echo "upgrade: ok: $from -> $current moved its history into the day's partitions ($moved: executions, node logs, default, owned)"
done
[ "$releases" -gt 0 ] || fail "no earlier release is installed (sql/releases)"
echo "upgrade: all checks passed ($releases earlier releases)"
