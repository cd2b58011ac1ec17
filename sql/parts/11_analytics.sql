
-- ===========================================================================
-- Analytics (seed §3.1 /pipelines/analytics, §4.1 GET /api/pipelines/analytics,
-- release 0.5): views over executions and node logs, and the route's
-- function. The views are security_invoker: the row-level security of
-- 03_rls.sql applies to whoever queries them, so every user counts only the
-- executions they see (their own runs and the runs of workflows they edit).
-- Days are UTC days. Durations are the executions' and nodes' duration_ms;
-- percentiles (p50, p95: percentile_cont, in ms, one decimal) and success
-- rates (successes / finished runs, four decimals) count finished runs only
-- (success, error, cancelled); pending, running and suspended ones count as
-- executions.
-- ===========================================================================

-- One row per execution: its UTC day, status and figures.
CREATE VIEW flowent.analytics_executions WITH (security_invoker = true) AS
SELECT e.id AS execution_id, e.workflow_id, e.user_id, e.started_at,
	(e.started_at AT TIME ZONE 'UTC')::date AS day,
	e.status, e.status IN ('success', 'error', 'cancelled') AS finished,
	e.duration_ms, e.total_tokens AS tokens, e.total_cost AS cost_usd
FROM flowent.workflow_executions e;

-- analytics_daily (one row per UTC day and workflow) is in
-- 13_retention.sql: it adds the rollups of pruned days to these rows.

-- One row per finished node run (a node log with status success or error:
-- one per node and loop iteration), with its execution's day and start.
CREATE VIEW flowent.analytics_nodes WITH (security_invoker = true) AS
SELECT l.execution_id, x.workflow_id, x.day, x.started_at AS execution_started_at,
	l.node_id, l.node_type, l.iteration, l.status, l.duration_ms, l.attempts
FROM flowent.workflow_node_logs l
JOIN flowent.analytics_executions x ON x.execution_id = l.execution_id
WHERE l.status IN ('success', 'error');

GRANT SELECT ON flowent.analytics_executions, flowent.analytics_nodes TO PUBLIC;

-- A UTC day given as a JSON string: an ISO date, or an ISO timestamp (its
-- UTC day; without an offset it is UTC). JSON null or absent gives dflt.
CREATE FUNCTION flowent._json_day(v jsonb, field text, dflt date) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
	s text := flowent._json_string(v, field);
BEGIN
	IF s IS NULL THEN
		RETURN dflt;
	END IF;
	IF s ~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$' THEN
		BEGIN
			IF s ~ '(Z|[+-]\d{2}(:?\d{2})?)$' AND length(s) > 10 THEN
				RETURN (s::timestamptz AT TIME ZONE 'UTC')::date;
			END IF;
			RETURN s::timestamp::date;
		EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
			NULL;	-- a month 13 and the like: as any other bad value below
		END;
	END IF;
	RAISE EXCEPTION '% must be an ISO date (YYYY-MM-DD) or timestamp, got %', field, v::text
		USING ERRCODE = '22023';
END
$$;

-- GET /api/pipelines/analytics: params {from?, to? (ISO dates or timestamps:
-- their UTC days, both included; default the last 30 days up to today),
-- workflowId?} → {range: {from, to}, totals: {...}, daily: [...],
-- slowest_nodes: [...] (top 10 by p95), failing_nodes: [...] (top 10 by
-- errors)} over the executions the current user sees that started in the
-- range (seed §3.1 charts). At most 366 days.
-- Under row-level security the planner cannot estimate how many executions
-- a user sees and picks, for the node statistics, a nested loop: one index
-- scan of node logs per execution, each log checked by its own policy
-- lookup (~28 µs per execution: 5 s for 66,000). Without nested loops it
-- hashes the visible executions once and joins the node logs to them (~2 µs
-- per node log), and jit stays off as in 08_gateway.sql. With 100,000
-- executions and 400,000 node logs: 30 days (22,000 visible) 0.2-0.3 s.
CREATE FUNCTION flowent.api_analytics(params jsonb DEFAULT '{}') RETURNS jsonb
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
