-- Cost estimates before a run (release 0.11): flowent.estimate(workflow_id, payload)
-- -> {totalTokens, totalCost, nodes: [{nodeId, tokens, cost, calls, note?}]}.
--
-- A model call's prompt is its text as the payload resolves it ({{trigger.payload.…}};
-- another node's output counts as the tokens that node may write), at four bytes a token
-- plus four a message; its completion is maxTokens (else flowent.llm_max_tokens): an
-- estimate at the top of what a call may write. An llm-agent with tools may call the model
-- maxSteps times (default 5). A loop's body counts once per item: the length of its items
-- when the payload gives them, else maxIterations, else once (and the node says so). A
-- sub-workflow counts its workflow's estimate. Of a condition's or a switch's branches the
-- dearest counts; branches that run side by side all count, and a node after they merge
-- once.

-- The text of `s` with the payload's {{trigger.payload.x}} (or {{payload.x}}) filled in and
-- other templates as `other_bytes` bytes each (what their node may write; 0 when unknown).
CREATE FUNCTION flowent._estimate_text(s text, payload jsonb, other jsonb) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	m text[];
	path text[];
	v jsonb;
	n bigint;
BEGIN
	IF s IS NULL THEN
		RETURN 0;
	END IF;
	n := octet_length(regexp_replace(s, '\{\{[^}]*\}\}', '', 'g'));
	FOR m IN SELECT regexp_matches(s, '\{\{\s*([^}]*?)\s*\}\}', 'g') LOOP
		path := string_to_array(m[1], '.');
		IF path[1] = 'trigger' AND path[2] = 'payload' THEN
			v := payload #> path[3:];
		ELSIF path[1] = 'payload' THEN
			v := payload #> path[2:];
		ELSE
			v := NULL;
			n := n + coalesce((other ->> path[1])::bigint, 0);
		END IF;
		IF v IS NOT NULL THEN
			n := n + octet_length(CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' ELSE v::text END);
		END IF;
	END LOOP;
	RETURN n;
END
$$;

-- How many items a loop node runs its body for: {count, note}.
CREATE FUNCTION flowent._estimate_items(data jsonb, payload jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	items jsonb := data -> 'items';
	m text[];
	path text[];
	v jsonb;
BEGIN
	IF jsonb_typeof(items) = 'array' THEN
		RETURN jsonb_build_object('count', jsonb_array_length(items));
	END IF;
	IF jsonb_typeof(items) = 'string' THEN
		m := regexp_match(items #>> '{}', '^\s*\{\{\s*([^}]*?)\s*\}\}\s*$');
		IF m IS NOT NULL THEN
			path := string_to_array(m[1], '.');
			v := CASE WHEN path[1] = 'trigger' AND path[2] = 'payload' THEN payload #> path[3:]
				WHEN path[1] = 'payload' THEN payload #> path[2:] END;
			IF jsonb_typeof(v) = 'array' THEN
				RETURN jsonb_build_object('count', jsonb_array_length(v));
			END IF;
		END IF;
	END IF;
	IF jsonb_typeof(data -> 'maxIterations') = 'number' THEN
		RETURN jsonb_build_object('count', (data ->> 'maxIterations')::bigint,
			'note', 'items unknown before the run: maxIterations');
	END IF;
	RETURN jsonb_build_object('count', 1, 'note', 'items unknown before the run and no maxIterations: once');
END
$$;

CREATE FUNCTION flowent._estimate(nodes jsonb, edges jsonb, payload jsonb, depth integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	n jsonb;
	e jsonb;
	id text;
	d jsonb;
	tokens jsonb := '{}';		-- per node, one run of it
	cost jsonb := '{}';
	calls jsonb := '{}';
	notes jsonb := '{}';
	out_bytes jsonb := '{}';	-- what a model node may write, for prompts that use it
	mult jsonb := '{}';			-- runs per node (loop bodies)
	order_ids text[] := '{}';
	indeg jsonb := '{}';
	ready text[];
	chosen jsonb := '{}';		-- per node: the nodes its dearest continuation runs
	best text[];
	best_cost numeric;
	set_ids text[];
	c numeric;
	t bigint;
	prompt bigint;
	completion bigint;
	k bigint;
	child jsonb;
	items jsonb;
	body text[];
	frontier text[];
	total_tokens bigint := 0;
	total_cost numeric := 0;
	result jsonb := '[]';
	max_tokens bigint := coalesce(current_setting('flowent.llm_max_tokens', true), '4096')::bigint;
BEGIN
	IF depth > 8 THEN
		RETURN jsonb_build_object('totalTokens', 0, 'totalCost', 0, 'nodes', '[]'::jsonb);
	END IF;
	-- topological order (the workflow is acyclic: flowent.validate)
	FOR n IN SELECT * FROM jsonb_array_elements(nodes) LOOP
		indeg := indeg || jsonb_build_object(n ->> 'id', 0);
	END LOOP;
	FOR e IN SELECT * FROM jsonb_array_elements(edges) LOOP
		indeg := jsonb_set(indeg, ARRAY[e ->> 'target'], to_jsonb(coalesce((indeg ->> (e ->> 'target'))::int, 0) + 1));
	END LOOP;
	ready := ARRAY(SELECT k2 FROM jsonb_each_text(indeg) x(k2, v2) WHERE v2::int = 0);
	WHILE cardinality(ready) > 0 LOOP
		id := ready[1];
		ready := ready[2:];
		order_ids := order_ids || id;
		FOR e IN SELECT * FROM jsonb_array_elements(edges) x WHERE x ->> 'source' = id LOOP
			indeg := jsonb_set(indeg, ARRAY[e ->> 'target'], to_jsonb((indeg ->> (e ->> 'target'))::int - 1));
			IF (indeg ->> (e ->> 'target'))::int = 0 THEN
				ready := ready || (e ->> 'target');
			END IF;
		END LOOP;
	END LOOP;

	-- each node's cost, once, in order (a prompt may use an earlier model's answer)
	FOREACH id IN ARRAY order_ids LOOP
		SELECT x INTO n FROM jsonb_array_elements(nodes) x WHERE x ->> 'id' = id;
		d := coalesce(n -> 'data', '{}');
		t := 0; c := 0; k := 1;
		IF n ->> 'type' = 'llm-agent' OR (n ->> 'type' = 'condition' AND (d ->> 'fallbackToAI')::boolean IS TRUE) THEN
			prompt := flowent._estimate_text(d ->> 'prompt', payload, out_bytes)
				+ flowent._estimate_text(d ->> 'systemPrompt', payload, out_bytes)
				+ CASE WHEN jsonb_typeof(d -> 'messages') = 'array' THEN octet_length((d -> 'messages')::text) ELSE 0 END
				+ CASE WHEN n ->> 'type' = 'condition' THEN octet_length(coalesce(d -> 'conditions', d -> 'rules', '[]')::text) + 400 ELSE 0 END;
			prompt := ceil(prompt / 4.0)::bigint + 4 * (2 + CASE WHEN jsonb_typeof(d -> 'messages') = 'array'
				THEN jsonb_array_length(d -> 'messages') ELSE 0 END);
			completion := CASE WHEN jsonb_typeof(d -> 'maxTokens') = 'number' THEN (d ->> 'maxTokens')::bigint
				WHEN n ->> 'type' = 'condition' THEN 100 ELSE max_tokens END;
			IF jsonb_typeof(d -> 'tools') = 'array' AND jsonb_array_length(d -> 'tools') > 0 THEN
				k := CASE WHEN jsonb_typeof(d -> 'maxSteps') = 'number' THEN (d ->> 'maxSteps')::bigint ELSE 5 END;
			END IF;
			t := (prompt + completion) * k;
			c := coalesce((SELECT round((p.prompt_per_1k * prompt + p.completion_per_1k * completion) * k / 1000, 6)
				FROM flowent.model_price p WHERE p.model = d ->> 'model'), 0);
			IF NOT EXISTS (SELECT 1 FROM flowent.model_price p WHERE p.model = d ->> 'model') THEN
				notes := notes || jsonb_build_object(id, format('model %s has no price: cost 0', coalesce(d ->> 'model', '(none)')));
			END IF;
			out_bytes := out_bytes || jsonb_build_object(id, completion * 4);
		ELSIF n ->> 'type' = 'sub-workflow' AND flowent._is_uuid(d ->> 'workflowId') THEN
			SELECT flowent._estimate(w.nodes, w.edges, '{}', depth + 1) INTO child
			FROM flowent.workflows w WHERE w.id = (d ->> 'workflowId')::uuid;
			IF child IS NOT NULL THEN
				t := (child ->> 'totalTokens')::bigint;
				c := (child ->> 'totalCost')::numeric;
			END IF;
		END IF;
		tokens := tokens || jsonb_build_object(id, t);
		cost := cost || jsonb_build_object(id, c);
		calls := calls || jsonb_build_object(id, k);
		mult := mult || jsonb_build_object(id, 1);
	END LOOP;

	-- loop bodies run once per item (nested loops multiply)
	FOR n IN SELECT * FROM jsonb_array_elements(nodes) x WHERE x ->> 'type' = 'loop-controller' LOOP
		items := flowent._estimate_items(coalesce(n -> 'data', '{}'), payload);
		IF items ? 'note' THEN
			notes := notes || jsonb_build_object(n ->> 'id', items ->> 'note');
		END IF;
		frontier := ARRAY(SELECT x ->> 'target' FROM jsonb_array_elements(edges) x
			WHERE x ->> 'source' = n ->> 'id' AND x ->> 'sourceHandle' = 'body');
		body := '{}';
		WHILE cardinality(frontier) > 0 LOOP
			id := frontier[1];
			frontier := frontier[2:];
			CONTINUE WHEN id = ANY (body) OR id = n ->> 'id';
			body := body || id;
			frontier := frontier || ARRAY(SELECT x ->> 'target' FROM jsonb_array_elements(edges) x WHERE x ->> 'source' = id);
		END LOOP;
		FOREACH id IN ARRAY body LOOP
			mult := mult || jsonb_build_object(id, (mult ->> id)::bigint * (items ->> 'count')::bigint);
		END LOOP;
	END LOOP;

	-- the dearest continuation of each node, from the last to the first
	FOR i IN REVERSE cardinality(order_ids) .. 1 LOOP
		id := order_ids[i];
		SELECT x INTO n FROM jsonb_array_elements(nodes) x WHERE x ->> 'id' = id;
		IF n ->> 'type' IN ('condition', 'switch') THEN
			best := '{}';
			best_cost := -1;
			FOR e IN SELECT DISTINCT jsonb_build_object('h', coalesce(x ->> 'sourceHandle', 'out')) FROM jsonb_array_elements(edges) x
				WHERE x ->> 'source' = id LOOP
				set_ids := ARRAY(SELECT DISTINCT s FROM jsonb_array_elements(edges) x,
					jsonb_array_elements_text(chosen -> (x ->> 'target')) s
					WHERE x ->> 'source' = id AND coalesce(x ->> 'sourceHandle', 'out') = e ->> 'h');
				c := (SELECT coalesce(sum((cost ->> s)::numeric * (mult ->> s)::bigint), 0)
					+ coalesce(sum((tokens ->> s)::bigint * (mult ->> s)::bigint), 0) / 1e12 FROM unnest(set_ids) s);
				IF c > best_cost THEN
					best := set_ids;
					best_cost := c;
				END IF;
			END LOOP;
			set_ids := best;
		ELSE
			set_ids := ARRAY(SELECT DISTINCT s FROM jsonb_array_elements(edges) x,
				jsonb_array_elements_text(chosen -> (x ->> 'target')) s WHERE x ->> 'source' = id);
		END IF;
		chosen := chosen || jsonb_build_object(id, to_jsonb(set_ids || id));
	END LOOP;

	set_ids := ARRAY(SELECT DISTINCT s FROM unnest(order_ids) r, jsonb_array_elements_text(chosen -> r) s
		WHERE coalesce((SELECT count(*) FROM jsonb_array_elements(edges) x WHERE x ->> 'target' = r), 0) = 0);
	FOREACH id IN ARRAY order_ids LOOP
		CONTINUE WHEN (tokens ->> id)::bigint = 0 AND NOT notes ? id;
		t := (tokens ->> id)::bigint * (mult ->> id)::bigint;
		c := (cost ->> id)::numeric * (mult ->> id)::bigint;
		IF id = ANY (set_ids) THEN
			total_tokens := total_tokens + t;
			total_cost := total_cost + c;
		END IF;
		result := result || jsonb_strip_nulls(jsonb_build_object('nodeId', id, 'tokens', t, 'cost', c,
			'calls', (calls ->> id)::bigint * (mult ->> id)::bigint, 'onDearestPath', id = ANY (set_ids),
			'note', notes ->> id));
	END LOOP;
	RETURN jsonb_build_object('totalTokens', total_tokens, 'totalCost', total_cost, 'nodes', result);
END
$$;

-- The estimate of workflow `workflow_id` (its latest version) for `payload`.
CREATE FUNCTION flowent.estimate(workflow_id uuid, payload jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w record;
BEGIN
	SELECT x.nodes, x.edges INTO w FROM flowent.workflows x WHERE x.id = estimate.workflow_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', workflow_id USING ERRCODE = '42704';
	END IF;
	IF payload IS NULL OR jsonb_typeof(payload) <> 'object' THEN
		RAISE EXCEPTION 'estimate: payload must be a JSON object, got %', coalesce(jsonb_typeof(payload), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	RETURN flowent._estimate(w.nodes, w.edges, payload, 0);
END
$$;

-- POST /api/workflows/estimate {workflowId, payload}.
CREATE FUNCTION flowent.api_estimate(body jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT flowent._is_uuid(body ->> 'workflowId') THEN
		RAISE EXCEPTION 'workflowId must be a workflow id (a UUID), got %', coalesce(body -> 'workflowId', 'null'::jsonb)
			USING ERRCODE = '22023';
	END IF;
	RETURN flowent.estimate((body ->> 'workflowId')::uuid, coalesce(body -> 'payload', '{}'));
END
$$;

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
