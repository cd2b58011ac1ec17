-- Row-level security and privileges: who sees and changes what.
-- Users are roles (SET ROLE) here; the gateway's flowent.set_acting_user at the end.
\set VERBOSITY terse
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM,
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
END
$$;

-- Roles are cluster-wide: create them once, never drop them (other tests use them too).
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['alice', 'bob', 'carol', 'dave', 'flowent_test_analysts', 'flowent_test_gw'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			BEGIN
				EXECUTE format('CREATE ROLE %I NOLOGIN', r);
			EXCEPTION WHEN duplicate_object OR unique_violation THEN
				NULL;
			END;
		END IF;
	END LOOP;
END
$$;
GRANT flowent_test_analysts TO alice;
GRANT flowent_gateway TO flowent_test_gw;

-- Workspace "Team A": alice owner, bob admin, carol member; dave is outside.
INSERT INTO flowent.workspaces (id, name, created_by)
VALUES ('a0000000-0000-0000-0000-00000000000a', 'Team A', 'alice');
INSERT INTO flowent.workspace_members (workspace_id, user_id, role) VALUES
	('a0000000-0000-0000-0000-00000000000a', 'alice', 'owner'),
	('a0000000-0000-0000-0000-00000000000a', 'bob', 'admin'),
	('a0000000-0000-0000-0000-00000000000a', 'carol', 'member');

-- ---------------------------------------------------------------- alice's workflows
SET ROLE alice;
SELECT flowent.current_user_id();
SELECT flowent.create_workflow('rls-private', '[{"id": "t", "type": "trigger"}]', '[]') AS p \gset
SELECT flowent.create_workflow('rls-team', '[{"id": "t", "type": "trigger"}]', '[]',
	'{"visibility": "team", "workspaceId": "a0000000-0000-0000-0000-00000000000a"}') AS t \gset
SELECT flowent.create_workflow('rls-public', '[{"id": "t", "type": "trigger"}]', '[]',
	'{"visibility": "public"}') AS u \gset
SELECT flowent.create_workflow('rls-template', '[{"id": "t", "type": "trigger"}]', '[]',
	'{"visibility": "public", "isTemplate": true, "templateCategory": "automation", "tags": ["starter"]}') AS tpl \gset
SELECT flowent.create_workflow('rls-analysts', '[{"id": "t", "type": "trigger"}]', '[]',
	'{"runAs": "flowent_test_analysts"}') AS an \gset
SELECT name, user_id, run_as, visibility, workspace_id IS NOT NULL AS in_workspace
FROM flowent.workflows WHERE name LIKE 'rls-%' ORDER BY name;
-- runAs needs membership; a workspace needs membership
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('runAs postgres', $$SELECT flowent.create_workflow('rls-bad', '[]', '[]', '{"runAs": "postgres"}')$$),
	('runAs bob', $$SELECT flowent.update_workflow('$$ || :'p' || $$', '{"runAs": "bob"}')$$),
	('direct run_as', $$INSERT INTO flowent.workflows (name, user_id, run_as) VALUES ('rls-bad', 'alice', 'bob')$$),
	('direct run_as update', $$UPDATE flowent.workflows SET run_as = 'postgres' WHERE id = '$$ || :'p' || $$'$$),
	('direct user_id', $$INSERT INTO flowent.workflows (name, user_id) VALUES ('rls-bad', 'bob')$$),
	('read webhook secret', $$SELECT webhook_secret FROM flowent.workflows$$),
	('select star', $$SELECT * FROM flowent.workflows$$),
	('bump downloads', $$UPDATE flowent.workflows SET download_count = 99 WHERE id = '$$ || :'tpl' || $$'$$),
	('give away', $$UPDATE flowent.workflows SET user_id = 'bob' WHERE id = '$$ || :'p' || $$'$$)
) AS t(label, q);
RESET ROLE;

SET ROLE dave;
SELECT pg_temp.try($$SELECT flowent.create_workflow('rls-bad', '[]', '[]',
	'{"workspaceId": "a0000000-0000-0000-0000-00000000000a"}')$$);
SELECT pg_temp.try($$SELECT flowent.create_workflow('rls-bad', '[]', '[]', '{"runAs": "flowent_test_analysts"}')$$);
RESET ROLE;
SELECT count(*) AS bad FROM flowent.workflows WHERE name = 'rls-bad';

-- ---------------------------------------------------------------- who sees what
SET ROLE alice;
SELECT 'alice' AS who, string_agg(name, ', ' ORDER BY name) AS sees FROM flowent.workflows WHERE name LIKE 'rls-%';
SET ROLE bob;
SELECT 'bob' AS who, string_agg(name, ', ' ORDER BY name) AS sees FROM flowent.workflows WHERE name LIKE 'rls-%';
SELECT count(*) AS bob_versions FROM flowent.workflow_versions v JOIN flowent.workflows w ON w.id = v.workflow_id
WHERE w.name LIKE 'rls-%';
SET ROLE carol;
SELECT 'carol' AS who, string_agg(name, ', ' ORDER BY name) AS sees FROM flowent.workflows WHERE name LIKE 'rls-%';
SET ROLE dave;
SELECT 'dave' AS who, string_agg(name, ', ' ORDER BY name) AS sees FROM flowent.workflows WHERE name LIKE 'rls-%';
SELECT count(*) AS dave_versions FROM flowent.workflow_versions WHERE workflow_id IN (:'p', :'t', :'u', :'tpl');
SELECT flowent.can_see_workflow(:'p') AS sees_private, flowent.can_see_workflow(:'u') AS sees_public;
SELECT count(*) AS dave_workspaces FROM flowent.workspaces;
SELECT count(*) AS dave_memberships FROM flowent.workspace_members;
SET ROLE carol;
SELECT name FROM flowent.workspaces;
SELECT user_id, role FROM flowent.workspace_members ORDER BY user_id;
RESET ROLE;

-- ---------------------------------------------------------------- who changes what
-- bob is admin of the workspace: he may save alice's team workflow, but not
-- change the graph that runs as alice (he is not a member of role alice).
SET ROLE bob;
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('bob renames team', $$SELECT flowent.update_workflow('$$ || :'t' || $$', '{"name": "rls-team", "message": "by bob"}')$$),
	('bob edits team graph', $$SELECT flowent.update_workflow('$$ || :'t' || $$', '{"nodes": []}')$$),
	('bob sets team runAs', $$SELECT flowent.update_workflow('$$ || :'t' || $$', '{"runAs": "alice"}')$$),
	('bob deletes team', $$SELECT flowent.delete_workflow('$$ || :'t' || $$')$$),
	('bob publishes team', $$SELECT flowent.publish('$$ || :'t' || $$')$$),
	('bob updates public', $$SELECT flowent.update_workflow('$$ || :'u' || $$', '{"name": "x"}')$$),
	('bob updates private', $$SELECT flowent.update_workflow('$$ || :'p' || $$', '{"name": "x"}')$$),
	('bob deletes public', $$SELECT flowent.delete_workflow('$$ || :'u' || $$')$$),
	('bob diffs private', $$SELECT flowent.diff('$$ || :'p' || $$', 1, 1)$$),
	('bob version for public', $$INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges)
		VALUES ('$$ || :'u' || $$', 9, 'x', '[{"id": "t", "type": "trigger"}]', '[]')$$),
	('bob version for team', $$INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges)
		VALUES ('$$ || :'t' || $$', 9, 'x', '[{"id": "q", "type": "database-query"}]', '[]')$$),
	('bob writes execution', $$INSERT INTO flowent.workflow_executions (workflow_id, workflow_version, user_id)
		VALUES ('$$ || :'t' || $$', 1, 'bob')$$)
) AS t(label, q);
-- a direct UPDATE of a row the policy hides changes nothing
UPDATE flowent.workflows SET name = 'x' WHERE id = :'u';
RESET ROLE;
SET ROLE carol;
SELECT pg_temp.try($$SELECT flowent.update_workflow('$$ || :'t' || $$', '{"name": "x"}')$$) AS carol_updates_team;
SET ROLE dave;
SELECT pg_temp.try($$SELECT flowent.update_workflow('$$ || :'t' || $$', '{"name": "x"}')$$) AS dave_updates_team;
RESET ROLE;
SELECT name, version FROM flowent.workflows WHERE name LIKE 'rls-%' ORDER BY name;
SELECT version, message, created_by FROM flowent.workflow_versions WHERE workflow_id = :'t' ORDER BY version;

-- alice, member of flowent_test_analysts, edits the graph that runs as it; moves
-- her private workflow into the workspace
SET ROLE alice;
SELECT flowent.update_workflow(:'an', '{"nodes": [{"id": "t", "type": "trigger"}, {"id": "o", "type": "output"}]}');
SELECT flowent.update_workflow(:'p', '{"runAs": "flowent_test_analysts", "workspaceId": "a0000000-0000-0000-0000-00000000000a"}');
SELECT flowent.update_workflow(:'p', '{"workspaceId": null, "runAs": "alice"}');
SELECT name, run_as, workspace_id IS NULL AS no_workspace, visibility FROM flowent.workflows WHERE id = :'p';
RESET ROLE;

-- ---------------------------------------------------------------- executions, logs, approvals
INSERT INTO flowent.workflow_executions (id, workflow_id, workflow_version, user_id, status) VALUES
	('e0000000-0000-0000-0000-000000000001', :'p', 1, 'alice', 'success'),
	('e0000000-0000-0000-0000-000000000002', :'t', 1, 'carol', 'success'),
	('e0000000-0000-0000-0000-000000000003', :'p', 1, 'dave', 'suspended');
INSERT INTO flowent.workflow_node_logs (execution_id, workflow_id, node_id, node_type, seq) VALUES
	('e0000000-0000-0000-0000-000000000001', :'p', 't', 'trigger', 1),
	('e0000000-0000-0000-0000-000000000002', :'t', 't', 'trigger', 1),
	('e0000000-0000-0000-0000-000000000003', :'p', 't', 'trigger', 1);
INSERT INTO flowent.workflow_approval_requests (execution_id, workflow_id, node_id, title, assigned_user_id) VALUES
	('e0000000-0000-0000-0000-000000000001', :'p', 'a', 'for carol', 'carol'),
	('e0000000-0000-0000-0000-000000000003', :'p', 'a', 'for nobody', NULL);
SET ROLE alice;
SELECT 'alice' AS who,
	(SELECT string_agg(right(id::text, 1), ',' ORDER BY id) FROM flowent.workflow_executions
		WHERE id::text LIKE 'e0000000%') AS executions,
	(SELECT string_agg(right(execution_id::text, 1), ',' ORDER BY execution_id) FROM flowent.workflow_node_logs
		WHERE execution_id::text LIKE 'e0000000%') AS logs,
	(SELECT string_agg(title, ',' ORDER BY title) FROM flowent.workflow_approval_requests
		WHERE execution_id::text LIKE 'e0000000%') AS approvals;
SET ROLE carol;
SELECT 'carol' AS who,
	(SELECT string_agg(right(id::text, 1), ',' ORDER BY id) FROM flowent.workflow_executions
		WHERE id::text LIKE 'e0000000%') AS executions,
	(SELECT string_agg(right(execution_id::text, 1), ',' ORDER BY execution_id) FROM flowent.workflow_node_logs
		WHERE execution_id::text LIKE 'e0000000%') AS logs,
	(SELECT string_agg(title, ',' ORDER BY title) FROM flowent.workflow_approval_requests
		WHERE execution_id::text LIKE 'e0000000%') AS approvals;
SET ROLE dave;
SELECT 'dave' AS who,
	(SELECT string_agg(right(id::text, 1), ',' ORDER BY id) FROM flowent.workflow_executions
		WHERE id::text LIKE 'e0000000%') AS executions,
	(SELECT string_agg(right(execution_id::text, 1), ',' ORDER BY execution_id) FROM flowent.workflow_node_logs
		WHERE execution_id::text LIKE 'e0000000%') AS logs,
	(SELECT string_agg(title, ',' ORDER BY title) FROM flowent.workflow_approval_requests
		WHERE execution_id::text LIKE 'e0000000%') AS approvals;
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('update execution', $$UPDATE flowent.workflow_executions SET status = 'cancelled'$$),
	('delete node logs', $$DELETE FROM flowent.workflow_node_logs$$),
	('decide approval', $$UPDATE flowent.workflow_approval_requests SET status = 'approved'$$),
	('read run_queue', $$SELECT count(*) FROM flowent.run_queue$$),
	('read timers', $$SELECT count(*) FROM flowent.timers$$),
	('write workspace', $$INSERT INTO flowent.workspaces (name) VALUES ('mine')$$),
	('join workspace', $$INSERT INTO flowent.workspace_members (workspace_id, user_id)
		VALUES ('a0000000-0000-0000-0000-00000000000a', 'dave')$$),
	('write prices', $$INSERT INTO flowent.model_prices VALUES ('m', 1, 1)$$),
	('read prices', $$SELECT count(*) FROM flowent.model_prices$$),
	('read node types', $$SELECT count(*) FROM flowent.node_types$$)
) AS t(label, q);
RESET ROLE;

-- budgets: each user reads their own
INSERT INTO flowent.budgets (user_id, period, limit_usd) VALUES ('alice', 'month', 10), ('bob', 'month', 20);
SET ROLE alice;
SELECT user_id, period, limit_usd FROM flowent.budgets;
RESET ROLE;

-- ---------------------------------------------------------------- templates
SET ROLE bob;
SELECT flowent.clone_template(:'tpl') AS c1 \gset
SELECT flowent.clone_template(:'tpl', 'my copy') AS c2 \gset
SELECT name, user_id, run_as, status, visibility, is_template, tags, version, download_count
FROM flowent.workflows WHERE id IN (:'c1', :'c2') ORDER BY name;
SELECT v.version, replace(v.message, :'tpl', '<template>') AS message, v.created_by
FROM flowent.workflow_versions v WHERE v.workflow_id = :'c1';
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('clone non-template', $$SELECT flowent.clone_template('$$ || :'u' || $$')$$),
	('clone invisible', $$SELECT flowent.clone_template('$$ || :'p' || $$')$$),
	('clone unknown', $$SELECT flowent.clone_template('00000000-0000-0000-0000-000000000003')$$),
	('clone empty name', $$SELECT flowent.clone_template('$$ || :'tpl' || $$', '')$$),
	('count directly', $$SELECT flowent._count_template_download('$$ || :'p' || $$')$$)
) AS t(label, q);
RESET ROLE;
SELECT name, download_count FROM flowent.workflows WHERE id IN (:'tpl', :'p') ORDER BY name;

-- ---------------------------------------------------------------- credentials
SET ROLE alice;
SELECT flowent.set_credential('openai', '{"apiKey": "sk-alice"}') AS cred \gset
SELECT flowent.set_credential('openai', '"sk-alice-2"') = :'cred' AS same_id;
SELECT flowent.set_credential('smtp_pw', '"hunter2"') IS NOT NULL AS set;
SELECT name, updated_at >= created_at AS ok FROM flowent.list_credentials();
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('select credentials', $$SELECT name FROM flowent.credentials$$),
	('count credentials', $$SELECT count(*) FROM flowent.credentials$$),
	('insert credential', $$INSERT INTO flowent.credentials (name, secret) VALUES ('x', '1')$$),
	('bad name', $$SELECT flowent.set_credential('my key', '"x"')$$),
	('dotted name', $$SELECT flowent.set_credential('a.b', '"x"')$$),
	('null secret', $$SELECT flowent.set_credential('k', NULL)$$),
	('json null secret', $$SELECT flowent.set_credential('k', 'null')$$)
) AS t(label, q);
SET ROLE bob;
SELECT count(*) AS bob_credentials FROM flowent.list_credentials();
SELECT flowent.delete_credential('openai') AS bob_deletes_alices;
SELECT flowent.set_credential('openai', '"sk-bob"') IS NOT NULL AS bob_has_own;
SET ROLE alice;
SELECT flowent.delete_credential('smtp_pw') AS deleted, flowent.delete_credential('smtp_pw') AS again;
SELECT name FROM flowent.list_credentials();
RESET ROLE;
SELECT owner, name, secret FROM flowent.credentials ORDER BY owner, name;

-- ---------------------------------------------------------------- the gateway's user id
-- A member of flowent_gateway acts for the user it sets, until the transaction ends.
SET ROLE flowent_test_gw;
BEGIN;
SELECT flowent.set_acting_user('web:dave');
SELECT flowent.current_user_id();
SELECT flowent.create_workflow('rls-web', '[]', '[]') AS web \gset
SELECT name, user_id FROM flowent.workflows WHERE id = :'web';
SELECT flowent.set_credential('hubspot', '"tok"') IS NOT NULL AS set;
SELECT name FROM flowent.list_credentials();
COMMIT;
SELECT flowent.current_user_id() AS after_commit;
BEGIN;
SELECT flowent.set_acting_user('web:erin');
SELECT count(*) AS erin_sees FROM flowent.workflows WHERE id = :'web';
SELECT count(*) AS erin_credentials FROM flowent.list_credentials();
SELECT pg_temp.try($$SELECT flowent.update_workflow('$$ || :'web' || $$', '{"name": "x"}')$$) AS erin_updates;
ROLLBACK;
SELECT flowent.current_user_id() AS after_rollback;
RESET ROLE;
SELECT owner, name FROM flowent.credentials WHERE owner LIKE 'web:%';
-- nobody else may set it; flowent.user_id is no setting at all
SET SESSION AUTHORIZATION alice;
SELECT pg_temp.try($$SELECT flowent.set_acting_user('web:dave')$$) AS alice_sets;
SELECT pg_temp.try($$SET flowent.user_id = 'web:dave'$$) AS alice_sets_guc;
SELECT flowent.current_user_id();
SELECT count(*) AS alice_sees_web FROM flowent.workflows WHERE id = :'web';
SELECT name FROM flowent.list_credentials();
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------- delete
-- deleting a workflow takes its versions, executions, logs and approvals along,
-- although users may not delete those directly
SET ROLE alice;
SELECT flowent.delete_workflow(:'p') AS deleted;
RESET ROLE;
SELECT (SELECT count(*) FROM flowent.workflow_versions WHERE workflow_id = :'p') AS versions,
	(SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = :'p') AS executions,
	(SELECT count(*) FROM flowent.workflow_node_logs WHERE workflow_id = :'p') AS logs,
	(SELECT count(*) FROM flowent.workflow_approval_requests WHERE workflow_id = :'p') AS approvals;
