-- Flowent 0.11 -> 0.12: the llm-agent's tools (workflows the model may call,
-- src/nodes/llm_tools.c) and maxSteps; a trigger's payload schema, which a
-- tool gives the model as its parameters.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.12'" to load this file. \quit

-- 04_node_types.sql, as a fresh install has them
UPDATE flowent.node_types SET config_schema = jsonb_set(config_schema, '{properties,schema}', '{"type": "object",
	"description": "A JSON Schema of the payload; an llm-agent offering this workflow as a tool gives it to the model as the tool''s parameters."}')
WHERE type = 'trigger';

UPDATE flowent.node_types SET config_schema = jsonb_set(config_schema, '{properties}', config_schema -> 'properties' || '{
	"tools": {"type": "array", "items": {"type": "object"},
		"description": "Workflows the model may call: [{workflowId, name?, description?, parameters?}]; each call runs the workflow with the arguments as its payload, and its output goes back to the model."},
	"maxSteps": {"type": "integer", "default": 5,
		"description": "Most model calls of one run of the node (with tools); the last is told to answer."},
	"timeoutMs": {"type": "integer",
		"description": "Fail with TIMEOUT when a call takes longer; default flowent.http_timeout_ms (30000)."}}')
WHERE type = 'llm-agent';

-- 09_gateway_events.sql: an agent's steps catch up as step:progress
CREATE OR REPLACE FUNCTION flowent.api_execution_events(execution_id uuid, since_seq integer,
	output_cap integer DEFAULT 65536) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e record;
	fmt constant text := 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
BEGIN
	IF api_execution_events.execution_id IS NULL OR since_seq IS NULL OR output_cap IS NULL THEN
		RAISE EXCEPTION 'execution_id, since_seq and output_cap must not be null' USING ERRCODE = '22023';
	END IF;
	SELECT x.workflow_id, x.status, x.seq, x.completed_at, x.duration_ms, x.total_cost,
		x.total_tokens, x.error_code, x.error_node_id, octet_length(x.output::text) AS output_bytes
	INTO e FROM flowent.workflow_executions x WHERE x.id = api_execution_events.execution_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'execution % not found', api_execution_events.execution_id USING ERRCODE = '42704';
	END IF;
	RETURN QUERY
	SELECT l.seq || ' ' || jsonb_build_object(
		-- a step of a node that works in steps (an agent's model calls): "<iteration>#<step>"
		'event', CASE WHEN l.iteration LIKE '%#%' THEN 'step:progress'
			ELSE CASE l.status WHEN 'success' THEN 'step:completed' WHEN 'error' THEN 'step:failed'
			WHEN 'skipped' THEN 'state:update' WHEN 'waiting' THEN 'node:suspended' ELSE 'step:started' END END,
		'executionId', api_execution_events.execution_id,
		'workflowId', e.workflow_id,
		'seq', l.seq,
		'nodeId', l.node_id,
		'nodeType', l.node_type,
		'iteration', nullif(l.iteration, ''),
		'status', CASE WHEN l.status IN ('started', 'running') OR l.iteration LIKE '%#%' THEN 'running'
			ELSE l.status::text END,
		'durationMs', l.duration_ms,
		'ts', to_char(coalesce(l.completed_at, l.started_at) AT TIME ZONE 'UTC', fmt),
		'outputBytes', octet_length(l.output::text),
		'output', CASE WHEN octet_length(l.output::text) <= output_cap THEN l.output END,
		'truncated', coalesce(octet_length(l.output::text) > output_cap, false),
		'error', l.error,
		'errorCode', l.error_code)::text
	FROM flowent.workflow_node_logs l
	WHERE l.execution_id = api_execution_events.execution_id AND l.seq > since_seq
	ORDER BY l.seq;
	IF e.status IN ('success', 'error', 'cancelled') AND e.seq > since_seq THEN
		RETURN NEXT e.seq || ' ' || jsonb_build_object(
			'event', 'workflow:complete',
			'executionId', api_execution_events.execution_id,
			'workflowId', e.workflow_id,
			'seq', e.seq,
			'nodeId', NULL,
			'nodeType', NULL,
			'status', e.status,
			'durationMs', e.duration_ms,
			'ts', to_char(e.completed_at AT TIME ZONE 'UTC', fmt),
			'outputBytes', e.output_bytes,
			'totalCost', e.total_cost,
			'totalTokens', e.total_tokens,
			'errorCode', e.error_code,
			'errorNodeId', e.error_node_id)::text;
	END IF;
END
$$;
