-- Flowent 0.15 -> 0.16: the workers make a new database's history
-- partitions once it has a workflow of its users (not only once it has
-- executions, which then fill the default partitions first), and a look
-- that could not lock one day does not wait for the next ones too;
-- gateway_webhook_deliver in C, which replaces gateway_webhook_seen,
-- gateway_webhook_run and _webhook_record.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.16'" to load this file. \quit

-- The partitions of today and of the days_ahead days after it; the number
-- made.  The workers call it every ten seconds.  A database without
-- executions and without workflows of its users gets none yet: it may be a
-- restore under way, whose dump brings its partitions before its rows (and
-- an execution of today made meanwhile moves into its partition later).  So
-- a new database has its partitions once its first workflow is made, before
-- its runs could fill the default partitions.  A day whose locks were not
-- had in time ends the look: the next days would wait as long.
CREATE OR REPLACE FUNCTION flowent._add_partitions(days_ahead integer DEFAULT 2) RETURNS integer
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

-- Signed webhook deliveries whose signatures the gateway checked with a
-- secret it remembers, in one transaction: the gateway groups those that
-- arrive while earlier ones run (a group commit: one commit's WAL flush for
-- all instead of one each). Each delivery, in order and in its own
-- subtransaction (one that fails leaves the others, and no replay record),
-- answers one row: 'stale' when the workflow is not published or the
-- secret's sha256 is not digests[n] (rotated since), 'replayed' when its
-- signature was recorded before, else the run's answer (text, so numbers stay
-- exact), or 'error ' || {sqlstate, message, detail} when it failed. Each
-- run is the workflow owner's (the acting user for the rest of the
-- transaction) of the published version with trigger type webhook:
-- synchronous with wait (flowent.run's result and success), else queued
-- ({success, executionId, status}); a NULL wait: the workflow's
-- settings.webhookWait. In C (webhook_deliver.c): in plpgsql, the functions
-- it called cost as much per delivery as the run.
CREATE OR REPLACE FUNCTION flowent.gateway_webhook_deliver(ids uuid[], signatures text[], bodies text[],
	waits boolean[], digests text[])
RETURNS TABLE (n integer, answer text)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp
AS 'MODULE_PATHNAME', 'flowent_gateway_webhook_deliver';

DROP FUNCTION flowent.gateway_webhook_seen(uuid, text);
DROP FUNCTION flowent._webhook_record(uuid, text);
DROP FUNCTION flowent.gateway_webhook_run(uuid, jsonb, boolean);
