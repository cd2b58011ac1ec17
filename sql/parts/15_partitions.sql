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
-- made.  The workers call it every ten seconds.  A database without
-- executions and without workflows of its users gets none yet: it may be a
-- restore under way, whose dump brings its partitions before its rows (and
-- an execution of today made meanwhile moves into its partition later).  So
-- a new database has its partitions once its first workflow is made, before
-- its runs could fill the default partitions.  A day whose locks were not
-- had in time ends the look: the next days would wait as long.
CREATE FUNCTION flowent._add_partitions(days_ahead integer DEFAULT 2) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	today constant date := (now() AT TIME ZONE 'UTC')::date;
	made integer := 0;
BEGIN
	IF to_regclass('flowent.workflow_executions_' || to_char(today + days_ahead, 'YYYYMMDD')) IS NOT NULL
		OR NOT (EXISTS (SELECT 1 FROM flowent.workflow_executions)
			OR EXISTS (SELECT 1 FROM flowent.workflows WHERE user_id <> 'flowent')) THEN
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
			EXIT;
		END;
	END LOOP;
	RETURN made;
END
$$;
REVOKE ALL ON FUNCTION flowent._add_partitions(integer) FROM PUBLIC;
