-- The SQL side of the HTTP gateway (08_gateway.sql), called as the gateway
-- calls it: a login role that is a member of flowent_gateway and owns
-- nothing logs in with a user's API token (flowent.gateway_login) and then
-- calls the route's function in the same transaction. Users alice, bob and
-- carol are end users of the gateway, not roles. Each function shows each
-- user only what they may see, and refuses bad tokens and bad input with
-- the SQLSTATE the gateway turns into an HTTP status.
BEGIN;
SELECT plan(225);

CREATE ROLE gw_test LOGIN IN ROLE flowent_gateway;
CREATE ROLE gw_outsider LOGIN;

-- {code, message, detail} of a failing statement, else {ok: true}
CREATE FUNCTION pg_temp.err(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	m text;
	d text;
BEGIN
	EXECUTE q;
	RETURN '{"ok": true}';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
	RETURN jsonb_build_object('code', SQLSTATE, 'message', m, 'detail', nullif(d, ''));
END
$$;
-- the ids of the pipelines of a list, in order
CREATE FUNCTION pg_temp.names(r jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(p ->> 'name', ',' ORDER BY o) FROM jsonb_array_elements(r -> 'pipelines') WITH ORDINALITY t(p, o)
$$;
CREATE FUNCTION pg_temp.gwt() RETURNS jsonb LANGUAGE sql AS $$
	SELECT flowent.api_list_pipelines('{"search": "GWT-"}')
$$;

-- ---------------------------------------------------------------- tokens (as superuser)
SELECT flowent.create_api_token('alice', 'laptop') AS ta \gset
SELECT flowent.create_api_token('bob') AS tb \gset
SELECT flowent.create_api_token('carol', 'ci', '1 day') AS tc \gset
SELECT flowent.create_api_token('alice', 'old', '1 hour') AS texp \gset
SELECT flowent.create_api_token('alice', 'gone') AS trev \gset
SELECT flowent.create_api_token('dave') AS td \gset
SELECT flowent.create_api_token('erin') AS te \gset
UPDATE flowent.api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'old';

SELECT ok(:'ta' ~ '^flw_[0-9a-f]{64}$' AND :'tb' ~ '^flw_[0-9a-f]{64}$' AND :'ta' <> :'tb',
	'create_api_token returns flw_ and 64 hex digits, a new one each time');
SELECT is((SELECT count(*) FROM flowent.api_tokens WHERE token_hash = sha256(convert_to(:'ta', 'UTF8'))), 1::bigint,
	'only the sha256 of the token is stored');
SELECT is((SELECT count(*) FROM flowent.api_tokens t WHERE position(convert_to(:'ta', 'UTF8') IN t.token_hash) > 0
	OR row_to_json(t)::text LIKE '%' || substr(:'ta', 5) || '%'), 0::bigint, 'the plaintext is stored nowhere');
SELECT is((SELECT expires_at > now() + interval '23 hours' FROM flowent.api_tokens WHERE name = 'ci'), true,
	'expires_in sets expires_at');
SELECT is(pg_temp.err($$SELECT flowent.create_api_token('', 'x')$$) ->> 'code', '22023', 'user_id empty: 22023');
SELECT is(pg_temp.err($$SELECT flowent.create_api_token(repeat('u', 201), 'x')$$),
	'{"code": "22023", "message": "user_id must be 1 to 200 characters, got 201 characters", "detail": null}',
	'user_id of 201 characters: 22023 naming the field');
SELECT is(pg_temp.err($$SELECT flowent.create_api_token(NULL)$$) ->> 'code', '22023', 'user_id null: 22023');
SELECT is(pg_temp.err($$SELECT flowent.create_api_token('alice', '')$$) ->> 'message', 'name must be a non-empty string',
	'empty name: 22023');
SELECT flowent.create_api_token('zed', NULL) AS tz \gset
SELECT is((SELECT name FROM flowent.api_tokens WHERE token_hash = flowent._token_hash(:'tz')), 'default',
	'name NULL is ''default''');
SELECT is(pg_temp.err($$SELECT flowent.create_api_token('alice', 'x', '-1 hour')$$) ->> 'code', '22023',
	'a negative expires_in: 22023');
SELECT is((SELECT count(*) FROM flowent.my_api_tokens), 0::bigint, 'my_api_tokens: the superuser has no tokens');

-- ---------------------------------------------------------------- who may touch tokens
SET SESSION AUTHORIZATION gw_outsider;
SELECT throws_ok(format('SELECT flowent.gateway_login(%L)', :'ta'), '42501', NULL,
	'gateway_login: only for flowent_gateway');
SELECT throws_ok(format('SELECT flowent.gateway_webhook_secret(%L)', gen_random_uuid()), '42501', NULL,
	'gateway_webhook_secret: only for flowent_gateway');
SELECT throws_ok(format('SELECT * FROM flowent.gateway_webhook_deliver(ARRAY[%L]::uuid[], ARRAY[''s''], ARRAY[''{}''], ARRAY[true], ARRAY[''x''])',
	gen_random_uuid()), '42501', NULL, 'gateway_webhook_deliver: only for flowent_gateway');
SELECT throws_ok('SELECT flowent.create_api_token(''alice'')', '42501', NULL,
	'create_api_token: nobody creates a token for another user');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION gw_test;
SELECT throws_ok('SELECT token_hash FROM flowent.api_tokens', '42501', NULL, 'the gateway cannot read token hashes');
SELECT throws_ok('SELECT count(*) FROM flowent.api_tokens', '42501', NULL, 'nor the token table at all');
SELECT throws_ok('SELECT count(*) FROM flowent.webhook_deliveries', '42501', NULL, 'nor the webhook deliveries');
SELECT throws_ok('SELECT token_hash FROM flowent.my_api_tokens', '42703', NULL, 'my_api_tokens has no hash');

-- ---------------------------------------------------------------- gateway_login
SELECT throws_ok(format('SELECT flowent.gateway_login(%L)', 'flw_' || repeat('0', 64)), '28000', 'invalid API token',
	'an unknown token: 28000 "invalid API token"');
SELECT throws_ok('SELECT flowent.gateway_login(''Bearer abc'')', '28000', 'invalid API token',
	'a malformed token: 28000, not echoed');
SELECT throws_ok('SELECT flowent.gateway_login(NULL)', '28000', 'invalid API token', 'no token: 28000');
SELECT throws_ok(format('SELECT flowent.gateway_login(%L)', :'texp'), '28000', 'API token expired',
	'an expired token: 28000 "API token expired"');
SELECT is(flowent.gateway_login(:'ta'), 'alice', 'gateway_login returns the token''s user');
SELECT is(flowent.current_user_id(), 'alice', '... who is the acting user now');
SELECT is((SELECT array_agg(name ORDER BY name) FROM flowent.my_api_tokens), '{gone,laptop,old}'::text[],
	'my_api_tokens: alice sees her own tokens');
SELECT is((SELECT active FROM flowent.my_api_tokens WHERE name = 'old'), false, '... the expired one inactive');
SELECT is(flowent.revoke_api_token(:'trev'), true, 'alice revokes her token by its text');
SELECT is(flowent.revoke_api_token(:'trev'), true, '... again: still matched');
SELECT throws_ok(format('SELECT flowent.gateway_login(%L)', :'trev'), '28000', 'API token revoked',
	'a revoked token: 28000 "API token revoked"');
SELECT is(flowent.revoke_api_token('flw_' || repeat('1', 64)), false, 'revoke_api_token: false when none matched');
SELECT is(pg_temp.err(format('SELECT flowent.revoke_api_token(%L)', 'secret-ish ' || :'ta')),
	'{"code": "22023", "message": "token must be an API token (\"flw_\" and 64 hex digits) or the id of one (a UUID)", "detail": null}',
	'revoke_api_token: something else is 22023, without echoing it');
SELECT throws_ok('SELECT flowent.revoke_api_token(NULL)', '22023', NULL, 'revoke_api_token(NULL): 22023');
SELECT isnt(flowent.create_api_token('alice', 'second'), NULL, 'alice creates a token for herself');
SELECT throws_ok('SELECT flowent.create_api_token(''bob'')', '42501', NULL, '... but not for bob');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT last_used_at = now() FROM flowent.api_tokens WHERE name = 'laptop'), true,
	'gateway_login wrote last_used_at');
UPDATE flowent.api_tokens SET last_used_at = now() - interval '30 seconds' WHERE name = 'laptop';
SET SESSION AUTHORIZATION gw_test;
SELECT flowent.gateway_login(:'ta') \g /dev/null
RESET SESSION AUTHORIZATION;
SELECT is((SELECT last_used_at = now() - interval '30 seconds' FROM flowent.api_tokens WHERE name = 'laptop'), true,
	'... but not again within a minute');
UPDATE flowent.api_tokens SET last_used_at = now() - interval '2 minutes' WHERE name = 'laptop';
SET SESSION AUTHORIZATION gw_test;
SELECT flowent.gateway_login(:'ta') \g /dev/null
RESET SESSION AUTHORIZATION;
SELECT is((SELECT last_used_at = now() FROM flowent.api_tokens WHERE name = 'laptop'), true,
	'... and again after a minute');
SELECT id AS alice_token_id FROM flowent.api_tokens WHERE name = 'laptop' \gset
SET SESSION AUTHORIZATION gw_test;
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT throws_ok(format('SELECT flowent.revoke_api_token(%L)', :'alice_token_id'), '42501', NULL,
	'bob may not revoke alice''s token (by id)');
SELECT is((SELECT count(*) FROM flowent.my_api_tokens), 1::bigint, 'bob sees only his own token');

-- ---------------------------------------------------------------- workspaces
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT flowent.api_create_workspace('GWT team') ->> 'id' AS ws \gset
SELECT is(flowent.api_workspace(:'ws') - 'id' - 'createdAt' - 'members',
	'{"name": "GWT team", "role": "owner", "createdBy": "alice", "memberCount": 1}',
	'api_create_workspace: a workspace of alice''s');
SELECT is((flowent.api_workspace(:'ws') #> '{members,0}') - 'addedAt', '{"userId": "alice", "role": "owner"}',
	'... who is its owner');
SELECT is(jsonb_path_query_array(flowent.api_add_member(:'ws', 'bob', 'editor'), '$.members[*].role'),
	'["owner", "editor"]', 'alice adds bob as editor');
SELECT is(jsonb_path_query_array(flowent.api_add_member(:'ws', 'carol', 'viewer'), '$.members[*].userId'),
	'["alice", "bob", "carol"]', 'alice adds carol as viewer');
SELECT is(pg_temp.err(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', 'dave', 'boss')),
	'{"code": "22023", "message": "role must be one of owner, admin, editor, member, viewer, got \"boss\"", "detail": null}',
	'an unknown role: 22023 naming the roles');
SELECT throws_ok(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', '', 'member'), '22023', NULL,
	'an empty user id: 22023');
SELECT throws_ok(format('SELECT flowent.api_add_member(%L, %L, NULL)', :'ws', 'bob'), '22023',
	'role must be one of owner, admin, editor, member, viewer, got null', 'no role (a body without it): 22023');
SELECT throws_ok('SELECT flowent.api_create_workspace(NULL)', '22023', 'name must be a non-empty string',
	'a workspace without a name: 22023');
SELECT is(pg_temp.err(format('SELECT flowent.api_remove_member(%L, %L)', :'ws', 'alice')) ->> 'code', '55000',
	'the last owner cannot leave: 55000');
SELECT is(flowent.api_workspaces() #> '{workspaces}',
	jsonb_build_array(flowent.api_workspace(:'ws') - 'members'), 'api_workspaces lists alice''s workspace');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(flowent.api_workspaces() #>> '{workspaces,0,role}', 'editor', 'bob sees his role');
SELECT is((flowent.api_workspaces() #>> '{workspaces,0,memberCount}')::int, 3, '... and the member count');
SELECT throws_ok(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', 'dave', 'member'), '42501', NULL,
	'an editor may not change members');
SELECT throws_ok(format('SELECT flowent.api_remove_member(%L, %L)', :'ws', 'carol'), '42501', NULL,
	'... nor remove them');
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT lives_ok(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', 'dave', 'admin'), 'alice adds dave as admin');
SELECT flowent.gateway_login(:'tc') \g /dev/null
SELECT throws_ok(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', 'erin', 'member'), '42501', NULL,
	'a viewer may not change members');
SELECT flowent.gateway_login(:'td') \g /dev/null
SELECT lives_ok(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', 'erin', 'member'), 'an admin adds a member');
SELECT throws_ok(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', 'dave', 'owner'), '42501',
	format('workspace %s: only an owner may add, change or remove an owner', :'ws'), '... but makes nobody owner');
SELECT throws_ok(format('SELECT flowent.api_remove_member(%L, %L)', :'ws', 'alice'), '42501', NULL,
	'... nor removes an owner');
SELECT is(flowent.api_remove_member(:'ws', 'erin'), jsonb_build_object('success', true, 'workspaceId', :'ws',
	'userId', 'erin', 'removed', true), 'an admin removes a member');
SELECT is(flowent.api_remove_member(:'ws', 'erin') ->> 'removed', 'false', '... who is gone then');
SELECT flowent.gateway_login(:'te') \g /dev/null
SELECT throws_ok(format('SELECT flowent.api_workspace(%L)', :'ws'), '42704', format('workspace %s not found', :'ws'),
	'an outsider does not see the workspace: 42704');
SELECT throws_ok(format('SELECT flowent.api_add_member(%L, %L, %L)', :'ws', 'erin', 'owner'), '42704', NULL,
	'... nor joins it');
SELECT is(flowent.api_workspaces(), '{"workspaces": []}', '... and has no workspaces');

-- ---------------------------------------------------------------- pipelines
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT flowent.api_create_pipeline('{"name": "GWT-private", "description": "alice only",
	"nodes": [{"id": "t", "type": "trigger", "data": {"triggerType": "webhook"}},
	          {"id": "s", "type": "set-variable", "data": {"name": "v", "value": 1}},
	          {"id": "o", "type": "output", "data": {"value": "{{trigger.payload}}"}}],
	"edges": [{"id": "e1", "source": "t", "target": "s"}, {"id": "e2", "source": "s", "target": "o"}],
	"tags": ["gw"]}') AS created \gset
SELECT :'created'::jsonb ->> 'id' AS p_priv \gset
SELECT is(:'created'::jsonb - 'id' - 'created_at' - 'updated_at' - 'runAs' - 'webhook' - 'nodes' - 'edges',
	'{"name": "GWT-private", "description": "alice only", "is_active": false, "status": "draft",
	  "trigger_type": "webhook", "visibility": "private", "version": 1, "published_version": 0,
	  "latest_execution": null, "execution_count": 0, "successful_count": 0, "failed_count": 0,
	  "tags": ["gw"], "workspace_id": null, "executions": []}',
	'api_create_pipeline returns the pipeline (seed §9.1 keys) with its details');
SELECT is(:'created'::jsonb -> 'webhook', jsonb_build_object('published', false, 'url', '/api/hooks/' || :'p_priv'),
	'... webhook info without a secret');
SELECT is(:'created'::jsonb ->> 'runAs', 'gw_test', '... runAs is the gateway''s role');
SELECT flowent.api_create_pipeline(jsonb_build_object('name', 'GWT-team', 'visibility', 'team', 'workspaceId', :'ws',
	'nodes', '[{"id": "t", "type": "trigger"}, {"id": "a", "type": "human-approval", "data": {"title": "ok?"}}]'::jsonb,
	'edges', '[{"id": "e1", "source": "t", "target": "a"}]'::jsonb)) ->> 'id' AS p_team \gset
SELECT flowent.api_create_pipeline('{"name": "GWT-fails", "nodes": [{"id": "t", "type": "trigger"},
	{"id": "x", "type": "stop-error", "data": {"message": "no"}}], "edges": [{"id": "e", "source": "t", "target": "x"}]}')
	->> 'id' AS p_fail \gset
SELECT is(pg_temp.err($$SELECT flowent.api_create_pipeline('{"name": 5}')$$),
	'{"code": "22023", "message": "name must be a string, got number", "detail": null}', 'create: name not a string: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_create_pipeline('{"name": "x", "nodes": {}}')$$),
	'{"code": "22023", "message": "nodes must be a JSON array of objects, got object", "detail": null}',
	'create: nodes not an array: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_create_pipeline('{"name": "x", "visibility": "everyone"}')$$) ->> 'message',
	'options.visibility must be one of private, team, public, got "everyone"', 'create: a bad visibility: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_create_pipeline('{"name": "x", "colour": "red"}')$$) ->> 'code', '22023',
	'create: an unknown key: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_create_pipeline('[]')$$) ->> 'message', 'body must be a JSON object, got array',
	'create: a body that is no object: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_create_pipeline(NULL)$$) ->> 'code', '22023', 'create: no body: 22023');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT flowent.api_create_pipeline('{"name": "GWT-bob", "nodes": [{"id": "t", "type": "trigger"}], "edges": []}')
	->> 'id' AS p_bob \gset
-- saved one after the other (one transaction here: now() would tie them)
RESET SESSION AUTHORIZATION;
UPDATE flowent.workflows SET updated_at = now() - interval '1 minute' * CASE name
	WHEN 'GWT-private' THEN 4 WHEN 'GWT-team' THEN 3 WHEN 'GWT-fails' THEN 2 ELSE 1 END WHERE name LIKE 'GWT-%';
SET SESSION AUTHORIZATION gw_test;

-- who sees what
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is(pg_temp.names(pg_temp.gwt()), 'GWT-fails,GWT-team,GWT-private', 'alice lists her pipelines, newest first');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(pg_temp.names(pg_temp.gwt()), 'GWT-bob,GWT-team', 'bob lists his and the team''s, not alice''s private one');
SELECT throws_ok(format('SELECT flowent.api_get_pipeline(%L)', :'p_priv'), '42704',
	format('workflow %s not found', :'p_priv'), 'bob: alice''s private pipeline is not found (42704)');
SELECT is(flowent.api_get_pipeline(:'p_team') ->> 'name', 'GWT-team', 'bob gets the team pipeline');
SELECT flowent.gateway_login(:'te') \g /dev/null
SELECT is(pg_temp.gwt(), '{"pipelines": [], "meta": {"total": 0, "running": 0, "limit": 50, "offset": 0}}',
	'an outsider lists nothing');

-- list parameters
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is(pg_temp.names(flowent.api_list_pipelines('{"search": "gwt-", "limit": 2}')), 'GWT-fails,GWT-team',
	'limit; search is case-insensitive');
SELECT is(flowent.api_list_pipelines('{"search": "gwt-", "limit": "2", "offset": "2"}') -> 'meta',
	'{"total": 3, "running": 0, "limit": 2, "offset": 2}', 'limit and offset as strings (query strings); meta');
SELECT is(pg_temp.names(flowent.api_list_pipelines('{"search": "ALICE ONLY"}')), 'GWT-private',
	'search matches the description');
SELECT is(pg_temp.names(flowent.api_list_pipelines('{"search": "GWT-", "status": "active"}')), NULL,
	'status filters');
SELECT is(pg_temp.err($$SELECT flowent.api_list_pipelines('{"limit": 0}')$$),
	'{"code": "22023", "message": "params.limit must be an integer from 1 to 200, got 0", "detail": null}',
	'limit 0: 22023 naming the field');
SELECT is(pg_temp.err($$SELECT flowent.api_list_pipelines('{"limit": 201}')$$) ->> 'code', '22023', 'limit 201: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_list_pipelines('{"limit": true}')$$) ->> 'message',
	'params.limit must be an integer from 1 to 200, got true', 'limit true: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_list_pipelines('{"offset": -1}')$$) ->> 'code', '22023', 'offset -1: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_list_pipelines('{"status": "paused"}')$$) ->> 'message',
	'params.status must be one of draft, active, archived, got "paused"', 'a bad status: 22023 naming it');
SELECT is(pg_temp.err($$SELECT flowent.api_list_pipelines('{"search": 5}')$$) ->> 'message',
	'params.search must be a string, got number', 'search not a string: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_list_pipelines('{"sort": "name"}')$$) ->> 'code', '22023',
	'an unknown parameter: 22023');

-- runs and statistics
SELECT is(flowent.api_execute(:'p_priv', '{"payload": {"n": 1}, "mode": "sync"}') - 'executionId' - 'durationMs',
	jsonb_build_object('success', true, 'status', 'success', 'output', '{"n": 1}'::jsonb, 'error', NULL,
		'workflowId', :'p_priv', 'totalCost', 0, 'totalTokens', 0, 'waiting', '[]'::jsonb),
	'api_execute sync: the result of flowent.run with success');
SELECT flowent.api_execute(:'p_priv', '{"payload": {"n": 2}, "mode": "sync", "variables": {"v0": 1}}') ->> 'executionId' AS run2 \gset
SELECT flowent.api_execute(:'p_fail', '{"mode": "sync"}') AS failed \gset
SELECT is((:'failed'::jsonb ->> 'success')::boolean, false, 'a failed sync run: success false');
SELECT flowent.api_execute(:'p_priv') AS queued \gset
SELECT is(:'queued'::jsonb - 'executionId', '{"success": true, "status": "pending"}', 'api_execute async: pending');
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE id = (:'queued'::jsonb ->> 'executionId')::uuid
	AND mode = 'async'), 1::bigint, '... queued as an async execution');
SELECT is(pg_temp.err(format('SELECT flowent.api_execute(%L, %L)', :'p_priv', '{"mode": "fast"}')) ->> 'message',
	'body.mode must be "sync" or "async", got "fast"', 'api_execute: a bad mode is 22023');
SELECT is(pg_temp.err(format('SELECT flowent.api_execute(%L, %L)', :'p_priv', '{"variables": 5}')),
	'{"code": "22023", "message": "options.variables must be an object, got 5", "detail": null}',
	'api_execute: variables not an object is 22023 naming it');
SELECT is(pg_temp.err(format('SELECT flowent.api_execute(%L, %L)', :'p_priv', '{"skipBudgetCheck": "yes"}')) ->> 'code',
	'22023', 'api_execute: skipBudgetCheck not a boolean is 22023');
SELECT is(pg_temp.err(format('SELECT flowent.api_execute(%L, %L)', :'p_priv', '{"triggerType": "webhook"}')) ->> 'code',
	'22023', 'api_execute: no trigger type from outside');
SELECT is(pg_temp.err(format('SELECT flowent.api_execute(%L, %L)', :'p_priv', '[1]')) ->> 'message',
	'body must be a JSON object, got array', 'api_execute: the body must be an object');
SELECT p AS listed FROM jsonb_array_elements(flowent.api_list_pipelines('{"search": "GWT-private"}') -> 'pipelines') p \gset
SELECT is(:'listed'::jsonb - 'latest_execution' - 'created_at' - 'updated_at',
	jsonb_build_object('id', :'p_priv', 'name', 'GWT-private', 'description', 'alice only', 'is_active', false,
		'status', 'draft', 'trigger_type', 'webhook', 'visibility', 'private', 'version', 1, 'published_version', 0,
		'execution_count', 3, 'successful_count', 2, 'failed_count', 0),
	'the list counts the executions');
SELECT is((:'listed'::jsonb -> 'latest_execution') - 'started_at',
	jsonb_build_object('id', :'queued'::jsonb ->> 'executionId', 'status', 'pending', 'completed_at', NULL,
		'current_step', 0, 'total_steps', 3), '... and shows the latest one');
SELECT is(flowent.api_get_pipeline(:'p_fail') -> 'latest_execution' ->> 'current_step', '2',
	'current_step counts the nodes that finished');
SELECT is(flowent.api_get_pipeline(:'p_fail') #>> '{executions,0,error_code}', 'STOP_ERROR',
	'api_get_pipeline lists the executions with their errors');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(flowent.api_get_pipeline(:'p_fail') #> '{executions,0}') k),
	'{completed_at,duration_ms,error,error_code,error_node_id,id,started_at,status,total_cost,total_tokens,trigger_type}',
	'... with the keys of an execution summary');
SELECT is(flowent.api_list_pipelines('{"search": "GWT-fails"}') #>> '{pipelines,0,failed_count}', '1',
	'failed runs are counted');
SELECT is(flowent.api_list_pipelines('{"search": "GWT-"}') #>> '{meta,running}', '1', 'meta.running: the queued run');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(flowent.api_list_pipelines('{"search": "GWT-"}') #>> '{meta,running}', '0', '... which bob does not see');
SELECT is(pg_temp.err(format('SELECT flowent.api_execute(%L)', :'p_priv')) ->> 'code', '42704',
	'bob cannot run alice''s private pipeline: 42704');

-- logs and context
SELECT throws_ok(format('SELECT flowent.api_execution_logs(%L)', :'run2'), '42704',
	format('execution %s not found', :'run2'), 'bob: the logs of alice''s run are not found');
SELECT throws_ok(format('SELECT flowent.api_execution_context(%L)', :'run2'), '42704', NULL,
	'bob: nor its context');
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT flowent.api_execution_logs(:'run2') AS logs \gset
SELECT is(jsonb_path_query_array(:'logs'::jsonb, '$.logs[*].nodeId'), '["t", "s", "o"]', 'api_execution_logs in seq order');
SELECT is(:'logs'::jsonb - 'logs', jsonb_build_object('executionId', :'run2', 'workflowId', :'p_priv', 'status', 'success'),
	'... with the execution''s id, workflow and status');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(:'logs'::jsonb #> '{logs,0}') k),
	'{attempts,completedAt,costUsd,durationMs,error,errorCode,handle,id,input,iteration,nodeId,nodeName,nodeType,output,seq,startedAt,status,tokensUsed}',
	'... each log with its fields');
SELECT is(jsonb_path_query_array(flowent.api_execution_logs(:'run2', (:'logs'::jsonb #>> '{logs,0,seq}')::int), '$.logs[*].nodeId'),
	'["s", "o"]', 'since_seq: only the later logs');
SELECT is(flowent.api_execution_context(:'run2') - 'startedAt' - 'completedAt' - 'durationMs',
	jsonb_build_object('executionId', :'run2', 'workflowId', :'p_priv', 'workflowVersion', 1, 'status', 'success',
		'mode', 'sync', 'triggerType', 'manual', 'isTest', false, 'input', '{"n": 2}'::jsonb, 'output', '{"n": 2}'::jsonb,
		'variables', '{"v": 1, "v0": 1}'::jsonb, 'error', NULL, 'errorCode', NULL, 'errorNodeId', NULL, 'totalCost', 0,
		'totalTokens', 0, 'parentExecutionId', NULL, 'waiting', '[]'::jsonb),
	'api_execution_context: the stored context');
SELECT flowent.api_execute(:'p_team', '{"mode": "sync"}') AS waiting_run \gset
SELECT is(flowent.api_execution_context((:'waiting_run'::jsonb ->> 'executionId')::uuid) -> 'waiting',
	:'waiting_run'::jsonb -> 'waiting', 'a suspended execution: waiting as flowent.run reported it');
SELECT is(flowent.api_execution_context((:'waiting_run'::jsonb ->> 'executionId')::uuid) #>> '{waiting,0,kind}', 'approval',
	'... an approval');
SELECT throws_ok(format('SELECT flowent.api_execution_logs(%L)', gen_random_uuid()), '42704', NULL,
	'the logs of an unknown execution: 42704');
-- the list counts the executions its reader sees: all of a workflow they may edit, else their own
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(flowent.api_list_pipelines('{"search": "GWT-team"}') #>> '{pipelines,0,execution_count}', '1',
	'bob, an editor of the workspace, counts alice''s run of the team pipeline');
SELECT is(flowent.api_list_pipelines('{"search": "GWT-team"}') #>> '{pipelines,0,latest_execution,id}',
	:'waiting_run'::jsonb ->> 'executionId', '... and sees it as the latest');
SELECT is(flowent._pipelines(ARRAY[:'p_priv'::uuid, :'p_team'::uuid])::jsonb #>> '{0,name}', 'GWT-team',
	'_pipelines leaves out the workflows its caller does not see');
SELECT is(json_array_length(flowent._pipelines(ARRAY[:'p_priv'::uuid])), 0, '... alice''s private one, for bob');
SELECT flowent.gateway_login(:'tc') \g /dev/null
SELECT is(flowent.api_list_pipelines('{"search": "GWT-team"}') #>> '{pipelines,0,name}', 'GWT-team',
	'carol, a viewer, lists the team pipeline');
SELECT is((flowent.api_list_pipelines('{"search": "GWT-team"}') #> '{pipelines,0}') - 'id' - 'created_at' - 'updated_at'
	- 'name' - 'description' - 'is_active' - 'status' - 'trigger_type' - 'visibility' - 'version' - 'published_version',
	'{"latest_execution": null, "execution_count": 0, "successful_count": 0, "failed_count": 0}',
	'... without alice''s run, which she does not see');
SELECT is(flowent.api_get_pipeline(:'p_team') -> 'latest_execution', 'null', '... nor in the pipeline''s details');
SELECT flowent.gateway_login(:'ta') \g /dev/null

-- recent executions
SELECT is(jsonb_array_length(flowent.api_recent_executions() -> 'executions'), 5, 'alice: her five runs');
SELECT is(flowent.api_recent_executions('{"limit": 1}') #>> '{executions,0,id}', :'waiting_run'::jsonb ->> 'executionId',
	'newest first');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(flowent.api_recent_executions('{"limit": 1}') #> '{executions,0}') k),
	'{completedAt,durationMs,error,errorCode,id,parentExecutionId,startedAt,status,totalCost,triggerType,workflowId,workflowName}',
	'... with their fields');
SELECT is(jsonb_array_length(flowent.api_recent_executions(jsonb_build_object('workflowId', :'p_priv')) -> 'executions'), 3,
	'workflowId filters');
SELECT is(flowent.api_recent_executions('{"status": "error"}') #>> '{executions,0,workflowName}', 'GWT-fails',
	'status filters');
SELECT is(flowent.api_recent_executions('{"limit": 2}') -> 'hasMore', 'true', 'a page short of all of them: hasMore');
SELECT is(jsonb_path_query_array(flowent.api_recent_executions('{"limit": 2, "offset": "2"}'), '$.executions[*].id')
	|| jsonb_path_query_array(flowent.api_recent_executions('{"limit": 2, "offset": 4}'), '$.executions[*].id'),
	jsonb_path_query_array(flowent.api_recent_executions('{"limit": 5}'), '$.executions[2 to 4].id'),
	'offset pages on, in order, with nothing left out or twice');
SELECT is(flowent.api_recent_executions('{"limit": 2, "offset": 4}') -> 'hasMore', 'false', '... and the last page says so');
SELECT is(flowent.api_recent_executions('{"offset": 99}'), '{"executions": [], "hasMore": false}', 'past the end: none');
SELECT is(pg_temp.err($$SELECT flowent.api_recent_executions('{"offset": -1}')$$) ->> 'code', '22023', 'a negative offset: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_recent_executions('{"workflowId": "nope"}')$$) ->> 'message',
	'params.workflowId must be a UUID, got "nope"', 'a bad workflowId: 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_recent_executions('{"status": "done"}')$$) ->> 'code', '22023',
	'a bad status: 22023');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(jsonb_path_query_array(flowent.api_recent_executions(), '$.executions[*].workflowName'), '["GWT-team"]',
	'bob, editor of the team pipeline, sees its run only');
SELECT flowent.gateway_login(:'tc') \g /dev/null
SELECT is(flowent.api_recent_executions(), '{"executions": [], "hasMore": false}', 'carol, a viewer, sees no runs');

-- approvals
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is(jsonb_path_query_array(flowent.api_pending_approvals(), '$.approvals[*].id'),
	jsonb_build_array(:'waiting_run'::jsonb ->> 'approvalId'), 'alice: the pending approval of her run');
SELECT is((flowent.api_pending_approvals() #> '{approvals,0}') - 'id' - 'createdAt',
	jsonb_build_object('executionId', :'waiting_run'::jsonb ->> 'executionId', 'workflowId', :'p_team',
		'workflowName', 'GWT-team', 'nodeId', 'a', 'status', 'pending', 'title', 'ok?', 'message', NULL,
		'contextData', NULL, 'previewData', NULL, 'assignedUserId', NULL, 'onExpire', 'reject', 'expiresAt', NULL),
	'... with what the request holds');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(jsonb_array_length(flowent.api_pending_approvals() -> 'approvals'), 1, 'bob, an editor, may decide it too');
SELECT flowent.gateway_login(:'tc') \g /dev/null
SELECT is(flowent.api_pending_approvals(), '{"approvals": []}', 'carol, a viewer, may not');
SELECT throws_ok(format('SELECT flowent.api_approve_execution(%L, %L)', :'waiting_run'::jsonb ->> 'executionId',
	'{"approved": true}'), '42704', NULL, '... nor approve it (api_approve_execution): 42704');

-- decisions, cancel, rerun
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(pg_temp.err(format('SELECT flowent.api_approve_execution(%L, %L)', :'waiting_run'::jsonb ->> 'executionId',
	'{"approved": "yes"}')) ->> 'message', 'body.approved must be true or false, got string',
	'api_approve_execution: approved must be a boolean');
SELECT is(pg_temp.err(format('SELECT flowent.api_approve(%L, %L)', :'p_team', '{"approved": true}')) ->> 'message',
	'body needs one of approvalId and executionId', 'api_approve: which approval');
SELECT is(pg_temp.err(format('SELECT flowent.api_approve(%L, %L)', :'p_bob',
	jsonb_build_object('executionId', :'waiting_run'::jsonb ->> 'executionId', 'approved', true))) ->> 'code', '42704',
	'api_approve: an execution of another pipeline is 42704');
SELECT flowent.api_approve(:'p_team', jsonb_build_object('approvalId', :'waiting_run'::jsonb ->> 'approvalId',
	'approved', true, 'comment', 'fine')) AS decided \gset
SELECT is(:'decided'::jsonb - 'executionId' - 'durationMs' - 'workflowId' - 'output',
	jsonb_build_object('success', true, 'status', 'success', 'resumedFromNodeId', 'a', 'error', NULL, 'totalCost', 0,
		'totalTokens', 0, 'waiting', '[]'::jsonb, 'decidedApprovalId', :'waiting_run'::jsonb ->> 'approvalId'),
	'api_approve: bob (editor) approves; flowent.approve''s answer');
SELECT is((:'decided'::jsonb -> 'output') - 'decidedAt', '{"approved": true, "comment": "fine", "approvedBy": "bob"}',
	'... the approval node''s output');
SELECT is((SELECT status::text || ' ' || resolved_by FROM flowent.workflow_approval_requests
	WHERE id = (:'waiting_run'::jsonb ->> 'approvalId')::uuid), 'approved bob', '... recorded as bob''s');
SELECT throws_ok(format('SELECT flowent.api_cancel(%L)', :'queued'::jsonb ->> 'executionId'), '42704', NULL,
	'bob cannot cancel alice''s run: 42704');
SELECT throws_ok(format('SELECT flowent.api_rerun(%L, %L)', :'run2', '{"fromNode": "o"}'), '42704', NULL,
	'... nor rerun it');
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is(pg_temp.err(format('SELECT flowent.api_cancel(%L, %L)', :'run2', '{}')) ->> 'code', '55000',
	'api_cancel: a finished run is 55000');
SELECT is(pg_temp.err(format('SELECT flowent.api_cancel(%L, %L)', :'run2', '{"why": "x"}')) ->> 'code', '22023',
	'api_cancel: an unknown key is 22023');
SELECT is(flowent.api_cancel((:'queued'::jsonb ->> 'executionId')::uuid, '{"reason": "not now"}') - 'executionId',
	'{"success": true, "status": "cancelled", "previousStatus": "pending", "error": null}',
	'api_cancel: the queued run is cancelled');
SELECT is(flowent.api_rerun(:'run2', '{"fromNode": "o"}') - 'executionId',
	jsonb_build_object('success', true, 'rerunOf', :'run2', 'mode', 'sync', 'status', 'success',
		'output', '{"n": 2}'::jsonb, 'error', NULL, 'errorCode', NULL), 'api_rerun: from a node, synchronously');
SELECT is(pg_temp.err(format('SELECT flowent.api_rerun(%L, %L)', :'run2', '{"fromNode": 5}')) ->> 'message',
	'body.fromNode must be a string, got number', 'api_rerun: fromNode must be a string');
SELECT is(pg_temp.err(format('SELECT flowent.api_rerun(%L, %L)', :'run2', '{}')) ->> 'message',
	'body.fromNode must be a string, got null', 'api_rerun: fromNode is required');

-- updates
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(flowent.api_update_pipeline(:'p_team', '{"description": "by bob", "expectedVersion": 1}') ->> 'version', '2',
	'bob (editor) saves the team pipeline');
SELECT is(pg_temp.err(format('SELECT flowent.api_update_pipeline(%L, %L)', :'p_team', '{"name": "x", "expectedVersion": 1}')),
	jsonb_build_object('code', '55000',
		'message', format('workflow %s was changed: expected version 1, current version 2', :'p_team'),
		'detail', '{"currentVersion": 2, "expectedVersion": 1}'),
	'a stale save: 55000 with both versions in the DETAIL JSON');
SELECT is(pg_temp.err(format('SELECT flowent.update_workflow(%L, %L)', :'p_team', '{"expectedVersion": 1}')) ->> 'detail',
	'{"currentVersion": 2, "expectedVersion": 1}', '... as flowent.update_workflow raises it');
SELECT is(pg_temp.err(format('SELECT flowent.api_update_pipeline(%L, %L)', :'p_team', '{"name": 7}')) ->> 'message',
	'changes.name must be a string, got number', 'a bad name: 22023');
SELECT throws_ok(format('SELECT flowent.api_update_pipeline(%L, %L)', :'p_priv', '{"name": "x"}'), '42704', NULL,
	'bob cannot update alice''s private pipeline: 42704');
SELECT throws_ok(format('SELECT flowent.api_delete_pipeline(%L)', :'p_team'), '42501', NULL,
	'bob cannot delete the team pipeline (only its owner): 42501');
SELECT flowent.gateway_login(:'tc') \g /dev/null
SELECT throws_ok(format('SELECT flowent.api_update_pipeline(%L, %L)', :'p_team', '{"name": "x"}'), '42501', NULL,
	'carol (viewer) cannot save it: 42501');

-- versions
SELECT is(jsonb_path_query_array(flowent.api_versions(:'p_team'), '$.versions[*].version'), '[2, 1]',
	'carol sees the versions, newest first');
SELECT is((flowent.api_versions(:'p_team') #> '{versions,0}') - 'createdAt',
	'{"version": 2, "name": "GWT-team", "createdBy": "bob", "message": null, "published": false}',
	'... who saved them, and whether published');
SELECT throws_ok(format('SELECT flowent.api_versions(%L)', :'p_priv'), '42704', NULL, 'not alice''s private ones');
SELECT is(flowent.api_version(:'p_team', '1') -> 'nodes', (SELECT nodes FROM flowent.workflow_versions WHERE workflow_id = :'p_team' AND version = 1),
	'api_version: the graph of version 1 as saved');
SELECT is((flowent.api_version(:'p_team', '2') - 'createdAt' - 'nodes' - 'edges' - 'workflowId'),
	'{"version": 2, "name": "GWT-team", "createdBy": "bob", "message": null, "published": false}', '... with who saved it');
SELECT throws_ok(format('SELECT flowent.api_version(%L, %L)', :'p_team', '3'), '42704',
	format('workflow %s has no version 3', :'p_team'), 'a version that does not exist: 42704');
SELECT throws_ok(format('SELECT flowent.api_version(%L, %L)', :'p_team', 'x1'), '22023',
	'version: expected a version number (1, 2, ...) in the path, got "x1"', 'a version that is no number: 22023');
SELECT throws_ok(format('SELECT flowent.api_version(%L, %L)', :'p_priv', '1'), '42704', NULL, 'api_version: not alice''s private ones');
SELECT is(flowent.api_diff(:'p_team') - 'workflowId',
	'{"fromVersion": 1, "toVersion": 2, "nodes": {"added": [], "removed": [], "changed": []},
	  "edges": {"added": [], "removed": [], "changed": []}, "summary": {"added": 0, "removed": 0, "changed": 0}}',
	'api_diff: the latest version against the one before');
SELECT is(flowent.api_diff(:'p_team', '{"from": "2", "to": 2}') ->> 'fromVersion', '2', 'api_diff: from and to');
SELECT is(pg_temp.err(format('SELECT flowent.api_diff(%L, %L)', :'p_team', '{"from": 0}')) ->> 'message',
	'params.from must be an integer from 1 to 2147483647, got 0', 'api_diff: a bad version is 22023');
SELECT throws_ok(format('SELECT flowent.api_diff(%L)', :'p_priv'), '42704', NULL, 'api_diff: not of alice''s private one');
SELECT throws_ok(format('SELECT flowent.api_watch_workflow(%L)', :'p_team'), '42501', NULL,
	'api_watch_workflow: a viewer may not watch all runs: 42501');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(flowent.api_watch_workflow(:'p_team'), jsonb_build_object('workflowId', :'p_team', 'watching', true),
	'... an editor may');
SELECT throws_ok(format('SELECT flowent.api_watch_workflow(%L)', :'p_priv'), '42704', NULL,
	'... nobody a workflow they do not see: 42704');
SELECT flowent.gateway_login(:'tc') \g /dev/null

-- webhooks
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is(flowent.api_webhooks(:'p_priv'), jsonb_build_object('workflowId', :'p_priv', 'published', false,
	'publishedVersion', NULL, 'url', '/api/hooks/' || :'p_priv', 'hasSecret', false), 'api_webhooks: not published');
SELECT is(flowent.gateway_webhook_secret(:'p_priv'), NULL, 'gateway_webhook_secret: NULL while unpublished');
SELECT flowent.publish(:'p_priv') ->> 'webhookSecret' AS secret1 \gset
SELECT is(flowent.api_webhooks(:'p_priv') - 'url' - 'workflowId',
	'{"published": true, "publishedVersion": 1, "hasSecret": true}', 'published: a secret, never shown');
SELECT is(flowent.gateway_webhook_secret(:'p_priv'), :'secret1', 'gateway_webhook_secret: the published one''s secret');
SELECT is(flowent.gateway_webhook_secret(gen_random_uuid()), NULL, '... NULL for an unknown workflow');
SELECT flowent.api_rotate_webhook_secret(:'p_priv') AS rotated \gset
SELECT ok(:'rotated'::jsonb ->> 'webhookSecret' ~ '^[0-9a-f]{64}$' AND :'rotated'::jsonb ->> 'webhookSecret' <> :'secret1',
	'api_rotate_webhook_secret: a new secret, shown once');
SELECT is(flowent.gateway_webhook_secret(:'p_priv'), :'rotated'::jsonb ->> 'webhookSecret', '... which is the one now');
SELECT is(pg_temp.err(format('SELECT flowent.api_schedule(%L, %L)', :'p_priv', '{"cron": 5}')) ->> 'message',
	'body.cron must be a string, got number', 'api_schedule: cron must be a string');
SELECT is(pg_temp.err(format('SELECT flowent.api_schedule(%L, %L)', :'p_priv', '{"cron": "* * * * * *"}')) ->> 'code',
	'22023', 'api_schedule: a six-field cron is 22023');
SELECT is(pg_temp.err(format('SELECT flowent.api_schedule(%L, %L)', :'p_priv', '{"cron": "*/5 * * * *"}')) ->> 'code',
	CASE flowent._cron_unavailable() WHEN 'absent' THEN '55000' WHEN 'usage' THEN '42501' END,
	'api_schedule: flowent.schedule decides (without pg_cron here: 55000)');
SELECT is(flowent.api_unschedule(:'p_priv'), jsonb_build_object('success', true, 'workflowId', :'p_priv', 'removed', false),
	'api_unschedule: nothing to remove');
SELECT flowent.api_update_pipeline(:'p_priv', '{"nodes": [{"id": "t", "type": "trigger"}, {"id": "o", "type": "output",
	"data": {"value": "v2"}}], "edges": [{"id": "e1", "source": "t", "target": "o"}]}') \g /dev/null
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT throws_ok(format('SELECT flowent.api_webhooks(%L)', :'p_priv'), '42704', NULL, 'bob: no webhooks of alice''s');
SELECT throws_ok(format('SELECT flowent.api_rotate_webhook_secret(%L)', :'p_priv'), '42704', NULL,
	'... nor rotating their secret');
SELECT isnt(flowent.api_rotate_webhook_secret(:'p_team') ->> 'webhookSecret', NULL, 'an editor rotates the team''s');
SELECT flowent.gateway_login(:'tc') \g /dev/null
SELECT throws_ok(format('SELECT flowent.api_rotate_webhook_secret(%L)', :'p_team'), '42501', NULL,
	'a viewer may not: 42501');
SELECT is(flowent.api_webhooks(:'p_team') ->> 'hasSecret', 'true', '... but sees that there is one');

-- a signed delivery, as the gateway handles it before anyone acts
-- gateway_webhook_deliver: a batch of deliveries in one transaction, each in its own subtransaction
SELECT encode(sha256(convert_to(flowent.gateway_webhook_secret(:'p_priv'), 'UTF8')), 'hex') AS dig \gset
CREATE TEMP TABLE hooks AS SELECT * FROM flowent.gateway_webhook_deliver(
	ARRAY[:'p_priv', :'p_priv', :'p_priv', :'p_team', gen_random_uuid(), :'p_priv', :'p_priv', :'p_priv', :'p_priv', :'p_priv', NULL]::uuid[],
	ARRAY['d1', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', '', 'd9'],
	ARRAY['{"n": 1.50}', '{"n": 2}', '{"n": 3}', '{}', '{}', '{"n": 4}', 'not json', '{"n": 5}', NULL, '{}', '{}'],
	ARRAY[true, true, false, true, true, true, true, true, NULL, true, true],
	ARRAY[:'dig', :'dig', :'dig', :'dig', :'dig', 'beef', :'dig', NULL, :'dig', :'dig', :'dig']);
CREATE FUNCTION pg_temp.hook(k integer) RETURNS text LANGUAGE sql AS $$ SELECT answer FROM hooks WHERE n = k $$;
SELECT is((SELECT string_agg(n::text, ',' ORDER BY n) FROM hooks), '1,2,3,4,5,6,7,8,9,10,11', 'gateway_webhook_deliver: one row per delivery');
SELECT is(flowent.current_user_id(), 'alice', '... the workflow''s owner acts for the rest of the transaction');
SELECT is(pg_temp.hook(1)::jsonb - 'executionId' - 'durationMs' - 'workflowId',
	'{"success": true, "status": "success", "output": {"n": 1.50}, "error": null, "totalCost": 0, "totalTokens": 0, "waiting": []}',
	'... a delivery with wait: the run''s answer');
SELECT ok(pg_temp.hook(1) LIKE '%"n": 1.50%', '... its numbers exactly as sent');
SELECT is(pg_temp.hook(2), 'replayed', '... the same signature again: replayed');
SELECT is(pg_temp.hook(3)::jsonb - 'executionId', '{"success": true, "status": "pending"}', '... without wait: queued');
SELECT is(pg_temp.hook(4), 'stale', '... an unpublished workflow: stale');
SELECT is(pg_temp.hook(5), 'stale', '... an unknown one: stale');
SELECT is(pg_temp.hook(6), 'stale', '... a secret whose sha256 is not the digest (rotated since): stale');
SELECT is(substr(pg_temp.hook(7), 7)::jsonb - 'message', '{"sqlstate": "22P02", "detail": "Token \"not\" is invalid."}',
	'... a body that is not JSON: its error (22P02), the others run');
SELECT is(pg_temp.hook(8), 'stale', '... no digest: stale');
SELECT is(pg_temp.hook(9)::jsonb - 'executionId', '{"success": true, "status": "pending"}',
	'... no wait given: the workflow''s setting (queued), no body: {}');
SELECT is(substr(pg_temp.hook(10), 7)::jsonb - 'detail', '{"sqlstate": "22023", "message": "signature must be 1 to 512 characters"}',
	'... an empty signature: 22023');
SELECT is(substr(pg_temp.hook(11), 7)::jsonb - 'detail', '{"sqlstate": "22023", "message": "id must not be null"}',
	'... no id: 22023');
SELECT is((SELECT answer::jsonb ->> 'status' FROM flowent.gateway_webhook_deliver(ARRAY[:'p_priv']::uuid[], ARRAY['d6'],
	ARRAY['{"n": 6}'], ARRAY[true], ARRAY[:'dig'])), 'success',
	'... the failed delivery left no replay record: its signature runs once it is good');
SELECT throws_ok(format('SELECT * FROM flowent.gateway_webhook_deliver(ARRAY[%L]::uuid[], ARRAY[''a'', ''b''], ARRAY[''{}''], ARRAY[true], ARRAY[%L])',
	:'p_priv', :'dig'), '22023', 'ids, signatures, bodies, waits and digests must be arrays of the same length',
	'... arrays of different lengths: 22023');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT string_agg(row(e.user_id, e.trigger_type, e.workflow_version, e.mode, e.input)::text, ' ' ORDER BY h.n)
	FROM hooks h JOIN flowent.workflow_executions e ON e.id = (h.answer::jsonb ->> 'executionId')::uuid WHERE h.n IN (1, 3, 9)),
	'(alice,webhook,1,sync,"{""n"": 1.50}") (alice,webhook,1,async,"{""n"": 3}") (alice,webhook,1,async,{})',
	'... each run is the owner''s webhook run of the published version');
SELECT is((SELECT count(*) FROM flowent.webhook_deliveries WHERE signature IN ('d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9')),
	4::bigint, '... replay records: only the deliveries that ran (d1, d2, d8, then d6)');
SET SESSION AUTHORIZATION gw_test;

-- node types, credentials, delete
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is((SELECT t - 'configSchema' - 'description' FROM jsonb_array_elements(flowent.api_node_types() -> 'nodeTypes') t
	WHERE t ->> 'type' = 'trigger'),
	'{"type": "trigger", "category": "control", "label": "Trigger", "handles": ["out"], "costModel": {"kind": "free"}, "builtin": true}',
	'api_node_types: the registry');
SELECT flowent.set_credential('gwt_key', '"s3cret"') \g /dev/null
SELECT is(jsonb_path_query_array(flowent.api_credentials(), '$.credentials[*].name'), '["gwt_key"]',
	'api_credentials: alice''s credential names');
SELECT ok(flowent.api_credentials()::text NOT LIKE '%s3cret%', '... never a secret');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT is(flowent.api_credentials(), '{"credentials": []}', 'bob has none');
SELECT throws_ok(format('SELECT flowent.api_delete_pipeline(%L)', :'p_priv'), '42704', NULL,
	'bob cannot delete alice''s private pipeline: 42704');
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT flowent.api_create_pipeline('{"name": "GWT-template", "isTemplate": true, "visibility": "public",
	"templateCategory": "automation", "nodes": [{"id": "t", "type": "trigger"}]}') ->> 'id' AS tpl \gset
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT flowent.api_clone_template(jsonb_build_object('templateId', :'tpl', 'name', 'GWT-mine')) AS cloned \gset
SELECT is(:'cloned'::jsonb - 'id' - 'created_at' - 'updated_at' - 'runAs' - 'webhook' - 'edges',
	'{"name": "GWT-mine", "description": null, "is_active": false, "status": "draft", "trigger_type": "manual",
	  "visibility": "private", "version": 1, "published_version": 0, "latest_execution": null, "execution_count": 0,
	  "successful_count": 0, "failed_count": 0, "tags": [], "workspace_id": null, "executions": [],
	  "nodes": [{"id": "t", "type": "trigger"}]}',
	'api_clone_template: bob''s private draft of alice''s public template');
SELECT is(pg_temp.err($$SELECT flowent.api_clone_template('{"templateId": "x"}')$$) ->> 'message',
	'body.templateId must be a UUID, got "x"', 'api_clone_template: a bad templateId is 22023');
SELECT is(pg_temp.err($$SELECT flowent.api_clone_template('{}')$$) ->> 'message',
	'body.templateId must be a UUID, got nothing', '... and a missing one');
SELECT throws_ok(format('SELECT flowent.api_clone_template(%L)', jsonb_build_object('templateId', :'p_team')), '22023',
	format('workflow %s is not a template', :'p_team'), '... a workflow that is no template is 22023');
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is(pg_temp.err(format('SELECT flowent.api_update_pipeline(%L, NULL)', :'p_priv')) ->> 'message',
	'changes must be a JSON object, got nothing', 'api_update_pipeline without a body: 22023');
SELECT is(flowent.api_delete_pipeline(:'p_priv'), jsonb_build_object('success', true, 'id', :'p_priv'),
	'alice deletes her pipeline');
SELECT throws_ok(format('SELECT flowent.api_get_pipeline(%L)', :'p_priv'), '42704', NULL, '... which is gone');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
