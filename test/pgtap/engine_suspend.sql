-- engine_suspend.sql: suspension and continuation (DESIGN §4, Appendix A,
-- Appendix B "Modes", "Sub-workflows").
--
-- human-approval (request row, approve / reject branches, deciding twice,
-- approve by execution id), delay (timer row, early resume), wait (resume
-- data is the output), breakpoints (options.breakpoints; saved breakpoint
-- only with isTest or given breakpoints), cancel, sub-workflows (output,
-- approvals inside the child, child failure) and rerun.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;
SELECT plan(127);

-- ---------------------------------------------------------------- helpers

\ir helpers.psql
-- any API call (as SQL text) with a raised error turned into {status: "raised", error}

CREATE TEMP TABLE wf (name text PRIMARY KEY, id uuid);
CREATE TEMP TABLE runs (name text PRIMARY KEY, r jsonb);
CREATE FUNCTION pg_temp.w(name text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM wf WHERE wf.name = w.name $$;
CREATE FUNCTION pg_temp.res(run text) RETURNS jsonb LANGUAGE sql AS $$ SELECT r FROM runs WHERE name = run $$;
CREATE FUNCTION pg_temp.ex(run text) RETURNS uuid LANGUAGE sql AS $$
	SELECT (r->>'executionId')::uuid FROM runs WHERE name = run
$$;
CREATE FUNCTION pg_temp.exec(run text) RETURNS flowent.workflow_executions LANGUAGE sql AS $$
	SELECT * FROM flowent.workflow_executions WHERE id = pg_temp.ex(run)
$$;
CREATE FUNCTION pg_temp.cnt(exec uuid, node text, st text DEFAULT 'success') RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM flowent.workflow_node_logs
	WHERE execution_id = exec AND node_id = node AND status::text = st
$$;
CREATE FUNCTION pg_temp.lg(exec uuid, node text) RETURNS flowent.workflow_node_logs LANGUAGE sql AS $$
	SELECT * FROM flowent.workflow_node_logs WHERE execution_id = exec AND node_id = node ORDER BY seq DESC LIMIT 1
$$;
CREATE FUNCTION pg_temp.appr(run text) RETURNS flowent.workflow_approval_requests LANGUAGE sql AS $$
	SELECT * FROM flowent.workflow_approval_requests WHERE id = (pg_temp.res(run)->>'approvalId')::uuid
$$;

-- ------------------------------------------------ human-approval
-- t -> ap (approved -> y, rejected -> n)
INSERT INTO wf VALUES ('approval', flowent.create_workflow('approval',
	jsonb_build_array(
		pg_temp.n('t', 'trigger'),
		pg_temp.n('ap', 'human-approval', '{"title":"Order {{trigger.payload.id}}","message":"Pay {{trigger.payload.amount}} EUR?",
			"contextData":{"amount":"{{trigger.payload.amount}}","who":"{{trigger.payload.who}}"},
			"previewData":"{{trigger.payload.items}}","assignedUserId":"{{trigger.payload.who}}"}'),
		pg_temp.n('y', 'output', '{"value":{"approved":"{{ap.approved}}","comment":"{{ap.comment}}","by":"{{ap.approvedBy}}"}}'),
		pg_temp.n('n', 'output', '{"value":{"rejected":true,"comment":"{{ap.comment}}"}}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'ap'),
		pg_temp.e('e2', 'ap', 'y', 'approved'), pg_temp.e('e3', 'ap', 'n', 'rejected'))));
\set AP '{"id":7,"amount":12.50,"who":"alice","items":[{"sku":"A1","qty":2}]}'

INSERT INTO runs SELECT 'ap1', pg_temp.safe_run(pg_temp.w('approval'), :'AP');
SELECT is(pg_temp.res('ap1')->>'status', 'suspended', 'approval: run suspends');
SELECT is(pg_temp.res('ap1')->>'waitingNodeId', 'ap', 'approval: waitingNodeId');
SELECT is(pg_temp.res('ap1')->'output', 'null'::jsonb, 'approval: no output yet');
SELECT is(pg_temp.res('ap1')->'error', 'null'::jsonb, 'approval: error null');
SELECT is(pg_temp.res('ap1')->'waiting',
		  jsonb_build_array(jsonb_build_object('executionId', pg_temp.ex('ap1'), 'nodeId', 'ap', 'kind', 'approval',
											   'approvalId', pg_temp.res('ap1')->'approvalId')),
		  'approval: waiting lists [{executionId, nodeId, kind approval, approvalId}]');
SELECT is((pg_temp.exec('ap1')).status::text, 'suspended', 'approval: execution row suspended');
SELECT is((pg_temp.lg(pg_temp.ex('ap1'), 'ap')).status::text, 'waiting', 'approval: node log waiting');
SELECT is((pg_temp.appr('ap1')).status::text, 'pending', 'approval row: pending');
SELECT is((pg_temp.appr('ap1')).execution_id, pg_temp.ex('ap1'), 'approval row: execution_id');
SELECT is((pg_temp.appr('ap1')).node_id::text, 'ap', 'approval row: node_id');
SELECT is((pg_temp.appr('ap1')).title::text, 'Order 7', 'approval row: title resolved');
SELECT is((pg_temp.appr('ap1')).message, 'Pay 12.50 EUR?', 'approval row: message resolved');
SELECT is((pg_temp.appr('ap1')).context_data, '{"amount":12.50,"who":"alice"}'::jsonb, 'approval row: contextData resolved (typed)');
SELECT is((pg_temp.appr('ap1')).preview_data, '[{"sku":"A1","qty":2}]'::jsonb, 'approval row: previewData resolved');
SELECT is((pg_temp.appr('ap1')).assigned_user_id::text, 'alice', 'approval row: assignedUserId resolved');

INSERT INTO runs SELECT 'ap1_ok', pg_temp.safe(format('SELECT flowent.approve(%L::uuid, true, %L, %L)',
												  pg_temp.res('ap1')->>'approvalId', 'looks fine', 'bob'));
SELECT is(pg_temp.res('ap1_ok')->>'status', 'success', 'approve: status success (sync, same transaction)');
SELECT is(pg_temp.res('ap1_ok')->'success', 'true'::jsonb, 'approve: success true');
SELECT is(pg_temp.res('ap1_ok')->>'executionId', pg_temp.ex('ap1')::text, 'approve: executionId');
SELECT is(pg_temp.res('ap1_ok')->>'resumedFromNodeId', 'ap', 'approve: resumedFromNodeId');
SELECT is(pg_temp.res('ap1_ok')->'output', '{"approved":true,"comment":"looks fine","by":"bob"}'::jsonb,
		  'approve: approved branch ran with {approved, comment, approvedBy}');
SELECT ok(pg_temp.res('ap1_ok') ?& ARRAY['success', 'executionId', 'status', 'resumedFromNodeId', 'output', 'error', 'waiting'],
		  'approve: result has success, executionId, status, resumedFromNodeId, output, error, waiting');
SELECT is(pg_temp.cnt(pg_temp.ex('ap1'), 'n', 'skipped'), 1::bigint, 'approve: rejected branch skipped');
SELECT is((pg_temp.exec('ap1')).status::text, 'success', 'approve: execution row success');
SELECT is((pg_temp.appr('ap1')).status::text || ' ' || (pg_temp.appr('ap1')).resolved_by || ' ' || (pg_temp.appr('ap1')).comment,
		  'approved bob looks fine', 'approve: approval row approved, resolved_by, comment');
SELECT isnt((pg_temp.appr('ap1')).resolved_at, NULL, 'approve: resolved_at set');
SELECT is((pg_temp.lg(pg_temp.ex('ap1'), 'ap')).output ?& ARRAY['approved', 'comment', 'approvedBy', 'decidedAt'], true,
		  'approve: approval node output has approved, comment, approvedBy, decidedAt');
SELECT is((pg_temp.lg(pg_temp.ex('ap1'), 'ap')).handle, 'approved', 'approve: approval node log handle approved');
SELECT is(pg_temp.cnt(pg_temp.ex('ap1'), 'ap'), 1::bigint, 'approve: one success log for the approval node');
SELECT is(pg_temp.cnt(pg_temp.ex('ap1'), 't'), 1::bigint, 'approve: trigger not run again');

-- deciding twice: 55000, by approval id and by execution id
SELECT throws_ok(format('SELECT flowent.approve(%L::uuid, true)', pg_temp.res('ap1')->>'approvalId'), '55000', NULL,
				 'approve twice (approval id): 55000');
SELECT throws_ok(format('SELECT flowent.approve(%L::uuid, false)', pg_temp.ex('ap1')), '55000', NULL,
				 'approve a finished execution (execution id, no pending approval): 55000');

-- reject
INSERT INTO runs SELECT 'ap2', pg_temp.safe_run(pg_temp.w('approval'), :'AP');
INSERT INTO runs SELECT 'ap2_no', pg_temp.safe(format('SELECT flowent.approve(%L::uuid, false, %L, %L)',
												  pg_temp.res('ap2')->>'approvalId', 'too expensive', 'carol'));
SELECT is(pg_temp.res('ap2_no')->>'status', 'success', 'reject: status success');
SELECT is(pg_temp.res('ap2_no')->'output', '{"rejected":true,"comment":"too expensive"}'::jsonb, 'reject: rejected branch ran');
SELECT is(pg_temp.cnt(pg_temp.ex('ap2'), 'y', 'skipped'), 1::bigint, 'reject: approved branch skipped');
SELECT is((pg_temp.appr('ap2')).status::text, 'rejected', 'reject: approval row rejected');
SELECT is((pg_temp.lg(pg_temp.ex('ap2'), 'ap')).handle, 'rejected', 'reject: approval node log handle rejected');
SELECT throws_ok(format('SELECT flowent.approve(%L::uuid, true)', pg_temp.res('ap2')->>'approvalId'), '55000', NULL,
				 'approve after reject: 55000');

-- approve by execution id (exactly one pending approval)
INSERT INTO runs SELECT 'ap3', pg_temp.safe_run(pg_temp.w('approval'), :'AP');
INSERT INTO runs SELECT 'ap3_ok', pg_temp.safe(format('SELECT flowent.approve(%L::uuid, true, NULL, %L)', pg_temp.ex('ap3'), 'dave'));
SELECT is(pg_temp.res('ap3_ok')->>'status', 'success', 'approve by execution id: success');
SELECT is(pg_temp.res('ap3_ok')->'output', '{"approved":true,"comment":null,"by":"dave"}'::jsonb,
		  'approve by execution id: approved branch, comment null');
SELECT is((pg_temp.appr('ap3')).status::text, 'approved', 'approve by execution id: approval row approved');

-- two pending approvals in one execution: approve by execution id is 55000; by approval id works
INSERT INTO wf VALUES ('two_approvals', flowent.create_workflow('two approvals',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('a1', 'human-approval', '{"title":"first"}'),
		pg_temp.n('a2', 'human-approval', '{"title":"second"}'),
		pg_temp.n('m', 'merge')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a1'), pg_temp.e('e2', 't', 'a2'),
		pg_temp.e('e3', 'a1', 'm', 'approved'), pg_temp.e('e4', 'a2', 'm', 'approved'))));
INSERT INTO runs SELECT 'ap4', pg_temp.safe_run(pg_temp.w('two_approvals'));
SELECT is(pg_temp.res('ap4')->>'status', 'suspended', 'two approvals: suspended');
SELECT is((SELECT array_agg(x->>'nodeId' ORDER BY x->>'nodeId') FROM jsonb_array_elements(pg_temp.res('ap4')->'waiting') x),
		  ARRAY['a1', 'a2'], 'two approvals: both run before suspending; waiting lists both');
SELECT is((SELECT count(*) FROM flowent.workflow_approval_requests WHERE execution_id = pg_temp.ex('ap4') AND status = 'pending'),
		  2::bigint, 'two approvals: two pending rows');
SELECT throws_ok(format('SELECT flowent.approve(%L::uuid, true)', pg_temp.ex('ap4')), '55000', NULL,
				 'two approvals: approve by execution id is 55000');
INSERT INTO runs SELECT 'ap4_1', pg_temp.safe(format('SELECT flowent.approve(%L::uuid, true)',
	(SELECT id FROM flowent.workflow_approval_requests WHERE execution_id = pg_temp.ex('ap4') AND node_id = 'a1')));
SELECT is(pg_temp.res('ap4_1')->>'status', 'suspended', 'two approvals: after the first decision still suspended');
SELECT is(pg_temp.res('ap4_1')->>'waitingNodeId', 'a2', 'two approvals: now waiting on a2');
INSERT INTO runs SELECT 'ap4_2', pg_temp.safe(format('SELECT flowent.approve(%L::uuid, true)', pg_temp.ex('ap4')));
SELECT is(pg_temp.res('ap4_2')->>'status', 'success', 'two approvals: one left, approve by execution id finishes');
SELECT is(pg_temp.cnt(pg_temp.ex('ap4'), 'm'), 1::bigint, 'two approvals: merge ran once');

-- ------------------------------------------------ delay
INSERT INTO wf VALUES ('delay', flowent.create_workflow('delay',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('d', 'delay', '{"durationMs":60000}'),
		pg_temp.n('o', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'd'), pg_temp.e('e2', 'd', 'o'))));
INSERT INTO runs SELECT 'd1', pg_temp.safe_run(pg_temp.w('delay'));
SELECT is(pg_temp.res('d1')->>'status', 'suspended', 'delay: a sync run suspends (never sleeps)');
SELECT is(pg_temp.res('d1')->>'waitingNodeId', 'd', 'delay: waitingNodeId');
SELECT is(pg_temp.res('d1')->'waiting'->0->>'kind', 'delay', 'delay: waiting kind delay');
SELECT is((SELECT count(*) FROM flowent.timers WHERE execution_id = pg_temp.ex('d1') AND node_id = 'd'
		   AND kind = 'delay' AND fired_at IS NULL), 1::bigint, 'delay: one pending timer row');
SELECT ok((SELECT fire_at BETWEEN clock_timestamp() + interval '50 s' AND clock_timestamp() + interval '61 s'
		   FROM flowent.timers WHERE execution_id = pg_temp.ex('d1') AND node_id = 'd'),
		  'delay: timer fires about 60 s after the run');
INSERT INTO runs SELECT 'd1_resume', pg_temp.safe(format('SELECT flowent.resume(%L::uuid)', pg_temp.ex('d1')));
SELECT is(pg_temp.res('d1_resume')->>'status', 'success', 'delay: resume ends it early, success');
SELECT is(pg_temp.res('d1_resume')->>'resumedFromNodeId', 'd', 'delay: resumedFromNodeId d');
SELECT ok(pg_temp.res('d1_resume') ?& ARRAY['success', 'executionId', 'status', 'resumedFromNodeId', 'output', 'error', 'waiting'],
		  'resume: result has success, executionId, status, resumedFromNodeId, output, error, waiting');
SELECT is((SELECT array_agg(k) FROM jsonb_object_keys(pg_temp.res('d1_resume')->'output') k), ARRAY['resumedAt'],
		  'delay: output is {resumedAt}');
SELECT ok((pg_temp.res('d1_resume')->'output'->>'resumedAt')::timestamptz IS NOT NULL, 'delay: resumedAt is a timestamp');
SELECT is((SELECT count(*) FROM flowent.timers WHERE execution_id = pg_temp.ex('d1') AND fired_at IS NULL), 0::bigint,
		  'delay: no pending timer left after resume');
SELECT throws_ok(format('SELECT flowent.resume(%L::uuid)', pg_temp.ex('d1')), '55000', NULL, 'resume a finished execution: 55000');

-- ------------------------------------------------ wait
INSERT INTO wf VALUES ('wait', flowent.create_workflow('wait',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('w', 'wait', '{"signal":"go"}'),
		pg_temp.n('o', 'output', '{"value":{"got":"{{w}}"}}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'w'), pg_temp.e('e2', 'w', 'o'))));
INSERT INTO runs SELECT 'w1', pg_temp.safe_run(pg_temp.w('wait'));
SELECT is(pg_temp.res('w1')->>'status', 'suspended', 'wait: suspends');
SELECT is(pg_temp.res('w1')->'waiting'->0->>'kind', 'wait', 'wait: waiting kind wait');
SELECT is((pg_temp.lg(pg_temp.ex('w1'), 'w')).status::text, 'waiting', 'wait: node log waiting');
INSERT INTO runs SELECT 'w1_resume', pg_temp.safe(format('SELECT flowent.resume(%L::uuid, %L::jsonb)', pg_temp.ex('w1'),
	'{"sig":[1,2.50],"big":123456789012345678901234567890}'));
SELECT is(pg_temp.res('w1_resume')->>'status', 'success', 'wait: resume -> success');
SELECT is((pg_temp.lg(pg_temp.ex('w1'), 'w')).output::text, '{"big": 123456789012345678901234567890, "sig": [1, 2.50]}',
		  'wait: resume data is its output, exact');
SELECT is(pg_temp.res('w1_resume')->'output', '{"got":{"sig":[1,2.50],"big":123456789012345678901234567890}}'::jsonb,
		  'wait: the next node sees the data');

-- ------------------------------------------------ breakpoints
INSERT INTO wf VALUES ('bp', flowent.create_workflow('bp',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('a', 'set-variable', '{"name":"q","value":5}'),
		pg_temp.n('b', 'set-variable', '{"name":"r","value":6,"breakpoint":true}'),
		pg_temp.n('o', 'output', '{"value":["{{a}}","{{b}}"]}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'a'), pg_temp.e('e2', 'a', 'b'), pg_temp.e('e3', 'b', 'o'))));
-- options.breakpoints ["a"]
INSERT INTO runs SELECT 'bp1', pg_temp.safe_run(pg_temp.w('bp'), '{}', '{"breakpoints":["a"]}');
SELECT is(pg_temp.res('bp1')->>'status', 'suspended', 'breakpoint a: suspended');
SELECT is(pg_temp.res('bp1')->>'waitingNodeId', 'a', 'breakpoint a: waitingNodeId a');
SELECT is(pg_temp.res('bp1')->'waiting'->0->>'kind', 'breakpoint', 'breakpoint a: kind breakpoint');
SELECT is(pg_temp.cnt(pg_temp.ex('bp1'), 'a'), 0::bigint, 'breakpoint a: pauses before the node (a has not run)');
INSERT INTO runs SELECT 'bp1_r1', pg_temp.safe(format('SELECT flowent.resume(%L::uuid)', pg_temp.ex('bp1')));
SELECT is(pg_temp.res('bp1_r1')->>'status', 'suspended', 'breakpoints given: the saved breakpoint on b applies too');
SELECT is(pg_temp.res('bp1_r1')->>'waitingNodeId', 'b', 'breakpoints given: paused before b');
SELECT is(pg_temp.cnt(pg_temp.ex('bp1'), 'a'), 1::bigint, 'resume from breakpoint: a ran once');
INSERT INTO runs SELECT 'bp1_r2', pg_temp.safe(format('SELECT flowent.resume(%L::uuid)', pg_temp.ex('bp1')));
SELECT is(pg_temp.res('bp1_r2')->>'status', 'success', 'resume from breakpoint b: success');
SELECT is(pg_temp.res('bp1_r2')->'output', '[5,6]'::jsonb, 'resume from breakpoint: output');
-- saved breakpoint:true is ignored on a plain run
INSERT INTO runs SELECT 'bp2', pg_temp.safe_run(pg_temp.w('bp'));
SELECT is(pg_temp.res('bp2')->>'status', 'success', 'saved breakpoint: ignored without isTest');
SELECT is(pg_temp.res('bp2')->'output', '[5,6]'::jsonb, 'saved breakpoint: plain run output');
-- and honoured with isTest
INSERT INTO runs SELECT 'bp3', pg_temp.safe_run(pg_temp.w('bp'), '{}', '{"isTest":true}');
SELECT is(pg_temp.res('bp3')->>'status', 'suspended', 'saved breakpoint: honoured with isTest');
SELECT is(pg_temp.res('bp3')->>'waitingNodeId', 'b', 'saved breakpoint: pauses before b');
SELECT is(pg_temp.res('bp3')->'waiting'->0->>'kind', 'breakpoint', 'saved breakpoint: kind breakpoint');
SELECT is(pg_temp.cnt(pg_temp.ex('bp3'), 'b'), 0::bigint, 'saved breakpoint: b has not run');
SELECT is(pg_temp.cnt(pg_temp.ex('bp3'), 'a'), 1::bigint, 'saved breakpoint: a before it ran');
SELECT is((pg_temp.exec('bp3')).is_test, true, 'isTest run: is_test set');

-- ------------------------------------------------ cancel
SELECT is(pg_temp.safe(format('SELECT flowent.cancel(%L::uuid, %L)', pg_temp.ex('bp3'), 'changed my mind')),
		  jsonb_build_object('success', true, 'executionId', pg_temp.ex('bp3'), 'status', 'cancelled',
							 'previousStatus', 'suspended', 'error', null),
		  'cancel a suspended execution: {success, executionId, status cancelled, previousStatus suspended, error null}');
SELECT is((pg_temp.exec('bp3')).status::text, 'cancelled', 'cancel: execution row cancelled');
SELECT is((pg_temp.exec('bp3')).cancel_reason, 'changed my mind', 'cancel: reason stored');
SELECT throws_ok(format('SELECT flowent.cancel(%L::uuid)', pg_temp.ex('bp3')), '55000', NULL, 'cancel again: 55000');
SELECT throws_ok(format('SELECT flowent.resume(%L::uuid)', pg_temp.ex('bp3')), '55000', NULL, 'resume a cancelled execution: 55000');
SELECT throws_ok(format('SELECT flowent.cancel(%L::uuid)', pg_temp.ex('bp2')), '55000', NULL, 'cancel a finished (success) execution: 55000');
-- cancel a pending approval: the approval is no longer decidable
INSERT INTO runs SELECT 'ap5', pg_temp.safe_run(pg_temp.w('approval'), :'AP');
SELECT is(pg_temp.safe(format('SELECT flowent.cancel(%L::uuid)', pg_temp.ex('ap5')))->>'status', 'cancelled',
		  'cancel an execution waiting for approval');
SELECT throws_ok(format('SELECT flowent.approve(%L::uuid, true)', pg_temp.res('ap5')->>'approvalId'), '55000', NULL,
				 'approve in a cancelled execution: 55000');

-- ------------------------------------------------ sub-workflow
INSERT INTO wf VALUES ('child_plain', flowent.create_workflow('child plain',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('o', 'output', '{"value":{"child":"{{trigger.payload.v}}","n":1.10}}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'o'))));
INSERT INTO wf VALUES ('child_approval', flowent.create_workflow('child approval',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('cap', 'human-approval', '{"title":"child ok {{trigger.payload.v}}?"}'),
		pg_temp.n('o', 'output', '{"value":{"child":"{{trigger.payload.v}}","ok":"{{cap.approved}}"}}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'cap'), pg_temp.e('e2', 'cap', 'o', 'approved'))));
INSERT INTO wf VALUES ('child_fail', flowent.create_workflow('child fail',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('x', 'stop-error', '{"message":"child broke","code":"CHILD_BROKE"}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'x'))));
CREATE FUNCTION pg_temp.parent(child uuid) RETURNS uuid LANGUAGE sql AS $$
	SELECT flowent.create_workflow('parent',
		jsonb_build_array(pg_temp.n('t', 'trigger'),
			pg_temp.n('s', 'sub-workflow', jsonb_build_object('workflowId', child, 'payload', '{"v":"{{trigger.payload.v}}"}'::jsonb)),
			pg_temp.n('o', 'output', '{"value":{"got":"{{s}}"}}')),
		jsonb_build_array(pg_temp.e('e1', 't', 's'), pg_temp.e('e2', 's', 'o')))
$$;
INSERT INTO runs SELECT 'sub1', pg_temp.safe_run(pg_temp.parent(pg_temp.w('child_plain')), '{"v":3}');
SELECT is(pg_temp.res('sub1')->>'status', 'success', 'sub-workflow: success');
SELECT is((pg_temp.lg(pg_temp.ex('sub1'), 's')).output, '{"child":3,"n":1.10}'::jsonb, 'sub-workflow: child output is the node output');
SELECT is(pg_temp.res('sub1')->'output', '{"got":{"child":3,"n":1.10}}'::jsonb, 'sub-workflow: parent continues with it');
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE parent_execution_id = pg_temp.ex('sub1')
		   AND parent_node_id = 's' AND status = 'success' AND workflow_id = pg_temp.w('child_plain')),
		  1::bigint, 'sub-workflow: child is its own execution with parent_execution_id / parent_node_id');

-- approval inside the child suspends the parent
INSERT INTO runs SELECT 'sub2', pg_temp.safe_run(pg_temp.parent(pg_temp.w('child_approval')), '{"v":4}');
CREATE TEMP TABLE child AS SELECT id FROM flowent.workflow_executions WHERE parent_execution_id = pg_temp.ex('sub2');
SELECT is(pg_temp.res('sub2')->>'status', 'suspended', 'child approval: parent suspended');
SELECT is((pg_temp.exec('sub2')).status::text, 'suspended', 'child approval: parent row suspended');
SELECT is((SELECT status::text FROM flowent.workflow_executions WHERE id = (SELECT id FROM child)), 'suspended',
		  'child approval: child row suspended');
SELECT ok(pg_temp.res('sub2')->'waiting' @> jsonb_build_array(jsonb_build_object(
			'executionId', (SELECT id FROM child), 'nodeId', 'cap', 'kind', 'approval',
			'approvalId', (SELECT id FROM flowent.workflow_approval_requests WHERE execution_id = (SELECT id FROM child)))),
		  'child approval: parent waiting lists the child approval');
SELECT is(pg_temp.res('sub2')->>'approvalId',
		  (SELECT id::text FROM flowent.workflow_approval_requests WHERE execution_id = (SELECT id FROM child)),
		  'child approval: parent result approvalId is the child approval');
SELECT is((SELECT workflow_id FROM flowent.workflow_approval_requests WHERE execution_id = (SELECT id FROM child)),
		  pg_temp.w('child_approval'), 'child approval: the approval belongs to the child workflow');
INSERT INTO runs SELECT 'sub2_ok', pg_temp.safe(format('SELECT flowent.approve(%L::uuid, true)',
	(SELECT id FROM flowent.workflow_approval_requests WHERE execution_id = (SELECT id FROM child))));
SELECT is((SELECT status::text FROM flowent.workflow_executions WHERE id = (SELECT id FROM child)), 'success',
		  'child approval approved: child success');
SELECT is((pg_temp.exec('sub2')).status::text, 'success', 'child approval approved: parent success');
SELECT is((pg_temp.exec('sub2')).output, '{"got":{"child":4,"ok":true}}'::jsonb, 'child approval approved: parent output');

-- approve by the parent's execution id (one pending approval in its sub-executions)
INSERT INTO runs SELECT 'sub3', pg_temp.safe_run(pg_temp.parent(pg_temp.w('child_approval')), '{"v":5}');
INSERT INTO runs SELECT 'sub3_ok', pg_temp.safe(format('SELECT flowent.approve(%L::uuid, true)', pg_temp.ex('sub3')));
SELECT is((pg_temp.exec('sub3')).status::text || ' ' || (pg_temp.exec('sub3')).output::text,
		  'success {"got": {"ok": true, "child": 5}}', 'approve by parent execution id: both finish');

-- cancel cascades to the child
INSERT INTO runs SELECT 'sub4', pg_temp.safe_run(pg_temp.parent(pg_temp.w('child_approval')), '{"v":6}');
SELECT is(pg_temp.safe(format('SELECT flowent.cancel(%L::uuid)', pg_temp.ex('sub4')))->>'previousStatus', 'suspended',
		  'cancel parent: previousStatus suspended');
SELECT is((SELECT string_agg(status::text, ',') FROM flowent.workflow_executions WHERE parent_execution_id = pg_temp.ex('sub4')),
		  'cancelled', 'cancel parent: child cancelled too');

-- child failure
INSERT INTO runs SELECT 'sub5', pg_temp.safe_run(pg_temp.parent(pg_temp.w('child_fail')), '{"v":7}');
SELECT is(pg_temp.res('sub5')->>'status', 'error', 'child failure: parent status error');
SELECT is(pg_temp.res('sub5')->'error'->>'code', 'SUB_WORKFLOW_FAILED', 'child failure: SUB_WORKFLOW_FAILED');
SELECT is(pg_temp.res('sub5')->'error'->>'nodeId', 's', 'child failure: error.nodeId is the sub-workflow node');
SELECT is(coalesce(pg_temp.res('sub5')->'error'->>'childExecutionId', pg_temp.res('sub5')->'error'->'details'->>'childExecutionId'),
		  (SELECT id::text FROM flowent.workflow_executions WHERE parent_execution_id = pg_temp.ex('sub5')),
		  'child failure: childExecutionId in error (or error.details)');
SELECT ok((pg_temp.res('sub5')->'error')::text LIKE '%CHILD_BROKE%', 'child failure: the child''s code is carried');
SELECT is((SELECT status::text || ' ' || error_code FROM flowent.workflow_executions WHERE parent_execution_id = pg_temp.ex('sub5')),
		  'error CHILD_BROKE', 'child failure: child row error with its own code');

-- ------------------------------------------------ rerun
-- t -> r (random) -> b (uses input, random) -> o
INSERT INTO wf VALUES ('rerun', flowent.create_workflow('rerun',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('r', 'data-transform', '{"expression":"to_jsonb(random())"}'),
		pg_temp.n('b', 'data-transform', '{"expression":"jsonb_build_object(''r'', input, ''n'', random(), ''p'', state->''trigger''->''payload''->''p'')"}'),
		pg_temp.n('o', 'output')),
	jsonb_build_array(pg_temp.e('e1', 't', 'r'), pg_temp.e('e2', 'r', 'b'), pg_temp.e('e3', 'b', 'o'))));
INSERT INTO runs SELECT 'rr0', pg_temp.safe_run(pg_temp.w('rerun'), '{"p":1}');
INSERT INTO runs SELECT 'rr1', jsonb_build_object('executionId', flowent.rerun(pg_temp.ex('rr0'), 'b'));
SELECT is(pg_temp.res('rr0')->>'status', 'success', 'rerun: original run success');
SELECT isnt(pg_temp.ex('rr1'), pg_temp.ex('rr0'), 'rerun: a new execution');
SELECT is((pg_temp.exec('rr1')).status::text, 'success', 'rerun: new execution success');
SELECT is((pg_temp.exec('rr1')).rerun_of, pg_temp.ex('rr0'), 'rerun: rerun_of the original');
SELECT is((pg_temp.lg(pg_temp.ex('rr1'), 'r')).output, (pg_temp.lg(pg_temp.ex('rr0'), 'r')).output,
		  'rerun: r before from_node is reused, not re-evaluated (same random value)');
SELECT is((pg_temp.lg(pg_temp.ex('rr1'), 'r')).status::text || ' attempts=' || (pg_temp.lg(pg_temp.ex('rr1'), 'r')).attempts,
		  'success attempts=0', 'rerun: reused node logged success with attempts 0');
SELECT is((pg_temp.lg(pg_temp.ex('rr1'), 'b')).attempts, 1, 'rerun: from_node ran (attempts 1)');
SELECT is((pg_temp.exec('rr1')).output->'r', (pg_temp.lg(pg_temp.ex('rr0'), 'r')).output,
		  'rerun: new output built on the reused value');
SELECT is((pg_temp.exec('rr1')).output->'p', '1'::jsonb, 'rerun: same trigger payload');
SELECT isnt((pg_temp.exec('rr1')).output->'n', (pg_temp.exec('rr0')).output->'n', 'rerun: from_node re-evaluated (new random)');

-- ------------------------------------------------ timers of wait.timeoutMs and approval expiry; self-recursion
INSERT INTO runs SELECT 'timers', pg_temp.safe_run(flowent.create_workflow('timers',
	jsonb_build_array(pg_temp.n('t', 'trigger'),
		pg_temp.n('w', 'wait', '{"timeoutMs":5000}'),
		pg_temp.n('ap', 'human-approval', '{"title":"expiring","expiresInMs":60000}')),
	jsonb_build_array(pg_temp.e('e1', 't', 'w'), pg_temp.e('e2', 't', 'ap'))));
SELECT is((SELECT string_agg(node_id || ':' || kind, ',' ORDER BY node_id) FROM flowent.timers
		   WHERE execution_id = pg_temp.ex('timers') AND fired_at IS NULL),
		  'ap:approval_expiry,w:wait_timeout', 'timers: wait timeout and approval expiry rows');
SELECT ok((SELECT expires_at BETWEEN clock_timestamp() + interval '50 s' AND clock_timestamp() + interval '61 s'
		   FROM flowent.workflow_approval_requests WHERE execution_id = pg_temp.ex('timers')),
		  'approval expiresInMs: expires_at about 60 s ahead');
CREATE TEMP TABLE selfwf AS SELECT flowent.create_workflow('self', jsonb_build_array(pg_temp.n('t', 'trigger')), '[]') AS id;
CREATE TEMP TABLE upd AS SELECT flowent.update_workflow(id, jsonb_build_object(
	'nodes', jsonb_build_array(pg_temp.n('t', 'trigger'), pg_temp.n('s', 'sub-workflow', jsonb_build_object('workflowId', id))),
	'edges', jsonb_build_array(pg_temp.e('e1', 't', 's')))) AS version FROM selfwf;
INSERT INTO runs SELECT 'self', pg_temp.safe_run(id) FROM selfwf;
SELECT is(pg_temp.res('self')->>'status', 'error', 'self-recursion: refused (status error)');
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE parent_execution_id = pg_temp.ex('self')), 0::bigint,
		  'self-recursion: no child execution started');

SELECT * FROM finish();
ROLLBACK;
