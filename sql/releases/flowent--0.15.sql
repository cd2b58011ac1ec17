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

-- Roles: 'owner' and 'admin' manage the members and, with 'editor', change
-- the workspace's workflows (flowent._can_edit); 'member' and 'viewer' see
-- its team workflows. 'editor' (release 0.5) is the editing member of the
-- owner/editor/viewer vocabulary of the dashboard.
CREATE TABLE flowent.workspace_members (
	workspace_id uuid NOT NULL REFERENCES flowent.workspaces(id) ON DELETE CASCADE,
	user_id varchar(255) NOT NULL,
	role text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'editor', 'member', 'viewer')),
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
	updated_at timestamptz DEFAULT now(),
	-- release 0.5: a template recommended to new users (seed §3.2 "Starter-Kits");
	-- curated like is_featured, not writable by users
	starter_kit boolean NOT NULL DEFAULT false,
	-- release 0.8: days its executions are kept (NULL: flowent.retention_days; 0: forever)
	retention_days integer CHECK (retention_days >= 0)
);
CREATE INDEX ON flowent.workflows (user_id);
CREATE INDEX ON flowent.workflows (workspace_id);
-- release 0.6: the pipelines list's order (api_list_pipelines), read up to its page
CREATE INDEX ON flowent.workflows (updated_at DESC NULLS LAST, id);

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

-- History is partitioned by UTC day (release 0.9): the engine's ids are
-- time-ordered (version 7) uuids, so the range of a day's ids is its
-- partition (flowent._add_partition), an execution's node logs lie in the
-- partition of the same day, and a lookup by id reads one partition.  The
-- default partitions hold what no day's partition takes (ids from before
-- release 0.3, which were random).  Pruning drops the partitions of days that
-- are all past retention (13_retention.sql).  The keys and indexes are the
-- partitions' own, those of the default partition copied to each day's: a
-- restore attaches a day's partition before it makes its indexes, which
-- indexes of the parents (the extension's, there already) would make twice.
-- A key of id per partition is one of the table: id decides the partition.
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
	DELETE FROM flowent.node_progress p USING gone g WHERE p.execution_id = g.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER delete_execution_rows AFTER DELETE ON flowent.workflow_executions
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION flowent._delete_execution_rows();

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
	execution_id uuid NOT NULL,			-- goes with it: flowent._delete_execution_rows()
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
	UNIQUE (user_id, period),
	-- what the period has spent and holds for calls in flight (16_budgets.sql)
	spent_usd numeric(14,6) NOT NULL DEFAULT 0,
	spent_tokens bigint NOT NULL DEFAULT 0,
	reserved_usd numeric(14,6) NOT NULL DEFAULT 0,
	reserved_tokens bigint NOT NULL DEFAULT 0,
	period_start timestamptz NOT NULL DEFAULT '-infinity',
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- Work for the background worker: executions to start or continue.
CREATE TABLE flowent.run_queue (
	id bigserial PRIMARY KEY,
	execution_id uuid NOT NULL,			-- goes with it: flowent._delete_execution_rows()
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
	execution_id uuid NOT NULL,			-- goes with it: flowent._delete_execution_rows()
	node_id text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('delay', 'approval_expiry', 'wait_timeout', 'retry')),
	fire_at timestamptz NOT NULL,
	payload jsonb NOT NULL DEFAULT '{}',
	fired_at timestamptz
);
CREATE INDEX ON flowent.timers (fire_at) WHERE fired_at IS NULL;

-- API tokens of the gateway (release 0.5): a bearer token stands for a user.
-- Only its sha256 is kept; nothing but the SECURITY DEFINER functions of
-- 08_gateway.sql reads token_hash (users see flowent.my_api_tokens).
CREATE TABLE flowent.api_tokens (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id varchar(255) NOT NULL,
	name text NOT NULL,
	token_hash bytea NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	expires_at timestamptz,
	revoked_at timestamptz
);
CREATE INDEX ON flowent.api_tokens (user_id);

-- Signatures of the webhook deliveries of the last minutes, so that a
-- delivery replayed within the gateway's time window is refused.
CREATE TABLE flowent.webhook_deliveries (
	workflow_id uuid NOT NULL,
	signature text NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (workflow_id, signature)
);
CREATE INDEX ON flowent.webhook_deliveries (received_at);

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

-- The role of user uid in workspace ws ('owner', 'admin', 'editor', 'member', 'viewer'),
-- or NULL when uid is not a member. SECURITY DEFINER so that policies can ask
-- without recursing into workspace_members' own policy.
CREATE FUNCTION flowent._workspace_role(ws uuid, uid text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT m.role FROM flowent.workspace_members m
	WHERE m.workspace_id = ws AND m.user_id = uid
$$;

-- The workflows SELECT policy's rule: whether user uid sees a workflow of
-- this owner, visibility and workspace. The policy and the functions that
-- apply the rule themselves share it; a plain SQL expression, so the planner
-- inlines it where it is used.
CREATE FUNCTION flowent._workflow_visible(owner text, vis flowent.workflow_visibility, ws uuid, uid text)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT owner = uid
		OR vis = 'public'
		OR (vis = 'team' AND ws IS NOT NULL AND flowent._workspace_role(ws, uid) IS NOT NULL)
$$;

-- Whether user uid may see workflow wf (the workflows SELECT policy, for a
-- given user). For the engine, which knows the user; not granted to PUBLIC.
CREATE FUNCTION flowent._workflow_visible_to(wf uuid, uid text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT coalesce((
		SELECT flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, uid)
		FROM flowent.workflows w WHERE w.id = wf), false)
$$;
REVOKE ALL ON FUNCTION flowent._workflow_visible_to(uuid, text) FROM PUBLIC;

-- Whether the current user sees workflow wf: row-level security decides.
CREATE FUNCTION flowent.can_see_workflow(wf uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = wf)
$$;

-- Whether user uid may change workflow wf: its owner, or an owner, admin or
-- editor of its workspace (the workflows UPDATE policy).
CREATE FUNCTION flowent._can_edit(owner text, ws uuid, uid text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT owner = uid
		OR (ws IS NOT NULL AND flowent._workspace_role(ws, uid) IN ('owner', 'admin', 'editor'))
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
		'workspaceId', 'runAs', 'isTemplate', 'templateCategory', 'complexity', 'message', 'settings',
		'retentionDays']);

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
		flowent._json_object(o -> 'settings', 'options.settings'),
		flowent._json_int(o -> 'retentionDays', 'options.retentionDays', 0, 36500, NULL);
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
		template_category, tags, complexity, user_id, workspace_id, version, run_as, settings, retention_days)
	VALUES (v_name, o ->> 'description', create_workflow.nodes, create_workflow.edges,
		v_status::flowent.workflow_status, v_visibility::flowent.workflow_visibility,
		coalesce((o ->> 'isTemplate')::boolean, false), v_category::flowent.template_category,
		flowent._json_tags(o -> 'tags', 'options.tags'), v_complexity::flowent.template_complexity,
		me, v_ws, 1, v_run_as, flowent._json_object(o -> 'settings', 'options.settings'),
		flowent._json_int(o -> 'retentionDays', 'options.retentionDays', 0, 36500, NULL))
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
		'visibility', 'tags', 'runAs', 'message', 'expectedVersion', 'settings', 'workspaceId', 'retentionDays']);
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
		flowent._json_object(c -> 'settings', 'changes.settings'),
		flowent._json_int(c -> 'retentionDays', 'changes.retentionDays', 0, 36500, NULL);
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
		RAISE EXCEPTION 'workflow %: only its owner or an owner, admin or editor of its workspace may change it',
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
		RAISE EXCEPTION 'workflow % was changed: expected version %, current version %',
			update_workflow.id, v_expected, w.version
			USING ERRCODE = '55000',
				DETAIL = jsonb_build_object('expectedVersion', v_expected, 'currentVersion', w.version)::text;
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
		retention_days = CASE WHEN c ? 'retentionDays'
			THEN flowent._json_int(c -> 'retentionDays', 'changes.retentionDays', 0, 36500, NULL)
			ELSE wf.retention_days END,
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

-- 64 hex characters from two random UUIDs (pg_strong_random): webhook
-- secrets and API tokens (no pgcrypto needed).
CREATE FUNCTION flowent._random_hex64() RETURNS text
LANGUAGE sql VOLATILE AS $$
	SELECT encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'hex')
$$;

-- The webhook secret of a workflow the caller owns, generated on first use.
-- The column is not readable by ordinary roles (03_rls.sql), hence SECURITY
-- DEFINER.
CREATE FUNCTION flowent._ensure_webhook_secret(wf uuid) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	s text;
BEGIN
	UPDATE flowent.workflows w
	SET webhook_secret = coalesce(w.webhook_secret, flowent._random_hex64())
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
		"triggerType": {"type": "string", "enum": ["manual", "schedule", "webhook", "table"], "default": "manual",
			"description": "What starts the workflow: a manual run, a pg_cron schedule, a signed webhook or a row written in a watched table (flowent.on_change)."},
		"schema": {"type": "object",
			"description": "A JSON Schema of the payload; an llm-agent offering this workflow as a tool gives it to the model as the tool''s parameters."}}}'),

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
			"description": "Let an AI model decide when a rule''s left side does not resolve."},
		"model": {"type": "string", "description": "The model that decides for fallbackToAI (as llm-agent''s)."},
		"credential": {"type": "string", "description": "Name of the credential with the model API''s key (a string or {apiKey})."},
		"baseUrl": {"type": "string", "format": "uri",
			"description": "The OpenAI-style API base, before /chat/completions; default flowent.llm_base_url."}}}'),

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
			"description": "Statuses that count as success, e.g. [200, 202] or [\"2xx\"]; default 2xx."}}}'),

('llm-agent', 'ai', 'LLM Agent', 'Asks an OpenAI-compatible chat-completions API; token usage becomes cost.', '["out"]', '{
	"required": ["model"],
	"properties": {
		"model": {"type": "string", "description": "The model, e.g. gpt-4o-mini (its price: flowent.model_price)."},
		"prompt": {"type": "string", "description": "The user message (may hold {{…}}); required unless messages is given."},
		"systemPrompt": {"type": "string", "description": "The system message, sent first."},
		"messages": {"type": "array", "items": {"type": "object"},
			"description": "A conversation from earlier nodes, [{role, content}], sent after the system message and before prompt."},
		"temperature": {"type": "number", "description": "Sampling temperature, as the API takes it."},
		"maxTokens": {"type": "integer", "description": "Most tokens the answer may have (max_tokens)."},
		"responseFormat": {"type": "string", "enum": ["text", "json"], "default": "text",
			"description": "json asks for a JSON object and outputs it parsed as json (AI_RESPONSE_INVALID when it is not)."},
		"credential": {"type": "string",
			"description": "Name of a credential with the API key: a string or {apiKey}; sent as a bearer token."},
		"baseUrl": {"type": "string", "format": "uri",
			"description": "The API up to before /chat/completions, e.g. https://api.openai.com/v1; default flowent.llm_base_url."},
		"tools": {"type": "array", "items": {"type": "object"},
			"description": "Workflows the model may call: [{workflowId, name?, description?, parameters?}]; each call runs the workflow with the arguments as its payload, and its output goes back to the model."},
		"maxSteps": {"type": "integer", "default": 5,
			"description": "Most model calls of one run of the node (with tools); the last is told to answer."},
		"retry": {"type": "object",
			"description": "Retry a failed attempt: {maxAttempts, backoffMs}. Without it a call that fails with AI_UNAVAILABLE or TIMEOUT is made 3 times in all, 1 s and 2 s apart (longer when Retry-After asks).",
			"properties": {
				"maxAttempts": {"type": "integer", "default": 3, "description": "Attempts in all, the first one included."},
				"backoffMs": {"type": "integer", "default": 1000, "description": "Milliseconds to wait before the next attempt (doubling)."}}},
		"stream": {"type": "boolean", "default": true,
			"description": "In asynchronous runs, ask for the answer as a stream and show its text as it is written (step:progress events); the output is the same."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when a call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('web-search', 'action', 'Web Search', 'Searches the web with Brave, DuckDuckGo or Google: [{title, url, snippet}].', '["out"]', '{
	"required": ["provider", "query"],
	"properties": {
		"provider": {"type": "string", "enum": ["brave", "duckduckgo", "google"],
			"description": "brave (Web Search API), duckduckgo (Instant Answer API, no key) or google (Custom Search JSON API)."},
		"query": {"type": "string", "description": "What to search for (may hold {{…}})."},
		"count": {"type": "integer", "default": 10, "description": "Most results, 1 to 50 (Google: 10)."},
		"credential": {"type": "string",
			"description": "Name of a credential: brave a string or {apiKey}; google {apiKey, cx}; duckduckgo none."},
		"baseUrl": {"type": "string", "format": "uri", "description": "The search endpoint; default the provider''s own."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-create-contact', 'action', 'HubSpot: Create Contact', 'Creates a HubSpot contact (CRM v3); outputs HubSpot''s answer.', '["out"]', '{
	"required": ["credential", "properties"],
	"properties": {
		"properties": {"type": "object", "description": "The contact''s properties, e.g. {email, firstname, lastname} (may hold {{…}})."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-update-deal', 'action', 'HubSpot: Update Deal', 'Changes a HubSpot deal''s properties (CRM v3); outputs HubSpot''s answer.', '["out"]', '{
	"required": ["credential", "dealId", "properties"],
	"properties": {
		"dealId": {"type": ["string", "integer"], "description": "The deal''s id."},
		"properties": {"type": "object", "description": "The properties to set, e.g. {dealstage, amount}."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-add-note', 'action', 'HubSpot: Add Note', 'Adds a note to a HubSpot contact and/or deal (CRM v3); outputs HubSpot''s answer.', '["out"]', '{
	"required": ["credential", "body"],
	"properties": {
		"body": {"type": "string", "description": "The note''s text (hs_note_body)."},
		"contactId": {"type": ["string", "integer"], "description": "The contact to attach it to."},
		"dealId": {"type": ["string", "integer"], "description": "The deal to attach it to."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-search-contacts', 'action', 'HubSpot: Search Contacts', 'Searches HubSpot contacts (CRM v3 search); outputs {total, results, paging}.', '["out"]', '{
	"required": ["credential"],
	"properties": {
		"filters": {"type": "array", "items": {"type": "object"},
			"description": "Filters, all to hold: [{propertyName, operator (EQ, CONTAINS_TOKEN, GT, …), value}]."},
		"properties": {"type": "array", "items": {"type": "string"}, "description": "The properties to return."},
		"limit": {"type": "integer", "default": 10, "description": "Results per page, 1 to 200."},
		"after": {"type": "string", "description": "The paging cursor of a previous answer (paging.next.after)."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('email', 'action', 'Email', 'Sends an email over SMTP or SMTPS: {messageId, accepted}.', '["out"]', '{
	"required": ["server", "from", "to"],
	"properties": {
		"server": {"type": "string", "format": "uri",
			"description": "smtp://host:port (STARTTLS when offered) or smtps://host:port (TLS from the start)."},
		"credential": {"type": "string", "description": "Name of a credential {username, password} for the server''s AUTH."},
		"from": {"type": "string", "description": "The sender: name@example.com or Name <name@example.com>."},
		"to": {"description": "A recipient or a list of recipients (addresses as for from)."},
		"cc": {"description": "Copy recipients: an address or a list."},
		"bcc": {"description": "Blind copy recipients: an address or a list (in the envelope only)."},
		"replyTo": {"type": "string", "description": "Where replies go."},
		"subject": {"type": "string", "description": "The subject (UTF-8; may hold {{…}})."},
		"text": {"type": "string", "description": "The plain-text body."},
		"html": {"type": "string", "description": "The HTML body (with text: multipart/alternative)."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when sending takes longer; default flowent.http_timeout_ms (30000)."}}}')
)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model,
	builtin, handler)
SELECT t.type, t.category, t.label, t.description, t.handles::jsonb,
	jsonb_build_object('type', 'object',
		'required', t.schema::jsonb -> 'required',
		'properties', common.props || (t.schema::jsonb -> 'properties')),
	CASE t.type WHEN 'llm-agent' THEN '{"kind": "tokens", "prices": "flowent.model_price"}'
		ELSE '{"kind": "free"}' END::jsonb, true, NULL
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
-- script must get a filter here that leaves the seeded rows out: the
-- templates of 10_templates.sql are the workflows (and versions) of the
-- system user "flowent", whom no one else may act as (_workflows_guard), so a
-- restore gets them from CREATE EXTENSION only, once. (Their download counts
-- start again at 0 in a restored database.)
-- ===========================================================================

SELECT pg_catalog.pg_extension_config_dump('flowent.workspaces', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workspace_members', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflows', 'WHERE user_id <> ''flowent''');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_versions',
	'WHERE workflow_id NOT IN (SELECT w.id FROM flowent.workflows w WHERE w.user_id = ''flowent'')');
-- History: the day partitions are tables of their own (pg_dump keeps them
-- and their rows, 15_partitions.sql); the default partitions are the
-- extension's.
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_executions_default', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_node_logs_default', '');
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

-- API tokens (release 0.5): a restored database keeps its tokens. Webhook
-- deliveries are a replay cache of minutes, not data: not dumped.
SELECT pg_catalog.pg_extension_config_dump('flowent.api_tokens', '');

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

-- ===========================================================================
-- The SQL side of the HTTP gateway (DESIGN §10, release 0.5): API tokens,
-- one function per route (seed §4.1, shapes of seed §9) and the webhook
-- entry points. Every route of the gateway is a thin call of one function
-- here, so SQL callers and HTTP clients get the same answers and errors.
--
-- * api_* functions are SECURITY INVOKER: row-level security (03_rls.sql)
--   decides what flowent.current_user_id() sees; they return jsonb.
-- * gateway_* functions are SECURITY DEFINER and executable by members of
--   flowent_gateway only: they act before anyone is known (a bearer token,
--   a webhook's signature), so they read what no user may read.
-- * Functions whose arguments come from a request body are not STRICT: a
--   missing value is a 22023 naming it, never a NULL answer; those taking
--   only ids from the path are STRICT.
-- * Errors: 22023 bad input (HTTP 400), 28000 bad, revoked or expired token
--   (401), 42501 not allowed (403), 42704 not found or not visible (404),
--   55000 wrong state or conflict (409), 54000 limit (413).
-- * JSON keys are camelCase, except in the pipeline objects of seed §9.1
--   (api_list_pipelines, api_get_pipeline), which keep the seed's snake_case.
-- * The readers of executions run with jit = off: they are short lookups,
--   and under row-level security the planner may not use the statistics of
--   non-leakproof operators (enum comparisons), so its estimates can pass
--   jit_above_cost and compiling would cost more than the query (~0.4 s).
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

-- A user id as the acting user can be: 1 to 200 characters.
CREATE FUNCTION flowent._check_user_id(uid text, field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF uid IS NULL OR length(uid) NOT BETWEEN 1 AND 200 THEN
		RAISE EXCEPTION '% must be 1 to 200 characters, got %', field,
			coalesce(length(uid) || ' characters', 'null')
			USING ERRCODE = '22023';
	END IF;
	RETURN uid;
END
$$;

-- Whether user uid is an administrator: a role of that name that is a
-- superuser or a member of flowent_admin (as the engine's fl_is_admin: a
-- gateway's end user is one only if a role of that name is).
CREATE FUNCTION flowent._is_admin(uid text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'flowent_admin', 'MEMBER')
		FROM pg_catalog.pg_roles r WHERE r.rolname = uid), false)
$$;

-- Whether s is a UUID (as uuid_in reads one).
CREATE FUNCTION flowent._is_uuid(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT s ~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$'
$$;

-- A UUID given as a JSON string (JSON null or absent gives NULL).
CREATE FUNCTION flowent._json_uuid(v jsonb, field text) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	s text := flowent._json_string(v, field);
BEGIN
	IF s IS NOT NULL AND NOT flowent._is_uuid(s) THEN
		RAISE EXCEPTION '% must be a UUID, got %', field, v::text USING ERRCODE = '22023';
	END IF;
	RETURN s::uuid;
END
$$;

-- An integer from lo to hi: a JSON number, or a string of digits (query
-- strings reach the gateway as text). JSON null or absent gives dflt.
CREATE FUNCTION flowent._json_int(v jsonb, field text, lo integer, hi integer, dflt integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	s text := CASE jsonb_typeof(v) WHEN 'number' THEN v::text WHEN 'string' THEN btrim(v #>> '{}') END;
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN dflt;
	END IF;
	IF s IS NULL OR s !~ '^-?[0-9]{1,10}$' OR s::bigint NOT BETWEEN lo AND hi THEN
		RAISE EXCEPTION '% must be an integer from % to %, got %', field, lo, hi, v::text
			USING ERRCODE = '22023';
	END IF;
	RETURN s::integer;
END
$$;

-- The stored form of an API token.
CREATE FUNCTION flowent._token_hash(token text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
	SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;

-- Whether token looks like an API token: "flw_" and 64 hex digits.
CREATE FUNCTION flowent._is_token(token text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT token ~ '^flw_[0-9a-f]{64}$'
$$;

-- 42704 unless the current user sees workflow wf.
CREATE FUNCTION flowent._require_workflow(wf uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF wf IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	IF NOT flowent.can_see_workflow(wf) THEN
		RAISE EXCEPTION 'workflow % not found', wf USING ERRCODE = '42704';
	END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- API tokens
-- ---------------------------------------------------------------------------

-- A new API token for user_id: "flw_" and 64 hex digits, shown only here;
-- only its sha256 is stored. For the user themselves, superusers and
-- members of flowent_admin. name NULL is 'default'; expires_in NULL: never.
CREATE FUNCTION flowent.create_api_token(user_id text, name text DEFAULT 'default',
										 expires_in interval DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
	v_name text := coalesce(create_api_token.name, 'default');
	token text;
BEGIN
	PERFORM flowent._check_user_id(create_api_token.user_id, 'user_id'), flowent._check_name(v_name, 'name');
	IF expires_in <= interval '0' THEN
		RAISE EXCEPTION 'expires_in must be a positive interval (or null: never), got %', expires_in
			USING ERRCODE = '22023';
	END IF;
	IF create_api_token.user_id <> caller AND NOT flowent._is_admin(caller) THEN
		RAISE EXCEPTION 'user "%" may not create an API token for user "%": only that user, a superuser or a member of flowent_admin may',
			caller, create_api_token.user_id
			USING ERRCODE = '42501';
	END IF;
	token := 'flw_' || flowent._random_hex64();
	INSERT INTO flowent.api_tokens (user_id, name, token_hash, expires_at)
	VALUES (create_api_token.user_id, v_name, flowent._token_hash(token), now() + expires_in);
	RETURN token;
END
$$;

-- Revoke an API token, given as the token itself or as its id; false when
-- there is none. For the token's user, superusers and members of flowent_admin.
CREATE FUNCTION flowent.revoke_api_token(token text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
	v_id uuid;
	v_user text;
BEGIN
	IF flowent._is_token(token) THEN
		SELECT t.id, t.user_id INTO v_id, v_user FROM flowent.api_tokens t
		WHERE t.token_hash = flowent._token_hash(token) FOR UPDATE;
	ELSIF flowent._is_uuid(token) THEN
		SELECT t.id, t.user_id INTO v_id, v_user FROM flowent.api_tokens t
		WHERE t.id = token::uuid FOR UPDATE;
	ELSE
		-- never echo what may be a secret
		RAISE EXCEPTION 'token must be an API token ("flw_" and 64 hex digits) or the id of one (a UUID)'
			USING ERRCODE = '22023';
	END IF;
	IF v_id IS NULL THEN
		RETURN false;
	END IF;
	IF v_user <> caller AND NOT flowent._is_admin(caller) THEN
		RAISE EXCEPTION 'API token %: only its user, a superuser or a member of flowent_admin may revoke it', v_id
			USING ERRCODE = '42501';
	END IF;
	UPDATE flowent.api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) WHERE t.id = v_id;
	RETURN true;
END
$$;

-- The gateway's first statement of a request: the token's user becomes the
-- acting user of this transaction (flowent.set_acting_user, which checks
-- that the session user is a member of flowent_gateway); returns the user
-- id. 28000 for an unknown, revoked or expired token. last_used_at is
-- written at most once a minute, and never waits for a row lock (another
-- request of the same token may hold it) nor in a read-only transaction.
CREATE FUNCTION flowent.gateway_login(token text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	v_id uuid;
	v_user text;
	v_revoked timestamptz;
	v_expires timestamptz;
	v_last timestamptz;
BEGIN
	IF flowent._is_token(token) THEN
		SELECT t.id, t.user_id, t.revoked_at, t.expires_at, t.last_used_at
		INTO v_id, v_user, v_revoked, v_expires, v_last
		FROM flowent.api_tokens t WHERE t.token_hash = flowent._token_hash(token);
	END IF;
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'invalid API token' USING ERRCODE = '28000';
	END IF;
	IF v_revoked IS NOT NULL THEN
		RAISE EXCEPTION 'API token revoked' USING ERRCODE = '28000';
	END IF;
	IF v_expires <= now() THEN
		RAISE EXCEPTION 'API token expired' USING ERRCODE = '28000';
	END IF;
	IF (v_last IS NULL OR v_last < now() - interval '1 minute')
		AND current_setting('transaction_read_only') = 'off' THEN
		UPDATE flowent.api_tokens t SET last_used_at = now()
		WHERE t.id = (SELECT u.id FROM flowent.api_tokens u
			WHERE u.id = v_id AND (u.last_used_at IS NULL OR u.last_used_at < now() - interval '1 minute')
			FOR UPDATE SKIP LOCKED);
	END IF;
	PERFORM flowent.set_acting_user(v_user);
	RETURN v_user;
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_login(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_login(text) TO flowent_gateway;

-- ---------------------------------------------------------------------------
-- Pipelines (seed §9.1): workflows with their run statistics
-- ---------------------------------------------------------------------------

-- The pipeline objects of the workflows among ids the caller sees, in the
-- order of ids, built as json text (half the work of jsonb). The executions
-- counted and the latest one are those the caller sees, the executions
-- policy's rule decided once per workflow instead of per row (and per node
-- log): all executions of a workflow the caller may edit, else the caller's
-- own. Hence SECURITY DEFINER, with the workflows policy's rule applied to
-- ids. current_step counts the nodes that finished (success, error or
-- skipped), total_steps the nodes of the execution's version.
-- plpgsql, not sql: its plan is kept for the session instead of being
-- made again on every call
CREATE FUNCTION flowent._pipelines(ids uuid[]) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
BEGIN
	RETURN (
		SELECT coalesce(json_agg(json_build_object(
			'id', w.id,
			'name', w.name,
			'description', w.description,
			'is_active', w.status = 'active',
			'status', w.status,
			'trigger_type', coalesce(jsonb_path_query_first(w.nodes,
				'$[*] ? (@.type == "trigger").data.triggerType') #>> '{}', 'manual'),
			'visibility', w.visibility,
			'version', w.version,
			'published_version', w.published_version,
			'created_at', w.created_at,
			'updated_at', w.updated_at,
			'latest_execution', le.execution,
			'execution_count', s.total,
			'successful_count', s.succeeded,
			'failed_count', s.failed) ORDER BY t.ord), '[]'::json)
		FROM unnest(ids) WITH ORDINALITY AS t(id, ord)
		JOIN flowent.workflows w ON w.id = t.id
			AND flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, caller)
		CROSS JOIN LATERAL (SELECT flowent._can_edit(w.user_id, w.workspace_id, caller) AS all_runs) r
		CROSS JOIN LATERAL (
			SELECT count(*) AS total,
				count(*) FILTER (WHERE e.status = 'success') AS succeeded,
				count(*) FILTER (WHERE e.status = 'error') AS failed
			FROM flowent.workflow_executions e
			WHERE e.workflow_id = w.id AND (r.all_runs OR e.user_id = caller)) s
		LEFT JOIN LATERAL (
			SELECT json_build_object(
				'id', e.id,
				'status', e.status,
				'started_at', e.started_at,
				'completed_at', e.completed_at,
				'current_step', (SELECT count(DISTINCT l.node_id) FROM flowent.workflow_node_logs l
					WHERE l.execution_id = e.id AND l.status IN ('success', 'error', 'skipped')),
				'total_steps', (SELECT jsonb_array_length(v.nodes) FROM flowent.workflow_versions v
					WHERE v.workflow_id = e.workflow_id AND v.version = e.workflow_version)) AS execution
			FROM flowent.workflow_executions e
			WHERE e.workflow_id = w.id AND (r.all_runs OR e.user_id = caller)
			ORDER BY e.started_at DESC
			LIMIT 1) le ON true);
END
$$;

-- The pending and running executions the caller sees (of workflows it
-- sees): the executions_select policy's rule, applied after the partial
-- index on status. Under row-level security the status test (enum_eq is not
-- leakproof) could only come after the policy, so the count read every
-- execution in the database, anyone's. plpgsql, not sql: a SECURITY DEFINER
-- sql function is not inlined and was parsed and planned on every call
-- (0.42 against 0.10 ms with nothing running).
CREATE FUNCTION flowent._running_count() RETURNS bigint
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

-- GET /api/pipelines: params {status?, search?, limit? (1-200, 50), offset? (0)}
-- → {pipelines: [...], meta: {total, running, limit, offset}}, newest change
-- first. total counts the workflows that match, running the pending and
-- running executions of all workflows the user sees. Templates are not
-- pipelines: they are listed by api_templates (10_templates.sql).
CREATE FUNCTION flowent.api_list_pipelines(params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_status flowent.workflow_status;
	v_search text;
	v_limit integer;
	v_offset integer;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['status', 'search', 'limit', 'offset']);
	v_status := flowent._json_enum(p -> 'status', 'params.status', 'flowent.workflow_status', true);
	v_search := lower(nullif(flowent._json_string(p -> 'search', 'params.search'), ''));
	v_limit := flowent._json_int(p -> 'limit', 'params.limit', 1, 200, 50);
	v_offset := flowent._json_int(p -> 'offset', 'params.offset', 0, 2147483647, 0);
	-- matching is inlined in both uses: the page comes from the index on
	-- (updated_at, id), stopping after it, the count from its own scan
	-- (cheaper than keeping every row for both); built as json, one cast to
	-- jsonb at the end
	RETURN (
		WITH matching AS NOT MATERIALIZED (
			SELECT w.id, w.updated_at FROM flowent.workflows w
			WHERE w.is_template IS NOT TRUE
				AND (v_status IS NULL OR w.status = v_status)
				AND (v_search IS NULL OR strpos(lower(w.name), v_search) > 0
					OR strpos(lower(coalesce(w.description, '')), v_search) > 0)
		)
		SELECT json_build_object(
			'pipelines', flowent._pipelines(ARRAY(SELECT m.id FROM matching m
				ORDER BY m.updated_at DESC NULLS LAST, m.id
				LIMIT v_limit OFFSET v_offset)),
			'meta', json_build_object(
				'total', (SELECT count(*) FROM matching),
				'running', flowent._running_count(),
				'limit', v_limit,
				'offset', v_offset))::jsonb);
END
$$;

-- GET /api/pipelines/:id: the pipeline object plus its graph (latest
-- version), tags, runAs, workspace, webhook state (never the secret) and
-- its 20 latest executions.
CREATE FUNCTION flowent.api_get_pipeline(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT SET jit = off AS $$
DECLARE
	w record;
BEGIN
	SELECT wf.nodes, wf.edges, wf.tags, wf.run_as, wf.workspace_id, wf.is_published, wf.published_version
	INTO w FROM flowent.workflows wf WHERE wf.id = api_get_pipeline.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_get_pipeline.id USING ERRCODE = '42704';
	END IF;
	RETURN (flowent._pipelines(ARRAY[api_get_pipeline.id]) -> 0)::jsonb || jsonb_build_object(
		'nodes', w.nodes,
		'edges', w.edges,
		'tags', coalesce(w.tags, '[]'::jsonb),
		'runAs', w.run_as,
		'workspace_id', w.workspace_id,
		'webhook', jsonb_build_object(
			'published', coalesce(w.is_published, false) AND coalesce(w.published_version, 0) >= 1,
			'url', '/api/hooks/' || api_get_pipeline.id),
		'executions', (
			SELECT coalesce(jsonb_agg(jsonb_build_object(
				'id', e.id,
				'status', e.status,
				'trigger_type', e.trigger_type,
				'started_at', e.started_at,
				'completed_at', e.completed_at,
				'duration_ms', e.duration_ms,
				'total_cost', e.total_cost,
				'total_tokens', e.total_tokens,
				'error', e.error,
				'error_code', e.error_code,
				'error_node_id', e.error_node_id) ORDER BY e.started_at DESC, e.id), '[]'::jsonb)
			FROM (SELECT x.* FROM flowent.workflow_executions x
				WHERE x.workflow_id = api_get_pipeline.id
				ORDER BY x.started_at DESC, x.id LIMIT 20) e));
END
$$;

-- POST /api/pipelines: body {name, nodes?, edges? (default []), and the
-- options of flowent.create_workflow: description, status, visibility,
-- tags, workspaceId, runAs, isTemplate, templateCategory, complexity,
-- message, settings}; unknown keys are refused there. → api_get_pipeline.
CREATE FUNCTION flowent.api_create_pipeline(body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := flowent._json_object(body, 'body');
	v_id uuid;
BEGIN
	-- two statements: the STABLE reader must run on a snapshot that sees the insert
	v_id := flowent.create_workflow(flowent._json_string(b -> 'name', 'name', false),
		coalesce(b -> 'nodes', '[]'::jsonb), coalesce(b -> 'edges', '[]'::jsonb),
		b - 'name' - 'nodes' - 'edges');
	RETURN flowent.api_get_pipeline(v_id);
END
$$;

-- PATCH /api/pipelines/:id: body = the changes of flowent.update_workflow
-- (expectedVersion: 55000 with DETAIL {expectedVersion, currentVersion}
-- when the workflow has moved on). → api_get_pipeline.
CREATE FUNCTION flowent.api_update_pipeline(id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM flowent.update_workflow(api_update_pipeline.id, body);
	RETURN flowent.api_get_pipeline(api_update_pipeline.id);
END
$$;

-- DELETE /api/pipelines/:id → {success: true, id}.
CREATE FUNCTION flowent.api_delete_pipeline(id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT AS $$
BEGIN
	PERFORM flowent.delete_workflow(api_delete_pipeline.id);
	RETURN jsonb_build_object('success', true, 'id', api_delete_pipeline.id);
END
$$;

-- ---------------------------------------------------------------------------
-- Runs
-- ---------------------------------------------------------------------------

-- Start a run: async with flowent.execute → {success: true, executionId,
-- status (of the stored row)}, or sync with flowent.run → its result with
-- success (status = 'success').
CREATE FUNCTION flowent._start_run(wf uuid, payload jsonb, options jsonb, sync boolean) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r jsonb;
	v_exec uuid;
BEGIN
	IF sync THEN
		r := flowent.run(wf, payload, options);
		RETURN jsonb_build_object('success', r ->> 'status' = 'success') || r;
	END IF;
	v_exec := flowent.execute(wf, payload, options);
	RETURN jsonb_build_object('success', true, 'executionId', v_exec,
		'status', (SELECT e.status FROM flowent.workflow_executions e WHERE e.id = v_exec));
END
$$;

-- POST /api/pipelines/:id/execute (seed §9.2): body {payload?, variables?,
-- skipBudgetCheck?, isTest?, version?, breakpoints?, mode? (async: the
-- default, or sync)}; the run options are checked by flowent.run/execute.
CREATE FUNCTION flowent.api_execute(id uuid, body jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := coalesce(body, '{}'::jsonb);
	v_mode text;
BEGIN
	IF api_execute.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._check_keys('body', b,
		ARRAY['payload', 'variables', 'skipBudgetCheck', 'maxCostUsd', 'maxTokens', 'preflight', 'isTest', 'version',
		      'breakpoints', 'mode']);
	v_mode := coalesce(flowent._json_string(b -> 'mode', 'body.mode'), 'async');
	IF v_mode NOT IN ('sync', 'async') THEN
		RAISE EXCEPTION 'body.mode must be "sync" or "async", got %', (b -> 'mode')::text
			USING ERRCODE = '22023';
	END IF;
	RETURN flowent._start_run(api_execute.id, coalesce(b -> 'payload', '{}'::jsonb),
		b - 'payload' - 'mode', v_mode = 'sync');
END
$$;

-- What a suspended execution waits on, as flowent.run reports it: one
-- entry per waiting node (a loop waits on its body's nodes, listed
-- themselves), followed by what a sub-workflow's child waits on.
CREATE FUNCTION flowent._execution_waiting(execution_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
		'executionId', x.execution_id, 'nodeId', x.node_id, 'kind', x.kind, 'approvalId', x.approval_id)
		ORDER BY x.seq, x.ord), '[]'::jsonb)
	FROM (
		SELECT l.seq, 0::bigint AS ord, l.execution_id::text, l.node_id::text, l.output ->> 'kind' AS kind,
			l.output ->> 'approvalId' AS approval_id
		FROM flowent.workflow_node_logs l
		WHERE l.execution_id = _execution_waiting.execution_id AND l.status = 'waiting'
			AND l.output ->> 'kind' IS DISTINCT FROM 'loop'
		UNION ALL
		SELECT l.seq, c.ord, c.w ->> 'executionId', c.w ->> 'nodeId', c.w ->> 'kind', c.w ->> 'approvalId'
		FROM flowent.workflow_node_logs l,
			jsonb_array_elements(CASE WHEN jsonb_typeof(l.output -> 'waiting') = 'array'
				THEN l.output -> 'waiting' ELSE '[]'::jsonb END) WITH ORDINALITY AS c(w, ord)
		WHERE l.execution_id = _execution_waiting.execution_id AND l.status = 'waiting'
			AND l.output ->> 'kind' IS DISTINCT FROM 'loop'
	) x
$$;

-- GET /api/workflows/executions/:id/logs[?since=seq] → {executionId,
-- workflowId, status, logs: [...]} in seq order; with since_seq only the
-- logs after it (a client catching up on events).
CREATE FUNCTION flowent.api_execution_logs(execution_id uuid, since_seq integer DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
	e record;
BEGIN
	IF api_execution_logs.execution_id IS NULL THEN
		RAISE EXCEPTION 'execution_id must not be null' USING ERRCODE = '22023';
	END IF;
	SELECT x.workflow_id, x.status INTO e
	FROM flowent.workflow_executions x WHERE x.id = api_execution_logs.execution_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'execution % not found', api_execution_logs.execution_id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'executionId', api_execution_logs.execution_id,
		'workflowId', e.workflow_id,
		'status', e.status,
		'logs', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'id', l.id,
				'nodeId', l.node_id,
				'nodeType', l.node_type,
				'nodeName', l.node_name,
				'status', l.status,
				'input', l.input,
				'output', l.output,
				'error', l.error,
				'errorCode', l.error_code,
				'handle', l.handle,
				'iteration', l.iteration,
				'attempts', l.attempts,
				'seq', l.seq,
				'startedAt', l.started_at,
				'completedAt', l.completed_at,
				'durationMs', l.duration_ms,
				'tokensUsed', l.tokens_used,
				'costUsd', l.cost_usd) ORDER BY l.seq, l.started_at, l.id), '[]'::jsonb)
			FROM flowent.workflow_node_logs l
			WHERE l.execution_id = api_execution_logs.execution_id
				AND (since_seq IS NULL OR l.seq > since_seq)));
END
$$;

-- GET /api/pipelines/context/:executionId: the stored context of an
-- execution and, while it is suspended, what it waits on.
CREATE FUNCTION flowent.api_execution_context(execution_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	e record;
BEGIN
	SELECT x.workflow_id, x.workflow_version, x.status, x.mode, x.trigger_type, x.input, x.output,
		x.variables, x.error, x.error_code, x.error_node_id, x.started_at, x.completed_at,
		x.duration_ms, x.total_cost, x.total_tokens, x.parent_execution_id, x.is_test
	INTO e FROM flowent.workflow_executions x WHERE x.id = api_execution_context.execution_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'execution % not found', api_execution_context.execution_id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'executionId', api_execution_context.execution_id,
		'workflowId', e.workflow_id,
		'workflowVersion', e.workflow_version,
		'status', e.status,
		'mode', e.mode,
		'triggerType', e.trigger_type,
		'isTest', e.is_test,
		'input', e.input,
		'output', e.output,
		'variables', e.variables,
		'error', e.error,
		'errorCode', e.error_code,
		'errorNodeId', e.error_node_id,
		'startedAt', e.started_at,
		'completedAt', e.completed_at,
		'durationMs', e.duration_ms,
		'totalCost', e.total_cost,
		'totalTokens', e.total_tokens,
		'parentExecutionId', e.parent_execution_id,
		'waiting', CASE WHEN e.status = 'suspended'
			THEN flowent._execution_waiting(api_execution_context.execution_id) ELSE '[]'::jsonb END);
END
$$;

-- GET /api/workflows/executions/recent: params {limit? (1-200, 20),
-- offset? (0, paging), workflowId?, status?} → {executions: [...],
-- hasMore}, newest first.
CREATE FUNCTION flowent.api_recent_executions(params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_limit integer;
	v_offset integer;
	v_workflow uuid;
	v_status flowent.execution_status;
	v_rows jsonb;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['limit', 'offset', 'workflowId', 'status']);
	v_limit := flowent._json_int(p -> 'limit', 'params.limit', 1, 200, 20);
	v_offset := flowent._json_int(p -> 'offset', 'params.offset', 0, 1000000, 0);
	v_workflow := flowent._json_uuid(p -> 'workflowId', 'params.workflowId');
	v_status := flowent._json_enum(p -> 'status', 'params.status', 'flowent.execution_status', true);
	-- one row past the page says whether another page follows
	SELECT coalesce(jsonb_agg(jsonb_build_object(
			'id', e.id,
			'workflowId', e.workflow_id,
			'workflowName', w.name,
			'status', e.status,
			'triggerType', e.trigger_type,
			'startedAt', e.started_at,
			'completedAt', e.completed_at,
			'durationMs', e.duration_ms,
			'totalCost', e.total_cost,
			'error', e.error,
			'errorCode', e.error_code,
			'parentExecutionId', e.parent_execution_id) ORDER BY e.started_at DESC, e.id), '[]'::jsonb)
	INTO v_rows
	FROM (SELECT x.* FROM flowent.workflow_executions x
		WHERE (v_workflow IS NULL OR x.workflow_id = v_workflow)
			AND (v_status IS NULL OR x.status = v_status)
		ORDER BY x.started_at DESC, x.id OFFSET v_offset LIMIT v_limit + 1) e
	LEFT JOIN flowent.workflows w ON w.id = e.workflow_id;
	RETURN jsonb_build_object(
		'executions', CASE WHEN jsonb_array_length(v_rows) > v_limit THEN v_rows - v_limit ELSE v_rows END,
		'hasMore', jsonb_array_length(v_rows) > v_limit);
END
$$;

-- GET /api/workflows/approvals: the pending approvals the current user may
-- decide (as flowent.approve decides): those they see (row-level security:
-- assigned to them, of their runs, of workflows they edit) that are
-- unassigned, assigned to them, of a workflow they edit, or any for an
-- administrator.
CREATE FUNCTION flowent.api_pending_approvals() RETURNS jsonb
LANGUAGE sql STABLE SET jit = off AS $$
	WITH me AS (
		SELECT flowent.current_user_id() AS id, flowent._is_admin(flowent.current_user_id()) AS admin
	)
	SELECT jsonb_build_object('approvals', coalesce(jsonb_agg(jsonb_build_object(
		'id', a.id,
		'executionId', a.execution_id,
		'workflowId', a.workflow_id,
		'workflowName', w.name,
		'nodeId', a.node_id,
		'status', a.status,
		'title', a.title,
		'message', a.message,
		'contextData', a.context_data,
		'previewData', a.preview_data,
		'assignedUserId', a.assigned_user_id,
		'onExpire', a.on_expire,
		'createdAt', a.created_at,
		'expiresAt', a.expires_at) ORDER BY a.created_at, a.id), '[]'::jsonb))
	FROM me, flowent.workflow_approval_requests a
	LEFT JOIN flowent.workflows w ON w.id = a.workflow_id
	WHERE a.status = 'pending'
		AND (a.assigned_user_id IS NULL OR a.assigned_user_id = me.id OR me.admin
			OR coalesce(flowent._can_edit(w.user_id, w.workspace_id, me.id), false))
$$;

-- ---------------------------------------------------------------------------
-- Decisions, cancel, rerun: the engine's functions with the request body
-- ---------------------------------------------------------------------------

-- flowent.approve with a body {approved, comment?, approvedBy?} (seed §9.3);
-- target is an approval id or an execution id (one pending approval).
CREATE FUNCTION flowent._decide(target uuid, b jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RETURN flowent.approve(target, flowent._json_bool(b -> 'approved', 'body.approved'),
		flowent._json_string(b -> 'comment', 'body.comment'),
		flowent._json_string(b -> 'approvedBy', 'body.approvedBy'));
END
$$;

-- POST /api/workflows/executions/:id/approve: body {approved, comment?,
-- approvedBy?} → flowent.approve's answer {success, executionId, status,
-- resumedFromNodeId, ...}. id: the execution (or an approval id).
CREATE FUNCTION flowent.api_approve_execution(execution_id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['approved', 'comment', 'approvedBy']);
	RETURN flowent._decide(api_approve_execution.execution_id, body);
END
$$;

-- POST /api/pipelines/:id/approve: body {approvalId | executionId, approved,
-- comment?, approvedBy?}, an approval or execution of pipeline id.
CREATE FUNCTION flowent.api_approve(id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_approval uuid;
	v_execution uuid;
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['approvalId', 'executionId', 'approved', 'comment', 'approvedBy']);
	PERFORM flowent._require_workflow(api_approve.id);
	v_approval := flowent._json_uuid(body -> 'approvalId', 'body.approvalId');
	v_execution := flowent._json_uuid(body -> 'executionId', 'body.executionId');
	IF (v_approval IS NULL) = (v_execution IS NULL) THEN
		RAISE EXCEPTION 'body needs one of approvalId and executionId' USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM flowent.workflow_approval_requests a
			WHERE a.id = v_approval AND a.workflow_id = api_approve.id)
		AND NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e
			WHERE e.id = v_execution AND e.workflow_id = api_approve.id) THEN
		RAISE EXCEPTION '% % of workflow % not found', CASE WHEN v_approval IS NULL THEN 'execution' ELSE 'approval' END,
			coalesce(v_approval, v_execution), api_approve.id
			USING ERRCODE = '42704';
	END IF;
	RETURN flowent._decide(coalesce(v_approval, v_execution), body);
END
$$;

-- POST /api/workflows/executions/:id/cancel: body {reason?} → flowent.cancel's
-- answer {success, executionId, status: "cancelled", previousStatus}.
CREATE FUNCTION flowent.api_cancel(execution_id uuid, body jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := coalesce(body, '{}'::jsonb);
BEGIN
	PERFORM flowent._check_keys('body', b, ARRAY['reason']);
	RETURN flowent.cancel(api_cancel.execution_id, flowent._json_string(b -> 'reason', 'body.reason'));
END
$$;

-- POST /api/workflows/executions/:id/rerun: body {fromNode, mode? (sync: the
-- default, or async), variables?, skipBudgetCheck?, isTest?, breakpoints?}
-- → {success, executionId (the new one), rerunOf, mode, status, output,
-- error, errorCode}; success as in api_execute.
CREATE FUNCTION flowent.api_rerun(execution_id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_id uuid;
	e record;
BEGIN
	PERFORM flowent._check_keys('body', body,
		ARRAY['fromNode', 'mode', 'variables', 'skipBudgetCheck', 'isTest', 'breakpoints']);
	v_id := flowent.rerun(api_rerun.execution_id, flowent._json_string(body -> 'fromNode', 'body.fromNode', false),
		body - 'fromNode');
	SELECT x.mode, x.status, x.output, x.error, x.error_code INTO e
	FROM flowent.workflow_executions x WHERE x.id = v_id;
	RETURN jsonb_build_object('success', e.mode = 'async' OR e.status = 'success', 'executionId', v_id,
		'rerunOf', api_rerun.execution_id, 'mode', e.mode, 'status', e.status, 'output', e.output,
		'error', e.error, 'errorCode', e.error_code);
END
$$;

-- ---------------------------------------------------------------------------
-- Schedules, diff, templates, watching a workflow
-- ---------------------------------------------------------------------------

-- POST /api/pipelines/:id/schedule: body {cron, payload?} → {success,
-- workflowId, jobId, cron (as stored)}. flowent.schedule decides (the
-- owner, a published workflow, pg_cron in this database: 55000 otherwise).
CREATE FUNCTION flowent.api_schedule(id uuid, body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_cron text;
	v_job bigint;
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['cron', 'payload']);
	v_cron := flowent._json_string(body -> 'cron', 'body.cron', false);
	v_job := flowent.schedule(api_schedule.id, v_cron, coalesce(body -> 'payload', '{}'::jsonb));
	RETURN jsonb_build_object('success', true, 'workflowId', api_schedule.id, 'jobId', v_job,
		'cron', flowent._cron_check(v_cron));
END
$$;

-- DELETE /api/pipelines/:id/schedule → {success, workflowId, removed}.
CREATE FUNCTION flowent.api_unschedule(id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT AS $$
BEGIN
	RETURN jsonb_build_object('success', true, 'workflowId', api_unschedule.id,
		'removed', flowent.unschedule(api_unschedule.id));
END
$$;

-- GET /api/workflows/:id/diff: params {from?, to?} (default: the latest
-- version against the one before it) → flowent.diff.
CREATE FUNCTION flowent.api_diff(id uuid, params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_latest integer;
	v_to integer;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['from', 'to']);
	PERFORM flowent._require_workflow(api_diff.id);
	SELECT w.version INTO v_latest FROM flowent.workflows w WHERE w.id = api_diff.id;
	v_to := flowent._json_int(p -> 'to', 'params.to', 1, 2147483647, v_latest);
	RETURN flowent.diff(api_diff.id, flowent._json_int(p -> 'from', 'params.from', 1, 2147483647, greatest(v_to - 1, 1)),
		v_to);
END
$$;

-- POST /api/pipelines/templates/clone: body {templateId, name?} → the new
-- private draft, as api_get_pipeline.
CREATE FUNCTION flowent.api_clone_template(body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_template uuid;
	v_id uuid;
BEGIN
	PERFORM flowent._check_keys('body', body, ARRAY['templateId', 'name']);
	v_template := flowent._json_uuid(body -> 'templateId', 'body.templateId');
	IF v_template IS NULL THEN
		RAISE EXCEPTION 'body.templateId must be a UUID, got %', coalesce((body -> 'templateId')::text, 'nothing')
			USING ERRCODE = '22023';
	END IF;
	v_id := flowent.clone_template(v_template, flowent._json_string(body -> 'name', 'body.name'));
	RETURN flowent.api_get_pipeline(v_id);
END
$$;

-- join:workflow of the WebSocket: the events of all executions of workflow
-- id, for those who see all of them (its owner and editors: a workflow one
-- only sees does not make its runs visible) → {workflowId, watching: true}.
CREATE FUNCTION flowent.api_watch_workflow(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	w record;
BEGIN
	SELECT wf.user_id, wf.workspace_id INTO w FROM flowent.workflows wf WHERE wf.id = api_watch_workflow.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_watch_workflow.id USING ERRCODE = '42704';
	END IF;
	IF NOT flowent._can_edit(w.user_id, w.workspace_id, flowent.current_user_id()) THEN
		RAISE EXCEPTION 'workflow %: only its owner or an owner, admin or editor of its workspace may watch all its executions (join an execution instead)',
			api_watch_workflow.id
			USING ERRCODE = '42501';
	END IF;
	RETURN jsonb_build_object('workflowId', api_watch_workflow.id, 'watching', true);
END
$$;

-- ---------------------------------------------------------------------------
-- Registry, versions, credentials
-- ---------------------------------------------------------------------------

-- GET /api/node-types → {nodeTypes: [...]}: the palette.
CREATE FUNCTION flowent.api_node_types() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('nodeTypes', coalesce(jsonb_agg(jsonb_build_object(
		'type', t.type,
		'category', t.category,
		'label', t.label,
		'description', t.description,
		'handles', t.handles,
		'configSchema', t.config_schema,
		'costModel', t.cost_model,
		'builtin', t.builtin) ORDER BY t.category, t.type), '[]'::jsonb))
	FROM flowent.node_types t
$$;

-- GET /api/pipelines/:id/versions → {workflowId, publishedVersion,
-- versions: [...]}, newest first.
CREATE FUNCTION flowent.api_versions(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	v_published integer;
BEGIN
	SELECT w.published_version INTO v_published FROM flowent.workflows w WHERE w.id = api_versions.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_versions.id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'workflowId', api_versions.id,
		'publishedVersion', nullif(v_published, 0),
		'versions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'version', v.version,
				'name', v.name,
				'createdBy', v.created_by,
				'createdAt', v.created_at,
				'message', v.message,
				'published', v.version = v_published) ORDER BY v.version DESC), '[]'::jsonb)
			FROM flowent.workflow_versions v WHERE v.workflow_id = api_versions.id));
END
$$;

-- GET /api/workflows/:id/versions/:version → {workflowId, version, name,
-- nodes, edges, message, createdBy, createdAt, published}: one version's
-- graph as it was saved.
CREATE FUNCTION flowent.api_version(id uuid, version text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_version integer;
	v_published integer;
	v record;
BEGIN
	IF api_version.version IS NULL OR api_version.version !~ '^[0-9]{1,9}$' OR api_version.version::integer < 1 THEN
		RAISE EXCEPTION 'version: expected a version number (1, 2, ...) in the path, got "%"',
			coalesce(api_version.version, '')
			USING ERRCODE = '22023';
	END IF;
	v_version := api_version.version::integer;
	SELECT w.published_version INTO v_published FROM flowent.workflows w WHERE w.id = api_version.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_version.id USING ERRCODE = '42704';
	END IF;
	SELECT x.* INTO v FROM flowent.workflow_versions x
	WHERE x.workflow_id = api_version.id AND x.version = v_version;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % has no version %', api_version.id, v_version USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'workflowId', api_version.id,
		'version', v.version,
		'name', v.name,
		'nodes', v.nodes,
		'edges', v.edges,
		'message', v.message,
		'createdBy', v.created_by,
		'createdAt', v.created_at,
		'published', v.version = v_published);
END
$$;

-- GET /api/credentials → {credentials: [{name, createdAt, updatedAt}]}: the
-- current user's, never a secret.
CREATE FUNCTION flowent.api_credentials() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('credentials', coalesce(jsonb_agg(jsonb_build_object(
		'name', c.name, 'createdAt', c.created_at, 'updatedAt', c.updated_at) ORDER BY c.name), '[]'::jsonb))
	FROM flowent.list_credentials() c
$$;

-- ---------------------------------------------------------------------------
-- Webhooks
-- ---------------------------------------------------------------------------

-- Whether workflow wf has a webhook secret, for a user who sees it (its
-- secret is not readable by users: SECURITY DEFINER). NULL otherwise.
CREATE FUNCTION flowent._webhook_has_secret(wf uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT w.webhook_secret IS NOT NULL FROM flowent.workflows w
	WHERE w.id = wf AND (flowent._workflow_visible_to(wf, flowent._caller_id())
		OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = flowent._caller_id() AND r.rolsuper))
$$;

-- A new webhook secret for workflow wf, for its owner or an editor of its
-- workspace (the old one stops verifying at once); returns it.
CREATE FUNCTION flowent._rotate_webhook_secret(wf uuid) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	s text;
BEGIN
	UPDATE flowent.workflows w SET webhook_secret = flowent._random_hex64()
	WHERE w.id = wf AND flowent._can_edit(w.user_id, w.workspace_id, flowent._caller_id())
	RETURNING w.webhook_secret INTO s;
	IF s IS NULL THEN
		RAISE EXCEPTION 'workflow %: only its owner or an owner, admin or editor of its workspace may rotate its webhook secret', wf
			USING ERRCODE = '42501';
	END IF;
	RETURN s;
END
$$;

-- GET /api/pipelines/:id/webhooks → {workflowId, published,
-- publishedVersion, url, hasSecret}; never the secret.
CREATE FUNCTION flowent.api_webhooks(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	w record;
BEGIN
	SELECT wf.is_published, wf.published_version INTO w FROM flowent.workflows wf WHERE wf.id = api_webhooks.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_webhooks.id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object(
		'workflowId', api_webhooks.id,
		'published', coalesce(w.is_published, false) AND coalesce(w.published_version, 0) >= 1,
		'publishedVersion', nullif(w.published_version, 0),
		'url', '/api/hooks/' || api_webhooks.id,
		'hasSecret', coalesce(flowent._webhook_has_secret(api_webhooks.id), false));
END
$$;

-- POST /api/pipelines/:id/webhooks: a new secret, shown this once →
-- api_webhooks plus webhookSecret. For the owner and editors.
CREATE FUNCTION flowent.api_rotate_webhook_secret(id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
	s text;
BEGIN
	PERFORM flowent._require_workflow(api_rotate_webhook_secret.id);
	s := flowent._rotate_webhook_secret(api_rotate_webhook_secret.id);
	RETURN flowent.api_webhooks(api_rotate_webhook_secret.id) || jsonb_build_object('webhookSecret', s);
END
$$;

-- The secret of a published workflow, for the gateway to check a webhook's
-- signature before anyone acts; NULL when unknown or not published.
-- plpgsql, not sql: a SECURITY DEFINER sql function is planned on every call
CREATE FUNCTION flowent.gateway_webhook_secret(id uuid) RETURNS text
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	RETURN (SELECT w.webhook_secret::text FROM flowent.workflows w
		WHERE w.id = gateway_webhook_secret.id AND w.is_published AND w.published_version >= 1);
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_webhook_secret(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_webhook_secret(uuid) TO flowent_gateway;

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
CREATE FUNCTION flowent.gateway_webhook_seen(id uuid, signature text) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	PERFORM flowent._webhook_deliveries_prune();
	RETURN flowent._webhook_record(gateway_webhook_seen.id, signature);
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_webhook_seen(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_webhook_seen(uuid, text) TO flowent_gateway;

-- POST /api/hooks/:id, after the gateway checked the signature: the run of
-- a webhook is its owner's (the owner becomes the acting user of this
-- transaction) and runs the published version with trigger type webhook,
-- queued (as schedules are: flowent.execute picks the published version)
-- or, with wait, synchronously (flowent.run of that version).
CREATE FUNCTION flowent.gateway_webhook_run(id uuid, payload jsonb, wait boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	w record;
BEGIN
	IF gateway_webhook_run.id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	SELECT wf.user_id, wf.is_published, wf.published_version, wf.settings INTO w
	FROM flowent.workflows wf WHERE wf.id = gateway_webhook_run.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', gateway_webhook_run.id USING ERRCODE = '42704';
	END IF;
	IF NOT coalesce(w.is_published, false) OR coalesce(w.published_version, 0) < 1 THEN
		RAISE EXCEPTION 'workflow % is not published: webhooks run the published version', gateway_webhook_run.id
			USING ERRCODE = '55000';
	END IF;
	PERFORM flowent.set_acting_user(w.user_id);
	-- wait NULL: the workflow's own setting, settings.webhookWait (default: queue it)
	IF coalesce(wait, w.settings -> 'webhookWait' = 'true'::jsonb, false) THEN
		RETURN flowent._start_run(gateway_webhook_run.id, coalesce(payload, '{}'::jsonb),
			jsonb_build_object('triggerType', 'webhook', 'version', w.published_version), true);
	END IF;
	RETURN flowent._start_run(gateway_webhook_run.id, coalesce(payload, '{}'::jsonb),
		jsonb_build_object('triggerType', 'webhook', 'version', w.published_version), false);
END
$$;
REVOKE ALL ON FUNCTION flowent.gateway_webhook_run(uuid, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_webhook_run(uuid, jsonb, boolean) TO flowent_gateway;

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

-- ---------------------------------------------------------------------------
-- Workspaces. Users have no write privilege on workspaces and their members
-- (03_rls.sql): the two SECURITY DEFINER functions below are the only
-- writers, and check who calls. Owners and admins manage the members; only
-- an owner adds, changes or removes an owner, and the last owner stays.
-- ---------------------------------------------------------------------------

-- A new workspace of the caller, who becomes its owner; returns its id.
CREATE FUNCTION flowent._workspace_create(name text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._check_user_id(flowent._caller_id(), 'the acting user');
	v_id uuid;
BEGIN
	INSERT INTO flowent.workspaces (name, created_by)
	VALUES (flowent._check_name(_workspace_create.name), caller)
	RETURNING id INTO v_id;
	INSERT INTO flowent.workspace_members (workspace_id, user_id, role) VALUES (v_id, caller, 'owner');
	RETURN v_id;
END
$$;

-- A role of workspace_members (its CHECK constraint).
CREATE FUNCTION flowent._check_workspace_role(r text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF r IS NULL OR r NOT IN ('owner', 'admin', 'editor', 'member', 'viewer') THEN
		RAISE EXCEPTION 'role must be one of owner, admin, editor, member, viewer, got %',
			coalesce('"' || r || '"', 'null')
			USING ERRCODE = '22023';
	END IF;
END
$$;

-- Give user uid role new_role in workspace ws (added or changed), or, with
-- new_role NULL, remove them; false when there was nobody to remove.
CREATE FUNCTION flowent._workspace_set_member(ws uuid, uid text, new_role text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
	v_creator text;
	v_mine text;
	v_theirs text;
BEGIN
	IF ws IS NULL THEN
		RAISE EXCEPTION 'workspace_id must not be null' USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._check_user_id(uid, 'user_id');
	IF new_role IS NOT NULL THEN
		PERFORM flowent._check_workspace_role(new_role);
	END IF;
	-- one change of a workspace's members at a time (the last owner stays)
	SELECT w.created_by, flowent._workspace_role(w.id, caller) INTO v_creator, v_mine
	FROM flowent.workspaces w WHERE w.id = ws FOR UPDATE;
	IF NOT FOUND OR (v_mine IS NULL AND v_creator IS DISTINCT FROM caller) THEN
		RAISE EXCEPTION 'workspace % not found', ws USING ERRCODE = '42704';
	END IF;
	IF v_mine IS NULL OR v_mine NOT IN ('owner', 'admin') THEN
		RAISE EXCEPTION 'workspace %: only its owners and admins may change its members', ws
			USING ERRCODE = '42501';
	END IF;
	v_theirs := flowent._workspace_role(ws, uid);
	IF v_theirs IS NOT DISTINCT FROM new_role THEN
		RETURN v_theirs IS NOT NULL;
	END IF;
	IF v_mine <> 'owner' AND ('owner' IN (v_theirs, new_role)) THEN
		RAISE EXCEPTION 'workspace %: only an owner may add, change or remove an owner', ws
			USING ERRCODE = '42501';
	END IF;
	IF v_theirs = 'owner' AND NOT EXISTS (SELECT 1 FROM flowent.workspace_members m
			WHERE m.workspace_id = ws AND m.role = 'owner' AND m.user_id <> uid) THEN
		RAISE EXCEPTION 'workspace %: user "%" is its last owner; make another member owner first', ws, uid
			USING ERRCODE = '55000';
	END IF;
	IF new_role IS NULL THEN
		DELETE FROM flowent.workspace_members m WHERE m.workspace_id = ws AND m.user_id = uid;
		RETURN FOUND;
	END IF;
	INSERT INTO flowent.workspace_members AS m (workspace_id, user_id, role) VALUES (ws, uid, new_role)
	ON CONFLICT ON CONSTRAINT workspace_members_pkey DO UPDATE SET role = EXCLUDED.role;
	RETURN true;
END
$$;

-- A workspace the current user sees (row-level security), with the current
-- user's role and the number of members; NULL when not visible.
CREATE FUNCTION flowent._workspace_json(ws uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', w.id,
		'name', w.name,
		'role', flowent._workspace_role(w.id, flowent.current_user_id()),
		'memberCount', (SELECT count(*) FROM flowent.workspace_members m WHERE m.workspace_id = w.id),
		'createdBy', w.created_by,
		'createdAt', w.created_at)
	FROM flowent.workspaces w WHERE w.id = ws
$$;

-- GET /api/workspaces → {workspaces: [{id, name, role, memberCount,
-- createdBy, createdAt}]}: those the current user is a member of.
CREATE FUNCTION flowent.api_workspaces() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('workspaces', coalesce(jsonb_agg(x.ws ORDER BY x.ws ->> 'name', x.ws ->> 'id'),
		'[]'::jsonb))
	FROM (SELECT flowent._workspace_json(m.workspace_id) AS ws FROM flowent.workspace_members m
		WHERE m.user_id = flowent.current_user_id()) x
	WHERE x.ws IS NOT NULL
$$;

-- GET /api/workspaces/:id → the workspace with its members [{userId, role,
-- addedAt}].
CREATE FUNCTION flowent.api_workspace(workspace_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
	r jsonb := flowent._workspace_json(api_workspace.workspace_id);
BEGIN
	IF r IS NULL THEN
		RAISE EXCEPTION 'workspace % not found', api_workspace.workspace_id USING ERRCODE = '42704';
	END IF;
	RETURN r || jsonb_build_object('members', (
		SELECT coalesce(jsonb_agg(jsonb_build_object('userId', m.user_id, 'role', m.role, 'addedAt', m.added_at)
			ORDER BY m.user_id), '[]'::jsonb)
		FROM flowent.workspace_members m WHERE m.workspace_id = api_workspace.workspace_id));
END
$$;

-- POST /api/workspaces {name} → api_workspace of the new workspace.
CREATE FUNCTION flowent.api_create_workspace(name text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_id uuid := flowent._workspace_create(api_create_workspace.name);
BEGIN
	RETURN flowent.api_workspace(v_id);
END
$$;

-- POST /api/workspaces/:id/members {userId, role} → api_workspace.
CREATE FUNCTION flowent.api_add_member(workspace_id uuid, user_id text, role text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM flowent._check_workspace_role(api_add_member.role);
	PERFORM flowent._workspace_set_member(api_add_member.workspace_id, api_add_member.user_id, api_add_member.role);
	RETURN flowent.api_workspace(api_add_member.workspace_id);
END
$$;

-- DELETE /api/workspaces/:id/members/:userId → {success: true, workspaceId,
-- userId, removed}.
CREATE FUNCTION flowent.api_remove_member(workspace_id uuid, user_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RETURN jsonb_build_object('success', true, 'workspaceId', api_remove_member.workspace_id,
		'userId', api_remove_member.user_id,
		'removed', flowent._workspace_set_member(api_remove_member.workspace_id, api_remove_member.user_id, NULL));
END
$$;
-- Gateway events (DESIGN §9, §10): what a WebSocket or SSE client missed,
-- rebuilt from the node logs, and the outputs the gateway adds to live events.

-- The events of an execution after since_seq, rebuilt from its node logs and
-- its row, as the envelope of DESIGN Appendix B with each step's output (left
-- out, and flagged truncated, past output_cap bytes): what a WebSocket or SSE
-- client missed, and the outputs the gateway adds to live events. One row per
-- event, "<seq> <event>", in seq order; a node log holds the seq of its
-- node's last event, the execution row that of workflow:complete.
CREATE FUNCTION flowent.api_execution_events(execution_id uuid, since_seq integer,
	output_cap integer DEFAULT 65536) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e record;
	fmt constant text := 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
BEGIN
	IF api_execution_events.execution_id IS NULL OR since_seq IS NULL OR output_cap IS NULL THEN
		RAISE EXCEPTION 'execution_id, since_seq and output_cap must not be null' USING ERRCODE = '22023';
	END IF;
	SELECT x.workflow_id, x.status, x.seq, x.completed_at, x.duration_ms, x.total_cost,
		x.total_tokens, x.error_code, x.error_node_id, octet_length(x.output::text) AS output_bytes
	INTO e FROM flowent.workflow_executions x WHERE x.id = api_execution_events.execution_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'execution % not found', api_execution_events.execution_id USING ERRCODE = '42704';
	END IF;
	RETURN QUERY
	SELECT l.seq || ' ' || jsonb_build_object(
		-- a step of a node that works in steps (an agent's model calls): "<iteration>#<step>"
		'event', CASE WHEN l.iteration LIKE '%#%' THEN 'step:progress'
			ELSE CASE l.status WHEN 'success' THEN 'step:completed' WHEN 'error' THEN 'step:failed'
			WHEN 'skipped' THEN 'state:update' WHEN 'waiting' THEN 'node:suspended' ELSE 'step:started' END END,
		'executionId', api_execution_events.execution_id,
		'workflowId', e.workflow_id,
		'seq', l.seq,
		'nodeId', l.node_id,
		'nodeType', l.node_type,
		'iteration', nullif(l.iteration, ''),
		'status', CASE WHEN l.status IN ('started', 'running') OR l.iteration LIKE '%#%' THEN 'running'
			ELSE l.status::text END,
		'durationMs', l.duration_ms,
		'ts', to_char(coalesce(l.completed_at, l.started_at) AT TIME ZONE 'UTC', fmt),
		'outputBytes', octet_length(l.output::text),
		'output', CASE WHEN octet_length(l.output::text) <= output_cap THEN l.output END,
		'truncated', coalesce(octet_length(l.output::text) > output_cap, false),
		'error', l.error,
		'errorCode', l.error_code)::text
	FROM flowent.workflow_node_logs l
	WHERE l.execution_id = api_execution_events.execution_id AND l.seq > since_seq
	ORDER BY l.seq;
	IF e.status IN ('success', 'error', 'cancelled') AND e.seq > since_seq THEN
		RETURN NEXT e.seq || ' ' || jsonb_build_object(
			'event', 'workflow:complete',
			'executionId', api_execution_events.execution_id,
			'workflowId', e.workflow_id,
			'seq', e.seq,
			'nodeId', NULL,
			'nodeType', NULL,
			'status', e.status,
			'durationMs', e.duration_ms,
			'ts', to_char(e.completed_at AT TIME ZONE 'UTC', fmt),
			'outputBytes', e.output_bytes,
			'totalCost', e.total_cost,
			'totalTokens', e.total_tokens,
			'errorCode', e.error_code,
			'errorNodeId', e.error_node_id)::text;
	END IF;
END
$$;

-- The per-user feed of the gateway's WebSocket: for executions whose events
-- just arrived, who started each one and to whom its pending approvals are
-- assigned (ids only), as {"e": executionId, "u": userId, "a": [assignees]}.
-- The gateway's own role asks, before it knows any reader: only ids leave.
CREATE FUNCTION flowent.gateway_event_users(execution_ids uuid[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, flowent, pg_temp AS $$
	SELECT json_build_object('e', x.id, 'u', x.user_id, 'a',
		coalesce((SELECT json_agg(DISTINCT a.assigned_user_id) FROM flowent.workflow_approval_requests a
			WHERE a.execution_id = x.id AND a.status = 'pending' AND a.assigned_user_id IS NOT NULL), '[]'))::text
	FROM flowent.workflow_executions x
	WHERE x.id = ANY (execution_ids)
$$;
REVOKE ALL ON FUNCTION flowent.gateway_event_users(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flowent.gateway_event_users(uuid[]) TO flowent_gateway;

-- ===========================================================================
-- Templates (seed §3.2 template gallery and starter kits, §4.1
-- /api/pipelines/templates, release 0.5): workflows shipped with the
-- extension, and the route that lists them.
--
-- A shipped template is a public, active row of flowent.workflows with
-- is_template, owned by the system user "flowent" (no one else may act as
-- that user: _workflows_guard), with a fixed id f10e0000-7e00-4000-8000-<n>
-- and fixed timestamps, so every database has the same rows; its version 1
-- is in workflow_versions like any workflow's. pg_dump leaves the system
-- user's rows out (06_dump.sql): a restore gets them from CREATE EXTENSION.
-- Users clone a template (clone_template / api_clone_template) into a
-- private draft of their own, which they edit and run.
--
-- Only node types of this build: no llm-agent, email, web search or HubSpot
-- (later issues). Templates that call out (http-request) take their URLs
-- from the payload, so they run against any server, and tests point them at
-- a local one. Positions lay the graph out left to right, 250 px a column.
-- ===========================================================================

-- A flag of a query string: a JSON boolean or the string "true" or "false"
-- (JSON null or absent gives NULL).
CREATE FUNCTION flowent._json_flag(v jsonb, field text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN NULL;
	END IF;
	IF jsonb_typeof(v) = 'boolean' OR v IN ('"true"', '"false"') THEN
		RETURN (v #>> '{}')::boolean;
	END IF;
	RAISE EXCEPTION '% must be true or false, got %', field, v::text USING ERRCODE = '22023';
END
$$;

-- GET /api/pipelines/templates: params {category? (template_category),
-- starterKit? (true/false), search? (case-insensitive in name, description
-- and tags), limit? (1-200, 50), offset? (0)} → {templates: [T], meta:
-- {total, limit, offset}}: the templates the current user sees (public
-- ones, their own, their workspace's), archived ones left out; starter kits
-- first, then featured ones, then the most cloned.
CREATE FUNCTION flowent.api_templates(params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_category flowent.template_category;
	v_starter boolean;
	v_search text;
	v_limit integer;
	v_offset integer;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['category', 'starterKit', 'search', 'limit', 'offset']);
	v_category := flowent._json_enum(p -> 'category', 'params.category', 'flowent.template_category', true);
	v_starter := flowent._json_flag(p -> 'starterKit', 'params.starterKit');
	v_search := lower(nullif(flowent._json_string(p -> 'search', 'params.search'), ''));
	v_limit := flowent._json_int(p -> 'limit', 'params.limit', 1, 200, 50);
	v_offset := flowent._json_int(p -> 'offset', 'params.offset', 0, 2147483647, 0);
	RETURN (
		WITH matching AS (
			SELECT w.id, w.name, w.description, w.template_category, w.complexity, w.tags, w.roi_badge,
				w.is_featured, w.starter_kit, w.download_count, w.rating, w.nodes, w.edges
			FROM flowent.workflows w
			WHERE w.is_template AND w.status IS DISTINCT FROM 'archived'
				AND (v_category IS NULL OR w.template_category = v_category)
				AND (v_starter IS NULL OR w.starter_kit = v_starter)
				AND (v_search IS NULL OR strpos(lower(w.name), v_search) > 0
					OR strpos(lower(coalesce(w.description, '')), v_search) > 0
					OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(w.tags)
							WHEN 'array' THEN w.tags ELSE '[]' END) tag
						WHERE strpos(lower(tag), v_search) > 0))
		), page AS (
			SELECT m.*, row_number() OVER (ORDER BY m.starter_kit DESC, m.is_featured DESC NULLS LAST,
				m.download_count DESC NULLS LAST, m.name, m.id) AS ord
			FROM matching m
			ORDER BY ord
			LIMIT v_limit OFFSET v_offset
		)
		SELECT jsonb_build_object(
			'templates', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'id', t.id,
				'name', t.name,
				'description', t.description,
				'category', t.template_category,
				'complexity', t.complexity,
				'tags', coalesce(t.tags, '[]'::jsonb),
				'roi_badge', t.roi_badge,
				'is_featured', coalesce(t.is_featured, false),
				'starter_kit', t.starter_kit,
				'download_count', coalesce(t.download_count, 0),
				'rating', t.rating,
				'nodes', t.nodes,
				'edges', t.edges,
				'node_count', jsonb_array_length(t.nodes)) ORDER BY t.ord) FROM page t), '[]'::jsonb),
			'meta', jsonb_build_object(
				'total', (SELECT count(*) FROM matching),
				'limit', v_limit,
				'offset', v_offset)));
END
$$;

-- ---------------------------------------------------------------------------
-- The shipped templates: 15 across the seed's seven categories, three of
-- them starter kits. Each description says what the payload holds. Nodes
-- are React Flow nodes as stored; edges are written "source>target" or
-- "source:handle>target", separated by spaces, and stored as React Flow
-- edges {id: "e-<source>-<target>", source, sourceHandle, target}.
-- ---------------------------------------------------------------------------
WITH t(n, name, category, complexity, starter_kit, is_featured, roi_badge, tags, description, nodes, edges) AS (VALUES

-- ---------------------------------------------------------------- customer support
(1, 'Ticket triage by priority', 'customer-support', 'beginner', true, true, 'Routes every ticket in seconds',
 '["support", "triage", "sla", "starter-kit"]',
 'Classifies an incoming support ticket (payload {ticket: {id, subject, body, customerTier}}): outages, '
 'security and data-loss reports are P1 and page the on-call team on NOTIFY channel support_pager, '
 'enterprise and premium customers are P2, everything else P3. Outputs the queue and the SLA in hours.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "New ticket", "triggerType": "webhook"}},
	{"id": "classify", "type": "data-transform", "position": {"x": 250, "y": 150},
	 "data": {"label": "Classify priority", "language": "sql", "input": "{{trigger.payload.ticket}}",
	          "expression": "jsonb_build_object('ticketId', input->>'id', 'priority', CASE WHEN concat_ws(' ', input->>'subject', input->>'body') ~* '(outage|down|urgent|security|data loss)' THEN 'p1' WHEN input->>'customerTier' IN ('enterprise', 'premium') THEN 'p2' ELSE 'p3' END)"}},
	{"id": "route", "type": "switch", "position": {"x": 500, "y": 150},
	 "data": {"label": "Route by priority", "value": "{{classify.priority}}",
	          "cases": [{"id": "p1", "operator": "equals", "right": "p1"}, {"id": "p2", "operator": "equals", "right": "p2"}]}},
	{"id": "urgent", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Incident queue", "variables": {"queue": "incident-response", "slaHours": 1}}},
	{"id": "priority", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Priority queue", "variables": {"queue": "priority-support", "slaHours": 4}}},
	{"id": "standard", "type": "set-variable", "position": {"x": 750, "y": 300},
	 "data": {"label": "Standard queue", "variables": {"queue": "support", "slaHours": 24}}},
	{"id": "page", "type": "notify", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Page on-call", "channel": "support_pager",
	          "payload": {"ticketId": "{{classify.ticketId}}", "priority": "p1"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Routed ticket", "value": {"ticketId": "{{classify.ticketId}}", "priority": "{{classify.priority}}",
	          "queue": "{{variables.queue}}", "slaHours": "{{variables.slaHours}}"}}}
 ]$n$,
 't>classify classify>route route:p1>urgent route:p2>priority route:default>standard urgent>page '
 'page>result priority>result standard>result'),

(2, 'Refund approval', 'customer-support', 'intermediate', false, false, 'No refund over the limit without a second look',
 '["support", "refunds", "approval"]',
 'Refunds up to the limit (variable autoApproveLimit, default 100) are approved at once; larger ones wait '
 'for a person (human-approval, expires after 2 days: rejected). Approved refunds are announced on NOTIFY '
 'channel refunds. Payload {orderId, customer, amount, reason}.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "Refund requested", "triggerType": "webhook"}},
	{"id": "check", "type": "condition", "position": {"x": 250, "y": 150},
	 "data": {"label": "Over the limit?",
	          "conditions": [{"left": "{{trigger.payload.amount}}", "operator": "gt", "right": "{{variables.autoApproveLimit | 100}}"}]}},
	{"id": "review", "type": "human-approval", "position": {"x": 500, "y": 50},
	 "data": {"label": "Review refund", "title": "Refund of {{trigger.payload.amount}} for order {{trigger.payload.orderId}}",
	          "message": "{{trigger.payload.customer}} asks for a refund: {{trigger.payload.reason | no reason given}}",
	          "contextData": "{{trigger.payload}}", "expiresInMs": 172800000, "onExpire": "reject"}},
	{"id": "auto", "type": "set-variable", "position": {"x": 500, "y": 300},
	 "data": {"label": "Auto-approve", "name": "decision", "value": "auto-approved"}},
	{"id": "approved", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Approved", "name": "decision", "value": "approved"}},
	{"id": "rejected", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Rejected", "name": "decision", "value": "rejected"}},
	{"id": "refund", "type": "notify", "position": {"x": 1000, "y": 150},
	 "data": {"label": "Issue refund", "channel": "refunds",
	          "payload": {"orderId": "{{trigger.payload.orderId}}", "amount": "{{trigger.payload.amount}}", "decision": "{{variables.decision}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Decision", "value": {"orderId": "{{trigger.payload.orderId}}", "amount": "{{trigger.payload.amount}}",
	          "decision": "{{variables.decision}}"}}}
 ]$n$,
 't>check check:true>review check:false>auto review:approved>approved review:rejected>rejected '
 'approved>refund auto>refund refund>result rejected>result'),

-- ---------------------------------------------------------------- data analysis
(3, 'Daily metrics rollup', 'data-analysis', 'intermediate', false, true, 'The morning report writes itself',
 '["analytics", "reporting", "schedule"]',
 'Rolls up one UTC day of your workflow runs from the view flowent.analytics_daily (payload {day: '
 '"YYYY-MM-DD"}, default yesterday): executions, successes, errors, success rate, tokens and cost, and the '
 'five busiest workflows; publishes the summary on NOTIFY channel metrics_daily. Schedule it with '
 'flowent.schedule(id, ''15 0 * * *'').',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Every morning", "triggerType": "schedule"}},
	{"id": "totals", "type": "database-query", "position": {"x": 250, "y": 100},
	 "data": {"label": "Day totals", "readOnly": true, "maxRows": 1, "params": ["{{trigger.payload.day | null}}"],
	          "query": "SELECT d.day, coalesce(sum(a.executions), 0) AS executions, coalesce(sum(a.successes), 0) AS successes, coalesce(sum(a.errors), 0) AS errors, coalesce(sum(a.cancelled), 0) AS cancelled, coalesce(sum(a.tokens), 0) AS tokens, coalesce(sum(a.cost_usd), 0) AS cost_usd FROM (SELECT coalesce($1::date, (now() AT TIME ZONE 'UTC')::date - 1) AS day) d LEFT JOIN flowent.analytics_daily a ON a.day = d.day GROUP BY d.day"}},
	{"id": "top", "type": "database-query", "position": {"x": 500, "y": 100},
	 "data": {"label": "Busiest workflows", "readOnly": true, "maxRows": 5, "params": ["{{totals.rows.0.day}}"],
	          "query": "SELECT workflow_id, workflow_name, executions, errors, success_rate, p95_ms FROM flowent.analytics_daily WHERE day = $1::date ORDER BY executions DESC, workflow_name, workflow_id LIMIT 5"}},
	{"id": "summary", "type": "data-transform", "position": {"x": 750, "y": 100},
	 "data": {"label": "Summarise", "language": "sql", "input": {"totals": "{{totals.rows.0}}", "top": "{{top.rows}}"},
	          "expression": "input->'totals' || jsonb_build_object('successRate', round((input->'totals'->>'successes')::numeric / nullif((input->'totals'->>'successes')::numeric + (input->'totals'->>'errors')::numeric + (input->'totals'->>'cancelled')::numeric, 0), 4), 'busiest', input->'top')"}},
	{"id": "publish", "type": "notify", "position": {"x": 1000, "y": 100},
	 "data": {"label": "Publish", "channel": "metrics_daily", "payload": "{{summary}}"}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 100},
	 "data": {"label": "Rollup", "value": "{{summary}}"}}
 ]$n$,
 't>totals totals>top top>summary summary>publish publish>result'),

(4, 'Metric anomaly alert', 'data-analysis', 'intermediate', false, false, 'Catch spikes before customers do',
 '["analytics", "monitoring", "alerts"]',
 'Compares the latest value of a metric with the values before it (payload {metric, values: [numbers, '
 'oldest first], zThreshold (default 3)}): when its z-score is at least the threshold an alert goes out on '
 'NOTIFY channel metric_alerts. Outputs the mean, standard deviation and z-score.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "New data point", "triggerType": "manual"}},
	{"id": "stats", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Baseline statistics", "language": "sql",
	          "expression": "(SELECT jsonb_build_object('metric', input->>'metric', 'latest', (input->'values' -> -1)::numeric, 'mean', round(avg(b.v), 4), 'stddev', round(coalesce(stddev_samp(b.v), 0), 4), 'zScore', CASE WHEN coalesce(stddev_samp(b.v), 0) = 0 THEN 0 ELSE round(abs((input->'values' -> -1)::numeric - avg(b.v)) / stddev_samp(b.v), 2) END) FROM (SELECT x::numeric AS v FROM jsonb_array_elements_text((input->'values') - -1) x) b)"}},
	{"id": "check", "type": "condition", "position": {"x": 500, "y": 100},
	 "data": {"label": "Anomalous?",
	          "conditions": [{"left": "{{stats.zScore}}", "operator": "gte", "right": "{{trigger.payload.zThreshold | 3}}"}]}},
	{"id": "alert", "type": "notify", "position": {"x": 750, "y": 0},
	 "data": {"label": "Alert", "channel": "metric_alerts", "payload": "{{stats}}"}},
	{"id": "normal", "type": "set-variable", "position": {"x": 750, "y": 200},
	 "data": {"label": "Within range", "name": "status", "value": "normal"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 100},
	 "data": {"label": "Verdict", "value": {"anomaly": "{{check.result}}", "stats": "{{stats}}"}}}
 ]$n$,
 't>stats stats>check check:true>alert check:false>normal alert>result normal>result'),

-- ---------------------------------------------------------------- content generation
(5, 'Content approval workflow', 'content-generation', 'beginner', true, true, 'Nothing goes live unreviewed',
 '["content", "approval", "publishing", "starter-kit"]',
 'Prepares a draft (payload {title, body, author}: slug, word count, reading time, excerpt) and asks an '
 'editor to approve it (human-approval with the prepared draft as preview, expires after 7 days). Approved '
 'drafts are announced on NOTIFY channel content_published; rejected ones go back with the editor''s comment.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Draft submitted", "triggerType": "manual"}},
	{"id": "prepare", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Prepare draft", "language": "sql",
	          "expression": "jsonb_build_object('title', input->>'title', 'author', input->>'author', 'slug', btrim(regexp_replace(lower(input->>'title'), '[^a-z0-9]+', '-', 'g'), '-'), 'words', coalesce(array_length(regexp_split_to_array(nullif(btrim(input->>'body'), ''), '\\s+'), 1), 0), 'readingMinutes', greatest(1, ceil(coalesce(array_length(regexp_split_to_array(nullif(btrim(input->>'body'), ''), '\\s+'), 1), 0) / 200.0)::int), 'excerpt', left(input->>'body', 280))"}},
	{"id": "review", "type": "human-approval", "position": {"x": 500, "y": 100},
	 "data": {"label": "Editorial review", "title": "Publish \"{{prepare.title}}\"?",
	          "message": "{{prepare.words}} words by {{prepare.author}} ({{prepare.readingMinutes}} min read).",
	          "previewData": "{{prepare}}", "expiresInMs": 604800000, "onExpire": "reject"}},
	{"id": "publish", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Mark published", "name": "status", "value": "published"}},
	{"id": "revise", "type": "set-variable", "position": {"x": 750, "y": 200},
	 "data": {"label": "Request changes", "name": "status", "value": "changes-requested"}},
	{"id": "announce", "type": "notify", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Announce", "channel": "content_published",
	          "payload": {"slug": "{{prepare.slug}}", "title": "{{prepare.title}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 100},
	 "data": {"label": "Outcome", "value": {"slug": "{{prepare.slug}}", "title": "{{prepare.title}}",
	          "status": "{{variables.status}}", "reviewer": "{{review.approvedBy}}", "comment": "{{review.comment}}"}}}
 ]$n$,
 't>prepare prepare>review review:approved>publish review:rejected>revise publish>announce '
 'announce>result revise>result'),

(6, 'Newsletter digest builder', 'content-generation', 'intermediate', false, false, 'A weekly issue in one click',
 '["content", "newsletter", "markdown"]',
 'Turns the articles published since a date (payload {issue, since: "YYYY-MM-DD", articles: [{title, url, '
 'summary, publishedAt}]}) into a Markdown digest: one line per article, and a subject line with the count.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Build the issue", "triggerType": "manual"}},
	{"id": "recent", "type": "filter", "position": {"x": 250, "y": 100},
	 "data": {"label": "Since the last issue", "items": "{{trigger.payload.articles}}",
	          "conditions": [{"left": "{{item.publishedAt}}", "operator": "gte", "right": "{{trigger.payload.since}}"}]}},
	{"id": "each", "type": "loop-controller", "position": {"x": 500, "y": 100},
	 "data": {"label": "For each article", "items": "{{recent}}", "parallel": 1}},
	{"id": "entry", "type": "data-transform", "position": {"x": 750, "y": 0},
	 "data": {"label": "Markdown line", "language": "sql",
	          "expression": "to_jsonb(format('- [%s](%s): %s', input->>'title', input->>'url', coalesce(input->>'summary', '')))"}},
	{"id": "compose", "type": "data-transform", "position": {"x": 750, "y": 200},
	 "data": {"label": "Compose digest", "language": "sql",
	          "input": {"issue": "{{trigger.payload.issue}}", "lines": "{{each.results}}"},
	          "expression": "jsonb_build_object('subject', format('Newsletter #%s: %s new articles', input->>'issue', jsonb_array_length(input->'lines')), 'articles', jsonb_array_length(input->'lines'), 'markdown', coalesce((SELECT string_agg(l #>> '{}', E'\\n' ORDER BY o) FROM jsonb_array_elements(input->'lines') WITH ORDINALITY x(l, o)), ''))"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 200},
	 "data": {"label": "Digest", "value": "{{compose}}"}}
 ]$n$,
 't>recent recent>each each:body>entry each:done>compose compose>result'),

-- ---------------------------------------------------------------- automation
(7, 'Webhook to table', 'automation', 'beginner', false, false, 'Every event stored, queryable in SQL',
 '["automation", "webhook", "database"]',
 'Stores every webhook delivery (payload {source, event or type, ...}) as a row of your table '
 'webhook_events. Create it first: CREATE TABLE webhook_events (id bigserial PRIMARY KEY, source text NOT '
 'NULL, event_type text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now()); '
 'grant INSERT on it and USAGE on its sequence to the workflow''s run_as role, then publish the workflow '
 'for its webhook URL.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Webhook received", "triggerType": "webhook"}},
	{"id": "normalize", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Normalise", "language": "sql",
	          "expression": "jsonb_build_object('source', coalesce(input->>'source', 'unknown'), 'eventType', coalesce(input->>'event', input->>'type', 'unknown'), 'payload', input)"}},
	{"id": "store", "type": "database-query", "position": {"x": 500, "y": 100},
	 "data": {"label": "Insert row", "readOnly": false, "maxRows": 1,
	          "params": ["{{normalize.source}}", "{{normalize.eventType}}", "{{normalize.payload}}"],
	          "query": "INSERT INTO webhook_events (source, event_type, payload) VALUES ($1, $2, $3::jsonb) RETURNING id, received_at"}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
	 "data": {"label": "Stored", "value": {"id": "{{store.rows.0.id}}", "source": "{{normalize.source}}",
	          "eventType": "{{normalize.eventType}}"}}}
 ]$n$,
 't>normalize normalize>store store>result'),

(8, 'Endpoint health check', 'automation', 'intermediate', false, false, 'Know about downtime first',
 '["automation", "monitoring", "http", "schedule"]',
 'Calls an HTTP endpoint (payload {url}; retried once) and reports up (status below 400), down (any other '
 'status) or unreachable (no answer), alerting on NOTIFY channel health_alerts unless it is up. Schedule it '
 'with flowent.schedule, e.g. every five minutes. Private addresses need flowent.http_allow_hosts.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "Every few minutes", "triggerType": "schedule"}},
	{"id": "probe", "type": "http-request", "position": {"x": 250, "y": 150},
	 "data": {"label": "Call endpoint", "method": "GET", "url": "{{trigger.payload.url}}", "timeoutMs": 10000,
	          "acceptStatus": ["1xx", "2xx", "3xx", "4xx", "5xx"], "retry": {"maxAttempts": 2, "backoffMs": 500},
	          "onError": "branch"}},
	{"id": "healthy", "type": "condition", "position": {"x": 500, "y": 50},
	 "data": {"label": "Status below 400?", "conditions": [{"left": "{{probe.status}}", "operator": "lt", "right": 400}]}},
	{"id": "up", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Up", "name": "health", "value": "up"}},
	{"id": "down", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Down", "name": "health", "value": "down"}},
	{"id": "unreachable", "type": "set-variable", "position": {"x": 750, "y": 300},
	 "data": {"label": "Unreachable", "name": "health", "value": "unreachable"}},
	{"id": "alert", "type": "notify", "position": {"x": 1000, "y": 225},
	 "data": {"label": "Alert", "channel": "health_alerts",
	          "payload": {"url": "{{trigger.payload.url}}", "health": "{{variables.health}}", "status": "{{probe.status | null}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Health", "value": {"url": "{{trigger.payload.url}}", "health": "{{variables.health}}",
	          "status": "{{probe.status | null}}"}}}
 ]$n$,
 't>probe probe>healthy probe:error>unreachable healthy:true>up healthy:false>down down>alert '
 'unreachable>alert up>result alert>result'),

(9, 'Wait for payment, then fulfil', 'automation', 'intermediate', false, false, 'Orders ship the moment they are paid',
 '["automation", "orders", "signal"]',
 'Holds an order (payload {orderId, total}) until the payment signal arrives: flowent.resume(executionId, '
 '{"amount": ..., "reference": ...}) within a day, else the run fails with TIMEOUT. A payment that covers '
 'the total is sent to fulfilment on NOTIFY channel fulfilment; one that does not fails the run with code '
 'PAYMENT_MISMATCH.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Order placed", "triggerType": "webhook"}},
	{"id": "payment", "type": "wait", "position": {"x": 250, "y": 100},
	 "data": {"label": "Wait for payment", "signal": "payment-received", "timeoutMs": 86400000}},
	{"id": "covered", "type": "condition", "position": {"x": 500, "y": 100},
	 "data": {"label": "Covers the total?",
	          "conditions": [{"left": "{{payment.amount}}", "operator": "gte", "right": "{{trigger.payload.total}}"}]}},
	{"id": "fulfil", "type": "notify", "position": {"x": 750, "y": 0},
	 "data": {"label": "Send to fulfilment", "channel": "fulfilment",
	          "payload": {"orderId": "{{trigger.payload.orderId}}", "reference": "{{payment.reference | null}}"}}},
	{"id": "mismatch", "type": "stop-error", "position": {"x": 750, "y": 200},
	 "data": {"label": "Payment mismatch", "code": "PAYMENT_MISMATCH",
	          "message": "payment of {{payment.amount}} does not cover the order total {{trigger.payload.total}}"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Fulfilled", "value": {"orderId": "{{trigger.payload.orderId}}", "status": "fulfilled",
	          "paid": "{{payment.amount}}", "reference": "{{payment.reference | null}}"}}}
 ]$n$,
 't>payment payment>covered covered:true>fulfil covered:false>mismatch fulfil>result'),

-- ---------------------------------------------------------------- research
(10, 'Research source collector', 'research', 'advanced', false, true, 'Hours of searching in one run',
 '["research", "http", "search", "loop"]',
 'Asks each search source for a topic (payload {topic, maxResults (default 10), sources: [{name, url}]}: '
 'GET <url>?q=<topic>&limit=<maxResults>, four at a time, answers {results: [...]}) and collects the '
 'results; a source that fails is reported, not fatal. Private addresses need flowent.http_allow_hosts.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Research topic", "triggerType": "manual"}},
	{"id": "each", "type": "loop-controller", "position": {"x": 250, "y": 100},
	 "data": {"label": "For each source", "items": "{{trigger.payload.sources}}", "parallel": 4}},
	{"id": "fetch", "type": "http-request", "position": {"x": 500, "y": 0},
	 "data": {"label": "Search source", "method": "GET", "url": "{{loop.item.url}}",
	          "query": {"q": "{{trigger.payload.topic}}", "limit": "{{trigger.payload.maxResults | 10}}"},
	          "headers": {"Accept": "application/json"}, "timeoutMs": 15000, "onError": "continue"}},
	{"id": "pick", "type": "data-transform", "position": {"x": 750, "y": 0},
	 "data": {"label": "Keep the results", "language": "sql", "input": {"source": "{{loop.item}}", "response": "{{fetch}}"},
	          "expression": "jsonb_build_object('source', input->'source'->>'name', 'ok', coalesce((input->'response'->>'status')::int BETWEEN 200 AND 299, false), 'status', input->'response'->'status', 'error', input->'response'->'error'->>'message', 'results', CASE WHEN jsonb_typeof(input->'response'->'body'->'results') = 'array' THEN (SELECT jsonb_agg(r || jsonb_build_object('source', input->'source'->>'name')) FROM jsonb_array_elements(input->'response'->'body'->'results') r) ELSE '[]' END)"}},
	{"id": "collect", "type": "data-transform", "position": {"x": 500, "y": 200},
	 "data": {"label": "Collect", "language": "sql", "input": "{{each.results}}",
	          "expression": "jsonb_build_object('sources', jsonb_array_length(input), 'failed', (SELECT coalesce(jsonb_agg(s->'source'), '[]') FROM jsonb_array_elements(input) s WHERE NOT (s->>'ok')::boolean), 'results', (SELECT coalesce(jsonb_agg(r), '[]') FROM jsonb_array_elements(input) s, jsonb_array_elements(s->'results') r))"}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 200},
	 "data": {"label": "Findings", "value": {"topic": "{{trigger.payload.topic}}", "findings": "{{collect}}"}}}
 ]$n$,
 't>each each:body>fetch fetch>pick each:done>collect collect>result'),

(11, 'Research source ranking', 'research', 'beginner', false, false, 'Read the best sources first',
 '["research", "ranking", "literature"]',
 'Scores candidate sources (payload {minScore (default 50), referenceYear (default this year), sources: '
 '[{title, url, year, citations, peerReviewed}]}): peer review 40, citations up to 30, an .edu/.gov/.org '
 'site 15, recency up to 15. Outputs all sources ranked and the shortlist at or above minScore.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Candidate sources", "triggerType": "manual"}},
	{"id": "score", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Score sources", "language": "sql",
	          "expression": "(SELECT coalesce(jsonb_agg(x.s || jsonb_build_object('score', x.sc) ORDER BY x.sc DESC, x.s->>'title'), '[]') FROM (SELECT s, least(100, CASE WHEN (s->>'peerReviewed')::boolean THEN 40 ELSE 0 END + least(30, coalesce((s->>'citations')::int, 0) / 10) + CASE WHEN s->>'url' ~* '^https?://[^/]+\\.(edu|gov|org)(/|$)' THEN 15 ELSE 0 END + greatest(0, 15 - 3 * (coalesce((input->>'referenceYear')::int, extract(year FROM now())::int) - coalesce((s->>'year')::int, 0)))) AS sc FROM jsonb_array_elements(input->'sources') s) x)"}},
	{"id": "keep", "type": "filter", "position": {"x": 500, "y": 100},
	 "data": {"label": "Shortlist", "items": "{{score}}",
	          "conditions": [{"left": "{{item.score}}", "operator": "gte", "right": "{{trigger.payload.minScore | 50}}"}]}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
	 "data": {"label": "Ranking", "value": {"shortlist": "{{keep}}", "ranked": "{{score}}"}}}
 ]$n$,
 't>score score>keep keep>result'),

-- ---------------------------------------------------------------- sales
(12, 'Lead scoring', 'sales', 'beginner', true, true, 'Sales calls the right leads first',
 '["sales", "leads", "scoring", "starter-kit"]',
 'Scores a new lead from 0 to 100 (payload {lead: {email, companySize, title, budget, source}}): company '
 'size, seniority, budget, a business address and the lead source. Hot leads (70+) go to an account '
 'executive and are announced on NOTIFY channel sales_hot_leads, warm ones (40+) to nurturing, cold ones to '
 'the newsletter.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "New lead", "triggerType": "webhook"}},
	{"id": "score", "type": "data-transform", "position": {"x": 250, "y": 150},
	 "data": {"label": "Score lead", "language": "sql", "input": "{{trigger.payload.lead}}",
	          "expression": "(SELECT jsonb_build_object('email', input->>'email', 'score', x.s, 'grade', CASE WHEN x.s >= 70 THEN 'hot' WHEN x.s >= 40 THEN 'warm' ELSE 'cold' END) FROM (SELECT greatest(0, least(100, CASE WHEN coalesce((input->>'companySize')::int, 0) >= 200 THEN 30 WHEN coalesce((input->>'companySize')::int, 0) >= 50 THEN 20 WHEN coalesce((input->>'companySize')::int, 0) >= 10 THEN 10 ELSE 0 END + CASE WHEN input->>'title' ~* '(chief|ceo|cto|cfo|vp|head|director)' THEN 30 WHEN input->>'title' ~* 'manager' THEN 15 ELSE 0 END + CASE WHEN coalesce((input->>'budget')::numeric, 0) >= 25000 THEN 25 WHEN coalesce((input->>'budget')::numeric, 0) >= 5000 THEN 10 ELSE 0 END + CASE WHEN input->>'email' ~* '@(gmail|yahoo|hotmail|outlook|gmx|web)\\.' THEN -10 ELSE 5 END + CASE input->>'source' WHEN 'referral' THEN 10 WHEN 'webinar' THEN 5 ELSE 0 END)) AS s) x)"}},
	{"id": "route", "type": "switch", "position": {"x": 500, "y": 150},
	 "data": {"label": "Route by grade", "value": "{{score.grade}}",
	          "cases": [{"id": "hot", "operator": "equals", "right": "hot"}, {"id": "warm", "operator": "equals", "right": "warm"}]}},
	{"id": "ae", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Account executive", "variables": {"owner": "account-executive", "nextStep": "call within 24 hours"}}},
	{"id": "nurture", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Nurture", "variables": {"owner": "sdr", "nextStep": "add to the nurture sequence"}}},
	{"id": "newsletter", "type": "set-variable", "position": {"x": 750, "y": 300},
	 "data": {"label": "Newsletter", "variables": {"owner": "marketing", "nextStep": "newsletter only"}}},
	{"id": "announce", "type": "notify", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Announce hot lead", "channel": "sales_hot_leads",
	          "payload": {"email": "{{score.email}}", "score": "{{score.score}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Scored lead", "value": {"email": "{{score.email}}", "score": "{{score.score}}", "grade": "{{score.grade}}",
	          "owner": "{{variables.owner}}", "nextStep": "{{variables.nextStep}}"}}}
 ]$n$,
 't>score score>route route:hot>ae route:warm>nurture route:default>newsletter ae>announce '
 'announce>result nurture>result newsletter>result'),

(13, 'Follow-up reminder', 'sales', 'beginner', false, false, 'No deal goes cold by accident',
 '["sales", "reminder", "delay"]',
 'Waits (payload {dealId, contact, owner, followUpInMs (default 3 days)}), then reminds the deal owner on '
 'NOTIFY channel sales_reminders to follow up with the contact.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Meeting logged", "triggerType": "manual"}},
	{"id": "later", "type": "delay", "position": {"x": 250, "y": 100},
	 "data": {"label": "Wait before follow-up", "durationMs": "{{trigger.payload.followUpInMs | 259200000}}"}},
	{"id": "remind", "type": "notify", "position": {"x": 500, "y": 100},
	 "data": {"label": "Remind owner", "channel": "sales_reminders",
	          "payload": {"dealId": "{{trigger.payload.dealId}}", "owner": "{{trigger.payload.owner}}",
	                      "message": "Follow up with {{trigger.payload.contact}} on deal {{trigger.payload.dealId}}"}}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
	 "data": {"label": "Reminder sent", "value": {"dealId": "{{trigger.payload.dealId}}", "remindedAt": "{{later.resumedAt}}",
	          "reminder": "{{remind}}"}}}
 ]$n$,
 't>later later>remind remind>result'),

-- ---------------------------------------------------------------- marketing
(14, 'Campaign UTM builder', 'marketing', 'beginner', false, false, 'Consistent tracking links every time',
 '["marketing", "utm", "campaigns", "loop"]',
 'Builds one tracking link per channel (payload {baseUrl, campaign, content?, channels: [{source, '
 'medium}]}): utm_source, utm_medium, utm_campaign and utm_content, lower-cased and URL-safe, appended to '
 'the base URL.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Campaign brief", "triggerType": "manual"}},
	{"id": "each", "type": "loop-controller", "position": {"x": 250, "y": 100},
	 "data": {"label": "For each channel", "items": "{{trigger.payload.channels}}", "parallel": 1}},
	{"id": "link", "type": "data-transform", "position": {"x": 500, "y": 0},
	 "data": {"label": "Build link", "language": "sql",
	          "input": {"base": "{{trigger.payload.baseUrl}}", "campaign": "{{trigger.payload.campaign}}",
	                    "content": "{{trigger.payload.content | null}}", "channel": "{{loop.item}}"},
	          "expression": "(SELECT jsonb_build_object('source', input->'channel'->>'source', 'medium', input->'channel'->>'medium', 'url', (input->>'base') || CASE WHEN strpos(input->>'base', '?') > 0 THEN '&' ELSE '?' END || string_agg(p.k || '=' || btrim(lower(regexp_replace(p.v, '[^A-Za-z0-9._~]+', '-', 'g')), '-'), '&' ORDER BY p.o)) FROM (VALUES (1, 'utm_source', input->'channel'->>'source'), (2, 'utm_medium', input->'channel'->>'medium'), (3, 'utm_campaign', input->>'campaign'), (4, 'utm_content', input->>'content')) p(o, k, v) WHERE p.v IS NOT NULL)"}},
	{"id": "result", "type": "output", "position": {"x": 500, "y": 200},
	 "data": {"label": "Links", "value": {"campaign": "{{trigger.payload.campaign}}", "links": "{{each.results}}",
	          "count": "{{each.count}}"}}}
 ]$n$,
 't>each each:body>link each:done>result'),

(15, 'Audience segmentation', 'marketing', 'intermediate', false, false, 'The right message for every segment',
 '["marketing", "segmentation", "email"]',
 'Splits the contacts who opted in (payload {contacts: [{email, optedIn, lastOpenDays, purchases}]}) into '
 'loyal (3+ purchases), engaged (opened within 30 days), cooling (within 90) and dormant segments, and '
 'publishes the segment sizes on NOTIFY channel audience_segments.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Contact export", "triggerType": "manual"}},
	{"id": "consented", "type": "filter", "position": {"x": 250, "y": 100},
	 "data": {"label": "Opted in", "items": "{{trigger.payload.contacts}}",
	          "conditions": [{"left": "{{item.optedIn}}", "operator": "equals", "right": true}]}},
	{"id": "segment", "type": "data-transform", "position": {"x": 500, "y": 100},
	 "data": {"label": "Segment", "language": "sql",
	          "expression": "(SELECT jsonb_build_object('contacts', jsonb_array_length(input), 'counts', coalesce(jsonb_object_agg(g.seg, jsonb_array_length(g.emails)), '{}'), 'segments', coalesce(jsonb_object_agg(g.seg, g.emails), '{}')) FROM (SELECT x.seg, jsonb_agg(x.c->>'email' ORDER BY x.c->>'email') AS emails FROM (SELECT c, CASE WHEN coalesce((c->>'purchases')::int, 0) >= 3 THEN 'loyal' WHEN coalesce((c->>'lastOpenDays')::int, 100000) <= 30 THEN 'engaged' WHEN coalesce((c->>'lastOpenDays')::int, 100000) <= 90 THEN 'cooling' ELSE 'dormant' END AS seg FROM jsonb_array_elements(input) c) x GROUP BY x.seg) g)"}},
	{"id": "publish", "type": "notify", "position": {"x": 750, "y": 100},
	 "data": {"label": "Publish sizes", "channel": "audience_segments", "payload": "{{segment.counts}}"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 100},
	 "data": {"label": "Segments", "value": "{{segment}}"}}
 ]$n$,
 't>consented consented>segment segment>publish publish>result')
), shipped AS (
	INSERT INTO flowent.workflows AS w (id, name, description, nodes, edges, status, visibility, is_template,
		template_category, tags, roi_badge, complexity, is_featured, starter_kit, user_id, version,
		created_at, updated_at)
	SELECT format('f10e0000-7e00-4000-8000-%s', lpad(t.n::text, 12, '0'))::uuid, t.name, t.description,
		t.nodes::jsonb, (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', 'e-' || m[1] || '-' || m[3],
				'source', m[1], 'sourceHandle', m[2], 'target', m[3])) ORDER BY x.o)
			FROM regexp_split_to_table(t.edges, '\s+') WITH ORDINALITY AS x(e, o),
				regexp_match(x.e, '^([^:>]+)(?::([^>]+))?>(.+)$') AS m),
		'active', 'public', true, t.category::flowent.template_category,
		t.tags::jsonb, t.roi_badge, t.complexity::flowent.template_complexity, t.is_featured, t.starter_kit,
		'flowent', 1, '2026-12-01 00:00:00+00', '2026-12-01 00:00:00+00'
	FROM t
	RETURNING w.id, w.name, w.nodes, w.edges
)
INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges, message, created_by, created_at)
SELECT s.id, 1, s.name, s.nodes, s.edges, 'shipped with flowent 0.5', 'flowent', '2026-12-01 00:00:00+00'
FROM shipped s;

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
-- Table-change triggers (release 0.7): a row written in a watched table
-- starts a workflow in the writing transaction. flowent.on_change() puts one
-- statement-level AFTER trigger per event on the table (transition tables
-- may not be shared between events), each calling flowent._table_changed(id):
-- the statement's rows stored as they are, for a worker to filter and queue
-- their executions after the commit (async; release 0.14), or a run per row
-- inside the statement (sync). Who acts is the trigger's creator; the
-- writer of the row needs no Flowent rights.

CREATE TABLE flowent.table_change_triggers (
	id uuid PRIMARY KEY,
	workflow_id uuid NOT NULL REFERENCES flowent.workflows(id) ON DELETE CASCADE,
	-- regclass: pg_dump writes the table's name, a restore finds its new oid
	target regclass NOT NULL,
	events text[] NOT NULL,
	options jsonb NOT NULL DEFAULT '{}',
	created_by text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT table_change_triggers_one_per_table UNIQUE (workflow_id, target)
);

-- How often each trigger fired: a row per trigger and backend, so that
-- concurrent writers of one table never wait for each other's counter
-- (a rolled-back statement counts nothing).
CREATE TABLE flowent.table_trigger_fires (
	trigger_id uuid NOT NULL REFERENCES flowent.table_change_triggers(id) ON DELETE CASCADE,
	backend integer NOT NULL,
	fires bigint NOT NULL,
	executions bigint NOT NULL,
	last_fired_at timestamptz NOT NULL,
	PRIMARY KEY (trigger_id, backend)
);

ALTER TABLE flowent.table_change_triggers ENABLE ROW LEVEL SECURITY;
ALTER TABLE flowent.table_trigger_fires ENABLE ROW LEVEL SECURITY;
-- the triggers of workflows the user sees (their creator always sees them)
CREATE POLICY table_change_triggers_select ON flowent.table_change_triggers FOR SELECT
	USING (created_by = flowent.current_user_id()
		OR EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id));
CREATE POLICY table_trigger_fires_select ON flowent.table_trigger_fires FOR SELECT
	USING (EXISTS (SELECT 1 FROM flowent.table_change_triggers t WHERE t.id = trigger_id));
GRANT SELECT ON flowent.table_change_triggers, flowent.table_trigger_fires TO PUBLIC;

-- The rows an async trigger's statement changed (release 0.14), as they were
-- written, until a worker makes their payloads and queues their executions
-- (src/pg/table_changes.c): writing a JSON payload and an execution per row
-- in the writing statement cost ten times a COPY.  A batch commits or rolls
-- back with the write and is deleted when its executions are queued; one
-- that could not be queued keeps its rows and says why in error.  Not tied
-- to the trigger's record: rows written while it existed still run after
-- drop_on_change.  Not dumped: the tuples hold this cluster's type oids.
CREATE TABLE flowent.table_change_batches (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	trigger_id uuid NOT NULL,
	workflow_id uuid NOT NULL REFERENCES flowent.workflows(id) ON DELETE CASCADE,
	workflow_version integer NOT NULL,
	created_by text NOT NULL,
	-- the table's owner when written: the rows are turned into JSON as this role
	reader oid NOT NULL,
	op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
	table_name text NOT NULL,
	-- options.columns of an update: it counts only if one of them changed;
	-- options.when: only rows where it holds run
	columns text[],
	condition jsonb,
	-- the table's attributes, and the rows (an update's old ones apart, in the same order)
	row_type bytea NOT NULL,
	rows bytea NOT NULL,
	old_rows bytea,
	row_count integer NOT NULL,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	error text,
	failed_at timestamptz
);
-- the rows are written once and read once: compressing them costs more than it saves
ALTER TABLE flowent.table_change_batches ALTER COLUMN row_type SET STORAGE EXTERNAL,
	ALTER COLUMN rows SET STORAGE EXTERNAL, ALTER COLUMN old_rows SET STORAGE EXTERNAL;
CREATE INDEX ON flowent.table_change_batches (trigger_id);
ALTER TABLE flowent.table_change_batches ENABLE ROW LEVEL SECURITY;
CREATE POLICY table_change_batches_select ON flowent.table_change_batches FOR SELECT
	USING (created_by = flowent.current_user_id()
		OR EXISTS (SELECT 1 FROM flowent.workflows w WHERE w.id = workflow_id));
GRANT SELECT (id, trigger_id, workflow_id, workflow_version, created_by, op, table_name, row_count,
	created_at, error, failed_at) ON flowent.table_change_batches TO PUBLIC;

CREATE VIEW flowent.table_triggers WITH (security_invoker) AS
	SELECT t.id, t.workflow_id AS workflow, t.target AS "table", t.events, t.options, t.created_by,
		coalesce(f.fires, 0) AS fires, coalesce(f.executions, 0) AS executions, f.last_fired_at,
		coalesce(b.waiting, 0) AS waiting, coalesce(b.failed, 0) AS failed
	FROM flowent.table_change_triggers t
	LEFT JOIN (SELECT s.trigger_id, sum(s.fires)::bigint AS fires, sum(s.executions)::bigint AS executions,
			max(s.last_fired_at) AS last_fired_at
		FROM flowent.table_trigger_fires s GROUP BY s.trigger_id) f ON f.trigger_id = t.id
	LEFT JOIN (SELECT c.trigger_id, (sum(c.row_count) FILTER (WHERE c.error IS NULL))::bigint AS waiting,
			(sum(c.row_count) FILTER (WHERE c.error IS NOT NULL))::bigint AS failed
		FROM flowent.table_change_batches c GROUP BY c.trigger_id) b ON b.trigger_id = t.id;
GRANT SELECT ON flowent.table_triggers TO PUBLIC;

-- The trigger function (src/pg/table_trigger.c).
CREATE FUNCTION flowent._table_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'flowent_table_changed' LANGUAGE C;

-- Checks a `when` condition (the condition node's format, over new and old)
-- by evaluating it on a row of the table's columns, all null (release
-- 0.14: {{old.status}} resolves): a configuration error shows whatever the data.
CREATE FUNCTION flowent._check_when(condition jsonb, row_of_nulls jsonb) RETURNS void
	AS 'MODULE_PATHNAME', 'flowent_check_when' LANGUAGE C STABLE;

-- The names of a trigger's PostgreSQL triggers, one per event.
CREATE FUNCTION flowent._table_trigger_name(id uuid, event text) RETURNS name
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT ('flowent_' || replace(id::text, '-', '') || '_' || event)::name
$$;

-- Record a trigger for the caller, once on_change made its PostgreSQL
-- triggers (which took the caller's TRIGGER privilege on the table), and
-- make those go with the extension: DROP EXTENSION removes them, pg_dump
-- keeps the dependency. SECURITY DEFINER: users have no write privilege on
-- the record, and ALTER TRIGGER needs the table's owner.
CREATE FUNCTION flowent._table_trigger_register(id uuid, workflow_id uuid, target regclass, events text[],
												options jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._check_user_id(flowent._caller_id(), 'the acting user');
	other uuid;
	ev text;
	tg name;
BEGIN
	IF NOT flowent._workflow_visible_to(workflow_id, caller) THEN
		RAISE EXCEPTION 'workflow % not found', workflow_id USING ERRCODE = '42704';
	END IF;
	SELECT t.id INTO other FROM flowent.table_change_triggers t
	WHERE t.workflow_id = _table_trigger_register.workflow_id AND t.target = _table_trigger_register.target;
	IF FOUND THEN
		RAISE EXCEPTION 'workflow % already has a trigger on table %: %', workflow_id, target, other
			USING ERRCODE = '23505', HINT = format('Drop it first: SELECT flowent.drop_on_change(%L);', other);
	END IF;
	FOREACH ev IN ARRAY events LOOP
		tg := flowent._table_trigger_name(id, ev);
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = target AND t.tgname = tg
				AND t.tgfoid = 'flowent._table_changed()'::regprocedure) THEN
			RAISE EXCEPTION 'table trigger %: no trigger % on table %: use flowent.on_change()', id, tg, target
				USING ERRCODE = '55000';
		END IF;
		EXECUTE format('ALTER TRIGGER %I ON %s DEPENDS ON EXTENSION flowent', tg, target);
	END LOOP;
	INSERT INTO flowent.table_change_triggers (id, workflow_id, target, events, options, created_by)
	VALUES (id, workflow_id, target, events, options, caller);
END
$$;

-- flowent.on_change(workflow, table, events, options): start the workflow
-- for every row a statement inserts, updates or deletes in the table. Runs
-- as its caller (SECURITY INVOKER): CREATE TRIGGER asks for the table's
-- owner or the TRIGGER privilege. Options:
--   columns  updates count only when one of these columns changes value
--   when     a rule {left, operator, right} or a group {combinator, conditions}
--            (the condition node's format) over {{new.…}} and {{old.…}}
--   mode     'async' (default: the rows stored with the write, their executions
--            queued by a worker after the commit) or 'sync' (run inside
--            the writing statement; a failed run fails the statement)
--   version  the workflow version to run (default: the published one, else the latest)
CREATE FUNCTION flowent.on_change(workflow_id uuid, target regclass,
								  events text[] DEFAULT '{insert,update,delete}', options jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	o jsonb := coalesce(options, '{}'::jsonb);
	v_id uuid := gen_random_uuid();
	rel record;
	ev text;
	col text;
	mode text;
BEGIN
	IF workflow_id IS NULL THEN
		RAISE EXCEPTION 'workflow_id must not be null' USING ERRCODE = '22023';
	END IF;
	IF target IS NULL THEN
		RAISE EXCEPTION 'target must not be null: the table to watch' USING ERRCODE = '22023';
	END IF;
	SELECT c.relkind, n.nspname INTO rel FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
	IF rel.relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION 'target %: only tables can be watched, this is a %', target,
			CASE rel.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'
				ELSE 'relation of kind ' || rel.relkind::text END
			USING ERRCODE = '22023';
	END IF;
	IF rel.nspname = 'flowent' THEN
		RAISE EXCEPTION 'target %: Flowent''s own tables cannot be watched', target USING ERRCODE = '22023';
	END IF;
	IF events IS NULL OR cardinality(events) = 0 THEN
		RAISE EXCEPTION 'events must name at least one of insert, update, delete' USING ERRCODE = '22023';
	END IF;
	FOREACH ev IN ARRAY events LOOP
		IF ev IS NULL OR ev NOT IN ('insert', 'update', 'delete') THEN
			RAISE EXCEPTION 'events: % is not one of insert, update, delete', coalesce('"' || ev || '"', 'null')
				USING ERRCODE = '22023';
		END IF;
	END LOOP;
	IF (SELECT count(DISTINCT e) FROM unnest(events) e) <> cardinality(events) THEN
		RAISE EXCEPTION 'events: % names an event twice', events USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._check_keys('options', o, ARRAY['columns', 'when', 'mode', 'version']);
	IF o ? 'columns' THEN
		IF jsonb_typeof(o -> 'columns') <> 'array' OR jsonb_array_length(o -> 'columns') = 0 THEN
			RAISE EXCEPTION 'options.columns must be a non-empty array of column names, got %', o -> 'columns'
				USING ERRCODE = '22023';
		END IF;
		IF NOT 'update' = ANY (events) THEN
			RAISE EXCEPTION 'options.columns filters updates, but events % has no update', events
				USING ERRCODE = '22023';
		END IF;
		FOR col IN SELECT c FROM jsonb_array_elements(o -> 'columns') c LOOP
			IF jsonb_typeof(col::jsonb) <> 'string' THEN
				RAISE EXCEPTION 'options.columns: % is not a column name (a string)', col USING ERRCODE = '22023';
			END IF;
			IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = target
					AND a.attname = col::jsonb #>> '{}' AND a.attnum > 0 AND NOT a.attisdropped) THEN
				RAISE EXCEPTION 'options.columns: table % has no column %', target, col USING ERRCODE = '42703';
			END IF;
		END LOOP;
	END IF;
	IF o ? 'when' THEN
		IF jsonb_typeof(o -> 'when') <> 'object' THEN
			RAISE EXCEPTION 'options.when must be a condition object ({left, operator, right} or {combinator, conditions}), got %',
				o -> 'when' USING ERRCODE = '22023';
		END IF;
		PERFORM flowent._check_when(o -> 'when', (SELECT jsonb_object_agg(a.attname, NULL)
			FROM pg_catalog.pg_attribute a WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped));
	END IF;
	mode := coalesce(o ->> 'mode', 'async');
	IF o ? 'mode' AND (jsonb_typeof(o -> 'mode') <> 'string' OR mode NOT IN ('async', 'sync')) THEN
		RAISE EXCEPTION 'options.mode must be "async" or "sync", got %', o -> 'mode' USING ERRCODE = '22023';
	END IF;
	IF o ? 'version' THEN
		PERFORM flowent._json_int(o -> 'version', 'options.version', 1, 2147483647, NULL);
		IF NOT EXISTS (SELECT 1 FROM flowent.workflow_versions v
				WHERE v.workflow_id = on_change.workflow_id AND v.version = (o ->> 'version')::int) THEN
			RAISE EXCEPTION 'options.version: workflow % has no version %', workflow_id, o ->> 'version'
				USING ERRCODE = '22023';
		END IF;
	END IF;
	-- as the caller: CREATE TRIGGER asks for the table's owner or TRIGGER
	FOREACH ev IN ARRAY events LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s TABLE AS flowent_rows%s '
			'FOR EACH STATEMENT EXECUTE FUNCTION flowent._table_changed(%L)',
			flowent._table_trigger_name(v_id, ev), upper(ev), target,
			CASE ev WHEN 'delete' THEN 'OLD' ELSE 'NEW' END,
			CASE ev WHEN 'update' THEN ' OLD TABLE AS flowent_old' ELSE '' END, v_id);
	END LOOP;
	PERFORM flowent._table_trigger_register(v_id, workflow_id, target, events, o);
	RETURN v_id;
END
$$;

-- Remove a trigger: its creator, or whoever may change its workflow.
-- false when there is no such trigger (or it is not visible).
CREATE FUNCTION flowent.drop_on_change(id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	caller text := flowent._caller_id();
	t record;
BEGIN
	IF id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = '22023';
	END IF;
	SELECT c.created_by, w.user_id, w.workspace_id INTO t
	FROM flowent.table_change_triggers c JOIN flowent.workflows w ON w.id = c.workflow_id
	WHERE c.id = drop_on_change.id
		AND (c.created_by = caller OR flowent._workflow_visible(w.user_id, w.visibility, w.workspace_id, caller));
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF t.created_by <> caller AND NOT flowent._can_edit(t.user_id, t.workspace_id, caller) THEN
		RAISE EXCEPTION 'table trigger %: only its creator or an editor of its workflow may drop it', id
			USING ERRCODE = '42501';
	END IF;
	DELETE FROM flowent.table_change_triggers c WHERE c.id = drop_on_change.id;
	RETURN true;
END
$$;

-- A trigger's record went (drop_on_change, its workflow deleted): its
-- PostgreSQL triggers go with it, if its table is still there.
CREATE FUNCTION flowent._table_trigger_gone() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT tg.tgname, tg.tgrelid::regclass AS rel FROM pg_catalog.pg_trigger tg
		WHERE tg.tgrelid = OLD.target AND tg.tgfoid = 'flowent._table_changed()'::regprocedure
			AND tg.tgname IN (SELECT flowent._table_trigger_name(OLD.id, e) FROM unnest(OLD.events) e)
	LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
	END LOOP;
	RETURN NULL;
END
$$;
CREATE TRIGGER table_change_triggers_gone AFTER DELETE ON flowent.table_change_triggers
	FOR EACH ROW EXECUTE FUNCTION flowent._table_trigger_gone();

-- A watched table dropped (or its triggers dropped by hand): the records go.
CREATE FUNCTION flowent._table_triggers_dropped() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, flowent, pg_temp AS $$
BEGIN
	DELETE FROM flowent.table_change_triggers c
	WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg
		WHERE tg.tgrelid = c.target AND tg.tgfoid = 'flowent._table_changed()'::regprocedure
			AND tg.tgname IN (SELECT flowent._table_trigger_name(c.id, e) FROM unnest(c.events) e));
END
$$;
CREATE EVENT TRIGGER flowent_table_triggers_dropped ON sql_drop
	WHEN TAG IN ('DROP TABLE', 'DROP TRIGGER', 'DROP SCHEMA', 'DROP OWNED')
	EXECUTE FUNCTION flowent._table_triggers_dropped();

-- pg_dump keeps the triggers' records and their counters
SELECT pg_catalog.pg_extension_config_dump('flowent.table_change_triggers', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.table_trigger_fires', '');
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
-- AI nodes (release 0.8: the llm-agent, src/nodes/llm_agent.c).

-- List prices per 1,000 tokens in USD, shipped with the extension (not
-- dumped: each install or update brings its own). flowent.model_prices,
-- the database's own prices (dumped), comes first: a row there overrides
-- the list price of its model or prices a model the list does not know. A
-- model in neither costs 0, and the node says priced: false.
CREATE TABLE flowent.model_list_prices (
	model text PRIMARY KEY,
	prompt_per_1k numeric(12,6) NOT NULL,
	completion_per_1k numeric(12,6) NOT NULL,
	as_of date NOT NULL
);
INSERT INTO flowent.model_list_prices (model, prompt_per_1k, completion_per_1k, as_of) VALUES
	('gpt-4o', 0.0025, 0.01, '2025-06-01'),
	('gpt-4o-mini', 0.00015, 0.0006, '2025-06-01'),
	('gpt-4.1', 0.002, 0.008, '2025-06-01'),
	('gpt-4.1-mini', 0.0004, 0.0016, '2025-06-01'),
	('gpt-4.1-nano', 0.0001, 0.0004, '2025-06-01'),
	('o3', 0.002, 0.008, '2025-06-01'),
	('o3-mini', 0.0011, 0.0044, '2025-06-01'),
	('o4-mini', 0.0011, 0.0044, '2025-06-01'),
	('gpt-3.5-turbo', 0.0005, 0.0015, '2025-06-01'),
	('claude-3-5-sonnet', 0.003, 0.015, '2025-06-01'),
	('claude-3-5-haiku', 0.0008, 0.004, '2025-06-01'),
	('claude-3-7-sonnet', 0.003, 0.015, '2025-06-01'),
	('mistral-large-latest', 0.002, 0.006, '2025-06-01'),
	('mistral-small-latest', 0.0001, 0.0003, '2025-06-01');
GRANT SELECT ON flowent.model_list_prices TO PUBLIC;

-- The price a model's usage is charged at: the database's own, else the list's.
CREATE VIEW flowent.model_price WITH (security_invoker = true) AS
	SELECT p.model, p.prompt_per_1k, p.completion_per_1k, 'model_prices' AS source FROM flowent.model_prices p
	UNION ALL
	SELECT l.model, l.prompt_per_1k, l.completion_per_1k, 'list (' || l.as_of || ')' FROM flowent.model_list_prices l
	WHERE NOT EXISTS (SELECT 1 FROM flowent.model_prices p WHERE p.model = l.model);
GRANT SELECT ON flowent.model_price TO PUBLIC;
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
-- Budgets (release 0.11): limits per user and period that concurrent runs
-- cannot spend past, and per-run caps (options.maxCostUsd, maxTokens).
--
-- Before a costly call (an llm-agent step, condition's AI fallback) the
-- engine reserves the call's most it can cost: the prompt counted in bytes
-- (no tokenizer makes more tokens than bytes; the JSON around each message
-- covers its overhead) plus maxTokens. flowent._budget_reserve checks and
-- holds it in one transaction that locks the user's budget rows, so two
-- runs of one user can never both take the last of a budget. The call's real
-- usage settles the reservation (flowent._budget_settle): the hold goes, the
-- usage counts as spent. A reservation no response ever settled (its worker
-- died mid-call, its run was cancelled) counts as spent in full once its
-- execution is over (flowent._budget_sweep, from the workers).

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flowent_budget_admin') THEN
		CREATE ROLE flowent_budget_admin NOLOGIN;
	END IF;
END
$$;

-- Administrators read every budget (users their own: 03_rls.sql).
CREATE POLICY budgets_admin_select ON flowent.budgets FOR SELECT
	USING (flowent._is_admin(flowent.current_user_id()));

-- Calls in flight, each held against its user's budgets and its run's caps.
CREATE TABLE flowent.budget_reservations (
	id bigserial PRIMARY KEY,
	user_id varchar(255) NOT NULL,
	execution_id uuid NOT NULL,
	node_id text NOT NULL,
	iteration text NOT NULL DEFAULT '',
	usd numeric(14,6) NOT NULL,
	tokens bigint NOT NULL,
	held_on_user boolean NOT NULL,	-- false: skipBudgetCheck, held on the run's caps only
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (execution_id, node_id, iteration)
);
ALTER TABLE flowent.budget_reservations ENABLE ROW LEVEL SECURITY;
CREATE POLICY budget_reservations_select ON flowent.budget_reservations FOR SELECT
	USING (user_id = flowent.current_user_id() OR flowent._is_admin(flowent.current_user_id()));
GRANT SELECT ON flowent.budget_reservations TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('flowent.budget_reservations', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.budget_reservations_id_seq', '');

-- Where the period that holds `at` begins (UTC): a day, an ISO week (from
-- Monday), a month; a total budget never starts over.
CREATE FUNCTION flowent._period_start(period text, at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE period
		WHEN 'total' THEN '-infinity'::timestamptz
		ELSE date_trunc(period, at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
	END
$$;

-- The most a call of `model` with these token counts can cost, rounded up
-- to the cent's ten-thousandth the costs are kept in (0 for a model
-- without a price).
CREATE FUNCTION flowent._max_cost(model text, prompt_tokens bigint, completion_tokens bigint) RETURNS numeric
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT (ceil((p.prompt_per_1k * $2 + p.completion_per_1k * $3) * 1000) / 1000000)::numeric(14,6)
		FROM flowent.model_price p WHERE p.model = $1), 0)
$$;

-- A budget row brought into the current period: a new period starts with
-- nothing spent (what is in flight stays held).
CREATE FUNCTION flowent._budget_roll(b flowent.budgets) RETURNS flowent.budgets
LANGUAGE plpgsql STABLE AS $$
DECLARE
	ps timestamptz := flowent._period_start(b.period, now());
BEGIN
	IF b.period_start < ps THEN
		b.spent_usd := 0;
		b.spent_tokens := 0;
		b.period_start := ps;
	END IF;
	RETURN b;
END
$$;

-- Add to what every budget of user uid has spent and holds, in its current period.
CREATE FUNCTION flowent._budget_add(uid text, spent_usd numeric, spent_tokens bigint,
	held_usd numeric, held_tokens bigint) RETURNS void
LANGUAGE sql AS $$
	UPDATE flowent.budgets x SET
		spent_usd = CASE WHEN x.period_start < flowent._period_start(x.period, now()) THEN 0 ELSE x.spent_usd END + $2,
		spent_tokens = CASE WHEN x.period_start < flowent._period_start(x.period, now()) THEN 0 ELSE x.spent_tokens END + $3,
		period_start = greatest(x.period_start, flowent._period_start(x.period, now())),
		reserved_usd = greatest(x.reserved_usd + $4, 0),
		reserved_tokens = greatest(x.reserved_tokens + $5, 0),
		updated_at = now()
	WHERE x.user_id = $1
$$;

-- Reserve a call's most (usd, tokens) for node `node` of an execution:
-- against the run's caps (run_usd, run_tokens: what the run has spent so
-- far, besides its reservations), then, unless skip_user, against every
-- budget of the user. Answers {ok: true, id} (id null: nothing to hold),
-- or {ok: false, scope: "run"|"user", period, spent, limit, unit} saying
-- which limit the call would pass. A reservation of the same node left by
-- a send that never came back counts as spent in full before the new one.
CREATE FUNCTION flowent._budget_reserve(uid text, execution uuid, node text, iter text,
	usd numeric, tokens bigint, skip_user boolean,
	cap_usd numeric, cap_tokens bigint, run_usd numeric, run_tokens bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	held_usd numeric;
	held_tokens bigint;
	b flowent.budgets;
	n integer := 0;
	stale bigint;
	answer jsonb;
BEGIN
	SELECT r.id INTO stale FROM flowent.budget_reservations r
	WHERE r.execution_id = execution AND r.node_id = node AND r.iteration = iter;
	IF stale IS NOT NULL THEN
		PERFORM flowent._budget_settle(stale, NULL, NULL);
	END IF;
	IF cap_usd IS NOT NULL OR cap_tokens IS NOT NULL THEN
		SELECT coalesce(sum(r.usd), 0), coalesce(sum(r.tokens), 0) INTO held_usd, held_tokens
		FROM flowent.budget_reservations r WHERE r.execution_id = execution;
		IF cap_usd IS NOT NULL AND run_usd + held_usd + usd > cap_usd THEN
			RETURN jsonb_build_object('ok', false, 'scope', 'run', 'unit', 'usd',
				'spent', run_usd + held_usd, 'limit', cap_usd, 'needed', usd);
		END IF;
		IF cap_tokens IS NOT NULL AND run_tokens + held_tokens + tokens > cap_tokens THEN
			RETURN jsonb_build_object('ok', false, 'scope', 'run', 'unit', 'tokens',
				'spent', run_tokens + held_tokens, 'limit', cap_tokens, 'needed', tokens);
		END IF;
	END IF;
	IF NOT skip_user THEN
		-- the lock that makes check and hold one step for all of the user's runs
		FOR b IN SELECT * FROM flowent.budgets x WHERE x.user_id = uid ORDER BY x.period FOR UPDATE LOOP
			b := flowent._budget_roll(b);
			n := n + 1;
			IF b.limit_usd IS NOT NULL AND b.spent_usd + b.reserved_usd + usd > b.limit_usd THEN
				RETURN jsonb_build_object('ok', false, 'scope', 'user', 'period', b.period, 'unit', 'usd',
					'spent', b.spent_usd, 'reserved', b.reserved_usd, 'limit', b.limit_usd, 'needed', usd);
			END IF;
			IF b.limit_tokens IS NOT NULL AND b.spent_tokens + b.reserved_tokens + tokens > b.limit_tokens THEN
				RETURN jsonb_build_object('ok', false, 'scope', 'user', 'period', b.period, 'unit', 'tokens',
					'spent', b.spent_tokens, 'reserved', b.reserved_tokens, 'limit', b.limit_tokens, 'needed', tokens);
			END IF;
		END LOOP;
	END IF;
	IF n = 0 AND cap_usd IS NULL AND cap_tokens IS NULL THEN
		RETURN '{"ok": true, "id": null}';
	END IF;
	IF n > 0 THEN
		PERFORM flowent._budget_add(uid, 0, 0, usd, tokens);
	END IF;
	INSERT INTO flowent.budget_reservations AS x (user_id, execution_id, node_id, iteration, usd, tokens, held_on_user)
	VALUES (uid, execution, node, iter, usd, tokens, n > 0)
	RETURNING jsonb_build_object('ok', true, 'id', x.id) INTO answer;
	RETURN answer;
END
$$;

-- Settle reservation `id` with the call's real usage (NULL: it never
-- answered, so the whole reservation counts as spent). Answers whether
-- there was one.
CREATE FUNCTION flowent._budget_settle(id bigint, usd numeric, tokens bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	r flowent.budget_reservations;
BEGIN
	DELETE FROM flowent.budget_reservations x WHERE x.id = _budget_settle.id RETURNING * INTO r;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF r.held_on_user THEN
		PERFORM flowent._budget_add(r.user_id, coalesce(usd, r.usd), coalesce(tokens, r.tokens), -r.usd, -r.tokens);
	END IF;
	RETURN true;
END
$$;

-- Settle the reservation of node `node` (in iteration iter) of an execution, if it has one.
CREATE FUNCTION flowent._budget_settle_node(execution uuid, node text, iter text, usd numeric, tokens bigint)
RETURNS boolean
LANGUAGE sql AS $$
	SELECT coalesce((SELECT flowent._budget_settle(r.id, $4, $5) FROM flowent.budget_reservations r
		WHERE r.execution_id = $1 AND r.node_id = $2 AND r.iteration = $3), false)
$$;

-- Reservations whose execution is over, or gone, and that no response
-- settled: spent in full. The workers call it every few seconds.
CREATE FUNCTION flowent._budget_sweep() RETURNS integer
LANGUAGE sql AS $$
	SELECT count(flowent._budget_settle(r.id, NULL, NULL))::integer
	FROM flowent.budget_reservations r
	WHERE r.created_at < now() - interval '10 seconds'
	  AND NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e
		WHERE e.id = r.execution_id AND e.status IN ('pending', 'running', 'suspended'))
$$;

-- Set (or, with both limits NULL, remove) user uid's budget for a period:
-- day, week, month or total. For administrators (a superuser or a member
-- of flowent_admin); everyone reads their own in flowent.budget_status.
CREATE FUNCTION flowent.set_budget(user_id text, period text, limit_usd numeric, limit_tokens bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me text := flowent._caller_id();
BEGIN
	IF NOT flowent._is_admin(me) THEN
		RAISE EXCEPTION 'user "%" may not set budgets: an administrator (superuser or member of flowent_admin) sets them', me
			USING ERRCODE = '42501', HINT = 'Read your own in flowent.budget_status.';
	END IF;
	IF user_id IS NULL OR user_id = '' THEN
		RAISE EXCEPTION 'set_budget: user_id must name a user' USING ERRCODE = '22023';
	END IF;
	IF period IS NULL OR period NOT IN ('day', 'week', 'month', 'total') THEN
		RAISE EXCEPTION 'set_budget: period must be day, week, month or total, got %', coalesce(period, 'NULL')
			USING ERRCODE = '22023';
	END IF;
	IF limit_usd < 0 OR limit_tokens < 0 THEN
		RAISE EXCEPTION 'set_budget: limits must not be negative, got % USD and % tokens', limit_usd, limit_tokens
			USING ERRCODE = '22023';
	END IF;
	IF limit_usd IS NULL AND limit_tokens IS NULL THEN
		DELETE FROM flowent.budgets b WHERE b.user_id = set_budget.user_id AND b.period = set_budget.period;
		RETURN jsonb_build_object('userId', user_id, 'period', period, 'removed', true);
	END IF;
	INSERT INTO flowent.budgets AS b (user_id, period, limit_usd, limit_tokens, period_start)
	VALUES (set_budget.user_id, set_budget.period, limit_usd, limit_tokens, flowent._period_start(set_budget.period, now()))
	ON CONFLICT ON CONSTRAINT budgets_user_id_period_key DO UPDATE SET limit_usd = EXCLUDED.limit_usd,
		limit_tokens = EXCLUDED.limit_tokens, updated_at = now();
	RETURN (SELECT to_jsonb(s) FROM flowent.budget_status s
		WHERE s.user_id = set_budget.user_id AND s.period = set_budget.period);
END
$$;

-- Each budget as it stands now: spent in the current period, held by calls
-- in flight, and what remains (NULL: no limit of that unit).
CREATE VIEW flowent.budget_status WITH (security_invoker = true) AS
	SELECT b.user_id, b.period, r.period_start, b.limit_usd, b.limit_tokens,
		r.spent_usd, r.spent_tokens, b.reserved_usd, b.reserved_tokens,
		CASE WHEN b.limit_usd IS NOT NULL THEN greatest(b.limit_usd - r.spent_usd - b.reserved_usd, 0) END AS remaining_usd,
		CASE WHEN b.limit_tokens IS NOT NULL THEN greatest(b.limit_tokens - r.spent_tokens - b.reserved_tokens, 0) END
			AS remaining_tokens,
		b.updated_at
	FROM flowent.budgets b, LATERAL flowent._budget_roll(b) r;
GRANT SELECT ON flowent.budget_status TO PUBLIC;
-- What the dashboard reads beyond the seed's routes (release 0.11).

-- The table triggers (flowent.on_change) that start workflow `id`, for
-- GET /api/workflows/:id/table-triggers: {triggers: [...]}; a workflow the
-- caller cannot see is not found.
CREATE FUNCTION flowent.api_table_triggers(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
	PERFORM 1 FROM flowent.workflows w WHERE w.id = api_table_triggers.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_table_triggers.id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object('triggers', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t."table"::text), '[]'::jsonb)
		FROM flowent.table_triggers t WHERE t.workflow = api_table_triggers.id));
END
$$;
-- Cost estimates before a run (release 0.11): flowent.estimate(workflow_id, payload)
-- -> {totalTokens, totalCost, nodes: [{nodeId, tokens, cost, calls, note?}]}.
--
-- A model call's prompt is its text as the payload resolves it ({{trigger.payload.…}};
-- another node's output counts as the tokens that node may write), at four bytes a token
-- plus four a message; its completion is maxTokens (else flowent.llm_max_tokens): an
-- estimate at the top of what a call may write. An llm-agent with tools may call the model
-- maxSteps times (default 5). A loop's body counts once per item: the length of its items
-- when the payload gives them, else maxIterations, else once (and the node says so). A
-- sub-workflow counts its workflow's estimate. Of a condition's or a switch's branches the
-- dearest counts; branches that run side by side all count, and a node after they merge
-- once.

-- The text of `s` with the payload's {{trigger.payload.x}} (or {{payload.x}}) filled in and
-- other templates as `other_bytes` bytes each (what their node may write; 0 when unknown).
CREATE FUNCTION flowent._estimate_text(s text, payload jsonb, other jsonb) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	m text[];
	path text[];
	v jsonb;
	n bigint;
BEGIN
	IF s IS NULL THEN
		RETURN 0;
	END IF;
	n := octet_length(regexp_replace(s, '\{\{[^}]*\}\}', '', 'g'));
	FOR m IN SELECT regexp_matches(s, '\{\{\s*([^}]*?)\s*\}\}', 'g') LOOP
		path := string_to_array(m[1], '.');
		IF path[1] = 'trigger' AND path[2] = 'payload' THEN
			v := payload #> path[3:];
		ELSIF path[1] = 'payload' THEN
			v := payload #> path[2:];
		ELSE
			v := NULL;
			n := n + coalesce((other ->> path[1])::bigint, 0);
		END IF;
		IF v IS NOT NULL THEN
			n := n + octet_length(CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' ELSE v::text END);
		END IF;
	END LOOP;
	RETURN n;
END
$$;

-- How many items a loop node runs its body for: {count, note}.
CREATE FUNCTION flowent._estimate_items(data jsonb, payload jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	items jsonb := data -> 'items';
	m text[];
	path text[];
	v jsonb;
BEGIN
	IF jsonb_typeof(items) = 'array' THEN
		RETURN jsonb_build_object('count', jsonb_array_length(items));
	END IF;
	IF jsonb_typeof(items) = 'string' THEN
		m := regexp_match(items #>> '{}', '^\s*\{\{\s*([^}]*?)\s*\}\}\s*$');
		IF m IS NOT NULL THEN
			path := string_to_array(m[1], '.');
			v := CASE WHEN path[1] = 'trigger' AND path[2] = 'payload' THEN payload #> path[3:]
				WHEN path[1] = 'payload' THEN payload #> path[2:] END;
			IF jsonb_typeof(v) = 'array' THEN
				RETURN jsonb_build_object('count', jsonb_array_length(v));
			END IF;
		END IF;
	END IF;
	IF jsonb_typeof(data -> 'maxIterations') = 'number' THEN
		RETURN jsonb_build_object('count', (data ->> 'maxIterations')::bigint,
			'note', 'items unknown before the run: maxIterations');
	END IF;
	RETURN jsonb_build_object('count', 1, 'note', 'items unknown before the run and no maxIterations: once');
END
$$;

CREATE FUNCTION flowent._estimate(nodes jsonb, edges jsonb, payload jsonb, depth integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	n jsonb;
	e jsonb;
	id text;
	d jsonb;
	tokens jsonb := '{}';		-- per node, one run of it
	cost jsonb := '{}';
	calls jsonb := '{}';
	notes jsonb := '{}';
	out_bytes jsonb := '{}';	-- what a model node may write, for prompts that use it
	mult jsonb := '{}';			-- runs per node (loop bodies)
	order_ids text[] := '{}';
	indeg jsonb := '{}';
	ready text[];
	chosen jsonb := '{}';		-- per node: the nodes its dearest continuation runs
	best text[];
	best_cost numeric;
	set_ids text[];
	c numeric;
	t bigint;
	prompt bigint;
	completion bigint;
	k bigint;
	child jsonb;
	items jsonb;
	body text[];
	frontier text[];
	total_tokens bigint := 0;
	total_cost numeric := 0;
	result jsonb := '[]';
	max_tokens bigint := coalesce(current_setting('flowent.llm_max_tokens', true), '4096')::bigint;
BEGIN
	IF depth > 8 THEN
		RETURN jsonb_build_object('totalTokens', 0, 'totalCost', 0, 'nodes', '[]'::jsonb);
	END IF;
	-- topological order (the workflow is acyclic: flowent.validate)
	FOR n IN SELECT * FROM jsonb_array_elements(nodes) LOOP
		indeg := indeg || jsonb_build_object(n ->> 'id', 0);
	END LOOP;
	FOR e IN SELECT * FROM jsonb_array_elements(edges) LOOP
		indeg := jsonb_set(indeg, ARRAY[e ->> 'target'], to_jsonb(coalesce((indeg ->> (e ->> 'target'))::int, 0) + 1));
	END LOOP;
	ready := ARRAY(SELECT k2 FROM jsonb_each_text(indeg) x(k2, v2) WHERE v2::int = 0);
	WHILE cardinality(ready) > 0 LOOP
		id := ready[1];
		ready := ready[2:];
		order_ids := order_ids || id;
		FOR e IN SELECT * FROM jsonb_array_elements(edges) x WHERE x ->> 'source' = id LOOP
			indeg := jsonb_set(indeg, ARRAY[e ->> 'target'], to_jsonb((indeg ->> (e ->> 'target'))::int - 1));
			IF (indeg ->> (e ->> 'target'))::int = 0 THEN
				ready := ready || (e ->> 'target');
			END IF;
		END LOOP;
	END LOOP;

	-- each node's cost, once, in order (a prompt may use an earlier model's answer)
	FOREACH id IN ARRAY order_ids LOOP
		SELECT x INTO n FROM jsonb_array_elements(nodes) x WHERE x ->> 'id' = id;
		d := coalesce(n -> 'data', '{}');
		t := 0; c := 0; k := 1;
		IF n ->> 'type' = 'llm-agent' OR (n ->> 'type' = 'condition' AND (d ->> 'fallbackToAI')::boolean IS TRUE) THEN
			prompt := flowent._estimate_text(d ->> 'prompt', payload, out_bytes)
				+ flowent._estimate_text(d ->> 'systemPrompt', payload, out_bytes)
				+ CASE WHEN jsonb_typeof(d -> 'messages') = 'array' THEN octet_length((d -> 'messages')::text) ELSE 0 END
				+ CASE WHEN n ->> 'type' = 'condition' THEN octet_length(coalesce(d -> 'conditions', d -> 'rules', '[]')::text) + 400 ELSE 0 END;
			prompt := ceil(prompt / 4.0)::bigint + 4 * (2 + CASE WHEN jsonb_typeof(d -> 'messages') = 'array'
				THEN jsonb_array_length(d -> 'messages') ELSE 0 END);
			completion := CASE WHEN jsonb_typeof(d -> 'maxTokens') = 'number' THEN (d ->> 'maxTokens')::bigint
				WHEN n ->> 'type' = 'condition' THEN 100 ELSE max_tokens END;
			IF jsonb_typeof(d -> 'tools') = 'array' AND jsonb_array_length(d -> 'tools') > 0 THEN
				k := CASE WHEN jsonb_typeof(d -> 'maxSteps') = 'number' THEN (d ->> 'maxSteps')::bigint ELSE 5 END;
			END IF;
			t := (prompt + completion) * k;
			c := coalesce((SELECT round((p.prompt_per_1k * prompt + p.completion_per_1k * completion) * k / 1000, 6)
				FROM flowent.model_price p WHERE p.model = d ->> 'model'), 0);
			IF NOT EXISTS (SELECT 1 FROM flowent.model_price p WHERE p.model = d ->> 'model') THEN
				notes := notes || jsonb_build_object(id, format('model %s has no price: cost 0', coalesce(d ->> 'model', '(none)')));
			END IF;
			out_bytes := out_bytes || jsonb_build_object(id, completion * 4);
		ELSIF n ->> 'type' = 'sub-workflow' AND flowent._is_uuid(d ->> 'workflowId') THEN
			SELECT flowent._estimate(w.nodes, w.edges, '{}', depth + 1) INTO child
			FROM flowent.workflows w WHERE w.id = (d ->> 'workflowId')::uuid;
			IF child IS NOT NULL THEN
				t := (child ->> 'totalTokens')::bigint;
				c := (child ->> 'totalCost')::numeric;
			END IF;
		END IF;
		tokens := tokens || jsonb_build_object(id, t);
		cost := cost || jsonb_build_object(id, c);
		calls := calls || jsonb_build_object(id, k);
		mult := mult || jsonb_build_object(id, 1);
	END LOOP;

	-- loop bodies run once per item (nested loops multiply)
	FOR n IN SELECT * FROM jsonb_array_elements(nodes) x WHERE x ->> 'type' = 'loop-controller' LOOP
		items := flowent._estimate_items(coalesce(n -> 'data', '{}'), payload);
		IF items ? 'note' THEN
			notes := notes || jsonb_build_object(n ->> 'id', items ->> 'note');
		END IF;
		frontier := ARRAY(SELECT x ->> 'target' FROM jsonb_array_elements(edges) x
			WHERE x ->> 'source' = n ->> 'id' AND x ->> 'sourceHandle' = 'body');
		body := '{}';
		WHILE cardinality(frontier) > 0 LOOP
			id := frontier[1];
			frontier := frontier[2:];
			CONTINUE WHEN id = ANY (body) OR id = n ->> 'id';
			body := body || id;
			frontier := frontier || ARRAY(SELECT x ->> 'target' FROM jsonb_array_elements(edges) x WHERE x ->> 'source' = id);
		END LOOP;
		FOREACH id IN ARRAY body LOOP
			mult := mult || jsonb_build_object(id, (mult ->> id)::bigint * (items ->> 'count')::bigint);
		END LOOP;
	END LOOP;

	-- the dearest continuation of each node, from the last to the first
	FOR i IN REVERSE cardinality(order_ids) .. 1 LOOP
		id := order_ids[i];
		SELECT x INTO n FROM jsonb_array_elements(nodes) x WHERE x ->> 'id' = id;
		IF n ->> 'type' IN ('condition', 'switch') THEN
			best := '{}';
			best_cost := -1;
			FOR e IN SELECT DISTINCT jsonb_build_object('h', coalesce(x ->> 'sourceHandle', 'out')) FROM jsonb_array_elements(edges) x
				WHERE x ->> 'source' = id LOOP
				set_ids := ARRAY(SELECT DISTINCT s FROM jsonb_array_elements(edges) x,
					jsonb_array_elements_text(chosen -> (x ->> 'target')) s
					WHERE x ->> 'source' = id AND coalesce(x ->> 'sourceHandle', 'out') = e ->> 'h');
				c := (SELECT coalesce(sum((cost ->> s)::numeric * (mult ->> s)::bigint), 0)
					+ coalesce(sum((tokens ->> s)::bigint * (mult ->> s)::bigint), 0) / 1e12 FROM unnest(set_ids) s);
				IF c > best_cost THEN
					best := set_ids;
					best_cost := c;
				END IF;
			END LOOP;
			set_ids := best;
		ELSE
			set_ids := ARRAY(SELECT DISTINCT s FROM jsonb_array_elements(edges) x,
				jsonb_array_elements_text(chosen -> (x ->> 'target')) s WHERE x ->> 'source' = id);
		END IF;
		chosen := chosen || jsonb_build_object(id, to_jsonb(set_ids || id));
	END LOOP;

	set_ids := ARRAY(SELECT DISTINCT s FROM unnest(order_ids) r, jsonb_array_elements_text(chosen -> r) s
		WHERE coalesce((SELECT count(*) FROM jsonb_array_elements(edges) x WHERE x ->> 'target' = r), 0) = 0);
	FOREACH id IN ARRAY order_ids LOOP
		CONTINUE WHEN (tokens ->> id)::bigint = 0 AND NOT notes ? id;
		t := (tokens ->> id)::bigint * (mult ->> id)::bigint;
		c := (cost ->> id)::numeric * (mult ->> id)::bigint;
		IF id = ANY (set_ids) THEN
			total_tokens := total_tokens + t;
			total_cost := total_cost + c;
		END IF;
		result := result || jsonb_strip_nulls(jsonb_build_object('nodeId', id, 'tokens', t, 'cost', c,
			'calls', (calls ->> id)::bigint * (mult ->> id)::bigint, 'onDearestPath', id = ANY (set_ids),
			'note', notes ->> id));
	END LOOP;
	RETURN jsonb_build_object('totalTokens', total_tokens, 'totalCost', total_cost, 'nodes', result);
END
$$;

-- The estimate of workflow `workflow_id` (its latest version) for `payload`.
CREATE FUNCTION flowent.estimate(workflow_id uuid, payload jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w record;
BEGIN
	SELECT x.nodes, x.edges INTO w FROM flowent.workflows x WHERE x.id = estimate.workflow_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', workflow_id USING ERRCODE = '42704';
	END IF;
	IF payload IS NULL OR jsonb_typeof(payload) <> 'object' THEN
		RAISE EXCEPTION 'estimate: payload must be a JSON object, got %', coalesce(jsonb_typeof(payload), 'NULL')
			USING ERRCODE = '22023';
	END IF;
	RETURN flowent._estimate(w.nodes, w.edges, payload, 0);
END
$$;

-- POST /api/workflows/estimate {workflowId, payload}.
CREATE FUNCTION flowent.api_estimate(body jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT flowent._is_uuid(body ->> 'workflowId') THEN
		RAISE EXCEPTION 'workflowId must be a workflow id (a UUID), got %', coalesce(body -> 'workflowId', 'null'::jsonb)
			USING ERRCODE = '22023';
	END IF;
	RETURN flowent.estimate((body ->> 'workflowId')::uuid, coalesce(body -> 'payload', '{}'));
END
$$;

-- The pre-flight check of a run with options.preflight (flowent.run,
-- flowent.execute): its estimate against the run's caps (maxCostUsd,
-- maxTokens) and the acting user's remaining budgets, before anything
-- starts.  Over one: BUDGET_EXCEEDED (53400) with the estimate and the limit.
CREATE FUNCTION flowent._preflight(workflow_id uuid, payload jsonb, options jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := flowent.estimate(workflow_id, coalesce(payload, '{}'));
	cost numeric := trim_scale((e ->> 'totalCost')::numeric);
	tokens bigint := (e ->> 'totalTokens')::bigint;
	b record;
	why text;
BEGIN
	IF options ? 'maxCostUsd' AND cost > (options ->> 'maxCostUsd')::numeric THEN
		why := format('its estimate is %s USD, and options.maxCostUsd is %s', cost, options ->> 'maxCostUsd');
	ELSIF options ? 'maxTokens' AND tokens > (options ->> 'maxTokens')::numeric THEN
		why := format('its estimate is %s tokens, and options.maxTokens is %s', tokens, options ->> 'maxTokens');
	ELSIF NOT coalesce((options ->> 'skipBudgetCheck')::boolean, false) THEN
		FOR b IN SELECT s.period, s.remaining_usd, s.remaining_tokens FROM flowent.budget_status s
			WHERE s.user_id = flowent.current_user_id() ORDER BY s.period
		LOOP
			IF b.remaining_usd IS NOT NULL AND cost > b.remaining_usd THEN
				why := format('its estimate is %s USD, and the %s budget of user "%s" has %s USD left',
					cost, b.period, flowent.current_user_id(), trim_scale(b.remaining_usd));
			ELSIF b.remaining_tokens IS NOT NULL AND tokens > b.remaining_tokens THEN
				why := format('its estimate is %s tokens, and the %s budget of user "%s" has %s tokens left',
					tokens, b.period, flowent.current_user_id(), b.remaining_tokens);
			END IF;
			EXIT WHEN why IS NOT NULL;
		END LOOP;
	END IF;
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'BUDGET_EXCEEDED: the run of workflow % does not start: %', workflow_id, why
			USING ERRCODE = '53400', DETAIL = e::text,
				HINT = 'Run it without options.preflight to let each model call''s reservation decide.';
	END IF;
END
$$;
-- ===========================================================================
-- Progress of running nodes (DESIGN §9): what a node has produced so far,
-- e.g. an llm-agent's answer as the model streams it.  The worker that
-- receives it stores the text here at most ~10 times a second and sends a
-- step:progress event with ids and sizes only (any role may LISTEN); the
-- gateway reads the text for the subscribers allowed to see the
-- execution's node logs, under the same rule.  A node's row goes when its
-- answer is in (the node log then has it), and with its execution.
-- ===========================================================================

CREATE TABLE flowent.node_progress (
	execution_id uuid NOT NULL,
	node_id text NOT NULL,
	iteration text COLLATE "C" NOT NULL DEFAULT '',
	text text NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (execution_id, node_id, iteration)
);
ALTER TABLE flowent.node_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY node_progress_select ON flowent.node_progress FOR SELECT
	USING (EXISTS (SELECT 1 FROM flowent.workflow_executions e WHERE e.id = execution_id));
GRANT SELECT ON flowent.node_progress TO PUBLIC;

-- The step:progress event of a node with its text so far, for a reader who
-- may see it (NULL otherwise, or when the node has none any more).
CREATE FUNCTION flowent.api_node_progress(execution_id uuid, node_id text, iteration text DEFAULT '')
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'event', 'step:progress',
		'executionId', p.execution_id,
		'workflowId', e.workflow_id,
		'seq', NULL,
		'nodeId', p.node_id,
		'nodeType', 'llm-agent',
		'iteration', nullif(p.iteration, ''),
		'status', 'running',
		'durationMs', NULL,
		'ts', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
		'outputBytes', octet_length(p.text),
		'live', true,
		'text', p.text)
	FROM flowent.node_progress p
	JOIN flowent.workflow_executions e ON e.id = p.execution_id
	WHERE p.execution_id = api_node_progress.execution_id AND p.node_id = api_node_progress.node_id
		AND p.iteration = coalesce(api_node_progress.iteration, '')
$$;
-- ===========================================================================
-- Pipelines generated from a sentence (issue 10, item 11): the model is told
-- the node types (handles, fields) and answers in JSON mode with React Flow
-- JSON as saved workflows have it; the answer is laid out, validated, sent
-- back once with its errors, and saved as a draft on request.
-- ===========================================================================

-- One node run on its own, as the caller, storing nothing (src/pg/run.c);
-- its templates see the payload as {{trigger.payload…}}.
CREATE FUNCTION flowent._run_node(node jsonb, payload jsonb DEFAULT '{}') RETURNS jsonb
	AS 'MODULE_PATHNAME', 'flowent_run_node' LANGUAGE C VOLATILE;

-- What the model is told: the format, then every node type with its
-- outputs and its own fields (not the ones every node has).
CREATE FUNCTION flowent._generate_instructions() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT 'You design workflows for Flowent, a workflow engine. Answer with one JSON object and nothing else: '
		|| '{"nodes": [{"id": "a_unique_id", "type": "<node type>", "data": {<the node''s fields>}}], '
		|| '"edges": [{"id": "e1", "source": "<node id>", "target": "<node id>", "sourceHandle": "<output, for a node with several>"}], '
		|| '"explanation": "<what the workflow does, in a sentence or two>"}. '
		|| 'Begin with exactly one trigger node; connect every other node. '
		|| 'Field values may hold templates: {{trigger.payload.<field>}} for the input, {{<node id>.<field>}} for an earlier node''s output, {{variables.<name>}}. '
		|| E'The node types (type (category): what it does. outputs. required fields. fields):\n'
		|| string_agg(format('- %s (%s): %s outputs: %s. required: %s. fields: %s',
			t.type, t.category, t.description,
			CASE WHEN jsonb_array_length(t.handles) = 0 THEN 'none' ELSE (SELECT string_agg(h, ', ') FROM jsonb_array_elements_text(t.handles) h) END,
			coalesce((SELECT string_agg(r, ', ') FROM jsonb_array_elements_text(t.config_schema -> 'required') r), 'none'),
			coalesce((SELECT string_agg(p.key || ' ' || coalesce(p.value ->> 'type', 'any')
					|| coalesce(' ' || (p.value -> 'enum')::text, ''), ', ' ORDER BY p.key)
				FROM jsonb_each(t.config_schema -> 'properties') p
				WHERE p.key NOT IN ('label', 'retry', 'timeoutMs', 'onError', 'breakpoint')), 'none')),
			E'\n' ORDER BY t.category, t.type)
	FROM flowent.node_types t
$$;

-- Positions for the canvas: a column per depth (the longest way from a
-- node without inputs), nodes of a column in their order.
CREATE FUNCTION flowent._layout(nodes jsonb, edges jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE n AS (
		SELECT ord, x AS node, x ->> 'id' AS id FROM jsonb_array_elements(nodes) WITH ORDINALITY AS a(x, ord)
	), e AS (
		SELECT x ->> 'source' AS s, x ->> 'target' AS t FROM jsonb_array_elements(coalesce(edges, '[]')) x
	), walk(id, d) AS (
		SELECT id, 0 FROM n WHERE id NOT IN (SELECT t FROM e WHERE t IS NOT NULL)
		UNION
		SELECT e.t, w.d + 1 FROM walk w JOIN e ON e.s = w.id WHERE w.d < (SELECT count(*) FROM n)
	), depth AS (
		SELECT n.ord, n.node, coalesce(max(w.d), 0) AS d
		FROM n LEFT JOIN walk w ON w.id = n.id GROUP BY n.ord, n.node
	), placed AS (
		SELECT ord, node || jsonb_build_object('position', jsonb_build_object(
			'x', 280 * d, 'y', 140 * (row_number() OVER (PARTITION BY d ORDER BY ord) - 1))) AS node
		FROM depth
	)
	SELECT coalesce(jsonb_agg(node ORDER BY ord), '[]') FROM placed
$$;

-- What is wrong with an answer's shape, or NULL.
CREATE FUNCTION flowent._generated_shape(g jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN g IS NULL OR jsonb_typeof(g) <> 'object' THEN 'the answer must be a JSON object {nodes, edges, explanation}'
		WHEN jsonb_typeof(g -> 'nodes') IS DISTINCT FROM 'array' THEN 'nodes must be an array of {id, type, data}'
		WHEN g ? 'edges' AND jsonb_typeof(g -> 'edges') <> 'array' THEN 'edges must be an array of {id, source, target}'
		WHEN g ? 'explanation' AND jsonb_typeof(g -> 'explanation') <> 'string' THEN 'explanation must be a string'
	END
$$;

CREATE FUNCTION flowent.generate(prompt text, options jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	o jsonb := coalesce(options, '{}'::jsonb);
	data jsonb;
	ask text := prompt;
	conversation jsonb := '[]';
	r jsonb;
	g jsonb;
	v jsonb;
	problem text;
	rounds int := 0;
	tokens bigint := 0;
	cost numeric := 0;
	nodes jsonb;
	edges jsonb;
	wf uuid;
BEGIN
	IF prompt IS NULL OR btrim(prompt) = '' THEN
		RAISE EXCEPTION 'flowent.generate: prompt must describe the pipeline, got %',
			coalesce(quote_literal(prompt), 'NULL') USING ERRCODE = '22023';
	END IF;
	IF jsonb_typeof(o) <> 'object' THEN
		RAISE EXCEPTION 'flowent.generate: options must be an object, got %', jsonb_typeof(o) USING ERRCODE = '22023';
	END IF;
	PERFORM flowent._check_keys('options', o, ARRAY['model', 'credential', 'baseUrl', 'save', 'name', 'maxTokens']);
	PERFORM flowent._json_string(o -> 'model', 'options.model'), flowent._json_string(o -> 'credential', 'options.credential'),
		flowent._json_string(o -> 'baseUrl', 'options.baseUrl'), flowent._json_string(o -> 'name', 'options.name');
	IF o ? 'save' AND jsonb_typeof(o -> 'save') <> 'boolean' THEN
		RAISE EXCEPTION 'options.save must be true or false, got %', (o -> 'save')::text USING ERRCODE = '22023';
	END IF;
	-- the texts come in as the payload: templates in them are not resolved
	data := jsonb_strip_nulls(jsonb_build_object(
		'model', coalesce(o ->> 'model', 'gpt-4o-mini'),
		'credential', o ->> 'credential',
		'baseUrl', o ->> 'baseUrl',
		'maxTokens', o -> 'maxTokens',
		'systemPrompt', '{{trigger.payload.system}}',
		'messages', '{{trigger.payload.conversation}}',
		'prompt', '{{trigger.payload.ask}}',
		'responseFormat', 'json',
		'temperature', 0));
	LOOP
		rounds := rounds + 1;
		r := flowent._run_node(jsonb_build_object('id', 'generate', 'type', 'llm-agent', 'data', data),
			jsonb_build_object('system', flowent._generate_instructions(), 'conversation', conversation, 'ask', ask));
		tokens := tokens + coalesce((r ->> 'tokens')::bigint, 0);
		cost := cost + coalesce((r ->> 'costUsd')::numeric, 0);
		IF r ->> 'status' <> 'success' THEN
			RAISE EXCEPTION 'flowent.generate: the model call failed with %: %', r #>> '{error,code}', r #>> '{error,message}'
				USING ERRCODE = CASE r #>> '{error,code}' WHEN 'BUDGET_EXCEEDED' THEN '53400'
					WHEN 'CREDENTIAL_NOT_FOUND' THEN '42704' WHEN 'INVALID_CONFIG' THEN '22023' ELSE '58000' END,
				DETAIL = (r -> 'error')::text;
		END IF;
		g := r #> '{output,json}';
		problem := flowent._generated_shape(g);
		IF problem IS NULL THEN
			v := flowent.validate(g -> 'nodes', coalesce(g -> 'edges', '[]'));
			IF (v ->> 'valid')::boolean THEN
				EXIT;
			END IF;
			problem := (SELECT string_agg(x ->> 'message', '; ') FROM jsonb_array_elements(v -> 'errors') x);
		END IF;
		IF rounds = 2 THEN
			RAISE EXCEPTION 'flowent.generate: the model''s pipeline is not valid, also after one repair: %', problem
				USING ERRCODE = '22023', DETAIL = coalesce(v::text, g::text);
		END IF;
		-- one repair: the model sees what it answered and what is wrong with it
		conversation := jsonb_build_array(jsonb_build_object('role', 'user', 'content', prompt),
			jsonb_build_object('role', 'assistant', 'content', coalesce(g::text, 'null')));
		ask := 'That pipeline is not valid: ' || problem
			|| '. Answer with the corrected JSON object {nodes, edges, explanation}.';
		v := NULL;
	END LOOP;
	edges := coalesce(g -> 'edges', '[]');
	nodes := flowent._layout(g -> 'nodes', edges);
	IF coalesce((o ->> 'save')::boolean, false) THEN
		wf := flowent.create_workflow(coalesce(o ->> 'name', left(btrim(prompt), 80)), nodes, edges,
			jsonb_strip_nulls(jsonb_build_object('status', 'draft', 'description', g ->> 'explanation')));
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object(
		'nodes', nodes,
		'edges', edges,
		'explanation', g ->> 'explanation',
		'repaired', rounds > 1,
		'usage', jsonb_build_object('totalTokens', tokens, 'costUsd', cost),
		'workflowId', wf));
END
$$;

-- POST /api/pipelines/generate {prompt, model?, credential?, baseUrl?, save?, name?}
CREATE FUNCTION flowent.api_generate(body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b jsonb := coalesce(body, '{}'::jsonb);
BEGIN
	IF jsonb_typeof(b) <> 'object' THEN
		RAISE EXCEPTION 'body must be an object {prompt, model?, credential?, baseUrl?, save?, name?}' USING ERRCODE = '22023';
	END IF;
	RETURN flowent.generate(flowent._json_string(b -> 'prompt', 'body.prompt'), b - 'prompt');
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
