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

-- Is an execution that started at started_at past retention: older than
-- older_than, or (NULL) than its workflow's retention (workflow_days; 0 days
-- keeps it)?
CREATE FUNCTION flowent._expired(started_at timestamptz, workflow_days integer, older_than interval) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN older_than IS NOT NULL THEN started_at < now() - older_than
		ELSE flowent._retention_days(workflow_days) > 0
			AND started_at < now() - make_interval(days => flowent._retention_days(workflow_days)) END
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
-- first. Returns the number of executions removed (children included).
-- A day whose executions all go is dropped whole, its two partitions
-- (15_partitions.sql); the rest go row by row, 10,000 trees per statement.
-- For flowent_admin (and superusers); the workers call it about every
-- flowent.prune_interval.
CREATE FUNCTION flowent.prune(older_than interval DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	removed bigint := 0;
	batch constant integer := 10000;
	v_cut timestamptz;
	after_at timestamptz := '-infinity';
	after_id uuid := '00000000-0000-0000-0000-000000000000';
	going uuid[];
	days record;			-- the partitions to drop: day[], lo[], hi[], executions[], node_logs[]
	part record;
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
	-- one prune at a time (a second would drop what the first folds), and
	-- no partitions made meanwhile (flowent._add_partitions)
	PERFORM pg_advisory_xact_lock(hashtext('flowent.history'));
	going := ARRAY(SELECT DISTINCT coalesce(e.root_execution_id, e.id) FROM flowent.workflow_executions e
		WHERE e.status IN ('pending', 'running', 'suspended'));
	-- the days of which everything goes: no execution of a tree still going,
	-- none a workflow keeps longer, no child of a tree of another day
	SELECT coalesce(array_agg(h.day ORDER BY h.day), '{}') AS day, coalesce(array_agg(h.lo ORDER BY h.day), '{}') AS lo,
		coalesce(array_agg(h.hi ORDER BY h.day), '{}') AS hi,
		coalesce(array_agg(h.executions ORDER BY h.day), '{}') AS executions,
		coalesce(array_agg(h.node_logs ORDER BY h.day), '{}') AS node_logs
	INTO days
	FROM flowent.history_partitions h
	WHERE h.day < (v_cut AT TIME ZONE 'UTC')::date AND h.node_logs IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e LEFT JOIN flowent.workflows w ON w.id = e.workflow_id
			WHERE e.id >= h.lo AND e.id < h.hi AND e.parent_execution_id IS NULL
				AND (e.status IN ('success', 'error', 'cancelled') AND e.id <> ALL (going)
					AND flowent._expired(e.started_at, w.retention_days, older_than)) IS NOT TRUE)
		AND NOT EXISTS (SELECT 1 FROM flowent.workflow_executions c
			WHERE c.id >= h.lo AND c.id < h.hi AND c.parent_execution_id IS NOT NULL
				AND (coalesce(c.root_execution_id, c.parent_execution_id) = ANY (going)
					OR EXISTS (SELECT 1 FROM flowent.workflow_executions r
						WHERE r.id = coalesce(c.root_execution_id, c.parent_execution_id) AND (r.id < h.lo OR r.id >= h.hi))));
	-- the rest row by row (the default partition and the days that cannot
	-- go whole), first: dropping a partition locks the tables until the end
	-- of the transaction
	FOR part IN SELECT 'flowent.workflow_executions_default'::regclass AS rel
		UNION ALL SELECT h.executions FROM flowent.history_partitions h
		WHERE h.day <= (v_cut AT TIME ZONE 'UTC')::date + 1 AND h.day <> ALL (days.day) LOOP
		after_at := '-infinity';
		after_id := '00000000-0000-0000-0000-000000000000';
		LOOP
			EXECUTE format($q$SELECT ARRAY(
				SELECT e.id FROM %s e
				LEFT JOIN flowent.workflows w ON w.id = e.workflow_id
				WHERE e.started_at < $1
					AND (e.started_at, e.id) > ($2, $3)
					AND e.parent_execution_id IS NULL
					AND e.status IN ('success', 'error', 'cancelled')
					AND flowent._expired(e.started_at, w.retention_days, $4)
				ORDER BY e.started_at, e.id
				LIMIT $5)$q$, part.rel) INTO cand USING v_cut, after_at, after_id, older_than, batch;
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
				-- children go with their parent (_delete_executions), the rest
				-- with their execution (_delete_execution_rows)
				DELETE FROM flowent.workflow_executions e WHERE e.id = ANY (roots);
				removed := removed + cardinality(ids);
				RAISE LOG 'flowent: pruned % executions (%)', cardinality(ids),
					coalesce('older than ' || older_than::text, 'retention of each workflow');
			END IF;
			EXIT WHEN cardinality(cand) < batch;
		END LOOP;
	END LOOP;
	IF cardinality(days.day) > 0 THEN
		removed := removed + flowent._drop_days(days.day, days.lo, days.hi, days.executions, days.node_logs);
	END IF;
	RETURN removed;
END
$$;
REVOKE ALL ON FUNCTION flowent.prune(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.prune(interval) TO flowent_admin;

-- Drop the partitions of days of which everything goes (flowent.prune):
-- their figures folded in first, with the children of their trees on later
-- days and what refers to their executions (the delete triggers do not see a
-- dropped partition).  Returns the executions removed; 0 when a partition is
-- in use (lock_timeout): the next prune drops them.
CREATE FUNCTION flowent._drop_days(day date[], lo uuid[], hi uuid[], executions regclass[], node_logs regclass[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	removed bigint := 0;
	n bigint;
	one_day boolean;		-- all its executions started on its day
	kids uuid[];
	lock_wait constant text := current_setting('lock_timeout');
BEGIN
	FOR i IN 1 .. cardinality(day) LOOP
		EXECUTE format('SELECT count(*), (min(started_at) AT TIME ZONE ''UTC'')::date = $1
			AND (max(started_at) AT TIME ZONE ''UTC'')::date = $1 FROM %s', executions[i]) INTO n, one_day USING day[i];
		kids := ARRAY(SELECT c.id FROM flowent.workflow_executions c
			WHERE c.parent_execution_id IS NOT NULL AND c.id >= hi[i]
				AND c.root_execution_id >= lo[i] AND c.root_execution_id < hi[i]);
		PERFORM flowent._fold_stats(NULL, lo[i], hi[i], CASE WHEN one_day THEN day[i] END);
		IF cardinality(kids) > 0 THEN
			PERFORM flowent._fold_stats(kids);
			DELETE FROM flowent.workflow_executions e WHERE e.id = ANY (kids);
		END IF;
		DELETE FROM flowent.workflow_approval_requests a WHERE a.execution_id >= lo[i] AND a.execution_id < hi[i];
		DELETE FROM flowent.timers t WHERE t.execution_id >= lo[i] AND t.execution_id < hi[i];
		DELETE FROM flowent.run_queue q WHERE q.execution_id >= lo[i] AND q.execution_id < hi[i];
		removed := removed + n + cardinality(kids);
		RAISE LOG 'flowent: pruned the history of % (% executions)', day[i], n + cardinality(kids);
	END LOOP;
	-- a partition in use is not waited for long: every writer would queue
	-- behind, and a run could wait for this in turn (_lock_wait)
	PERFORM set_config('lock_timeout', flowent._lock_wait(), true);
	FOR i IN 1 .. cardinality(day) LOOP
		EXECUTE format('DROP TABLE %s, %s', executions[i], node_logs[i]);
	END LOOP;
	PERFORM set_config('lock_timeout', lock_wait, true);
	RETURN removed;
EXCEPTION WHEN lock_not_available THEN
	RAISE LOG 'flowent: the history of % is in use; the next prune removes it', day;
	RETURN 0;
END
$$;
REVOKE ALL ON FUNCTION flowent._drop_days(date[], uuid[], uuid[], regclass[], regclass[]) FROM PUBLIC;

-- The percentile p (0 to 1) of the values v that occur c times each, as
-- percentile_cont(p) would give it over all of them, to 0.1 (NULL values
-- do not count).  The rollups count durations per value: a hash
-- aggregate, where percentile_cont sorts every row of a group.
CREATE FUNCTION flowent._percentile(v integer[], c bigint[], p float8) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	WITH h AS (SELECT x.v, sum(x.c) OVER (ORDER BY x.v) AS upto, sum(x.c) OVER () AS n
		FROM unnest(v, c) AS x(v, c) WHERE x.v IS NOT NULL),
	pos AS (SELECT p * (max(h.n) - 1)::float8 AS pos FROM h HAVING max(h.n) > 0)
	SELECT round((lo.v + (pos.pos - floor(pos.pos)) * (hi.v - lo.v))::numeric, 1)
	FROM pos,
		LATERAL (SELECT h.v::float8 AS v FROM h WHERE h.upto > floor(pos.pos) ORDER BY h.v LIMIT 1) lo,
		LATERAL (SELECT h.v::float8 AS v FROM h WHERE h.upto > ceil(pos.pos) ORDER BY h.v LIMIT 1) hi
$$;

-- Fold executions into the rollups: those of ids, or (ids NULL) those with
-- ids from lo to before hi (a day's partition).  log_day: every one of them
-- started on that day, so their node logs are counted without reading the
-- executions again.
CREATE FUNCTION flowent._fold_stats(ids uuid[], lo uuid DEFAULT NULL, hi uuid DEFAULT NULL, log_day date DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp SET work_mem = '64MB' AS $$
DECLARE
	-- planned with the values, so that a range reads one partition
	which constant text := CASE WHEN ids IS NOT NULL THEN 'e.id = ANY ($1)' ELSE 'e.id >= $2 AND e.id < $3' END;
BEGIN
	EXECUTE format($q$
	INSERT INTO flowent.daily_stats AS d (workflow_id, day, executions, successes, errors, cancelled,
		p50_ms, p95_ms, tokens, cost_usd)
	SELECT h.workflow_id, h.day, sum(h.n), sum(h.successes), sum(h.errors), sum(h.cancelled),
		flowent._percentile(array_agg(h.duration_ms), array_agg(h.n), 0.5),
		flowent._percentile(array_agg(h.duration_ms), array_agg(h.n), 0.95),
		sum(h.tokens), sum(h.cost_usd)
	FROM (SELECT e.workflow_id, (e.started_at AT TIME ZONE 'UTC')::date AS day, e.duration_ms, count(*) AS n,
			count(*) FILTER (WHERE e.status = 'success') AS successes, count(*) FILTER (WHERE e.status = 'error') AS errors,
			count(*) FILTER (WHERE e.status = 'cancelled') AS cancelled,
			coalesce(sum(e.total_tokens), 0) AS tokens, coalesce(sum(e.total_cost), 0) AS cost_usd
		FROM flowent.workflow_executions e
		WHERE %s AND e.workflow_id IS NOT NULL
		GROUP BY 1, 2, 3) h
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
		cost_usd = d.cost_usd + EXCLUDED.cost_usd
	$q$, which) USING ids, lo, hi;
	EXECUTE format($q$
	INSERT INTO flowent.daily_node_stats AS d (workflow_id, day, node_id, node_type, runs, errors, p95_ms)
	SELECT h.workflow_id, h.day, h.node_id, max(h.node_type), sum(h.n), sum(h.errors),
		flowent._percentile(array_agg(h.duration_ms), array_agg(h.n), 0.95)
	FROM (SELECT %s, l.node_id, l.duration_ms, max(l.node_type) AS node_type, count(*) AS n,
			count(*) FILTER (WHERE l.status = 'error') AS errors
		FROM flowent.workflow_node_logs l %s
		WHERE %s AND l.status IN ('success', 'error')
		GROUP BY 1, 2, 3, 4) h
	GROUP BY 1, 2, 3
	ON CONFLICT (workflow_id, day, node_id) DO UPDATE SET
		p95_ms = round((d.p95_ms * d.runs + EXCLUDED.p95_ms * EXCLUDED.runs) / (d.runs + EXCLUDED.runs), 1),
		node_type = EXCLUDED.node_type,
		runs = d.runs + EXCLUDED.runs,
		errors = d.errors + EXCLUDED.errors
	$q$,
		CASE WHEN log_day IS NULL THEN $s$e.workflow_id, (e.started_at AT TIME ZONE 'UTC')::date AS day$s$
			ELSE 'l.workflow_id, $4::date AS day' END,
		CASE WHEN log_day IS NULL THEN 'JOIN flowent.workflow_executions e ON e.id = l.execution_id' ELSE '' END,
		CASE WHEN log_day IS NULL THEN which || ' AND ' || replace(which, 'e.id', 'l.execution_id') || ' AND e.workflow_id IS NOT NULL'
			ELSE replace(which, 'e.id', 'l.execution_id') || ' AND l.workflow_id IS NOT NULL' END)
	USING ids, lo, hi, log_day;
END
$$;
REVOKE ALL ON FUNCTION flowent._fold_stats(uuid[], uuid, uuid, date) FROM PUBLIC;

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
