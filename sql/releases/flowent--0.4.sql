-- Flowent schema: tables and enums (seed §5 plus what DESIGN §2 adds).
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION flowent" to load this file. \quit

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flowent_gateway') THEN
		CREATE ROLE flowent_gateway NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flowent_admin') THEN
		CREATE ROLE flowent_admin NOLOGIN;
	END IF;
END
$$;

CREATE TYPE flowent.workflow_status AS ENUM ('draft', 'active', 'archived');
CREATE TYPE flowent.workflow_visibility AS ENUM ('private', 'team', 'public');
CREATE TYPE flowent.template_category AS ENUM (
	'customer-support', 'data-analysis', 'content-generation',
	'automation', 'research', 'sales', 'marketing', 'other');
CREATE TYPE flowent.template_complexity AS ENUM ('beginner', 'intermediate', 'advanced');
CREATE TYPE flowent.execution_status AS ENUM ('pending', 'running', 'success', 'error', 'suspended', 'cancelled');
CREATE TYPE flowent.node_log_status AS ENUM ('started', 'running', 'success', 'error', 'skipped', 'waiting');
CREATE TYPE flowent.approval_status AS ENUM ('pending', 'approved', 'rejected', 'expired');

-- The acting user (DESIGN §2): the user of the execution whose node is
-- running, else the user a flowent_gateway member set for this transaction
-- with flowent.set_acting_user(), else current_user. Held in backend memory:
-- no setting a query can change. PARALLEL RESTRICTED: a parallel worker
-- does not have it.
CREATE FUNCTION flowent.current_user_id() RETURNS text
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'flowent_current_user_id';

CREATE FUNCTION flowent.set_acting_user(user_id text) RETURNS void
LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'flowent_set_acting_user';
REVOKE ALL ON FUNCTION flowent.set_acting_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.set_acting_user(text) TO flowent_gateway;

CREATE TABLE flowent.workspaces (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name varchar(255) NOT NULL,
	created_by varchar(255) NOT NULL DEFAULT flowent.current_user_id(),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flowent.workspace_members (
	workspace_id uuid NOT NULL REFERENCES flowent.workspaces(id) ON DELETE CASCADE,
	user_id varchar(255) NOT NULL,
	role text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
	added_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX ON flowent.workspace_members (user_id);

CREATE TABLE flowent.workflows (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name varchar(255) NOT NULL,
	description text,
	nodes jsonb NOT NULL DEFAULT '[]',
	edges jsonb NOT NULL DEFAULT '[]',
	status flowent.workflow_status DEFAULT 'draft',
	visibility flowent.workflow_visibility DEFAULT 'private',
	is_template boolean DEFAULT false,
	template_category flowent.template_category,
	tags jsonb DEFAULT '[]',
	roi_badge varchar(100),
	complexity flowent.template_complexity DEFAULT 'beginner',
	is_featured boolean DEFAULT false,
	download_count integer DEFAULT 0,
	rating numeric(2,1) DEFAULT 0.0,
	is_published boolean DEFAULT false,
	webhook_secret varchar(64),
	published_version integer DEFAULT 0,
	user_id varchar(255) NOT NULL DEFAULT flowent.current_user_id(),
	workspace_id uuid REFERENCES flowent.workspaces(id) ON DELETE SET NULL,
	version integer NOT NULL DEFAULT 1,
	run_as name NOT NULL DEFAULT current_user,
	settings jsonb NOT NULL DEFAULT '{}',
	created_at timestamptz DEFAULT now(),
	updated_at timestamptz DEFAULT now()
);
CREATE INDEX ON flowent.workflows (user_id);
CREATE INDEX ON flowent.workflows (workspace_id);

CREATE TABLE flowent.workflow_versions (
	workflow_id uuid NOT NULL REFERENCES flowent.workflows(id) ON DELETE CASCADE,
	version integer NOT NULL,
	name varchar(255) NOT NULL,
	nodes jsonb NOT NULL,
	edges jsonb NOT NULL,
	message text,
	created_by varchar(255) NOT NULL DEFAULT flowent.current_user_id(),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (workflow_id, version)
);

CREATE TABLE flowent.workflow_executions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
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
);
CREATE INDEX ON flowent.workflow_executions (workflow_id, started_at DESC);
CREATE INDEX ON flowent.workflow_executions (parent_execution_id) WHERE parent_execution_id IS NOT NULL;
CREATE INDEX ON flowent.workflow_executions (status) WHERE status IN ('pending', 'running', 'suspended');

-- No foreign keys here: these rows are written only by the engine, in
-- bulk, and per-row RI checks were the largest cost of a run.  Deleting an
-- execution removes its logs through the statement trigger below.
CREATE TABLE flowent.workflow_node_logs (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
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
);
-- A continuation reads the rows of one scope (top level or one loop
-- iteration) and the nodes that wait; neither may cost a scan of all the
-- rows of an execution, which a loop makes large.
CREATE INDEX ON flowent.workflow_node_logs (execution_id, iteration, seq);
CREATE INDEX ON flowent.workflow_node_logs (execution_id, node_id) WHERE status = 'waiting';

CREATE FUNCTION flowent._delete_node_logs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	DELETE FROM flowent.workflow_node_logs l USING gone g WHERE l.execution_id = g.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER delete_node_logs AFTER DELETE ON flowent.workflow_executions
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION flowent._delete_node_logs();

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
		-- a parent of another workflow waiting on one of these executions goes on: its
		-- sub-workflow node fails (a worker continues it)
		WITH d AS (DELETE FROM flowent.workflow_executions e USING gone g WHERE e.workflow_id = g.id
		           RETURNING e.id, e.workflow_id, e.parent_execution_id, e.parent_node_id)
		INSERT INTO flowent.run_queue (execution_id, reason, node_id, data)
		SELECT p.id, 'resume', d.parent_node_id,
			jsonb_build_object('status', 'error', 'executionId', d.id, 'error',
				jsonb_build_object('code', 'DELETED', 'message', format('its workflow %s was deleted', d.workflow_id)))
		FROM d JOIN flowent.workflow_executions p ON p.id = d.parent_execution_id
		WHERE p.status = 'suspended' AND p.workflow_id NOT IN (SELECT id FROM gone);
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

CREATE TABLE flowent.workflow_approval_requests (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	execution_id uuid NOT NULL REFERENCES flowent.workflow_executions(id) ON DELETE CASCADE,
	workflow_id uuid REFERENCES flowent.workflows(id) ON DELETE CASCADE,
	node_id varchar(100) NOT NULL,
	status flowent.approval_status DEFAULT 'pending',
	title varchar(255) NOT NULL,
	message text,
	context_data jsonb,
	preview_data jsonb,
	suspended_state jsonb,
	assigned_user_id varchar(255),
	resolved_by varchar(255),
	resolved_at timestamptz,
	rejection_reason text,
	comment text,
	on_expire text NOT NULL DEFAULT 'reject' CHECK (on_expire IN ('reject', 'fail')),
	expires_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON flowent.workflow_approval_requests (execution_id);
CREATE INDEX ON flowent.workflow_approval_requests (status) WHERE status = 'pending';

-- Registry of node types: builtin C executors and custom SQL handlers.
CREATE TABLE flowent.node_types (
	type text PRIMARY KEY,
	category text NOT NULL,
	label text NOT NULL,
	description text,
	handles jsonb NOT NULL DEFAULT '["out"]',
	config_schema jsonb NOT NULL DEFAULT '{"type": "object", "properties": {}, "required": []}',
	cost_model jsonb NOT NULL DEFAULT '{"kind": "free"}',
	builtin boolean NOT NULL DEFAULT false,
	handler regprocedure,
	created_by varchar(255) NOT NULL DEFAULT flowent.current_user_id(),
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK (builtin OR handler IS NOT NULL)
);

CREATE TABLE flowent.credentials (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	owner varchar(255) NOT NULL DEFAULT flowent.current_user_id(),
	name text NOT NULL,
	secret jsonb NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (owner, name)
);

CREATE TABLE flowent.model_prices (
	model text PRIMARY KEY,
	prompt_per_1k numeric(12,6) NOT NULL,
	completion_per_1k numeric(12,6) NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flowent.budgets (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id varchar(255) NOT NULL,
	period text NOT NULL DEFAULT 'month' CHECK (period IN ('day', 'week', 'month', 'total')),
	limit_usd numeric(12,6),
	limit_tokens bigint,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (user_id, period)
);

-- Work for the background worker: executions to start or continue.
CREATE TABLE flowent.run_queue (
	id bigserial PRIMARY KEY,
	execution_id uuid NOT NULL REFERENCES flowent.workflow_executions(id) ON DELETE CASCADE,
	reason text NOT NULL DEFAULT 'start' CHECK (reason IN ('start', 'resume')),
	node_id text,
	data jsonb,
	available_at timestamptz NOT NULL DEFAULT now(),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON flowent.run_queue (available_at);

-- Delays, approval expiry, wait deadlines and retry backoff.
CREATE TABLE flowent.timers (
	id bigserial PRIMARY KEY,
	execution_id uuid NOT NULL REFERENCES flowent.workflow_executions(id) ON DELETE CASCADE,
	node_id text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('delay', 'approval_expiry', 'wait_timeout', 'retry')),
	fire_at timestamptz NOT NULL,
	payload jsonb NOT NULL DEFAULT '{}',
	fired_at timestamptz
);
CREATE INDEX ON flowent.timers (fire_at) WHERE fired_at IS NULL;

-- ===========================================================================
-- Flowent SQL API (DESIGN §7, Appendix B): workflows and their versions, diff,
-- publish, templates, the node type registry and credentials.
--
-- Thin wrappers only: checks of the input's shape, then plain INSERT/UPDATE
-- under the caller's rights, so row-level security (03_rls.sql) decides what
-- a user may see and change. The engine lives in C (05_engine.sql).
-- Errors: 22023 bad input, 42704 not found or not visible, 42501 not allowed,
-- 55000 wrong state, 54000 limit exceeded; each message names the field.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Internal helpers
-- ---------------------------------------------------------------------------

-- The acting user for SECURITY DEFINER functions, where current_user is the
-- function's owner: as current_user_id(), but falling back to the role
-- chosen with SET ROLE, else the session user.
CREATE FUNCTION flowent._caller_id() RETURNS text
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'flowent_caller_id';

-- The role of user uid in workspace ws ('owner', 'admin', 'member', 'viewer'),
-- or NULL when uid is not a member. SECURITY DEFINER so that policies can ask
-- without recursing into workspace_members' own policy.
CREATE FUNCTION flowent._workspace_role(ws uuid, uid text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT m.role FROM flowent.workspace_members m
	WHERE m.workspace_id = ws AND m.user_id = uid
$$;

-- Whether user uid may see workflow wf (the workflows SELECT policy, for a
-- given user). For the engine, which knows the user; not granted to PUBLIC.
CREATE FUNCTION flowent._workflow_visible_to(wf uuid, uid text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT coalesce((
		SELECT w.user_id = uid
			OR w.visibility = 'public'
			OR (w.visibility = 'team' AND w.workspace_id IS NOT NULL
				AND flowent._workspace_role(w.workspace_id, uid) IS NOT NULL)
		FROM flowent.workflows w WHERE w.id = wf), false)
$$;
REVOKE ALL ON FUNCTION flowent._workflow_visible_to(uuid, text) FROM PUBLIC;

-- Whether the current user sees workflow wf: row-level security decides.
CREATE FUNCTION flowent.can_see_workflow(wf uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = wf)
$$;

-- Whether user uid may change workflow wf: its owner, or an owner/admin of
-- its workspace (the workflows UPDATE policy).
CREATE FUNCTION flowent._can_edit(owner text, ws uuid, uid text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT owner = uid
		OR (ws IS NOT NULL AND flowent._workspace_role(ws, uid) IN ('owner', 'admin'))
$$;

-- Structural check of a nodes or edges array (Appendix B "Saving"): an array
-- of objects, each with string fields `fields`. Raises 22023 naming the index.
CREATE FUNCTION flowent._check_items(kind text, items jsonb, fields text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	el jsonb;
	i bigint;
	f text;
BEGIN
	IF items IS NULL OR jsonb_typeof(items) <> 'array' THEN
		RAISE EXCEPTION '% must be a JSON array of objects, got %', kind,
			coalesce(jsonb_typeof(items), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	FOR el, i IN SELECT e, o - 1 FROM jsonb_array_elements(items) WITH ORDINALITY AS t(e, o) LOOP
		IF jsonb_typeof(el) <> 'object' THEN
			RAISE EXCEPTION '%[%] must be an object, got %', kind, i, jsonb_typeof(el)
				USING ERRCODE = '22023';
		END IF;
		FOREACH f IN ARRAY fields LOOP
			IF NOT el ? f THEN
				RAISE EXCEPTION '%[%]: "%" must be a string (missing)', kind, i, f
					USING ERRCODE = '22023';
			ELSIF jsonb_typeof(el -> f) <> 'string' THEN
				RAISE EXCEPTION '%[%]: "%" must be a string, got %', kind, i, f, jsonb_typeof(el -> f)
					USING ERRCODE = '22023';
			END IF;
		END LOOP;
	END LOOP;
END
$$;

-- Structural check of a node list, with the flowent.max_nodes limit (54000).
CREATE FUNCTION flowent._check_nodes(nodes jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
	setting text := current_setting('flowent.max_nodes', true);
	lim integer := CASE WHEN setting ~ '^\s*[0-9]{1,9}\s*$' THEN setting::integer ELSE 10000 END;
BEGIN
	PERFORM flowent._check_items('nodes', nodes, ARRAY['id', 'type']);
	IF jsonb_array_length(nodes) > lim THEN
		RAISE EXCEPTION 'workflow has % nodes, more than flowent.max_nodes (%)',
			jsonb_array_length(nodes), lim
			USING ERRCODE = '54000';
	END IF;
END
$$;

CREATE FUNCTION flowent._check_edges(edges jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	PERFORM flowent._check_items('edges', edges, ARRAY['id', 'source', 'target']);
END
$$;

-- Check that options/changes is an object whose keys are all in `allowed`.
CREATE FUNCTION flowent._check_keys(what text, obj jsonb, allowed text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	k text;
BEGIN
	IF obj IS NULL OR jsonb_typeof(obj) <> 'object' THEN
		RAISE EXCEPTION '% must be a JSON object, got %', what, coalesce(jsonb_typeof(obj), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	FOR k IN SELECT jsonb_object_keys(obj) ORDER BY 1 LOOP
		IF NOT k = ANY (allowed) THEN
			RAISE EXCEPTION 'unknown key "%" in %; allowed: %', k, what, array_to_string(allowed, ', ')
				USING ERRCODE = '22023';
		END IF;
	END LOOP;
END
$$;

-- A string value (JSON null gives NULL when nullable).
CREATE FUNCTION flowent._json_string(v jsonb, field text, nullable boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		IF nullable THEN
			RETURN NULL;
		END IF;
		RAISE EXCEPTION '% must be a string, got null', field USING ERRCODE = '22023';
	END IF;
	IF jsonb_typeof(v) <> 'string' THEN
		RAISE EXCEPTION '% must be a string, got %', field, jsonb_typeof(v) USING ERRCODE = '22023';
	END IF;
	RETURN v #>> '{}';
END
$$;

-- One of the labels of an enum type (JSON null gives NULL when nullable).
CREATE FUNCTION flowent._json_enum(v jsonb, field text, enumtype regtype, nullable boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	labels text[];
	s text;
BEGIN
	SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) INTO labels
	FROM pg_catalog.pg_enum e WHERE e.enumtypid = enumtype;
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		IF nullable THEN
			RETURN NULL;
		END IF;
		RAISE EXCEPTION '% must be one of %, got null', field, array_to_string(labels, ', ')
			USING ERRCODE = '22023';
	END IF;
	s := CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' END;
	IF s IS NULL OR NOT s = ANY (labels) THEN
		RAISE EXCEPTION '% must be one of %, got %', field, array_to_string(labels, ', '), v::text
			USING ERRCODE = '22023';
	END IF;
	RETURN s;
END
$$;

-- A workflow name: a non-empty string of at most 255 characters.
CREATE FUNCTION flowent._check_name(n text, field text DEFAULT 'name') RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF n IS NULL OR btrim(n) = '' THEN
		RAISE EXCEPTION '% must be a non-empty string', field USING ERRCODE = '22023';
	END IF;
	IF length(n) > 255 THEN
		RAISE EXCEPTION '% must be at most 255 characters, got %', field, length(n)
			USING ERRCODE = '22023';
	END IF;
	RETURN n;
END
$$;

-- tags: an array of strings.
CREATE FUNCTION flowent._json_tags(v jsonb, field text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN '[]'::jsonb;
	END IF;
	IF jsonb_typeof(v) <> 'array'
		OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE jsonb_typeof(e) <> 'string') THEN
		RAISE EXCEPTION '% must be an array of strings', field USING ERRCODE = '22023';
	END IF;
	RETURN v;
END
$$;

-- settings: an object.
CREATE FUNCTION flowent._json_object(v jsonb, field text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN '{}'::jsonb;
	END IF;
	IF jsonb_typeof(v) <> 'object' THEN
		RAISE EXCEPTION '% must be a JSON object, got %', field, jsonb_typeof(v) USING ERRCODE = '22023';
	END IF;
	RETURN v;
END
$$;

-- A boolean value.
CREATE FUNCTION flowent._json_bool(v jsonb, field text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF v IS NULL OR jsonb_typeof(v) <> 'boolean' THEN
		RAISE EXCEPTION '% must be true or false, got %', field, coalesce(jsonb_typeof(v), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	RETURN v::text::boolean;
END
$$;

-- runAs: an existing role the current role is a member of (42501 otherwise).
CREATE FUNCTION flowent._check_run_as(v jsonb, field text) RETURNS name
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r text := flowent._json_string(v, field, false);
BEGIN
	IF r = '' OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
		RAISE EXCEPTION '%: role "%" does not exist', field, r USING ERRCODE = '42501';
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, r::name, 'MEMBER') THEN
		RAISE EXCEPTION '%: role "%" is not a member of role "%"', field, current_user, r
			USING ERRCODE = '42501';
	END IF;
	RETURN r::name;
END
$$;

-- workspaceId: a workspace the current user is a member of (42501 otherwise).
CREATE FUNCTION flowent._check_workspace(v jsonb, field text) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
	s text := flowent._json_string(v, field, true);
	ws uuid;
BEGIN
	IF s IS NULL THEN
		RETURN NULL;
	END IF;
	IF s !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN
		RAISE EXCEPTION '% must be a UUID, got "%"', field, s USING ERRCODE = '22023';
	END IF;
	ws := s::uuid;
	IF flowent._workspace_role(ws, flowent.current_user_id()) IS NULL THEN
		RAISE EXCEPTION '%: user "%" is not a member of workspace %', field, flowent.current_user_id(), ws
			USING ERRCODE = '42501';
	END IF;
	RETURN ws;
END
$$;

-- ---------------------------------------------------------------------------
-- Workflows
-- ---------------------------------------------------------------------------

-- Create a workflow: version 1, owned by the current user.
CREATE FUNCTION flowent.create_workflow(name text, nodes jsonb, edges jsonb, options jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	me text := flowent.current_user_id();
	o jsonb := coalesce(options, '{}'::jsonb);
	v_name text;
	v_status text := 'draft';
	v_visibility text := 'private';
	v_complexity text := 'beginner';
	v_category text;
	v_run_as name := current_user;
	v_ws uuid;
	v_id uuid;
BEGIN
	v_name := flowent._check_name(create_workflow.name);
	PERFORM flowent._check_nodes(create_workflow.nodes);
	PERFORM flowent._check_edges(create_workflow.edges);
	PERFORM flowent._check_keys('options', o, ARRAY['description', 'status', 'visibility', 'tags',
		'workspaceId', 'runAs', 'isTemplate', 'templateCategory', 'complexity', 'message', 'settings']);

	IF o ? 'status' THEN
		v_status := flowent._json_enum(o -> 'status', 'options.status', 'flowent.workflow_status');
	END IF;
	IF o ? 'visibility' THEN
		v_visibility := flowent._json_enum(o -> 'visibility', 'options.visibility', 'flowent.workflow_visibility');
	END IF;
	IF o ? 'complexity' THEN
		v_complexity := flowent._json_enum(o -> 'complexity', 'options.complexity', 'flowent.template_complexity');
	END IF;
	IF o ? 'templateCategory' THEN
		v_category := flowent._json_enum(o -> 'templateCategory', 'options.templateCategory',
			'flowent.template_category', true);
	END IF;
	PERFORM flowent._json_string(o -> 'description', 'options.description'),
		flowent._json_string(o -> 'message', 'options.message'),
		flowent._json_tags(o -> 'tags', 'options.tags'),
		flowent._json_object(o -> 'settings', 'options.settings');
	IF o ? 'isTemplate' THEN
		PERFORM flowent._json_bool(o -> 'isTemplate', 'options.isTemplate');
	END IF;
	IF v_visibility = 'team' AND jsonb_typeof(o -> 'workspaceId') IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION 'options.visibility "team" needs options.workspaceId'
			USING ERRCODE = '22023';
	END IF;

	IF o ? 'runAs' THEN
		v_run_as := flowent._check_run_as(o -> 'runAs', 'options.runAs');
	END IF;
	IF o ? 'workspaceId' THEN
		v_ws := flowent._check_workspace(o -> 'workspaceId', 'options.workspaceId');
	END IF;

	INSERT INTO flowent.workflows AS w (name, description, nodes, edges, status, visibility, is_template,
		template_category, tags, complexity, user_id, workspace_id, version, run_as, settings)
	VALUES (v_name, o ->> 'description', create_workflow.nodes, create_workflow.edges,
		v_status::flowent.workflow_status, v_visibility::flowent.workflow_visibility,
		coalesce((o ->> 'isTemplate')::boolean, false), v_category::flowent.template_category,
		flowent._json_tags(o -> 'tags', 'options.tags'), v_complexity::flowent.template_complexity,
		me, v_ws, 1, v_run_as, flowent._json_object(o -> 'settings', 'options.settings'))
	RETURNING w.id INTO v_id;

	INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges, message, created_by)
	VALUES (v_id, 1, v_name, create_workflow.nodes, create_workflow.edges, o ->> 'message', me);
	RETURN v_id;
END
$$;

-- Save changes to a workflow as a new version; returns the new version number.
CREATE FUNCTION flowent.update_workflow(id uuid, changes jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	me text := flowent.current_user_id();
	c jsonb := changes;
	w record;
	v_expected integer;
	v_name text;
	v_status text;
	v_visibility text;
	v_run_as name;
	v_ws uuid;
	v_version integer;
BEGIN
	-- 1. shape of the input (22023)
	PERFORM flowent._check_keys('changes', c, ARRAY['name', 'description', 'nodes', 'edges', 'status',
		'visibility', 'tags', 'runAs', 'message', 'expectedVersion', 'settings', 'workspaceId']);
	IF update_workflow.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	IF c ? 'name' THEN
		v_name := flowent._check_name(flowent._json_string(c -> 'name', 'changes.name', false), 'changes.name');
	END IF;
	IF c ? 'nodes' THEN
		PERFORM flowent._check_nodes(c -> 'nodes');
	END IF;
	IF c ? 'edges' THEN
		PERFORM flowent._check_edges(c -> 'edges');
	END IF;
	IF c ? 'status' THEN
		v_status := flowent._json_enum(c -> 'status', 'changes.status', 'flowent.workflow_status');
	END IF;
	IF c ? 'visibility' THEN
		v_visibility := flowent._json_enum(c -> 'visibility', 'changes.visibility', 'flowent.workflow_visibility');
	END IF;
	IF c ? 'expectedVersion' THEN
		IF jsonb_typeof(c -> 'expectedVersion') <> 'number'
			OR (c ->> 'expectedVersion') !~ '^[0-9]{1,9}$' THEN
			RAISE EXCEPTION 'changes.expectedVersion must be a non-negative integer, got %',
				(c -> 'expectedVersion')::text
				USING ERRCODE = '22023';
		END IF;
		v_expected := (c ->> 'expectedVersion')::integer;
	END IF;
	PERFORM flowent._json_string(c -> 'description', 'changes.description'),
		flowent._json_string(c -> 'message', 'changes.message'),
		flowent._json_tags(c -> 'tags', 'changes.tags'),
		flowent._json_object(c -> 'settings', 'changes.settings');
	IF c ? 'runAs' THEN
		PERFORM flowent._json_string(c -> 'runAs', 'changes.runAs', false);
	END IF;
	IF c ? 'workspaceId' THEN
		PERFORM flowent._json_string(c -> 'workspaceId', 'changes.workspaceId');
	END IF;

	-- 2. visible (42704), 3. allowed (42501)
	SELECT wf.user_id, wf.workspace_id INTO w FROM flowent.workflows wf WHERE wf.id = update_workflow.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', update_workflow.id USING ERRCODE = '42704';
	END IF;
	IF NOT flowent._can_edit(w.user_id, w.workspace_id, me) THEN
		RAISE EXCEPTION 'workflow %: only its owner or an owner/admin of its workspace may change it',
			update_workflow.id
			USING ERRCODE = '42501';
	END IF;

	-- 4. lock: concurrent saves of one workflow run one after the other
	SELECT wf.version, wf.status, wf.visibility, wf.workspace_id INTO w
	FROM flowent.workflows wf WHERE wf.id = update_workflow.id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', update_workflow.id USING ERRCODE = '42704';
	END IF;

	-- 5. state (55000)
	IF v_expected IS NOT NULL AND v_expected <> w.version THEN
		RAISE EXCEPTION 'stale save: workflow is at version %, expected %', w.version, v_expected
			USING ERRCODE = '55000';
	END IF;
	IF w.status = 'archived' AND coalesce(v_status, 'archived') = 'archived' THEN
		RAISE EXCEPTION 'workflow % is archived: set "status" to draft or active to change it',
			update_workflow.id
			USING ERRCODE = '55000';
	END IF;

	-- 6. role and workspace (42501), and their consistency (22023)
	IF c ? 'runAs' THEN
		v_run_as := flowent._check_run_as(c -> 'runAs', 'changes.runAs');
	END IF;
	v_ws := w.workspace_id;
	IF c ? 'workspaceId' THEN
		v_ws := flowent._check_workspace(c -> 'workspaceId', 'changes.workspaceId');
	END IF;
	IF coalesce(v_visibility, w.visibility::text) = 'team' AND v_ws IS NULL THEN
		RAISE EXCEPTION 'visibility "team" needs a workspace: set changes.workspaceId'
			USING ERRCODE = '22023';
	END IF;

	UPDATE flowent.workflows AS wf SET
		name = coalesce(v_name, wf.name),
		description = CASE WHEN c ? 'description' THEN c ->> 'description' ELSE wf.description END,
		nodes = coalesce(c -> 'nodes', wf.nodes),
		edges = coalesce(c -> 'edges', wf.edges),
		status = coalesce(v_status::flowent.workflow_status, wf.status),
		visibility = coalesce(v_visibility::flowent.workflow_visibility, wf.visibility),
		tags = CASE WHEN c ? 'tags' THEN flowent._json_tags(c -> 'tags', 'changes.tags') ELSE wf.tags END,
		run_as = coalesce(v_run_as, wf.run_as),
		settings = CASE WHEN c ? 'settings' THEN flowent._json_object(c -> 'settings', 'changes.settings')
			ELSE wf.settings END,
		workspace_id = v_ws,
		version = wf.version + 1,
		updated_at = now()
	WHERE wf.id = update_workflow.id
	RETURNING wf.version, wf.name, wf.nodes, wf.edges INTO w;

	INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges, message, created_by)
	VALUES (update_workflow.id, w.version, w.name, w.nodes, w.edges, c ->> 'message', me);
	RETURN w.version;
END
$$;

-- Delete a workflow (owner only) with its versions and executions.
CREATE FUNCTION flowent.delete_workflow(id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_owner text;
BEGIN
	SELECT wf.user_id INTO v_owner FROM flowent.workflows wf WHERE wf.id = delete_workflow.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', delete_workflow.id USING ERRCODE = '42704';
	END IF;
	IF v_owner <> flowent.current_user_id() THEN
		RAISE EXCEPTION 'workflow %: only its owner may delete it', delete_workflow.id
			USING ERRCODE = '42501';
	END IF;
	DELETE FROM flowent.workflows wf WHERE wf.id = delete_workflow.id;
	RETURN FOUND;
END
$$;

-- ---------------------------------------------------------------------------
-- Diff of two versions
-- ---------------------------------------------------------------------------

-- Field-level changes between two nodes or two edges with the same id:
-- [{field, from, to}], a missing value as null. Nodes compare type, position
-- and each key of data ("data.<key>"; a missing data counts as {}, data that
-- is not an object is compared whole as "data"); edges compare source,
-- target, sourceHandle and targetHandle.
CREATE FUNCTION flowent._diff_fields(kind text, a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	WITH d AS (
		SELECT CASE WHEN jsonb_typeof(a -> 'data') IS NULL OR jsonb_typeof(a -> 'data') = 'null'
				THEN '{}'::jsonb ELSE a -> 'data' END AS da,
			CASE WHEN jsonb_typeof(b -> 'data') IS NULL OR jsonb_typeof(b -> 'data') = 'null'
				THEN '{}'::jsonb ELSE b -> 'data' END AS db
	), objects AS (
		SELECT jsonb_typeof(d.da) = 'object' AND jsonb_typeof(d.db) = 'object' AS both FROM d
	)
	SELECT coalesce(jsonb_agg(jsonb_build_object('field', f.field, 'from', f.va, 'to', f.vb)
		ORDER BY f.grp, f.field), '[]'::jsonb)
	FROM (
		SELECT k.grp, k.field, a -> k.field AS va, b -> k.field AS vb
		FROM (VALUES (0, 'type'), (1, 'position'), (0, 'source'), (1, 'target'),
			(2, 'sourceHandle'), (3, 'targetHandle')) AS k(grp, field)
		WHERE (kind = 'node' AND k.field IN ('type', 'position'))
			OR (kind = 'edge' AND k.field IN ('source', 'target', 'sourceHandle', 'targetHandle'))
		UNION ALL
		SELECT 4, 'data', a -> 'data', b -> 'data'
		FROM objects WHERE kind = 'node' AND NOT objects.both
		UNION ALL
		SELECT 5, 'data.' || keys.key, d.da -> keys.key, d.db -> keys.key
		FROM d, objects, LATERAL (
			SELECT jsonb_object_keys(d.da) AS key WHERE objects.both
			UNION
			SELECT jsonb_object_keys(d.db) WHERE objects.both) AS keys
		WHERE kind = 'node' AND objects.both
	) AS f
	WHERE f.va IS DISTINCT FROM f.vb
$$;

-- {added, removed, changed} between two arrays of items keyed by "id"
-- (the first item with an id wins). added and changed follow the new array's
-- order, removed the old one's.
CREATE FUNCTION flowent._diff_items(kind text, old_items jsonb, new_items jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	WITH o AS (
		SELECT DISTINCT ON (e ->> 'id') e ->> 'id' AS id, e AS item, n AS ord
		FROM jsonb_array_elements(CASE WHEN jsonb_typeof(old_items) = 'array' THEN old_items
			ELSE '[]'::jsonb END) WITH ORDINALITY AS t(e, n)
		WHERE jsonb_typeof(e) = 'object' AND e ? 'id'
		ORDER BY e ->> 'id', n
	), nw AS (
		SELECT DISTINCT ON (e ->> 'id') e ->> 'id' AS id, e AS item, n AS ord
		FROM jsonb_array_elements(CASE WHEN jsonb_typeof(new_items) = 'array' THEN new_items
			ELSE '[]'::jsonb END) WITH ORDINALITY AS t(e, n)
		WHERE jsonb_typeof(e) = 'object' AND e ? 'id'
		ORDER BY e ->> 'id', n
	), ch AS (
		SELECT nw.id, nw.ord, flowent._diff_fields(kind, o.item, nw.item) AS changes
		FROM nw JOIN o ON o.id = nw.id
	)
	SELECT jsonb_build_object(
		'added', coalesce((SELECT jsonb_agg(nw.item ORDER BY nw.ord) FROM nw
			WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.id = nw.id)), '[]'::jsonb),
		'removed', coalesce((SELECT jsonb_agg(o.item ORDER BY o.ord) FROM o
			WHERE NOT EXISTS (SELECT 1 FROM nw WHERE nw.id = o.id)), '[]'::jsonb),
		'changed', coalesce((SELECT jsonb_agg(jsonb_build_object('id', ch.id, 'changes', ch.changes)
			ORDER BY ch.ord) FROM ch WHERE ch.changes <> '[]'::jsonb), '[]'::jsonb))
$$;

-- What changed between two versions of a workflow.
CREATE FUNCTION flowent.diff(workflow_id uuid, from_version integer, to_version integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	a record;
	b record;
	dn jsonb;
	de jsonb;
	res jsonb;
BEGIN
	IF NOT flowent.can_see_workflow(diff.workflow_id) THEN
		RAISE EXCEPTION 'workflow % not found', diff.workflow_id USING ERRCODE = '42704';
	END IF;
	SELECT v.name, v.nodes, v.edges INTO a FROM flowent.workflow_versions v
	WHERE v.workflow_id = diff.workflow_id AND v.version = diff.from_version;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % has no version % (fromVersion)', diff.workflow_id,
			coalesce(diff.from_version::text, 'null')
			USING ERRCODE = '42704';
	END IF;
	SELECT v.name, v.nodes, v.edges INTO b FROM flowent.workflow_versions v
	WHERE v.workflow_id = diff.workflow_id AND v.version = diff.to_version;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % has no version % (toVersion)', diff.workflow_id,
			coalesce(diff.to_version::text, 'null')
			USING ERRCODE = '42704';
	END IF;

	dn := flowent._diff_items('node', a.nodes, b.nodes);
	de := flowent._diff_items('edge', a.edges, b.edges);
	res := jsonb_build_object(
		'workflowId', diff.workflow_id,
		'fromVersion', diff.from_version,
		'toVersion', diff.to_version,
		'nodes', dn,
		'edges', de,
		'summary', jsonb_build_object(
			'added', jsonb_array_length(dn -> 'added') + jsonb_array_length(de -> 'added'),
			'removed', jsonb_array_length(dn -> 'removed') + jsonb_array_length(de -> 'removed'),
			'changed', jsonb_array_length(dn -> 'changed') + jsonb_array_length(de -> 'changed')));
	IF a.name IS DISTINCT FROM b.name THEN
		res := res || jsonb_build_object('name', jsonb_build_object('from', a.name, 'to', b.name));
	END IF;
	RETURN res;
END
$$;

-- ---------------------------------------------------------------------------
-- Publish and templates
-- ---------------------------------------------------------------------------

-- The webhook secret of a workflow the caller owns, generated on first use:
-- 64 hex characters from two random UUIDs (pg_strong_random). The column is
-- not readable by ordinary roles (03_rls.sql), hence SECURITY DEFINER.
CREATE FUNCTION flowent._ensure_webhook_secret(wf uuid) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	s text;
BEGIN
	UPDATE flowent.workflows w
	SET webhook_secret = coalesce(w.webhook_secret,
		replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''))
	WHERE w.id = wf AND w.user_id = flowent._caller_id()
	RETURNING w.webhook_secret INTO s;
	IF s IS NULL THEN
		RAISE EXCEPTION 'workflow %: only its owner may read its webhook secret', wf
			USING ERRCODE = '42501';
	END IF;
	RETURN s;
END
$$;

-- Deploy: pin the current version for schedules and webhooks.
CREATE FUNCTION flowent.publish(workflow_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	w record;
	v jsonb;
	secret text;
BEGIN
	SELECT wf.user_id, wf.status, wf.version, wf.nodes, wf.edges INTO w
	FROM flowent.workflows wf WHERE wf.id = publish.workflow_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', publish.workflow_id USING ERRCODE = '42704';
	END IF;
	IF w.user_id <> flowent.current_user_id() THEN
		RAISE EXCEPTION 'workflow %: only its owner may publish it', publish.workflow_id
			USING ERRCODE = '42501';
	END IF;
	SELECT wf.status, wf.version, wf.nodes, wf.edges INTO w
	FROM flowent.workflows wf WHERE wf.id = publish.workflow_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', publish.workflow_id USING ERRCODE = '42704';
	END IF;
	IF w.status = 'archived' THEN
		RAISE EXCEPTION 'workflow % is archived: set its status to draft or active before publishing',
			publish.workflow_id
			USING ERRCODE = '55000';
	END IF;
	v := flowent.validate(w.nodes, w.edges);
	IF NOT coalesce((v ->> 'valid')::boolean, false) THEN
		RAISE EXCEPTION 'workflow % version % is not valid (% errors): %', publish.workflow_id, w.version,
			jsonb_array_length(coalesce(v -> 'errors', '[]'::jsonb)),
			coalesce(v #>> '{errors,0,message}', 'see flowent.validate()')
			USING ERRCODE = '22023', DETAIL = v::text;
	END IF;

	UPDATE flowent.workflows wf
	SET published_version = wf.version, is_published = true, status = 'active', updated_at = now()
	WHERE wf.id = publish.workflow_id;
	secret := flowent._ensure_webhook_secret(publish.workflow_id);
	RETURN jsonb_build_object(
		'workflowId', publish.workflow_id,
		'publishedVersion', w.version,
		'webhookSecret', secret,
		'webhookPath', '/api/hooks/' || publish.workflow_id);
END
$$;

-- Count one download of a template the caller can see. The only write it does.
CREATE FUNCTION flowent._count_template_download(template_id uuid) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	UPDATE flowent.workflows w SET download_count = coalesce(w.download_count, 0) + 1
	WHERE w.id = template_id AND w.is_template
		AND flowent._workflow_visible_to(template_id, flowent._caller_id())
$$;

-- Copy a template into a new private draft of the current user.
CREATE FUNCTION flowent.clone_template(template_id uuid, name text DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	me text := flowent.current_user_id();
	t record;
	v_name text;
	v_id uuid;
BEGIN
	SELECT wf.name, wf.description, wf.nodes, wf.edges, wf.tags, wf.settings, wf.complexity,
		wf.is_template
	INTO t FROM flowent.workflows wf WHERE wf.id = clone_template.template_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'template % not found', clone_template.template_id USING ERRCODE = '42704';
	END IF;
	IF NOT coalesce(t.is_template, false) THEN
		RAISE EXCEPTION 'workflow % is not a template', clone_template.template_id USING ERRCODE = '22023';
	END IF;
	v_name := flowent._check_name(coalesce(clone_template.name, t.name));

	INSERT INTO flowent.workflows AS w (name, description, nodes, edges, status, visibility, is_template,
		tags, complexity, user_id, version, settings)
	VALUES (v_name, t.description, t.nodes, t.edges, 'draft', 'private', false,
		coalesce(t.tags, '[]'::jsonb), t.complexity, me, 1, t.settings)
	RETURNING w.id INTO v_id;
	INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges, message, created_by)
	VALUES (v_id, 1, v_name, t.nodes, t.edges, 'cloned from ' || clone_template.template_id, me);

	PERFORM flowent._count_template_download(clone_template.template_id);
	RETURN v_id;
END
$$;

-- ---------------------------------------------------------------------------
-- Node type registry
-- ---------------------------------------------------------------------------

-- Registering is for superusers and members of flowent_admin.
CREATE FUNCTION flowent._check_registry_admin() RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT pg_catalog.pg_has_role(current_user, 'flowent_admin', 'MEMBER') THEN
		RAISE EXCEPTION 'role "%" may not change node types: superuser or membership in flowent_admin needed',
			current_user
			USING ERRCODE = '42501';
	END IF;
END
$$;

-- Register (or update) a custom node type handled by a SQL function
-- (inputs jsonb, context jsonb) returns jsonb.
CREATE FUNCTION flowent.register_node_type(type text, handler regprocedure, meta jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	m jsonb := coalesce(meta, '{}'::jsonb);
	p record;
	v_category text;
	v_label text;
	v_description text;
	v_handles jsonb;
	v_schema jsonb;
	v_cost jsonb;
	r record;
BEGIN
	PERFORM flowent._check_registry_admin();
	-- at most 50 characters: the node logs' node_type column
	IF register_node_type.type IS NULL OR register_node_type.type !~ '^[a-z][a-z0-9-]{1,49}$' THEN
		RAISE EXCEPTION 'type must match ^[a-z][a-z0-9-]{1,49}$ (lower-case letters, digits, "-"; at most 50), got %',
			coalesce(quote_literal(register_node_type.type), 'null')
			USING ERRCODE = '22023';
	END IF;
	-- the node types DESIGN §6 lists that are not built yet are reserved for them
	IF register_node_type.type IN ('llm-agent', 'email', 'web-search', 'hubspot-create-contact',
			'hubspot-update-deal', 'hubspot-add-note', 'hubspot-search-contacts') THEN
		RAISE EXCEPTION 'node type "%" is reserved for a builtin node type of Flowent, choose another name',
			register_node_type.type
			USING ERRCODE = '42501';
	END IF;
	IF EXISTS (SELECT 1 FROM flowent.node_types nt WHERE nt.type = register_node_type.type AND nt.builtin) THEN
		RAISE EXCEPTION 'node type "%" is builtin: builtin types cannot be replaced, choose another name',
			register_node_type.type
			USING ERRCODE = '42501';
	END IF;
	IF handler IS NULL THEN
		RAISE EXCEPTION 'handler must be a function (inputs jsonb, context jsonb) returns jsonb, got null'
			USING ERRCODE = '22023';
	END IF;
	SELECT pr.prokind, pr.proretset, pr.prorettype,
		pr.pronargs = 2 AND pr.proargtypes[0] = 'jsonb'::regtype AND pr.proargtypes[1] = 'jsonb'::regtype
			AS args_ok
	INTO p
	FROM pg_catalog.pg_proc pr WHERE pr.oid = handler;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'handler function % does not exist', handler::oid USING ERRCODE = '22023';
	END IF;
	IF p.prokind <> 'f' OR p.proretset OR p.prorettype <> 'jsonb'::regtype
		OR NOT p.args_ok THEN
		RAISE EXCEPTION 'handler % must be a function (inputs jsonb, context jsonb) returns jsonb, it is a % returning %',
			handler, CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
				ELSE 'window function' END,
			CASE WHEN p.proretset THEN 'setof ' ELSE '' END || format_type(p.prorettype, NULL)
			USING ERRCODE = '22023';
	END IF;

	PERFORM flowent._check_keys('meta', m,
		ARRAY['category', 'label', 'handles', 'configSchema', 'costModel', 'description']);
	v_category := coalesce(flowent._json_string(m -> 'category', 'meta.category'), 'custom');
	v_label := coalesce(flowent._json_string(m -> 'label', 'meta.label'), register_node_type.type);
	v_description := flowent._json_string(m -> 'description', 'meta.description');
	IF v_category = '' OR v_label = '' THEN
		RAISE EXCEPTION 'meta.category and meta.label must not be empty' USING ERRCODE = '22023';
	END IF;
	v_handles := coalesce(m -> 'handles', '["out"]'::jsonb);
	IF jsonb_typeof(v_handles) <> 'array'
		OR EXISTS (SELECT 1 FROM jsonb_array_elements(v_handles) h
			WHERE jsonb_typeof(h) <> 'string' OR h #>> '{}' = '') THEN
		RAISE EXCEPTION 'meta.handles must be an array of non-empty strings, got %', v_handles::text
			USING ERRCODE = '22023';
	END IF;
	v_schema := coalesce(m -> 'configSchema', '{"type": "object", "properties": {}, "required": []}'::jsonb);
	IF jsonb_typeof(v_schema) <> 'object' OR v_schema ->> 'type' IS DISTINCT FROM 'object'
		OR jsonb_typeof(coalesce(v_schema -> 'properties', '{}')) <> 'object'
		OR jsonb_typeof(coalesce(v_schema -> 'required', '[]')) <> 'array' THEN
		RAISE EXCEPTION 'meta.configSchema must be {"type": "object", "properties": {...}, "required": [...]}'
			USING ERRCODE = '22023';
	END IF;
	v_schema := jsonb_build_object('properties', '{}'::jsonb, 'required', '[]'::jsonb) || v_schema;
	v_cost := coalesce(m -> 'costModel', '{"kind": "free"}'::jsonb);
	IF jsonb_typeof(v_cost) <> 'object' OR jsonb_typeof(v_cost -> 'kind') IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION 'meta.costModel must be an object with a string "kind", got %', v_cost::text
			USING ERRCODE = '22023';
	END IF;

	INSERT INTO flowent.node_types AS nt (type, category, label, description, handles, config_schema,
		cost_model, builtin, handler)
	VALUES (register_node_type.type, v_category, v_label, v_description, v_handles, v_schema, v_cost,
		false, handler)
	ON CONFLICT ON CONSTRAINT node_types_pkey DO UPDATE SET
		category = EXCLUDED.category, label = EXCLUDED.label, description = EXCLUDED.description,
		handles = EXCLUDED.handles, config_schema = EXCLUDED.config_schema,
		cost_model = EXCLUDED.cost_model, handler = EXCLUDED.handler
	WHERE NOT nt.builtin
	RETURNING nt.* INTO r;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'node type "%" is builtin: builtin types cannot be replaced, choose another name',
			register_node_type.type
			USING ERRCODE = '42501';
	END IF;
	RETURN jsonb_build_object('type', r.type, 'category', r.category, 'label', r.label,
		'description', r.description, 'handles', r.handles, 'configSchema', r.config_schema,
		'costModel', r.cost_model, 'builtin', r.builtin, 'handler', r.handler::text);
END
$$;

-- Remove a custom node type; false when there was none.
CREATE FUNCTION flowent.unregister_node_type(type text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM flowent._check_registry_admin();
	IF EXISTS (SELECT 1 FROM flowent.node_types nt WHERE nt.type = unregister_node_type.type AND nt.builtin) THEN
		RAISE EXCEPTION 'node type "%" is builtin and cannot be unregistered', unregister_node_type.type
			USING ERRCODE = '42501';
	END IF;
	DELETE FROM flowent.node_types nt WHERE nt.type = unregister_node_type.type AND NOT nt.builtin;
	RETURN FOUND;
END
$$;

-- ---------------------------------------------------------------------------
-- Credentials: ordinary roles have no privilege on the table at all; these
-- functions act on the caller's own set and never return a secret.
-- ---------------------------------------------------------------------------

CREATE FUNCTION flowent._check_credential_name(n text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF n IS NULL OR n !~ '^[A-Za-z_][A-Za-z0-9_-]{0,127}$' THEN
		RAISE EXCEPTION 'credential name must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$, got %',
			coalesce(quote_literal(n), 'null')
			USING ERRCODE = '22023';
	END IF;
END
$$;

-- Create or replace the caller's credential `name`; returns its id.
CREATE FUNCTION flowent.set_credential(name text, secret jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	v_id uuid;
BEGIN
	PERFORM flowent._check_credential_name(set_credential.name);
	IF set_credential.secret IS NULL OR jsonb_typeof(set_credential.secret) = 'null' THEN
		RAISE EXCEPTION 'secret must not be null' USING ERRCODE = '22023';
	END IF;
	INSERT INTO flowent.credentials AS c (owner, name, secret)
	VALUES (flowent._caller_id(), set_credential.name, set_credential.secret)
	ON CONFLICT ON CONSTRAINT credentials_owner_name_key
	DO UPDATE SET secret = EXCLUDED.secret, updated_at = now()
	RETURNING c.id INTO v_id;
	RETURN v_id;
END
$$;

-- Delete the caller's credential `name`; false when there was none.
CREATE FUNCTION flowent.delete_credential(name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	DELETE FROM flowent.credentials c
	WHERE c.owner = flowent._caller_id() AND c.name = delete_credential.name;
	RETURN FOUND;
END
$$;

-- The caller's credentials, without their secrets.
CREATE FUNCTION flowent.list_credentials()
RETURNS TABLE (name text, created_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT c.name, c.created_at, c.updated_at FROM flowent.credentials c
	WHERE c.owner = flowent._caller_id()
	ORDER BY c.name
$$;

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
CREATE POLICY workflows_select ON flowent.workflows FOR SELECT USING (
	user_id = flowent.current_user_id()
	OR visibility = 'public'
	OR (visibility = 'team' AND workspace_id IS NOT NULL
		AND flowent._workspace_role(workspace_id, flowent.current_user_id()) IS NOT NULL));

CREATE POLICY workflows_insert ON flowent.workflows FOR INSERT
	WITH CHECK (user_id = flowent.current_user_id());

-- The owner, or an owner/admin of the workflow's workspace.
CREATE POLICY workflows_update ON flowent.workflows FOR UPDATE
	USING (flowent._can_edit(user_id, workspace_id, flowent.current_user_id()))
	WITH CHECK (flowent._can_edit(user_id, workspace_id, flowent.current_user_id()));

CREATE POLICY workflows_delete ON flowent.workflows FOR DELETE
	USING (user_id = flowent.current_user_id());

-- The webhook secret is readable only through flowent.publish(); counters and
-- curation fields (download_count, rating, is_featured) are the system's.
GRANT SELECT (id, name, description, nodes, edges, status, visibility, is_template, template_category,
	tags, roi_badge, complexity, is_featured, download_count, rating, is_published, published_version,
	user_id, workspace_id, version, run_as, settings, created_at, updated_at)
	ON flowent.workflows TO PUBLIC;
GRANT INSERT (id, name, description, nodes, edges, status, visibility, is_template, template_category,
	tags, roi_badge, complexity, user_id, workspace_id, version, run_as, settings)
	ON flowent.workflows TO PUBLIC;
GRANT UPDATE (name, description, nodes, edges, status, visibility, is_template, template_category,
	tags, roi_badge, complexity, is_published, published_version, workspace_id, version, run_as,
	settings, updated_at)
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

-- ===========================================================================
-- Builtin node types (DESIGN §6, Appendix A): the registry rows the web
-- palette and config panel render from, and validate() reads required fields
-- from. config_schema is a JSON-Schema subset:
--   {"type": "object", "required": [...], "properties": {field: {"type",
--    "enum"?, "default"?, "description", "items"?, "properties"?, "format"?}}}
-- A property without "type" takes any JSON value. Any string value may hold
-- {{…}} templates, whatever the declared type. Every schema also lists the
-- fields every node accepts (label, retry, timeoutMs, onError, breakpoint);
-- a type's own definition of such a field wins (wait.timeoutMs).
-- ===========================================================================

WITH common(props) AS (VALUES ('{
	"label": {"type": "string", "description": "Name shown on the canvas and in logs."},
	"retry": {"type": "object", "description": "Retry a failed attempt: {maxAttempts, backoffMs}.",
		"properties": {
			"maxAttempts": {"type": "integer", "default": 1, "description": "Attempts in all, the first one included."},
			"backoffMs": {"type": "integer", "default": 1000, "description": "Milliseconds to wait before the next attempt."}}},
	"timeoutMs": {"type": "integer", "description": "Fail the node with TIMEOUT after this many milliseconds."},
	"onError": {"type": "string", "enum": ["stop", "continue", "branch"], "default": "stop",
		"description": "On failure: stop the execution, continue with output {error}, or follow the error handle."},
	"breakpoint": {"type": "boolean", "default": false,
		"description": "Pause before this node in test runs and runs given breakpoints."}
}'::jsonb)),
types(type, category, label, description, handles, schema) AS (VALUES
('trigger', 'control', 'Trigger', 'Starts the workflow; its output is the trigger payload.', '["out"]', '{
	"required": [],
	"properties": {
		"triggerType": {"type": "string", "enum": ["manual", "schedule", "webhook"], "default": "manual",
			"description": "What starts the workflow: a manual run, a pg_cron schedule or a signed webhook."}}}'),

('output', 'control', 'Output', 'Sets the execution''s output: the value given, else the node''s input.', '[]', '{
	"required": [],
	"properties": {
		"value": {"description": "The output value (any JSON, may hold {{…}}); default: the node''s input."}}}'),

('set-variable', 'data', 'Set Variable', 'Sets workflow variables, readable later as {{variables.name}}.', '["out"]', '{
	"required": [],
	"properties": {
		"name": {"type": "string", "description": "Name of the variable to set (with value)."},
		"value": {"description": "Value of the variable name (any JSON)."},
		"variables": {"type": "object", "description": "Several variables at once: {name: value}."}}}'),

('data-transform', 'data', 'Data Transform', 'Computes a value from the input with a SQL expression or a jsonpath.', '["out"]', '{
	"required": ["expression"],
	"properties": {
		"language": {"type": "string", "enum": ["sql", "jsonpath"], "default": "sql",
			"description": "sql: one read-only SQL expression with jsonb columns input and state; jsonpath: a path over the input."},
		"expression": {"type": "string",
			"description": "The SQL expression (no {{…}}; use input/state) or the jsonpath; its jsonb value is the output."},
		"input": {"description": "Value to transform (any JSON, may hold {{…}}); default: the node''s input."}}}'),

('condition', 'control', 'Condition', 'Chooses the true or false branch from rules combined with AND/OR.', '["true", "false"]', '{
	"required": ["conditions"],
	"properties": {
		"conditions": {"type": "array", "items": {"type": "object"},
			"description": "Rules {left, operator, right} or nested groups {combinator, conditions}. Operators: equals, not_equals, gt, gte, lt, lte, contains, not_contains, starts_with, ends_with, matches, in, not_in, is_empty, is_not_empty, exists, not_exists."},
		"combinator": {"type": "string", "enum": ["and", "or"], "default": "and",
			"description": "How the rules combine: all (and) or any (or)."},
		"fallbackToAI": {"type": "boolean", "default": false,
			"description": "Let an AI model decide when a rule''s left side does not resolve."}}}'),

('switch', 'control', 'Switch', 'Follows the first case whose rule matches the value, else default.', '["default"]', '{
	"required": ["value", "cases"],
	"properties": {
		"value": {"description": "The value to compare (any JSON, usually {{…}})."},
		"cases": {"type": "array", "items": {"type": "object"},
			"description": "Cases [{id, operator (default equals), right}]; each id is an output handle."}}}'),

('merge', 'control', 'Merge', 'Waits for all live inputs and combines them.', '["out"]', '{
	"required": [],
	"properties": {
		"mode": {"type": "string", "enum": ["object", "array"], "default": "object",
			"description": "object: inputs keyed by node id; array: inputs in the order of the edges."}}}'),

('loop-controller', 'control', 'Loop', 'Runs the body branch once per item, then continues on done with the results.', '["body", "done"]', '{
	"required": ["items"],
	"properties": {
		"items": {"type": "array", "description": "The items to loop over ({{loop.item}}, {{loop.index}} in the body)."},
		"parallel": {"type": "integer", "default": 1, "description": "How many iterations may run at once."},
		"maxIterations": {"type": "integer", "description": "Fail with LIMIT_EXCEEDED when there are more items than this."}}}'),

('filter', 'data', 'Filter', 'Keeps the items that match the conditions.', '["out"]', '{
	"required": ["items", "conditions"],
	"properties": {
		"items": {"type": "array", "description": "The array to filter."},
		"conditions": {"type": "array", "items": {"type": "object"},
			"description": "Rules as in condition, evaluated per element with {{item…}}."},
		"combinator": {"type": "string", "enum": ["and", "or"], "default": "and",
			"description": "How the rules combine: all (and) or any (or)."}}}'),

('delay', 'control', 'Delay', 'Pauses the execution for a duration or until a time.', '["out"]', '{
	"required": [],
	"properties": {
		"durationMs": {"type": "integer", "description": "How long to wait, in milliseconds."},
		"until": {"type": "string", "format": "date-time", "description": "Wait until this time (ISO 8601 timestamp)."}}}'),

('wait', 'control', 'Wait for Signal', 'Suspends until flowent.resume() sends data; outputs that data.', '["out"]', '{
	"required": [],
	"properties": {
		"signal": {"type": "string", "description": "Name of the signal to wait for (optional)."},
		"timeoutMs": {"type": "integer", "description": "Deadline in milliseconds: afterwards the node fails with TIMEOUT."}}}'),

('human-approval', 'control', 'Human Approval', 'Suspends until a person approves or rejects.', '["approved", "rejected"]', '{
	"required": ["title"],
	"properties": {
		"title": {"type": "string", "description": "Title of the approval request."},
		"message": {"type": "string", "description": "What the approver is asked to decide."},
		"contextData": {"description": "Data shown to the approver as context (any JSON)."},
		"previewData": {"description": "Preview of what approval will do (any JSON)."},
		"assignedUserId": {"type": "string", "description": "User who may decide; empty: anyone who can see the workflow."},
		"expiresInMs": {"type": "integer", "description": "Expire after this many milliseconds."},
		"expiresAt": {"type": "string", "format": "date-time", "description": "Expire at this time (ISO 8601 timestamp)."},
		"onExpire": {"type": "string", "enum": ["reject", "fail"], "default": "reject",
			"description": "On expiry: take the rejected branch, or fail with APPROVAL_EXPIRED."}}}'),

('sub-workflow', 'control', 'Sub-workflow', 'Runs another workflow as a child execution and outputs its output.', '["out"]', '{
	"required": ["workflowId"],
	"properties": {
		"workflowId": {"type": "string", "format": "uuid", "description": "The workflow to run."},
		"payload": {"description": "Trigger payload of the child (any JSON, may hold {{…}})."}}}'),

('stop-error', 'control', 'Stop with Error', 'Fails the execution with a message and code.', '[]', '{
	"required": [],
	"properties": {
		"message": {"type": "string", "description": "Error message of the execution."},
		"code": {"type": "string", "default": "STOP_ERROR", "description": "Error code of the execution."}}}'),

('database-query', 'data', 'Database Query', 'Runs a parameterised SQL query as the workflow''s run_as role.', '["out"]', '{
	"required": ["query"],
	"properties": {
		"query": {"type": "string", "description": "SQL with $1, $2, … placeholders (no {{…}}: pass values in params)."},
		"params": {"type": "array", "description": "Values of $1, $2, … (may hold {{…}})."},
		"readOnly": {"type": "boolean", "default": true, "description": "Run in a read-only context."},
		"maxRows": {"type": "integer", "default": 1000, "description": "Return at most this many rows (truncated: true past it)."}}}'),

('notify', 'data', 'Notify', 'Sends a payload with pg_notify on a channel.', '["out"]', '{
	"required": ["channel"],
	"properties": {
		"channel": {"type": "string", "description": "NOTIFY channel (not flowent, no {{…}})."},
		"payload": {"description": "Payload to send (any JSON, may hold {{…}}); sent as JSON text."}}}'),

('http-request', 'action', 'HTTP Request', 'Calls an HTTP API; outputs the response status, headers and body.', '["out"]', '{
	"required": ["url"],
	"properties": {
		"method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "GET",
			"description": "HTTP method."},
		"url": {"type": "string", "format": "uri",
			"description": "http or https URL. Private, loopback and link-local addresses are refused unless flowent.http_allow_hosts lists them (redirects are checked too)."},
		"headers": {"type": "object", "description": "Request headers {name: value}; a null value leaves the header out."},
		"query": {"type": "object",
			"description": "Query parameters {name: value}, URL-encoded and appended to the URL; an array value repeats the name, null leaves it out."},
		"body": {"description": "Request body: objects, arrays, numbers and booleans are sent as JSON (Content-Type application/json unless headers set it); a string is sent as it is (text/plain unless headers set it)."},
		"auth": {"type": "object", "description": "Authorization from a credential: {type: bearer or basic, credential: name}.",
			"properties": {
				"type": {"type": "string", "enum": ["bearer", "basic"],
					"description": "bearer: Authorization: Bearer <token>; basic: user and password, base64-encoded."},
				"credential": {"type": "string",
					"description": "Name of a credential (flowent.set_credential): bearer takes a string or {token}; basic takes {username, password} or \"user:password\"."}}},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the whole request (redirects included) takes longer; default flowent.http_timeout_ms (30000)."},
		"acceptStatus": {"type": "array", "items": {"type": ["integer", "string"]},
			"description": "Statuses that count as success, e.g. [200, 404] or [\"2xx\", \"3xx\"]; default 2xx. Any other status fails with HTTP_ERROR."}}}'),

('webhook', 'action', 'Webhook', 'POSTs a JSON payload to a URL, optionally signed with HMAC-SHA256.', '["out"]', '{
	"required": ["url"],
	"properties": {
		"url": {"type": "string", "format": "uri",
			"description": "http or https URL to POST to (same address policy as http-request)."},
		"payload": {"description": "JSON to send (any JSON, may hold {{…}}); default: the node''s input."},
		"secret": {"type": "string",
			"description": "Name of a credential to sign with: X-Flowent-Timestamp (unix seconds) and X-Flowent-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + \".\" + body)>."},
		"headers": {"type": "object", "description": "Extra request headers {name: value}."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the request takes longer; default flowent.http_timeout_ms (30000)."},
		"acceptStatus": {"type": "array", "items": {"type": ["integer", "string"]},
			"description": "Statuses that count as success, e.g. [200, 202] or [\"2xx\"]; default 2xx."}}}')
)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model,
	builtin, handler)
SELECT t.type, t.category, t.label, t.description, t.handles::jsonb,
	jsonb_build_object('type', 'object',
		'required', t.schema::jsonb -> 'required',
		'properties', common.props || (t.schema::jsonb -> 'properties')),
	'{"kind": "free"}'::jsonb, true, NULL
FROM types t, common;
-- Engine entry points, implemented in C (src/pg/api.c).

CREATE FUNCTION flowent.validate(nodes jsonb, edges jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'flowent_validate' LANGUAGE C STABLE;

CREATE FUNCTION flowent.run(workflow_id uuid, payload jsonb DEFAULT '{}', options jsonb DEFAULT '{}')
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_run' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.approve(execution_id uuid, approved boolean, comment text DEFAULT NULL,
								approved_by text DEFAULT NULL)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_approve' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.resume(execution_id uuid, data jsonb DEFAULT '{}')
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_resume' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.cancel(execution_id uuid, reason text DEFAULT NULL)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_cancel' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.rerun(execution_id uuid, from_node text, options jsonb DEFAULT '{}')
	RETURNS uuid AS 'MODULE_PATHNAME', 'flowent_rerun' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent._registry_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'flowent_registry_changed' LANGUAGE C;

CREATE FUNCTION flowent.execute(workflow_id uuid, payload jsonb DEFAULT '{}', options jsonb DEFAULT '{}')
	RETURNS uuid AS 'MODULE_PATHNAME', 'flowent_execute' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent._launcher_rescan() RETURNS boolean
	AS 'MODULE_PATHNAME', 'flowent_launcher_rescan' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION flowent._launcher_rescan() FROM PUBLIC;

-- the background workers start serving this database once it commits
SELECT flowent._launcher_rescan();

-- ===========================================================================
-- pg_dump keeps user data (Appendix B): every user table is an extension
-- configuration table, so its rows are dumped although the table itself is
-- created by CREATE EXTENSION. Builtin node types come from the extension
-- script, so only custom ones are dumped. Tables seeded by the extension
-- script must get a filter here that leaves the seeded rows out.
-- ===========================================================================

SELECT pg_catalog.pg_extension_config_dump('flowent.workspaces', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workspace_members', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflows', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_versions', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_executions', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_node_logs', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_approval_requests', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.credentials', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.budgets', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.model_prices', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.run_queue', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.timers', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.node_types', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('flowent.run_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.timers_id_seq', '');

-- Every backend's registry cache reloads when node_types changes
-- (flowent._registry_changed() is declared in 05_engine.sql).
CREATE TRIGGER node_types_registry_changed
	AFTER INSERT OR UPDATE OR DELETE ON flowent.node_types
	FOR EACH STATEMENT EXECUTE FUNCTION flowent._registry_changed();

-- ===========================================================================
-- Schedules (DESIGN §7, §8, Appendix B): pg_cron jobs that start a published
-- workflow with flowent.execute().
--
--   flowent.schedule(workflow_id uuid, cron text, payload jsonb default '{}') → bigint
--   flowent.unschedule(workflow_id uuid) → boolean
--   flowent.list_schedules() / view flowent.schedules
--
-- pg_cron is optional (not in `requires`). It keeps its jobs in the database
-- named by cron.database_name and only there; schedule() anywhere else, or
-- without pg_cron, is a 55000 naming the problem. Nothing here refers to
-- schema cron statically, so the extension installs without pg_cron.
--
-- Decisions:
-- * One schedule per workflow: the pg_cron job is named 'flowent:<workflow
--   uuid>'; pg_cron 1.4's cron.schedule(job_name, …) upserts on (jobname,
--   username), so scheduling again replaces the expression and the payload
--   and keeps the job id.
-- * Only the workflow's owner schedules it (as only the owner publishes it),
--   so the job is always the owner's.
-- * The job runs as the role that called schedule() (pg_cron runs a job as
--   cron.job.username, i.e. current_user at cron.schedule time). These
--   functions are SECURITY INVOKER, so they never create a job for anyone
--   but the caller (the one SECURITY DEFINER helper only reads
--   cron.database_name, which pg_cron shows to superusers only). The caller needs USAGE on schema cron, which pg_cron does not
--   grant to PUBLIC: a superuser runs `GRANT USAGE ON SCHEMA cron TO role`.
--   Through the gateway (flowent.set_acting_user() called by a member of
--   flowent_gateway), the job is the gateway role's and its one statement
--   sets the same acting user first (FROM flowent.set_acting_user(...)),
--   so the run is the end user's.
-- * Version: the version published when the job fires, not when it was
--   scheduled: the command passes {"triggerType": "schedule"} and no
--   version, and flowent.execute runs the published version for schedule
--   and webhook triggers. Publishing a new version moves the schedule along;
--   a run of a workflow that is gone or not published fails, and pg_cron
--   records why (flowent.schedules.last_run_message).
-- * The cron expression is checked here first, strictly: pg_cron 1.4 reads
--   '*/5 * * * * *' as every five minutes (ignoring the sixth field), accepts
--   junk after '*' or after a field, and knows no 'N seconds' intervals.
-- * Accepted: 5 fields (minute 0-59, hour 0-23, day-of-month 1-31, month
--   1-12 or Jan-Dec, day-of-week 0-7 or Sun-Sat; lists, ranges, steps up to
--   the field's maximum) and pg_cron 1.4.2's macros: @yearly, @annually,
--   @monthly, @weekly, @daily, @midnight, @hourly, @reboot, @restart (the
--   last two: once, when pg_cron's launcher starts). Stored normalised.
-- * Deleting a workflow removes its job (trigger below). DROP EXTENSION
--   flowent does not: remaining 'flowent:%' jobs then fail until removed.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Cron expressions: exactly what pg_cron 1.4.2 parses, and nothing it misreads
-- ---------------------------------------------------------------------------

-- One field of a 5-field expression, as pg_cron 1.4 (Vixie cron) reads it:
-- a comma-separated list of `*`, `*/step`, `n`, `a-b`, `a-b/step`, where n, a,
-- b are numbers in [lo, hi] or, for month and day of week, three-letter names
-- (any case). `n/step` without a range is refused by pg_cron, as here.
CREATE FUNCTION flowent._cron_check_field(expr text, field text, what text, lo integer, hi integer,
										  names text[] DEFAULT NULL, name_base integer DEFAULT 0)
RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	el text;
	m text[];
	a integer;
	b integer;
	v text;
	vals integer[];
	i integer;
	allowed text := 'numbers ' || lo || '-' || hi
		|| CASE WHEN names IS NULL THEN '' ELSE ' or names (' || array_to_string(names, ', ') || ')' END
		|| ', *, lists (1,5), ranges (1-5) and steps (*/15, 1-30/5)';
BEGIN
	FOREACH el IN ARRAY string_to_array(field, ',') LOOP
		IF el = '' THEN
			RAISE EXCEPTION 'cron ''%'': % field ''%'': empty list element', expr, what, field
				USING ERRCODE = '22023';
		END IF;
		m := regexp_match(el, '^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$');
		IF m IS NULL OR (m[1] IS NULL AND m[3] IS NULL AND m[4] IS NOT NULL) THEN
			RAISE EXCEPTION 'cron ''%'': % field ''%'': ''%'' is not valid; allowed: %',
				expr, what, field, el, allowed
				USING ERRCODE = '22023';
		END IF;
		vals := '{}';
		FOREACH v IN ARRAY ARRAY[m[2], m[3]] LOOP
			CONTINUE WHEN v IS NULL;
			IF v ~ '^[0-9]+$' THEN
				IF length(ltrim(v, '0')) > 6 THEN
					RAISE EXCEPTION 'cron ''%'': % field ''%'': % is out of range %-%', expr, what, field, v, lo, hi
						USING ERRCODE = '22023';
				END IF;
				i := v::integer;
			ELSE
				i := array_position(names, initcap(v));
				IF i IS NULL THEN
					RAISE EXCEPTION 'cron ''%'': % field ''%'': ''%'' is not a %; allowed: %',
						expr, what, field, v,
						CASE WHEN names IS NULL THEN 'number' ELSE 'number or name' END, allowed
						USING ERRCODE = '22023';
				END IF;
				i := i - 1 + name_base;
			END IF;
			IF i < lo OR i > hi THEN
				RAISE EXCEPTION 'cron ''%'': % field ''%'': % is out of range %-%', expr, what, field, v, lo, hi
					USING ERRCODE = '22023';
			END IF;
			vals := vals || i;
		END LOOP;
		IF cardinality(vals) = 2 AND vals[1] > vals[2] THEN
			RAISE EXCEPTION 'cron ''%'': % field ''%'': range % runs backwards (it would never match)',
				expr, what, field, m[2] || '-' || m[3]
				USING ERRCODE = '22023';
		END IF;
		IF m[4] IS NOT NULL THEN
			i := CASE WHEN length(ltrim(m[4], '0')) BETWEEN 1 AND 2 THEN m[4]::integer END;
			IF i IS NULL OR i > hi THEN
				RAISE EXCEPTION 'cron ''%'': % field ''%'': step % is out of range 1-%', expr, what, field, m[4], hi
					USING ERRCODE = '22023';
			END IF;
		END IF;
	END LOOP;
END
$$;

-- A cron expression pg_cron 1.4 reads as written, normalised (single spaces,
-- lower-case macros); anything else raises 22023 naming the field.
-- Macros: those pg_cron 1.4.2 knows: @yearly/@annually, @monthly, @weekly,
-- @daily/@midnight, @hourly, and @reboot/@restart (once, when pg_cron's
-- launcher starts, i.e. at server start).
CREATE FUNCTION flowent._cron_check(expr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	s text := btrim(expr, E' \t\r\n');
	f text[];
	fields constant text := 'minute hour day-of-month month day-of-week';
BEGIN
	IF expr IS NULL THEN
		RAISE EXCEPTION 'cron must not be null: use 5 fields (%), e.g. ''0 * * * *''', fields
			USING ERRCODE = '22023';
	END IF;
	IF s = '' THEN
		RAISE EXCEPTION 'cron is empty: use 5 fields (%), e.g. ''0 * * * *''', fields
			USING ERRCODE = '22023';
	END IF;
	IF octet_length(s) > 900 THEN
		RAISE EXCEPTION 'cron is % bytes long; the limit is 900', octet_length(s)
			USING ERRCODE = '22023';
	END IF;
	IF s ~* '^[0-9]+\s*(s|secs?|seconds?)$' THEN
		RAISE EXCEPTION 'cron ''%'': interval schedules in seconds are not supported by pg_cron 1.4 (they came with pg_cron 1.5); the shortest schedule is once a minute: ''* * * * *''',
			expr
			USING ERRCODE = '22023';
	END IF;
	IF s ~* '^[0-9]+\s*[a-z]+$' THEN
		RAISE EXCEPTION 'cron ''%'': interval syntax is not supported by pg_cron 1.4: use 5 fields (%), e.g. ''*/5 * * * *'' for every 5 minutes',
			expr, fields
			USING ERRCODE = '22023';
	END IF;
	IF left(s, 1) = '@' THEN
		IF lower(s) IN ('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly',
						'@reboot', '@restart') THEN
			RETURN lower(s);
		END IF;
		RAISE EXCEPTION 'cron ''%'': unknown macro; pg_cron 1.4 knows @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @reboot and @restart',
			expr
			USING ERRCODE = '22023';
	END IF;
	f := regexp_split_to_array(s, '\s+');
	IF cardinality(f) = 6 THEN
		RAISE EXCEPTION 'cron ''%'' has 6 fields: seconds are not supported by pg_cron 1.4 (it would ignore the last field and read the first as minutes): use 5 fields (%)',
			expr, fields
			USING ERRCODE = '22023';
	END IF;
	IF cardinality(f) <> 5 THEN
		RAISE EXCEPTION 'cron ''%'' has % fields: use 5 fields (%), or a macro such as @daily',
			expr, cardinality(f), fields
			USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._cron_check_field(expr, f[1], 'minute', 0, 59);
	PERFORM flowent._cron_check_field(expr, f[2], 'hour', 0, 23);
	PERFORM flowent._cron_check_field(expr, f[3], 'day-of-month', 1, 31);
	PERFORM flowent._cron_check_field(expr, f[4], 'month', 1, 12,
		'{Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec}', 1);
	PERFORM flowent._cron_check_field(expr, f[5], 'day-of-week', 0, 7,
		'{Sun,Mon,Tue,Wed,Thu,Fri,Sat}', 0);
	RETURN array_to_string(f, ' ');
END
$$;

-- ---------------------------------------------------------------------------
-- Is pg_cron usable from here?
-- ---------------------------------------------------------------------------

-- cron.database_name. pg_cron makes the setting readable only by superusers
-- (and pg_read_all_settings); everyone may know which database it is, so this
-- one reader is SECURITY DEFINER. NULL when pg_cron is not loaded.
CREATE FUNCTION flowent._cron_database_name() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
	SELECT nullif(current_setting('cron.database_name', true), '')
$$;

-- NULL when schedules can be managed from this session, else why not:
-- 'absent' (no pg_cron here, or not its database), 'usage' (no USAGE on
-- schema cron). With raise, a 55000 / 42501 with the explanation instead.
CREATE FUNCTION flowent._cron_unavailable(raise boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	crondb text := flowent._cron_database_name();
BEGIN
	IF crondb IS NULL THEN
		IF raise THEN
			RAISE EXCEPTION 'pg_cron is not installed in this database; schedules need pg_cron in cron.database_name (pg_cron is not loaded on this server)'
				USING ERRCODE = '55000',
					HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, restart, then CREATE EXTENSION pg_cron in that database.';
		END IF;
		RETURN 'absent';
	END IF;
	IF crondb <> current_database() THEN
		IF raise THEN
			RAISE EXCEPTION 'pg_cron is not installed in this database; schedules need pg_cron in cron.database_name ("%"), and this is database "%"',
				crondb, current_database()
				USING ERRCODE = '55000',
					DETAIL = 'pg_cron keeps and runs jobs only in the database named by cron.database_name.',
					HINT = format('Schedule workflows that live in database %I, or set cron.database_name = %L and restart the server.',
						crondb, current_database());
		END IF;
		RETURN 'absent';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		IF raise THEN
			RAISE EXCEPTION 'pg_cron is not installed in this database; schedules need pg_cron in cron.database_name ("%")',
				crondb
				USING ERRCODE = '55000',
					HINT = 'A superuser can run CREATE EXTENSION pg_cron in this database.';
		END IF;
		RETURN 'absent';
	END IF;
	IF NOT has_schema_privilege('cron', 'USAGE') THEN
		IF raise THEN
			RAISE EXCEPTION 'role "%" may not use pg_cron (no USAGE on schema cron): a schedule is a pg_cron job of the calling role',
				current_user
				USING ERRCODE = '42501',
					HINT = format('A superuser can allow it: GRANT USAGE ON SCHEMA cron TO %I;', current_user);
		END IF;
		RETURN 'usage';
	END IF;
	RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------
-- The API
-- ---------------------------------------------------------------------------

-- The command of a workflow's job.
CREATE FUNCTION flowent._schedule_command(workflow_id uuid, payload jsonb, user_id text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format('SELECT flowent.execute(%L::uuid, %L::jsonb, %L::jsonb)',
			workflow_id, payload, '{"triggerType": "schedule"}')
		|| CASE WHEN user_id IS NULL THEN '' ELSE format(' FROM flowent.set_acting_user(%L)', user_id) END
$$;

CREATE FUNCTION flowent.schedule(workflow_id uuid, cron text, payload jsonb DEFAULT '{}') RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	me text := flowent.current_user_id();
	w record;
	spec text;
	lim bigint;
	job bigint;
BEGIN
	IF workflow_id IS NULL THEN
		RAISE EXCEPTION 'workflow_id must not be null' USING ERRCODE = '22023';
	END IF;
	payload := coalesce(payload, '{}');
	lim := pg_size_bytes(coalesce(current_setting('flowent.max_payload_bytes', true), '8MB'));
	IF pg_column_size(payload) > lim THEN
		RAISE EXCEPTION 'payload is % bytes; the limit is % (flowent.max_payload_bytes)', pg_column_size(payload), lim
			USING ERRCODE = '54000';
	END IF;

	SELECT wf.user_id, wf.status, wf.is_published, wf.published_version INTO w
	FROM flowent.workflows wf WHERE wf.id = schedule.workflow_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', workflow_id USING ERRCODE = '42704';
	END IF;
	IF w.user_id <> me THEN
		RAISE EXCEPTION 'workflow %: only its owner may schedule it', workflow_id USING ERRCODE = '42501';
	END IF;
	IF w.status = 'archived' THEN
		RAISE EXCEPTION 'workflow % is archived: an archived workflow cannot be scheduled', workflow_id
			USING ERRCODE = '55000';
	END IF;
	IF NOT coalesce(w.is_published, false) OR coalesce(w.published_version, 0) < 1 THEN
		RAISE EXCEPTION 'workflow % is not published: schedules run the published version', workflow_id
			USING ERRCODE = '55000', HINT = format('Call flowent.publish(%L) first.', workflow_id);
	END IF;

	spec := flowent._cron_check(cron);
	PERFORM flowent._cron_unavailable(true);

	-- The job runs as current_user; through the gateway it also needs the
	-- end user's id, which only a member of flowent_gateway may set.
	IF me <> current_user::text AND NOT pg_has_role(current_user, 'flowent_gateway', 'MEMBER') THEN
		RAISE EXCEPTION 'workflow %: a schedule runs as role "%", which is not user "%"; schedule it as that user''s role',
			workflow_id, current_user, me
			USING ERRCODE = '42501';
	END IF;

	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
		USING 'flowent:' || workflow_id, spec,
			flowent._schedule_command(workflow_id, payload,
				CASE WHEN me <> current_user::text THEN me END);
	RETURN job;
END
$$;

CREATE FUNCTION flowent.unschedule(workflow_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	owner text;
	j bigint;
	found_any boolean := false;
BEGIN
	IF workflow_id IS NULL THEN
		RAISE EXCEPTION 'workflow_id must not be null' USING ERRCODE = '22023';
	END IF;
	SELECT wf.user_id INTO owner FROM flowent.workflows wf WHERE wf.id = unschedule.workflow_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', workflow_id USING ERRCODE = '42704';
	END IF;
	IF owner <> flowent.current_user_id() THEN
		RAISE EXCEPTION 'workflow %: only its owner may unschedule it', workflow_id USING ERRCODE = '42501';
	END IF;
	-- Without pg_cron here nothing can be scheduled; without USAGE on cron
	-- a job of ours may still exist: say so rather than answer false.
	IF flowent._cron_unavailable() = 'absent' THEN
		RETURN false;
	END IF;
	PERFORM flowent._cron_unavailable(true);
	FOR j IN EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user'
		USING 'flowent:' || workflow_id
	LOOP
		EXECUTE 'SELECT cron.unschedule($1)' USING j;
		found_any := true;
	END LOOP;
	RETURN found_any;
END
$$;

-- Schedules of workflows the caller sees, among the pg_cron jobs the caller
-- sees (pg_cron's row-level security: one's own jobs; superusers see all).
-- Empty without pg_cron in this database or without USAGE on schema cron.
CREATE FUNCTION flowent.list_schedules()
RETURNS TABLE (workflow_id uuid, workflow_name text, job_id bigint, schedule text, command text,
			   active boolean, username text, last_run_status text, last_run_at timestamptz,
			   last_run_message text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF flowent._cron_unavailable() IS NOT NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE $q$
		SELECT w.id, w.name::text, j.jobid, j.schedule, j.command, j.active, j.username,
			r.status, r.start_time, r.return_message
		FROM cron.job j
		JOIN flowent.workflows w
			ON w.id = CASE WHEN j.jobname ~ '^flowent:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
				THEN substr(j.jobname, 9)::uuid END
		LEFT JOIN LATERAL (
			SELECT d.status, d.start_time, d.return_message
			FROM cron.job_run_details d
			WHERE d.jobid = j.jobid
			ORDER BY d.runid DESC
			LIMIT 1) r ON true
		WHERE j.jobname LIKE 'flowent:%'
		ORDER BY w.name, w.id, j.jobid
	$q$;
END
$$;

CREATE VIEW flowent.schedules AS
	SELECT s.workflow_id, s.workflow_name, s.job_id, s.schedule, s.command, s.active, s.username,
		s.last_run_status, s.last_run_at, s.last_run_message
	FROM flowent.list_schedules() s;
GRANT SELECT ON flowent.schedules TO PUBLIC;

-- A deleted workflow takes its jobs along (those the deleting role may
-- remove: its own, or all for a superuser).
CREATE FUNCTION flowent._unschedule_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	j bigint;
BEGIN
	IF flowent._cron_unavailable() IS NOT NULL THEN
		RETURN NULL;
	END IF;
	FOR j IN EXECUTE 'SELECT c.jobid FROM cron.job c JOIN gone g ON c.jobname = ''flowent:'' || g.id'
	LOOP
		EXECUTE 'SELECT cron.unschedule($1)' USING j;
	END LOOP;
	RETURN NULL;
END
$$;
CREATE TRIGGER unschedule_deleted AFTER DELETE ON flowent.workflows
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION flowent._unschedule_deleted();
