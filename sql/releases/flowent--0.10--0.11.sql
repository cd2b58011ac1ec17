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
