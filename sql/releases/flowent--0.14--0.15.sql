-- Flowent 0.14 -> 0.15: flowent.change_stamp(), a count of committed changes
-- to what the gateway's cached answers show (its GET /api/pipelines answers
-- are served again while it reads the same); _running_count() in plpgsql.
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
