-- engine_graph.sql: graph execution semantics (DESIGN §4, Appendix B "Graph").
--
-- Dead-path elimination after condition and switch branches (joins run exactly
-- once, skipped nodes are logged 'skipped' and their successors die too),
-- switch routing with default, merge in object and array mode (array follows
-- the edges order), several triggers, the execution output (last output node
-- that ran, else the last node that completed), and ready nodes running in
-- the order of the nodes array (seq order of the node logs).
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
SELECT plan(71);

-- ---------------------------------------------------------------- helpers

\ir helpers.psql
-- flowent.run with a raised error turned into {status: "raised", error}

CREATE TEMP TABLE runs (name text PRIMARY KEY, r jsonb);
CREATE FUNCTION pg_temp.ex(run text) RETURNS uuid LANGUAGE sql AS $$
	SELECT (r->>'executionId')::uuid FROM runs WHERE name = run
$$;
CREATE FUNCTION pg_temp.res(run text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT r FROM runs WHERE name = run
$$;
-- "node:status" of every log row of a run, in seq order
CREATE FUNCTION pg_temp.trace(run text) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(node_id || ':' || status, ' ' ORDER BY seq)
	FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex(run)
$$;
-- "node:status" of every log row of a run, by node id
CREATE FUNCTION pg_temp.states(run text) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(node_id || ':' || status, ' ' ORDER BY node_id COLLATE "C", seq)
	FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex(run)
$$;
-- number of log rows of node with the status
CREATE FUNCTION pg_temp.cnt(run text, node text, st text DEFAULT 'success') RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM flowent.workflow_node_logs
	WHERE execution_id = pg_temp.ex(run) AND node_id = node AND status::text = st
$$;
-- the (last) output of a node
CREATE FUNCTION pg_temp.out(run text, node text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT output FROM flowent.workflow_node_logs
	WHERE execution_id = pg_temp.ex(run) AND node_id = node ORDER BY seq DESC LIMIT 1
$$;
CREATE FUNCTION pg_temp.handle(run text, node text) RETURNS text LANGUAGE sql AS $$
	SELECT handle FROM flowent.workflow_node_logs
	WHERE execution_id = pg_temp.ex(run) AND node_id = node ORDER BY seq DESC LIMIT 1
$$;

-- ------------------------------------------------ condition: dead-path elimination
-- t -> c; c.true -> a -> j; c.false -> b -> b2 -> j; j is an output without value.
CREATE TEMP TABLE wf (name text PRIMARY KEY, id uuid);
INSERT INTO wf VALUES ('cond', flowent.create_workflow('graph cond',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('c', 'condition', '{"conditions":[{"left":"{{trigger.payload.x}}","operator":"gt","right":5}]}'),
		pg_temp.n('a', 'set-variable', '{"name":"v","value":"yes"}'),
		pg_temp.n('b', 'set-variable', '{"name":"v","value":"no"}'),
		pg_temp.n('b2', 'set-variable', '{"name":"w","value":"no2"}'),
		pg_temp.n('j', 'output')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 'c'),
		pg_temp.e('e2', 'c', 'a', 'true'),
		pg_temp.e('e3', 'c', 'b', 'false'),
		pg_temp.e('e4', 'a', 'j'),
		pg_temp.e('e5', 'b', 'b2'),
		pg_temp.e('e6', 'b2', 'j'))));

INSERT INTO runs SELECT 'cond_true', pg_temp.safe_run(id, '{"x":10}') FROM wf WHERE name = 'cond';
INSERT INTO runs SELECT 'cond_false', pg_temp.safe_run(id, '{"x":1}') FROM wf WHERE name = 'cond';

SELECT is(pg_temp.res('cond_true')->>'status', 'success', 'condition true: run succeeds');
SELECT is(pg_temp.res('cond_true')->'output', '"yes"'::jsonb, 'condition true: output is the true branch value');
SELECT is(pg_temp.res('cond_true')->'error', 'null'::jsonb, 'condition true: error is null');
SELECT is(pg_temp.out('cond_true', 'c'), '{"result":true,"branch":"true"}'::jsonb, 'condition true: condition output {result, branch}');
SELECT is(pg_temp.handle('cond_true', 'c'), 'true', 'condition true: log handle is "true"');
SELECT is(pg_temp.cnt('cond_true', 'a'), 1::bigint, 'condition true: a ran once');
SELECT is(pg_temp.cnt('cond_true', 'b', 'skipped'), 1::bigint, 'condition true: b logged skipped');
SELECT is(pg_temp.cnt('cond_true', 'b', 'success'), 0::bigint, 'condition true: b never succeeded');
SELECT is(pg_temp.cnt('cond_true', 'b2', 'skipped'), 1::bigint, 'condition true: b2 (behind a skipped node) logged skipped');
SELECT is(pg_temp.cnt('cond_true', 'j'), 1::bigint, 'condition true: the join j runs exactly once');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('cond_true')),
		  6::bigint, 'condition true: one log row per node');

SELECT is(pg_temp.res('cond_false')->>'status', 'success', 'condition false: run succeeds');
SELECT is(pg_temp.res('cond_false')->'output', '"no2"'::jsonb, 'condition false: output is the false branch value');
SELECT is(pg_temp.out('cond_false', 'c'), '{"result":false,"branch":"false"}'::jsonb, 'condition false: condition output');
SELECT is(pg_temp.handle('cond_false', 'c'), 'false', 'condition false: log handle is "false"');
SELECT is(pg_temp.cnt('cond_false', 'a', 'skipped'), 1::bigint, 'condition false: a logged skipped');
SELECT is(pg_temp.cnt('cond_false', 'a', 'success'), 0::bigint, 'condition false: a never succeeded');
SELECT is(pg_temp.cnt('cond_false', 'b'), 1::bigint, 'condition false: b ran once');
SELECT is(pg_temp.cnt('cond_false', 'b2'), 1::bigint, 'condition false: b2 ran once');
SELECT is(pg_temp.cnt('cond_false', 'j'), 1::bigint, 'condition false: the join j runs exactly once');
SELECT is(pg_temp.out('cond_false', 'j'), '"no2"'::jsonb, 'condition false: j input is the single live predecessor output');

-- ------------------------------------------------ plain diamond: join sees inputs by id
INSERT INTO wf VALUES ('diamond', flowent.create_workflow('graph diamond',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":1}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":2}'),
		pg_temp.n('j', 'output')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 't', 'b'),
		pg_temp.e('e3', 'a', 'j'), pg_temp.e('e4', 'b', 'j'))));
INSERT INTO runs SELECT 'diamond', pg_temp.safe_run(id) FROM wf WHERE name = 'diamond';
SELECT is(pg_temp.res('diamond')->>'status', 'success', 'diamond: success');
SELECT is(pg_temp.cnt('diamond', 'j'), 1::bigint, 'diamond: join runs exactly once');
SELECT is(pg_temp.res('diamond')->'output', '{"a":1,"b":2}'::jsonb, 'diamond: join input is keyed by predecessor id');

-- ------------------------------------------------ switch routing + default
INSERT INTO wf VALUES ('switch', flowent.create_workflow('graph switch',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('s', 'switch', '{"value":"{{trigger.payload.color}}","cases":[{"id":"red","right":"red"},{"id":"blue","operator":"equals","right":"blue"},{"id":"big","operator":"gt","right":100}]}'),
		pg_temp.n('r', 'output', '{"value":"is red"}'),
		pg_temp.n('bl', 'output', '{"value":"is blue"}'),
		pg_temp.n('bg', 'output', '{"value":"is big"}'),
		pg_temp.n('d', 'output', '{"value":"other"}')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 's'),
		pg_temp.e('e2', 's', 'r', 'red'),
		pg_temp.e('e3', 's', 'bl', 'blue'),
		pg_temp.e('e4', 's', 'bg', 'big'),
		pg_temp.e('e5', 's', 'd', 'default'))));
INSERT INTO runs SELECT 'sw_red', pg_temp.safe_run(id, '{"color":"red"}') FROM wf WHERE name = 'switch';
INSERT INTO runs SELECT 'sw_blue', pg_temp.safe_run(id, '{"color":"blue"}') FROM wf WHERE name = 'switch';
INSERT INTO runs SELECT 'sw_big', pg_temp.safe_run(id, '{"color":150}') FROM wf WHERE name = 'switch';
INSERT INTO runs SELECT 'sw_other', pg_temp.safe_run(id, '{"color":"green"}') FROM wf WHERE name = 'switch';

SELECT is(pg_temp.res('sw_red')->'output', '"is red"'::jsonb, 'switch: red case routes to r');
SELECT is(pg_temp.out('sw_red', 's'), '{"value":"red","case":"red"}'::jsonb, 'switch: output {value, case}');
SELECT is(pg_temp.handle('sw_red', 's'), 'red', 'switch: log handle is the case id');
SELECT is(pg_temp.states('sw_red'), 'bg:skipped bl:skipped d:skipped r:success s:success t:success',
		  'switch red: other cases and default skipped');
SELECT is(pg_temp.res('sw_blue')->'output', '"is blue"'::jsonb, 'switch: explicit equals operator');
SELECT is(pg_temp.cnt('sw_blue', 'r', 'skipped'), 1::bigint, 'switch blue: red skipped');
SELECT is(pg_temp.res('sw_big')->'output', '"is big"'::jsonb, 'switch: gt operator on a number');
SELECT is(pg_temp.res('sw_other')->'output', '"other"'::jsonb, 'switch: no case matches -> default');
SELECT is(pg_temp.out('sw_other', 's'), '{"value":"green","case":"default"}'::jsonb, 'switch default: output case "default"');
SELECT is(pg_temp.handle('sw_other', 's'), 'default', 'switch default: log handle "default"');
SELECT is(pg_temp.states('sw_other'), 'bg:skipped bl:skipped d:success r:skipped s:success t:success',
		  'switch default: every case branch skipped');

-- ------------------------------------------------ merge: object mode, array mode
-- nodes order a, b; edges order into m: b first, then a
INSERT INTO wf VALUES ('merge_obj', flowent.create_workflow('graph merge obj',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":{"k":"A"}}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":[1,2]}'),
		pg_temp.n('m', 'merge'),
		pg_temp.n('o', 'output')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 't', 'b'),
		pg_temp.e('e3', 'b', 'm'), pg_temp.e('e4', 'a', 'm'), pg_temp.e('e5', 'm', 'o'))));
INSERT INTO wf VALUES ('merge_arr', flowent.create_workflow('graph merge arr',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":{"k":"A"}}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":[1,2]}'),
		pg_temp.n('c', 'set-variable', '{"name":"c","value":"C"}'),
		pg_temp.n('m', 'merge', '{"mode":"array"}'),
		pg_temp.n('o', 'output')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 't', 'b'), pg_temp.e('e2c', 't', 'c'),
		pg_temp.e('e3', 'c', 'm'), pg_temp.e('e4', 'b', 'm'), pg_temp.e('e5', 'a', 'm'),
		pg_temp.e('e6', 'm', 'o'))));
-- merge after a branch: only the live input is merged
INSERT INTO wf VALUES ('merge_branch', flowent.create_workflow('graph merge branch',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('c', 'condition', '{"conditions":[{"left":"{{trigger.payload.ok}}","operator":"equals","right":true}]}'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":"A"}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":"B"}'),
		pg_temp.n('d', 'set-variable', '{"name":"d","value":"D"}'),
		pg_temp.n('m', 'merge'),
		pg_temp.n('o', 'output')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 'c'), pg_temp.e('e1d', 't', 'd'),
		pg_temp.e('e2', 'c', 'a', 'true'), pg_temp.e('e3', 'c', 'b', 'false'),
		pg_temp.e('e4', 'a', 'm'), pg_temp.e('e5', 'b', 'm'), pg_temp.e('e5d', 'd', 'm'),
		pg_temp.e('e6', 'm', 'o'))));
INSERT INTO runs SELECT 'merge_obj', pg_temp.safe_run(id) FROM wf WHERE name = 'merge_obj';
INSERT INTO runs SELECT 'merge_arr', pg_temp.safe_run(id) FROM wf WHERE name = 'merge_arr';
INSERT INTO runs SELECT 'merge_branch', pg_temp.safe_run(id, '{"ok":true}') FROM wf WHERE name = 'merge_branch';

SELECT is(pg_temp.res('merge_obj')->>'status', 'success', 'merge object: success');
SELECT is(pg_temp.out('merge_obj', 'm'), '{"a":{"k":"A"},"b":[1,2]}'::jsonb, 'merge object: keyed by node id');
SELECT is(pg_temp.res('merge_obj')->'output', '{"a":{"k":"A"},"b":[1,2]}'::jsonb, 'merge object: flows to output');
SELECT is(pg_temp.cnt('merge_obj', 'm'), 1::bigint, 'merge object: merge runs once');
SELECT is(pg_temp.out('merge_arr', 'm'), '["C",[1,2],{"k":"A"}]'::jsonb, 'merge array: in edges order (c, b, a), not nodes order');
SELECT is(pg_temp.cnt('merge_arr', 'm'), 1::bigint, 'merge array: merge runs once');
SELECT is(pg_temp.out('merge_branch', 'm'), '{"a":"A","d":"D"}'::jsonb, 'merge after a branch: only live inputs');
SELECT is(pg_temp.cnt('merge_branch', 'b', 'skipped'), 1::bigint, 'merge after a branch: dead input skipped');
SELECT is(pg_temp.cnt('merge_branch', 'm'), 1::bigint, 'merge after a branch: merge runs exactly once');

-- ------------------------------------------------ multiple triggers
-- two manual triggers: a manual run starts both (a webhook-type trigger is
-- logged skipped on a manual run; the contract is silent on that, not tested)
INSERT INTO wf VALUES ('two_triggers', flowent.create_workflow('graph triggers',
	jsonb_build_array(
		pg_temp.n('t1', 'trigger'),
		pg_temp.n('t2', 'trigger'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":"{{t1.p}}"}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":"{{t2.p}}"}'),
		pg_temp.n('m', 'merge')),
	jsonb_build_array(
		pg_temp.e('e1', 't1', 'a'), pg_temp.e('e2', 't2', 'b'),
		pg_temp.e('e3', 'a', 'm'), pg_temp.e('e4', 'b', 'm'))));
INSERT INTO runs SELECT 'two_triggers', pg_temp.safe_run(id, '{"p":7}') FROM wf WHERE name = 'two_triggers';
SELECT is(pg_temp.res('two_triggers')->>'status', 'success', 'two triggers: success');
SELECT is(pg_temp.out('two_triggers', 't1'), '{"p":7}'::jsonb, 'two triggers: t1 outputs the payload');
SELECT is(pg_temp.out('two_triggers', 't2'), '{"p":7}'::jsonb, 'two triggers: t2 outputs the payload');
SELECT is(pg_temp.res('two_triggers')->'output', '{"a":7,"b":7}'::jsonb,
		  'two triggers: both paths run; no output node -> last completed node (merge)');
SELECT is(pg_temp.cnt('two_triggers', 'm'), 1::bigint, 'two triggers: merge runs once');

-- ------------------------------------------------ execution output
-- two output nodes that both run: the last one that ran wins
INSERT INTO wf VALUES ('two_outputs', flowent.create_workflow('graph two outputs',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('o1', 'output', '{"value":"first"}'),
		pg_temp.n('x', 'set-variable', '{"name":"x","value":"X"}'),
		pg_temp.n('o2', 'output', '{"value":"second"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'o1'), pg_temp.e('e2', 't', 'x'), pg_temp.e('e3', 'x', 'o2'))));
INSERT INTO runs SELECT 'two_outputs', pg_temp.safe_run(id) FROM wf WHERE name = 'two_outputs';
SELECT is(pg_temp.res('two_outputs')->'output', '"second"'::jsonb, 'output: the last output node that ran');
SELECT is((SELECT output FROM flowent.workflow_executions WHERE id = pg_temp.ex('two_outputs')),
		  '"second"'::jsonb, 'output: stored on the execution row');

-- an output node and a sibling non-output node that completes after it
-- (nodes order o, z): still the output node's value
INSERT INTO wf VALUES ('out_then_more', flowent.create_workflow('graph out then more',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('o', 'output', '{"value":{"final":true}}'),
		pg_temp.n('z', 'set-variable', '{"name":"z","value":"late"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'o'), pg_temp.e('e2', 't', 'z'))));
INSERT INTO runs SELECT 'out_then_more', pg_temp.safe_run(id) FROM wf WHERE name = 'out_then_more';
SELECT is(pg_temp.res('out_then_more')->'output', '{"final":true}'::jsonb,
		  'output: an output node wins over a later non-output node');

-- output node on the dead branch: the other output node's value
INSERT INTO wf VALUES ('dead_output', flowent.create_workflow('graph dead output',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('c', 'condition', '{"conditions":[{"left":"{{trigger.payload.x}}","operator":"equals","right":1}]}'),
		pg_temp.n('oy', 'output', '{"value":"Y"}'),
		pg_temp.n('on', 'output', '{"value":"N"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'c'), pg_temp.e('e2', 'c', 'oy', 'true'), pg_temp.e('e3', 'c', 'on', 'false'))));
INSERT INTO runs SELECT 'dead_output', pg_temp.safe_run(id, '{"x":1}') FROM wf WHERE name = 'dead_output';
SELECT is(pg_temp.res('dead_output')->'output', '"Y"'::jsonb, 'output: a skipped output node does not count');

-- no output node: the last node that completed
INSERT INTO wf VALUES ('no_output', flowent.create_workflow('graph no output',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":"A"}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":"B"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'b'))));
INSERT INTO runs SELECT 'no_output', pg_temp.safe_run(id) FROM wf WHERE name = 'no_output';
SELECT is(pg_temp.res('no_output')->'output', '"B"'::jsonb, 'output: no output node -> last completed node');

-- only a trigger: its payload
INSERT INTO wf VALUES ('only_trigger', flowent.create_workflow('graph only trigger',
	jsonb_build_array(pg_temp.n('t', 'trigger')), '[]'));
INSERT INTO runs SELECT 'only_trigger', pg_temp.safe_run(id, '{"q":[1,2]}') FROM wf WHERE name = 'only_trigger';
SELECT is(pg_temp.res('only_trigger')->'output', '{"q":[1,2]}'::jsonb, 'output: a lone trigger outputs the payload');

-- output node without value: its input
SELECT is(pg_temp.res('cond_true')->'output', pg_temp.out('cond_true', 'a'), 'output without value: its input');

-- ------------------------------------------------ ready nodes run in nodes-array order
-- t fans out to x, y, z; nodes array lists z, x, y
INSERT INTO wf VALUES ('order', flowent.create_workflow('graph order',
	jsonb_build_array(
		pg_temp.n('z', 'set-variable', '{"name":"z","value":3}'),
		pg_temp.n('t', 'trigger'),
		pg_temp.n('x', 'set-variable', '{"name":"x","value":1}'),
		pg_temp.n('y', 'set-variable', '{"name":"y","value":2}'),
		pg_temp.n('w', 'set-variable', '{"name":"w","value":"after x"}')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 'x'), pg_temp.e('e2', 't', 'y'), pg_temp.e('e3', 't', 'z'),
		pg_temp.e('e4', 'x', 'w'))));
INSERT INTO runs SELECT 'order', pg_temp.safe_run(id) FROM wf WHERE name = 'order';
SELECT is(pg_temp.res('order')->>'status', 'success', 'order: success');
SELECT is((SELECT string_agg(node_id, ',' ORDER BY seq) FROM flowent.workflow_node_logs
		   WHERE execution_id = pg_temp.ex('order') AND node_id IN ('x', 'y', 'z')),
		  'z,x,y', 'order: ready siblings run in nodes-array order (z, x, y)');
SELECT ok((SELECT seq FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('order') AND node_id = 't')
		  < (SELECT min(seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('order') AND node_id <> 't'),
		  'order: the trigger runs first even when listed later');
SELECT ok((SELECT seq FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('order') AND node_id = 'w')
		  > (SELECT seq FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('order') AND node_id = 'x'),
		  'order: w runs after its predecessor x');
SELECT is((SELECT count(DISTINCT seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('order')),
		  5::bigint, 'order: distinct seq per log row');

-- ------------------------------------------------ nested branches, all-dead merge, lenient switch value
-- t -> c1; c1.true -> c2; c2.true -> a; c2.false -> b; a,b -> m (merge) -> o1;
-- c1.false -> z; z, o1's merge m... : m is fed only from inside c1.true, so when c1 is false,
-- a, b, c2, m, o1 are all skipped and o2 (after z) gives the output.
INSERT INTO wf VALUES ('nested', flowent.create_workflow('graph nested',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('c1', 'condition', '{"conditions":[{"left":"{{trigger.payload.x}}","operator":"gt","right":0}]}'),
		pg_temp.n('c2', 'condition', '{"conditions":[{"left":"{{trigger.payload.x}}","operator":"gt","right":10}]}'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":"big"}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":"small"}'),
		pg_temp.n('m', 'merge'),
		pg_temp.n('o1', 'output'),
		pg_temp.n('z', 'set-variable', '{"name":"z","value":"negative"}'),
		pg_temp.n('j', 'output', '{"value":{"m":"{{m | null}}","z":"{{z | null}}"}}')),
	jsonb_build_array(
		pg_temp.e('e1', 't', 'c1'),
		pg_temp.e('e2', 'c1', 'c2', 'true'), pg_temp.e('e3', 'c1', 'z', 'false'),
		pg_temp.e('e4', 'c2', 'a', 'true'), pg_temp.e('e5', 'c2', 'b', 'false'),
		pg_temp.e('e6', 'a', 'm'), pg_temp.e('e7', 'b', 'm'), pg_temp.e('e8', 'm', 'o1'),
		pg_temp.e('e9', 'm', 'j'), pg_temp.e('e10', 'z', 'j'))));
INSERT INTO runs SELECT 'nested_big', pg_temp.safe_run(id, '{"x":50}') FROM wf WHERE name = 'nested';
INSERT INTO runs SELECT 'nested_small', pg_temp.safe_run(id, '{"x":5}') FROM wf WHERE name = 'nested';
INSERT INTO runs SELECT 'nested_neg', pg_temp.safe_run(id, '{"x":-1}') FROM wf WHERE name = 'nested';
SELECT is(pg_temp.states('nested_big'), 'a:success b:skipped c1:success c2:success j:success m:success o1:success t:success z:skipped',
		  'nested big: inner true branch, z skipped');
SELECT is(pg_temp.out('nested_big', 'j'), '{"m":{"a":"big"},"z":null}'::jsonb, 'nested big: join runs with m; skipped z has no output');
SELECT is((SELECT input FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('nested_big') AND node_id = 'j'),
		  '{"a":"big"}'::jsonb, 'nested big: one live predecessor -> input is its output (not keyed by id)');
SELECT is(pg_temp.states('nested_small'), 'a:skipped b:success c1:success c2:success j:success m:success o1:success t:success z:skipped',
		  'nested small: inner false branch');
SELECT is(pg_temp.out('nested_small', 'm'), '{"b":"small"}'::jsonb, 'nested small: merge of the live input only');
SELECT is(pg_temp.states('nested_neg'), 'a:skipped b:skipped c1:success c2:skipped j:success m:skipped o1:skipped t:success z:success',
		  'nested negative: the whole inner sub-graph is skipped, merge with all inputs dead is skipped');
SELECT is(pg_temp.res('nested_neg')->'output', '{"m":null,"z":"negative"}'::jsonb,
		  'nested negative: join runs once with the outer false branch; o1 skipped so j is the output');
SELECT is(pg_temp.cnt('nested_neg', 'j'), 1::bigint, 'nested negative: join runs exactly once');

-- switch value that does not resolve: lenient, no case decided -> default
INSERT INTO runs SELECT 'sw_missing', pg_temp.safe_run(id, '{}') FROM wf WHERE name = 'switch';
SELECT is(pg_temp.res('sw_missing')->>'status' || ' ' || (pg_temp.res('sw_missing')->>'output'), 'success other',
		  'switch on a missing value: lenient -> default');
-- condition with a missing left: undecided -> false (no fallbackToAI)
INSERT INTO runs SELECT 'cond_missing', pg_temp.safe_run(id, '{}') FROM wf WHERE name = 'cond';
SELECT is(pg_temp.res('cond_missing')->>'status' || ' ' || (pg_temp.res('cond_missing')->>'output'), 'success no2',
		  'condition with a missing left: false branch');

SELECT * FROM finish();
ROLLBACK;
