-- flowent.diff(): node and edge changes between two versions, field by field.
\set VERBOSITY terse
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM,
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
END
$$;

-- version 1: t -> a -> b -> o
SELECT flowent.create_workflow('Lead scoring', '[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 0}, "data": {"label": "Start", "triggerType": "manual"}},
	{"id": "a", "type": "set-variable", "position": {"x": 100, "y": 0}, "data": {"label": "Score", "name": "score", "value": 1}},
	{"id": "b", "type": "notify", "position": {"x": 200, "y": 0}, "data": {"label": "Tell", "channel": "leads"}},
	{"id": "o", "type": "output", "position": {"x": 300, "y": 0}, "data": {"label": "Done"}}]', '[
	{"id": "e1", "source": "t", "target": "a"},
	{"id": "e2", "source": "a", "target": "b"},
	{"id": "e3", "source": "b", "target": "o"}]') AS wf \gset

-- version 2: b removed, c added (a condition), a reconfigured, t moved, o unchanged
-- but for key order and number spelling, edges rewired, renamed
SELECT flowent.update_workflow(:'wf', '{"name": "Lead scoring v2", "nodes": [
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 50}, "data": {"triggerType": "manual", "label": "Start"}},
	{"id": "a", "type": "set-variable", "position": {"x": 100, "y": 0}, "data": {"label": "Score it", "value": 2, "variables": {"x": 1}}},
	{"id": "c", "type": "condition", "position": {"x": 200, "y": 0}, "data": {"label": "Hot?", "conditions": []}},
	{"id": "o", "type": "output", "position": {"y": 0.0, "x": 300}, "data": {"label": "Done"}, "selected": true}], "edges": [
	{"id": "e1", "source": "t", "target": "a"},
	{"id": "e2", "source": "a", "target": "c"},
	{"id": "e4", "source": "c", "target": "o", "sourceHandle": "true"}]}');

SELECT jsonb_pretty(flowent.diff(:'wf', 1, 2) - 'workflowId');
SELECT flowent.diff(:'wf', 1, 2) ->> 'workflowId' = :'wf' AS same_id;

-- backwards: added and removed swap, from and to swap
SELECT flowent.diff(:'wf', 2, 1) -> 'summary' AS summary,
	flowent.diff(:'wf', 2, 1) -> 'name' AS name,
	jsonb_path_query_array(flowent.diff(:'wf', 2, 1), '$.nodes.added[*].id') AS added,
	jsonb_path_query_array(flowent.diff(:'wf', 2, 1), '$.nodes.removed[*].id') AS removed,
	flowent.diff(:'wf', 2, 1) #> '{edges,changed}' AS edge_changes;

-- the same version: nothing, and no "name"
SELECT flowent.diff(:'wf', 2, 2) - 'workflowId' AS same;

-- a type change, data dropped (its keys go to null), data that is not an object
SELECT flowent.update_workflow(:'wf', '{"nodes": [
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 50}, "data": {"triggerType": "manual", "label": "Start"}},
	{"id": "a", "type": "data-transform", "position": {"x": 100, "y": 0}},
	{"id": "c", "type": "condition", "position": {"x": 200, "y": 0}, "data": "oops"},
	{"id": "o", "type": "output", "position": {"y": 0.0, "x": 300}, "data": {"label": "Done"}}]}');
SELECT jsonb_pretty(flowent.diff(:'wf', 2, 3) -> 'nodes');
SELECT flowent.diff(:'wf', 2, 3) -> 'summary' AS summary, flowent.diff(:'wf', 2, 3) ? 'name' AS has_name;

-- versions and workflows that do not exist, or are not visible
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('no from version', $$SELECT flowent.diff('$$ || :'wf' || $$', 0, 2)$$),
	('no to version', $$SELECT flowent.diff('$$ || :'wf' || $$', 1, 9)$$),
	('null version', $$SELECT flowent.diff('$$ || :'wf' || $$', NULL, 2)$$),
	('no workflow', $$SELECT flowent.diff('00000000-0000-0000-0000-000000000004', 1, 2)$$)
) AS t(label, q);
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dave') THEN
		BEGIN
			CREATE ROLE dave NOLOGIN;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN
			NULL;
		END;
	END IF;
END
$$;
SET ROLE dave;
SELECT pg_temp.try($$SELECT flowent.diff('$$ || :'wf' || $$', 1, 2)$$) AS dave_diffs_private;
RESET ROLE;
