-- flowent.estimate (issue 10, item 7): a model call's prompt from its text as the payload
-- resolves it (4 bytes a token + 4 a message), maxTokens as its completion, priced at
-- flowent.model_price; loops times their items (from the payload, else maxIterations, else
-- once, said in a note); the dearest branch of a condition; side-by-side branches all, a node
-- after their merge once; tools times maxSteps; a sub-workflow's own estimate; bad input named.
-- options.preflight: a run whose estimate is over its caps or the user's remaining budget does
-- not start (BUDGET_EXCEEDED, 53400), before any call.
BEGIN;
SELECT plan(17);

INSERT INTO flowent.model_prices (model, prompt_per_1k, completion_per_1k) VALUES ('m', 1, 2), ('dear', 10, 20);
CREATE FUNCTION pg_temp.ai(id text, model text, prompt text, max_tokens int) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('id', id, 'type', 'llm-agent', 'data', jsonb_build_object('model', model, 'prompt', prompt, 'maxTokens', max_tokens))
$$;
CREATE FUNCTION pg_temp.e(s text, t text, h text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object('id', s || '-' || t, 'source', s, 'target', t, 'sourceHandle', h))
$$;

-- one call: prompt "abcd" + payload's 8-byte name = 12 bytes = 3 tokens + 8 (two messages) = 11; completion 100
CREATE TEMP TABLE w1 AS SELECT flowent.create_workflow('one', jsonb_build_array(
	'{"id":"t","type":"trigger","data":{}}'::jsonb, pg_temp.ai('a', 'm', 'abcd{{trigger.payload.name}}', 100)),
	jsonb_build_array(pg_temp.e('t', 'a'))) AS id;
SELECT is(flowent.estimate((SELECT id FROM w1), '{"name": "12345678"}'),
	'{"totalTokens": 111, "totalCost": 0.211, "nodes": [{"nodeId": "a", "tokens": 111, "cost": 0.211, "calls": 1, "onDearestPath": true}]}'::jsonb,
	'one call: the prompt as the payload resolves it, maxTokens as its completion, priced per 1K tokens');

-- a loop over the payload's items runs its body per item
CREATE TEMP TABLE w2 AS SELECT flowent.create_workflow('loop', jsonb_build_array(
	'{"id":"t","type":"trigger","data":{}}'::jsonb,
	'{"id":"l","type":"loop-controller","data":{"items":"{{trigger.payload.items}}"}}'::jsonb,
	pg_temp.ai('a', 'm', 'abcd', 100), '{"id":"o","type":"output","data":{}}'::jsonb),
	jsonb_build_array(pg_temp.e('t', 'l'), pg_temp.e('l', 'a', 'body'), pg_temp.e('l', 'o', 'done'))) AS id;
SELECT is(flowent.estimate((SELECT id FROM w2), '{"items": [1, 2, 3]}') -> 'nodes' -> 0,
	'{"nodeId": "a", "tokens": 327, "cost": 0.627, "calls": 3, "onDearestPath": true}'::jsonb,
	'a loop body counts once per item of the payload');
SELECT ok(flowent.estimate((SELECT id FROM w2)) @> '{"totalTokens": 109, "nodes": [{"nodeId": "a", "calls": 1}]}',
	'items unknown and no maxIterations: once');
SELECT ok(flowent.estimate((SELECT id FROM w2)) @> '{"nodes": [{"nodeId": "l", "note": "items unknown before the run and no maxIterations: once"}]}',
	'the loop says it could not count its items');

-- a condition's dearest branch counts; the other does not
CREATE TEMP TABLE w3 AS SELECT flowent.create_workflow('branches', jsonb_build_array(
	'{"id":"t","type":"trigger","data":{}}'::jsonb,
	'{"id":"c","type":"condition","data":{"conditions":[{"left":"{{trigger.payload.x}}","operator":"equals","right":1}]}}'::jsonb,
	pg_temp.ai('cheap', 'm', 'abcd', 100), pg_temp.ai('dear', 'dear', 'abcd', 100),
	pg_temp.ai('after', 'm', 'abcd', 100)),
	jsonb_build_array(pg_temp.e('t', 'c'), pg_temp.e('c', 'cheap', 'true'), pg_temp.e('c', 'dear', 'false'),
		pg_temp.e('cheap', 'after'), pg_temp.e('dear', 'after'))) AS id;
SELECT is(flowent.estimate((SELECT id FROM w3)) - 'nodes',
	'{"totalTokens": 218, "totalCost": 2.299}'::jsonb, 'of two branches the dearest counts, and the node after them once');
SELECT ok(flowent.estimate((SELECT id FROM w3)) @> '{"nodes": [{"nodeId": "cheap", "onDearestPath": false}, {"nodeId": "dear", "onDearestPath": true}]}',
	'each call is listed, saying whether it is on the dearest path');

-- side by side: both branches count, the merge's successor once
CREATE TEMP TABLE w4 AS SELECT flowent.create_workflow('parallel', jsonb_build_array(
	'{"id":"t","type":"trigger","data":{}}'::jsonb, pg_temp.ai('x', 'm', 'abcd', 100), pg_temp.ai('y', 'm', 'abcd', 100),
	'{"id":"mg","type":"merge","data":{}}'::jsonb, pg_temp.ai('z', 'm', 'abcd', 100)),
	jsonb_build_array(pg_temp.e('t', 'x'), pg_temp.e('t', 'y'), pg_temp.e('x', 'mg'), pg_temp.e('y', 'mg'), pg_temp.e('mg', 'z'))) AS id;
SELECT is(flowent.estimate((SELECT id FROM w4)) ->> 'totalTokens', '327', 'branches side by side all count; what follows their merge once');

-- tools: maxSteps calls; an unpriced model costs 0 and says so
CREATE TEMP TABLE w5 AS SELECT flowent.create_workflow('tools', jsonb_build_array(
	'{"id":"t","type":"trigger","data":{}}'::jsonb,
	'{"id":"a","type":"llm-agent","data":{"model":"nobody","prompt":"abcd","maxTokens":100,"maxSteps":3,"tools":[{"workflowId":"00000000-0000-0000-0000-000000000000"}]}}'::jsonb),
	jsonb_build_array(pg_temp.e('t', 'a'))) AS id;
SELECT is(flowent.estimate((SELECT id FROM w5)) -> 'nodes' -> 0,
	'{"nodeId": "a", "tokens": 327, "cost": 0, "calls": 3, "onDearestPath": true, "note": "model nobody has no price: cost 0"}'::jsonb,
	'an agent with tools may call the model maxSteps times; an unpriced model costs 0 and says so');

-- a sub-workflow counts its workflow's estimate
CREATE TEMP TABLE w6 AS SELECT flowent.create_workflow('parent', jsonb_build_array(
	'{"id":"t","type":"trigger","data":{}}'::jsonb,
	jsonb_build_object('id', 's', 'type', 'sub-workflow', 'data', jsonb_build_object('workflowId', (SELECT id FROM w1)))),
	jsonb_build_array(pg_temp.e('t', 's'))) AS id;
SELECT is(flowent.estimate((SELECT id FROM w6)) ->> 'totalTokens', '109', 'a sub-workflow counts its workflow''s estimate');

SELECT throws_ok(format('SELECT flowent.estimate(%L, ''[1]'')', (SELECT id FROM w1)), '22023',
	'estimate: payload must be a JSON object, got array', 'a payload that is no object is named');

-- the pre-flight check of runs
SELECT throws_ok(format('SELECT flowent.run(%L, ''{"name": "12345678"}'', ''{"preflight": true, "maxCostUsd": 0.1}'')', (SELECT id FROM w1)),
	'53400', format('BUDGET_EXCEEDED: the run of workflow %s does not start: its estimate is 0.211 USD, and options.maxCostUsd is 0.1', (SELECT id FROM w1)),
	'preflight: an estimate over options.maxCostUsd stops the run before it starts');
SELECT throws_ok(format('SELECT flowent.execute(%L, ''{"name": "12345678"}'', ''{"preflight": true, "maxTokens": 50}'')', (SELECT id FROM w1)),
	'53400', format('BUDGET_EXCEEDED: the run of workflow %s does not start: its estimate is 111 tokens, and options.maxTokens is 50', (SELECT id FROM w1)),
	'preflight: flowent.execute too, against options.maxTokens');
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = (SELECT id FROM w1)), 0::bigint,
	'a refused run leaves no execution');
SELECT flowent.set_budget(flowent.current_user_id(), 'day', 0.1, NULL);
SELECT throws_like(format('SELECT flowent.run(%L, ''{"name": "12345678"}'', ''{"preflight": true}'')', (SELECT id FROM w1)),
	'BUDGET_EXCEEDED: % its estimate is 0.211 USD, and the day budget of user "' || flowent.current_user_id() || '" has 0.1% USD left',
	'preflight: an estimate over what the user''s budget has left');
SELECT lives_ok(format('SELECT flowent._preflight(%L, ''{"name": "12345678"}'', ''{"skipBudgetCheck": true}'')', (SELECT id FROM w1)),
	'preflight: skipBudgetCheck skips the user''s budgets');
CREATE TEMP TABLE w0 AS SELECT flowent.create_workflow('free', '[{"id":"t","type":"trigger","data":{}},{"id":"o","type":"output","data":{"value":1}}]',
	'[{"id":"e","source":"t","target":"o"}]') AS id;
SELECT is(flowent.run((SELECT id FROM w0), '{}', '{"preflight": true, "maxCostUsd": 0}') ->> 'status', 'success',
	'preflight: a run within its caps starts');
SELECT throws_ok(format('SELECT flowent.run(%L, ''{}'', ''{"preflight": "yes"}'')', (SELECT id FROM w0)), '22023', NULL,
	'preflight must be a boolean');

SELECT * FROM finish();
ROLLBACK;
