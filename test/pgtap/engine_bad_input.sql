-- Bad input gets the error Appendix B prescribes, naming node and field
-- (issue 7 item 10): archived workflows, options of the wrong type, numbers
-- out of range, non-uuid workflowId, empty templates, over-long ids and
-- labels, oversized node outputs, a custom handler returning NULL, delays
-- until infinity.
BEGIN;
SELECT plan(23);

CREATE FUNCTION pg_temp.wf(nodes jsonb) RETURNS uuid LANGUAGE sql AS $$
	SELECT flowent.create_workflow('bad input', nodes,
		(SELECT coalesce(jsonb_agg(jsonb_build_object('id', 'e' || i, 'source', nodes->(i - 1)->>'id', 'target', nodes->i->>'id')), '[]')
		 FROM generate_series(1, jsonb_array_length(nodes) - 1) i))
$$;
CREATE FUNCTION pg_temp.err(r jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT r->>'status' || '|' || coalesce(r->'error'->>'code', '') || '|' || coalesce(r->'error'->>'message', '')
$$;
CREATE TEMP TABLE w AS SELECT pg_temp.wf('[{"id":"t","type":"trigger","data":{}},
	{"id":"o","type":"output","data":{"value":"{{trigger.payload}}"}}]') AS id;

-- archived
SELECT flowent.update_workflow(id, '{"status": "archived"}') FROM w;
SELECT throws_ok(format('SELECT flowent.run(%L)', id), '55000',
	format('workflow %s is archived: an archived workflow does not run', id), 'run of an archived workflow: 55000') FROM w;
SELECT is(pg_temp.err(flowent.run(pg_temp.wf(jsonb_build_array('{"id":"t","type":"trigger","data":{}}'::jsonb,
	jsonb_build_object('id', 's', 'type', 'sub-workflow', 'data', jsonb_build_object('workflowId', id)))))),
	format('error|SUB_WORKFLOW_FAILED|node "s": workflow %s is archived', id), 'a sub-workflow that is archived') FROM w;
SELECT flowent.update_workflow(id, '{"status": "active"}') FROM w;
SELECT is(flowent.run(id, '{"a": 1}')->>'status', 'success', 'active again: it runs') FROM w;

-- a loop's parallel out of range
SELECT is(pg_temp.err(flowent.run(pg_temp.wf('[{"id":"t","type":"trigger","data":{}},
	{"id":"l","type":"loop-controller","data":{"items":[1, 2],"parallel":0}}]'))),
	'error|INVALID_CONFIG|node "l": field "parallel" must be between 1 and 1000, got 0', 'loop parallel 0');

-- options of the wrong type
SELECT throws_ok(format('SELECT flowent.run(%L, ''{}'', ''{"isTest": "yes"}'')', id), '22023',
	'options.isTest must be true or false, got "yes"', 'isTest "yes"') FROM w;
SELECT throws_ok(format('SELECT flowent.run(%L, ''{}'', ''{"variables": [1]}'')', id), '22023',
	'options.variables must be an object, got [1]', 'variables not an object') FROM w;
SELECT throws_ok(format('SELECT flowent.run(%L, ''{}'', ''{"breakpoints": ["o", 3]}'')', id), '22023',
	'options.breakpoints[1] must be a node id (a string), got 3', 'a breakpoint that is not a node id') FROM w;
SELECT throws_ok(format('SELECT flowent.rerun(%L, ''o'', ''{"mode": 5}'')', flowent.run(id)->>'executionId'), '22023',
	'options.mode must be "sync" or "async", got 5', 'rerun with mode 5') FROM w;
SELECT throws_ok(format('SELECT flowent.run(%L, ''{}'', ''{"mode": "async"}'')', id), '22023',
	'flowent.run is synchronous: options.mode "async" is for flowent.execute', 'run with mode async points to execute') FROM w;
SELECT throws_ok(format('SELECT flowent.run(%L, ''{}'', ''{"version": 4294967296}'')', id), '22023',
	'options.version must be an integer from 1 to 2147483647, got 4294967296', 'version over 2^31') FROM w;

-- validation: numbers, templates, ids, labels
SELECT is((SELECT string_agg(e->>'field' || ': ' || (e->>'message'), '; ' ORDER BY e->>'field')
	FROM jsonb_array_elements(flowent.validate('[{"id":"t","type":"trigger","data":{}},
		{"id":"s","type":"set-variable","data":{"name":"x","value":"{{}}","retry":{"backoffMs":1e12}}}]',
		'[{"id":"e","source":"t","target":"s"}]')->'errors') e),
	'retry.backoffMs: node "s": field "retry.backoffMs" must be an integer from 0 to 3600000, got 1000000000000; value: node "s": field "value" has a bad template: empty path in "{{ }}" at offset 0',
	'an empty template and a backoff out of range are validation errors naming the field');
SELECT is((SELECT e->>'code' || '|' || (e->>'field') || '|' || (e->>'message') FROM jsonb_array_elements(flowent.validate(
		jsonb_build_array('{"id":"t","type":"trigger","data":{}}'::jsonb, jsonb_build_object('id', repeat('n', 150), 'type', 'output', 'data', '{}'::jsonb)),
		jsonb_build_array(jsonb_build_object('id', 'e', 'source', 't', 'target', repeat('n', 150))))->'errors') e),
	'INVALID_FIELD_TYPE|id|node id "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn..." has 150 characters; at most 100',
	'a node id of 150 characters: a validation error, never a node log the column cannot hold');
SELECT is((SELECT e->>'field' || '|' || (e->>'message') FROM jsonb_array_elements(flowent.validate(
		jsonb_build_array('{"id":"t","type":"trigger","data":{}}'::jsonb, jsonb_build_object('id', 'o', 'type', 'output', 'data', jsonb_build_object('label', repeat('é', 300)))),
		'[{"id":"e","source":"t","target":"o"}]')->'errors') e),
	'label|node "o": its label has 300 characters; at most 255', 'a label of 300 characters');
SELECT throws_ok(format('SELECT flowent.run(%L)', pg_temp.wf(jsonb_build_array('{"id":"t","type":"trigger","data":{}}'::jsonb,
	jsonb_build_object('id', repeat('n', 150), 'type', 'output', 'data', '{}'::jsonb)))), '22023', NULL,
	'running it raises 22023');

-- sub-workflow id that is not a uuid
SELECT is(pg_temp.err(flowent.run(pg_temp.wf('[{"id":"t","type":"trigger","data":{}},
	{"id":"s","type":"sub-workflow","data":{"workflowId":"not-a-uuid"}}]'))),
	'error|INVALID_CONFIG|node "s": field "workflowId" must be a workflow id (a uuid), got "not-a-uuid"', 'workflowId not a uuid');

-- node output cap
SET flowent.max_output_bytes = '64kB';
CREATE TEMP TABLE big AS SELECT flowent.run(pg_temp.wf('[{"id":"t","type":"trigger","data":{}},
	{"id":"b","type":"data-transform","data":{"expression":"to_jsonb(repeat(''x'', 100000))"}}]')) AS r;
SELECT is((SELECT pg_temp.err(r) FROM big), 'error|LIMIT_EXCEEDED|node "b": its output is 100012 bytes; the limit is 65536 (flowent.max_output_bytes)',
	'an output over flowent.max_output_bytes fails the node');
SELECT is((SELECT status::text || '|' || error_code FROM flowent.workflow_executions WHERE id = (SELECT (r->>'executionId')::uuid FROM big)),
	'error|LIMIT_EXCEEDED', 'the execution row is kept, ended error');
RESET flowent.max_output_bytes;

-- a custom handler returning SQL NULL
CREATE FUNCTION public.null_handler(inputs jsonb, context jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb';
SELECT flowent.register_node_type('returns-null', 'public.null_handler(jsonb,jsonb)'::regprocedure);
SELECT is(pg_temp.err(flowent.run(pg_temp.wf('[{"id":"t","type":"trigger","data":{}},{"id":"c","type":"returns-null","data":{}}]'))),
	'error|CUSTOM_NODE_FAILED|node "c": handler null_handler(jsonb,jsonb) of node type "returns-null" returned SQL NULL; it must return jsonb (the node''s output, ''null'' for none)',
	'a custom handler returning NULL fails its node');

SELECT throws_ok($$SELECT flowent.register_node_type('llm-agent', 'public.null_handler(jsonb,jsonb)'::regprocedure)$$, '42501',
	'node type "llm-agent" is reserved for a builtin node type of Flowent, choose another name', 'a future builtin name is reserved');
SELECT throws_ok(format('SELECT flowent.register_node_type(%L, %L::regprocedure)', 'a' || repeat('b', 55), 'public.null_handler(jsonb,jsonb)'), '22023',
	NULL, 'a type name longer than the node logs hold');

-- delay until infinity
SELECT is(pg_temp.err(flowent.run(pg_temp.wf('[{"id":"t","type":"trigger","data":{}},{"id":"d","type":"delay","data":{"until":"infinity"}}]'))),
	'error|INVALID_CONFIG|node "d": field "until" must be a finite ISO timestamp, got "infinity"', 'delay until infinity');
SELECT is((SELECT count(*) FROM flowent.timers WHERE fire_at = 'infinity'), 0::bigint, 'no timer that can never be due');

-- a mistyped setting is an error, not a silent placeholder
SELECT throws_ok('SET flowent.http_timout_ms = 5', '42602', NULL, 'a mistyped flowent setting');

SELECT * FROM finish();
ROLLBACK;
