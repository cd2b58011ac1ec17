-- Flowent 0.12 -> 0.13: the dashboard's version route (flowent.api_version:
-- one version's graph, GET /api/workflows/:id/versions/:version) and paged
-- executions (api_recent_executions takes an offset and says hasMore).
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.13'" to load this file. \quit

-- GET /api/workflows/executions/recent: params {limit? (1-200, 20),
-- offset? (0, paging), workflowId?, status?} → {executions: [...],
-- hasMore}, newest first.
CREATE OR REPLACE FUNCTION flowent.api_recent_executions(params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_limit integer;
	v_offset integer;
	v_workflow uuid;
	v_status flowent.execution_status;
	v_rows jsonb;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['limit', 'offset', 'workflowId', 'status']);
	v_limit := flowent._json_int(p -> 'limit', 'params.limit', 1, 200, 20);
	v_offset := flowent._json_int(p -> 'offset', 'params.offset', 0, 1000000, 0);
	v_workflow := flowent._json_uuid(p -> 'workflowId', 'params.workflowId');
	v_status := flowent._json_enum(p -> 'status', 'params.status', 'flowent.execution_status', true);
	-- one row past the page says whether another page follows
	SELECT coalesce(jsonb_agg(jsonb_build_object(
			'id', e.id,
			'workflowId', e.workflow_id,
			'workflowName', w.name,
			'status', e.status,
			'triggerType', e.trigger_type,
			'startedAt', e.started_at,
			'completedAt', e.completed_at,
			'durationMs', e.duration_ms,
			'totalCost', e.total_cost,
			'error', e.error,
			'errorCode', e.error_code,
			'parentExecutionId', e.parent_execution_id) ORDER BY e.started_at DESC, e.id), '[]'::jsonb)
	INTO v_rows
	FROM (SELECT x.* FROM flowent.workflow_executions x
		WHERE (v_workflow IS NULL OR x.workflow_id = v_workflow)
			AND (v_status IS NULL OR x.status = v_status)
		ORDER BY x.started_at DESC, x.id OFFSET v_offset LIMIT v_limit + 1) e
	LEFT JOIN flowent.workflows w ON w.id = e.workflow_id;
	RETURN jsonb_build_object(
		'executions', CASE WHEN jsonb_array_length(v_rows) > v_limit THEN v_rows - v_limit ELSE v_rows END,
		'hasMore', jsonb_array_length(v_rows) > v_limit);
END
$$;

-- GET /api/workflows/:id/versions/:version → {workflowId, version, name,
-- nodes, edges, message, createdBy, createdAt, published}: one version's
-- graph as it was saved.
CREATE FUNCTION flowent.api_version(id uuid, version text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_version integer;
	v_published integer;
	v record;
BEGIN
	IF api_version.version IS NULL OR api_version.version !~ '^[0-9]{1,9}$' OR api_version.version::integer < 1 THEN
		RAISE EXCEPTION 'version: expected a version number (1, 2, ...) in the path, got "%"',
			coalesce(api_version.version, '')
			USING ERRCODE = '22023';
	END IF;
	v_version := api_version.version::integer;
	SELECT w.published_version INTO v_published FROM flowent.workflows w WHERE w.id = api_version.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_version.id USING ERRCODE = '42704';
	END IF;
	SELECT x.* INTO v FROM flowent.workflow_versions x
	WHERE x.workflow_id = api_version.id AND x.version = v_version;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % has no version %', api_version.id, v_version USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'workflowId', api_version.id,
		'version', v.version,
		'name', v.name,
		'nodes', v.nodes,
		'edges', v.edges,
		'message', v.message,
		'createdBy', v.created_by,
		'createdAt', v.created_at,
		'published', v.version = v_published);
END
$$;
