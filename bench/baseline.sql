-- Hand-written PL/pgSQL doing the bookkeeping of a 10-node run the way the
-- issue describes it: an execution row, a log row and a notification per
-- node, a final update.  Rows go to tables shaped like flowent's own
-- (LIKE … INCLUDING ALL: same columns, defaults and indexes; those of a
-- partition, as flowent's keys and indexes are the partitions' own), and
-- each notification carries the same envelope keys flowent's events do.
CREATE TABLE bench_exec (LIKE flowent.workflow_executions_default INCLUDING ALL);
CREATE TABLE bench_log (LIKE flowent.workflow_node_logs_default INCLUDING ALL);

CREATE FUNCTION bench_step(ex uuid, node text, ntype text, inp jsonb, outp jsonb, s int)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench_log (execution_id, workflow_id, node_id, node_type, status, input, output,
						   seq, started_at, completed_at, duration_ms)
	VALUES (ex, ex, node, ntype, 'success', inp, outp, s, clock_timestamp(), clock_timestamp(), 0);
	PERFORM pg_notify('bench', jsonb_build_object('event', 'step:completed', 'executionId', ex,
		'workflowId', ex, 'seq', s, 'nodeId', node, 'nodeType', ntype, 'status', 'success',
		'durationMs', 0, 'ts', clock_timestamp(), 'outputBytes', pg_column_size(outp))::text);
END $$;

CREATE FUNCTION bench_baseline(payload jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	ex uuid := gen_random_uuid();
	x jsonb;
	c jsonb;
	v jsonb := '{}';
BEGIN
	INSERT INTO bench_exec (id, workflow_id, workflow_version, input, status, started_at, user_id, mode)
	VALUES (ex, NULL, 1, payload, 'running', clock_timestamp(), current_user, 'sync');
	PERFORM bench_step(ex, 't', 'trigger', NULL, payload, 1);
	x := jsonb_build_object('total', (payload->>'amount')::numeric * 2);
	PERFORM bench_step(ex, 'x', 'data-transform', payload, x, 2);
	c := jsonb_build_object('result', (x->>'total')::numeric > 100,
							'branch', ((x->>'total')::numeric > 100)::text);
	PERFORM bench_step(ex, 'c', 'condition', x, c, 3);
	FOR i IN 1..6 LOOP
		v := v || jsonb_build_object('v' || i, i);
		PERFORM bench_step(ex, 's' || i, 'set-variable', c, to_jsonb(i), 3 + i);
	END LOOP;
	PERFORM bench_step(ex, 'o', 'output', v, x, 10);
	UPDATE bench_exec SET status = 'success', output = x, completed_at = clock_timestamp(),
		duration_ms = 0, seq = 10, variables = v WHERE id = ex;
	RETURN jsonb_build_object('executionId', ex, 'status', 'success', 'output', x);
END $$;
