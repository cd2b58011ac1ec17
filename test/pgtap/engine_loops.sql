-- Loops: results per item, nested loops, and suspension inside a loop body
-- (approval, delay, breakpoint) continued from the exact iteration; parallel
-- iterations waiting at once, each decided on its own; a waiting loop's
-- state that does not grow with the items done.
BEGIN;
SELECT plan(24);

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

-- parallel 3: three approvals pending at once, decided out of order, each for its own item
-- (the first workflow with parallel 3 on its loop)
CREATE TEMP TABLE wf3 AS SELECT flowent.create_workflow('parallel approvals',
	(SELECT jsonb_agg(CASE WHEN x->>'id' = 'l' THEN jsonb_set(x, '{data,parallel}', '3') ELSE x END)
	 FROM jsonb_array_elements(w.nodes) x), w.edges) AS id
	FROM flowent.workflows w WHERE w.id = (SELECT id FROM wf);
CREATE TEMP TABLE r3 AS SELECT flowent.run((SELECT id FROM wf3), '{"items":["a","b","c","d"]}') AS res;
CREATE TEMP VIEW ap3 AS SELECT a.id, a.title, a.status::text FROM flowent.workflow_approval_requests a
	WHERE a.execution_id = (SELECT (res->>'executionId')::uuid FROM r3);
SELECT is((SELECT string_agg(title, ',' ORDER BY title) FROM ap3 WHERE status = 'pending'), 'ok a?,ok b?,ok c?',
		  'parallel 3: the first three items wait for approval at once, the fourth has not started');
SELECT is((SELECT output - 'kind' FROM flowent.workflow_node_logs WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r3)
		   AND node_id = 'l' AND status = 'waiting'), '{"next": 3, "pending": [0, 1, 2]}'::jsonb,
		  'the waiting loop records its waiting iterations and the next item, nothing per finished item');
SELECT is((flowent.approve((SELECT id FROM ap3 WHERE title = 'ok c?'), false))->>'status', 'suspended',
		  'rejecting item 2 first: its iteration ends, item 3 starts and waits');
SELECT is((SELECT string_agg(title, ',' ORDER BY title) FROM ap3 WHERE status = 'pending'), 'ok a?,ok b?,ok d?',
		  'items 0, 1 and 3 wait');
SELECT is((flowent.approve((SELECT id FROM ap3 WHERE title = 'ok a?'), true))->>'status', 'suspended', 'approve item 0');
SELECT is((flowent.approve((SELECT id FROM ap3 WHERE title = 'ok d?'), true))->>'status', 'suspended', 'approve item 3');
CREATE TEMP TABLE a4 AS SELECT flowent.approve((SELECT id FROM ap3 WHERE title = 'ok b?'), false) AS res;
SELECT is((SELECT res->'output' FROM a4), '{"count": 4, "results": ["yes a", "no b", "no c", "yes d"]}'::jsonb,
		  'each item got its own decision; results in item order, read back from iterations that ended in earlier calls');

-- an execution suspended in a loop by release 0.3 (results inline) continues
CREATE TEMP TABLE r4 AS SELECT flowent.run((SELECT id FROM wf), '{"items":["a","b","c"]}') AS res;
CREATE TEMP TABLE x1 AS SELECT flowent.approve((SELECT (res->>'executionId')::uuid FROM r4), true);
UPDATE flowent.workflow_node_logs SET output = '{"kind": "loop", "iteration": 1, "results": ["yes a"]}'
	WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r4) AND node_id = 'l' AND status = 'waiting';
CREATE TEMP TABLE x2 AS SELECT flowent.approve((SELECT (res->>'executionId')::uuid FROM r4), true);
SELECT is((flowent.approve((SELECT (res->>'executionId')::uuid FROM r4), false))->'output',
		  '{"count": 3, "results": ["yes a", "yes b", "no c"]}'::jsonb, 'a loop suspended in the 0.3 format goes on');

SELECT * FROM finish();
ROLLBACK;
