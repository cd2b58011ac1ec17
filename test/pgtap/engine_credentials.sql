-- {{credentials.name}}: resolved for the workflow owner, never in outputs,
-- node logs, execution rows or error texts.
BEGIN;
SELECT plan(8);

SELECT lives_ok($$SELECT flowent.set_credential('api', '{"key": "s3cr3t-token-value", "user": "svc"}')$$,
				'set_credential stores a secret');

CREATE TEMP TABLE r AS
SELECT flowent.run(flowent.create_workflow('cred echo',
	'[{"id":"t","type":"trigger","data":{}},
	  {"id":"h","type":"set-variable","data":{"name":"auth","value":"Bearer {{credentials.api.key}}"}},
	  {"id":"o","type":"output","data":{"value":{"auth":"{{auth}}","user":"{{credentials.api.user}}"}}}]',
	'[{"id":"e1","source":"t","target":"h"},{"id":"e2","source":"h","target":"o"}]')) AS res;

SELECT is((SELECT res->>'status' FROM r), 'success', 'a run that resolves credentials succeeds');
SELECT is((SELECT res->'output'->>'auth' FROM r), 'Bearer [redacted]', 'the secret is redacted from outputs');
SELECT is((SELECT count(*) FROM flowent.workflow_node_logs
		   WHERE execution_id = (SELECT (res->>'executionId')::uuid FROM r)
			 AND (output::text LIKE '%s3cr3t%' OR coalesce(input::text, '') LIKE '%s3cr3t%')), 0::bigint,
		  'no node log holds the secret');
SELECT is((SELECT count(*) FROM flowent.workflow_executions
		   WHERE id = (SELECT (res->>'executionId')::uuid FROM r) AND row_to_json(workflow_executions)::text LIKE '%s3cr3t%'),
		  0::bigint, 'the execution row does not hold the secret');

CREATE TEMP TABLE r2 AS
SELECT flowent.run(flowent.create_workflow('cred error',
	'[{"id":"t","type":"trigger","data":{}},
	  {"id":"s","type":"stop-error","data":{"message":"failed with key {{credentials.api.key}}","code":"MY_FAIL"}}]',
	'[{"id":"e1","source":"t","target":"s"}]')) AS res;
SELECT is((SELECT res->'error'->>'message' FROM r2), 'failed with key [redacted]', 'the secret is redacted from error texts');

CREATE TEMP TABLE r3 AS
SELECT flowent.run(flowent.create_workflow('cred missing',
	'[{"id":"t","type":"trigger","data":{}},
	  {"id":"o","type":"output","data":{"value":"{{credentials.nope}}"}}]',
	'[{"id":"e1","source":"t","target":"o"}]')) AS res;
SELECT is((SELECT res->'error'->>'code' FROM r3), 'CREDENTIAL_NOT_FOUND', 'an unknown credential is CREDENTIAL_NOT_FOUND');
SELECT ok((SELECT res->'error'->>'message' FROM r3) LIKE '%"nope"%', 'the message names the credential');

SELECT * FROM finish();
ROLLBACK;
