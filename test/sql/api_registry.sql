-- The node type registry: builtin rows, register/unregister of custom types,
-- and what pg_dump keeps.
\set VERBOSITY terse
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM,
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
END
$$;

-- ---------------------------------------------------------------- builtin types
SELECT type, category, label, handles, config_schema -> 'required' AS required
FROM flowent.node_types WHERE builtin ORDER BY category, type;
-- every field has a description; every type the common fields; all free, no handler
SELECT t.type, p.key FROM flowent.node_types t, jsonb_each(t.config_schema -> 'properties') p
WHERE t.builtin AND NOT (p.value ? 'description' AND jsonb_typeof(p.value -> 'description') = 'string');
SELECT type FROM flowent.node_types
WHERE builtin AND NOT (config_schema -> 'properties' ?& ARRAY['label', 'retry', 'timeoutMs', 'onError', 'breakpoint']);
SELECT DISTINCT cost_model, handler, config_schema ->> 'type' AS schema_type,
	description IS NOT NULL AS described FROM flowent.node_types WHERE builtin;
-- required fields are declared properties; enums and defaults of Appendix A
SELECT t.type, r.value FROM flowent.node_types t, jsonb_array_elements_text(t.config_schema -> 'required') r
WHERE NOT t.config_schema -> 'properties' ? r.value;
SELECT t.type, p.key, p.value -> 'enum' AS enum, p.value -> 'default' AS "default"
FROM flowent.node_types t, jsonb_each(t.config_schema -> 'properties') p
WHERE t.builtin AND p.value ? 'enum' AND p.key <> 'onError' ORDER BY 1, 2;
SELECT t.type, p.key, p.value ->> 'type' AS type
FROM flowent.node_types t, jsonb_each(t.config_schema -> 'properties') p
WHERE t.type IN ('database-query', 'loop-controller', 'human-approval', 'wait') AND p.key NOT IN
	('label', 'retry', 'timeoutMs', 'onError', 'breakpoint') ORDER BY 1, 2;
SELECT config_schema #> '{properties,timeoutMs,description}' AS wait_timeout
FROM flowent.node_types WHERE type = 'wait';

-- ---------------------------------------------------------------- custom types
CREATE FUNCTION public.api_registry_upper(inputs jsonb, context jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_object('text', upper(inputs ->> 'text')) $$;
CREATE FUNCTION public.api_registry_one(inputs jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT inputs';
CREATE FUNCTION public.api_registry_text(inputs jsonb, context jsonb) RETURNS text LANGUAGE sql AS 'SELECT 1::text';
CREATE FUNCTION public.api_registry_set(inputs jsonb, context jsonb) RETURNS SETOF jsonb
LANGUAGE sql AS 'SELECT inputs';
CREATE PROCEDURE public.api_registry_proc(inputs jsonb, context jsonb) LANGUAGE sql AS 'SELECT 1';

SELECT jsonb_pretty(flowent.register_node_type('text-upper', 'api_registry_upper(jsonb,jsonb)',
	'{"category": "text", "label": "Upper case", "description": "Upper-cases text.",
	  "handles": ["out", "empty"],
	  "configSchema": {"type": "object", "required": ["text"],
		"properties": {"text": {"type": "string", "description": "Text to upper-case."}}},
	  "costModel": {"kind": "perCall", "usd": 0.001}}'));
-- defaults
SELECT flowent.register_node_type('text-lower', 'api_registry_upper(jsonb,jsonb)') - 'handler' AS defaults;
-- registering again updates
SELECT flowent.register_node_type('text-lower', 'api_registry_upper(jsonb,jsonb)',
	'{"label": "Lower case", "configSchema": {"type": "object"}}') -> 'configSchema' AS schema;
SELECT type, category, label, builtin, handler, handles FROM flowent.node_types WHERE NOT builtin ORDER BY type;

SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('upper-case name', $$SELECT flowent.register_node_type('Upper', 'api_registry_upper(jsonb,jsonb)')$$),
	('one letter', $$SELECT flowent.register_node_type('u', 'api_registry_upper(jsonb,jsonb)')$$),
	('digit first', $$SELECT flowent.register_node_type('1up', 'api_registry_upper(jsonb,jsonb)')$$),
	('underscore', $$SELECT flowent.register_node_type('text_up', 'api_registry_upper(jsonb,jsonb)')$$),
	('too long', $$SELECT flowent.register_node_type('a' || repeat('b', 63), 'api_registry_upper(jsonb,jsonb)')$$),
	('null type', $$SELECT flowent.register_node_type(NULL, 'api_registry_upper(jsonb,jsonb)')$$),
	('builtin name', $$SELECT flowent.register_node_type('trigger', 'api_registry_upper(jsonb,jsonb)')$$),
	('null handler', $$SELECT flowent.register_node_type('text-x', NULL)$$),
	('one argument', $$SELECT flowent.register_node_type('text-x', 'api_registry_one(jsonb)')$$),
	('returns text', $$SELECT flowent.register_node_type('text-x', 'api_registry_text(jsonb,jsonb)')$$),
	('returns setof', $$SELECT flowent.register_node_type('text-x', 'api_registry_set(jsonb,jsonb)')$$),
	('procedure', $$SELECT flowent.register_node_type('text-x', 'api_registry_proc(jsonb,jsonb)')$$),
	('meta array', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)', '[]')$$),
	('meta unknown key', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"icon": "x"}')$$),
	('handles string', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"handles": "out"}')$$),
	('handles numbers', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"handles": [1]}')$$),
	('schema not object', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"configSchema": {"type": "array"}}')$$),
	('schema properties', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"configSchema": {"type": "object", "properties": []}}')$$),
	('cost model', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"costModel": {"usd": 1}}')$$),
	('label number', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"label": 1}')$$),
	('empty category', $$SELECT flowent.register_node_type('text-x', 'api_registry_upper(jsonb,jsonb)',
		'{"category": ""}')$$),
	('unregister builtin', $$SELECT flowent.unregister_node_type('condition')$$)
) AS t(label, q);
SELECT count(*) AS custom_types FROM flowent.node_types WHERE NOT builtin;

-- ---------------------------------------------------------------- who may register
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['alice', 'flowent_test_nodeadmin'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			BEGIN
				EXECUTE format('CREATE ROLE %I NOLOGIN', r);
			EXCEPTION WHEN duplicate_object OR unique_violation THEN
				NULL;
			END;
		END IF;
	END LOOP;
END
$$;
GRANT flowent_admin TO flowent_test_nodeadmin;
SET ROLE alice;
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('alice registers', $$SELECT flowent.register_node_type('text-y', 'api_registry_upper(jsonb,jsonb)')$$),
	('alice unregisters', $$SELECT flowent.unregister_node_type('text-upper')$$),
	('alice inserts', $$INSERT INTO flowent.node_types (type, category, label, handler)
		VALUES ('text-y', 'x', 'x', 'api_registry_upper(jsonb,jsonb)')$$)
) AS t(label, q);
SELECT count(*) > 0 AS alice_reads FROM flowent.node_types;
SET ROLE flowent_test_nodeadmin;
SELECT flowent.register_node_type('text-y', 'api_registry_upper(jsonb,jsonb)') ->> 'type' AS registered;
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('admin takes builtin', $$SELECT flowent.register_node_type('output', 'api_registry_upper(jsonb,jsonb)')$$),
	('admin inserts builtin', $$INSERT INTO flowent.node_types (type, category, label, builtin)
		VALUES ('text-z', 'x', 'x', true)$$),
	('admin unregisters builtin', $$SELECT flowent.unregister_node_type('output')$$)
) AS t(label, q);
-- builtin rows are out of reach of a direct UPDATE or DELETE
UPDATE flowent.node_types SET label = 'Mine' WHERE type = 'output';
DELETE FROM flowent.node_types WHERE type = 'delay';
SELECT flowent.unregister_node_type('text-y') AS removed, flowent.unregister_node_type('text-y') AS again;
RESET ROLE;
SELECT type, label FROM flowent.node_types WHERE type IN ('output', 'delay') ORDER BY type;

SELECT flowent.unregister_node_type('text-lower') AS removed;
SELECT type FROM flowent.node_types WHERE NOT builtin ORDER BY type;

-- ---------------------------------------------------------------- pg_dump
-- user tables and sequences are extension configuration: pg_dump keeps their rows
SELECT c.relname, x.cond
FROM pg_extension e,
	unnest(e.extconfig, e.extcondition) AS x(oid, cond)
	JOIN pg_class c ON c.oid = x.oid
WHERE e.extnamespace = 'flowent'::regnamespace
ORDER BY c.relname;
-- the registry trigger tells every backend to reload
SELECT tgname, tgfoid::regproc AS function, tgtype FROM pg_trigger
WHERE tgrelid = 'flowent.node_types'::regclass AND NOT tgisinternal;
