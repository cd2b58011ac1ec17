
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
