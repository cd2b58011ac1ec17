-- Flowent 0.11 -> 0.12: the llm-agent's tools (workflows the model may call,
-- src/nodes/llm_tools.c) and maxSteps; a trigger's payload schema, which a
-- tool gives the model as its parameters; streamed answers, whose text so
-- far a worker keeps in flowent.node_progress (19_progress.sql); pipelines
-- generated from a sentence (flowent.generate, 20_generate.sql); a run's
-- pre-flight check against its estimate (options.preflight).
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
	"retry": {"type": "object",
		"description": "Retry a failed attempt: {maxAttempts, backoffMs}. Without it a call that fails with AI_UNAVAILABLE or TIMEOUT is made 3 times in all, 1 s and 2 s apart (longer when Retry-After asks).",
		"properties": {
			"maxAttempts": {"type": "integer", "default": 3, "description": "Attempts in all, the first one included."},
			"backoffMs": {"type": "integer", "default": 1000, "description": "Milliseconds to wait before the next attempt (doubling)."}}},
	"stream": {"type": "boolean", "default": true,
		"description": "In asynchronous runs, ask for the answer as a stream and show its text as it is written (step:progress events); the output is the same."},
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

-- 01_schema.sql: an execution's progress rows go with it
CREATE OR REPLACE FUNCTION flowent._delete_execution_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	DELETE FROM flowent.workflow_node_logs l USING gone g WHERE l.execution_id = g.id;
	DELETE FROM flowent.workflow_approval_requests a USING gone g WHERE a.execution_id = g.id;
	DELETE FROM flowent.timers t USING gone g WHERE t.execution_id = g.id;
	DELETE FROM flowent.run_queue q USING gone g WHERE q.execution_id = g.id;
	DELETE FROM flowent.node_progress p USING gone g WHERE p.execution_id = g.id;
	RETURN NULL;
END
$$;

-- 19_progress.sql, as a fresh install has it
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

-- 20_generate.sql, as a fresh install has it
-- One node run on its own, as the caller, storing nothing (src/pg/run.c);
-- its templates see the payload as {{trigger.payload…}}.
CREATE FUNCTION flowent._run_node(node jsonb, payload jsonb DEFAULT '{}') RETURNS jsonb
	AS 'MODULE_PATHNAME', 'flowent_run_node' LANGUAGE C VOLATILE;

-- What the model is told: the format, then every node type with its
-- outputs and its own fields (not the ones every node has).
CREATE FUNCTION flowent._generate_instructions() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT 'You design workflows for Flowent, a workflow engine. Answer with one JSON object and nothing else: '
		|| '{"nodes": [{"id": "a_unique_id", "type": "<node type>", "data": {<the node''s fields>}}], '
		|| '"edges": [{"id": "e1", "source": "<node id>", "target": "<node id>", "sourceHandle": "<output, for a node with several>"}], '
		|| '"explanation": "<what the workflow does, in a sentence or two>"}. '
		|| 'Begin with exactly one trigger node; connect every other node. '
		|| 'Field values may hold templates: {{trigger.payload.<field>}} for the input, {{<node id>.<field>}} for an earlier node''s output, {{variables.<name>}}. '
		|| E'The node types (type (category): what it does. outputs. required fields. fields):\n'
		|| string_agg(format('- %s (%s): %s outputs: %s. required: %s. fields: %s',
			t.type, t.category, t.description,
			CASE WHEN jsonb_array_length(t.handles) = 0 THEN 'none' ELSE (SELECT string_agg(h, ', ') FROM jsonb_array_elements_text(t.handles) h) END,
			coalesce((SELECT string_agg(r, ', ') FROM jsonb_array_elements_text(t.config_schema -> 'required') r), 'none'),
			coalesce((SELECT string_agg(p.key || ' ' || coalesce(p.value ->> 'type', 'any')
					|| coalesce(' ' || (p.value -> 'enum')::text, ''), ', ' ORDER BY p.key)
				FROM jsonb_each(t.config_schema -> 'properties') p
				WHERE p.key NOT IN ('label', 'retry', 'timeoutMs', 'onError', 'breakpoint')), 'none')),
			E'\n' ORDER BY t.category, t.type)
	FROM flowent.node_types t
$$;

-- Positions for the canvas: a column per depth (the longest way from a
-- node without inputs), nodes of a column in their order.
CREATE FUNCTION flowent._layout(nodes jsonb, edges jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE n AS (
		SELECT ord, x AS node, x ->> 'id' AS id FROM jsonb_array_elements(nodes) WITH ORDINALITY AS a(x, ord)
	), e AS (
		SELECT x ->> 'source' AS s, x ->> 'target' AS t FROM jsonb_array_elements(coalesce(edges, '[]')) x
	), walk(id, d) AS (
		SELECT id, 0 FROM n WHERE id NOT IN (SELECT t FROM e WHERE t IS NOT NULL)
		UNION
		SELECT e.t, w.d + 1 FROM walk w JOIN e ON e.s = w.id WHERE w.d < (SELECT count(*) FROM n)
	), depth AS (
		SELECT n.ord, n.node, coalesce(max(w.d), 0) AS d
		FROM n LEFT JOIN walk w ON w.id = n.id GROUP BY n.ord, n.node
	), placed AS (
		SELECT ord, node || jsonb_build_object('position', jsonb_build_object(
			'x', 280 * d, 'y', 140 * (row_number() OVER (PARTITION BY d ORDER BY ord) - 1))) AS node
		FROM depth
	)
	SELECT coalesce(jsonb_agg(node ORDER BY ord), '[]') FROM placed
$$;

-- What is wrong with an answer's shape, or NULL.
CREATE FUNCTION flowent._generated_shape(g jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN g IS NULL OR jsonb_typeof(g) <> 'object' THEN 'the answer must be a JSON object {nodes, edges, explanation}'
		WHEN jsonb_typeof(g -> 'nodes') IS DISTINCT FROM 'array' THEN 'nodes must be an array of {id, type, data}'
		WHEN g ? 'edges' AND jsonb_typeof(g -> 'edges') <> 'array' THEN 'edges must be an array of {id, source, target}'
		WHEN g ? 'explanation' AND jsonb_typeof(g -> 'explanation') <> 'string' THEN 'explanation must be a string'
	END
$$;

CREATE FUNCTION flowent.generate(prompt text, options jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	o jsonb := coalesce(options, '{}'::jsonb);
	data jsonb;
	ask text := prompt;
	conversation jsonb := '[]';
	r jsonb;
	g jsonb;
	v jsonb;
	problem text;
	rounds int := 0;
	tokens bigint := 0;
	cost numeric := 0;
	nodes jsonb;
	edges jsonb;
	wf uuid;
BEGIN
	IF prompt IS NULL OR btrim(prompt) = '' THEN
		RAISE EXCEPTION 'flowent.generate: prompt must describe the pipeline, got %',
			coalesce(quote_literal(prompt), 'NULL') USING ERRCODE = '22023';
	END IF;
	IF jsonb_typeof(o) <> 'object' THEN
		RAISE EXCEPTION 'flowent.generate: options must be an object, got %', jsonb_typeof(o) USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._check_keys('options', o, ARRAY['model', 'credential', 'baseUrl', 'save', 'name', 'maxTokens']);
	PERFORM flowent._json_string(o -> 'model', 'options.model'), flowent._json_string(o -> 'credential', 'options.credential'),
		flowent._json_string(o -> 'baseUrl', 'options.baseUrl'), flowent._json_string(o -> 'name', 'options.name');
	IF o ? 'save' AND jsonb_typeof(o -> 'save') <> 'boolean' THEN
		RAISE EXCEPTION 'options.save must be true or false, got %', (o -> 'save')::text USING ERRCODE = '22023';
	END IF;
	-- the texts come in as the payload: templates in them are not resolved
	data := jsonb_strip_nulls(jsonb_build_object(
		'model', coalesce(o ->> 'model', 'gpt-4o-mini'),
		'credential', o ->> 'credential',
		'baseUrl', o ->> 'baseUrl',
		'maxTokens', o -> 'maxTokens',
		'systemPrompt', '{{trigger.payload.system}}',
		'messages', '{{trigger.payload.conversation}}',
		'prompt', '{{trigger.payload.ask}}',
		'responseFormat', 'json',
		'temperature', 0));
	LOOP
		rounds := rounds + 1;
		r := flowent._run_node(jsonb_build_object('id', 'generate', 'type', 'llm-agent', 'data', data),
			jsonb_build_object('system', flowent._generate_instructions(), 'conversation', conversation, 'ask', ask));
		tokens := tokens + coalesce((r ->> 'tokens')::bigint, 0);
		cost := cost + coalesce((r ->> 'costUsd')::numeric, 0);
		IF r ->> 'status' <> 'success' THEN
			RAISE EXCEPTION 'flowent.generate: the model call failed with %: %', r #>> '{error,code}', r #>> '{error,message}'
				USING ERRCODE = CASE r #>> '{error,code}' WHEN 'BUDGET_EXCEEDED' THEN '53400'
					WHEN 'CREDENTIAL_NOT_FOUND' THEN '42704' WHEN 'INVALID_CONFIG' THEN '22023' ELSE '58000' END,
				DETAIL = (r -> 'error')::text;
		END IF;
		g := r #> '{output,json}';
		problem := flowent._generated_shape(g);
		IF problem IS NULL THEN
			v := flowent.validate(g -> 'nodes', coalesce(g -> 'edges', '[]'));
			IF (v ->> 'valid')::boolean THEN
				EXIT;
			END IF;
			problem := (SELECT string_agg(x ->> 'message', '; ') FROM jsonb_array_elements(v -> 'errors') x);
		END IF;
		IF rounds = 2 THEN
			RAISE EXCEPTION 'flowent.generate: the model''s pipeline is not valid, also after one repair: %', problem
				USING ERRCODE = '22023', DETAIL = coalesce(v::text, g::text);
		END IF;
		-- one repair: the model sees what it answered and what is wrong with it
		conversation := jsonb_build_array(jsonb_build_object('role', 'user', 'content', prompt),
			jsonb_build_object('role', 'assistant', 'content', coalesce(g::text, 'null')));
		ask := 'That pipeline is not valid: ' || problem
			|| '. Answer with the corrected JSON object {nodes, edges, explanation}.';
		v := NULL;
	END LOOP;
	edges := coalesce(g -> 'edges', '[]');
	nodes := flowent._layout(g -> 'nodes', edges);
	IF coalesce((o ->> 'save')::boolean, false) THEN
		wf := flowent.create_workflow(coalesce(o ->> 'name', left(btrim(prompt), 80)), nodes, edges,
			jsonb_strip_nulls(jsonb_build_object('status', 'draft', 'description', g ->> 'explanation')));
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object(
		'nodes', nodes,
		'edges', edges,
		'explanation', g ->> 'explanation',
		'repaired', rounds > 1,
		'usage', jsonb_build_object('totalTokens', tokens, 'costUsd', cost),
		'workflowId', wf));
END
$$;

-- POST /api/pipelines/generate {prompt, model?, credential?, baseUrl?, save?, name?}
CREATE FUNCTION flowent.api_generate(body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := coalesce(body, '{}'::jsonb);
BEGIN
	IF jsonb_typeof(b) <> 'object' THEN
		RAISE EXCEPTION 'body must be an object {prompt, model?, credential?, baseUrl?, save?, name?}' USING ERRCODE = '22023';
	END IF;
	RETURN flowent.generate(flowent._json_string(b -> 'prompt', 'body.prompt'), b - 'prompt');
END
$$;

-- 08_gateway.sql: a run's caps and its pre-flight check through the API
CREATE OR REPLACE FUNCTION flowent.api_execute(id uuid, body jsonb DEFAULT '{}') RETURNS jsonb
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

-- 18_estimate.sql: the pre-flight check of a run (options.preflight)
-- The pre-flight check of a run with options.preflight (flowent.run,
-- flowent.execute): its estimate against the run's caps (maxCostUsd,
-- maxTokens) and the acting user's remaining budgets, before anything
-- starts.  Over one: BUDGET_EXCEEDED (53400) with the estimate and the limit.
CREATE FUNCTION flowent._preflight(workflow_id uuid, payload jsonb, options jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := flowent.estimate(workflow_id, coalesce(payload, '{}'));
	cost numeric := trim_scale((e ->> 'totalCost')::numeric);
	tokens bigint := (e ->> 'totalTokens')::bigint;
	b record;
	why text;
BEGIN
	IF options ? 'maxCostUsd' AND cost > (options ->> 'maxCostUsd')::numeric THEN
		why := format('its estimate is %s USD, and options.maxCostUsd is %s', cost, options ->> 'maxCostUsd');
	ELSIF options ? 'maxTokens' AND tokens > (options ->> 'maxTokens')::numeric THEN
		why := format('its estimate is %s tokens, and options.maxTokens is %s', tokens, options ->> 'maxTokens');
	ELSIF NOT coalesce((options ->> 'skipBudgetCheck')::boolean, false) THEN
		FOR b IN SELECT s.period, s.remaining_usd, s.remaining_tokens FROM flowent.budget_status s
			WHERE s.user_id = flowent.current_user_id() ORDER BY s.period
		LOOP
			IF b.remaining_usd IS NOT NULL AND cost > b.remaining_usd THEN
				why := format('its estimate is %s USD, and the %s budget of user "%s" has %s USD left',
					cost, b.period, flowent.current_user_id(), trim_scale(b.remaining_usd));
			ELSIF b.remaining_tokens IS NOT NULL AND tokens > b.remaining_tokens THEN
				why := format('its estimate is %s tokens, and the %s budget of user "%s" has %s tokens left',
					tokens, b.period, flowent.current_user_id(), b.remaining_tokens);
			END IF;
			EXIT WHEN why IS NOT NULL;
		END LOOP;
	END IF;
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'BUDGET_EXCEEDED: the run of workflow % does not start: %', workflow_id, why
			USING ERRCODE = '53400', DETAIL = e::text,
				HINT = 'Run it without options.preflight to let each model call''s reservation decide.';
	END IF;
END
$$;
