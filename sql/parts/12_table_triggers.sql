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
