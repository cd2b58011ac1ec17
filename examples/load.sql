-- Flowent examples: three workflows in React Flow JSON (node configs: DESIGN.md Appendix A).
-- Idempotent: each example is deleted by name, then created again.
--   psql -d flowent -f examples/load.sql
-- Then, for example:
--   SELECT jsonb_pretty(flowent.run(id, '{"amount": 1500}')) FROM flowent.workflows WHERE name = 'Order triage';
\set ON_ERROR_STOP on

BEGIN;

DELETE FROM flowent.workflows WHERE name IN ('Order triage', 'Loop and transform', 'Approval');

-- (a) Order triage: a condition on the order amount picks one of two set-variable branches;
-- the output node joins them (the branch not taken is skipped, so it runs once).
-- Run with {"amount": 1500} -> priority "high", {"amount": 20} -> "normal".
SELECT flowent.create_workflow(
	'Order triage',
	$nodes$[
		{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
		 "data": {"label": "Order received", "triggerType": "manual"}},
		{"id": "check", "type": "condition", "position": {"x": 250, "y": 100},
		 "data": {"label": "Amount over 1000?", "combinator": "and",
		          "conditions": [{"left": "{{trigger.payload.amount}}", "operator": "gt", "right": 1000}]}},
		{"id": "high", "type": "set-variable", "position": {"x": 500, "y": 0},
		 "data": {"label": "High priority", "name": "priority", "value": "high"}},
		{"id": "normal", "type": "set-variable", "position": {"x": 500, "y": 200},
		 "data": {"label": "Normal priority", "name": "priority", "value": "normal"}},
		{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
		 "data": {"label": "Result",
		          "value": {"amount": "{{trigger.payload.amount}}", "priority": "{{variables.priority}}"}}}
	]$nodes$::jsonb,
	$edges$[
		{"id": "e-t-check", "source": "t", "target": "check"},
		{"id": "e-check-high", "source": "check", "sourceHandle": "true", "target": "high"},
		{"id": "e-check-normal", "source": "check", "sourceHandle": "false", "target": "normal"},
		{"id": "e-high-result", "source": "high", "target": "result"},
		{"id": "e-normal-result", "source": "normal", "target": "result"}
	]$edges$::jsonb
) AS order_triage \gset

-- (b) Loop and transform: the loop runs its body (a SQL data-transform) once per item of
-- trigger.payload.items, then continues on "done" with {results, count}.
-- Run with {"items": [{"n": 1}, {"n": 2}, {"n": 3}]} -> doubled [{"double": 2}, {"double": 4}, {"double": 6}].
SELECT flowent.create_workflow(
	'Loop and transform',
	$nodes$[
		{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
		 "data": {"label": "Items received", "triggerType": "manual"}},
		{"id": "each", "type": "loop-controller", "position": {"x": 250, "y": 100},
		 "data": {"label": "For each item", "items": "{{trigger.payload.items}}", "parallel": 1}},
		{"id": "double", "type": "data-transform", "position": {"x": 500, "y": 0},
		 "data": {"label": "Double n", "language": "sql",
		          "expression": "jsonb_build_object('double', (input->>'n')::int * 2)"}},
		{"id": "result", "type": "output", "position": {"x": 500, "y": 200},
		 "data": {"label": "Result", "value": {"doubled": "{{each.results}}", "count": "{{each.count}}"}}}
	]$nodes$::jsonb,
	$edges$[
		{"id": "e-t-each", "source": "t", "target": "each"},
		{"id": "e-each-double", "source": "each", "sourceHandle": "body", "target": "double"},
		{"id": "e-each-result", "source": "each", "sourceHandle": "done", "target": "result"}
	]$edges$::jsonb
) AS loop_and_transform \gset

-- (c) Approval: the run suspends at the human-approval node; flowent.approve(executionId, true|false)
-- continues it on the "approved" or "rejected" branch, and the output node reports the decision.
-- Run with {"amount": 250, "customer": "ACME"}.
SELECT flowent.create_workflow(
	'Approval',
	$nodes$[
		{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
		 "data": {"label": "Refund requested", "triggerType": "manual"}},
		{"id": "review", "type": "human-approval", "position": {"x": 250, "y": 100},
		 "data": {"label": "Approve refund",
		          "title": "Refund of {{trigger.payload.amount}} for {{trigger.payload.customer}}",
		          "message": "Please approve or reject this refund.",
		          "contextData": "{{trigger.payload}}",
		          "expiresInMs": 86400000, "onExpire": "reject"}},
		{"id": "accepted", "type": "set-variable", "position": {"x": 500, "y": 0},
		 "data": {"label": "Approved", "name": "decision", "value": "approved"}},
		{"id": "declined", "type": "set-variable", "position": {"x": 500, "y": 200},
		 "data": {"label": "Rejected", "name": "decision", "value": "rejected"}},
		{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
		 "data": {"label": "Result",
		          "value": {"decision": "{{variables.decision}}", "approval": "{{review}}"}}}
	]$nodes$::jsonb,
	$edges$[
		{"id": "e-t-review", "source": "t", "target": "review"},
		{"id": "e-review-accepted", "source": "review", "sourceHandle": "approved", "target": "accepted"},
		{"id": "e-review-declined", "source": "review", "sourceHandle": "rejected", "target": "declined"},
		{"id": "e-accepted-result", "source": "accepted", "target": "result"},
		{"id": "e-declined-result", "source": "declined", "target": "result"}
	]$edges$::jsonb
) AS approval \gset

COMMIT;

SELECT name, id FROM flowent.workflows
WHERE name IN ('Order triage', 'Loop and transform', 'Approval')
ORDER BY name;
