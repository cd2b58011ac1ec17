-- engine_errors.sql: node failures, retries, stop-error, event sequence
-- numbers, limits and malformed options (DESIGN §4, §7, §9, Appendix B
-- "Errors", "Events", "Limits").
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
SELECT plan(69);

-- ---------------------------------------------------------------- helpers

\ir helpers.psql
CREATE TEMP TABLE runs (name text PRIMARY KEY, r jsonb);
CREATE FUNCTION pg_temp.res(run text) RETURNS jsonb LANGUAGE sql AS $$ SELECT r FROM runs WHERE name = run $$;
CREATE FUNCTION pg_temp.ex(run text) RETURNS uuid LANGUAGE sql AS $$
	SELECT (r->>'executionId')::uuid FROM runs WHERE name = run
$$;
CREATE FUNCTION pg_temp.cnt(run text, node text, st text DEFAULT 'success') RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM flowent.workflow_node_logs
	WHERE execution_id = pg_temp.ex(run) AND node_id = node AND status::text = st
$$;
CREATE FUNCTION pg_temp.lg(run text, node text) RETURNS flowent.workflow_node_logs LANGUAGE sql AS $$
	SELECT * FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex(run) AND node_id = node ORDER BY seq DESC LIMIT 1
$$;

-- t -> x (data-transform with xdata) -> ok (out); with_error_edge: also x -> h (error handle)
CREATE FUNCTION pg_temp.fwf(xdata jsonb, with_error_edge boolean DEFAULT false) RETURNS uuid LANGUAGE sql AS $$
	SELECT flowent.create_workflow('errors',
		jsonb_build_array(pg_temp.n('t', 'trigger'),
			pg_temp.n('x', 'data-transform', xdata),
			pg_temp.n('ok', 'output', '{"value":{"fine":"{{x}}"}}'))
		|| CASE WHEN with_error_edge THEN jsonb_build_array(pg_temp.n('h', 'output', '{"value":{"handled":"{{x}}"}}'))
				ELSE '[]'::jsonb END,
		jsonb_build_array(pg_temp.e('e1', 't', 'x'), pg_temp.e('e2', 'x', 'ok'))
		|| CASE WHEN with_error_edge THEN jsonb_build_array(pg_temp.e('e3', 'x', 'h', 'error'))
				ELSE '[]'::jsonb END)
$$;

-- ------------------------------------------------ onError stop (default)
INSERT INTO runs SELECT 'stop', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(1/0)"}'));
SELECT is(pg_temp.res('stop')->>'status', 'error', 'stop (default): status error');
SELECT is(pg_temp.res('stop')->'error'->>'code', 'SQL_ERROR', 'stop: error.code SQL_ERROR');
SELECT is(pg_temp.res('stop')->'error'->>'nodeId', 'x', 'stop: error.nodeId');
SELECT matches(pg_temp.res('stop')->'error'->>'message', 'division by zero', 'stop: error.message has the cause');
SELECT is(pg_temp.res('stop')->'output', 'null'::jsonb, 'stop: output null');
SELECT is(pg_temp.cnt('stop', 'ok'), 0::bigint, 'stop: the node after the failure never runs');
SELECT is(pg_temp.cnt('stop', 'x', 'error'), 1::bigint, 'stop: failed node logged with status error');
SELECT is((SELECT status::text || ' ' || error_code || ' ' || error_node_id FROM flowent.workflow_executions
		   WHERE id = pg_temp.ex('stop')), 'error SQL_ERROR x', 'stop: execution row keeps status, code, node');
INSERT INTO runs SELECT 'stop2', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(1/0)","onError":"stop"}'));
SELECT is(pg_temp.res('stop2')->'error'->>'nodeId', 'x', 'explicit onError stop: same');

-- ------------------------------------------------ onError continue
INSERT INTO runs SELECT 'cont', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(1/0)","onError":"continue"}'));
SELECT is(pg_temp.res('cont')->>'status', 'success', 'continue: the run goes on and succeeds');
SELECT is(pg_temp.res('cont')->'error', 'null'::jsonb, 'continue: execution error null');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((pg_temp.lg('cont', 'x')).output->'error') k),
		  ARRAY['code', 'message'], 'continue: failed node output is {error: {code, message}}');
SELECT is((pg_temp.lg('cont', 'x')).output->'error'->>'code', 'SQL_ERROR', 'continue: error.code in the output');
SELECT is(pg_temp.cnt('cont', 'ok'), 1::bigint, 'continue: the next node runs');
SELECT is(pg_temp.res('cont')->'output'->'fine'->'error'->>'code', 'SQL_ERROR', 'continue: next node sees {error}');

-- ------------------------------------------------ onError branch
INSERT INTO runs SELECT 'br_fail', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(1/0)","onError":"branch"}', true));
INSERT INTO runs SELECT 'br_ok', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(41+1)","onError":"branch"}', true));
SELECT is(pg_temp.res('br_fail')->>'status', 'success', 'branch: failure handled, run succeeds');
SELECT is(pg_temp.cnt('br_fail', 'h'), 1::bigint, 'branch: the error handle target runs');
SELECT is(pg_temp.cnt('br_fail', 'ok', 'skipped'), 1::bigint, 'branch: the normal output dies (skipped)');
SELECT is(pg_temp.cnt('br_fail', 'ok'), 0::bigint, 'branch: the normal output never runs');
SELECT is((pg_temp.lg('br_fail', 'x')).handle, 'error', 'branch: failed node log handle error');
SELECT is(pg_temp.res('br_fail')->'output'->'handled'->'error'->>'code', 'SQL_ERROR', 'branch: error target sees {error}');
SELECT is(pg_temp.res('br_ok')->'output', '{"fine":42}'::jsonb, 'branch, no failure: normal output');
SELECT is(pg_temp.cnt('br_ok', 'h', 'skipped'), 1::bigint, 'branch, no failure: error target skipped');

-- ------------------------------------------------ retry
INSERT INTO runs SELECT 'retry', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(1/0)","retry":{"maxAttempts":3,"backoffMs":0}}'));
SELECT is(pg_temp.res('retry')->>'status', 'error', 'retry: still failing after 3 attempts');
SELECT is((pg_temp.lg('retry', 'x')).attempts, 3, 'retry: attempts column = 3');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('retry') AND node_id = 'x'),
		  1::bigint, 'retry: one log row for the node');
INSERT INTO runs SELECT 'retry_cont', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(1/0)","retry":{"maxAttempts":2,"backoffMs":0},"onError":"continue"}'));
SELECT is((pg_temp.lg('retry_cont', 'x')).attempts || ' ' || (pg_temp.res('retry_cont')->>'status'), '2 success',
		  'retry + continue: 2 attempts, then goes on');
INSERT INTO runs SELECT 'no_retry', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(1/0)"}'));
SELECT is((pg_temp.lg('no_retry', 'x')).attempts, 1, 'no retry: attempts 1');

-- ------------------------------------------------ stop-error
CREATE FUNCTION pg_temp.stopwf(sdata jsonb) RETURNS uuid LANGUAGE sql AS $$
	SELECT flowent.create_workflow('stop-error',
		jsonb_build_array(pg_temp.n('t', 'trigger'), pg_temp.n('s', 'stop-error', sdata)),
		jsonb_build_array(pg_temp.e('e1', 't', 's')))
$$;
INSERT INTO runs SELECT 'se', pg_temp.safe_run(pg_temp.stopwf('{"message":"order {{trigger.payload.id}} refused","code":"ORDER_REFUSED"}'), '{"id":42}');
SELECT is(pg_temp.res('se')->>'status', 'error', 'stop-error: status error');
SELECT is(pg_temp.res('se')->'error', '{"code":"ORDER_REFUSED","message":"order 42 refused","nodeId":"s"}'::jsonb,
		  'stop-error: error {code, message resolved, nodeId}');
SELECT is((SELECT error_code FROM flowent.workflow_executions WHERE id = pg_temp.ex('se')), 'ORDER_REFUSED',
		  'stop-error: custom code on the execution row');
INSERT INTO runs SELECT 'se_default', pg_temp.safe_run(pg_temp.stopwf('{"message":"nope"}'));
SELECT is(pg_temp.res('se_default')->'error'->>'code', 'STOP_ERROR', 'stop-error: default code STOP_ERROR');
-- success results always carry error: null
SELECT is(pg_temp.res('cont') ? 'error', true, 'result objects always have the error key');

-- ------------------------------------------------ event sequence numbers
INSERT INTO runs SELECT 'seq', pg_temp.safe_run(flowent.create_workflow('seq',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('a', 'set-variable', '{"name":"a","value":1}'),
		pg_temp.n('b', 'set-variable', '{"name":"b","value":2}'),
		pg_temp.n('c', 'condition', '{"conditions":[{"left":1,"operator":"equals","right":2}]}'),
		pg_temp.n('y', 'output', '{"value":"y"}'),
		pg_temp.n('z', 'output', '{"value":"z"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'b'), pg_temp.e('e3', 'b', 'c'),
		pg_temp.e('e4', 'c', 'y', 'true'), pg_temp.e('e5', 'c', 'z', 'false'))));
SELECT is((SELECT string_agg(node_id, ',' ORDER BY seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq')
		   AND status = 'success'), 't,a,b,c,z', 'seq: success logs in execution order');
SELECT is((SELECT count(DISTINCT seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq')), 6::bigint,
		  'seq: every log row (skipped included) has its own seq');
SELECT ok((SELECT min(seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq')) > 0, 'seq: positive');
SELECT ok((SELECT seq FROM flowent.workflow_executions WHERE id = pg_temp.ex('seq'))
		  >= (SELECT max(seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq')),
		  'seq: execution seq is at least the max node log seq (the last event)');
SELECT ok((SELECT seq FROM flowent.workflow_executions WHERE id = pg_temp.ex('seq'))
		  <= 1 + 2 * (SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq')),
		  'seq: execution seq within started+completed per node + workflow:complete');
-- seq keeps increasing across a suspension
INSERT INTO runs SELECT 'seq_wait', pg_temp.safe_run(flowent.create_workflow('seq wait',
	jsonb_build_array(pg_temp.n('t', 'trigger'), pg_temp.n('w', 'wait'), pg_temp.n('o', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'w'), pg_temp.e('e2', 'w', 'o'))));
CREATE TEMP TABLE seq_before AS SELECT seq FROM flowent.workflow_executions WHERE id = pg_temp.ex('seq_wait');
INSERT INTO runs SELECT 'seq_wait_resume', pg_temp.safe(format('SELECT flowent.resume(%L::uuid, %L::jsonb)', pg_temp.ex('seq_wait'), '{"k":1}'));
SELECT is(pg_temp.res('seq_wait_resume')->>'status', 'success', 'seq across resume: success');
SELECT ok((SELECT min(seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq_wait') AND node_id IN ('w', 'o'))
		  > (SELECT seq FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq_wait') AND node_id = 't'),
		  'seq across resume: later nodes have larger seq');
SELECT ok((SELECT seq FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq_wait') AND node_id = 'o')
		  > (SELECT seq FROM seq_before), 'seq across resume: continues after the suspended execution''s seq');
SELECT ok((SELECT seq FROM flowent.workflow_executions WHERE id = pg_temp.ex('seq_wait'))
		  >= (SELECT max(seq) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('seq_wait')),
		  'seq across resume: execution seq at least the max log seq');

-- ------------------------------------------------ limits: 10,000 nodes
CREATE TEMP TABLE big AS SELECT
	jsonb_build_array(pg_temp.n('t', 'trigger'))
	|| (SELECT jsonb_agg(pg_temp.n('n' || i, 'set-variable', jsonb_build_object('name', 'v', 'value', i)) ORDER BY i)
		FROM generate_series(1, 9999) i) AS chain_nodes,
	jsonb_build_array(pg_temp.e('e1', 't', 'n1'))
	|| (SELECT jsonb_agg(pg_temp.e('e' || (i + 1), 'n' || i, 'n' || (i + 1)) ORDER BY i) FROM generate_series(1, 9998) i) AS chain_edges,
	(SELECT jsonb_agg(pg_temp.e('f' || i, 't', 'n' || i) ORDER BY i) FROM generate_series(1, 9999) i) AS fan_edges;
SELECT is((SELECT jsonb_array_length(chain_nodes) FROM big), 10000, '10,000 nodes built');
INSERT INTO runs SELECT 'chain', pg_temp.safe_run(flowent.create_workflow('chain 10000', chain_nodes, chain_edges)) FROM big;
SELECT is(pg_temp.res('chain')->>'status', 'success', 'chain of 10,000 nodes: runs');
SELECT is(pg_temp.res('chain')->'output', '9999'::jsonb, 'chain of 10,000 nodes: last node output');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('chain') AND status = 'success'),
		  10000::bigint, 'chain of 10,000 nodes: 10,000 success logs');
INSERT INTO runs SELECT 'fan', pg_temp.safe_run(flowent.create_workflow('fan 10000', chain_nodes, fan_edges)) FROM big;
SELECT is(pg_temp.res('fan')->>'status', 'success', 'fan-out to 9,999 nodes: runs');
SELECT is(pg_temp.res('fan')->'output', '9999'::jsonb, 'fan-out: output is the last completed node (nodes order)');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = pg_temp.ex('fan') AND status = 'success'),
		  10000::bigint, 'fan-out: 10,000 success logs');
-- 10,001 nodes: 54000 on create (or, if saved, on run)
CREATE FUNCTION pg_temp.too_many() RETURNS text LANGUAGE plpgsql AS $$
DECLARE w uuid;
BEGIN
	BEGIN
		SELECT flowent.create_workflow('too many', chain_nodes || jsonb_build_array(pg_temp.n('extra', 'output')),
									   chain_edges || jsonb_build_array(pg_temp.e('ex', 'n9999', 'extra'))) INTO w FROM big;
	EXCEPTION WHEN OTHERS THEN
		RETURN 'create ' || SQLSTATE;
	END;
	BEGIN
		PERFORM flowent.run(w);
	EXCEPTION WHEN OTHERS THEN
		RETURN 'run ' || SQLSTATE;
	END;
	RETURN 'ran';
END
$$;
SELECT matches(pg_temp.too_many(), '^(create|run) 54000$', '10,001 nodes: 54000 on create or run');
SELECT is(current_setting('flowent.max_nodes'), '10000', 'flowent.max_nodes defaults to 10000');

-- ------------------------------------------------ limits: payload size
CREATE TEMP TABLE pw AS SELECT flowent.create_workflow('payload', jsonb_build_array(pg_temp.n('t', 'trigger')), '[]') AS id;
INSERT INTO runs SELECT 'p5', pg_temp.safe_run(id, jsonb_build_object('s', repeat('x', 5 * 1024 * 1024))) FROM pw;
SELECT is(pg_temp.res('p5')->>'status', 'success', '5 MB payload: runs');
SELECT is(length(pg_temp.res('p5')->'output'->>'s'), 5 * 1024 * 1024, '5 MB payload: comes out whole');
SELECT throws_ok(format($$SELECT flowent.run(%L::uuid, jsonb_build_object('s', repeat('x', 9 * 1024 * 1024)))$$, id),
				 '54000', NULL, '9 MB payload: 54000')
FROM pw;
SELECT throws_ok(format($$SELECT flowent.resume(%L::uuid, jsonb_build_object('s', repeat('x', 9 * 1024 * 1024)))$$,
						pg_temp.ex('seq_wait')), NULL, NULL, 'resume with 9 MB data on a finished execution: raises');

-- ------------------------------------------------ malformed options, bad ids
SELECT throws_ok(format($$SELECT flowent.run(%L::uuid, '{}', '{"bogus":1}')$$, id), '22023', NULL, 'options: unknown key 22023') FROM pw;
SELECT throws_ok(format($$SELECT flowent.run(%L::uuid, '{}', '[1]')$$, id), '22023', NULL, 'options: not an object 22023') FROM pw;
SELECT throws_ok(format($$SELECT flowent.run(%L::uuid, '{}', '{"breakpoints":"a"}')$$, id), '22023', NULL,
				 'options: breakpoints not an array 22023') FROM pw;
SELECT throws_ok(format($$SELECT flowent.run(%L::uuid, '{}', '{"variables":[1]}')$$, id), '22023', NULL,
				 'options: variables not an object 22023') FROM pw;
SELECT throws_ok(format($$SELECT flowent.run(%L::uuid, '{}', '{"mode":"later"}')$$, id), '22023', NULL,
				 'options: unknown mode 22023') FROM pw;
SELECT throws_ok($$SELECT flowent.run('00000000-0000-0000-0000-000000000000'::uuid)$$, '42704', NULL, 'run of a missing workflow: 42704');
SELECT throws_ok($$SELECT flowent.resume('00000000-0000-0000-0000-000000000000'::uuid)$$, '42704', NULL, 'resume of a missing execution: 42704');
SELECT throws_ok($$SELECT flowent.cancel('00000000-0000-0000-0000-000000000000'::uuid)$$, '42704', NULL, 'cancel of a missing execution: 42704');
SELECT throws_ok($$SELECT flowent.approve('00000000-0000-0000-0000-000000000000'::uuid, true)$$, '42704', NULL,
				 'approve of a missing approval/execution: 42704');
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = (SELECT id FROM pw)), 1::bigint,
		  'refused runs wrote no execution rows (only the 5 MB run exists)');

-- ------------------------------------------------ timeoutMs, failures on dead branches
INSERT INTO runs SELECT 'timeout', pg_temp.safe_run(pg_temp.fwf('{"expression":"to_jsonb(pg_sleep(3)::text)","timeoutMs":200}'));
SELECT is(pg_temp.res('timeout')->'error'->>'code' || ' ' || (pg_temp.res('timeout')->'error'->>'nodeId'), 'TIMEOUT x',
		  'timeoutMs: TIMEOUT naming the node');
SELECT ok((pg_temp.res('timeout')->>'durationMs')::int < 2500, 'timeoutMs: the node was interrupted early');
INSERT INTO runs SELECT 'dead_stop', pg_temp.safe_run(flowent.create_workflow('dead stop',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('c', 'condition', '{"conditions":[{"left":"{{trigger.payload.ok}}","operator":"equals","right":true}]}'),
		pg_temp.n('o', 'output', '{"value":"fine"}'),
		pg_temp.n('s', 'stop-error', '{"message":"bad","code":"BAD"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'c'), pg_temp.e('e2', 'c', 'o', 'true'), pg_temp.e('e3', 'c', 's', 'false'))),
	'{"ok":true}');
SELECT is(pg_temp.res('dead_stop')->>'status' || ' ' || (pg_temp.res('dead_stop')->>'output'), 'success fine',
		  'stop-error on the dead branch never fires');
SELECT is(pg_temp.cnt('dead_stop', 's', 'skipped'), 1::bigint, 'stop-error on the dead branch: skipped');

SELECT * FROM finish();
ROLLBACK;
