-- flowent 0.7 -> 0.8 (history retention):
-- * flowent.retention_days (GUC, default 30; 0 keeps everything) and
--   workflows.retention_days (create_workflow option / update_workflow
--   change retentionDays);
-- * flowent.prune(older_than) and the workers' own prune about every
--   flowent.prune_interval (prune_state);
-- * daily rollups flowent.daily_stats and daily_node_stats, folded in
--   before executions go; analytics_daily adds them to the kept
--   executions (13_retention.sql);
-- * the llm-agent node (src/nodes/llm_agent.c) and flowent.llm_base_url, list
--   prices (model_list_prices, view model_price), tokens and cost per node log;
-- * the web-search node (src/nodes/web_search.c) and the four HubSpot nodes
--   (src/nodes/hubspot.c).
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.8'" to load this file. \quit

-- 01_schema.sql
ALTER TABLE flowent.workflows ADD COLUMN retention_days integer CHECK (retention_days >= 0);

-- 02_api.sql
CREATE OR REPLACE FUNCTION flowent.create_workflow(name text, nodes jsonb, edges jsonb, options jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	me text := flowent.current_user_id();
	o jsonb := coalesce(options, '{}'::jsonb);
	v_name text;
	v_status text := 'draft';
	v_visibility text := 'private';
	v_complexity text := 'beginner';
	v_category text;
	v_run_as name := current_user;
	v_ws uuid;
	v_id uuid;
BEGIN
	v_name := flowent._check_name(create_workflow.name);
	PERFORM flowent._check_nodes(create_workflow.nodes);
	PERFORM flowent._check_edges(create_workflow.edges);
	PERFORM flowent._check_keys('options', o, ARRAY['description', 'status', 'visibility', 'tags',
		'workspaceId', 'runAs', 'isTemplate', 'templateCategory', 'complexity', 'message', 'settings',
		'retentionDays']);

	IF o ? 'status' THEN
		v_status := flowent._json_enum(o -> 'status', 'options.status', 'flowent.workflow_status');
	END IF;
	IF o ? 'visibility' THEN
		v_visibility := flowent._json_enum(o -> 'visibility', 'options.visibility', 'flowent.workflow_visibility');
	END IF;
	IF o ? 'complexity' THEN
		v_complexity := flowent._json_enum(o -> 'complexity', 'options.complexity', 'flowent.template_complexity');
	END IF;
	IF o ? 'templateCategory' THEN
		v_category := flowent._json_enum(o -> 'templateCategory', 'options.templateCategory',
			'flowent.template_category', true);
	END IF;
	PERFORM flowent._json_string(o -> 'description', 'options.description'),
		flowent._json_string(o -> 'message', 'options.message'),
		flowent._json_tags(o -> 'tags', 'options.tags'),
		flowent._json_object(o -> 'settings', 'options.settings'),
		flowent._json_int(o -> 'retentionDays', 'options.retentionDays', 0, 36500, NULL);
	IF o ? 'isTemplate' THEN
		PERFORM flowent._json_bool(o -> 'isTemplate', 'options.isTemplate');
	END IF;
	IF v_visibility = 'team' AND jsonb_typeof(o -> 'workspaceId') IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION 'options.visibility "team" needs options.workspaceId'
			USING ERRCODE = '22023';
	END IF;

	IF o ? 'runAs' THEN
		v_run_as := flowent._check_run_as(o -> 'runAs', 'options.runAs');
	END IF;
	IF o ? 'workspaceId' THEN
		v_ws := flowent._check_workspace(o -> 'workspaceId', 'options.workspaceId');
	END IF;

	INSERT INTO flowent.workflows AS w (name, description, nodes, edges, status, visibility, is_template,
		template_category, tags, complexity, user_id, workspace_id, version, run_as, settings, retention_days)
	VALUES (v_name, o ->> 'description', create_workflow.nodes, create_workflow.edges,
		v_status::flowent.workflow_status, v_visibility::flowent.workflow_visibility,
		coalesce((o ->> 'isTemplate')::boolean, false), v_category::flowent.template_category,
		flowent._json_tags(o -> 'tags', 'options.tags'), v_complexity::flowent.template_complexity,
		me, v_ws, 1, v_run_as, flowent._json_object(o -> 'settings', 'options.settings'),
		flowent._json_int(o -> 'retentionDays', 'options.retentionDays', 0, 36500, NULL))
	RETURNING w.id INTO v_id;

	INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges, message, created_by)
	VALUES (v_id, 1, v_name, create_workflow.nodes, create_workflow.edges, o ->> 'message', me);
	RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION flowent.update_workflow(id uuid, changes jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	me text := flowent.current_user_id();
	c jsonb := changes;
	w record;
	v_expected integer;
	v_name text;
	v_status text;
	v_visibility text;
	v_run_as name;
	v_ws uuid;
	v_version integer;
BEGIN
	-- 1. shape of the input (22023)
	PERFORM flowent._check_keys('changes', c, ARRAY['name', 'description', 'nodes', 'edges', 'status',
		'visibility', 'tags', 'runAs', 'message', 'expectedVersion', 'settings', 'workspaceId', 'retentionDays']);
	IF update_workflow.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	IF c ? 'name' THEN
		v_name := flowent._check_name(flowent._json_string(c -> 'name', 'changes.name', false), 'changes.name');
	END IF;
	IF c ? 'nodes' THEN
		PERFORM flowent._check_nodes(c -> 'nodes');
	END IF;
	IF c ? 'edges' THEN
		PERFORM flowent._check_edges(c -> 'edges');
	END IF;
	IF c ? 'status' THEN
		v_status := flowent._json_enum(c -> 'status', 'changes.status', 'flowent.workflow_status');
	END IF;
	IF c ? 'visibility' THEN
		v_visibility := flowent._json_enum(c -> 'visibility', 'changes.visibility', 'flowent.workflow_visibility');
	END IF;
	IF c ? 'expectedVersion' THEN
		IF jsonb_typeof(c -> 'expectedVersion') <> 'number'
			OR (c ->> 'expectedVersion') !~ '^[0-9]{1,9}$' THEN
			RAISE EXCEPTION 'changes.expectedVersion must be a non-negative integer, got %',
				(c -> 'expectedVersion')::text
				USING ERRCODE = '22023';
		END IF;
		v_expected := (c ->> 'expectedVersion')::integer;
	END IF;
	PERFORM flowent._json_string(c -> 'description', 'changes.description'),
		flowent._json_string(c -> 'message', 'changes.message'),
		flowent._json_tags(c -> 'tags', 'changes.tags'),
		flowent._json_object(c -> 'settings', 'changes.settings'),
		flowent._json_int(c -> 'retentionDays', 'changes.retentionDays', 0, 36500, NULL);
	IF c ? 'runAs' THEN
		PERFORM flowent._json_string(c -> 'runAs', 'changes.runAs', false);
	END IF;
	IF c ? 'workspaceId' THEN
		PERFORM flowent._json_string(c -> 'workspaceId', 'changes.workspaceId');
	END IF;

	-- 2. visible (42704), 3. allowed (42501)
	SELECT wf.user_id, wf.workspace_id INTO w FROM flowent.workflows wf WHERE wf.id = update_workflow.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', update_workflow.id USING ERRCODE = '42704';
	END IF;
	IF NOT flowent._can_edit(w.user_id, w.workspace_id, me) THEN
		RAISE EXCEPTION 'workflow %: only its owner or an owner, admin or editor of its workspace may change it',
			update_workflow.id
			USING ERRCODE = '42501';
	END IF;

	-- 4. lock: concurrent saves of one workflow run one after the other
	SELECT wf.version, wf.status, wf.visibility, wf.workspace_id INTO w
	FROM flowent.workflows wf WHERE wf.id = update_workflow.id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', update_workflow.id USING ERRCODE = '42704';
	END IF;

	-- 5. state (55000)
	IF v_expected IS NOT NULL AND v_expected <> w.version THEN
		RAISE EXCEPTION 'workflow % was changed: expected version %, current version %',
			update_workflow.id, v_expected, w.version
			USING ERRCODE = '55000',
				DETAIL = jsonb_build_object('expectedVersion', v_expected, 'currentVersion', w.version)::text;
	END IF;
	IF w.status = 'archived' AND coalesce(v_status, 'archived') = 'archived' THEN
		RAISE EXCEPTION 'workflow % is archived: set "status" to draft or active to change it',
			update_workflow.id
			USING ERRCODE = '55000';
	END IF;

	-- 6. role and workspace (42501), and their consistency (22023)
	IF c ? 'runAs' THEN
		v_run_as := flowent._check_run_as(c -> 'runAs', 'changes.runAs');
	END IF;
	v_ws := w.workspace_id;
	IF c ? 'workspaceId' THEN
		v_ws := flowent._check_workspace(c -> 'workspaceId', 'changes.workspaceId');
	END IF;
	IF coalesce(v_visibility, w.visibility::text) = 'team' AND v_ws IS NULL THEN
		RAISE EXCEPTION 'visibility "team" needs a workspace: set changes.workspaceId'
			USING ERRCODE = '22023';
	END IF;

	UPDATE flowent.workflows AS wf SET
		name = coalesce(v_name, wf.name),
		description = CASE WHEN c ? 'description' THEN c ->> 'description' ELSE wf.description END,
		nodes = coalesce(c -> 'nodes', wf.nodes),
		edges = coalesce(c -> 'edges', wf.edges),
		status = coalesce(v_status::flowent.workflow_status, wf.status),
		visibility = coalesce(v_visibility::flowent.workflow_visibility, wf.visibility),
		tags = CASE WHEN c ? 'tags' THEN flowent._json_tags(c -> 'tags', 'changes.tags') ELSE wf.tags END,
		run_as = coalesce(v_run_as, wf.run_as),
		settings = CASE WHEN c ? 'settings' THEN flowent._json_object(c -> 'settings', 'changes.settings')
			ELSE wf.settings END,
		workspace_id = v_ws,
		retention_days = CASE WHEN c ? 'retentionDays'
			THEN flowent._json_int(c -> 'retentionDays', 'changes.retentionDays', 0, 36500, NULL)
			ELSE wf.retention_days END,
		version = wf.version + 1,
		updated_at = now()
	WHERE wf.id = update_workflow.id
	RETURNING wf.version, wf.name, wf.nodes, wf.edges INTO w;

	INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges, message, created_by)
	VALUES (update_workflow.id, w.version, w.name, w.nodes, w.edges, c ->> 'message', me);
	RETURN w.version;
END
$$;

-- 04_node_types.sql: the llm-agent node (its schema: the fields every node has, and its own)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model, builtin, handler)
SELECT 'llm-agent', 'ai', 'LLM Agent', 'Asks an OpenAI-compatible chat-completions API; token usage becomes cost.',
	'["out"]'::jsonb,
	jsonb_build_object('type', 'object', 'required', x.s -> 'required',
		'properties', ((t.config_schema -> 'properties') - 'triggerType') || (x.s -> 'properties')),
	'{"kind": "tokens", "prices": "flowent.model_price"}'::jsonb, true, NULL
FROM flowent.node_types t, (SELECT $node${
	"required": ["model"],
	"properties": {
		"model": {"type": "string", "description": "The model, e.g. gpt-4o-mini (its price: flowent.model_price)."},
		"prompt": {"type": "string", "description": "The user message (may hold {{…}}); required unless messages is given."},
		"systemPrompt": {"type": "string", "description": "The system message, sent first."},
		"messages": {"type": "array", "items": {"type": "object"},
			"description": "A conversation from earlier nodes, [{role, content}], sent after the system message and before prompt."},
		"temperature": {"type": "number", "description": "Sampling temperature, as the API takes it."},
		"maxTokens": {"type": "integer", "description": "Most tokens the answer may have (max_tokens)."},
		"responseFormat": {"type": "string", "enum": ["text", "json"], "default": "text",
			"description": "json asks for a JSON object and outputs it parsed as json (AI_RESPONSE_INVALID when it is not)."},
		"credential": {"type": "string",
			"description": "Name of a credential with the API key: a string or {apiKey}; sent as a bearer token."},
		"baseUrl": {"type": "string", "format": "uri",
			"description": "The API up to before /chat/completions, e.g. https://api.openai.com/v1; default flowent.llm_base_url."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}$node$::jsonb AS s) x
WHERE t.type = 'trigger';

-- 04_node_types.sql: the web-search node (its schema: the fields every node has, and its own)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model, builtin, handler)
SELECT 'web-search', 'action', 'Web Search', 'Searches the web with Brave, DuckDuckGo or Google: [{title, url, snippet}].',
	'["out"]'::jsonb,
	jsonb_build_object('type', 'object', 'required', x.s -> 'required',
		'properties', ((t.config_schema -> 'properties') - 'triggerType') || (x.s -> 'properties')),
	'{"kind": "free"}'::jsonb, true, NULL
FROM flowent.node_types t, (SELECT $node${
	"required": ["provider", "query"],
	"properties": {
		"provider": {"type": "string", "enum": ["brave", "duckduckgo", "google"],
			"description": "brave (Web Search API), duckduckgo (Instant Answer API, no key) or google (Custom Search JSON API)."},
		"query": {"type": "string", "description": "What to search for (may hold {{…}})."},
		"count": {"type": "integer", "default": 10, "description": "Most results, 1 to 50 (Google: 10)."},
		"credential": {"type": "string",
			"description": "Name of a credential: brave a string or {apiKey}; google {apiKey, cx}; duckduckgo none."},
		"baseUrl": {"type": "string", "format": "uri", "description": "The search endpoint; default the provider's own."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}$node$::jsonb AS s) x
WHERE t.type = 'trigger';

-- 04_node_types.sql: the hubspot-create-contact node (its schema: the fields every node has, and its own)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model, builtin, handler)
SELECT 'hubspot-create-contact', 'action', 'HubSpot: Create Contact', 'Creates a HubSpot contact (CRM v3); outputs HubSpot''s answer.',
	'["out"]'::jsonb,
	jsonb_build_object('type', 'object', 'required', x.s -> 'required',
		'properties', ((t.config_schema -> 'properties') - 'triggerType') || (x.s -> 'properties')),
	'{"kind": "free"}'::jsonb, true, NULL
FROM flowent.node_types t, (SELECT $node${
	"required": ["credential", "properties"],
	"properties": {
		"properties": {"type": "object", "description": "The contact's properties, e.g. {email, firstname, lastname} (may hold {{…}})."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app's token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}$node$::jsonb AS s) x
WHERE t.type = 'trigger';

-- 04_node_types.sql: the hubspot-update-deal node (its schema: the fields every node has, and its own)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model, builtin, handler)
SELECT 'hubspot-update-deal', 'action', 'HubSpot: Update Deal', 'Changes a HubSpot deal''s properties (CRM v3); outputs HubSpot''s answer.',
	'["out"]'::jsonb,
	jsonb_build_object('type', 'object', 'required', x.s -> 'required',
		'properties', ((t.config_schema -> 'properties') - 'triggerType') || (x.s -> 'properties')),
	'{"kind": "free"}'::jsonb, true, NULL
FROM flowent.node_types t, (SELECT $node${
	"required": ["credential", "dealId", "properties"],
	"properties": {
		"dealId": {"type": ["string", "integer"], "description": "The deal's id."},
		"properties": {"type": "object", "description": "The properties to set, e.g. {dealstage, amount}."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app's token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}$node$::jsonb AS s) x
WHERE t.type = 'trigger';

-- 04_node_types.sql: the hubspot-add-note node (its schema: the fields every node has, and its own)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model, builtin, handler)
SELECT 'hubspot-add-note', 'action', 'HubSpot: Add Note', 'Adds a note to a HubSpot contact and/or deal (CRM v3); outputs HubSpot''s answer.',
	'["out"]'::jsonb,
	jsonb_build_object('type', 'object', 'required', x.s -> 'required',
		'properties', ((t.config_schema -> 'properties') - 'triggerType') || (x.s -> 'properties')),
	'{"kind": "free"}'::jsonb, true, NULL
FROM flowent.node_types t, (SELECT $node${
	"required": ["credential", "body"],
	"properties": {
		"body": {"type": "string", "description": "The note's text (hs_note_body)."},
		"contactId": {"type": ["string", "integer"], "description": "The contact to attach it to."},
		"dealId": {"type": ["string", "integer"], "description": "The deal to attach it to."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app's token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}$node$::jsonb AS s) x
WHERE t.type = 'trigger';

-- 04_node_types.sql: the hubspot-search-contacts node (its schema: the fields every node has, and its own)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model, builtin, handler)
SELECT 'hubspot-search-contacts', 'action', 'HubSpot: Search Contacts', 'Searches HubSpot contacts (CRM v3 search); outputs {total, results, paging}.',
	'["out"]'::jsonb,
	jsonb_build_object('type', 'object', 'required', x.s -> 'required',
		'properties', ((t.config_schema -> 'properties') - 'triggerType') || (x.s -> 'properties')),
	'{"kind": "free"}'::jsonb, true, NULL
FROM flowent.node_types t, (SELECT $node${
	"required": ["credential"],
	"properties": {
		"filters": {"type": "array", "items": {"type": "object"},
			"description": "Filters, all to hold: [{propertyName, operator (EQ, CONTAINS_TOKEN, GT, …), value}]."},
		"properties": {"type": "array", "items": {"type": "string"}, "description": "The properties to return."},
		"limit": {"type": "integer", "default": 10, "description": "Results per page, 1 to 200."},
		"after": {"type": "string", "description": "The paging cursor of a previous answer (paging.next.after)."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app's token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}$node$::jsonb AS s) x
WHERE t.type = 'trigger';


-- 03_rls.sql
GRANT SELECT (retention_days), INSERT (retention_days), UPDATE (retention_days) ON flowent.workflows TO PUBLIC;

-- 11_analytics.sql: analytics_daily moves to 13_retention.sql; the route adds the rollups
DROP VIEW flowent.analytics_daily;
CREATE OR REPLACE FUNCTION flowent.api_analytics(params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE SET jit = off SET enable_nestloop = off AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_to date;
	v_from date;
	v_lo timestamptz;
	v_hi timestamptz;
	v_workflow uuid;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['from', 'to', 'workflowId']);
	v_to := flowent._json_day(p -> 'to', 'params.to', (now() AT TIME ZONE 'UTC')::date);
	v_from := flowent._json_day(p -> 'from', 'params.from', v_to - 29);
	IF v_from > v_to THEN
		RAISE EXCEPTION 'params.from (%) must not be after params.to (%)', v_from, v_to USING ERRCODE = '22023';
	END IF;
	IF v_to - v_from >= 366 THEN
		RAISE EXCEPTION 'params.from: a range is at most 366 days, got % days from % to %', v_to - v_from + 1, v_from, v_to
			USING ERRCODE = '22023';
	END IF;
	v_workflow := flowent._json_uuid(p -> 'workflowId', 'params.workflowId');
	IF v_workflow IS NOT NULL THEN
		PERFORM flowent._require_workflow(v_workflow);
	END IF;
	v_lo := v_from::timestamp AT TIME ZONE 'UTC';
	v_hi := (v_to + 1)::timestamp AT TIME ZONE 'UTC';
	RETURN (
		WITH d AS (
			SELECT * FROM flowent.analytics_daily a
			WHERE a.day BETWEEN v_from AND v_to AND (v_workflow IS NULL OR a.workflow_id = v_workflow)
		), rolled AS (
			SELECT EXISTS (SELECT 1 FROM flowent.daily_stats r WHERE r.day BETWEEN v_from AND v_to
				AND (v_workflow IS NULL OR r.workflow_id = v_workflow)) AS pruned
		), q AS (
			-- exact over the kept executions; with pruned days in the range, the
			-- days' percentiles weighted by their finished runs
			SELECT CASE WHEN (SELECT rolled.pruned FROM rolled)
					THEN round(sum(d.p50_ms * d.finished) / nullif(sum(d.finished) FILTER (WHERE d.p50_ms IS NOT NULL), 0), 1)
					ELSE (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY x.duration_ms))::numeric, 1)
						FROM flowent.analytics_executions x
						WHERE x.started_at >= v_lo AND x.started_at < v_hi AND x.finished
							AND (v_workflow IS NULL OR x.workflow_id = v_workflow)) END AS p50_ms,
				CASE WHEN (SELECT rolled.pruned FROM rolled)
					THEN round(sum(d.p95_ms * d.finished) / nullif(sum(d.finished) FILTER (WHERE d.p95_ms IS NOT NULL), 0), 1)
					ELSE (SELECT round((percentile_cont(0.95) WITHIN GROUP (ORDER BY x.duration_ms))::numeric, 1)
						FROM flowent.analytics_executions x
						WHERE x.started_at >= v_lo AND x.started_at < v_hi AND x.finished
							AND (v_workflow IS NULL OR x.workflow_id = v_workflow)) END AS p95_ms
			FROM d
		), n AS (
			-- the kept node runs and the rollups of pruned days (no average there)
			SELECT y.workflow_id, y.node_id, max(y.node_type) AS node_type, sum(y.runs)::bigint AS runs,
				sum(y.errors)::bigint AS errors,
				round(sum(y.p95_ms * y.runs) / nullif(sum(y.runs) FILTER (WHERE y.p95_ms IS NOT NULL), 0), 1) AS p95_ms,
				round(sum(y.avg_ms * y.runs) FILTER (WHERE y.avg_ms IS NOT NULL)
					/ nullif(sum(y.runs) FILTER (WHERE y.avg_ms IS NOT NULL), 0), 1) AS avg_ms
			FROM (
				SELECT a.workflow_id, a.node_id, a.node_type::text, count(*) AS runs,
					count(*) FILTER (WHERE a.status = 'error') AS errors,
					(percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms))::numeric AS p95_ms,
					avg(a.duration_ms) AS avg_ms
				FROM flowent.analytics_nodes a
				WHERE a.execution_started_at >= v_lo AND a.execution_started_at < v_hi
					AND (v_workflow IS NULL OR a.workflow_id = v_workflow)
				GROUP BY a.workflow_id, a.node_id, a.node_type
				UNION ALL
				SELECT r.workflow_id, r.node_id, r.node_type, r.runs, r.errors, r.p95_ms, NULL
				FROM flowent.daily_node_stats r
				WHERE r.day BETWEEN v_from AND v_to AND (v_workflow IS NULL OR r.workflow_id = v_workflow)
			) y
			GROUP BY y.workflow_id, y.node_id
		)
		SELECT jsonb_build_object(
			'range', jsonb_build_object('from', v_from, 'to', v_to),
			'totals', (
				SELECT jsonb_build_object(
					'executions', coalesce(sum(d.executions), 0),
					'successes', coalesce(sum(d.successes), 0),
					'errors', coalesce(sum(d.errors), 0),
					'cancelled', coalesce(sum(d.cancelled), 0),
					'success_rate', round(sum(d.successes) / nullif(sum(d.finished), 0), 4),
					'p50_ms', (SELECT q.p50_ms FROM q),
					'p95_ms', (SELECT q.p95_ms FROM q),
					'tokens', coalesce(sum(d.tokens), 0),
					'cost_usd', coalesce(sum(d.cost_usd), 0))
				FROM d),
			'daily', (
				SELECT coalesce(jsonb_agg(to_jsonb(d) - 'finished' ORDER BY d.day, d.workflow_name, d.workflow_id), '[]'::jsonb)
				FROM d),
			'slowest_nodes', (
				SELECT coalesce(jsonb_agg(jsonb_build_object('workflow_id', s.workflow_id, 'node_id', s.node_id,
					'node_type', s.node_type, 'runs', s.runs, 'p95_ms', s.p95_ms, 'avg_ms', s.avg_ms)
					ORDER BY s.p95_ms DESC, s.avg_ms DESC, s.workflow_id, s.node_id), '[]'::jsonb)
				FROM (SELECT * FROM n ORDER BY n.p95_ms DESC NULLS LAST, n.avg_ms DESC, n.workflow_id, n.node_id LIMIT 10) s),
			'failing_nodes', (
				SELECT coalesce(jsonb_agg(jsonb_build_object('workflow_id', f.workflow_id, 'node_id', f.node_id,
					'node_type', f.node_type, 'runs', f.runs, 'errors', f.errors,
					'error_rate', round(f.errors::numeric / f.runs, 4))
					ORDER BY f.errors DESC, f.errors::numeric / f.runs DESC, f.workflow_id, f.node_id), '[]'::jsonb)
				FROM (SELECT * FROM n WHERE n.errors > 0
					ORDER BY n.errors DESC, n.errors::numeric / n.runs DESC, n.workflow_id, n.node_id LIMIT 10) f)));
END
$$;


-- 13_retention.sql
-- History that does not grow forever (release 0.8): retention settings,
-- flowent.prune(), which the workers run on their own about once an hour,
-- and daily rollups folded in before executions go, so analytics of pruned
-- days survive.
--   flowent.retention_days (default 30; 0 keeps everything), overridden per
--   workflow by workflows.retention_days (create_workflow option /
--   update_workflow change retentionDays; null: the setting);
--   flowent.prune_interval (seconds, default 3600; 0: the workers never prune).

-- One row per workflow and UTC day of pruned executions (by their start).
-- Counts, tokens and cost add up exactly over every prune of a day; the
-- percentiles are those of the executions of its first prune, weighted
-- with later ones (a day is pruned at once unless some of its executions
-- were still suspended).
CREATE TABLE flowent.daily_stats (
	workflow_id uuid NOT NULL,
	day date NOT NULL,
	executions bigint NOT NULL,
	successes bigint NOT NULL,
	errors bigint NOT NULL,
	cancelled bigint NOT NULL,
	p50_ms numeric,
	p95_ms numeric,
	tokens bigint NOT NULL,
	cost_usd numeric NOT NULL,
	PRIMARY KEY (workflow_id, day)
);

-- The same per node (finished node runs: success or error; its type as last pruned).
CREATE TABLE flowent.daily_node_stats (
	workflow_id uuid NOT NULL,
	day date NOT NULL,
	node_id text NOT NULL,
	node_type text,
	runs bigint NOT NULL,
	errors bigint NOT NULL,
	p95_ms numeric,
	PRIMARY KEY (workflow_id, day, node_id)
);

-- When the workers last pruned this database (one row).
CREATE TABLE flowent.prune_state (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	last_pruned_at timestamptz NOT NULL DEFAULT '-infinity',
	last_removed bigint NOT NULL DEFAULT 0
);
INSERT INTO flowent.prune_state DEFAULT VALUES;

-- Rollups are read under the executions' rule for a workflow's runs: those
-- who may edit the workflow (a pruned day no longer knows whose runs were
-- whose, so a user's own runs of others' workflows do not show).
ALTER TABLE flowent.daily_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.daily_node_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.prune_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY daily_stats_select ON flowent.daily_stats FOR SELECT
	USING (EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id
		AND flowent._can_edit(w.user_id, w.workspace_id, flowent.current_user_id())));
CREATE POLICY daily_node_stats_select ON flowent.daily_node_stats FOR SELECT
	USING (EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id
		AND flowent._can_edit(w.user_id, w.workspace_id, flowent.current_user_id())));
GRANT SELECT ON flowent.daily_stats, flowent.daily_node_stats TO PUBLIC;

-- One row per UTC day and workflow with executions: those kept and the
-- rollups of pruned ones (11_analytics.sql). Percentiles of a day that has
-- both are their averages weighted by finished runs.
CREATE VIEW flowent.analytics_daily WITH (security_invoker = true) AS
SELECT x.day, x.workflow_id,
	(SELECT w.name FROM flowent.workflows w WHERE w.id = x.workflow_id)::text AS workflow_name,
	sum(x.executions)::bigint AS executions,
	sum(x.successes)::bigint AS successes,
	sum(x.errors)::bigint AS errors,
	sum(x.cancelled)::bigint AS cancelled,
	sum(x.finished)::bigint AS finished,
	round(sum(x.successes)::numeric / nullif(sum(x.finished), 0), 4) AS success_rate,
	round(sum(x.p50_ms * x.finished) / nullif(sum(x.finished) FILTER (WHERE x.p50_ms IS NOT NULL), 0), 1) AS p50_ms,
	round(sum(x.p95_ms * x.finished) / nullif(sum(x.finished) FILTER (WHERE x.p95_ms IS NOT NULL), 0), 1) AS p95_ms,
	sum(x.tokens)::bigint AS tokens,
	sum(x.cost_usd) AS cost_usd
FROM (
	SELECT a.day, a.workflow_id, count(*) AS executions,
		count(*) FILTER (WHERE a.status = 'success') AS successes,
		count(*) FILTER (WHERE a.status = 'error') AS errors,
		count(*) FILTER (WHERE a.status = 'cancelled') AS cancelled,
		count(*) FILTER (WHERE a.finished) AS finished,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) FILTER (WHERE a.finished))::numeric AS p50_ms,
		(percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) FILTER (WHERE a.finished))::numeric AS p95_ms,
		sum(a.tokens) AS tokens, sum(a.cost_usd) AS cost_usd
	FROM flowent.analytics_executions a
	GROUP BY a.day, a.workflow_id
	UNION ALL
	SELECT r.day, r.workflow_id, r.executions, r.successes, r.errors, r.cancelled,
		r.successes + r.errors + r.cancelled, r.p50_ms, r.p95_ms, r.tokens, r.cost_usd
	FROM flowent.daily_stats r
) x
GROUP BY x.day, x.workflow_id;
GRANT SELECT ON flowent.analytics_daily TO PUBLIC;

-- The retention of a workflow, in days (0: keep everything).
CREATE FUNCTION flowent._retention_days(workflow_days integer) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT coalesce(workflow_days, current_setting('flowent.retention_days')::integer)
$$;

-- The executions of the trees of roots (each with its root), through the
-- index on parent_execution_id.
CREATE FUNCTION flowent._trees(roots uuid[]) RETURNS TABLE (root uuid, id uuid, status flowent.execution_status)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	WITH RECURSIVE t(root, id, status) AS (
		SELECT e.id, e.id, e.status FROM flowent.workflow_executions e WHERE e.id = ANY (roots)
		UNION ALL
		SELECT t.root, c.id, c.status FROM t JOIN flowent.workflow_executions c ON c.parent_execution_id = t.id
	)
	SELECT t.root, t.id, t.status FROM t
$$;
REVOKE ALL ON FUNCTION flowent._trees(uuid[]) FROM PUBLIC;

-- flowent.prune(older_than): remove the finished executions that started
-- before now() - older_than (NULL: each workflow's retention, the setting or
-- its own retention_days; 0 days keeps a workflow's history), with their
-- node logs, approvals, timers and queue rows and their child executions.
-- A tree with a pending, running or suspended execution stays whole. The
-- executions' figures are folded into daily_stats and daily_node_stats
-- first. Returns the number of executions removed (children included), a
-- batch of 10,000 trees per statement. For flowent_admin (and superusers);
-- the workers call it about every flowent.prune_interval.
CREATE FUNCTION flowent.prune(older_than interval DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	removed bigint := 0;
	batch constant integer := 10000;
	v_cut timestamptz;
	after_at timestamptz := '-infinity';
	after_id uuid := '00000000-0000-0000-0000-000000000000';
	cand uuid[];
	roots uuid[];
	ids uuid[];			-- the executions of the trees of roots
	last record;
BEGIN
	IF older_than IS NOT NULL AND older_than < interval '0' THEN
		RAISE EXCEPTION 'older_than must not be negative, got %', older_than USING ERRCODE = '22023';
	END IF;
	-- the library defines flowent.retention_days: load it
	PERFORM flowent.current_user_id();
	-- nothing started after v_cut can go: the shortest retention there is
	v_cut := now() - coalesce(older_than, (SELECT make_interval(days => min(d))
		FROM (SELECT flowent._retention_days(w.retention_days) AS d FROM flowent.workflows w
			UNION ALL SELECT flowent._retention_days(NULL)) x WHERE d > 0));
	IF v_cut IS NULL THEN
		RETURN 0;			-- every workflow keeps everything
	END IF;
	LOOP
		cand := ARRAY(
			SELECT e.id FROM flowent.workflow_executions e
			LEFT JOIN flowent.workflows w ON w.id = e.workflow_id
			WHERE e.started_at < v_cut
				AND (e.started_at, e.id) > (after_at, after_id)
				AND e.parent_execution_id IS NULL
				AND e.status IN ('success', 'error', 'cancelled')
				AND (older_than IS NOT NULL OR (flowent._retention_days(w.retention_days) > 0
					AND e.started_at < now() - make_interval(days => flowent._retention_days(w.retention_days))))
			ORDER BY e.started_at, e.id
			LIMIT batch);
		EXIT WHEN cardinality(cand) = 0;
		SELECT e.started_at, e.id INTO last FROM flowent.workflow_executions e WHERE e.id = cand[cardinality(cand)];
		after_at := last.started_at;
		after_id := last.id;
		-- one walk of the trees: those with an execution still going stay whole
		SELECT coalesce(array_agg(t.id), '{}'), coalesce(array_agg(t.id) FILTER (WHERE t.id = t.root), '{}')
		INTO ids, roots
		FROM (SELECT t.root, t.id, bool_or(t.status IN ('pending', 'running', 'suspended')) OVER (PARTITION BY t.root) AS going
			FROM flowent._trees(cand) t) t
		WHERE NOT t.going;
		IF cardinality(roots) > 0 THEN
			PERFORM flowent._fold_stats(ids);
			-- children go with their parent (_delete_executions), node logs with
			-- their execution (_delete_node_logs), the rest by foreign key
			DELETE FROM flowent.workflow_executions e WHERE e.id = ANY (roots);
			removed := removed + cardinality(ids);
			RAISE LOG 'flowent: pruned % executions (%)', cardinality(ids),
				coalesce('older than ' || older_than::text, 'retention of each workflow');
		END IF;
		EXIT WHEN cardinality(cand) < batch;
	END LOOP;
	RETURN removed;
END
$$;
REVOKE ALL ON FUNCTION flowent.prune(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.prune(interval) TO flowent_admin;

-- Fold executions (ids) into the rollups.
CREATE FUNCTION flowent._fold_stats(ids uuid[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	INSERT INTO flowent.daily_stats AS d (workflow_id, day, executions, successes, errors, cancelled,
		p50_ms, p95_ms, tokens, cost_usd)
	SELECT e.workflow_id, (e.started_at AT TIME ZONE 'UTC')::date, count(*),
		count(*) FILTER (WHERE e.status = 'success'), count(*) FILTER (WHERE e.status = 'error'),
		count(*) FILTER (WHERE e.status = 'cancelled'),
		round((percentile_cont(0.5) WITHIN GROUP (ORDER BY e.duration_ms))::numeric, 1),
		round((percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_ms))::numeric, 1),
		coalesce(sum(e.total_tokens), 0), coalesce(sum(e.total_cost), 0)
	FROM flowent.workflow_executions e
	WHERE e.id = ANY (ids) AND e.workflow_id IS NOT NULL
	GROUP BY 1, 2
	ON CONFLICT (workflow_id, day) DO UPDATE SET
		p50_ms = round((d.p50_ms * d.executions + EXCLUDED.p50_ms * EXCLUDED.executions)
			/ (d.executions + EXCLUDED.executions), 1),
		p95_ms = round((d.p95_ms * d.executions + EXCLUDED.p95_ms * EXCLUDED.executions)
			/ (d.executions + EXCLUDED.executions), 1),
		executions = d.executions + EXCLUDED.executions,
		successes = d.successes + EXCLUDED.successes,
		errors = d.errors + EXCLUDED.errors,
		cancelled = d.cancelled + EXCLUDED.cancelled,
		tokens = d.tokens + EXCLUDED.tokens,
		cost_usd = d.cost_usd + EXCLUDED.cost_usd;
	INSERT INTO flowent.daily_node_stats AS d (workflow_id, day, node_id, node_type, runs, errors, p95_ms)
	SELECT e.workflow_id, (e.started_at AT TIME ZONE 'UTC')::date, l.node_id, max(l.node_type), count(*),
		count(*) FILTER (WHERE l.status = 'error'),
		round((percentile_cont(0.95) WITHIN GROUP (ORDER BY l.duration_ms))::numeric, 1)
	FROM flowent.workflow_node_logs l
	JOIN flowent.workflow_executions e ON e.id = l.execution_id
	WHERE e.id = ANY (ids) AND e.workflow_id IS NOT NULL
		AND l.status IN ('success', 'error')
	GROUP BY 1, 2, 3
	ON CONFLICT (workflow_id, day, node_id) DO UPDATE SET
		p95_ms = round((d.p95_ms * d.runs + EXCLUDED.p95_ms * EXCLUDED.runs) / (d.runs + EXCLUDED.runs), 1),
		node_type = EXCLUDED.node_type,
		runs = d.runs + EXCLUDED.runs,
		errors = d.errors + EXCLUDED.errors;
END
$$;
REVOKE ALL ON FUNCTION flowent._fold_stats(uuid[]) FROM PUBLIC;

-- For the workers: prune if the last prune of this database is older than
-- interval_s seconds (one worker wins; the others skip the locked row).
-- Returns the executions removed, or NULL when it was not due.
CREATE FUNCTION flowent._prune_if_due(interval_s integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM 1 FROM flowent.prune_state s
	WHERE s.last_pruned_at < now() - make_interval(secs => interval_s)
	FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	n := flowent.prune();
	UPDATE flowent.prune_state SET last_pruned_at = now(), last_removed = n;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION flowent._prune_if_due(integer) FROM PUBLIC;

-- pg_dump keeps the rollups
SELECT pg_catalog.pg_extension_config_dump('flowent.daily_stats', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.daily_node_stats', '');

-- 14_ai.sql
-- AI nodes (release 0.8: the llm-agent, src/nodes/llm_agent.c).

-- List prices per 1,000 tokens in USD, shipped with the extension (not
-- dumped: each install or update brings its own). flowent.model_prices,
-- the database's own prices (dumped), comes first: a row there overrides
-- the list price of its model or prices a model the list does not know. A
-- model in neither costs 0, and the node says priced: false.
CREATE TABLE flowent.model_list_prices (
	model text PRIMARY KEY,
	prompt_per_1k numeric(12,6) NOT NULL,
	completion_per_1k numeric(12,6) NOT NULL,
	as_of date NOT NULL
);
INSERT INTO flowent.model_list_prices (model, prompt_per_1k, completion_per_1k, as_of) VALUES
	('gpt-4o', 0.0025, 0.01, '2025-06-01'),
	('gpt-4o-mini', 0.00015, 0.0006, '2025-06-01'),
	('gpt-4.1', 0.002, 0.008, '2025-06-01'),
	('gpt-4.1-mini', 0.0004, 0.0016, '2025-06-01'),
	('gpt-4.1-nano', 0.0001, 0.0004, '2025-06-01'),
	('o3', 0.002, 0.008, '2025-06-01'),
	('o3-mini', 0.0011, 0.0044, '2025-06-01'),
	('o4-mini', 0.0011, 0.0044, '2025-06-01'),
	('gpt-3.5-turbo', 0.0005, 0.0015, '2025-06-01'),
	('claude-3-5-sonnet', 0.003, 0.015, '2025-06-01'),
	('claude-3-5-haiku', 0.0008, 0.004, '2025-06-01'),
	('claude-3-7-sonnet', 0.003, 0.015, '2025-06-01'),
	('mistral-large-latest', 0.002, 0.006, '2025-06-01'),
	('mistral-small-latest', 0.0001, 0.0003, '2025-06-01');
GRANT SELECT ON flowent.model_list_prices TO PUBLIC;

-- The price a model's usage is charged at: the database's own, else the list's.
CREATE VIEW flowent.model_price WITH (security_invoker = true) AS
	SELECT p.model, p.prompt_per_1k, p.completion_per_1k, 'model_prices' AS source FROM flowent.model_prices p
	UNION ALL
	SELECT l.model, l.prompt_per_1k, l.completion_per_1k, 'list (' || l.as_of || ')' FROM flowent.model_list_prices l
	WHERE NOT EXISTS (SELECT 1 FROM flowent.model_prices p WHERE p.model = l.model);
GRANT SELECT ON flowent.model_price TO PUBLIC;
