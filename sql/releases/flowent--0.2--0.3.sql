-- flowent 0.2 -> 0.3 (issue 7):
-- * deleting a workflow lets parents of other workflows that wait on its
--   executions go on (their sub-workflow node fails) instead of waiting forever;
-- * register_node_type: type names of at most 50 characters (the node logs'
--   column) and the names of node types not built yet are reserved.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.3'" to load this file. \quit

CREATE OR REPLACE FUNCTION flowent._delete_executions() RETURNS trigger
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

CREATE OR REPLACE FUNCTION flowent.register_node_type(type text, handler regprocedure, meta jsonb DEFAULT '{}')
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
