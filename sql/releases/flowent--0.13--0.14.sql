-- Flowent 0.13 -> 0.14: an async table trigger stores its statement's rows as
-- they were written (flowent.table_change_batches) and a worker queues their
-- executions after the commit; flowent.table_triggers says how many rows wait
-- and how many failed.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.14'" to load this file. \quit

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

CREATE OR REPLACE VIEW flowent.table_triggers WITH (security_invoker) AS
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

-- a `when` is checked on a row of the table's columns (so {{old.status}} resolves)
DROP FUNCTION flowent._check_when(jsonb);
CREATE FUNCTION flowent._check_when(condition jsonb, row_of_nulls jsonb) RETURNS void
	AS 'MODULE_PATHNAME', 'flowent_check_when' LANGUAGE C STABLE;

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
CREATE OR REPLACE FUNCTION flowent.on_change(workflow_id uuid, target regclass,
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
