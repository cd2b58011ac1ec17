-- ===========================================================================
-- Progress of running nodes (DESIGN §9): what a node has produced so far,
-- e.g. an llm-agent's answer as the model streams it.  The worker that
-- receives it stores the text here at most ~10 times a second and sends a
-- step:progress event with ids and sizes only (any role may LISTEN); the
-- gateway reads the text for the subscribers allowed to see the
-- execution's node logs, under the same rule.  A node's row goes when its
-- answer is in (the node log then has it), and with its execution.
-- ===========================================================================

CREATE TABLE flowent.node_progress (
	execution_id uuid NOT NULL,
	node_id text NOT NULL,
	iteration text COLLATE "C" NOT NULL DEFAULT '',
	text text NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (execution_id, node_id, iteration)
);
ALTER TABLE flowent.node_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY node_progress_select ON flowent.node_progress FOR SELECT
	USING (EXISTS (SELECT 1 FROM flowent.workflow_executions e WHERE e.id = execution_id));
GRANT SELECT ON flowent.node_progress TO PUBLIC;

-- The step:progress event of a node with its text so far, for a reader who
-- may see it (NULL otherwise, or when the node has none any more).
CREATE FUNCTION flowent.api_node_progress(execution_id uuid, node_id text, iteration text DEFAULT '')
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'event', 'step:progress',
		'executionId', p.execution_id,
		'workflowId', e.workflow_id,
		'seq', NULL,
		'nodeId', p.node_id,
		'nodeType', 'llm-agent',
		'iteration', nullif(p.iteration, ''),
		'status', 'running',
		'durationMs', NULL,
		'ts', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
		'outputBytes', octet_length(p.text),
		'live', true,
		'text', p.text)
	FROM flowent.node_progress p
	JOIN flowent.workflow_executions e ON e.id = p.execution_id
	WHERE p.execution_id = api_node_progress.execution_id AND p.node_id = api_node_progress.node_id
		AND p.iteration = coalesce(api_node_progress.iteration, '')
$$;
