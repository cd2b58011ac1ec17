-- Flowent 0.10 -> 0.11: budgets that concurrent runs cannot spend past
-- (flowent.set_budget, flowent.budget_status, reservations settled with
-- each call's real usage: src/pg/budget.c), and per-run caps
-- (options.maxCostUsd, maxTokens).
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.11'" to load this file. \quit

-- 01_schema.sql: what a budget's period has spent and holds
ALTER TABLE flowent.budgets
	ADD COLUMN spent_usd numeric(14,6) NOT NULL DEFAULT 0,
	ADD COLUMN spent_tokens bigint NOT NULL DEFAULT 0,
	ADD COLUMN reserved_usd numeric(14,6) NOT NULL DEFAULT 0,
	ADD COLUMN reserved_tokens bigint NOT NULL DEFAULT 0,
	ADD COLUMN period_start timestamptz NOT NULL DEFAULT '-infinity',
	ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- 16_budgets.sql, as a fresh install has it
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flowent_budget_admin') THEN
		CREATE ROLE flowent_budget_admin NOLOGIN;
	END IF;
END
$$;

-- Administrators read every budget (users their own: 03_rls.sql).
CREATE POLICY budgets_admin_select ON flowent.budgets FOR SELECT
	USING (flowent._is_admin(flowent.current_user_id()));

-- Calls in flight, each held against its user's budgets and its run's caps.
CREATE TABLE flowent.budget_reservations (
	id bigserial PRIMARY KEY,
	user_id varchar(255) NOT NULL,
	execution_id uuid NOT NULL,
	node_id text NOT NULL,
	iteration text NOT NULL DEFAULT '',
	usd numeric(14,6) NOT NULL,
	tokens bigint NOT NULL,
	held_on_user boolean NOT NULL,	-- false: skipBudgetCheck, held on the run's caps only
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (execution_id, node_id, iteration)
);
ALTER TABLE flowent.budget_reservations ENABLE ROW LEVEL SECURITY;
CREATE POLICY budget_reservations_select ON flowent.budget_reservations FOR SELECT
	USING (user_id = flowent.current_user_id() OR flowent._is_admin(flowent.current_user_id()));
GRANT SELECT ON flowent.budget_reservations TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('flowent.budget_reservations', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.budget_reservations_id_seq', '');

-- Where the period that holds `at` begins (UTC): a day, an ISO week (from
-- Monday), a month; a total budget never starts over.
CREATE FUNCTION flowent._period_start(period text, at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE period
		WHEN 'total' THEN '-infinity'::timestamptz
		ELSE date_trunc(period, at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
	END
$$;

-- The most a call of `model` with these token counts can cost, rounded up
-- to the cent's ten-thousandth the costs are kept in (0 for a model
-- without a price).
CREATE FUNCTION flowent._max_cost(model text, prompt_tokens bigint, completion_tokens bigint) RETURNS numeric
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT (ceil((p.prompt_per_1k * $2 + p.completion_per_1k * $3) * 1000) / 1000000)::numeric(14,6)
		FROM flowent.model_price p WHERE p.model = $1), 0)
$$;

-- A budget row brought into the current period: a new period starts with
-- nothing spent (what is in flight stays held).
CREATE FUNCTION flowent._budget_roll(b flowent.budgets) RETURNS flowent.budgets
LANGUAGE plpgsql STABLE AS $$
DECLARE
	ps timestamptz := flowent._period_start(b.period, now());
BEGIN
	IF b.period_start < ps THEN
		b.spent_usd := 0;
		b.spent_tokens := 0;
		b.period_start := ps;
	END IF;
	RETURN b;
END
$$;

-- Add to what every budget of user uid has spent and holds, in its current period.
CREATE FUNCTION flowent._budget_add(uid text, spent_usd numeric, spent_tokens bigint,
	held_usd numeric, held_tokens bigint) RETURNS void
LANGUAGE sql AS $$
	UPDATE flowent.budgets x SET
		spent_usd = CASE WHEN x.period_start < flowent._period_start(x.period, now()) THEN 0 ELSE x.spent_usd END + $2,
		spent_tokens = CASE WHEN x.period_start < flowent._period_start(x.period, now()) THEN 0 ELSE x.spent_tokens END + $3,
		period_start = greatest(x.period_start, flowent._period_start(x.period, now())),
		reserved_usd = greatest(x.reserved_usd + $4, 0),
		reserved_tokens = greatest(x.reserved_tokens + $5, 0),
		updated_at = now()
	WHERE x.user_id = $1
$$;

-- Reserve a call's most (usd, tokens) for node `node` of an execution:
-- against the run's caps (run_usd, run_tokens: what the run has spent so
-- far, besides its reservations), then, unless skip_user, against every
-- budget of the user. Answers {ok: true, id} (id null: nothing to hold),
-- or {ok: false, scope: "run"|"user", period, spent, limit, unit} saying
-- which limit the call would pass. A reservation of the same node left by
-- a send that never came back counts as spent in full before the new one.
CREATE FUNCTION flowent._budget_reserve(uid text, execution uuid, node text, iter text,
	usd numeric, tokens bigint, skip_user boolean,
	cap_usd numeric, cap_tokens bigint, run_usd numeric, run_tokens bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	held_usd numeric;
	held_tokens bigint;
	b flowent.budgets;
	n integer := 0;
	stale bigint;
	answer jsonb;
BEGIN
	SELECT r.id INTO stale FROM flowent.budget_reservations r
	WHERE r.execution_id = execution AND r.node_id = node AND r.iteration = iter;
	IF stale IS NOT NULL THEN
		PERFORM flowent._budget_settle(stale, NULL, NULL);
	END IF;
	IF cap_usd IS NOT NULL OR cap_tokens IS NOT NULL THEN
		SELECT coalesce(sum(r.usd), 0), coalesce(sum(r.tokens), 0) INTO held_usd, held_tokens
		FROM flowent.budget_reservations r WHERE r.execution_id = execution;
		IF cap_usd IS NOT NULL AND run_usd + held_usd + usd > cap_usd THEN
			RETURN jsonb_build_object('ok', false, 'scope', 'run', 'unit', 'usd',
				'spent', run_usd + held_usd, 'limit', cap_usd, 'needed', usd);
		END IF;
		IF cap_tokens IS NOT NULL AND run_tokens + held_tokens + tokens > cap_tokens THEN
			RETURN jsonb_build_object('ok', false, 'scope', 'run', 'unit', 'tokens',
				'spent', run_tokens + held_tokens, 'limit', cap_tokens, 'needed', tokens);
		END IF;
	END IF;
	IF NOT skip_user THEN
		-- the lock that makes check and hold one step for all of the user's runs
		FOR b IN SELECT * FROM flowent.budgets x WHERE x.user_id = uid ORDER BY x.period FOR UPDATE LOOP
			b := flowent._budget_roll(b);
			n := n + 1;
			IF b.limit_usd IS NOT NULL AND b.spent_usd + b.reserved_usd + usd > b.limit_usd THEN
				RETURN jsonb_build_object('ok', false, 'scope', 'user', 'period', b.period, 'unit', 'usd',
					'spent', b.spent_usd, 'reserved', b.reserved_usd, 'limit', b.limit_usd, 'needed', usd);
			END IF;
			IF b.limit_tokens IS NOT NULL AND b.spent_tokens + b.reserved_tokens + tokens > b.limit_tokens THEN
				RETURN jsonb_build_object('ok', false, 'scope', 'user', 'period', b.period, 'unit', 'tokens',
					'spent', b.spent_tokens, 'reserved', b.reserved_tokens, 'limit', b.limit_tokens, 'needed', tokens);
			END IF;
		END LOOP;
	END IF;
	IF n = 0 AND cap_usd IS NULL AND cap_tokens IS NULL THEN
		RETURN '{"ok": true, "id": null}';
	END IF;
	IF n > 0 THEN
		PERFORM flowent._budget_add(uid, 0, 0, usd, tokens);
	END IF;
	INSERT INTO flowent.budget_reservations AS x (user_id, execution_id, node_id, iteration, usd, tokens, held_on_user)
	VALUES (uid, execution, node, iter, usd, tokens, n > 0)
	RETURNING jsonb_build_object('ok', true, 'id', x.id) INTO answer;
	RETURN answer;
END
$$;

-- Settle reservation `id` with the call's real usage (NULL: it never
-- answered, so the whole reservation counts as spent). Answers whether
-- there was one.
CREATE FUNCTION flowent._budget_settle(id bigint, usd numeric, tokens bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	r flowent.budget_reservations;
BEGIN
	DELETE FROM flowent.budget_reservations x WHERE x.id = _budget_settle.id RETURNING * INTO r;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF r.held_on_user THEN
		PERFORM flowent._budget_add(r.user_id, coalesce(usd, r.usd), coalesce(tokens, r.tokens), -r.usd, -r.tokens);
	END IF;
	RETURN true;
END
$$;

-- Settle the reservation of node `node` (in iteration iter) of an execution, if it has one.
CREATE FUNCTION flowent._budget_settle_node(execution uuid, node text, iter text, usd numeric, tokens bigint)
RETURNS boolean
LANGUAGE sql AS $$
	SELECT coalesce((SELECT flowent._budget_settle(r.id, $4, $5) FROM flowent.budget_reservations r
		WHERE r.execution_id = $1 AND r.node_id = $2 AND r.iteration = $3), false)
$$;

-- Reservations whose execution is over, or gone, and that no response
-- settled: spent in full. The workers call it every few seconds.
CREATE FUNCTION flowent._budget_sweep() RETURNS integer
LANGUAGE sql AS $$
	SELECT count(flowent._budget_settle(r.id, NULL, NULL))::integer
	FROM flowent.budget_reservations r
	WHERE r.created_at < now() - interval '10 seconds'
	  AND NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e
		WHERE e.id = r.execution_id AND e.status IN ('pending', 'running', 'suspended'))
$$;

-- Set (or, with both limits NULL, remove) user uid's budget for a period:
-- day, week, month or total. For administrators (a superuser or a member
-- of flowent_admin); everyone reads their own in flowent.budget_status.
CREATE FUNCTION flowent.set_budget(user_id text, period text, limit_usd numeric, limit_tokens bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me text := flowent._caller_id();
BEGIN
	IF NOT flowent._is_admin(me) THEN
		RAISE EXCEPTION 'user "%" may not set budgets: an administrator (superuser or member of flowent_admin) sets them', me
			USING ERRCODE = '42501', HINT = 'Read your own in flowent.budget_status.';
	END IF;
	IF user_id IS NULL OR user_id = '' THEN
		RAISE EXCEPTION 'set_budget: user_id must name a user' USING ERRCODE = '22023';
	END IF;
	IF period IS NULL OR period NOT IN ('day', 'week', 'month', 'total') THEN
		RAISE EXCEPTION 'set_budget: period must be day, week, month or total, got %', coalesce(period, 'NULL')
			USING ERRCODE = '22023';
	END IF;
	IF limit_usd < 0 OR limit_tokens < 0 THEN
		RAISE EXCEPTION 'set_budget: limits must not be negative, got % USD and % tokens', limit_usd, limit_tokens
			USING ERRCODE = '22023';
	END IF;
	IF limit_usd IS NULL AND limit_tokens IS NULL THEN
		DELETE FROM flowent.budgets b WHERE b.user_id = set_budget.user_id AND b.period = set_budget.period;
		RETURN jsonb_build_object('userId', user_id, 'period', period, 'removed', true);
	END IF;
	INSERT INTO flowent.budgets AS b (user_id, period, limit_usd, limit_tokens, period_start)
	VALUES (set_budget.user_id, set_budget.period, limit_usd, limit_tokens, flowent._period_start(set_budget.period, now()))
	ON CONFLICT ON CONSTRAINT budgets_user_id_period_key DO UPDATE SET limit_usd = EXCLUDED.limit_usd,
		limit_tokens = EXCLUDED.limit_tokens, updated_at = now();
	RETURN (SELECT to_jsonb(s) FROM flowent.budget_status s
		WHERE s.user_id = set_budget.user_id AND s.period = set_budget.period);
END
$$;

-- Each budget as it stands now: spent in the current period, held by calls
-- in flight, and what remains (NULL: no limit of that unit).
CREATE VIEW flowent.budget_status WITH (security_invoker = true) AS
	SELECT b.user_id, b.period, r.period_start, b.limit_usd, b.limit_tokens,
		r.spent_usd, r.spent_tokens, b.reserved_usd, b.reserved_tokens,
		CASE WHEN b.limit_usd IS NOT NULL THEN greatest(b.limit_usd - r.spent_usd - b.reserved_usd, 0) END AS remaining_usd,
		CASE WHEN b.limit_tokens IS NOT NULL THEN greatest(b.limit_tokens - r.spent_tokens - b.reserved_tokens, 0) END
			AS remaining_tokens,
		b.updated_at
	FROM flowent.budgets b, LATERAL flowent._budget_roll(b) r;
GRANT SELECT ON flowent.budget_status TO PUBLIC;

-- 17_dashboard_api.sql, as a fresh install has it
CREATE FUNCTION flowent.api_table_triggers(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
	PERFORM 1 FROM flowent.workflows w WHERE w.id = api_table_triggers.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_table_triggers.id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object('triggers', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t."table"::text), '[]'::jsonb)
		FROM flowent.table_triggers t WHERE t.workflow = api_table_triggers.id));
END
$$;

-- 18_estimate.sql, as a fresh install has it
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
