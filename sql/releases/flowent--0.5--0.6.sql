-- flowent 0.5 -> 0.6 (the pipelines list, cheaper):
-- * an index on workflows (updated_at DESC NULLS LAST, id): the list reads
--   its page from it and stops;
-- * flowent._workflow_visible(owner, visibility, workspace, uid): the
--   workflows SELECT policy's rule in one place, used by the policy,
--   _workflow_visible_to, _running_count and _pipelines;
-- * _pipelines returns json and applies the executions policy's rule once
--   per workflow (SECURITY DEFINER), api_list_pipelines builds json and
--   casts once: the same answers for less than half the work;
-- * gateway_webhook_seen plans its clean-up with enable_seqscan off: a replay
--   table without statistics made it scan every delivery per webhook.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.6'" to load this file. \quit

-- 01_schema.sql
CREATE INDEX ON flowent.workflows (updated_at DESC NULLS LAST, id);

-- 02_api.sql
CREATE FUNCTION flowent._workflow_visible(owner text, vis flowent.workflow_visibility, ws uuid, uid text)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT owner = uid
		OR vis = 'public'
		OR (vis = 'team' AND ws IS NOT NULL AND flowent._workspace_role(ws, uid) IS NOT NULL)
$$;

CREATE OR REPLACE FUNCTION flowent._workflow_visible_to(wf uuid, uid text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT coalesce((
		SELECT flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, uid)
		FROM flowent.workflows w WHERE w.id = wf), false)
$$;

-- 03_rls.sql
DROP POLICY workflows_select ON flowent.workflows;
CREATE POLICY workflows_select ON flowent.workflows FOR SELECT
	USING (flowent._workflow_visible(user_id, visibility, workspace_id, flowent.current_user_id()));

-- 08_gateway.sql
DROP FUNCTION flowent._pipelines(uuid[]);
CREATE FUNCTION flowent._pipelines(ids uuid[]) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
BEGIN
	RETURN (
		SELECT coalesce(json_agg(json_build_object(
			'id', w.id,
			'name', w.name,
			'description', w.description,
			'is_active', w.status = 'active',
			'status', w.status,
			'trigger_type', coalesce(jsonb_path_query_first(w.nodes,
				'$[*] ? (@.type == "trigger").data.triggerType') #>> '{}', 'manual'),
			'visibility', w.visibility,
			'version', w.version,
			'published_version', w.published_version,
			'created_at', w.created_at,
			'updated_at', w.updated_at,
			'latest_execution', le.execution,
			'execution_count', s.total,
			'successful_count', s.succeeded,
			'failed_count', s.failed) ORDER BY t.ord), '[]'::json)
		FROM unnest(ids) WITH ORDINALITY AS t(id, ord)
		JOIN flowent.workflows w ON w.id = t.id
			AND flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, caller)
		CROSS JOIN LATERAL (SELECT flowent._can_edit(w.user_id, w.workspace_id, caller) AS all_runs) r
		CROSS JOIN LATERAL (
			SELECT count(*) AS total,
				count(*) FILTER (WHERE e.status = 'success') AS succeeded,
				count(*) FILTER (WHERE e.status = 'error') AS failed
			FROM flowent.workflow_executions e
			WHERE e.workflow_id = w.id AND (r.all_runs OR e.user_id = caller)) s
		LEFT JOIN LATERAL (
			SELECT json_build_object(
				'id', e.id,
				'status', e.status,
				'started_at', e.started_at,
				'completed_at', e.completed_at,
				'current_step', (SELECT count(DISTINCT l.node_id) FROM flowent.workflow_node_logs l
					WHERE l.execution_id = e.id AND l.status IN ('success', 'error', 'skipped')),
				'total_steps', (SELECT jsonb_array_length(v.nodes) FROM flowent.workflow_versions v
					WHERE v.workflow_id = e.workflow_id AND v.version = e.workflow_version)) AS execution
			FROM flowent.workflow_executions e
			WHERE e.workflow_id = w.id AND (r.all_runs OR e.user_id = caller)
			ORDER BY e.started_at DESC
			LIMIT 1) le ON true);
END
$$;

CREATE OR REPLACE FUNCTION flowent._running_count() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT count(*) FROM flowent.workflow_executions e
	JOIN flowent.workflows w ON w.id = e.workflow_id
	WHERE e.status IN ('pending', 'running')
		AND (e.user_id = flowent._caller_id()
			OR flowent._can_edit(w.user_id, w.workspace_id, flowent._caller_id()))
		AND flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, flowent._caller_id())
$$;

CREATE OR REPLACE FUNCTION flowent.api_list_pipelines(params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_status flowent.workflow_status;
	v_search text;
	v_limit integer;
	v_offset integer;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['status', 'search', 'limit', 'offset']);
	v_status := flowent._json_enum(p -> 'status', 'params.status', 'flowent.workflow_status', true);
	v_search := lower(nullif(flowent._json_string(p -> 'search', 'params.search'), ''));
	v_limit := flowent._json_int(p -> 'limit', 'params.limit', 1, 200, 50);
	v_offset := flowent._json_int(p -> 'offset', 'params.offset', 0, 2147483647, 0);
	-- matching is inlined in both uses: the page comes from the index on
	-- (updated_at, id), stopping after it, the count from its own scan
	-- (cheaper than keeping every row for both); built as json, one cast to
	-- jsonb at the end
	RETURN (
		WITH matching AS NOT MATERIALIZED (
			SELECT w.id, w.updated_at FROM flowent.workflows w
			WHERE w.is_template IS NOT TRUE
				AND (v_status IS NULL OR w.status = v_status)
				AND (v_search IS NULL OR strpos(lower(w.name), v_search) > 0
					OR strpos(lower(coalesce(w.description, '')), v_search) > 0)
		)
		SELECT json_build_object(
			'pipelines', flowent._pipelines(ARRAY(SELECT m.id FROM matching m
				ORDER BY m.updated_at DESC NULLS LAST, m.id
				LIMIT v_limit OFFSET v_offset)),
			'meta', json_build_object(
				'total', (SELECT count(*) FROM matching),
				'running', flowent._running_count(),
				'limit', v_limit,
				'offset', v_offset))::jsonb);
END
$$;

CREATE OR REPLACE FUNCTION flowent.api_get_pipeline(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT SET jit = off AS $$
DECLARE
	w record;
BEGIN
	SELECT wf.nodes, wf.edges, wf.tags, wf.run_as, wf.workspace_id, wf.is_published, wf.published_version
	INTO w FROM flowent.workflows wf WHERE wf.id = api_get_pipeline.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_get_pipeline.id USING ERRCODE = '42704';
	END IF;
	RETURN (flowent._pipelines(ARRAY[api_get_pipeline.id]) -> 0)::jsonb || jsonb_build_object(
		'nodes', w.nodes,
		'edges', w.edges,
		'tags', coalesce(w.tags, '[]'::jsonb),
		'runAs', w.run_as,
		'workspace_id', w.workspace_id,
		'webhook', jsonb_build_object(
			'published', coalesce(w.is_published, false) AND coalesce(w.published_version, 0) >= 1,
			'url', '/api/hooks/' || api_get_pipeline.id),
		'executions', (
			SELECT coalesce(jsonb_agg(jsonb_build_object(
				'id', e.id,
				'status', e.status,
				'trigger_type', e.trigger_type,
				'started_at', e.started_at,
				'completed_at', e.completed_at,
				'duration_ms', e.duration_ms,
				'total_cost', e.total_cost,
				'total_tokens', e.total_tokens,
				'error', e.error,
				'error_code', e.error_code,
				'error_node_id', e.error_node_id) ORDER BY e.started_at DESC, e.id), '[]'::jsonb)
			FROM (SELECT x.* FROM flowent.workflow_executions x
				WHERE x.workflow_id = api_get_pipeline.id
				ORDER BY x.started_at DESC, x.id LIMIT 20) e));
END
$$;

CREATE OR REPLACE FUNCTION flowent.gateway_webhook_seen(id uuid, signature text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp SET enable_seqscan = off AS $$
BEGIN
	IF gateway_webhook_seen.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	IF signature IS NULL OR length(signature) NOT BETWEEN 1 AND 512 THEN
		RAISE EXCEPTION 'signature must be 1 to 512 characters' USING ERRCODE = '22023';
	END IF;
	-- ctid = ANY (ARRAY(...)), not ctid IN (...): a plan cached while the
	-- table looked empty made IN a nested loop that rescanned it per row
	DELETE FROM flowent.webhook_deliveries d
	WHERE d.ctid = ANY (ARRAY(SELECT o.ctid FROM flowent.webhook_deliveries o
		WHERE o.received_at < now() - interval '10 minutes'
		LIMIT 100 FOR UPDATE SKIP LOCKED));
	INSERT INTO flowent.webhook_deliveries (workflow_id, signature)
	VALUES (gateway_webhook_seen.id, signature)
	ON CONFLICT ON CONSTRAINT webhook_deliveries_pkey DO NOTHING;
	RETURN NOT FOUND;
END
$$;
