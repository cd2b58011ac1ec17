
-- ===========================================================================
-- The SQL side of the HTTP gateway (DESIGN §10, release 0.5): API tokens,
-- one function per route (seed §4.1, shapes of seed §9) and the webhook
-- entry points. Every route of the gateway is a thin call of one function
-- here, so SQL callers and HTTP clients get the same answers and errors.
--
-- * api_* functions are SECURITY INVOKER: row-level security (03_rls.sql)
--   decides what flowent.current_user_id() sees; they return jsonb.
-- * gateway_* functions are SECURITY DEFINER and executable by members of
--   flowent_gateway only: they act before anyone is known (a bearer token,
--   a webhook's signature), so they read what no user may read.
-- * Functions whose arguments come from a request body are not STRICT: a
--   missing value is a 22023 naming it, never a NULL answer; those taking
--   only ids from the path are STRICT.
-- * Errors: 22023 bad input (HTTP 400), 28000 bad, revoked or expired token
--   (401), 42501 not allowed (403), 42704 not found or not visible (404),
--   55000 wrong state or conflict (409), 54000 limit (413).
-- * JSON keys are camelCase, except in the pipeline objects of seed §9.1
--   (api_list_pipelines, api_get_pipeline), which keep the seed's snake_case.
-- * The readers of executions run with jit = off: they are short lookups,
--   and under row-level security the planner may not use the statistics of
--   non-leakproof operators (enum comparisons), so its estimates can pass
--   jit_above_cost and compiling would cost more than the query (~0.4 s).
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

-- A user id as the acting user can be: 1 to 200 characters.
CREATE FUNCTION flowent._check_user_id(uid text, field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF uid IS NULL OR length(uid) NOT BETWEEN 1 AND 200 THEN
		RAISE EXCEPTION '% must be 1 to 200 characters, got %', field,
			coalesce(length(uid) || ' characters', 'null')
			USING ERRCODE = '22023';
	END IF;
	RETURN uid;
END
$$;

-- Whether user uid is an administrator: a role of that name that is a
-- superuser or a member of flowent_admin (as the engine's fl_is_admin: a
-- gateway's end user is one only if a role of that name is).
CREATE FUNCTION flowent._is_admin(uid text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'flowent_admin', 'MEMBER')
		FROM pg_catalog.pg_roles r WHERE r.rolname = uid), false)
$$;

-- Whether s is a UUID (as uuid_in reads one).
CREATE FUNCTION flowent._is_uuid(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT s ~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$'
$$;

-- A UUID given as a JSON string (JSON null or absent gives NULL).
CREATE FUNCTION flowent._json_uuid(v jsonb, field text) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	s text := flowent._json_string(v, field);
BEGIN
	IF s IS NOT NULL AND NOT flowent._is_uuid(s) THEN
		RAISE EXCEPTION '% must be a UUID, got %', field, v::text USING ERRCODE = '22023';
	END IF;
	RETURN s::uuid;
END
$$;

-- An integer from lo to hi: a JSON number, or a string of digits (query
-- strings reach the gateway as text). JSON null or absent gives dflt.
CREATE FUNCTION flowent._json_int(v jsonb, field text, lo integer, hi integer, dflt integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	s text := CASE jsonb_typeof(v) WHEN 'number' THEN v::text WHEN 'string' THEN btrim(v #>> '{}') END;
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN dflt;
	END IF;
	IF s IS NULL OR s !~ '^-?[0-9]{1,10}$' OR s::bigint NOT BETWEEN lo AND hi THEN
		RAISE EXCEPTION '% must be an integer from % to %, got %', field, lo, hi, v::text
			USING ERRCODE = '22023';
	END IF;
	RETURN s::integer;
END
$$;

-- The stored form of an API token.
CREATE FUNCTION flowent._token_hash(token text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
	SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;

-- Whether token looks like an API token: "flw_" and 64 hex digits.
CREATE FUNCTION flowent._is_token(token text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT token ~ '^flw_[0-9a-f]{64}$'
$$;

-- 42704 unless the current user sees workflow wf.
CREATE FUNCTION flowent._require_workflow(wf uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF wf IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	IF NOT flowent.can_see_workflow(wf) THEN
		RAISE EXCEPTION 'workflow % not found', wf USING ERRCODE = '42704';
	END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- API tokens
-- ---------------------------------------------------------------------------

-- A new API token for user_id: "flw_" and 64 hex digits, shown only here;
-- only its sha256 is stored. For the user themselves, superusers and
-- members of flowent_admin. name NULL is 'default'; expires_in NULL: never.
CREATE FUNCTION flowent.create_api_token(user_id text, name text DEFAULT 'default',
										 expires_in interval DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
	v_name text := coalesce(create_api_token.name, 'default');
	token text;
BEGIN
	PERFORM flowent._check_user_id(create_api_token.user_id, 'user_id'), flowent._check_name(v_name, 'name');
	IF expires_in <= interval '0' THEN
		RAISE EXCEPTION 'expires_in must be a positive interval (or null: never), got %', expires_in
			USING ERRCODE = '22023';
	END IF;
	IF create_api_token.user_id <> caller AND NOT flowent._is_admin(caller) THEN
		RAISE EXCEPTION 'user "%" may not create an API token for user "%": only that user, a superuser or a member of flowent_admin may',
			caller, create_api_token.user_id
			USING ERRCODE = '42501';
	END IF;
	token := 'flw_' || flowent._random_hex64();
	INSERT INTO flowent.api_tokens (user_id, name, token_hash, expires_at)
	VALUES (create_api_token.user_id, v_name, flowent._token_hash(token), now() + expires_in);
	RETURN token;
END
$$;

-- Revoke an API token, given as the token itself or as its id; false when
-- there is none. For the token's user, superusers and members of flowent_admin.
CREATE FUNCTION flowent.revoke_api_token(token text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
	v_id uuid;
	v_user text;
BEGIN
	IF flowent._is_token(token) THEN
		SELECT t.id, t.user_id INTO v_id, v_user FROM flowent.api_tokens t
		WHERE t.token_hash = flowent._token_hash(token) FOR UPDATE;
	ELSIF flowent._is_uuid(token) THEN
		SELECT t.id, t.user_id INTO v_id, v_user FROM flowent.api_tokens t
		WHERE t.id = token::uuid FOR UPDATE;
	ELSE
		-- never echo what may be a secret
		RAISE EXCEPTION 'token must be an API token ("flw_" and 64 hex digits) or the id of one (a UUID)'
			USING ERRCODE = '22023';
	END IF;
	IF v_id IS NULL THEN
		RETURN false;
	END IF;
	IF v_user <> caller AND NOT flowent._is_admin(caller) THEN
		RAISE EXCEPTION 'API token %: only its user, a superuser or a member of flowent_admin may revoke it', v_id
			USING ERRCODE = '42501';
	END IF;
	UPDATE flowent.api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) WHERE t.id = v_id;
	RETURN true;
END
$$;

-- The gateway's first statement of a request: the token's user becomes the
-- acting user of this transaction (flowent.set_acting_user, which checks
-- that the session user is a member of flowent_gateway); returns the user
-- id. 28000 for an unknown, revoked or expired token. last_used_at is
-- written at most once a minute, and never waits for a row lock (another
-- request of the same token may hold it) nor in a read-only transaction.
CREATE FUNCTION flowent.gateway_login(token text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	v_id uuid;
	v_user text;
	v_revoked timestamptz;
	v_expires timestamptz;
	v_last timestamptz;
BEGIN
	IF flowent._is_token(token) THEN
		SELECT t.id, t.user_id, t.revoked_at, t.expires_at, t.last_used_at
		INTO v_id, v_user, v_revoked, v_expires, v_last
		FROM flowent.api_tokens t WHERE t.token_hash = flowent._token_hash(token);
	END IF;
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'invalid API token' USING ERRCODE = '28000';
	END IF;
	IF v_revoked IS NOT NULL THEN
		RAISE EXCEPTION 'API token revoked' USING ERRCODE = '28000';
	END IF;
	IF v_expires <= now() THEN
		RAISE EXCEPTION 'API token expired' USING ERRCODE = '28000';
	END IF;
	IF (v_last IS NULL OR v_last < now() - interval '1 minute')
		AND current_setting('transaction_read_only') = 'off' THEN
		UPDATE flowent.api_tokens t SET last_used_at = now()
		WHERE t.id = (SELECT u.id FROM flowent.api_tokens u
			WHERE u.id = v_id AND (u.last_used_at IS NULL OR u.last_used_at < now() - interval '1 minute')
			FOR UPDATE SKIP LOCKED);
	END IF;
	PERFORM flowent.set_acting_user(v_user);
	RETURN v_user;
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_login(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_login(text) TO flowent_gateway;

-- ---------------------------------------------------------------------------
-- Pipelines (seed §9.1): workflows with their run statistics
-- ---------------------------------------------------------------------------

-- The pipeline objects of the workflows among ids the caller sees, in the
-- order of ids, built as json text (half the work of jsonb). The executions
-- counted and the latest one are those the caller sees, the executions
-- policy's rule decided once per workflow instead of per row (and per node
-- log): all executions of a workflow the caller may edit, else the caller's
-- own. Hence SECURITY DEFINER, with the workflows policy's rule applied to
-- ids. current_step counts the nodes that finished (success, error or
-- skipped), total_steps the nodes of the execution's version.
-- plpgsql, not sql: its plan is kept for the session instead of being
-- made again on every call
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

-- The pending and running executions the caller sees (of workflows it
-- sees): the executions_select policy's rule, applied after the partial
-- index on status. Under row-level security the status test (enum_eq is not
-- leakproof) could only come after the policy, so the count read every
-- execution in the database, anyone's. plpgsql, not sql: a SECURITY DEFINER
-- sql function is not inlined and was parsed and planned on every call
-- (0.42 against 0.10 ms with nothing running).
CREATE FUNCTION flowent._running_count() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
BEGIN
	RETURN (SELECT count(*) FROM flowent.workflow_executions e
	JOIN flowent.workflows w ON w.id = e.workflow_id
	WHERE e.status IN ('pending', 'running')
		AND (e.user_id = caller OR flowent._can_edit(w.user_id, w.workspace_id, caller))
		AND flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, caller));
END
$$;

-- GET /api/pipelines: params {status?, search?, limit? (1-200, 50), offset? (0)}
-- → {pipelines: [...], meta: {total, running, limit, offset}}, newest change
-- first. total counts the workflows that match, running the pending and
-- running executions of all workflows the user sees. Templates are not
-- pipelines: they are listed by api_templates (10_templates.sql).
CREATE FUNCTION flowent.api_list_pipelines(params jsonb DEFAULT '{}') RETURNS jsonb
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

-- GET /api/pipelines/:id: the pipeline object plus its graph (latest
-- version), tags, runAs, workspace, webhook state (never the secret) and
-- its 20 latest executions.
CREATE FUNCTION flowent.api_get_pipeline(id uuid) RETURNS jsonb
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

-- POST /api/pipelines: body {name, nodes?, edges? (default []), and the
-- options of flowent.create_workflow: description, status, visibility,
-- tags, workspaceId, runAs, isTemplate, templateCategory, complexity,
-- message, settings}; unknown keys are refused there. → api_get_pipeline.
CREATE FUNCTION flowent.api_create_pipeline(body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := flowent._json_object(body, 'body');
	v_id uuid;
BEGIN
	-- two statements: the STABLE reader must run on a snapshot that sees the insert
	v_id := flowent.create_workflow(flowent._json_string(b -> 'name', 'name', false),
		coalesce(b -> 'nodes', '[]'::jsonb), coalesce(b -> 'edges', '[]'::jsonb),
		b - 'name' - 'nodes' - 'edges');
	RETURN flowent.api_get_pipeline(v_id);
END
$$;

-- PATCH /api/pipelines/:id: body = the changes of flowent.update_workflow
-- (expectedVersion: 55000 with DETAIL {expectedVersion, currentVersion}
-- when the workflow has moved on). → api_get_pipeline.
CREATE FUNCTION flowent.api_update_pipeline(id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM flowent.update_workflow(api_update_pipeline.id, body);
	RETURN flowent.api_get_pipeline(api_update_pipeline.id);
END
$$;

-- DELETE /api/pipelines/:id → {success: true, id}.
CREATE FUNCTION flowent.api_delete_pipeline(id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT AS $$
BEGIN
	PERFORM flowent.delete_workflow(api_delete_pipeline.id);
	RETURN jsonb_build_object('success', true, 'id', api_delete_pipeline.id);
END
$$;

-- ---------------------------------------------------------------------------
-- Runs
-- ---------------------------------------------------------------------------

-- Start a run: async with flowent.execute → {success: true, executionId,
-- status (of the stored row)}, or sync with flowent.run → its result with
-- success (status = 'success').
CREATE FUNCTION flowent._start_run(wf uuid, payload jsonb, options jsonb, sync boolean) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r jsonb;
	v_exec uuid;
BEGIN
	IF sync THEN
		r := flowent.run(wf, payload, options);
		RETURN jsonb_build_object('success', r ->> 'status' = 'success') || r;
	END IF;
	v_exec := flowent.execute(wf, payload, options);
	RETURN jsonb_build_object('success', true, 'executionId', v_exec,
		'status', (SELECT e.status FROM flowent.workflow_executions e WHERE e.id = v_exec));
END
$$;

-- POST /api/pipelines/:id/execute (seed §9.2): body {payload?, variables?,
-- skipBudgetCheck?, isTest?, version?, breakpoints?, mode? (async: the
-- default, or sync)}; the run options are checked by flowent.run/execute.
CREATE FUNCTION flowent.api_execute(id uuid, body jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := coalesce(body, '{}'::jsonb);
	v_mode text;
BEGIN
	IF api_execute.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._check_keys('body', b,
		ARRAY['payload', 'variables', 'skipBudgetCheck', 'maxCostUsd', 'maxTokens', 'preflight', 'isTest', 'version',
		      'breakpoints', 'mode']);
	v_mode := coalesce(flowent._json_string(b -> 'mode', 'body.mode'), 'async');
	IF v_mode NOT IN ('sync', 'async') THEN
		RAISE EXCEPTION 'body.mode must be "sync" or "async", got %', (b -> 'mode')::text
			USING ERRCODE = '22023';
	END IF;
	RETURN flowent._start_run(api_execute.id, coalesce(b -> 'payload', '{}'::jsonb),
		b - 'payload' - 'mode', v_mode = 'sync');
END
$$;

-- What a suspended execution waits on, as flowent.run reports it: one
-- entry per waiting node (a loop waits on its body's nodes, listed
-- themselves), followed by what a sub-workflow's child waits on.
CREATE FUNCTION flowent._execution_waiting(execution_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
		'executionId', x.execution_id, 'nodeId', x.node_id, 'kind', x.kind, 'approvalId', x.approval_id)
		ORDER BY x.seq, x.ord), '[]'::jsonb)
	FROM (
		SELECT l.seq, 0::bigint AS ord, l.execution_id::text, l.node_id::text, l.output ->> 'kind' AS kind,
			l.output ->> 'approvalId' AS approval_id
		FROM flowent.workflow_node_logs l
		WHERE l.execution_id = _execution_waiting.execution_id AND l.status = 'waiting'
			AND l.output ->> 'kind' IS DISTINCT FROM 'loop'
		UNION ALL
		SELECT l.seq, c.ord, c.w ->> 'executionId', c.w ->> 'nodeId', c.w ->> 'kind', c.w ->> 'approvalId'
		FROM flowent.workflow_node_logs l,
			jsonb_array_elements(CASE WHEN jsonb_typeof(l.output -> 'waiting') = 'array'
				THEN l.output -> 'waiting' ELSE '[]'::jsonb END) WITH ORDINALITY AS c(w, ord)
		WHERE l.execution_id = _execution_waiting.execution_id AND l.status = 'waiting'
			AND l.output ->> 'kind' IS DISTINCT FROM 'loop'
	) x
$$;

-- GET /api/workflows/executions/:id/logs[?since=seq] → {executionId,
-- workflowId, status, logs: [...]} in seq order; with since_seq only the
-- logs after it (a client catching up on events).
CREATE FUNCTION flowent.api_execution_logs(execution_id uuid, since_seq integer DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
	e record;
BEGIN
	IF api_execution_logs.execution_id IS NULL THEN
		RAISE EXCEPTION 'execution_id must not be null' USING ERRCODE = '22023';
	END IF;
	SELECT x.workflow_id, x.status INTO e
	FROM flowent.workflow_executions x WHERE x.id = api_execution_logs.execution_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'execution % not found', api_execution_logs.execution_id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'executionId', api_execution_logs.execution_id,
		'workflowId', e.workflow_id,
		'status', e.status,
		'logs', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'id', l.id,
				'nodeId', l.node_id,
				'nodeType', l.node_type,
				'nodeName', l.node_name,
				'status', l.status,
				'input', l.input,
				'output', l.output,
				'error', l.error,
				'errorCode', l.error_code,
				'handle', l.handle,
				'iteration', l.iteration,
				'attempts', l.attempts,
				'seq', l.seq,
				'startedAt', l.started_at,
				'completedAt', l.completed_at,
				'durationMs', l.duration_ms,
				'tokensUsed', l.tokens_used,
				'costUsd', l.cost_usd) ORDER BY l.seq, l.started_at, l.id), '[]'::jsonb)
			FROM flowent.workflow_node_logs l
			WHERE l.execution_id = api_execution_logs.execution_id
				AND (since_seq IS NULL OR l.seq > since_seq)));
END
$$;

-- GET /api/pipelines/context/:executionId: the stored context of an
-- execution and, while it is suspended, what it waits on.
CREATE FUNCTION flowent.api_execution_context(execution_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	e record;
BEGIN
	SELECT x.workflow_id, x.workflow_version, x.status, x.mode, x.trigger_type, x.input, x.output,
		x.variables, x.error, x.error_code, x.error_node_id, x.started_at, x.completed_at,
		x.duration_ms, x.total_cost, x.total_tokens, x.parent_execution_id, x.is_test
	INTO e FROM flowent.workflow_executions x WHERE x.id = api_execution_context.execution_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'execution % not found', api_execution_context.execution_id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'executionId', api_execution_context.execution_id,
		'workflowId', e.workflow_id,
		'workflowVersion', e.workflow_version,
		'status', e.status,
		'mode', e.mode,
		'triggerType', e.trigger_type,
		'isTest', e.is_test,
		'input', e.input,
		'output', e.output,
		'variables', e.variables,
		'error', e.error,
		'errorCode', e.error_code,
		'errorNodeId', e.error_node_id,
		'startedAt', e.started_at,
		'completedAt', e.completed_at,
		'durationMs', e.duration_ms,
		'totalCost', e.total_cost,
		'totalTokens', e.total_tokens,
		'parentExecutionId', e.parent_execution_id,
		'waiting', CASE WHEN e.status = 'suspended'
			THEN flowent._execution_waiting(api_execution_context.execution_id) ELSE '[]'::jsonb END);
END
$$;

-- GET /api/workflows/executions/recent: params {limit? (1-200, 20),
-- offset? (0, paging), workflowId?, status?} → {executions: [...],
-- hasMore}, newest first.
CREATE FUNCTION flowent.api_recent_executions(params jsonb DEFAULT '{}') RETURNS jsonb
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

-- GET /api/workflows/approvals: the pending approvals the current user may
-- decide (as flowent.approve decides): those they see (row-level security:
-- assigned to them, of their runs, of workflows they edit) that are
-- unassigned, assigned to them, of a workflow they edit, or any for an
-- administrator.
CREATE FUNCTION flowent.api_pending_approvals() RETURNS jsonb
LANGUAGE sql STABLE SET jit = off AS $$
	WITH me AS (
		SELECT flowent.current_user_id() AS id, flowent._is_admin(flowent.current_user_id()) AS admin
	)
	SELECT jsonb_build_object('approvals', coalesce(jsonb_agg(jsonb_build_object(
		'id', a.id,
		'executionId', a.execution_id,
		'workflowId', a.workflow_id,
		'workflowName', w.name,
		'nodeId', a.node_id,
		'status', a.status,
		'title', a.title,
		'message', a.message,
		'contextData', a.context_data,
		'previewData', a.preview_data,
		'assignedUserId', a.assigned_user_id,
		'onExpire', a.on_expire,
		'createdAt', a.created_at,
		'expiresAt', a.expires_at) ORDER BY a.created_at, a.id), '[]'::jsonb))
	FROM me, flowent.workflow_approval_requests a
	LEFT JOIN flowent.workflows w ON w.id = a.workflow_id
	WHERE a.status = 'pending'
		AND (a.assigned_user_id IS NULL OR a.assigned_user_id = me.id OR me.admin
			OR coalesce(flowent._can_edit(w.user_id, w.workspace_id, me.id), false))
$$;

-- ---------------------------------------------------------------------------
-- Decisions, cancel, rerun: the engine's functions with the request body
-- ---------------------------------------------------------------------------

-- flowent.approve with a body {approved, comment?, approvedBy?} (seed §9.3);
-- target is an approval id or an execution id (one pending approval).
CREATE FUNCTION flowent._decide(target uuid, b jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RETURN flowent.approve(target, flowent._json_bool(b -> 'approved', 'body.approved'),
		flowent._json_string(b -> 'comment', 'body.comment'),
		flowent._json_string(b -> 'approvedBy', 'body.approvedBy'));
END
$$;

-- POST /api/workflows/executions/:id/approve: body {approved, comment?,
-- approvedBy?} → flowent.approve's answer {success, executionId, status,
-- resumedFromNodeId, ...}. id: the execution (or an approval id).
CREATE FUNCTION flowent.api_approve_execution(execution_id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['approved', 'comment', 'approvedBy']);
	RETURN flowent._decide(api_approve_execution.execution_id, body);
END
$$;

-- POST /api/pipelines/:id/approve: body {approvalId | executionId, approved,
-- comment?, approvedBy?}, an approval or execution of pipeline id.
CREATE FUNCTION flowent.api_approve(id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_approval uuid;
	v_execution uuid;
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['approvalId', 'executionId', 'approved', 'comment', 'approvedBy']);
	PERFORM flowent._require_workflow(api_approve.id);
	v_approval := flowent._json_uuid(body -> 'approvalId', 'body.approvalId');
	v_execution := flowent._json_uuid(body -> 'executionId', 'body.executionId');
	IF (v_approval IS NULL) = (v_execution IS NULL) THEN
		RAISE EXCEPTION 'body needs one of approvalId and executionId' USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM flowent.workflow_approval_requests a
			WHERE a.id = v_approval AND a.workflow_id = api_approve.id)
		AND NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e
			WHERE e.id = v_execution AND e.workflow_id = api_approve.id) THEN
		RAISE EXCEPTION '% % of workflow % not found', CASE WHEN v_approval IS NULL THEN 'execution' ELSE 'approval' END,
			coalesce(v_approval, v_execution), api_approve.id
			USING ERRCODE = '42704';
	END IF;
	RETURN flowent._decide(coalesce(v_approval, v_execution), body);
END
$$;

-- POST /api/workflows/executions/:id/cancel: body {reason?} → flowent.cancel's
-- answer {success, executionId, status: "cancelled", previousStatus}.
CREATE FUNCTION flowent.api_cancel(execution_id uuid, body jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := coalesce(body, '{}'::jsonb);
BEGIN
	PERFORM flowent._check_keys('body', b, ARRAY['reason']);
	RETURN flowent.cancel(api_cancel.execution_id, flowent._json_string(b -> 'reason', 'body.reason'));
END
$$;

-- POST /api/workflows/executions/:id/rerun: body {fromNode, mode? (sync: the
-- default, or async), variables?, skipBudgetCheck?, isTest?, breakpoints?}
-- → {success, executionId (the new one), rerunOf, mode, status, output,
-- error, errorCode}; success as in api_execute.
CREATE FUNCTION flowent.api_rerun(execution_id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_id uuid;
	e record;
BEGIN
	PERFORM flowent._check_keys('body', body,
		ARRAY['fromNode', 'mode', 'variables', 'skipBudgetCheck', 'isTest', 'breakpoints']);
	v_id := flowent.rerun(api_rerun.execution_id, flowent._json_string(body -> 'fromNode', 'body.fromNode', false),
		body - 'fromNode');
	SELECT x.mode, x.status, x.output, x.error, x.error_code INTO e
	FROM flowent.workflow_executions x WHERE x.id = v_id;
	RETURN jsonb_build_object('success', e.mode = 'async' OR e.status = 'success', 'executionId', v_id,
		'rerunOf', api_rerun.execution_id, 'mode', e.mode, 'status', e.status, 'output', e.output,
		'error', e.error, 'errorCode', e.error_code);
END
$$;

-- ---------------------------------------------------------------------------
-- Schedules, diff, templates, watching a workflow
-- ---------------------------------------------------------------------------

-- POST /api/pipelines/:id/schedule: body {cron, payload?} → {success,
-- workflowId, jobId, cron (as stored)}. flowent.schedule decides (the
-- owner, a published workflow, pg_cron in this database: 55000 otherwise).
CREATE FUNCTION flowent.api_schedule(id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_cron text;
	v_job bigint;
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['cron', 'payload']);
	v_cron := flowent._json_string(body -> 'cron', 'body.cron', false);
	v_job := flowent.schedule(api_schedule.id, v_cron, coalesce(body -> 'payload', '{}'::jsonb));
	RETURN jsonb_build_object('success', true, 'workflowId', api_schedule.id, 'jobId', v_job,
		'cron', flowent._cron_check(v_cron));
END
$$;

-- DELETE /api/pipelines/:id/schedule → {success, workflowId, removed}.
CREATE FUNCTION flowent.api_unschedule(id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT AS $$
BEGIN
	RETURN jsonb_build_object('success', true, 'workflowId', api_unschedule.id,
		'removed', flowent.unschedule(api_unschedule.id));
END
$$;

-- GET /api/workflows/:id/diff: params {from?, to?} (default: the latest
-- version against the one before it) → flowent.diff.
CREATE FUNCTION flowent.api_diff(id uuid, params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_latest integer;
	v_to integer;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['from', 'to']);
	PERFORM flowent._require_workflow(api_diff.id);
	SELECT w.version INTO v_latest FROM flowent.workflows w WHERE w.id = api_diff.id;
	v_to := flowent._json_int(p -> 'to', 'params.to', 1, 2147483647, v_latest);
	RETURN flowent.diff(api_diff.id, flowent._json_int(p -> 'from', 'params.from', 1, 2147483647, greatest(v_to - 1, 1)),
		v_to);
END
$$;

-- POST /api/pipelines/templates/clone: body {templateId, name?} → the new
-- private draft, as api_get_pipeline.
CREATE FUNCTION flowent.api_clone_template(body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_template uuid;
	v_id uuid;
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['templateId', 'name']);
	v_template := flowent._json_uuid(body -> 'templateId', 'body.templateId');
	IF v_template IS NULL THEN
		RAISE EXCEPTION 'body.templateId must be a UUID, got %', coalesce((body -> 'templateId')::text, 'nothing')
			USING ERRCODE = '22023';
	END IF;
	v_id := flowent.clone_template(v_template, flowent._json_string(body -> 'name', 'body.name'));
	RETURN flowent.api_get_pipeline(v_id);
END
$$;

-- join:workflow of the WebSocket: the events of all executions of workflow
-- id, for those who see all of them (its owner and editors: a workflow one
-- only sees does not make its runs visible) → {workflowId, watching: true}.
CREATE FUNCTION flowent.api_watch_workflow(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	w record;
BEGIN
	SELECT wf.user_id, wf.workspace_id INTO w FROM flowent.workflows wf WHERE wf.id = api_watch_workflow.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_watch_workflow.id USING ERRCODE = '42704';
	END IF;
	IF NOT flowent._can_edit(w.user_id, w.workspace_id, flowent.current_user_id()) THEN
		RAISE EXCEPTION 'workflow %: only its owner or an owner, admin or editor of its workspace may watch all its executions (join an execution instead)',
			api_watch_workflow.id
			USING ERRCODE = '42501';
	END IF;
	RETURN jsonb_build_object('workflowId', api_watch_workflow.id, 'watching', true);
END
$$;

-- ---------------------------------------------------------------------------
-- Registry, versions, credentials
-- ---------------------------------------------------------------------------

-- GET /api/node-types → {nodeTypes: [...]}: the palette.
CREATE FUNCTION flowent.api_node_types() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('nodeTypes', coalesce(jsonb_agg(jsonb_build_object(
		'type', t.type,
		'category', t.category,
		'label', t.label,
		'description', t.description,
		'handles', t.handles,
		'configSchema', t.config_schema,
		'costModel', t.cost_model,
		'builtin', t.builtin) ORDER BY t.category, t.type), '[]'::jsonb))
	FROM flowent.node_types t
$$;

-- GET /api/pipelines/:id/versions → {workflowId, publishedVersion,
-- versions: [...]}, newest first.
CREATE FUNCTION flowent.api_versions(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	v_published integer;
BEGIN
	SELECT w.published_version INTO v_published FROM flowent.workflows w WHERE w.id = api_versions.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_versions.id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'workflowId', api_versions.id,
		'publishedVersion', nullif(v_published, 0),
		'versions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'version', v.version,
				'name', v.name,
				'createdBy', v.created_by,
				'createdAt', v.created_at,
				'message', v.message,
				'published', v.version = v_published) ORDER BY v.version DESC), '[]'::jsonb)
			FROM flowent.workflow_versions v WHERE v.workflow_id = api_versions.id));
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

-- GET /api/credentials → {credentials: [{name, createdAt, updatedAt}]}: the
-- current user's, never a secret.
CREATE FUNCTION flowent.api_credentials() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('credentials', coalesce(jsonb_agg(jsonb_build_object(
		'name', c.name, 'createdAt', c.created_at, 'updatedAt', c.updated_at) ORDER BY c.name), '[]'::jsonb))
	FROM flowent.list_credentials() c
$$;

-- ---------------------------------------------------------------------------
-- Webhooks
-- ---------------------------------------------------------------------------

-- Whether workflow wf has a webhook secret, for a user who sees it (its
-- secret is not readable by users: SECURITY DEFINER). NULL otherwise.
CREATE FUNCTION flowent._webhook_has_secret(wf uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT w.webhook_secret IS NOT NULL FROM flowent.workflows w
	WHERE w.id = wf AND (flowent._workflow_visible_to(wf, flowent._caller_id())
		OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = flowent._caller_id() AND r.rolsuper))
$$;

-- A new webhook secret for workflow wf, for its owner or an editor of its
-- workspace (the old one stops verifying at once); returns it.
CREATE FUNCTION flowent._rotate_webhook_secret(wf uuid) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	s text;
BEGIN
	UPDATE flowent.workflows w SET webhook_secret = flowent._random_hex64()
	WHERE w.id = wf AND flowent._can_edit(w.user_id, w.workspace_id, flowent._caller_id())
	RETURNING w.webhook_secret INTO s;
	IF s IS NULL THEN
		RAISE EXCEPTION 'workflow %: only its owner or an owner, admin or editor of its workspace may rotate its webhook secret', wf
			USING ERRCODE = '42501';
	END IF;
	RETURN s;
END
$$;

-- GET /api/pipelines/:id/webhooks → {workflowId, published,
-- publishedVersion, url, hasSecret}; never the secret.
CREATE FUNCTION flowent.api_webhooks(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	w record;
BEGIN
	SELECT wf.is_published, wf.published_version INTO w FROM flowent.workflows wf WHERE wf.id = api_webhooks.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_webhooks.id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'workflowId', api_webhooks.id,
		'published', coalesce(w.is_published, false) AND coalesce(w.published_version, 0) >= 1,
		'publishedVersion', nullif(w.published_version, 0),
		'url', '/api/hooks/' || api_webhooks.id,
		'hasSecret', coalesce(flowent._webhook_has_secret(api_webhooks.id), false));
END
$$;

-- POST /api/pipelines/:id/webhooks: a new secret, shown this once →
-- api_webhooks plus webhookSecret. For the owner and editors.
CREATE FUNCTION flowent.api_rotate_webhook_secret(id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
	s text;
BEGIN
	PERFORM flowent._require_workflow(api_rotate_webhook_secret.id);
	s := flowent._rotate_webhook_secret(api_rotate_webhook_secret.id);
	RETURN flowent.api_webhooks(api_rotate_webhook_secret.id) || jsonb_build_object('webhookSecret', s);
END
$$;

-- The secret of a published workflow, for the gateway to check a webhook's
-- signature before anyone acts; NULL when unknown or not published.
-- plpgsql, not sql: a SECURITY DEFINER sql function is planned on every call
CREATE FUNCTION flowent.gateway_webhook_secret(id uuid) RETURNS text
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	RETURN (SELECT w.webhook_secret::text FROM flowent.workflows w
		WHERE w.id = gateway_webhook_secret.id AND w.is_published AND w.published_version >= 1);
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_webhook_secret(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_webhook_secret(uuid) TO flowent_gateway;

-- Signatures older than 10 minutes (twice the gateway's time window) are
-- removed a few at a time, skipping rows another delivery is removing.
-- enable_seqscan off: the table only ever holds ten minutes of deliveries,
-- so the clean-up's index on received_at is always the right way in; without
-- statistics (a table never analyzed, or analyzed while it was empty) the
-- planner guessed a third of it old, scanned all of it per webhook and kept
-- that plan for the session (release 0.6)
CREATE FUNCTION flowent._webhook_deliveries_prune() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp SET enable_seqscan = off AS $$
BEGIN
	-- ctid = ANY (ARRAY(...)), not ctid IN (...): a plan cached while the
	-- table looked empty made IN a nested loop that rescanned it per row
	DELETE FROM flowent.webhook_deliveries d
	WHERE d.ctid = ANY (ARRAY(SELECT o.ctid FROM flowent.webhook_deliveries o
		WHERE o.received_at < now() - interval '10 minutes'
		LIMIT 100 FOR UPDATE SKIP LOCKED));
END
$$;
REVOKE ALL ON FUNCTION flowent._webhook_deliveries_prune() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent._webhook_deliveries_prune() TO flowent_gateway;

-- Signed webhook deliveries whose signatures the gateway checked with a
-- secret it remembers, in one transaction: the gateway groups those that
-- arrive while earlier ones run (a group commit: one commit's WAL flush for
-- all instead of one each). Each delivery, in order and in its own
-- subtransaction (one that fails leaves the others, and no replay record),
-- answers one row: 'stale' when the workflow is not published or the
-- secret's sha256 is not digests[n] (rotated since), 'replayed' when its
-- signature was recorded before, else the run's answer (text, so numbers stay
-- exact), or 'error ' || {sqlstate, message, detail} when it failed. Each
-- run is the workflow owner's (the acting user for the rest of the
-- transaction) of the published version with trigger type webhook:
-- synchronous with wait (flowent.run's result and success), else queued
-- ({success, executionId, status}); a NULL wait: the workflow's
-- settings.webhookWait. In C (webhook_deliver.c): in plpgsql, the functions
-- it called cost as much per delivery as the run.
CREATE FUNCTION flowent.gateway_webhook_deliver(ids uuid[], signatures text[], bodies text[],
	waits boolean[], digests text[])
RETURNS TABLE (n integer, answer text)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp
AS 'MODULE_PATHNAME', 'flowent_gateway_webhook_deliver';
REVOKE ALL ON FUNCTION flowent.gateway_webhook_deliver(uuid[], text[], text[], boolean[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_webhook_deliver(uuid[], text[], text[], boolean[], text[]) TO flowent_gateway;

-- ---------------------------------------------------------------------------
-- Workspaces. Users have no write privilege on workspaces and their members
-- (03_rls.sql): the two SECURITY DEFINER functions below are the only
-- writers, and check who calls. Owners and admins manage the members; only
-- an owner adds, changes or removes an owner, and the last owner stays.
-- ---------------------------------------------------------------------------

-- A new workspace of the caller, who becomes its owner; returns its id.
CREATE FUNCTION flowent._workspace_create(name text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._check_user_id(flowent._caller_id(), 'the acting user');
	v_id uuid;
BEGIN
	INSERT INTO flowent.workspaces (name, created_by)
	VALUES (flowent._check_name(_workspace_create.name), caller)
	RETURNING id INTO v_id;
	INSERT INTO flowent.workspace_members (workspace_id, user_id, role) VALUES (v_id, caller, 'owner');
	RETURN v_id;
END
$$;

-- A role of workspace_members (its CHECK constraint).
CREATE FUNCTION flowent._check_workspace_role(r text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF r IS NULL OR r NOT IN ('owner', 'admin', 'editor', 'member', 'viewer') THEN
		RAISE EXCEPTION 'role must be one of owner, admin, editor, member, viewer, got %',
			coalesce('"' || r || '"', 'null')
			USING ERRCODE = '22023';
	END IF;
END
$$;

-- Give user uid role new_role in workspace ws (added or changed), or, with
-- new_role NULL, remove them; false when there was nobody to remove.
CREATE FUNCTION flowent._workspace_set_member(ws uuid, uid text, new_role text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
	v_creator text;
	v_mine text;
	v_theirs text;
BEGIN
	IF ws IS NULL THEN
		RAISE EXCEPTION 'workspace_id must not be null' USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._check_user_id(uid, 'user_id');
	IF new_role IS NOT NULL THEN
		PERFORM flowent._check_workspace_role(new_role);
	END IF;
	-- one change of a workspace's members at a time (the last owner stays)
	SELECT w.created_by, flowent._workspace_role(w.id, caller) INTO v_creator, v_mine
	FROM flowent.workspaces w WHERE w.id = ws FOR UPDATE;
	IF NOT FOUND OR (v_mine IS NULL AND v_creator IS DISTINCT FROM caller) THEN
		RAISE EXCEPTION 'workspace % not found', ws USING ERRCODE = '42704';
	END IF;
	IF v_mine IS NULL OR v_mine NOT IN ('owner', 'admin') THEN
		RAISE EXCEPTION 'workspace %: only its owners and admins may change its members', ws
			USING ERRCODE = '42501';
	END IF;
	v_theirs := flowent._workspace_role(ws, uid);
	IF v_theirs IS NOT DISTINCT FROM new_role THEN
		RETURN v_theirs IS NOT NULL;
	END IF;
	IF v_mine <> 'owner' AND ('owner' IN (v_theirs, new_role)) THEN
		RAISE EXCEPTION 'workspace %: only an owner may add, change or remove an owner', ws
			USING ERRCODE = '42501';
	END IF;
	IF v_theirs = 'owner' AND NOT EXISTS (SELECT 1 FROM flowent.workspace_members m
			WHERE m.workspace_id = ws AND m.role = 'owner' AND m.user_id <> uid) THEN
		RAISE EXCEPTION 'workspace %: user "%" is its last owner; make another member owner first', ws, uid
			USING ERRCODE = '55000';
	END IF;
	IF new_role IS NULL THEN
		DELETE FROM flowent.workspace_members m WHERE m.workspace_id = ws AND m.user_id = uid;
		RETURN FOUND;
	END IF;
	INSERT INTO flowent.workspace_members AS m (workspace_id, user_id, role) VALUES (ws, uid, new_role)
	ON CONFLICT ON CONSTRAINT workspace_members_pkey DO UPDATE SET role = EXCLUDED.role;
	RETURN true;
END
$$;

-- A workspace the current user sees (row-level security), with the current
-- user's role and the number of members; NULL when not visible.
CREATE FUNCTION flowent._workspace_json(ws uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', w.id,
		'name', w.name,
		'role', flowent._workspace_role(w.id, flowent.current_user_id()),
		'memberCount', (SELECT count(*) FROM flowent.workspace_members m WHERE m.workspace_id = w.id),
		'createdBy', w.created_by,
		'createdAt', w.created_at)
	FROM flowent.workspaces w WHERE w.id = ws
$$;

-- GET /api/workspaces → {workspaces: [{id, name, role, memberCount,
-- createdBy, createdAt}]}: those the current user is a member of.
CREATE FUNCTION flowent.api_workspaces() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('workspaces', coalesce(jsonb_agg(x.ws ORDER BY x.ws ->> 'name', x.ws ->> 'id'),
		'[]'::jsonb))
	FROM (SELECT flowent._workspace_json(m.workspace_id) AS ws FROM flowent.workspace_members m
		WHERE m.user_id = flowent.current_user_id()) x
	WHERE x.ws IS NOT NULL
$$;

-- GET /api/workspaces/:id → the workspace with its members [{userId, role,
-- addedAt}].
CREATE FUNCTION flowent.api_workspace(workspace_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	r jsonb := flowent._workspace_json(api_workspace.workspace_id);
BEGIN
	IF r IS NULL THEN
		RAISE EXCEPTION 'workspace % not found', api_workspace.workspace_id USING ERRCODE = '42704';
	END IF;
	RETURN r || jsonb_build_object('members', (
		SELECT coalesce(jsonb_agg(jsonb_build_object('userId', m.user_id, 'role', m.role, 'addedAt', m.added_at)
			ORDER BY m.user_id), '[]'::jsonb)
		FROM flowent.workspace_members m WHERE m.workspace_id = api_workspace.workspace_id));
END
$$;

-- POST /api/workspaces {name} → api_workspace of the new workspace.
CREATE FUNCTION flowent.api_create_workspace(name text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_id uuid := flowent._workspace_create(api_create_workspace.name);
BEGIN
	RETURN flowent.api_workspace(v_id);
END
$$;

-- POST /api/workspaces/:id/members {userId, role} → api_workspace.
CREATE FUNCTION flowent.api_add_member(workspace_id uuid, user_id text, role text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM flowent._check_workspace_role(api_add_member.role);
	PERFORM flowent._workspace_set_member(api_add_member.workspace_id, api_add_member.user_id, api_add_member.role);
	RETURN flowent.api_workspace(api_add_member.workspace_id);
END
$$;

-- DELETE /api/workspaces/:id/members/:userId → {success: true, workspaceId,
-- userId, removed}.
CREATE FUNCTION flowent.api_remove_member(workspace_id uuid, user_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RETURN jsonb_build_object('success', true, 'workspaceId', api_remove_member.workspace_id,
		'userId', api_remove_member.user_id,
		'removed', flowent._workspace_set_member(api_remove_member.workspace_id, api_remove_member.user_id, NULL));
END
$$;
