-- Flowent 0.14 -> 0.15: flowent.change_stamp(), a count of committed changes
-- to what the gateway's cached answers show (its GET /api/pipelines answers
-- are served again while it reads the same); _running_count() and
-- gateway_webhook_secret() in plpgsql; gateway_webhook_deliver(), webhook
-- deliveries in one transaction (the gateway's group commit), pruning old
-- signatures once per batch (gateway_webhook_seen = _webhook_deliveries_prune
-- + _webhook_record).
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.15'" to load this file. \quit

-- The pending and running executions the caller sees (of workflows it
-- sees): the executions_select policy's rule, applied after the partial
-- index on status. Under row-level security the status test (enum_eq is not
-- leakproof) could only come after the policy, so the count read every
-- execution in the database, anyone's. plpgsql, not sql: a SECURITY DEFINER
-- sql function is not inlined and was parsed and planned on every call
-- (0.42 against 0.10 ms with nothing running).
CREATE OR REPLACE FUNCTION flowent._running_count() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
BEGIN
	RETURN (SELECT count(*) FROM flowent.workflow_executions e
	JOIN flowent.workflows w ON w.id = e.workflow_id
	WHERE e.status IN ('pending', 'running')
		AND (e.user_id = caller OR flowent._can_edit(w.user_id, w.workspace_id, caller))
		AND flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, caller));
END
$$;

-- ---------------------------------------------------------------------------
-- Change stamp (release 0.15): a count of committed changes to what the
-- gateway's cached answers are made of (src/pg/change_stamp.c). The gateway
-- keeps an answer with the stamp it read before making it and serves it
-- again while the stamp reads the same. Every write of these tables counts,
-- also as the owner or with session_replication_role = replica (ENABLE
-- ALWAYS); the engine's bulk node-log writes and utility statements (DDL,
-- GRANT, partitions dropped, COMMIT PREPARED) count from C.
-- ---------------------------------------------------------------------------

CREATE FUNCTION flowent.change_stamp() RETURNS text
LANGUAGE c VOLATILE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'flowent_change_stamp';
COMMENT ON FUNCTION flowent.change_stamp() IS
	'epoch.count of committed changes to workflows, versions, executions, node logs, workspaces, members and of utility statements; NULL when it cannot be kept (not preloaded, in recovery)';
REVOKE ALL ON FUNCTION flowent.change_stamp() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.change_stamp() TO flowent_gateway;

CREATE FUNCTION flowent._note_change() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'flowent_note_change';
REVOKE ALL ON FUNCTION flowent._note_change() FROM PUBLIC;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['workflows', 'workflow_versions', 'workflow_executions',
		'workflow_node_logs', 'workspaces', 'workspace_members']
	LOOP
		EXECUTE format('CREATE TRIGGER flowent_change_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
			'ON flowent.%I FOR EACH STATEMENT EXECUTE FUNCTION flowent._note_change()', t);
		EXECUTE format('ALTER TABLE flowent.%I ENABLE ALWAYS TRIGGER flowent_change_stamp', t);
	END LOOP;
END
$$;

-- plpgsql, not sql: a SECURITY DEFINER sql function is planned on every call
CREATE OR REPLACE FUNCTION flowent.gateway_webhook_secret(id uuid) RETURNS text
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	RETURN (SELECT w.webhook_secret::text FROM flowent.workflows w
		WHERE w.id = gateway_webhook_secret.id AND w.is_published AND w.published_version >= 1);
END
$$;

-- Signatures older than 10 minutes (twice the gateway's time window) are
-- removed a few at a time, skipping rows another delivery is removing.
-- enable_seqscan off: the table only ever holds ten minutes of deliveries,
-- so the clean-up's index on received_at is always the right way in; without
-- statistics (a table never analyzed, or analyzed while it was empty) the
-- planner guessed a third of it old, scanned all of it per webhook and kept
-- that plan for the session (release 0.6)
CREATE FUNCTION flowent._webhook_deliveries_prune() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp SET enable_seqscan = off AS $$
BEGIN
	-- ctid = ANY (ARRAY(...)), not ctid IN (...): a plan cached while the
	-- table looked empty made IN a nested loop that rescanned it per row
	DELETE FROM flowent.webhook_deliveries d
	WHERE d.ctid = ANY (ARRAY(SELECT o.ctid FROM flowent.webhook_deliveries o
		WHERE o.received_at < now() - interval '10 minutes'
		LIMIT 100 FOR UPDATE SKIP LOCKED));
END
$$;
REVOKE ALL ON FUNCTION flowent._webhook_deliveries_prune() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent._webhook_deliveries_prune() TO flowent_gateway;

-- Record a delivery's signature; true when it was recorded before. A
-- concurrent delivery of the same signature waits for the first one's
-- transaction.
CREATE FUNCTION flowent._webhook_record(id uuid, signature text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	IF _webhook_record.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	IF signature IS NULL OR length(signature) NOT BETWEEN 1 AND 512 THEN
		RAISE EXCEPTION 'signature must be 1 to 512 characters' USING ERRCODE = '22023';
	END IF;
	INSERT INTO flowent.webhook_deliveries (workflow_id, signature)
	VALUES (_webhook_record.id, signature)
	ON CONFLICT ON CONSTRAINT webhook_deliveries_pkey DO NOTHING;
	RETURN NOT FOUND;
END
$$;
REVOKE ALL ON FUNCTION flowent._webhook_record(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent._webhook_record(uuid, text) TO flowent_gateway;

-- Replay protection for one delivery: old signatures removed on the way,
-- this one recorded; true when it was recorded before.
CREATE OR REPLACE FUNCTION flowent.gateway_webhook_seen(id uuid, signature text) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	PERFORM flowent._webhook_deliveries_prune();
	RETURN flowent._webhook_record(gateway_webhook_seen.id, signature);
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_webhook_seen(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_webhook_seen(uuid, text) TO flowent_gateway;

-- Signed webhook deliveries whose signatures the gateway checked with a
-- secret it remembers, in one transaction: the gateway groups those that
-- arrive while earlier ones run (a group commit: one commit's WAL flush for
-- all instead of one each). Each delivery, in order and in its own
-- subtransaction (one that fails leaves the others, and no replay record),
-- answers one row: 'stale' when the secret's sha256 is not digests[n] (rotated
-- or unpublished since), 'replayed' when its signature was recorded before,
-- else gateway_webhook_run's answer (text, so numbers stay exact), or
-- 'error ' || {sqlstate, message, detail} when it failed. Runs with the
-- gateway's privileges: it calls what the gateway may call.
CREATE FUNCTION flowent.gateway_webhook_deliver(ids uuid[], signatures text[], bodies text[],
	waits boolean[], digests text[])
RETURNS TABLE (n integer, answer text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	k integer := coalesce(array_length(ids, 1), 0);
	st text;
	msg text;
	det text;
BEGIN
	IF coalesce(array_length(signatures, 1), 0) <> k OR coalesce(array_length(bodies, 1), 0) <> k
		OR coalesce(array_length(waits, 1), 0) <> k OR coalesce(array_length(digests, 1), 0) <> k THEN
		RAISE EXCEPTION 'ids, signatures, bodies, waits and digests must be arrays of the same length'
			USING ERRCODE = '22023';
	END IF;
	-- old signatures go once per batch, not once per delivery
	PERFORM flowent._webhook_deliveries_prune();
	FOR i IN 1 .. k LOOP
		n := i;
		BEGIN
			answer := CASE
				WHEN encode(sha256(convert_to(flowent.gateway_webhook_secret(ids[i]), 'UTF8')), 'hex')
					IS DISTINCT FROM digests[i] THEN 'stale'
				WHEN flowent._webhook_record(ids[i], signatures[i]) THEN 'replayed'
				ELSE flowent.gateway_webhook_run(ids[i], bodies[i]::jsonb, waits[i])::text END;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
			answer := 'error ' || json_build_object('sqlstate', st, 'message', msg, 'detail', nullif(det, ''));
		END;
		RETURN NEXT;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_webhook_deliver(uuid[], text[], text[], boolean[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_webhook_deliver(uuid[], text[], text[], boolean[], text[]) TO flowent_gateway;
