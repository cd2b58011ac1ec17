-- Flowent 0.8 -> 0.9: history partitioned by UTC day, so that pruning drops
-- the partitions of days past retention instead of deleting their rows.
-- workflow_executions and workflow_node_logs are made again as partitioned
-- tables and every row of the old ones moves over: the executions of each
-- day (by their time-ordered ids) into that day's partitions, the rest into
-- the default ones.  Foreign keys to executions give way to the trigger
-- that deletes what refers to them.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.9'" to load this file. \quit

-- The old tables step aside; what depends on them is made again below.
ALTER TABLE flowent.workflow_approval_requests DROP CONSTRAINT workflow_approval_requests_execution_id_fkey;
ALTER TABLE flowent.run_queue DROP CONSTRAINT run_queue_execution_id_fkey;
ALTER TABLE flowent.timers DROP CONSTRAINT timers_execution_id_fkey;
DROP TRIGGER delete_node_logs ON flowent.workflow_executions;
DROP TRIGGER delete_child_executions ON flowent.workflow_executions;
DROP FUNCTION flowent._delete_node_logs();
DROP POLICY executions_select ON flowent.workflow_executions;
DROP POLICY node_logs_select ON flowent.workflow_node_logs;
DROP POLICY approvals_select ON flowent.workflow_approval_requests;
ALTER TABLE flowent.workflow_executions RENAME TO workflow_executions_0_8;
ALTER TABLE flowent.workflow_node_logs RENAME TO workflow_node_logs_0_8;
DO $$
DECLARE
	i record;
BEGIN
	FOR i IN SELECT x.indexrelid::regclass AS idx, c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
		WHERE x.indrelid IN ('flowent.workflow_executions_0_8'::regclass, 'flowent.workflow_node_logs_0_8'::regclass) LOOP
		EXECUTE format('ALTER INDEX %s RENAME TO %I', i.idx, i.relname || '_0_8');
	END LOOP;
END
$$;

CREATE TABLE flowent.workflow_executions (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	workflow_id uuid,			-- no foreign key: see flowent._delete_executions()
	workflow_version integer NOT NULL,
	input jsonb,
	output jsonb,
	logs jsonb DEFAULT '[]',
	status flowent.execution_status DEFAULT 'pending',
	error text,
	error_code text,
	error_node_id text,
	started_at timestamptz,
	completed_at timestamptz,
	duration_ms integer,
	user_id varchar(255) NOT NULL,
	is_test boolean DEFAULT false,
	mode text NOT NULL DEFAULT 'sync' CHECK (mode IN ('sync', 'async')),
	trigger_type text NOT NULL DEFAULT 'manual',
	options jsonb NOT NULL DEFAULT '{}',
	variables jsonb NOT NULL DEFAULT '{}',
	parent_execution_id uuid,
	parent_node_id text,
	rerun_of uuid,
	total_cost numeric(12,6) NOT NULL DEFAULT 0,
	total_tokens integer NOT NULL DEFAULT 0,
	seq integer NOT NULL DEFAULT 0,
	cancel_reason text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	-- the rest of the stored execution context (DESIGN Appendix B)
	run_as text,
	depth integer NOT NULL DEFAULT 0,
	root_execution_id uuid,
	credential_names text[] NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (id);
CREATE TABLE flowent.workflow_executions_default PARTITION OF flowent.workflow_executions (PRIMARY KEY (id)) DEFAULT;
CREATE INDEX ON flowent.workflow_executions_default (workflow_id, started_at DESC);
CREATE INDEX ON flowent.workflow_executions_default (parent_execution_id) WHERE parent_execution_id IS NOT NULL;
CREATE INDEX ON flowent.workflow_executions_default (status) WHERE status IN ('pending', 'running', 'suspended');
-- the newest executions of all a user sees (flowent.api_recent_executions)
CREATE INDEX ON flowent.workflow_executions_default (started_at DESC);

-- No foreign keys here: these rows are written only by the engine, in
-- bulk, and per-row RI checks were the largest cost of a run.  Deleting an
-- execution removes its logs through the statement trigger below.
CREATE TABLE flowent.workflow_node_logs (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	execution_id uuid NOT NULL,
	workflow_id uuid,
	node_id varchar(100) NOT NULL,
	node_type varchar(50) NOT NULL,
	node_name varchar(255),
	status flowent.node_log_status DEFAULT 'started',
	input jsonb,
	output jsonb,
	error text,
	error_code text,
	handle text,
	iteration text COLLATE "C" NOT NULL DEFAULT '',	-- machine-made; "C": prefix ranges
	attempts integer NOT NULL DEFAULT 1,
	seq integer NOT NULL,
	started_at timestamptz DEFAULT now(),
	completed_at timestamptz,
	duration_ms integer,
	tokens_used integer,
	cost_usd numeric(10,6)
) PARTITION BY RANGE (execution_id);
CREATE TABLE flowent.workflow_node_logs_default PARTITION OF flowent.workflow_node_logs
	(PRIMARY KEY (execution_id, id)) DEFAULT;
-- A continuation reads the rows of one scope (top level or one loop
-- iteration) and the nodes that wait; neither may cost a scan of all the
-- rows of an execution, which a loop makes large.
CREATE INDEX ON flowent.workflow_node_logs_default (execution_id, iteration, seq);
CREATE INDEX ON flowent.workflow_node_logs_default (execution_id, node_id) WHERE status = 'waiting';

-- What refers to an execution goes with it: its node logs, approvals,
-- timers and queue rows.  A statement trigger, not foreign keys: a day's
-- partition of executions is dropped whole when it is pruned, which a
-- foreign key to it would forbid, and the node logs have none (above).
CREATE FUNCTION flowent._delete_execution_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	DELETE FROM flowent.workflow_node_logs l USING gone g WHERE l.execution_id = g.id;
	DELETE FROM flowent.workflow_approval_requests a USING gone g WHERE a.execution_id = g.id;
	DELETE FROM flowent.timers t USING gone g WHERE t.execution_id = g.id;
	DELETE FROM flowent.run_queue q USING gone g WHERE q.execution_id = g.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER delete_execution_rows AFTER DELETE ON flowent.workflow_executions
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION flowent._delete_execution_rows();

CREATE TRIGGER delete_child_executions AFTER DELETE ON flowent.workflow_executions
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION flowent._delete_executions();

ALTER TABLE flowent.workflow_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.workflow_node_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY executions_select ON flowent.workflow_executions FOR SELECT
	USING (user_id = flowent.current_user_id()
		OR EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id
			AND flowent._can_edit(w.user_id, w.workspace_id, flowent.current_user_id())));

CREATE POLICY node_logs_select ON flowent.workflow_node_logs FOR SELECT
	USING (EXISTS (SELECT 1 FROM flowent.workflow_executions e WHERE e.id = execution_id));

CREATE POLICY approvals_select ON flowent.workflow_approval_requests FOR SELECT
	USING (assigned_user_id = flowent.current_user_id()
		OR EXISTS (SELECT 1 FROM flowent.workflow_executions e WHERE e.id = execution_id));

GRANT SELECT ON flowent.workflow_executions, flowent.workflow_node_logs,
	flowent.workflow_approval_requests TO PUBLIC;


CREATE OR REPLACE VIEW flowent.analytics_executions WITH (security_invoker = true) AS
SELECT e.id AS execution_id, e.workflow_id, e.user_id, e.started_at,
	(e.started_at AT TIME ZONE 'UTC')::date AS day,
	e.status, e.status IN ('success', 'error', 'cancelled') AS finished,
	e.duration_ms, e.total_tokens AS tokens, e.total_cost AS cost_usd
FROM flowent.workflow_executions e;

-- analytics_daily (one row per UTC day and workflow) is in
-- 13_retention.sql: it adds the rollups of pruned days to these rows.

-- One row per finished node run (a node log with status success or error:
-- one per node and loop iteration), with its execution's day and start.
CREATE OR REPLACE VIEW flowent.analytics_nodes WITH (security_invoker = true) AS
SELECT l.execution_id, x.workflow_id, x.day, x.started_at AS execution_started_at,
	l.node_id, l.node_type, l.iteration, l.status, l.duration_ms, l.attempts
FROM flowent.workflow_node_logs l
JOIN flowent.analytics_executions x ON x.execution_id = l.execution_id
WHERE l.status IN ('success', 'error');


-- History: the day partitions are tables of their own (pg_dump keeps them
-- and their rows, 15_partitions.sql); the default partitions are the
-- extension's.
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_executions_default', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_node_logs_default', '');

-- Is an execution that started at started_at past retention: older than
-- older_than, or (NULL) than its workflow's retention (workflow_days; 0 days
-- keeps it)?
CREATE FUNCTION flowent._expired(started_at timestamptz, workflow_days integer, older_than interval) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN older_than IS NOT NULL THEN started_at < now() - older_than
		ELSE flowent._retention_days(workflow_days) > 0
			AND started_at < now() - make_interval(days => flowent._retention_days(workflow_days)) END
$$;


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
CREATE OR REPLACE FUNCTION flowent.prune(older_than interval DEFAULT NULL) RETURNS bigint
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
DROP FUNCTION flowent._fold_stats(uuid[]);
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


-- History partitions (release 0.9): one partition of workflow_executions
-- and one of workflow_node_logs per UTC day, made ahead of time by the
-- workers (flowent._add_partitions) and dropped whole by flowent.prune()
-- once everything in them is past retention (13_retention.sql).  They are
-- tables of their own, not the extension's: pg_dump keeps them with their
-- rows, and a restore attaches them again.

-- The smallest version-7 uuid of a UTC day: the day's first millisecond in
-- its first 48 bits, zeros after.
CREATE FUNCTION flowent._day_bound(day date) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.encode(pg_catalog.substr(pg_catalog.int8send(
		(pg_catalog.date_part('epoch', day::timestamp) * 1000)::bigint), 3, 6)
		|| '\x00000000000000000000'::bytea, 'hex')::uuid
$$;

-- The UTC day of a version-7 uuid (NULL for other versions: the random
-- ids of releases before 0.3).
CREATE FUNCTION flowent._id_day(id uuid) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE WHEN pg_catalog.substr(id::text, 15, 1) = '7' THEN
		(pg_catalog.to_timestamp(('x' || pg_catalog.substr(pg_catalog.replace(id::text, '-', ''), 1, 12))::bit(48)::bigint
			/ 1000.0) AT TIME ZONE 'UTC')::date END
$$;

-- The day partitions there are, oldest first, with their key ranges.
CREATE VIEW flowent.history_partitions AS
SELECT pg_catalog.to_date(pg_catalog.substr(c.relname, 21), 'YYYYMMDD') AS day,
	c.oid::regclass AS executions,
	pg_catalog.to_regclass('flowent.workflow_node_logs_' || pg_catalog.substr(c.relname, 21)) AS node_logs,
	flowent._day_bound(pg_catalog.to_date(pg_catalog.substr(c.relname, 21), 'YYYYMMDD')) AS lo,
	flowent._day_bound(pg_catalog.to_date(pg_catalog.substr(c.relname, 21), 'YYYYMMDD') + 1) AS hi
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'flowent.workflow_executions'::regclass AND c.relname ~ '^workflow_executions_[0-9]{8}$';
REVOKE ALL ON flowent.history_partitions FROM PUBLIC;
GRANT SELECT ON flowent.history_partitions TO flowent_admin;

-- How long the history's maintenance waits for a strong lock: under 40 %
-- of deadlock_timeout.  Taking a lock on both tables (executions, then node
-- logs) can close a cycle with a run that holds the second and waits for
-- the first; whoever waits past deadlock_timeout is cancelled, and that must
-- be the maintenance (it tries again later), never the run.
CREATE FUNCTION flowent._lock_wait() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT greatest(1, (pg_catalog.date_part('epoch', pg_catalog.current_setting('deadlock_timeout')::interval) * 400)::integer)::text || 'ms'
$$;

-- Make the partitions of a day (false: they were there).  Rows of the day
-- that the default partitions hold move into them, while no one reads or
-- writes history.  Waits for locks as long as _lock_wait() says (then:
-- lock_not_available).
CREATE FUNCTION flowent._add_partition(day date) RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	lo constant uuid := flowent._day_bound(day);
	hi constant uuid := flowent._day_bound(day + 1);
	ex constant text := 'workflow_executions_' || to_char(day, 'YYYYMMDD');
	nl constant text := 'workflow_node_logs_' || to_char(day, 'YYYYMMDD');
	lock_wait constant text := current_setting('lock_timeout');
	moving boolean;
BEGIN
	IF to_regclass('flowent.' || ex) IS NOT NULL THEN
		RETURN false;
	END IF;
	PERFORM set_config('lock_timeout', flowent._lock_wait(), true);
	moving := EXISTS (SELECT 1 FROM flowent.workflow_executions_default e WHERE e.id >= lo AND e.id < hi)
		OR EXISTS (SELECT 1 FROM flowent.workflow_node_logs_default l WHERE l.execution_id >= lo AND l.execution_id < hi);
	IF moving THEN
		-- readers too: a query planned with the partitions before this one,
		-- and reading after the move, would miss the rows that moved
		LOCK TABLE flowent.workflow_executions, flowent.workflow_node_logs IN ACCESS EXCLUSIVE MODE;
	END IF;
	-- the default partitions' columns, constraints and indexes (01_schema.sql)
	EXECUTE format('CREATE TABLE flowent.%I (LIKE flowent.workflow_executions_default INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)', ex);
	EXECUTE format('CREATE TABLE flowent.%I (LIKE flowent.workflow_node_logs_default INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)', nl);
	IF moving THEN
		-- straight from partition to partition: the delete triggers of the
		-- parents are not fired
		EXECUTE format('WITH m AS (DELETE FROM ONLY flowent.workflow_executions_default e WHERE e.id >= $1 AND e.id < $2 RETURNING e.*) '
			'INSERT INTO flowent.%I SELECT * FROM m', ex) USING lo, hi;
		EXECUTE format('WITH m AS (DELETE FROM ONLY flowent.workflow_node_logs_default l WHERE l.execution_id >= $1 AND l.execution_id < $2 RETURNING l.*) '
			'INSERT INTO flowent.%I SELECT * FROM m', nl) USING lo, hi;
	END IF;
	EXECUTE format('ALTER TABLE flowent.workflow_executions ATTACH PARTITION flowent.%I FOR VALUES FROM (%L) TO (%L)', ex, lo, hi);
	EXECUTE format('ALTER TABLE flowent.workflow_node_logs ATTACH PARTITION flowent.%I FOR VALUES FROM (%L) TO (%L)', nl, lo, hi);
	PERFORM set_config('lock_timeout', lock_wait, true);
	RETURN true;
END
$$;
REVOKE ALL ON FUNCTION flowent._add_partition(date) FROM PUBLIC;

-- The partitions of today and of the days_ahead days after it; the number
-- made.  The workers call it every ten seconds.  A database without executions
-- gets none yet: it may be a restore under way, whose dump brings its
-- partitions before its rows (and an execution of today made meanwhile
-- moves into its partition later).
CREATE FUNCTION flowent._add_partitions(days_ahead integer DEFAULT 2) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	today constant date := (now() AT TIME ZONE 'UTC')::date;
	made integer := 0;
BEGIN
	IF to_regclass('flowent.workflow_executions_' || to_char(today + days_ahead, 'YYYYMMDD')) IS NOT NULL
		OR NOT EXISTS (SELECT 1 FROM flowent.workflow_executions) THEN
		RETURN 0;
	END IF;
	-- one at a time (every worker of a database calls this), and not while
	-- a prune runs (it drops partitions): then at the next look
	IF NOT pg_try_advisory_xact_lock(hashtext('flowent.history')) THEN
		RETURN 0;
	END IF;
	FOR d IN 0 .. days_ahead LOOP
		BEGIN
			IF flowent._add_partition(today + d) THEN
				made := made + 1;
			END IF;
		EXCEPTION WHEN lock_not_available THEN
			RAISE LOG 'flowent: history in use: the partitions of % are made at the next look', today + d;
		END;
	END LOOP;
	RETURN made;
END
$$;
REVOKE ALL ON FUNCTION flowent._add_partitions(integer) FROM PUBLIC;

-- The history moves: a partition for each day it has, then every row.
DO $$
DECLARE
	d date;
	cols text;
	p record;
BEGIN
	FOR d IN SELECT flowent._id_day(e.id) FROM flowent.workflow_executions_0_8 e
		UNION SELECT flowent._id_day(l.execution_id) FROM flowent.workflow_node_logs_0_8 l LOOP
		IF d IS NOT NULL THEN
			PERFORM flowent._add_partition(d);
		END IF;
	END LOOP;
	SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
	WHERE attrelid = 'flowent.workflow_executions'::regclass AND attnum > 0 AND NOT attisdropped;
	EXECUTE format('INSERT INTO flowent.workflow_executions (%s) SELECT %s FROM flowent.workflow_executions_0_8', cols, cols);
	SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
	WHERE attrelid = 'flowent.workflow_node_logs'::regclass AND attnum > 0 AND NOT attisdropped;
	EXECUTE format('INSERT INTO flowent.workflow_node_logs (%s) SELECT %s FROM flowent.workflow_node_logs_0_8', cols, cols);
	-- a day's partitions are the database's tables, not the extension's
	FOR p IN SELECT h.executions, h.node_logs FROM flowent.history_partitions h LOOP
		EXECUTE format('ALTER EXTENSION flowent DROP TABLE %s', p.executions);
		EXECUTE format('ALTER EXTENSION flowent DROP TABLE %s', p.node_logs);
	END LOOP;
END
$$;
DROP TABLE flowent.workflow_executions_0_8, flowent.workflow_node_logs_0_8;
