-- nodes_condition.sql: the condition, switch and filter nodes through flowent.run.
--
-- Every operator true and false, type mismatches, exact numerics, nested
-- and/or groups, a missing left per operator (three-valued: a run with
-- fallbackToAI set and no model fails with INVALID_CONFIG exactly when the rules are
-- undecided), the branch taken and the dead branch skipped, switch routing,
-- filter with {{item…}}, and configuration errors naming the field.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
SELECT plan(171);

-- ---------------------------------------------------------------- helpers

-- flowent.run, with a raised error turned into {status: "raised", error}
-- so one misbehaving case fails its test instead of the whole file
CREATE FUNCTION pg_temp.safe_run(wf uuid, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	RETURN flowent.run(wf, payload);
EXCEPTION WHEN OTHERS THEN
	RETURN jsonb_build_object('status', 'raised',
							  'error', jsonb_build_object('code', SQLSTATE, 'message', SQLERRM));
END
$$;

-- trigger t -> condition c (data: label + cdata) -> yes (true) / no (false)
CREATE FUNCTION pg_temp.cond_nodes(cdata jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_array(
		'{"id":"t","type":"trigger","position":{"x":0,"y":0},"data":{"label":"Start"}}'::jsonb,
		jsonb_build_object('id', 'c', 'type', 'condition',
						   'position', '{"x":200,"y":0}'::jsonb,
						   'data', '{"label":"Check"}'::jsonb || cdata),
		'{"id":"yes","type":"output","position":{"x":400,"y":0},"data":{"label":"Yes","value":"yes"}}'::jsonb,
		'{"id":"no","type":"output","position":{"x":400,"y":100},"data":{"label":"No","value":"no"}}'::jsonb)
$$;
CREATE FUNCTION pg_temp.cond_edges() RETURNS jsonb LANGUAGE sql AS $$
	SELECT '[{"id":"e1","source":"t","target":"c"},
			 {"id":"e2","source":"c","target":"yes","sourceHandle":"true"},
			 {"id":"e3","source":"c","target":"no","sourceHandle":"false"}]'::jsonb
$$;
CREATE FUNCTION pg_temp.cond_wf(cdata jsonb) RETURNS uuid LANGUAGE sql AS $$
	SELECT flowent.create_workflow('nodes_condition test', pg_temp.cond_nodes(cdata), pg_temp.cond_edges())
$$;

CREATE FUNCTION pg_temp.cond_run(cdata jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.safe_run(pg_temp.cond_wf(cdata), payload)
$$;

-- "yes" / "no" on success, else "<status> <error code>"
CREATE FUNCTION pg_temp.outcome(r jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN r->>'status' = 'success' THEN r->>'output'
				ELSE coalesce(r->>'status', '?') || ' ' || coalesce(r->'error'->>'code', '?') END
$$;

-- One rule {left: {{trigger.payload.x}}, operator, right} on payload {x}.
-- x SQL NULL: the payload has no x (left missing); right SQL NULL: no right.
-- With fallbackToAI the three values are told apart: true -> yes,
-- false -> no, undecided -> INVALID_CONFIG (the fallback asks a model, and none is named).
CREATE FUNCTION pg_temp.tri(op text, rgt jsonb, x jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT CASE o WHEN 'yes' THEN 'true' WHEN 'no' THEN 'false'
				  WHEN 'error INVALID_CONFIG' THEN 'undecided' ELSE o END
	FROM (SELECT pg_temp.outcome(pg_temp.cond_run(
			jsonb_build_object('fallbackToAI', true, 'conditions', jsonb_build_array(
				jsonb_strip_nulls(jsonb_build_object('left', '{{trigger.payload.x}}',
													 'operator', op, 'right', rgt))
				|| CASE WHEN rgt = 'null'::jsonb THEN '{"right":null}'::jsonb ELSE '{}' END)),
			CASE WHEN x IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('x', x) END)) AS o) s
$$;

-- the whole run result of a rule set (for error checks)
CREATE FUNCTION pg_temp.rules_run(conds jsonb, payload jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.cond_run(jsonb_build_object('conditions', conds), payload)
$$;

CREATE TEMP TABLE runs (name text PRIMARY KEY, r jsonb);

CREATE FUNCTION pg_temp.node_log(run text, node text) RETURNS flowent.workflow_node_logs
LANGUAGE sql AS $$
	SELECT l.* FROM flowent.workflow_node_logs l, runs
	WHERE runs.name = run AND l.execution_id = (runs.r->>'executionId')::uuid AND l.node_id = node
	ORDER BY l.seq DESC LIMIT 1
$$;

-- ---------------------------------------------------------------- operators

-- equals
SELECT is(pg_temp.tri('equals', '"a"', '"a"'), 'true', 'equals: same string');
SELECT is(pg_temp.tri('equals', '"a"', '"b"'), 'false', 'equals: other string');
SELECT is(pg_temp.tri('equals', '"a"', '"A"'), 'false', 'equals: strings are case-sensitive');
SELECT is(pg_temp.tri('equals', '19.990', '19.99'), 'true', 'equals: 19.99 = 19.990 (numeric)');
SELECT is(pg_temp.tri('equals', '0.3', '0.30'), 'true', 'equals: 0.30 = 0.3');
SELECT is(pg_temp.tri('equals', '0.10000000000000001', '0.1'), 'false', 'equals: exact, no float rounding');
SELECT is(pg_temp.tri('equals', '123456789012345678901234567891', '123456789012345678901234567890'), 'false',
		  'equals: integers beyond 64 bits stay exact');
SELECT is(pg_temp.tri('equals', '123456789012345678901234567890', '123456789012345678901234567890'), 'true',
		  'equals: big integers equal');
SELECT is(pg_temp.tri('equals', '5', '"5"'), 'false', 'equals: "5" vs 5 is a type mismatch: false');
SELECT is(pg_temp.tri('equals', '"true"', 'true'), 'false', 'equals: true vs "true": false');
SELECT is(pg_temp.tri('equals', 'true', '1'), 'false', 'equals: 1 vs true: false');
SELECT is(pg_temp.tri('equals', 'true', 'true'), 'true', 'equals: booleans');
SELECT is(pg_temp.tri('equals', 'null', 'null'), 'true', 'equals: null = null');
SELECT is(pg_temp.tri('equals', '{"b":[1,2.0],"a":1}', '{"a":1,"b":[1,2]}'), 'true', 'equals: deep object equality, numbers by value');
SELECT is(pg_temp.tri('equals', '[1,2]', '[2,1]'), 'false', 'equals: arrays are ordered');
-- not_equals
SELECT is(pg_temp.tri('not_equals', '"b"', '"a"'), 'true', 'not_equals: different strings');
SELECT is(pg_temp.tri('not_equals', '"a"', '"a"'), 'false', 'not_equals: same string');
SELECT is(pg_temp.tri('not_equals', '"5"', '5'), 'true', 'not_equals: different types are not equal');
SELECT is(pg_temp.tri('not_equals', '1.50', '1.5'), 'false', 'not_equals: 1.5 vs 1.50');
-- gt / gte / lt / lte
SELECT is(pg_temp.tri('gt', '9.5', '10'), 'true', 'gt: 10 > 9.5');
SELECT is(pg_temp.tri('gt', '10', '9'), 'false', 'gt: 9 > 10 false');
SELECT is(pg_temp.tri('gt', '10', '10'), 'false', 'gt: equal is not greater');
SELECT is(pg_temp.tri('gt', '2', '10'), 'true', 'gt: numbers compare as numbers (10 > 2)');
SELECT is(pg_temp.tri('gt', '"9"', '10'), 'false', 'gt: number vs string is false');
SELECT is(pg_temp.tri('gt', '"a"', '"b"'), 'true', 'gt: strings: "b" > "a"');
SELECT is(pg_temp.tri('gt', '"a"', '"B"'), 'false', 'gt: strings by bytes: "B" < "a"');
SELECT is(pg_temp.tri('gt', 'false', 'true'), 'false', 'gt: booleans are not ordered');
SELECT is(pg_temp.tri('gte', '5.0', '5'), 'true', 'gte: 5 >= 5.0');
SELECT is(pg_temp.tri('gte', '5', '4.99'), 'false', 'gte: 4.99 >= 5 false');
SELECT is(pg_temp.tri('gte', '"2024-01-01"', '"2024-06-30"'), 'true', 'gte: ISO dates as strings');
SELECT is(pg_temp.tri('lt', '10', '2'), 'true', 'lt: 2 < 10');
SELECT is(pg_temp.tri('lt', '2', '10'), 'false', 'lt: 10 < 2 false');
SELECT is(pg_temp.tri('lt', '"2"', '"10"'), 'true', 'lt: strings by bytes: "10" < "2"');
SELECT is(pg_temp.tri('lt', '1', 'null'), 'false', 'lt: null is not ordered');
SELECT is(pg_temp.tri('lte', '5', '5'), 'true', 'lte: 5 <= 5');
SELECT is(pg_temp.tri('lte', '5', '6'), 'false', 'lte: 6 <= 5 false');
SELECT is(pg_temp.tri('lte', '-0.000000000000000000001', '-0.000000000000000000002'), 'true', 'lte: tiny negatives exact');
-- contains / not_contains
SELECT is(pg_temp.tri('contains', '"lo w"', '"hello world"'), 'true', 'contains: substring');
SELECT is(pg_temp.tri('contains', '"x"', '"hello"'), 'false', 'contains: no substring');
SELECT is(pg_temp.tri('contains', '""', '"hello"'), 'true', 'contains: the empty string is in every string');
SELECT is(pg_temp.tri('contains', '{"a":1}', '[1,2,{"a":1.0}]'), 'true', 'contains: deep-equal array element');
SELECT is(pg_temp.tri('contains', '3', '[1,2]'), 'false', 'contains: array without the element');
SELECT is(pg_temp.tri('contains', '1', '["1"]'), 'false', 'contains: array element of another type');
SELECT is(pg_temp.tri('contains', '"k"', '{"k":0}'), 'true', 'contains: object key');
SELECT is(pg_temp.tri('contains', '"z"', '{"k":0}'), 'false', 'contains: object without the key');
SELECT is(pg_temp.tri('contains', '"1"', '123'), 'false', 'contains: number left is a type mismatch');
SELECT is(pg_temp.tri('not_contains', '"x"', '"abc"'), 'true', 'not_contains: absent substring');
SELECT is(pg_temp.tri('not_contains', '"b"', '"abc"'), 'false', 'not_contains: present substring');
SELECT is(pg_temp.tri('not_contains', '2', '[1,2]'), 'false', 'not_contains: present element');
-- starts_with / ends_with
SELECT is(pg_temp.tri('starts_with', '"he"', '"hello"'), 'true', 'starts_with: prefix');
SELECT is(pg_temp.tri('starts_with', '"lo"', '"hello"'), 'false', 'starts_with: not a prefix');
SELECT is(pg_temp.tri('starts_with', '"hello!"', '"hello"'), 'false', 'starts_with: longer than left');
SELECT is(pg_temp.tri('starts_with', '"1"', '123'), 'false', 'starts_with: number left is false');
SELECT is(pg_temp.tri('ends_with', '"lo"', '"hello"'), 'true', 'ends_with: suffix');
SELECT is(pg_temp.tri('ends_with', '"he"', '"hello"'), 'false', 'ends_with: not a suffix');
-- matches
SELECT is(pg_temp.tri('matches', '"^order-[0-9]+$"', '"order-123"'), 'true', 'matches: anchored regex');
SELECT is(pg_temp.tri('matches', '"^order"', '"Order-1"'), 'false', 'matches: case-sensitive');
SELECT is(pg_temp.tri('matches', '"(?i)^order"', '"Order-1"'), 'true', 'matches: (?i) turns case off');
SELECT is(pg_temp.tri('matches', '"[0-9]{3}"', '"ab1234"'), 'true', 'matches: unanchored search');
SELECT is(pg_temp.tri('matches', '"[0-9]"', '5'), 'false', 'matches: number left is false');
-- in / not_in
SELECT is(pg_temp.tri('in', '["a","b"]', '"b"'), 'true', 'in: member');
SELECT is(pg_temp.tri('in', '["a","b"]', '"c"'), 'false', 'in: not a member');
SELECT is(pg_temp.tri('in', '[1,2.0]', '2'), 'true', 'in: numbers by value');
SELECT is(pg_temp.tri('in', '["2"]', '2'), 'false', 'in: other type is not a member');
SELECT is(pg_temp.tri('not_in', '["a","b"]', '"c"'), 'true', 'not_in: not a member');
SELECT is(pg_temp.tri('not_in', '["a"]', '"a"'), 'false', 'not_in: member');
-- is_empty / is_not_empty
SELECT is(pg_temp.tri('is_empty', NULL, '""'), 'true', 'is_empty: ""');
SELECT is(pg_temp.tri('is_empty', NULL, '[]'), 'true', 'is_empty: []');
SELECT is(pg_temp.tri('is_empty', NULL, '{}'), 'true', 'is_empty: {}');
SELECT is(pg_temp.tri('is_empty', NULL, 'null'), 'true', 'is_empty: null');
SELECT is(pg_temp.tri('is_empty', NULL, '"x"'), 'false', 'is_empty: "x"');
SELECT is(pg_temp.tri('is_empty', NULL, '0'), 'false', 'is_empty: 0 is not empty');
SELECT is(pg_temp.tri('is_empty', NULL, '" "'), 'false', 'is_empty: a space is not empty');
SELECT is(pg_temp.tri('is_not_empty', NULL, '[0]'), 'true', 'is_not_empty: [0]');
SELECT is(pg_temp.tri('is_not_empty', NULL, '""'), 'false', 'is_not_empty: ""');
SELECT is(pg_temp.tri('is_not_empty', NULL, 'false'), 'true', 'is_not_empty: false is a value');
-- exists / not_exists
SELECT is(pg_temp.tri('exists', NULL, '"v"'), 'true', 'exists: present');
SELECT is(pg_temp.tri('exists', NULL, 'null'), 'true', 'exists: a JSON null exists');
SELECT is(pg_temp.tri('not_exists', NULL, '1'), 'false', 'not_exists: present');
-- the operator defaults to equals
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","right":"a"}]', '{"x":"a"}')), 'yes',
		  'no operator: equals (true)');
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","right":"a"}]', '{"x":"b"}')), 'no',
		  'no operator: equals (false)');
-- templates on the right resolve too (strictly)
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","operator":"gt","right":"{{trigger.payload.limit}}"}]',
											 '{"x":100.5,"limit":100}')), 'yes', 'right from a template keeps its number type');

-- ---------------------------------------------------------------- missing left

SELECT is(pg_temp.tri('exists', NULL, NULL), 'false', 'missing left: exists is false');
SELECT is(pg_temp.tri('not_exists', NULL, NULL), 'true', 'missing left: not_exists is true');
SELECT is(pg_temp.tri('is_empty', NULL, NULL), 'true', 'missing left: is_empty is true');
SELECT is(pg_temp.tri('is_not_empty', NULL, NULL), 'false', 'missing left: is_not_empty is false');
SELECT is(pg_temp.tri('equals', '"a"', NULL), 'undecided', 'missing left: equals is undecided');
SELECT is(pg_temp.tri('not_equals', '"a"', NULL), 'undecided', 'missing left: not_equals is undecided');
SELECT is(pg_temp.tri('gt', '1', NULL), 'undecided', 'missing left: gt is undecided');
SELECT is(pg_temp.tri('gte', '1', NULL), 'undecided', 'missing left: gte is undecided');
SELECT is(pg_temp.tri('lt', '1', NULL), 'undecided', 'missing left: lt is undecided');
SELECT is(pg_temp.tri('lte', '1', NULL), 'undecided', 'missing left: lte is undecided');
SELECT is(pg_temp.tri('contains', '"a"', NULL), 'undecided', 'missing left: contains is undecided');
SELECT is(pg_temp.tri('not_contains', '"a"', NULL), 'undecided', 'missing left: not_contains is undecided');
SELECT is(pg_temp.tri('starts_with', '"a"', NULL), 'undecided', 'missing left: starts_with is undecided');
SELECT is(pg_temp.tri('ends_with', '"a"', NULL), 'undecided', 'missing left: ends_with is undecided');
SELECT is(pg_temp.tri('matches', '"a"', NULL), 'undecided', 'missing left: matches is undecided');
SELECT is(pg_temp.tri('in', '["a"]', NULL), 'undecided', 'missing left: in is undecided');
SELECT is(pg_temp.tri('not_in', '["a"]', NULL), 'undecided', 'missing left: not_in is undecided');
-- a missing path inside longer text is missing too
SELECT is(pg_temp.outcome(pg_temp.cond_run(
	'{"fallbackToAI":true,"conditions":[{"left":"id-{{trigger.payload.nope}}","operator":"equals","right":"id-"}]}', '{}')),
	'error INVALID_CONFIG', 'missing path inside text: undecided');
-- without fallbackToAI, undecided is false
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","operator":"equals","right":"a"}]')), 'no',
		  'undecided without fallbackToAI takes the false branch');
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","operator":"not_equals","right":"a"}]')), 'no',
		  'undecided not_equals is not true either');
SELECT alike((pg_temp.cond_run('{"fallbackToAI":true,"conditions":[{"left":"{{trigger.payload.x}}","right":1}]}', '{}'))->'error'->>'message',
			'%fallbackToAI%', 'the undecided fallback without a model names fallbackToAI');
-- a default makes the path resolve
SELECT is(pg_temp.outcome(pg_temp.cond_run(
	'{"fallbackToAI":true,"conditions":[{"left":"{{trigger.payload.x | 7}}","operator":"equals","right":7}]}', '{}')),
	'yes', '{{path | default}} is not missing');

-- ---------------------------------------------------------------- groups

-- and (default) / or at the top
SELECT is(pg_temp.outcome(pg_temp.rules_run(
	'[{"left":"{{trigger.payload.a}}","operator":"gt","right":1},{"left":"{{trigger.payload.b}}","operator":"equals","right":"x"}]',
	'{"a":2,"b":"x"}')), 'yes', 'and: both true');
SELECT is(pg_temp.outcome(pg_temp.rules_run(
	'[{"left":"{{trigger.payload.a}}","operator":"gt","right":1},{"left":"{{trigger.payload.b}}","operator":"equals","right":"x"}]',
	'{"a":2,"b":"y"}')), 'no', 'and: one false');
SELECT is(pg_temp.outcome(pg_temp.cond_run(
	'{"combinator":"or","conditions":[{"left":"{{trigger.payload.a}}","operator":"gt","right":1},{"left":"{{trigger.payload.b}}","operator":"equals","right":"x"}]}',
	'{"a":0,"b":"x"}')), 'yes', 'or: one true');
SELECT is(pg_temp.outcome(pg_temp.cond_run(
	'{"combinator":"{{trigger.payload.comb}}","conditions":[{"left":"{{trigger.payload.a}}","operator":"gt","right":1},{"left":"{{trigger.payload.b}}","operator":"equals","right":"x"}]}',
	'{"a":0,"b":"y","comb":"OR"}')), 'no', 'or (from a template, any case): none true');
SELECT is(pg_temp.outcome(pg_temp.cond_run('{"conditions":[]}', '{}')), 'yes', 'empty and is true');
SELECT is(pg_temp.outcome(pg_temp.cond_run('{"combinator":"or","conditions":[]}', '{}')), 'no', 'empty or is false');
-- nested: (a > 1 and (b = x or c exists)) with three-valued logic
CREATE FUNCTION pg_temp.nested(payload jsonb, comb text DEFAULT 'and') RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.outcome(pg_temp.cond_run(jsonb_build_object('fallbackToAI', true, 'combinator', comb,
		'conditions', '[{"left":"{{trigger.payload.a}}","operator":"gt","right":1},
						{"combinator":"or","conditions":[
							{"left":"{{trigger.payload.b}}","operator":"equals","right":"x"},
							{"left":"{{trigger.payload.c}}","operator":"exists"}]}]'::jsonb), payload))
$$;
SELECT is(pg_temp.nested('{"a":2,"b":"x"}'), 'yes', 'nested: a>1 and (b=x or c exists): true via b');
SELECT is(pg_temp.nested('{"a":2,"b":"y","c":null}'), 'yes', 'nested: true via c exists');
SELECT is(pg_temp.nested('{"a":2,"b":"y"}'), 'no', 'nested: inner or false');
SELECT is(pg_temp.nested('{"a":1,"b":"x"}'), 'no', 'nested: a>1 false');
SELECT is(pg_temp.nested('{"b":"x"}'), 'error INVALID_CONFIG', 'nested: a missing and the rest true: undecided');
SELECT is(pg_temp.nested('{"a":2}'), 'error INVALID_CONFIG', 'nested: b missing, c missing: or(undecided, false) is undecided');
SELECT is(pg_temp.nested('{"a":2,"c":1}'), 'yes', 'nested: or(undecided, true) is true');
SELECT is(pg_temp.nested('{"b":"y"}'), 'no', 'nested: and(undecided, or(false, false)) is false');
SELECT is(pg_temp.nested('{"a":0}'), 'no', 'nested: and(false, undecided) is false');
SELECT is(pg_temp.nested('{"b":"x"}', 'or'), 'yes', 'nested or: or(undecided, true) is true');

-- ---------------------------------------------------------------- branches

INSERT INTO runs VALUES ('t', pg_temp.rules_run('[{"left":"{{trigger.payload.n}}","operator":"gte","right":10}]', '{"n":10}'));
INSERT INTO runs VALUES ('f', pg_temp.rules_run('[{"left":"{{trigger.payload.n}}","operator":"gte","right":10}]', '{"n":9.99}'));
SELECT is((SELECT r->>'status' FROM runs WHERE name = 't'), 'success', 'true run succeeds');
SELECT is((SELECT r->'output' FROM runs WHERE name = 't'), '"yes"'::jsonb, 'true run: output of the true branch');
SELECT is((pg_temp.node_log('t', 'c')).output, '{"result":true,"branch":"true"}'::jsonb, 'condition output {result, branch} (true)');
SELECT is((pg_temp.node_log('t', 'c')).handle, 'true', 'condition log: handle true');
SELECT is((pg_temp.node_log('t', 'yes')).status::text, 'success', 'true branch node ran');
SELECT is((pg_temp.node_log('t', 'no')).status::text, 'skipped', 'false branch node skipped');
SELECT is((SELECT r->'output' FROM runs WHERE name = 'f'), '"no"'::jsonb, 'false run: output of the false branch');
SELECT is((pg_temp.node_log('f', 'c')).output, '{"result":false,"branch":"false"}'::jsonb, 'condition output {result, branch} (false)');
SELECT is((pg_temp.node_log('f', 'yes')).status::text, 'skipped', 'true branch node skipped');
SELECT is((pg_temp.node_log('f', 'no')).status::text, 'success', 'false branch node ran');

-- ---------------------------------------------------------------- errors

INSERT INTO runs VALUES ('badop', pg_temp.rules_run(
	'[{"left":"{{trigger.payload.x}}","operator":"equals","right":1},{"left":"{{trigger.payload.x}}","operator":"{{trigger.payload.op}}","right":1}]',
	'{"x":1,"op":"eq"}'));
-- TODO until the validator (src/pg/workflow.c check_rules) lets an operator
-- that is a template through to run time: it rejects "{{…}}" as unknown.
SELECT is((SELECT r->>'status' FROM runs WHERE name = 'badop'), 'error', 'unknown operator: status error');
SELECT is((SELECT r->'error'->>'code' FROM runs WHERE name = 'badop'), 'INVALID_CONFIG', 'unknown operator: INVALID_CONFIG');
SELECT alike((SELECT r->'error'->>'message' FROM runs WHERE name = 'badop'),
			'%conditions[1].operator: unknown operator "eq"; expected one of equals, not_equals, %', 'unknown operator: message names the field and the valid names');
SELECT is((SELECT r->'error'->>'nodeId' FROM runs WHERE name = 'badop'), 'c', 'unknown operator: error names the node');

INSERT INTO runs VALUES ('badre', pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","operator":"matches","right":"a(b"}]', '{"x":"ab"}'));
SELECT is((SELECT r->'error'->>'code' FROM runs WHERE name = 'badre'), 'INVALID_CONFIG', 'bad regex: INVALID_CONFIG');
SELECT alike((SELECT r->'error'->>'message' FROM runs WHERE name = 'badre'), '%conditions[0].right: invalid regular expression "a(b"%',
			'bad regex: message names the field');
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","operator":"matches","right":"a(b"}]')),
		  'error INVALID_CONFIG', 'bad regex fails even when left is missing');

INSERT INTO runs VALUES ('inarr', pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","operator":"in","right":"abc"}]', '{"x":"a"}'));
SELECT is((SELECT r->'error'->>'code' FROM runs WHERE name = 'inarr'), 'INVALID_CONFIG', 'in without an array: INVALID_CONFIG');
SELECT alike((SELECT r->'error'->>'message' FROM runs WHERE name = 'inarr'), '%conditions[0].right: operator in needs an array, got string%',
			'in without an array: message names the field');
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":"{{trigger.payload.x}}","operator":"not_in","right":{"a":1}}]', '{"x":"a"}')),
		  'error INVALID_CONFIG', 'not_in with an object: INVALID_CONFIG');

SELECT alike(pg_temp.rules_run('[{"left":1,"operator":"equals","right":1},{"combinator":"and","conditions":[{"foo":1}]}]')->'error'->>'message',
			'%conditions[1].conditions[0]: expected a rule%', 'neither rule nor group: INVALID_CONFIG naming its nested path');
SELECT alike(pg_temp.rules_run('[{"foo":1}]')->'error'->>'message', '%conditions[0]: expected a rule%', 'object without rule fields: named');
SELECT alike(pg_temp.rules_run('[{"left":1,"operator":"gt"}]')->'error'->>'message', '%conditions[0].right: required by operator gt%',
			'missing right: named');
SELECT alike(pg_temp.cond_run('{"combinator":"{{trigger.payload.c}}","conditions":[]}', '{"c":"xor"}')->'error'->>'message', '%combinator: unknown combinator "xor"%',
			'unknown combinator: named');
SELECT alike(pg_temp.cond_run('{"conditions":"{{trigger.payload.conds}}"}', '{"conds":{"left":1}}')->'error'->>'message',
			'%conditions: must be an array%', 'conditions (from a template) not an array: named');
SELECT is(pg_temp.outcome(pg_temp.cond_run('{"conditions":"{{trigger.payload.conds}}"}',
	'{"x":"a","conds":[{"left":"{{trigger.payload.x}}","operator":"equals","right":"a"}]}')), 'no',
	'conditions from a template are data: their {{…}} is not resolved again');
SELECT ok(EXISTS (SELECT 1 FROM jsonb_array_elements(flowent.validate(
			pg_temp.cond_nodes('{"conditions":[{"left":1,"operator":"eq","right":1}]}'), pg_temp.cond_edges())->'errors') e
		  WHERE e->>'message' LIKE '%conditions[0].operator%unknown operator%'),
		  'validate: a literal unknown operator is reported before running');
SELECT is(pg_temp.outcome(pg_temp.rules_run('[{"left":1,"operator":"equals","right":"{{trigger.payload.nope}}"}]')),
		  'error VARIABLE_NOT_FOUND', 'right resolves strictly');
SELECT is(pg_temp.outcome(pg_temp.cond_run('{"fallbackToAI":"{{trigger.payload.fb}}","conditions":[]}', '{"fb":"yes"}')), 'error INVALID_CONFIG',
		  'fallbackToAI must be a boolean');

-- ---------------------------------------------------------------- switch

-- trigger -> switch s -> a / b / none (default)
CREATE FUNCTION pg_temp.switch_run(sdata jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.safe_run(flowent.create_workflow('nodes_condition switch',
		jsonb_build_array(
			'{"id":"t","type":"trigger","position":{"x":0,"y":0},"data":{"label":"Start"}}'::jsonb,
			jsonb_build_object('id', 's', 'type', 'switch', 'position', '{"x":200,"y":0}'::jsonb,
							   'data', '{"label":"Route"}'::jsonb || sdata),
			'{"id":"oa","type":"output","position":{"x":400,"y":0},"data":{"label":"A","value":"A"}}'::jsonb,
			'{"id":"ob","type":"output","position":{"x":400,"y":100},"data":{"label":"B","value":"B"}}'::jsonb,
			'{"id":"od","type":"output","position":{"x":400,"y":200},"data":{"label":"D","value":"D"}}'::jsonb),
		'[{"id":"e1","source":"t","target":"s"},
		  {"id":"e2","source":"s","target":"oa","sourceHandle":"a"},
		  {"id":"e3","source":"s","target":"ob","sourceHandle":"b"},
		  {"id":"e4","source":"s","target":"od","sourceHandle":"default"}]'::jsonb), payload)
$$;
CREATE FUNCTION pg_temp.sw(payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.switch_run('{"value":"{{trigger.payload.kind}}",
		"cases":[{"id":"a","right":"alpha"},
				 {"id":"b","operator":"in","right":["beta","gamma"]},
				 {"id":"c","operator":"equals","right":"beta"}]}', payload)
$$;
INSERT INTO runs VALUES ('sa', pg_temp.sw('{"kind":"alpha"}')), ('sb', pg_temp.sw('{"kind":"beta"}')),
	('sd', pg_temp.sw('{"kind":"zeta"}')), ('sm', pg_temp.sw('{}'));
SELECT is((SELECT r->'output' FROM runs WHERE name = 'sa'), '"A"'::jsonb, 'switch: equals (default operator) case routes to a');
SELECT is((pg_temp.node_log('sa', 's')).output, '{"value":"alpha","case":"a"}'::jsonb, 'switch output {value, case}');
SELECT is((pg_temp.node_log('sa', 's')).handle, 'a', 'switch log: handle a');
SELECT is((pg_temp.node_log('sa', 'ob')).status::text, 'skipped', 'switch: other case skipped');
SELECT is((pg_temp.node_log('sa', 'od')).status::text, 'skipped', 'switch: default skipped');
SELECT is((SELECT r->'output' FROM runs WHERE name = 'sb'), '"B"'::jsonb, 'switch: first matching case wins (b before the later c)');
SELECT is((SELECT r->'output' FROM runs WHERE name = 'sd'), '"D"'::jsonb, 'switch: no case: default');
SELECT is((pg_temp.node_log('sd', 's')).output, '{"value":"zeta","case":"default"}'::jsonb, 'switch default output');
SELECT is((SELECT r->'output' FROM runs WHERE name = 'sm'), '"D"'::jsonb, 'switch: missing value matches no equals case');
SELECT is((pg_temp.node_log('sm', 's')).output, '{"value":null,"case":"default"}'::jsonb, 'switch: missing value shown as null');
SELECT is(pg_temp.switch_run('{"value":"{{trigger.payload.kind}}","cases":[{"id":"a","operator":"exists"},{"id":"b","operator":"not_exists"}]}',
							 '{}')->'output', '"B"'::jsonb, 'switch: missing value matches not_exists');
SELECT is(pg_temp.switch_run('{"value":"{{trigger.payload.n}}","cases":[{"id":"a","operator":"lt","right":10},{"id":"b","operator":"gte","right":10}]}',
							 '{"n":10.0}')->'output', '"B"'::jsonb, 'switch: numeric operators');
SELECT alike(pg_temp.switch_run('{"value":1,"cases":[{"id":"a","operator":"{{trigger.payload.op}}","right":1},{"id":"b","right":2}]}', '{"op":"eq"}')->'error'->>'message',
			'%cases[0].operator: unknown operator "eq"%', 'switch: unknown operator named');

-- ---------------------------------------------------------------- filter

-- trigger -> filter f -> output (value: the filter's output)
CREATE FUNCTION pg_temp.filter_run(fdata jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.safe_run(flowent.create_workflow('nodes_condition filter',
		jsonb_build_array(
			'{"id":"t","type":"trigger","position":{"x":0,"y":0},"data":{"label":"Start"}}'::jsonb,
			jsonb_build_object('id', 'f', 'type', 'filter', 'position', '{"x":200,"y":0}'::jsonb,
							   'data', '{"label":"Keep"}'::jsonb || fdata),
			'{"id":"o","type":"output","position":{"x":400,"y":0},"data":{"label":"Out"}}'::jsonb),
		'[{"id":"e1","source":"t","target":"f"},{"id":"e2","source":"f","target":"o"}]'::jsonb), payload)
$$;
SELECT is(pg_temp.filter_run('{"items":"{{trigger.payload.items}}","conditions":[{"left":"{{item.price}}","operator":"gt","right":10}]}',
	'{"items":[{"id":1,"price":5},{"id":2,"price":10.01},{"id":3},{"id":4,"price":"20"},{"id":5,"price":99}]}')->'output',
	'[{"id":2,"price":10.01},{"id":5,"price":99}]'::jsonb, 'filter: {{item.x}} per element; missing and mistyped excluded');
SELECT is(pg_temp.filter_run('{"items":"{{trigger.payload.items}}","combinator":"or","conditions":[{"left":"{{item}}","operator":"starts_with","right":"a"},{"left":"{{item}}","operator":"in","right":["zz"]}]}',
	'{"items":["apple","banana","zz","avocado",1]}')->'output',
	'["apple","zz","avocado"]'::jsonb, 'filter: whole {{item}}, or combinator, order kept');
SELECT is(pg_temp.filter_run('{"items":"{{trigger.payload.items}}","conditions":[{"left":"{{item.tags}}","operator":"contains","right":"{{trigger.payload.tag}}"}]}',
	'{"tag":"x","items":[{"tags":["x","y"]},{"tags":["y"]},{"tags":[]}]}')->'output',
	'[{"tags":["x","y"]}]'::jsonb, 'filter: right may use other variables');
SELECT is(pg_temp.filter_run('{"items":[],"conditions":[{"left":"{{item}}","operator":"equals","right":1}]}', '{}')->'output',
	'[]'::jsonb, 'filter: empty items');
SELECT is(pg_temp.filter_run('{"items":[{"a":1},{"b":2}],"conditions":[{"left":"{{item.a}}","operator":"not_exists"}]}', '{}')->'output',
	'[{"b":2}]'::jsonb, 'filter: not_exists on a missing item field');
SELECT is(pg_temp.outcome(pg_temp.filter_run('{"items":"{{trigger.payload.items}}","conditions":[]}', '{"items":{"a":1}}')),
	'error INVALID_CONFIG', 'filter: items must be an array');
SELECT alike(pg_temp.filter_run('{"items":"{{trigger.payload.items}}","conditions":[]}', '{"items":"abc"}')->'error'->>'message',
	'%items: must resolve to an array, got string%', 'filter: items error names the field');
SELECT is(pg_temp.outcome(pg_temp.filter_run('{"items":"{{trigger.payload.nope}}","conditions":[]}', '{}')),
	'error VARIABLE_NOT_FOUND', 'filter: items resolve strictly');
SELECT alike(pg_temp.filter_run('{"items":[1,2],"conditions":[{"left":"{{item}}","operator":"matches","right":"("}]}', '{}')->'error'->>'message',
	'%conditions[0].right: invalid regular expression%', 'filter: bad regex named');

SELECT * FROM finish();
ROLLBACK;
