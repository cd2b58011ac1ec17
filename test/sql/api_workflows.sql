-- SQL API: create_workflow / update_workflow / versions / delete / publish.
-- Every misuse raises a SQLSTATE of Appendix B and writes nothing.
\set VERBOSITY terse
SET client_min_messages = warning;

-- 'SQLSTATE: message' of a failing statement (uuids masked), or 'ok'.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM,
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
END
$$;

-- ---------------------------------------------------------------- create
SELECT flowent.create_workflow('Order flow',
	'[{"id": "t", "type": "trigger", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
	  {"id": "o", "type": "output", "position": {"x": 200, "y": 0}, "data": {}}]',
	'[{"id": "e1", "source": "t", "target": "o"}]',
	'{"description": "orders", "tags": ["shop", "orders"], "message": "first draft",
	  "settings": {"retention": 7}, "complexity": "advanced"}') AS wf \gset
SELECT name, description, status, visibility, tags, version, user_id, run_as, is_template,
	complexity, settings, jsonb_array_length(nodes) AS nodes, jsonb_array_length(edges) AS edges,
	is_published, published_version, workspace_id
FROM flowent.workflows WHERE id = :'wf';
SELECT version, name, message, created_by, nodes = (SELECT nodes FROM flowent.workflows WHERE id = :'wf') AS same_nodes
FROM flowent.workflow_versions WHERE workflow_id = :'wf' ORDER BY version;

-- options: defaults and every key
SELECT flowent.create_workflow('Template A', '[]', '[]',
	'{"status": "active", "visibility": "public", "isTemplate": true, "templateCategory": "sales",
	  "runAs": "postgres", "description": null, "tags": []}') AS tpl \gset
SELECT name, status, visibility, is_template, template_category, run_as, description, tags, version
FROM flowent.workflows WHERE id = :'tpl';
SELECT message FROM flowent.workflow_versions WHERE workflow_id = :'tpl';

-- structural faults and bad options: 22023, 42501, 54000
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('null name', $$SELECT flowent.create_workflow(NULL, '[]', '[]')$$),
	('blank name', $$SELECT flowent.create_workflow('  ', '[]', '[]')$$),
	('long name', $$SELECT flowent.create_workflow(repeat('x', 256), '[]', '[]')$$),
	('nodes object', $$SELECT flowent.create_workflow('bad', '{}', '[]')$$),
	('nodes null', $$SELECT flowent.create_workflow('bad', NULL, '[]')$$),
	('node not object', $$SELECT flowent.create_workflow('bad', '[1]', '[]')$$),
	('node no id', $$SELECT flowent.create_workflow('bad', '[{"type": "trigger"}]', '[]')$$),
	('node id number', $$SELECT flowent.create_workflow('bad', '[{"id": 1, "type": "trigger"}]', '[]')$$),
	('nodes[3] no type', $$SELECT flowent.create_workflow('bad',
		'[{"id": "a", "type": "x"}, {"id": "b", "type": "x"}, {"id": "c", "type": "x"}, {"id": "d"}]', '[]')$$),
	('type null', $$SELECT flowent.create_workflow('bad', '[{"id": "a", "type": null}]', '[]')$$),
	('edges string', $$SELECT flowent.create_workflow('bad', '[]', '"e"')$$),
	('edge no source', $$SELECT flowent.create_workflow('bad', '[]', '[{"id": "e", "target": "b"}]')$$),
	('edge target null', $$SELECT flowent.create_workflow('bad', '[]',
		'[{"id": "e", "source": "a", "target": "b"}, {"id": "f", "source": "a", "target": null}]')$$),
	('edge id array', $$SELECT flowent.create_workflow('bad', '[]', '[{"id": [], "source": "a", "target": "b"}]')$$),
	('options array', $$SELECT flowent.create_workflow('bad', '[]', '[]', '[]')$$),
	('unknown option', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"colour": "red"}')$$),
	('bad status', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"status": "running"}')$$),
	('bad visibility', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"visibility": 1}')$$),
	('bad complexity', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"complexity": null}')$$),
	('bad category', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"templateCategory": "games"}')$$),
	('bad tags', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"tags": ["a", 1]}')$$),
	('bad settings', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"settings": []}')$$),
	('bad isTemplate', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"isTemplate": "yes"}')$$),
	('bad description', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"description": 5}')$$),
	('bad message', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"message": {}}')$$),
	('team, no workspace', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"visibility": "team"}')$$),
	('workspace not uuid', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"workspaceId": "ws-1"}')$$),
	('workspace unknown', $$SELECT flowent.create_workflow('bad', '[]', '[]',
		'{"workspaceId": "00000000-0000-0000-0000-000000000001"}')$$),
	('runAs missing role', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"runAs": "no_such_role_x"}')$$),
	('runAs number', $$SELECT flowent.create_workflow('bad', '[]', '[]', '{"runAs": 7}')$$)
) AS t(label, q);

-- flowent.max_nodes: one more node than allowed is 54000
SET flowent.max_nodes = 3;
SELECT pg_temp.try($$SELECT flowent.create_workflow('bad',
	'[{"id": "a", "type": "x"}, {"id": "b", "type": "x"}, {"id": "c", "type": "x"}, {"id": "d", "type": "x"}]', '[]')$$);
SELECT pg_temp.try($$SELECT flowent.update_workflow('$$ || :'wf' || $$',
	'{"nodes": [{"id": "a", "type": "x"}, {"id": "b", "type": "x"}, {"id": "c", "type": "x"}, {"id": "d", "type": "x"}]}')$$);
SELECT flowent.create_workflow('three nodes',
	'[{"id": "a", "type": "x"}, {"id": "b", "type": "x"}, {"id": "c", "type": "x"}]', '[]') IS NOT NULL AS created;
RESET flowent.max_nodes;

-- nothing was written by the failures
SELECT count(*) AS bad_workflows FROM flowent.workflows WHERE name = 'bad';
SELECT version FROM flowent.workflows WHERE id = :'wf';

-- ---------------------------------------------------------------- update
SELECT flowent.update_workflow(:'wf', '{"name": "Order flow v2", "expectedVersion": 1, "message": "rename"}');
SELECT flowent.update_workflow(:'wf', '{"nodes": [{"id": "t", "type": "trigger", "data": {}},
	{"id": "n", "type": "notify", "data": {"channel": "orders"}}, {"id": "o", "type": "output", "data": {}}],
	"edges": [{"id": "e1", "source": "t", "target": "n"}, {"id": "e2", "source": "n", "target": "o"}],
	"description": "with notify", "tags": ["shop"], "settings": {}}');
-- every successful call adds a version, whatever it changes
SELECT flowent.update_workflow(:'wf', '{}');
SELECT name, description, tags, settings, version, jsonb_array_length(nodes) AS nodes,
	jsonb_array_length(edges) AS edges, updated_at > created_at AS touched
FROM flowent.workflows WHERE id = :'wf';
SELECT version, name, message, created_by, jsonb_array_length(nodes) AS nodes, jsonb_array_length(edges) AS edges
FROM flowent.workflow_versions WHERE workflow_id = :'wf' ORDER BY version;

SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('stale save', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"name": "x", "expectedVersion": 1}')$$),
	('unknown key', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"nodes": [], "title": "x"}')$$),
	('changes array', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '[]')$$),
	('changes null', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', NULL)$$),
	('nodes object', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"nodes": {"id": "a"}}')$$),
	('nodes[1] type', $$SELECT flowent.update_workflow('$$ || :'wf' || $$',
		'{"nodes": [{"id": "a", "type": "x"}, {"id": "b", "type": false}]}')$$),
	('edges[0] target', $$SELECT flowent.update_workflow('$$ || :'wf' || $$',
		'{"edges": [{"id": "e", "source": "a"}]}')$$),
	('empty name', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"name": ""}')$$),
	('null name', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"name": null}')$$),
	('version string', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"expectedVersion": "4"}')$$),
	('version fraction', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"expectedVersion": 4.5}')$$),
	('bad status', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"status": "paused"}')$$),
	('team, no workspace', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"visibility": "team"}')$$),
	('runAs missing role', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"runAs": "no_such_role_x"}')$$),
	('runAs null', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"runAs": null}')$$),
	('workspace unknown', $$SELECT flowent.update_workflow('$$ || :'wf' || $$',
		'{"workspaceId": "00000000-0000-0000-0000-000000000001"}')$$),
	('not found', $$SELECT flowent.update_workflow('00000000-0000-0000-0000-000000000002', '{"name": "x"}')$$),
	('null id', $$SELECT flowent.update_workflow(NULL, '{"name": "x"}')$$)
) AS t(label, q);
-- none of them wrote anything
SELECT version, name FROM flowent.workflows WHERE id = :'wf';
SELECT count(*) AS versions FROM flowent.workflow_versions WHERE workflow_id = :'wf';

-- the right expectedVersion passes
SELECT flowent.update_workflow(:'wf', '{"expectedVersion": 4, "description": null}');
SELECT description IS NULL AS cleared FROM flowent.workflows WHERE id = :'wf';

-- archived: only a change of status away from archived is saved
SELECT flowent.update_workflow(:'wf', '{"status": "archived"}');
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('archived rename', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"name": "x"}')$$),
	('still archived', $$SELECT flowent.update_workflow('$$ || :'wf' || $$', '{"status": "archived"}')$$),
	('publish archived', $$SELECT flowent.publish('$$ || :'wf' || $$')$$)
) AS t(label, q);
SELECT flowent.update_workflow(:'wf', '{"status": "draft", "name": "Order flow v3"}');
SELECT version, name, status FROM flowent.workflows WHERE id = :'wf';

-- ---------------------------------------------------------------- publish
SELECT flowent.publish(:'wf') AS pub \gset
SELECT (:'pub'::jsonb) ->> 'workflowId' = :'wf' AS same_id,
	(:'pub'::jsonb) -> 'publishedVersion' AS published_version,
	(:'pub'::jsonb) ->> 'webhookPath' = '/api/hooks/' || :'wf' AS path_ok,
	(:'pub'::jsonb) ->> 'webhookSecret' ~ '^[0-9a-f]{64}$' AS secret_ok;
SELECT status, is_published, published_version, version, webhook_secret = (:'pub'::jsonb) ->> 'webhookSecret' AS stored
FROM flowent.workflows WHERE id = :'wf';
-- a later save does not move the published version; publishing again keeps the secret
SELECT flowent.update_workflow(:'wf', '{"message": "after publish"}');
SELECT published_version, version FROM flowent.workflows WHERE id = :'wf';
SELECT (flowent.publish(:'wf') ->> 'webhookSecret') = (:'pub'::jsonb) ->> 'webhookSecret' AS same_secret,
	(SELECT published_version FROM flowent.workflows WHERE id = :'wf') AS published_version;
-- a graph validate() refuses is not published (22023, errdetail: the validate() JSON)
SELECT flowent.create_workflow('no trigger', '[{"id": "o", "type": "output", "data": {}}]', '[]') AS bad \gset
SELECT left(pg_temp.try('SELECT flowent.publish(' || quote_literal(:'bad') || ')'), 5) AS sqlstate;
SELECT is_published, published_version, webhook_secret IS NULL AS no_secret FROM flowent.workflows WHERE id = :'bad';
SELECT pg_temp.try($$SELECT flowent.publish('00000000-0000-0000-0000-000000000002')$$);

-- ---------------------------------------------------------------- delete
SELECT flowent.delete_workflow(:'bad');
SELECT pg_temp.try('SELECT flowent.delete_workflow(' || quote_literal(:'bad') || ')');
SELECT count(*) AS versions_left FROM flowent.workflow_versions WHERE workflow_id = :'bad';
