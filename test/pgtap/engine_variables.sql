-- engine_variables.sql: {{…}} resolution (DESIGN §5, Appendix B "Variables")
-- and data fidelity (§1: a payload goes in and comes out byte-for-byte equal).
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
SELECT plan(64);

-- ---------------------------------------------------------------- helpers

\ir helpers.psql

-- t -> a (set-variable: variables v, num, greeting) -> o (output with value val)
CREATE FUNCTION pg_temp.wf(val jsonb) RETURNS uuid LANGUAGE sql AS $$
	SELECT flowent.create_workflow('vars',
		jsonb_build_array(
			pg_temp.n('t', 'trigger'),
			pg_temp.n('a', 'set-variable', '{"variables":{"v":[1,{"q":2}],"num":7,"greeting":"hi"}}'),
			pg_temp.n('o', 'output', jsonb_build_object('value', val))),
		jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'o')))
$$;
CREATE FUNCTION pg_temp.r(val jsonb, payload jsonb DEFAULT '{}', opts jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.safe_run(pg_temp.wf(val), payload, opts)
$$;
-- the output on success, else {"status":…, "error":…}
CREATE FUNCTION pg_temp.v(val jsonb, payload jsonb DEFAULT '{}', opts jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN r->>'status' = 'success' THEN r->'output'
				ELSE jsonb_build_object('status', r->'status', 'error', r->'error') END
	FROM pg_temp.r(val, payload, opts) r
$$;

\set P '{"x":"ex","n":1.50,"i":3,"z":null,"b":true,"o":{"x":[1,2],"y":"s"},"arr":[{"p":"zero"},{"p":"one"}],"s":"str"}'

-- ------------------------------------------------ paths
SELECT is(pg_temp.v('"{{trigger.payload.x}}"', :'P'), '"ex"'::jsonb, '{{trigger.payload.x}}');
SELECT is(pg_temp.v('"{{trigger.payload.o.y}}"', :'P'), '"s"'::jsonb, 'nested path {{trigger.payload.o.y}}');
SELECT is(pg_temp.v('"{{a.num}}"', :'P'), '7'::jsonb, '{{nodeId.field}}: a node''s output');
SELECT is(pg_temp.v('"{{a}}"', :'P'), '{"v":[1,{"q":2}],"num":7,"greeting":"hi"}'::jsonb, '{{nodeId}} whole');
SELECT is(pg_temp.v('"{{variables.greeting}}"', :'P'), '"hi"'::jsonb, '{{variables.name}}');
SELECT is(pg_temp.v('"{{greeting}}"', :'P'), '"hi"'::jsonb, 'short {{name}}');
SELECT is(pg_temp.v('"{{v.1.q}}"', :'P'), '2'::jsonb, 'short {{name.1.q}} into a variable');
SELECT is(pg_temp.v('"{{variables}}"', :'P'), '{"v":[1,{"q":2}],"num":7,"greeting":"hi"}'::jsonb, '{{variables}} whole');
SELECT is(pg_temp.v('"{{trigger.payload.arr.0.p}}"', :'P'), '"zero"'::jsonb, '{{array.0.prop}}');
SELECT is(pg_temp.v('"{{trigger.payload.arr[1].p}}"', :'P'), '"one"'::jsonb, '{{array[1].prop}}');
SELECT is(pg_temp.v('"{{trigger.payload.arr.1}}"', :'P'), '{"p":"one"}'::jsonb, '{{array.1}} is the element');
SELECT is(pg_temp.v('"{{input.num}}"', :'P'), '7'::jsonb, '{{input.field}}: the predecessor''s output');
SELECT is(pg_temp.v('"{{trigger.type}}"', :'P'), '"manual"'::jsonb, '{{trigger.type}} is manual for run()');
SELECT is(pg_temp.v('"{{trigger.payload}}"', :'P'), :'P'::jsonb, '{{trigger.payload}} whole');
SELECT is(pg_temp.v('"{{nodes.a.output.greeting}}"', :'P'), '"hi"'::jsonb, '{{nodes.<id>.output…}} (state.nodes)');
SELECT is(pg_temp.v('"{{trigger.payload.b}}"', :'P'), 'true'::jsonb, 'a lone boolean stays boolean');

-- variables given in options.variables
SELECT is(pg_temp.v('"{{variables.region}}/{{region}}"', '{}', '{"variables":{"region":"eu"}}'), '"eu/eu"'::jsonb,
		  'options.variables are readable as {{variables.x}} and {{x}}');

-- ------------------------------------------------ type preservation of a lone {{…}}
SELECT is(pg_temp.v('"{{trigger.payload.n}}"', :'P')::text, '1.50', 'lone number stays a number (1.50 exact)');
SELECT is(jsonb_typeof(pg_temp.v('"{{trigger.payload.i}}"', :'P')), 'number', 'lone integer: jsonb number');
SELECT is(pg_temp.v('"{{trigger.payload.o}}"', :'P'), '{"x":[1,2],"y":"s"}'::jsonb, 'lone object stays an object');
SELECT is(pg_temp.v('"{{trigger.payload.arr}}"', :'P'), '[{"p":"zero"},{"p":"one"}]'::jsonb, 'lone array stays an array');
SELECT is(pg_temp.v('"{{trigger.payload.z}}"', :'P'), 'null'::jsonb, 'lone null stays null');
SELECT is(pg_temp.v('{"k":["{{trigger.payload.i}}", {"deep":"{{trigger.payload.o}}"}]}', :'P'),
		  '{"k":[3,{"deep":{"x":[1,2],"y":"s"}}]}'::jsonb, 'templates nested inside config objects/arrays resolve typed');

-- ------------------------------------------------ interpolation in text
SELECT is(pg_temp.v('"n={{trigger.payload.n}} i={{trigger.payload.i}}"', :'P'), '"n=1.50 i=3"'::jsonb, 'numbers render as text');
SELECT is(pg_temp.v('"z={{trigger.payload.z}}"', :'P'), '"z=null"'::jsonb, 'null renders as "null"');
SELECT is(pg_temp.v('"s={{trigger.payload.s}}!"', :'P'), '"s=str!"'::jsonb, 'strings render raw (no quotes)');
SELECT is(pg_temp.v('"b={{trigger.payload.b}}"', :'P'), '"b=true"'::jsonb, 'booleans render as true/false');
SELECT is(pg_temp.v('"o={{trigger.payload.o}}"', :'P'), '"o={\"x\":[1,2],\"y\":\"s\"}"'::jsonb,
		  'objects render as compact JSON');
SELECT is(pg_temp.v('"a={{trigger.payload.arr}}"', :'P'), '"a=[{\"p\":\"zero\"},{\"p\":\"one\"}]"'::jsonb,
		  'arrays render as compact JSON');
SELECT is(pg_temp.v('" {{trigger.payload.i}}"', :'P'), '" 3"'::jsonb, 'a space before {{…}} makes it text');
SELECT is(pg_temp.v('"{{trigger.payload.x}}{{trigger.payload.i}}"', :'P'), '"ex3"'::jsonb, 'two templates side by side: text');

-- ------------------------------------------------ escape, spaces, defaults
SELECT is(pg_temp.v('"\\{{trigger.payload.x}}"', :'P'), '"{{trigger.payload.x}}"'::jsonb, '\{{ stays a literal {{');
SELECT is(pg_temp.v('"a \\{{b}} {{trigger.payload.x}}"', :'P'), '"a {{b}} ex"'::jsonb, 'escaped and real template in one text');
SELECT is(pg_temp.v('"{{ trigger.payload.i }}"', :'P'), '3'::jsonb, '{{ spaced }} is trimmed (and stays typed)');
SELECT is(pg_temp.v('"<{{   greeting   }}>"', :'P'), '"<hi>"'::jsonb, '{{   spaced   }} trimmed in text');
SELECT is(pg_temp.v('"{{missing | \"dflt\"}}"', :'P'), '"dflt"'::jsonb, '{{missing | "dflt"}}: string default');
SELECT is(pg_temp.v('"{{missing | 42}}"', :'P'), '42'::jsonb, '{{missing | 42}}: number default stays a number');
SELECT is(pg_temp.v('"{{trigger.payload.nope | [1,2]}}"', :'P'), '[1,2]'::jsonb, 'array default');
SELECT is(pg_temp.v('"{{missing | hello there}}"', :'P'), '"hello there"'::jsonb, 'non-JSON default is text');
SELECT is(pg_temp.v('"x={{missing | 5}}"', :'P'), '"x=5"'::jsonb, 'default inside text');
SELECT is(pg_temp.v('"{{trigger.payload.i | 42}}"', :'P'), '3'::jsonb, 'default unused when the path resolves');
SELECT is(pg_temp.v('"{{trigger.payload.z | 42}}"', :'P'), 'null'::jsonb, 'a present null is not missing: no default');

-- ------------------------------------------------ missing path -> VARIABLE_NOT_FOUND
CREATE TEMP TABLE runs (name text PRIMARY KEY, r jsonb);
INSERT INTO runs VALUES ('missing', pg_temp.r('"{{trigger.payload.nope.deeper}}"', :'P'));
SELECT is((SELECT r->>'status' FROM runs WHERE name = 'missing'), 'error', 'missing path: status error');
SELECT is((SELECT r->'error'->>'code' FROM runs WHERE name = 'missing'), 'VARIABLE_NOT_FOUND', 'missing path: VARIABLE_NOT_FOUND');
SELECT is((SELECT r->'error'->>'nodeId' FROM runs WHERE name = 'missing'), 'o', 'missing path: error.nodeId names the node');
SELECT matches((SELECT r->'error'->>'message' FROM runs WHERE name = 'missing'), 'trigger\.payload\.nope\.deeper',
			   'missing path: message names the path');
SELECT is((SELECT status::text || ' ' || error_code || ' ' || error_node_id FROM flowent.workflow_executions
		   WHERE id = (SELECT (r->>'executionId')::uuid FROM runs WHERE name = 'missing')),
		  'error VARIABLE_NOT_FOUND o', 'missing path: execution row kept with status, code, node');
SELECT is((SELECT status::text || ' ' || error_code FROM flowent.workflow_node_logs
		   WHERE execution_id = (SELECT (r->>'executionId')::uuid FROM runs WHERE name = 'missing') AND node_id = 'o'),
		  'error VARIABLE_NOT_FOUND', 'missing path: node log status error with the code');
SELECT is(pg_temp.v('"x {{nosuchroot}} y"', :'P')->'error'->>'code', 'VARIABLE_NOT_FOUND', 'missing short name in text: VARIABLE_NOT_FOUND');
SELECT is(pg_temp.v('"{{trigger.payload.arr.5.p}}"', :'P')->'error'->>'code', 'VARIABLE_NOT_FOUND', 'array index out of range: VARIABLE_NOT_FOUND');

-- ------------------------------------------------ execution.id, workflow.id
INSERT INTO runs VALUES ('ids', pg_temp.r('{"e":"{{execution.id}}","w":"{{workflow.id}}","t":"exec {{execution.id}}"}'));
SELECT is((SELECT r->'output'->>'e' FROM runs WHERE name = 'ids'), (SELECT r->>'executionId' FROM runs WHERE name = 'ids'),
		  '{{execution.id}} equals executionId');
SELECT is((SELECT r->'output'->>'w' FROM runs WHERE name = 'ids'),
		  (SELECT workflow_id::text FROM flowent.workflow_executions WHERE id = (SELECT (r->>'executionId')::uuid FROM runs WHERE name = 'ids')),
		  '{{workflow.id}} equals the workflow id');
SELECT is((SELECT r->'output'->>'t' FROM runs WHERE name = 'ids'), 'exec ' || (SELECT r->>'executionId' FROM runs WHERE name = 'ids'),
		  '{{execution.id}} in text');

-- ------------------------------------------------ roots: node id before variable name
SELECT is(pg_temp.safe_run(flowent.create_workflow('roots',
			jsonb_build_array(pg_temp.n('t', 'trigger'),
				pg_temp.n('greeting', 'set-variable', '{"name":"other","value":"node output"}'),
				pg_temp.n('s', 'set-variable', '{"name":"greeting","value":"variable value"}'),
				pg_temp.n('o', 'output', '{"value":["{{greeting}}","{{variables.greeting}}"]}')),
			jsonb_build_array(pg_temp.e('e1', 't', 'greeting'), pg_temp.e('e2', 'greeting', 's'), pg_temp.e('e3', 's', 'o'))))->'output',
		  '["node output","variable value"]'::jsonb, 'roots: a node id wins over a variable name; variables.x still reaches the variable');

-- ------------------------------------------------ data fidelity: data is never templated
\set D '{"price": 19.99, "big": 123456789012345678901234567890, "s": "{{trigger.payload.price}}"}'
INSERT INTO runs VALUES ('fidelity', pg_temp.r('"{{trigger.payload}}"', :'D'));
SELECT is((SELECT r->>'status' FROM runs WHERE name = 'fidelity'), 'success', 'fidelity: success');
SELECT is((SELECT (r->'output')::text FROM runs WHERE name = 'fidelity'), (:'D'::jsonb)::text,
		  'fidelity: output byte-for-byte equal to the payload (::text)');
SELECT is((SELECT r->'output'->>'s' FROM runs WHERE name = 'fidelity'), '{{trigger.payload.price}}',
		  'fidelity: a string with braces in the data is not evaluated');
SELECT is((SELECT (r->'output'->'big')::text FROM runs WHERE name = 'fidelity'), '123456789012345678901234567890',
		  'fidelity: integer beyond 64 bits exact');
SELECT is((SELECT output::text FROM flowent.workflow_executions
		   WHERE id = (SELECT (r->>'executionId')::uuid FROM runs WHERE name = 'fidelity')), (:'D'::jsonb)::text,
		  'fidelity: stored execution output byte-for-byte equal');
SELECT is((SELECT input::text FROM flowent.workflow_executions
		   WHERE id = (SELECT (r->>'executionId')::uuid FROM runs WHERE name = 'fidelity')), (:'D'::jsonb)::text,
		  'fidelity: stored execution input byte-for-byte equal');
-- one pass: a node output holding {{…}} referenced by another node is not read again
SELECT is(pg_temp.safe_run(flowent.create_workflow('one pass',
			jsonb_build_array(pg_temp.n('t', 'trigger'),
				pg_temp.n('o', 'output', '{"value":"got {{trigger.payload.s}} and {{trigger.payload.price}}"}')),
			jsonb_build_array(pg_temp.e('e1', 't', 'o'))), :'D')->'output',
		  '"got {{trigger.payload.price}} and 19.99"'::jsonb, 'one pass: resolved text is not re-read as a template');

-- ------------------------------------------------ {{…}} refused in SQL text and channel (INVALID_CONFIG)
CREATE FUNCTION pg_temp.one(ntype text, ndata jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.safe_run(flowent.create_workflow('refused',
		jsonb_build_array(pg_temp.n('t', 'trigger'), pg_temp.n('x', ntype, ndata)),
		jsonb_build_array(pg_temp.e('e1', 't', 'x'))), '{"a":1}')
$$;
SELECT is((SELECT r->>'status' || ' ' || (r->'error'->>'code') || ' ' || (r->'error'->>'nodeId')
		   FROM pg_temp.one('data-transform', '{"expression":"to_jsonb({{trigger.payload.a}})"}') r),
		  'error INVALID_CONFIG x', 'data-transform expression with {{…}}: INVALID_CONFIG');
SELECT is((SELECT r->>'status' || ' ' || (r->'error'->>'code')
		   FROM pg_temp.one('database-query', '{"query":"select {{trigger.payload.a}} as a"}') r),
		  'error INVALID_CONFIG', 'database-query query with {{…}}: INVALID_CONFIG');
SELECT is((SELECT r->>'status' || ' ' || (r->'error'->>'code')
		   FROM pg_temp.one('notify', '{"channel":"c{{trigger.payload.a}}","payload":1}') r),
		  'error INVALID_CONFIG', 'notify channel with {{…}}: INVALID_CONFIG');

SELECT * FROM finish();
ROLLBACK;
