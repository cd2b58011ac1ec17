#!/usr/bin/env bash
# The engine's caches under pressure, in a private cluster whose allocator
# overwrites freed memory (MALLOC_PERTURB_), so a use after free shows as a
# wrong result or a crash instead of passing by luck:
#   (a) 300 distinct workflows, each calling its own sub-workflow, in one
#       session (the workflow cache holds 256: it resets while a parent runs);
#   (b) the same 300 as asynchronous executions in the workers;
#   (c) node types registered while a run is using the registry;
#   (d) 5,000 distinct templates in one run (the template cache holds 4,096).
# Every result is checked, and the server must not have crashed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PORT=${FLOWENT_CACHE_PGPORT:-54362}
fail() {
	echo "cache_pressure: FAIL: $*" >&2
	[ -z "${LOG:-}" ] || [ ! -f "$LOG" ] || tail -n 20 "$LOG" >&2
	exit 1
}
ok() { echo "cache_pressure: ok: $*"; }
# shellcheck source=test/lib/private_cluster.sh
. test/lib/private_cluster.sh
echo "shared_preload_libraries = 'flowent'" >"$DATA/test.conf"
chown "$OWNER" "$DATA/test.conf"
start MALLOC_PERTURB_=165
DB=cache
q() { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
crashed() { grep -q "terminated by signal\|server process .* was terminated" "$LOG"; }

psql -X -q -d postgres -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION flowent;
CREATE TABLE pairs (i int PRIMARY KEY, parent uuid, child uuid);
INSERT INTO pairs (i, child)
SELECT i, flowent.create_workflow('child ' || i,
	jsonb_build_array(
		'{"id": "t", "type": "trigger", "data": {}}'::jsonb,
		jsonb_build_object('id', 'c' || i, 'type', 'set-variable',
			'data', jsonb_build_object('name', 'v' || i, 'value', '{{trigger.payload.n}}')),
		jsonb_build_object('id', 'o', 'type', 'output',
			'data', jsonb_build_object('value', jsonb_build_object('child', i, 'n', '{{variables.v' || i || '}}')))),
	jsonb_build_array(jsonb_build_object('id', 'e1', 'source', 't', 'target', 'c' || i),
		jsonb_build_object('id', 'e2', 'source', 'c' || i, 'target', 'o')))
FROM generate_series(1, 300) i;
UPDATE pairs SET parent = flowent.create_workflow('parent ' || i,
	jsonb_build_array(
		'{"id": "t", "type": "trigger", "data": {}}'::jsonb,
		jsonb_build_object('id', 's', 'type', 'sub-workflow',
			'data', jsonb_build_object('workflowId', child::text, 'payload', jsonb_build_object('n', '{{trigger.payload.n}}'))),
		jsonb_build_object('id', 'm', 'type', 'set-variable',
			'data', jsonb_build_object('name', 'parent_' || i, 'value', '{{s.n}}',
				-- bulk, so the parsed workflow outgrows its first memory block (freed memory
				-- of later blocks goes back to malloc, which MALLOC_PERTURB_ overwrites)
				'note', repeat('parent ' || i || ' ', 2000))),
		jsonb_build_object('id', 'x', 'type', 'data-transform',
			'data', jsonb_build_object('expression', 'jsonb_build_object(''twice'', 2 * ' || i || ', ''of'', ' || i || ')')),
		jsonb_build_object('id', 'o', 'type', 'output',
			'data', jsonb_build_object('value', jsonb_build_object('parent', i, 'child', '{{s.child}}', 'n', '{{variables.parent_' || i || '}}',
				'twice', '{{x.twice}}', 'of', '{{x.of}}')))),
	'[{"id": "e1", "source": "t", "target": "s"}, {"id": "e2", "source": "s", "target": "m"},
	  {"id": "e3", "source": "m", "target": "x"}, {"id": "e4", "source": "x", "target": "o"}]');
SQL

# ---- (a)
# one workflow first, so the cache is full when a sub-workflow (not its parent) is loaded
lone=$(q "SELECT flowent.create_workflow('lone', '[{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}}]', '[]')")
got=$(q "SELECT count(*) FILTER (WHERE r->>'status' = 'success' AND r->'output' = jsonb_build_object('parent', i, 'child', i, 'n', i * 7, 'twice', i * 2, 'of', i))
         FROM (SELECT i, flowent.run(parent, jsonb_build_object('n', i * 7)) r
               FROM (SELECT 0 AS i, '$lone'::uuid AS parent UNION ALL SELECT i, parent FROM pairs) p ORDER BY i) x WHERE i > 0")
crashed && fail "(a) the server crashed"
eq "(a) 300 parents with their sub-workflows in one session, right outputs" "$got" 300
# twice more: the cache is full and resets while runs use it
got=$(q "SELECT count(*) FILTER (WHERE r->'output' = jsonb_build_object('parent', i, 'child', i, 'n', i, 'twice', i * 2, 'of', i))
         FROM (SELECT i, flowent.run(parent, jsonb_build_object('n', i)) r FROM pairs, generate_series(1, 2) k ORDER BY k, i) x")
eq "(a) and again, twice" "$got" 600
ok "(a) 300 distinct workflows with sub-workflows in one session (a cache of 256): 900 right outputs"

# ---- (b)
q "SELECT flowent.execute(parent, jsonb_build_object('n', i)) FROM pairs" >/dev/null
for _ in $(seq 1 600); do
	[ "$(q "SELECT count(*) FROM flowent.workflow_executions WHERE mode = 'async' AND parent_execution_id IS NULL AND status IN ('pending', 'running', 'suspended')")" = 0 ] && break
	sleep 0.1
done
crashed && fail "(b) the server crashed"
eq "(b) 300 asynchronous parents, right outputs" \
	"$(q "SELECT count(*) FROM flowent.workflow_executions e JOIN pairs p ON p.parent = e.workflow_id
	      WHERE e.mode = 'async' AND e.status = 'success' AND e.output = jsonb_build_object('parent', p.i, 'child', p.i, 'n', p.i, 'twice', p.i * 2, 'of', p.i)")" 300
ok "(b) 300 asynchronous parents with sub-workflows in the workers: right outputs"

# ---- (c) a node registers node types, then a sub-workflow is loaded (the registry reloads)
# while the parent goes on with the infos it was built with
q "CREATE FUNCTION echo_node(inputs jsonb, context jsonb) RETURNS jsonb LANGUAGE sql AS \$\$ SELECT jsonb_build_object('output', inputs) \$\$"
wf=$(q "SELECT flowent.create_workflow('registers', jsonb_build_array(
	'{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}}'::jsonb,
	'{\"id\": \"r\", \"type\": \"database-query\", \"data\": {\"readOnly\": false, \"query\": \"SELECT flowent.register_node_type(''custom-'' || g, ''echo_node(jsonb,jsonb)''::regprocedure) FROM generate_series(1, 20) g\"}}'::jsonb,
	jsonb_build_object('id', 's', 'type', 'sub-workflow', 'data', jsonb_build_object('workflowId', (SELECT child FROM pairs WHERE i = 1)::text, 'payload', '{\"n\": 3}'::jsonb)),
	'{\"id\": \"a\", \"type\": \"set-variable\", \"data\": {\"name\": \"x\", \"value\": \"{{trigger.payload.k}}\"}}'::jsonb,
	'{\"id\": \"o\", \"type\": \"output\", \"data\": {\"value\": {\"k\": \"{{variables.x}}\", \"rows\": \"{{r.rowCount}}\", \"n\": \"{{s.n}}\"}}}'::jsonb),
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"r\"}, {\"id\": \"e2\", \"source\": \"r\", \"target\": \"s\"},
	  {\"id\": \"e3\", \"source\": \"s\", \"target\": \"a\"}, {\"id\": \"e4\", \"source\": \"a\", \"target\": \"o\"}]')")
eq "(c) a run that registers node types midway" "$(q "SELECT r->>'status' || '|' || (r->'output')::text FROM flowent.run('$wf', '{\"k\": 5}') r")" 'success|{"k": 5, "n": 3, "rows": 20}'
crashed && fail "(c) the server crashed"
ok "(c) node types registered during a run, a sub-workflow loaded after: the run goes on with the infos it had"

# ---- (d) more distinct templates in one run than the template cache holds
wf=$(q "SELECT flowent.create_workflow('templates', jsonb_build_array(
	'{\"id\": \"t\", \"type\": \"trigger\", \"data\": {}}'::jsonb,
	jsonb_build_object('id', 'o', 'type', 'output', 'data', jsonb_build_object('value',
		(SELECT jsonb_object_agg('k' || g, '{{trigger.payload.a}}-' || g) FROM generate_series(1, 5000) g)))),
	'[{\"id\": \"e1\", \"source\": \"t\", \"target\": \"o\"}]')")
eq "(d) 5,000 distinct templates in one node" \
	"$(q "SELECT count(*) FILTER (WHERE v = 'x-' || substr(k, 2)) FROM flowent.run('$wf', '{\"a\": \"x\"}') r, jsonb_each_text(r->'output') AS e(k, v)")" 5000
crashed && fail "(d) the server crashed"
ok "(d) 5,000 distinct templates in one run (a cache of 4,096): all resolved right"
