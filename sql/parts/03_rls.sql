
-- ===========================================================================
-- Privileges and row-level security (DESIGN §2, Appendix B "Identity and
-- security"). The acting user is flowent.current_user_id(). A user sees:
-- workflows they own, `team` workflows of workspaces they belong to, and
-- `public` workflows (public templates among them) and their versions;
-- executions, node logs and approvals of their own runs and of workflows they
-- edit; approvals assigned to them. The extension owner (the engine after its switch to it)
-- bypasses all of this: it owns the tables.
--
-- Policies never query their own table: workspace membership goes through the
-- SECURITY DEFINER helper flowent._workspace_role(), which reads
-- workspace_members without policies, so no policy recurses.
-- ===========================================================================

GRANT USAGE ON SCHEMA flowent TO PUBLIC;

ALTER TABLE flowent.workflows ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.workflow_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.workflow_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.workflow_node_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.workflow_approval_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.workspace_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.node_types ENABLE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------
-- workflows
-- ---------------------------------------------------------------------------
CREATE POLICY workflows_select ON flowent.workflows FOR SELECT
	USING (flowent._workflow_visible(user_id, visibility, workspace_id, flowent.current_user_id()));

CREATE POLICY workflows_insert ON flowent.workflows FOR INSERT
	WITH CHECK (user_id = flowent.current_user_id());

-- The owner, or an owner, admin or editor of the workflow's workspace.
CREATE POLICY workflows_update ON flowent.workflows FOR UPDATE
	USING (flowent._can_edit(user_id, workspace_id, flowent.current_user_id()))
	WITH CHECK (flowent._can_edit(user_id, workspace_id, flowent.current_user_id()));

CREATE POLICY workflows_delete ON flowent.workflows FOR DELETE
	USING (user_id = flowent.current_user_id());

-- The webhook secret is readable only through flowent.publish(); counters and
-- curation fields (download_count, rating, is_featured, starter_kit) are the system's.
GRANT SELECT (id, name, description, nodes, edges, status, visibility, is_template, template_category,
	tags, roi_badge, complexity, is_featured, download_count, rating, is_published, published_version,
	user_id, workspace_id, version, run_as, settings, created_at, updated_at, starter_kit, retention_days)
	ON flowent.workflows TO PUBLIC;
GRANT INSERT (id, name, description, nodes, edges, status, visibility, is_template, template_category,
	tags, roi_badge, complexity, user_id, workspace_id, version, run_as, settings, retention_days)
	ON flowent.workflows TO PUBLIC;
GRANT UPDATE (name, description, nodes, edges, status, visibility, is_template, template_category,
	tags, roi_badge, complexity, is_published, published_version, workspace_id, version, run_as,
	settings, updated_at, retention_days)
	ON flowent.workflows TO PUBLIC;
GRANT DELETE ON flowent.workflows TO PUBLIC;

-- run_as decides the role SQL nodes run under: naming a role, and changing
-- the graph a role runs, needs membership in it. A workspace is only joined
-- by its members. Superusers (and so the engine) are not checked, except
-- that a superuser run_as is only for that superuser.
CREATE FUNCTION flowent._workflows_guard() RETURNS trigger
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
	-- the templates shipped with the extension (10_templates.sql) are the
	-- system user's, and pg_dump leaves that user's workflows out (06_dump.sql)
	IF TG_OP = 'INSERT' AND NEW.user_id = 'flowent' THEN
		RAISE EXCEPTION 'user id "flowent" is reserved for the templates shipped with the extension'
			USING ERRCODE = '42501';
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

CREATE TRIGGER workflows_guard BEFORE INSERT OR UPDATE ON flowent.workflows
	FOR EACH ROW EXECUTE FUNCTION flowent._workflows_guard();

-- ---------------------------------------------------------------------------
-- workflow_versions: history, append-only for users
-- ---------------------------------------------------------------------------
CREATE POLICY versions_select ON flowent.workflow_versions FOR SELECT
	USING (EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id));

CREATE POLICY versions_insert ON flowent.workflow_versions FOR INSERT
	WITH CHECK (created_by = flowent.current_user_id()
		AND EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id
			AND flowent._can_edit(w.user_id, w.workspace_id, flowent.current_user_id())));

GRANT SELECT ON flowent.workflow_versions TO PUBLIC;
GRANT INSERT (workflow_id, version, name, nodes, edges, message, created_by)
	ON flowent.workflow_versions TO PUBLIC;

-- A version can be run (options.version): one whose graph differs from the
-- workflow's current graph needs membership in its run_as role, as above.
CREATE FUNCTION flowent._versions_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	w record;
BEGIN
	IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
		RETURN NEW;
	END IF;
	SELECT wf.run_as, wf.nodes, wf.edges INTO w FROM flowent.workflows wf WHERE wf.id = NEW.workflow_id;
	IF FOUND AND (NEW.nodes IS DISTINCT FROM w.nodes OR NEW.edges IS DISTINCT FROM w.edges)
		AND NOT pg_catalog.pg_has_role(current_user, w.run_as, 'MEMBER') THEN
		RAISE EXCEPTION 'workflow %: role "%" is not a member of its run_as role "%", so it may not add a version with another graph',
			NEW.workflow_id, current_user, w.run_as
			USING ERRCODE = '42501';
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER workflow_versions_guard BEFORE INSERT ON flowent.workflow_versions
	FOR EACH ROW EXECUTE FUNCTION flowent._versions_guard();

-- ---------------------------------------------------------------------------
-- Executions, node logs, approvals: read-only for users (the engine writes)
-- ---------------------------------------------------------------------------
-- The execution's user and the workflow's editors: a public workflow does
-- not make its runs public (DESIGN §2).
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

-- ---------------------------------------------------------------------------
-- Workspaces: readable by their creator and members
-- ---------------------------------------------------------------------------
CREATE POLICY workspaces_select ON flowent.workspaces FOR SELECT
	USING (created_by = flowent.current_user_id()
		OR flowent._workspace_role(id, flowent.current_user_id()) IS NOT NULL);

CREATE POLICY workspace_members_select ON flowent.workspace_members FOR SELECT
	USING (user_id = flowent.current_user_id()
		OR flowent._workspace_role(workspace_id, flowent.current_user_id()) IS NOT NULL);

GRANT SELECT ON flowent.workspaces, flowent.workspace_members TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Budgets: a user reads their own
-- ---------------------------------------------------------------------------
CREATE POLICY budgets_select ON flowent.budgets FOR SELECT
	USING (user_id = flowent.current_user_id());
GRANT SELECT ON flowent.budgets TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Node types: everyone reads; flowent_admin writes custom ones (builtin rows
-- belong to the extension; flowent.register_node_type() is the way in).
-- ---------------------------------------------------------------------------
CREATE POLICY node_types_select ON flowent.node_types FOR SELECT USING (true);
CREATE POLICY node_types_insert ON flowent.node_types FOR INSERT WITH CHECK (NOT builtin);
CREATE POLICY node_types_update ON flowent.node_types FOR UPDATE
	USING (NOT builtin) WITH CHECK (NOT builtin);
CREATE POLICY node_types_delete ON flowent.node_types FOR DELETE USING (NOT builtin);
GRANT SELECT ON flowent.node_types TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON flowent.node_types TO flowent_admin;

GRANT SELECT ON flowent.model_prices TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Nothing for users on credentials (RLS enabled, no policy), run_queue, timers.
-- ---------------------------------------------------------------------------
REVOKE ALL ON flowent.credentials, flowent.run_queue, flowent.timers FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- API tokens and webhook deliveries (release 0.5): no privilege for anyone,
-- the gateway included; the SECURITY DEFINER functions of 08_gateway.sql
-- are the way in. A user sees the metadata of their own tokens, without the
-- hash, in flowent.my_api_tokens (security_barrier: a caller's functions in
-- a WHERE clause cannot see the rows of others before the view filters).
-- ---------------------------------------------------------------------------
ALTER TABLE flowent.api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_select ON flowent.api_tokens FOR SELECT
	USING (user_id = flowent.current_user_id());
REVOKE ALL ON flowent.api_tokens, flowent.webhook_deliveries FROM PUBLIC, flowent_gateway;

CREATE VIEW flowent.my_api_tokens WITH (security_barrier) AS
	SELECT t.id, t.user_id, t.name, t.created_at, t.last_used_at, t.expires_at, t.revoked_at,
		t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AS active
	FROM flowent.api_tokens t
	WHERE t.user_id = flowent.current_user_id();
GRANT SELECT ON flowent.my_api_tokens TO PUBLIC;
