-- Deleting history: executions go with their workflow and children with
-- their parent, with their node logs (statement triggers, not foreign keys:
-- no per-run row lock on the workflow).
BEGIN;
SELECT plan(6);

CREATE TEMP TABLE w AS
SELECT flowent.create_workflow('cascade child',
	'[{"id":"t","type":"trigger","data":{}},{"id":"o","type":"output","data":{"value":"{{trigger.payload}}"}}]',
	'[{"id":"e1","source":"t","target":"o"}]') AS child;
ALTER TABLE w ADD COLUMN parent uuid;
UPDATE w SET parent = flowent.create_workflow('cascade parent',
	format('[{"id":"t","type":"trigger","data":{}},{"id":"s","type":"sub-workflow","data":{"workflowId":"%s"}},
	         {"id":"o","type":"output","data":{"value":"{{s}}"}}]', child)::jsonb,
	'[{"id":"e1","source":"t","target":"s"},{"id":"e2","source":"s","target":"o"}]');
CREATE TEMP TABLE r AS SELECT (flowent.run(parent, '{"n": 1}')->>'executionId')::uuid AS id FROM w;
CREATE TEMP TABLE c AS SELECT e.id FROM flowent.workflow_executions e, r WHERE e.parent_execution_id = r.id;

SELECT is((SELECT count(*) FROM c), 1::bigint, 'the run has a child execution');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_constraint
					  WHERE conrelid = 'flowent.workflow_executions'::regclass AND contype = 'f'),
		  'no foreign keys on workflow_executions');
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = (SELECT child FROM w)), 1::bigint,
		  'the child execution belongs to the child workflow');

SELECT flowent.delete_workflow(parent) FROM w;
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE id IN (SELECT id FROM r UNION SELECT id FROM c)), 0::bigint,
		  'deleting the parent workflow deleted its execution and that execution''s child');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs WHERE execution_id IN (SELECT id FROM r UNION SELECT id FROM c)), 0::bigint,
		  'and their node logs');

SELECT flowent.run(child, '{"n": 2}') FROM w;
SELECT flowent.delete_workflow(child) FROM w;
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = (SELECT child FROM w)), 0::bigint,
		  'deleting a workflow deletes its executions');

SELECT * FROM finish();
ROLLBACK;
