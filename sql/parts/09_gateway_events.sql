-- Gateway events (DESIGN §9, §10): what a WebSocket or SSE client missed,
-- rebuilt from the node logs, and the outputs the gateway adds to live events.

-- The events of an execution after since_seq, rebuilt from its node logs and
-- its row, as the envelope of DESIGN Appendix B with each step's output (left
-- out, and flagged truncated, past output_cap bytes): what a WebSocket or SSE
-- client missed, and the outputs the gateway adds to live events. One row per
-- event, "<seq> <event>", in seq order; a node log holds the seq of its
-- node's last event, the execution row that of workflow:complete.
CREATE FUNCTION flowent.api_execution_events(execution_id uuid, since_seq integer,
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

-- The per-user feed of the gateway's WebSocket: for executions whose events
-- just arrived, who started each one and to whom its pending approvals are
-- assigned (ids only), as {"e": executionId, "u": userId, "a": [assignees]}.
-- The gateway's own role asks, before it knows any reader: only ids leave.
CREATE FUNCTION flowent.gateway_event_users(execution_ids uuid[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT json_build_object('e', x.id, 'u', x.user_id, 'a',
		coalesce((SELECT json_agg(DISTINCT a.assigned_user_id) FROM flowent.workflow_approval_requests a
			WHERE a.execution_id = x.id AND a.status = 'pending' AND a.assigned_user_id IS NOT NULL), '[]'))::text
	FROM flowent.workflow_executions x
	WHERE x.id = ANY (execution_ids)
$$;
REVOKE ALL ON FUNCTION flowent.gateway_event_users(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_event_users(uuid[]) TO flowent_gateway;
