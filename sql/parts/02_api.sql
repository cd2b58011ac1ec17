
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
