-- engine_validate.sql: flowent.validate() and what saving / running do with
-- invalid graphs (DESIGN §3, Appendix B "Errors", "Saving").
--
-- Every validation code of Appendix B with its nodeId / edgeId / field; an
-- invalid graph is saved (drafts) but run raises 22023 with the validate()
-- JSON as errdetail; structural faults raise 22023 on create_workflow and
-- write nothing.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
SELECT plan(95);

-- ---------------------------------------------------------------- helpers

\ir helpers.psql
CREATE FUNCTION pg_temp.t() RETURNS jsonb LANGUAGE sql AS $$ SELECT pg_temp.n('t', 'trigger') $$;

-- One invalid graph per case, with the error expected in validate():
-- exp holds the expected code and nodeId / edgeId / field (absent keys must be absent).
CREATE TEMP TABLE cases (name text PRIMARY KEY, nodes jsonb, edges jsonb, exp jsonb, wf uuid);
INSERT INTO cases (name, nodes, edges, exp) VALUES
('unknown type',
	jsonb_build_array(pg_temp.t(), pg_temp.n('x', 'no-such-type')),
	jsonb_build_array(pg_temp.e('e1', 't', 'x')),
	'{"code":"UNKNOWN_NODE_TYPE","nodeId":"x","field":"type"}'),
('missing required',
	jsonb_build_array(pg_temp.t(), pg_temp.n('x', 'data-transform')),
	jsonb_build_array(pg_temp.e('e1', 't', 'x')),
	'{"code":"MISSING_REQUIRED_FIELD","nodeId":"x","field":"expression"}'),
('missing approval title',
	jsonb_build_array(pg_temp.t(), pg_temp.n('ap', 'human-approval', '{"message":"m"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'ap')),
	'{"code":"MISSING_REQUIRED_FIELD","nodeId":"ap","field":"title"}'),
('invalid field type',
	jsonb_build_array(pg_temp.t(), pg_temp.n('x', 'data-transform', '{"expression":42}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'x')),
	'{"code":"INVALID_FIELD_TYPE","nodeId":"x","field":"expression"}'),
('invalid array field',
	jsonb_build_array(pg_temp.t(), pg_temp.n('c', 'condition', '{"conditions":"x > 1"}'), pg_temp.n('o', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'c'), pg_temp.e('e2', 'c', 'o', 'true')),
	'{"code":"INVALID_FIELD_TYPE","nodeId":"c","field":"conditions"}'),
('invalid enum',
	jsonb_build_array(pg_temp.t(), pg_temp.n('m', 'merge', '{"mode":"zip"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'm')),
	'{"code":"INVALID_FIELD_TYPE","nodeId":"m","field":"mode"}'),
('duplicate node',
	jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'output'), pg_temp.n('a', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a')),
	'{"code":"DUPLICATE_NODE_ID","nodeId":"a","field":"id"}'),
('duplicate edge',
	jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'set-variable', '{"name":"a","value":1}'), pg_temp.n('b', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e1', 'a', 'b')),
	'{"code":"DUPLICATE_EDGE_ID","edgeId":"e1","field":"id"}'),
('edge source',
	jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'ghost', 'a')),
	'{"code":"EDGE_SOURCE_NOT_FOUND","edgeId":"e2","field":"source"}'),
('edge target',
	jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 't', 'ghost')),
	'{"code":"EDGE_TARGET_NOT_FOUND","edgeId":"e2","field":"target"}'),
('unknown handle',
	jsonb_build_array(pg_temp.t(), pg_temp.n('c', 'condition', '{"conditions":[]}'), pg_temp.n('a', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'c'), pg_temp.e('e2', 'c', 'a', 'maybe')),
	'{"code":"UNKNOWN_HANDLE","edgeId":"e2","nodeId":"c","field":"sourceHandle"}'),
('unknown switch handle',
	jsonb_build_array(pg_temp.t(), pg_temp.n('s', 'switch', '{"value":1,"cases":[{"id":"one","right":1}]}'), pg_temp.n('a', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 's'), pg_temp.e('e2', 's', 'a', 'two')),
	'{"code":"UNKNOWN_HANDLE","edgeId":"e2","nodeId":"s","field":"sourceHandle"}'),
('missing handle',
	jsonb_build_array(pg_temp.t(), pg_temp.n('c', 'condition', '{"conditions":[]}'), pg_temp.n('a', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'c'), pg_temp.e('e2', 'c', 'a')),
	'{"code":"MISSING_HANDLE","edgeId":"e2","nodeId":"c","field":"sourceHandle"}'),
('no trigger',
	jsonb_build_array(pg_temp.n('a', 'set-variable', '{"name":"a","value":1}'), pg_temp.n('b', 'output')),
	jsonb_build_array(pg_temp.e('e1', 'a', 'b')),
	'{"code":"NO_TRIGGER"}'),
('reserved trigger',
	jsonb_build_array(pg_temp.t(), pg_temp.n('trigger', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'trigger')),
	'{"code":"RESERVED_NODE_ID","nodeId":"trigger","field":"id"}'),
('reserved input',
	jsonb_build_array(pg_temp.t(), pg_temp.n('input', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'input')),
	'{"code":"RESERVED_NODE_ID","nodeId":"input","field":"id"}');

-- the error of a case with the expected code (message dropped)
CREATE FUNCTION pg_temp.found(c text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT e - 'message' FROM cases,
		jsonb_array_elements(flowent.validate(cases.nodes, cases.edges)->'errors') e
	WHERE cases.name = c AND e->>'code' = cases.exp->>'code'
	ORDER BY e::text LIMIT 1
$$;

-- ------------------------------------------------ validate(): one check per code
SELECT is(flowent.validate(nodes, edges)->'valid', 'false'::jsonb, name || ': valid is false')
FROM cases ORDER BY name;
SELECT is(pg_temp.found(name), exp, name || ': ' || (exp->>'code') || ' with nodeId/edgeId/field')
FROM cases ORDER BY name;
SELECT ok(length(e->>'message') > 0 AND (e->>'message') LIKE '%' || coalesce(exp->>'nodeId', exp->>'edgeId', '') || '%',
		  name || ': message names the node or edge')
FROM cases, LATERAL (SELECT e FROM jsonb_array_elements(flowent.validate(nodes, edges)->'errors') e
					 WHERE e->>'code' = exp->>'code' LIMIT 1) s
ORDER BY name;

-- cycle: the error names a node on the cycle
SELECT is((SELECT e->>'code' FROM jsonb_array_elements(flowent.validate(
			jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'set-variable', '{"name":"a","value":1}'),
							  pg_temp.n('b', 'set-variable', '{"name":"b","value":2}')),
			jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'b'), pg_temp.e('e3', 'b', 'a')))->'errors') e),
		  'CYCLE', 'cycle a -> b -> a: exactly one error, CYCLE');
SELECT ok((SELECT e->>'nodeId' FROM jsonb_array_elements(flowent.validate(
			jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'set-variable', '{"name":"a","value":1}'),
							  pg_temp.n('b', 'set-variable', '{"name":"b","value":2}')),
			jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'b'), pg_temp.e('e3', 'b', 'a')))->'errors') e)
		  IN ('a', 'b'), 'cycle: nodeId is a node on the cycle');
SELECT is((SELECT e->>'code' FROM jsonb_array_elements(flowent.validate(
			jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'set-variable', '{"name":"a","value":1}')),
			jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'a')))->'errors') e),
		  'CYCLE', 'self-loop a -> a: CYCLE');
INSERT INTO cases (name, nodes, edges, exp) VALUES
('cycle',
	jsonb_build_array(pg_temp.t(), pg_temp.n('a', 'set-variable', '{"name":"a","value":1}'),
					  pg_temp.n('b', 'set-variable', '{"name":"b","value":2}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'b'), pg_temp.e('e3', 'b', 'a')),
	'{"code":"CYCLE"}');

-- a valid graph
SELECT is(flowent.validate(jsonb_build_array(pg_temp.t(), pg_temp.n('o', 'output')),
						   jsonb_build_array(pg_temp.e('e1', 't', 'o'))),
		  '{"valid":true,"errors":[]}'::jsonb, 'valid graph: {valid: true, errors: []}');
-- a condition with both handles, a switch with a case id and default, an approval: valid
SELECT is(flowent.validate(
			jsonb_build_array(pg_temp.t(),
				pg_temp.n('c', 'condition', '{"conditions":[{"left":"{{trigger.payload.x}}","operator":"exists"}]}'),
				pg_temp.n('s', 'switch', '{"value":"{{trigger.payload.x}}","cases":[{"id":"one","right":1}]}'),
				pg_temp.n('ap', 'human-approval', '{"title":"ok?"}'),
				pg_temp.n('x', 'data-transform', '{"expression":"1","onError":"branch"}'),
				pg_temp.n('o', 'output')),
			jsonb_build_array(pg_temp.e('e1', 't', 'c'),
				pg_temp.e('e2', 'c', 's', 'true'), pg_temp.e('e3', 'c', 'ap', 'false'),
				pg_temp.e('e4', 's', 'x', 'one'), pg_temp.e('e5', 's', 'o', 'default'),
				pg_temp.e('e6', 'ap', 'o', 'approved'), pg_temp.e('e7', 'x', 'o', 'error'),
				pg_temp.e('e8', 'x', 'o', 'out'))),
		  '{"valid":true,"errors":[]}'::jsonb,
		  'valid: condition true/false, switch case/default, approval approved, onError branch error handle');
-- a template in a typed field is allowed; a wrong literal is not
SELECT is(flowent.validate(jsonb_build_array(pg_temp.t(), pg_temp.n('d', 'delay', '{"durationMs":"{{trigger.payload.ms}}"}')),
						   jsonb_build_array(pg_temp.e('e1', 't', 'd'))),
		  '{"valid":true,"errors":[]}'::jsonb, 'integer field holding {{…}} is valid');
SELECT is((SELECT jsonb_agg(e - 'message' ORDER BY e->>'field')
		   FROM jsonb_array_elements(flowent.validate(
				jsonb_build_array(pg_temp.t(), pg_temp.n('d', 'delay', '{"durationMs":"soon","onError":"explode"}')),
				jsonb_build_array(pg_temp.e('e1', 't', 'd')))->'errors') e),
		  '[{"code":"INVALID_FIELD_TYPE","nodeId":"d","field":"durationMs"},
			{"code":"INVALID_FIELD_TYPE","nodeId":"d","field":"onError"}]'::jsonb,
		  'two bad fields: exactly one INVALID_FIELD_TYPE each (durationMs, onError)');
-- several faults at once are all reported
SELECT is((SELECT array_agg(e->>'code' ORDER BY e->>'code') FROM jsonb_array_elements(flowent.validate(
			jsonb_build_array(pg_temp.n('a', 'nope'), pg_temp.n('input', 'output')),
			jsonb_build_array(pg_temp.e('e1', 'a', 'zz')))->'errors') e),
		  ARRAY['EDGE_TARGET_NOT_FOUND', 'NO_TRIGGER', 'RESERVED_NODE_ID', 'UNKNOWN_NODE_TYPE'],
		  'several faults: every one reported');

-- ------------------------------------------------ saving an invalid graph works; running raises 22023
UPDATE cases SET wf = flowent.create_workflow('invalid ' || name, nodes, edges);
SELECT is((SELECT count(*) FROM cases WHERE wf IS NOT NULL), 17::bigint, 'every invalid graph is saved');
SELECT is((SELECT count(*) FROM flowent.workflows w JOIN cases c ON c.wf = w.id), 17::bigint,
		  'saved invalid workflows are in flowent.workflows');
SELECT throws_ok(format('SELECT flowent.run(%L::uuid)', wf), '22023', NULL, name || ': run raises 22023')
FROM cases ORDER BY name;

-- errdetail of the run error is the validate() JSON
CREATE FUNCTION pg_temp.run_detail(wf uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
	PERFORM flowent.run(wf);
	RETURN NULL;
EXCEPTION WHEN invalid_parameter_value THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RETURN d::jsonb;
END
$$;
SELECT is(pg_temp.run_detail(wf), flowent.validate(nodes, edges), 'run errdetail is the validate() JSON (missing handle)')
FROM cases WHERE name = 'missing handle';
SELECT is(pg_temp.run_detail(wf), flowent.validate(nodes, edges), 'run errdetail is the validate() JSON (cycle)')
FROM cases WHERE name = 'cycle';
SELECT is((SELECT count(*) FROM flowent.workflow_executions e JOIN cases c ON c.wf = e.workflow_id), 0::bigint,
		  'refused runs leave no execution rows');

-- ------------------------------------------------ structural faults: 22023 on create, nothing written
CREATE TEMP TABLE counts AS
	SELECT (SELECT count(*) FROM flowent.workflows) AS wfs, (SELECT count(*) FROM flowent.workflow_versions) AS vers;

SELECT throws_ok($$SELECT flowent.create_workflow('s', '{"id":"t"}', '[]')$$, '22023', NULL, 'nodes an object: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '"nodes"', '[]')$$, '22023', NULL, 'nodes a string: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', NULL, '[]')$$, '22023', NULL, 'nodes NULL: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[1]', '[]')$$, '22023', NULL, 'a node that is not an object: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"type":"trigger","data":{}}]', '[]')$$, '22023', NULL,
				 'node without id: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":5,"type":"trigger","data":{}}]', '[]')$$, '22023', NULL,
				 'node with a numeric id: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":null,"type":"trigger","data":{}}]', '[]')$$, '22023', NULL,
				 'node with a null id: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":"t","data":{}}]', '[]')$$, '22023', NULL,
				 'node without type: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":"t","type":["trigger"],"data":{}}]', '[]')$$, '22023', NULL,
				 'node with a non-string type: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":"t","type":"trigger","data":{}}]', '{}')$$, '22023', NULL,
				 'edges an object: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":"t","type":"trigger","data":{}}]', '["e1"]')$$, '22023', NULL,
				 'an edge that is not an object: 22023');
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":"t","type":"trigger","data":{}}]', '[{"id":7,"source":"t","target":"t"}]')$$,
				 '22023', NULL, 'edge with a numeric id: 22023');
SELECT is((SELECT count(*) FROM flowent.workflows), (SELECT wfs FROM counts), 'structural faults: no workflow written');
SELECT is((SELECT count(*) FROM flowent.workflow_versions), (SELECT vers FROM counts), 'structural faults: no version written');
-- the error names what was expected
SELECT throws_ok($$SELECT flowent.create_workflow('s', '[{"id":"t","type":"trigger"},{"type":"output"}]', '[]')$$,
				 '22023', NULL, 'node[1] without id: 22023');
CREATE FUNCTION pg_temp.errmsg(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLERRM;
END
$$;
SELECT matches(pg_temp.errmsg($$SELECT flowent.create_workflow('s', '[{"id":"t","type":"trigger"},{"type":"output"}]', '[]')$$),
			   'nodes\[1\].*id', 'the structural error names the element and the field (nodes[1], id)');

-- validate() on structural faults: raises 22023 too (it cannot report per node)
SELECT throws_ok($$SELECT flowent.validate('{"a":1}', '[]')$$, '22023', NULL, 'validate(nodes an object): 22023');

SELECT * FROM finish();
ROLLBACK;
