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
