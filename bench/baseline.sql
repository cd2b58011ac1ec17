-- Hand-written PL/pgSQL doing what a 10-node flowent.run does for its
-- bookkeeping: an execution row, a log row and a notification per node, a
-- final update.  The engine must be at least as fast (issue 2 target).
CREATE OR REPLACE FUNCTION bench_baseline(payload jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	ex uuid := gen_random_uuid();
	wf uuid := '00000000-0000-0000-0000-000000000000';
	v jsonb := payload;
	big boolean;
	i int;
BEGIN
	INSERT INTO bench_exec (id, input, status, started_at) VALUES (ex, payload, 'running', clock_timestamp());
	-- trigger
	INSERT INTO bench_log (execution_id, node_id, status, output, seq) VALUES (ex, 't', 'success', v, 1);
	PERFORM pg_notify('bench', json_build_object('event', 'step:completed', 'executionId', ex, 'nodeId', 't', 'seq', 1)::text);
	-- transform
	v := jsonb_build_object('total', (payload->>'amount')::numeric * 2);
	INSERT INTO bench_log (execution_id, node_id, status, output, seq) VALUES (ex, 'x', 'success', v, 2);
	PERFORM pg_notify('bench', json_build_object('event', 'step:completed', 'executionId', ex, 'nodeId', 'x', 'seq', 2)::text);
	-- condition
	big := (v->>'total')::numeric > 100;
	INSERT INTO bench_log (execution_id, node_id, status, output, seq) VALUES (ex, 'c', 'success', jsonb_build_object('result', big), 3);
	PERFORM pg_notify('bench', json_build_object('event', 'step:completed', 'executionId', ex, 'nodeId', 'c', 'seq', 3)::text);
	-- six set-variables
	FOR i IN 1..6 LOOP
		v := v || jsonb_build_object('v' || i, i);
		INSERT INTO bench_log (execution_id, node_id, status, output, seq) VALUES (ex, 's' || i, 'success', to_jsonb(i), 3 + i);
		PERFORM pg_notify('bench', json_build_object('event', 'step:completed', 'executionId', ex, 'nodeId', 's' || i, 'seq', 3 + i)::text);
	END LOOP;
	-- output
	INSERT INTO bench_log (execution_id, node_id, status, output, seq) VALUES (ex, 'o', 'success', v, 10);
	PERFORM pg_notify('bench', json_build_object('event', 'step:completed', 'executionId', ex, 'nodeId', 'o', 'seq', 10)::text);
	UPDATE bench_exec SET status = 'success', output = v, completed_at = clock_timestamp() WHERE id = ex;
	RETURN v;
END $$;
