-- Loops: results per item, nested loops, and suspension inside a loop body
-- (approval, delay, breakpoint) continued from the exact iteration.
BEGIN;
SELECT plan(16);

\ir helpers.psql

-- approval per item: t -> l(body: h -> y|n) -> o
CREATE TEMP TABLE wf AS SELECT flowent.create_workflow('loop approvals',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('l', 'loop-controller', '{"items":"{{trigger.payload.items}}"}'),
		pg_temp.n('h', 'human-approval', '{"title":"ok {{loop.item}}?","contextData":{"i":"{{loop.index}}"}}'),
		pg_temp.n('y', 'set-variable', '{"name":"r","value":"yes {{loop.item}}"}'),
		pg_temp.n('n', 'set-variable', '{"name":"r","value":"no {{loop.item}}"}'),
		pg_temp.n('o', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'l'), pg_temp.e('e2', 'l', 'h', 'body'),
		pg_temp.e('e3', 'h', 'y', 'approved'), pg_temp.e('e4', 'h', 'n', 'rejected'),
		pg_temp.e('e5', 'l', 'o', 'done'))) AS id;
CREATE TEMP TABLE r AS SELECT flowent.run((SELECT id FROM wf), '{"items":["a","b","c"]}') AS res;
SELECT is((SELECT res->>'status' FROM r), 'suspended', 'an approval in a loop body suspends the execution');
SELECT is((SELECT res->>'waitingNodeId' FROM r), 'h', 'waiting on the body node');
SELECT is((SELECT title FROM flowent.workflow_approval_requests WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r)),
		  'ok a?', 'the approval of the first item has the item in its title');
CREATE TEMP TABLE a1 AS SELECT flowent.approve((SELECT (res->>'executionId')::uuid FROM r), true) AS res;
SELECT is((SELECT res->>'status' FROM a1), 'suspended', 'approving item 0 runs on to the approval of item 1');
SELECT is((SELECT title FROM flowent.workflow_approval_requests WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r) AND status = 'pending'),
		  'ok b?', 'the pending approval is the second item''s');
CREATE TEMP TABLE a2 AS SELECT flowent.approve((SELECT (res->>'executionId')::uuid FROM r), false) AS res;
CREATE TEMP TABLE a3 AS SELECT flowent.approve((SELECT (res->>'executionId')::uuid FROM r), true) AS res;
SELECT is((SELECT res->>'status' FROM a3), 'success', 'the third decision finishes the execution');
SELECT is((SELECT res->'output' FROM a3), '{"count": 3, "results": ["yes a", "no b", "yes c"]}'::jsonb,
		  'each iteration took the branch its decision chose; results in item order');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r)
		   AND node_id = 'h' AND status = 'success'), 3::bigint, 'one success log of the approval node per iteration');
SELECT is((SELECT string_agg(iteration || ':' || status, ',' ORDER BY seq) FROM flowent.workflow_node_logs
		   WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r) AND node_id IN ('y', 'n')),
		  'l:0:skipped,l:0:success,l:1:skipped,l:1:success,l:2:skipped,l:2:success', 'branch logs per iteration');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r)
		   AND node_id = 'l' AND status = 'success'), 1::bigint, 'the loop node has one success log');

-- a delay in a nested loop: resume() continues the exact inner iteration
CREATE TEMP TABLE wf2 AS SELECT flowent.create_workflow('nested delay',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('outer', 'loop-controller', '{"items":[1,2]}'),
		pg_temp.n('inner', 'loop-controller', '{"items":["x","y"]}'),
		pg_temp.n('d', 'delay', '{"durationMs":3600000}'),
		pg_temp.n('s', 'set-variable', '{"name":"v","value":"{{outer.item}}{{loop.item}}"}'),
		pg_temp.n('o', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'outer'), pg_temp.e('e2', 'outer', 'inner', 'body'),
		pg_temp.e('e3', 'inner', 'd', 'body'), pg_temp.e('e4', 'd', 's'),
		pg_temp.e('e5', 'outer', 'o', 'done'))) AS id;
CREATE TEMP TABLE r2 AS SELECT flowent.run((SELECT id FROM wf2)) AS res;
SELECT is((SELECT res->>'status' FROM r2), 'suspended', 'a delay in a nested loop suspends');
SELECT is((SELECT (flowent.resume((SELECT (res->>'executionId')::uuid FROM r2)))->>'status'), 'suspended',
		  'resume ends the first delay; the next iteration delays again');
SELECT is((SELECT iteration FROM flowent.workflow_node_logs WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r2)
		   AND node_id = 'd' AND status = 'waiting'), 'outer:0/inner:1', 'waiting in the second inner iteration');
SELECT is((SELECT (flowent.resume((SELECT (res->>'executionId')::uuid FROM r2)))->>'status'), 'suspended', 'third delay');
SELECT is((SELECT (flowent.resume((SELECT (res->>'executionId')::uuid FROM r2)))->>'status'), 'suspended', 'fourth delay');
SELECT is((SELECT (flowent.resume((SELECT (res->>'executionId')::uuid FROM r2)))->'output'),
		  '{"count": 2, "results": ["1y", "2y"]}'::jsonb,
		  'after four resumes the outer loop completes: per item, the output of its body''s sink (s) in the last inner iteration');

SELECT * FROM finish();
ROLLBACK;
