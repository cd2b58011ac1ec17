-- ===========================================================================
-- Pipelines generated from a sentence (issue 10, item 11): the model is told
-- the node types (handles, fields) and answers in JSON mode with React Flow
-- JSON as saved workflows have it; the answer is laid out, validated, sent
-- back once with its errors, and saved as a draft on request.
-- ===========================================================================

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
