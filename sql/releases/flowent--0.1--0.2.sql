-- Flowent 0.1 -> 0.2: the execution context (issue "Security: one execution
-- context"). The acting user moves from the flowent.user_id setting into
-- backend memory (flowent.set_acting_user); executions store the rest of
-- their context; their runs are visible to their user and the workflow's
-- editors only; a superuser run_as is only for that superuser.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.2'" to load this file. \quit

CREATE OR REPLACE FUNCTION flowent.current_user_id() RETURNS text
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'flowent_current_user_id';

CREATE FUNCTION flowent.set_acting_user(user_id text) RETURNS void
LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'flowent_set_acting_user';
REVOKE ALL ON FUNCTION flowent.set_acting_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.set_acting_user(text) TO flowent_gateway;

CREATE OR REPLACE FUNCTION flowent._caller_id() RETURNS text
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'flowent_caller_id';

ALTER FUNCTION flowent._delete_node_logs() SET search_path = pg_catalog, flowent, pg_temp;

ALTER TABLE flowent.workflow_executions
	ADD COLUMN run_as text,
	ADD COLUMN depth integer NOT NULL DEFAULT 0,
	ADD COLUMN root_execution_id uuid,
	ADD COLUMN credential_names text[] NOT NULL DEFAULT '{}';

ALTER TABLE flowent.workflow_executions
	DROP CONSTRAINT workflow_executions_workflow_id_fkey,
	DROP CONSTRAINT workflow_executions_parent_execution_id_fkey;
-- Executions go with their workflow, and children with their parent, through
-- statement triggers instead of foreign keys: a foreign key check on every
-- execution insert took a KEY SHARE lock on the one workflows row, so all
-- concurrent runs of a workflow rewrote that row's xmax (multixacts) and
-- queued on its page.
CREATE FUNCTION flowent._delete_executions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM gone) THEN
		RETURN NULL;			-- the recursion through children ends here
	END IF;
	IF TG_TABLE_NAME = 'workflows' THEN
		DELETE FROM flowent.workflow_executions e USING gone g WHERE e.workflow_id = g.id;
	ELSE
		DELETE FROM flowent.workflow_executions e USING gone g WHERE e.parent_execution_id = g.id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER delete_child_executions AFTER DELETE ON flowent.workflow_executions
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION flowent._delete_executions();
CREATE TRIGGER delete_executions AFTER DELETE ON flowent.workflows
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION flowent._delete_executions();

-- Executions from 0.1 ran as their workflow's run_as; their depth and root
-- follow from their parents.
WITH RECURSIVE tree(id, depth, root) AS (
	SELECT e.id, 0, e.id FROM flowent.workflow_executions e WHERE e.parent_execution_id IS NULL
	UNION ALL
	SELECT e.id, t.depth + 1, t.root FROM flowent.workflow_executions e
	JOIN tree t ON e.parent_execution_id = t.id)
UPDATE flowent.workflow_executions e
SET run_as = w.run_as, depth = t.depth, root_execution_id = t.root
FROM tree t, flowent.workflows w
WHERE t.id = e.id AND w.id = e.workflow_id;

DROP POLICY executions_select ON flowent.workflow_executions;
CREATE POLICY executions_select ON flowent.workflow_executions FOR SELECT
	USING (user_id = flowent.current_user_id()
		OR EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id
			AND flowent._can_edit(w.user_id, w.workspace_id, flowent.current_user_id())));

CREATE OR REPLACE FUNCTION flowent._workflows_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	-- a superuser run_as would give anyone who may run the workflow superuser SQL
	IF (TG_OP = 'INSERT' OR NEW.run_as IS DISTINCT FROM OLD.run_as)
		AND (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = NEW.run_as)
		AND NEW.run_as OPERATOR(pg_catalog.<>) current_user::text THEN
		RAISE EXCEPTION 'run_as: role "%" is a superuser; only "%" itself may name it', NEW.run_as, NEW.run_as
			USING ERRCODE = '42501',
				HINT = 'Set runAs to a role without superuser rights.';
	END IF;
	IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
		RETURN NEW;
	END IF;
	IF TG_OP = 'INSERT' OR NEW.run_as IS DISTINCT FROM OLD.run_as
		OR NEW.nodes IS DISTINCT FROM OLD.nodes OR NEW.edges IS DISTINCT FROM OLD.edges THEN
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = NEW.run_as) THEN
			RAISE EXCEPTION 'run_as: role "%" does not exist', NEW.run_as USING ERRCODE = '42501';
		END IF;
		IF NOT pg_catalog.pg_has_role(current_user, NEW.run_as, 'MEMBER') THEN
			RAISE EXCEPTION 'workflow %: role "%" is not a member of its run_as role "%", so it may not set run_as or change the graph',
				NEW.id, current_user, NEW.run_as
				USING ERRCODE = '42501';
		END IF;
	END IF;
	IF NEW.workspace_id IS NOT NULL
		AND (TG_OP = 'INSERT' OR NEW.workspace_id IS DISTINCT FROM OLD.workspace_id)
		AND flowent._workspace_role(NEW.workspace_id, flowent.current_user_id()) IS NULL THEN
		RAISE EXCEPTION 'workspace_id: user "%" is not a member of workspace %',
			flowent.current_user_id(), NEW.workspace_id
			USING ERRCODE = '42501';
	END IF;
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION flowent._schedule_command(workflow_id uuid, payload jsonb, user_id text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format('SELECT flowent.execute(%L::uuid, %L::jsonb, %L::jsonb)',
			workflow_id, payload, '{"triggerType": "schedule"}')
		|| CASE WHEN user_id IS NULL THEN '' ELSE format(' FROM flowent.set_acting_user(%L)', user_id) END
$$;

-- Jobs scheduled through the gateway started with SET flowent.user_id, which
-- is no longer a setting: they set the acting user in the same statement.
DO $do$
BEGIN
	IF to_regclass('cron.job') IS NOT NULL THEN
		UPDATE cron.job SET command = regexp_replace(command,
			$re$^SET flowent\.user_id TO ('(?:[^']|'')*'); (SELECT flowent\.execute\(.*\))$$re$,
			'\2 FROM flowent.set_acting_user(\1)')
		WHERE jobname LIKE 'flowent:%' AND command LIKE 'SET flowent.user_id TO %';
	END IF;
END
$do$;
