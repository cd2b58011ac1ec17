-- pgTAP tests of the SQL-facing node types: data-transform, database-query,
-- notify and custom nodes, each run through flowent.run().
-- Needs: CREATE EXTENSION pgtap; CREATE EXTENSION flowent; (as a superuser).
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true

BEGIN;
SELECT plan(47);

SET LOCAL TimeZone = 'UTC';

-- A workflow trigger -> n (node given as {type, data}); returns its id.
CREATE FUNCTION pg_temp.wf1(node jsonb, opts jsonb DEFAULT '{}')
RETURNS uuid LANGUAGE sql AS $$
	SELECT flowent.create_workflow('nodes_sql',
		jsonb_build_array(
			'{"id": "t", "type": "trigger", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}}'::jsonb,
			jsonb_build_object('id', 'n', 'type', node -> 'type', 'position', '{"x": 200, "y": 0}'::jsonb,
				'data', '{"label": "Node"}'::jsonb || (node -> 'data'))),
		'[{"id": "e1", "source": "t", "target": "n"}]'::jsonb, opts)
$$;

-- Create and run such a workflow; returns the run result.
CREATE FUNCTION pg_temp.run1(node jsonb, payload jsonb DEFAULT '{}', opts jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql AS $$
	SELECT flowent.run(pg_temp.wf1(node, opts), payload)
$$;

-- {status, output} of a run, for exact comparisons.
CREATE FUNCTION pg_temp.so(r jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('status', r -> 'status', 'output', r -> 'output')
$$;

-- {status, code, nodeId} of a failed run.
CREATE FUNCTION pg_temp.err(r jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('status', r -> 'status', 'code', r -> 'error' -> 'code',
		'nodeId', r -> 'error' -> 'nodeId')
$$;

CREATE TABLE public.nodes_sql_items (id int PRIMARY KEY, name text NOT NULL, price numeric);
INSERT INTO public.nodes_sql_items VALUES (1, 'apple', 19.99), (2, 'pear', 5);
CREATE TABLE public.nodes_sql_log (msg text);
CREATE FUNCTION public.nodes_sql_writer() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.nodes_sql_log VALUES ('written');
	RETURN 1;
END
$$;

-- ===================================================================== data-transform

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "input -> ''a''"}}', '{"a": 19.99}')),
	'{"status": "success", "output": 19.99}',
	'data-transform: SQL expression over input');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"language": "sql", "expression": "jsonb_build_object(''total'', (input ->> ''qty'')::numeric * (input ->> ''price'')::numeric)"}}',
	'{"qty": 3, "price": 0.1}')),
	'{"status": "success", "output": {"total": 0.3}}',
	'data-transform: exact numeric arithmetic');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "state -> ''trigger'' -> ''payload'' -> ''k''"}}',
	'{"k": "from state"}')),
	'{"status": "success", "output": "from state"}',
	'data-transform: state is in scope');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "NULL::int"}}')),
	'{"status": "success", "output": null}',
	'data-transform: an SQL NULL is JSON null');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "(SELECT jsonb_agg(name ORDER BY id) FROM public.nodes_sql_items)"}}')),
	'{"status": "success", "output": ["apple", "pear"]}',
	'data-transform: a subquery may read tables');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "input", "input": "{{trigger.payload.inner}}"}}',
	'{"inner": {"x": [1, 2]}, "other": 1}')),
	'{"status": "success", "output": {"x": [1, 2]}}',
	'data-transform: the input field replaces the input');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"language": "jsonpath", "expression": "$.items[*] ? (@.price > 10).name"}}',
	'{"items": [{"name": "a", "price": 5}, {"name": "b", "price": 20}, {"name": "c", "price": 30.5}]}')),
	'{"status": "success", "output": ["b", "c"]}',
	'data-transform: jsonpath returns the array of matches');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "data-transform", "data": {"language": "jsonpath", "expression": "$.items[*"}}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'data-transform: a bad jsonpath is INVALID_CONFIG');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "1; SELECT 2"}}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'data-transform: ; separated statements are refused');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "1)); SELECT ((2"}}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'data-transform: breaking out of the wrapper is refused');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "'';'' || ''x'' -- a ; in a comment"}}')),
	'{"status": "success", "output": ";x"}',
	'data-transform: a ; inside a literal or comment is fine');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "public.nodes_sql_writer()"}}')),
	'{"status": "error", "code": "SQL_ERROR", "nodeId": "n"}',
	'data-transform: a write through a function is refused');

SELECT is((SELECT count(*) FROM public.nodes_sql_log), 0::bigint,
	'data-transform: nothing was written');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "input -> ''{{trigger.payload.k}}''"}}', '{"k": "a"}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'data-transform: {{…}} in expression is refused');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "data-transform", "data": {"language": "{{trigger.payload.lang}}", "expression": "1"}}',
	'{"lang": "xquery"}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'data-transform: an unknown language is INVALID_CONFIG');

-- ===================================================================== database-query

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT $1 AS s, $2 + 1 AS n, coalesce($3, ''dflt'') AS c, $4::jsonb -> ''k'' AS j, $5 AS b", "params": ["hello", 41, null, {"k": [1, 2.50]}, true]}}')),
	'{"status": "success", "output": {"rows": [{"s": "hello", "n": 42, "c": "dflt", "j": [1, 2.50], "b": "true"}], "rowCount": 1}}',
	'database-query: untyped params (text, int, null, json, boolean as text)');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT name, price FROM public.nodes_sql_items WHERE id = $1", "params": ["{{trigger.payload.id}}"]}}',
	'{"id": 1}')),
	'{"status": "success", "output": {"rows": [{"name": "apple", "price": 19.99}], "rowCount": 1}}',
	'database-query: a resolved param compared with an int column');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT g FROM generate_series(1, 5) g ORDER BY g", "maxRows": 3}}')),
	'{"status": "success", "output": {"rows": [{"g": 1}, {"g": 2}, {"g": 3}], "rowCount": 3, "truncated": true}}',
	'database-query: maxRows truncates and says so');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT g FROM generate_series(1, 3) g ORDER BY g", "maxRows": 3}}')),
	'{"status": "success", "output": {"rows": [{"g": 1}, {"g": 2}, {"g": 3}], "rowCount": 3}}',
	'database-query: exactly maxRows rows is not truncated');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT 19.99::numeric AS price, 123456789012345678901234567890::numeric(40,0) AS big, ''2024-01-02 03:04:05+00''::timestamptz AS ts, ''{\"a\": [1, 2.50]}''::json AS js, ''{\"b\": null}''::jsonb AS jb, NULL::int AS nothing, ARRAY[1, 2] AS arr, 1.5::float8 AS f"}}')),
	'{"status": "success", "output": {"rows": [{"price": 19.99, "big": 123456789012345678901234567890, "ts": "2024-01-02T03:04:05+00:00", "js": {"a": [1, 2.50]}, "jb": {"b": null}, "nothing": null, "arr": [1, 2], "f": 1.5}], "rowCount": 1}}',
	'database-query: values convert like to_jsonb (numbers exact)');

SELECT is((pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT $1::numeric AS v", "params": [123456789012345678901234567890.000000001]}}'))
	-> 'output' -> 'rows' -> 0 ->> 'v',
	'123456789012345678901234567890.000000001',
	'database-query: a big numeric param keeps every digit');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "INSERT INTO public.nodes_sql_items VALUES ($1, $2, $3)", "params": [3, "plum", 1.25]}}')),
	'{"status": "error", "code": "SQL_ERROR", "nodeId": "n"}',
	'database-query: readOnly (the default) refuses an INSERT');

SELECT matches(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "DELETE FROM public.nodes_sql_items"}}') -> 'error' ->> 'message',
	'readOnly.*"readOnly": false',
	'database-query: the refusal says to set readOnly false');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT public.nodes_sql_writer()"}}')),
	'{"status": "error", "code": "SQL_ERROR", "nodeId": "n"}',
	'database-query: readOnly refuses a write inside a function');

SELECT is((SELECT count(*) FROM public.nodes_sql_items) + (SELECT count(*) FROM public.nodes_sql_log),
	2::bigint, 'database-query: readOnly wrote nothing');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "INSERT INTO public.nodes_sql_items VALUES ($1, $2, $3) RETURNING *", "params": [3, "plum", 1.25], "readOnly": false}}')),
	'{"status": "success", "output": {"rows": [{"id": 3, "name": "plum", "price": 1.25}], "rowCount": 1}}',
	'database-query: readOnly false allows an INSERT … RETURNING');

SELECT is((SELECT name FROM public.nodes_sql_items WHERE id = 3), 'plum',
	'database-query: the row was inserted');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "UPDATE public.nodes_sql_items SET price = price + 1 WHERE id > $1", "params": [1], "readOnly": false}}')),
	'{"status": "success", "output": {"rows": [], "rowCount": 2}}',
	'database-query: a write without RETURNING reports the rows it changed');

-- a write and a read-only query in one run: the read sees the write
SELECT is(flowent.run(flowent.create_workflow('nodes_sql_chain',
	'[{"id": "t", "type": "trigger", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
	  {"id": "w", "type": "database-query", "position": {"x": 200, "y": 0},
	   "data": {"label": "Write", "query": "INSERT INTO public.nodes_sql_log VALUES ($1)", "params": ["{{trigger.payload.msg}}"], "readOnly": false}},
	  {"id": "r", "type": "database-query", "position": {"x": 400, "y": 0},
	   "data": {"label": "Read", "query": "SELECT count(*) AS n FROM public.nodes_sql_log WHERE msg = $1", "params": ["{{trigger.payload.msg}}"]}}]',
	'[{"id": "e1", "source": "t", "target": "w"}, {"id": "e2", "source": "w", "target": "r"}]'),
	'{"msg": "hi"}') -> 'output',
	'{"rows": [{"n": 1}], "rowCount": 1}',
	'database-query: a later read-only node sees an earlier node''s write');

CREATE ROLE nodes_sql_nobody NOLOGIN;
CREATE TABLE public.nodes_sql_secret (x int);
INSERT INTO public.nodes_sql_secret VALUES (42);
SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT x FROM public.nodes_sql_secret"}}')),
	'{"status": "success", "output": {"rows": [{"x": 42}], "rowCount": 1}}',
	'database-query: the owner may read the table');
SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT x FROM public.nodes_sql_secret"}}', '{}',
	'{"runAs": "nodes_sql_nobody"}')),
	'{"status": "error", "code": "PERMISSION_DENIED", "nodeId": "n"}',
	'database-query: runs as run_as; no privilege is PERMISSION_DENIED');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "data-transform", "data": {"expression": "(SELECT x FROM public.nodes_sql_secret)"}}', '{}',
	'{"runAs": "nodes_sql_nobody"}')),
	'{"status": "error", "code": "PERMISSION_DENIED", "nodeId": "n"}',
	'data-transform: runs as run_as too');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT * FROM public.nodes_sql_items WHERE name = ''{{trigger.payload.name}}''"}}',
	'{"name": "x"}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'database-query: {{…}} in query is refused');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT $1", "params": "{{trigger.payload.p}}"}}',
	'{"p": "x"}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'database-query: params must resolve to an array');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT 1; SELECT 2"}}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'database-query: one statement only');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "database-query", "data": {"query": "SELECT $2", "params": ["only one"]}}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'database-query: a placeholder without a param is INVALID_CONFIG');

-- ===================================================================== notify

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "notify", "data": {"channel": "nodes_sql_orders", "payload": {"id": "{{trigger.payload.id}}", "total": 19.99}}}',
	'{"id": 7}')),
	'{"status": "success", "output": {"id": 7, "total": 19.99}}',
	'notify: the output is the payload sent');

SELECT is(pg_temp.so(pg_temp.run1(
	'{"type": "notify", "data": {"channel": "nodes_sql_orders", "payload": "order {{trigger.payload.id}} shipped"}}',
	'{"id": 7}')),
	'{"status": "success", "output": "order 7 shipped"}',
	'notify: a text payload');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "notify", "data": {"channel": "flowent", "payload": "x"}}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'notify: the channel flowent is refused');

SELECT is(pg_temp.err(pg_temp.run1(
	'{"type": "notify", "data": {"channel": "c_{{trigger.payload.c}}", "payload": "x"}}', '{"c": "a"}')),
	'{"status": "error", "code": "INVALID_CONFIG", "nodeId": "n"}',
	'notify: {{…}} in channel is refused');

SELECT is(pg_temp.err(pg_temp.run1(
	jsonb_build_object('type', 'notify', 'data', jsonb_build_object('channel', 'nodes_sql_orders',
		'payload', repeat('x', 8000))))),
	'{"status": "error", "code": "LIMIT_EXCEEDED", "nodeId": "n"}',
	'notify: a payload over 7999 bytes is LIMIT_EXCEEDED');

SELECT is(pg_temp.run1(
	jsonb_build_object('type', 'notify', 'data', jsonb_build_object('channel', 'nodes_sql_orders',
		'payload', repeat('x', 7999)))) ->> 'status',
	'success',
	'notify: a payload of 7999 bytes is sent');

-- ===================================================================== custom

CREATE FUNCTION public.nodes_sql_upper(inputs jsonb, context jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	IF inputs ->> 'text' = 'fail' THEN
		RAISE EXCEPTION 'handler refused %', inputs ->> 'text';
	END IF;
	IF inputs ->> 'text' = 'null' THEN
		RETURN NULL;
	END IF;
	RETURN jsonb_build_object('text', upper(inputs ->> 'text'), 'nodeId', context -> 'nodeId',
		'input', context -> 'input', 'trigger', context -> 'trigger' -> 'payload',
		'executionId', context -> 'executionId', 'workflowId', context -> 'workflowId',
		'hasVariables', context ? 'variables');
END
$$;

SELECT lives_ok(
	$$SELECT flowent.register_node_type('nodes-sql-upper', 'public.nodes_sql_upper(jsonb,jsonb)'::regprocedure, '{}')$$,
	'custom: register a plpgsql handler');

SELECT is(
	(WITH w AS (SELECT pg_temp.wf1('{"type": "nodes-sql-upper", "data": {"text": "{{trigger.payload.word}}"}}') AS id),
	      x AS (SELECT w.id, flowent.run(w.id, '{"word": "hello"}') AS r FROM w)
	 SELECT jsonb_build_object('status', r -> 'status',
		'output', (r -> 'output') - 'executionId' - 'workflowId',
		'idOk', r -> 'output' -> 'executionId' = r -> 'executionId',
		'wfOk', r -> 'output' ->> 'workflowId' = id::text)
	 FROM x),
	'{"status": "success", "idOk": true, "wfOk": true, "output": {"text": "HELLO", "nodeId": "n", "input": {"word": "hello"}, "trigger": {"word": "hello"}, "hasVariables": true}}',
	'custom: the handler gets resolved inputs and the context; its result is the output');

SELECT is(pg_temp.so(pg_temp.run1('{"type": "nodes-sql-upper", "data": {"text": "null"}}')),
	'{"status": "error", "output": null}',
	'custom: a handler returning SQL NULL fails its node (it forgot to return)');

SELECT is(pg_temp.err(pg_temp.run1('{"type": "nodes-sql-upper", "data": {"text": "fail"}}')),
	'{"status": "error", "code": "CUSTOM_NODE_FAILED", "nodeId": "n"}',
	'custom: an error in the handler is CUSTOM_NODE_FAILED');

REVOKE EXECUTE ON FUNCTION public.nodes_sql_upper(jsonb, jsonb) FROM PUBLIC;
SELECT is(pg_temp.err(pg_temp.run1('{"type": "nodes-sql-upper", "data": {"text": "x"}}', '{}',
	'{"runAs": "nodes_sql_nobody"}')),
	'{"status": "error", "code": "PERMISSION_DENIED", "nodeId": "n"}',
	'custom: the run_as role needs EXECUTE on the handler');

SELECT * FROM finish();
ROLLBACK;
