-- Templates shipped with the extension (sql/parts/10_templates.sql) and the
-- analytics of the gateway (sql/parts/11_analytics.sql), called as the
-- gateway calls them: a login role in flowent_gateway that owns nothing logs
-- in with an end user's token (alice, bob, who are not roles). Every shipped
-- template validates; every one that calls no external server is cloned by
-- alice and run end to end (approvals approved, delays and waits resumed);
-- the two that call out over HTTP run in test/scripts/templates_http.sh.
-- Analytics are compared with direct queries of the rows, per user.
BEGIN;
SELECT plan(106);

CREATE ROLE tpa_gw LOGIN IN ROLE flowent_gateway;
SELECT flowent.create_api_token('alice') AS ta \gset
SELECT flowent.create_api_token('bob') AS tb \gset
SELECT flowent.create_api_token('flowent') AS tf \gset

-- webhook_events for "Webhook to table", written by the clone's run_as role
-- (the gateway's role: clones are made through it)
CREATE TABLE public.webhook_events (id bigserial PRIMARY KEY, source text NOT NULL, event_type text NOT NULL,
	payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now());
GRANT INSERT, SELECT ON public.webhook_events TO tpa_gw;
GRANT USAGE ON SEQUENCE public.webhook_events_id_seq TO tpa_gw;

-- the id of a shipped template
CREATE FUNCTION pg_temp.tpl(template_name text) RETURNS uuid LANGUAGE sql AS $$
	SELECT w.id FROM flowent.workflows w WHERE w.is_template AND w.user_id = 'flowent' AND w.name = template_name
$$;
-- a new clone of a shipped template, made through the gateway's API
CREATE FUNCTION pg_temp.clone(template_name text) RETURNS uuid LANGUAGE sql AS $$
	SELECT (flowent.api_clone_template(jsonb_build_object('templateId', pg_temp.tpl(template_name))) ->> 'id')::uuid
$$;
-- clone a template and run the clone: status and output
CREATE FUNCTION pg_temp.run(template_name text, payload jsonb, options jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT jsonb_build_object('status', r -> 'status', 'output', r -> 'output', 'error', r -> 'error',
		'executionId', r -> 'executionId')
	FROM flowent.run(pg_temp.clone(template_name), payload, options) r
$$;
-- the names of a template list, in order
CREATE FUNCTION pg_temp.names(r jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(t ->> 'name', ',' ORDER BY o) FROM jsonb_array_elements(r -> 'templates') WITH ORDINALITY x(t, o)
$$;

-- ---------------------------------------------------------------- the shipped templates
CREATE TEMP VIEW shipped AS
	SELECT * FROM flowent.workflows WHERE is_template AND user_id = 'flowent';
GRANT SELECT ON shipped TO PUBLIC;

SELECT cmp_ok((SELECT count(*) FROM shipped), '>=', 12::bigint, 'at least 12 templates ship with the extension');
SELECT is((SELECT count(*) FROM shipped WHERE starter_kit), 3::bigint, 'three of them are starter kits');
SELECT is((SELECT array_agg(DISTINCT template_category::text ORDER BY template_category::text) FROM shipped),
	'{automation,content-generation,customer-support,data-analysis,marketing,research,sales}',
	'they cover the seven categories of the seed');
SELECT is((SELECT array_agg(name ORDER BY name) FROM shipped
		WHERE NOT (flowent.validate(nodes, edges) ->> 'valid')::boolean), NULL,
	'validate() reports no errors for any of them');
SELECT is((SELECT count(*) FROM shipped WHERE visibility = 'public' AND status = 'active' AND version = 1
		AND id::text LIKE 'f10e0000-7e00-4000-8000-%' AND nullif(description, '') IS NOT NULL
		AND template_category IS NOT NULL AND jsonb_array_length(tags) > 0 AND roi_badge IS NOT NULL),
	(SELECT count(*) FROM shipped), 'each is public, active, described, categorised and tagged, with a fixed id');
SELECT is((SELECT count(*) FROM shipped s JOIN flowent.workflow_versions v ON v.workflow_id = s.id AND v.version = 1
		AND v.nodes = s.nodes AND v.edges = s.edges AND v.created_by = 'flowent'),
	(SELECT count(*) FROM shipped), '... and has its version 1');
SELECT is((SELECT array_agg(DISTINCT s.name) FROM shipped s, jsonb_array_elements(s.nodes) n
		WHERE jsonb_typeof(n -> 'position' -> 'x') <> 'number' OR jsonb_typeof(n -> 'position' -> 'y') <> 'number'
			OR nullif(n -> 'data' ->> 'label', '') IS NULL), NULL,
	'every node has a position and a label');
SELECT is((SELECT array_agg(DISTINCT s.name) FROM shipped s, jsonb_array_elements(s.edges) e,
			jsonb_array_elements(s.nodes) src, jsonb_array_elements(s.nodes) tgt
		WHERE src ->> 'id' = e ->> 'source' AND tgt ->> 'id' = e ->> 'target'
			AND (src -> 'position' ->> 'x')::numeric >= (tgt -> 'position' ->> 'x')::numeric), NULL,
	'the graphs are laid out left to right: every edge goes rightwards');
SELECT is((SELECT array_agg(DISTINCT n ->> 'type') FROM shipped s, jsonb_array_elements(s.nodes) n
		WHERE n ->> 'type' NOT IN (SELECT type FROM flowent.node_types WHERE builtin)
			OR n ->> 'type' IN ('llm-agent', 'email', 'web-search') OR n ->> 'type' LIKE 'hubspot-%'), NULL,
	'they use only builtin node types of this build (no AI, email, search or HubSpot nodes)');
SELECT is((SELECT array_agg(name ORDER BY name) FROM shipped WHERE starter_kit),
	'{"Content approval workflow","Lead scoring","Ticket triage by priority"}', 'the starter kits');

-- ---------------------------------------------------------------- api_templates
SET SESSION AUTHORIZATION tpa_gw;
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is((flowent.api_templates() -> 'meta'), jsonb_build_object('total', (SELECT count(*) FROM shipped),
	'limit', 50, 'offset', 0), 'api_templates: every shipped template is readable by an end user of the gateway');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(flowent.api_templates() #> '{templates,0}') k),
	'{category,complexity,description,download_count,edges,id,is_featured,name,node_count,nodes,rating,roi_badge,starter_kit,tags}'::text[],
	'... each with the keys of the gallery');
SELECT is(flowent.api_templates('{"limit": 1}') #> '{templates,0}',
	(SELECT jsonb_build_object('id', id, 'name', name, 'description', description, 'category', template_category,
		'complexity', complexity, 'tags', tags, 'roi_badge', roi_badge, 'is_featured', is_featured,
		'starter_kit', starter_kit, 'download_count', download_count, 'rating', rating, 'nodes', nodes,
		'edges', edges, 'node_count', jsonb_array_length(nodes)) FROM shipped WHERE name = 'Content approval workflow'),
	'... the first one: a starter kit, with its graph');
SELECT is(pg_temp.names(flowent.api_templates('{"limit": 3}')),
	'Content approval workflow,Lead scoring,Ticket triage by priority', 'starter kits come first');
SELECT is(pg_temp.names(flowent.api_templates('{"starterKit": true}')),
	'Content approval workflow,Lead scoring,Ticket triage by priority', 'starterKit=true: the starter kits');
SELECT is((flowent.api_templates('{"starterKit": "false"}') #>> '{meta,total}')::int,
	(SELECT count(*)::int FROM shipped WHERE NOT starter_kit), 'starterKit="false" (a query string): the others');
SELECT is(pg_temp.names(flowent.api_templates('{"category": "sales"}')), 'Lead scoring,Follow-up reminder',
	'category=sales');
SELECT is(pg_temp.names(flowent.api_templates('{"category": "research", "starterKit": false}')),
	'Research source collector,Research source ranking', 'category and starterKit together (featured first)');
SELECT is(pg_temp.names(flowent.api_templates('{"search": "APPROVAL"}')), 'Content approval workflow,Refund approval',
	'search: case-insensitive, in names');
SELECT is(pg_temp.names(flowent.api_templates('{"search": "sla"}')), 'Ticket triage by priority',
	'search: in tags and descriptions too');
SELECT is(flowent.api_templates('{"search": "no such template"}'),
	'{"templates": [], "meta": {"total": 0, "limit": 50, "offset": 0}}', 'search without a match');
SELECT is(flowent.api_templates('{"limit": "2", "offset": "1"}') -> 'meta',
	jsonb_build_object('total', (SELECT count(*) FROM shipped), 'limit', 2, 'offset', 1),
	'limit and offset as strings');
SELECT is(pg_temp.names(flowent.api_templates('{"limit": 2, "offset": 1}')), 'Lead scoring,Ticket triage by priority',
	'... page through the list');
SELECT throws_ok(format('SELECT flowent.api_templates(%L)', c.params), '22023', c.message, c.description)
FROM (VALUES
	('{"category": "finance"}',
		'params.category must be one of customer-support, data-analysis, content-generation, automation, research, sales, marketing, other, got "finance"',
		'a bad category: 22023 naming params.category'),
	('{"starterKit": "yes"}', 'params.starterKit must be true or false, got "yes"', 'a bad starterKit: 22023'),
	('{"limit": 0}', 'params.limit must be an integer from 1 to 200, got 0', 'limit 0: 22023'),
	('{"sort": "name"}', 'unknown key "sort" in params; allowed: category, starterKit, search, limit, offset',
		'an unknown param: 22023'),
	('{"search": 1}', 'params.search must be a string, got number', 'a search that is no string: 22023')
) c(params, message, description);
SELECT is(flowent.api_list_pipelines() -> 'meta', '{"total": 0, "running": 0, "limit": 50, "offset": 0}',
	'templates are not pipelines: alice''s pipeline list is empty');

-- ---------------------------------------------------------------- clone
SELECT pg_temp.clone('Lead scoring') AS lead \gset
SELECT is((SELECT row(user_id, visibility, status, is_template, starter_kit, version, nodes, edges)::text
		FROM flowent.workflows WHERE id = :'lead'),
	(SELECT row('alice', 'private', 'draft', false, false, 1, nodes, edges)::text FROM shipped WHERE name = 'Lead scoring'),
	'api_clone_template: a private draft of alice''s with the template''s graph');
SELECT is((SELECT download_count FROM shipped WHERE name = 'Lead scoring'), 1, '... and the download is counted');
SELECT is((flowent.api_templates('{"category": "sales"}') #>> '{templates,0,download_count}')::int, 1,
	'... which api_templates shows');
SELECT is((flowent.api_update_pipeline(:'lead', '{"name": "My lead scoring", "description": "tuned"}') ->> 'version')::int, 2,
	'alice edits her copy (version 2)');
SELECT is((SELECT name FROM shipped WHERE name = 'Lead scoring'), 'Lead scoring', '... the template is unchanged');
SELECT is(flowent.api_list_pipelines() #>> '{pipelines,0,name}', 'My lead scoring', '... and her copy is a pipeline');
SELECT throws_ok(format('SELECT flowent.update_workflow(%L, ''{"name": "mine now"}'')', pg_temp.tpl('Lead scoring')),
	'42501', NULL, 'alice cannot change the template itself');
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT throws_ok(format('SELECT flowent.api_get_pipeline(%L)', :'lead'), '42704', NULL, 'bob does not see alice''s copy');
SELECT is((flowent.api_templates('{"category": "sales"}') -> 'meta' ->> 'total')::int, 2, 'bob sees the templates too');
SELECT flowent.gateway_login(:'tf') \g /dev/null
SELECT throws_ok($$SELECT flowent.api_create_pipeline('{"name": "impostor"}')$$, '42501',
	'user id "flowent" is reserved for the templates shipped with the extension',
	'nobody acts as the templates'' owner "flowent" (pg_dump leaves that user''s rows out)');

-- ---------------------------------------------------------------- every template without HTTP runs
SELECT flowent.gateway_login(:'ta') \g /dev/null
-- customer support
SELECT is(pg_temp.run('Ticket triage by priority',
		'{"ticket": {"id": "T-1", "subject": "Checkout is down", "body": "500 errors", "customerTier": "free"}}') -> 'output',
	'{"ticketId": "T-1", "priority": "p1", "queue": "incident-response", "slaHours": 1}',
	'Ticket triage: an outage is P1 for incident response (and pages)');
SELECT is(pg_temp.run('Ticket triage by priority',
		'{"ticket": {"id": "T-2", "subject": "Invoice copy", "body": "please", "customerTier": "enterprise"}}') -> 'output',
	'{"ticketId": "T-2", "priority": "p2", "queue": "priority-support", "slaHours": 4}', '... an enterprise customer is P2');
SELECT is(pg_temp.run('Ticket triage by priority', '{"ticket": {"id": "T-3", "subject": "Question", "body": "how?"}}')
		-> 'output',
	'{"ticketId": "T-3", "priority": "p3", "queue": "support", "slaHours": 24}', '... anything else P3');
SELECT is(pg_temp.run('Refund approval', '{"orderId": "A-1", "customer": "ACME", "amount": 40}') - 'executionId',
	'{"status": "success", "output": {"orderId": "A-1", "amount": 40, "decision": "auto-approved"}, "error": null}',
	'Refund approval: a small refund is approved at once');
SELECT pg_temp.run('Refund approval', '{"orderId": "A-2", "customer": "ACME", "amount": 400, "reason": "broken"}') AS r \gset
SELECT is(:'r'::jsonb ->> 'status', 'suspended', '... a large one waits for a person');
SELECT is((SELECT title || ' / ' || message FROM flowent.workflow_approval_requests
		WHERE execution_id = (:'r'::jsonb ->> 'executionId')::uuid),
	'Refund of 400 for order A-2 / ACME asks for a refund: broken', '... with a clear request');
SELECT is(flowent.approve((:'r'::jsonb ->> 'executionId')::uuid, true, 'ok') -> 'output',
	'{"orderId": "A-2", "amount": 400, "decision": "approved"}', '... approved');
SELECT pg_temp.run('Refund approval', '{"orderId": "A-3", "customer": "ACME", "amount": 900}') ->> 'executionId' AS x \gset
SELECT is(flowent.approve(:'x', false, 'no') -> 'output', '{"orderId": "A-3", "amount": 900, "decision": "rejected"}',
	'... or rejected');
SELECT is(pg_temp.run('Refund approval', '{"orderId": "A-4", "customer": "ACME", "amount": 400}',
		'{"variables": {"autoApproveLimit": 500}}') #>> '{output,decision}', 'auto-approved',
	'... the limit is a variable');
-- data analysis
SELECT count(*) AS alice_today FROM flowent.workflow_executions
	WHERE (started_at AT TIME ZONE 'UTC')::date = (now() AT TIME ZONE 'UTC')::date \gset
SELECT pg_temp.run('Daily metrics rollup', jsonb_build_object('day', (now() AT TIME ZONE 'UTC')::date)) AS r \gset
SELECT is(:'r'::jsonb ->> 'status', 'success', 'Daily metrics rollup runs');
SELECT is((:'r'::jsonb #>> '{output,executions}')::int, :alice_today,
	'... and counts the runs of the day alice sees (analytics_daily under her row-level security)');
SELECT is(:'r'::jsonb #> '{output,successRate}', to_jsonb(round(
		(SELECT count(*) FILTER (WHERE status = 'success')::numeric / count(*) FILTER (WHERE status IN ('success', 'error', 'cancelled'))
			FROM flowent.workflow_executions WHERE id <> (:'r'::jsonb ->> 'executionId')::uuid), 4)),
	'... with their success rate');
SELECT is(jsonb_array_length(:'r'::jsonb #> '{output,busiest}'), 5, '... and the five busiest workflows');
SELECT is(pg_temp.run('Daily metrics rollup', '{"day": "2001-01-01"}') -> 'output',
	'{"day": "2001-01-01", "executions": 0, "successes": 0, "errors": 0, "cancelled": 0, "tokens": 0, "cost_usd": 0,
	  "successRate": null, "busiest": []}', '... a day without runs');
SELECT is(pg_temp.run('Metric anomaly alert', '{"metric": "signups", "values": [120, 130, 125, 118, 410]}') -> 'output',
	'{"anomaly": true, "stats": {"metric": "signups", "latest": 410, "mean": 123.2500, "stddev": 5.3774, "zScore": 53.32}}',
	'Metric anomaly alert: a spike is an anomaly');
SELECT is(pg_temp.run('Metric anomaly alert', '{"metric": "signups", "values": [120, 130, 125, 118, 124], "zThreshold": 2}')
		#>> '{output,anomaly}', 'false', '... a normal value is not');
-- content generation
SELECT pg_temp.run('Content approval workflow',
	'{"title": "Hello, World: PostgreSQL 15!", "body": "one two three four five", "author": "ann"}') AS r \gset
SELECT is((SELECT preview_data FROM flowent.workflow_approval_requests WHERE execution_id = (:'r'::jsonb ->> 'executionId')::uuid),
	'{"title": "Hello, World: PostgreSQL 15!", "author": "ann", "slug": "hello-world-postgresql-15", "words": 5,
	  "readingMinutes": 1, "excerpt": "one two three four five"}', 'Content approval: the editor sees the prepared draft');
SELECT is(flowent.approve((:'r'::jsonb ->> 'executionId')::uuid, true, 'ship it') -> 'output',
	'{"slug": "hello-world-postgresql-15", "title": "Hello, World: PostgreSQL 15!", "status": "published",
	  "reviewer": "alice", "comment": "ship it"}', '... approved: published');
SELECT pg_temp.run('Content approval workflow', '{"title": "Draft", "body": "", "author": "ann"}') ->> 'executionId' AS x \gset
SELECT is(flowent.approve(:'x', false, 'too short') -> 'output',
	'{"slug": "draft", "title": "Draft", "status": "changes-requested", "reviewer": "alice", "comment": "too short"}',
	'... rejected: changes requested, with the comment');
SELECT is(pg_temp.run('Newsletter digest builder', '{"issue": 42, "since": "2026-11-25", "articles": [
		{"title": "A", "url": "https://a.example", "summary": "first", "publishedAt": "2026-11-26"},
		{"title": "Old", "url": "https://old.example", "publishedAt": "2026-11-01"},
		{"title": "C", "url": "https://c.example", "publishedAt": "2026-11-30T10:00:00Z"}]}') -> 'output',
	jsonb_build_object('subject', 'Newsletter #42: 2 new articles', 'articles', 2,
		'markdown', E'- [A](https://a.example): first\n- [C](https://c.example): '),
	'Newsletter digest: the recent articles as Markdown');
SELECT is(pg_temp.run('Newsletter digest builder', '{"issue": 43, "since": "2030-01-01", "articles": []}') -> 'output',
	'{"subject": "Newsletter #43: 0 new articles", "articles": 0, "markdown": ""}', '... an empty issue');
-- automation
SELECT is((pg_temp.run('Webhook to table', '{"source": "shop", "event": "order.created", "data": {"total": 12.30}}')
		-> 'output') - 'id',
	'{"source": "shop", "eventType": "order.created"}', 'Webhook to table: the delivery is stored');
SELECT is((SELECT source || ' ' || event_type || ' ' || payload::text FROM public.webhook_events),
	'shop order.created {"data": {"total": 12.30}, "event": "order.created", "source": "shop"}',
	'... as a row of webhook_events, numbers exact');
SELECT pg_temp.run('Wait for payment, then fulfil', '{"orderId": "A-7", "total": 99.5}') AS r \gset
SELECT is(:'r'::jsonb ->> 'status', 'suspended', 'Wait for payment: the order waits for the payment signal');
SELECT is(flowent.resume((:'r'::jsonb ->> 'executionId')::uuid, '{"amount": 99.5, "reference": "PAY-1"}') -> 'output',
	'{"orderId": "A-7", "status": "fulfilled", "paid": 99.5, "reference": "PAY-1"}', '... paid in full: fulfilled');
SELECT pg_temp.run('Wait for payment, then fulfil', '{"orderId": "A-8", "total": 99.5}') ->> 'executionId' AS x \gset
SELECT is(flowent.resume(:'x', '{"amount": 10}') -> 'error',
	'{"code": "PAYMENT_MISMATCH", "nodeId": "mismatch", "message": "payment of 10 does not cover the order total 99.5"}',
	'... paid too little: the run fails with PAYMENT_MISMATCH');
-- research
SELECT is(pg_temp.run('Research source ranking', '{"referenceYear": 2026, "minScore": 50, "sources": [
		{"title": "Blog", "url": "https://blog.example.com/p", "year": 2026, "citations": 3},
		{"title": "Paper", "url": "https://mit.edu/x", "year": 2025, "citations": 120, "peerReviewed": true}]}')
		#> '{output,shortlist}',
	'[{"title": "Paper", "url": "https://mit.edu/x", "year": 2025, "citations": 120, "peerReviewed": true, "score": 79}]',
	'Research source ranking: the shortlist');
-- sales
SELECT is(pg_temp.run('Lead scoring', '{"lead": {"email": "vp@acme.com", "companySize": 250, "title": "VP Engineering",
		"budget": 50000, "source": "webinar"}}') -> 'output',
	'{"email": "vp@acme.com", "score": 95, "grade": "hot", "owner": "account-executive", "nextStep": "call within 24 hours"}',
	'Lead scoring: a hot lead');
SELECT is(pg_temp.run('Lead scoring', '{"lead": {"email": "sam@acme.com", "companySize": 60, "title": "Engineering Manager",
		"budget": 6000}}') #>> '{output,grade}', 'warm', '... a warm one');
SELECT is(pg_temp.run('Lead scoring', '{"lead": {"email": "x@gmail.com"}}') -> 'output',
	'{"email": "x@gmail.com", "score": 0, "grade": "cold", "owner": "marketing", "nextStep": "newsletter only"}',
	'... a cold one');
SELECT pg_temp.run('Follow-up reminder', '{"dealId": "D-17", "contact": "jane@acme.com", "owner": "sam"}') AS r \gset
SELECT is(:'r'::jsonb ->> 'status', 'suspended', 'Follow-up reminder: waits (3 days by default)');
SELECT is(flowent.api_execution_context((:'r'::jsonb ->> 'executionId')::uuid) #>> '{waiting,0,kind}', 'delay',
	'... on its delay node');
SELECT is(flowent.resume((:'r'::jsonb ->> 'executionId')::uuid) #> '{output,reminder}',
	'{"dealId": "D-17", "owner": "sam", "message": "Follow up with jane@acme.com on deal D-17"}', '... then reminds');
-- marketing
SELECT is(pg_temp.run('Campaign UTM builder', '{"baseUrl": "https://example.com/launch?ref=x", "campaign": "Spring Launch 2026",
		"channels": [{"source": "newsletter", "medium": "email"}, {"source": "LinkedIn Ads", "medium": "paid social"}]}')
		-> 'output',
	'{"campaign": "Spring Launch 2026", "count": 2, "links": [
		{"source": "newsletter", "medium": "email", "url": "https://example.com/launch?ref=x&utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch-2026"},
		{"source": "LinkedIn Ads", "medium": "paid social", "url": "https://example.com/launch?ref=x&utm_source=linkedin-ads&utm_medium=paid-social&utm_campaign=spring-launch-2026"}]}',
	'Campaign UTM builder: one tracking link per channel');
SELECT is(pg_temp.run('Audience segmentation', '{"contacts": [{"email": "a@x", "optedIn": true, "purchases": 5},
		{"email": "b@x", "optedIn": true, "lastOpenDays": 10}, {"email": "c@x", "optedIn": false, "purchases": 9},
		{"email": "d@x", "optedIn": true, "lastOpenDays": 60}, {"email": "e@x", "optedIn": true},
		{"email": "f@x", "optedIn": true, "lastOpenDays": 3}]}') -> 'output',
	'{"contacts": 5, "counts": {"loyal": 1, "engaged": 2, "cooling": 1, "dormant": 1},
	  "segments": {"loyal": ["a@x"], "engaged": ["b@x", "f@x"], "cooling": ["d@x"], "dormant": ["e@x"]}}',
	'Audience segmentation: opted-in contacts by segment');
SELECT is((SELECT array_agg(t.name ORDER BY t.name) FROM shipped t
		WHERE NOT EXISTS (SELECT 1 FROM flowent.workflow_executions e JOIN flowent.workflows w ON w.id = e.workflow_id
			JOIN flowent.workflow_versions v ON v.workflow_id = w.id AND v.version = 1
			WHERE v.message = 'cloned from ' || t.id AND e.status = 'success')),
	'{"Endpoint health check","Research source collector"}',
	'every template but the two that call out over HTTP (templates_http.sh) ran to success');

-- ---------------------------------------------------------------- analytics
-- Alice's runs: those above, a workflow that fails half the time, and some
-- moved to yesterday; bob's: a few of his own. Durations are set to known
-- values so that percentiles mean something.
SELECT flowent.api_create_pipeline('{"name": "flaky", "nodes": [
	{"id": "t", "type": "trigger"},
	{"id": "c", "type": "condition", "data": {"conditions": [{"left": "{{trigger.payload.ok}}", "operator": "equals", "right": true}]}},
	{"id": "o", "type": "output", "data": {"value": "fine"}},
	{"id": "boom", "type": "stop-error", "data": {"message": "not ok", "code": "FLAKY"}}],
	"edges": [{"id": "e1", "source": "t", "target": "c"}, {"id": "e2", "source": "c", "sourceHandle": "true", "target": "o"},
	          {"id": "e3", "source": "c", "sourceHandle": "false", "target": "boom"}]}') ->> 'id' AS flaky \gset
SELECT count(*) FROM (SELECT flowent.run(:'flaky', jsonb_build_object('ok', i % 2 = 0)) FROM generate_series(1, 10) i) r \g /dev/null
SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT pg_temp.clone('Lead scoring') AS bob_lead \gset
SELECT count(*) FROM (SELECT flowent.run(:'bob_lead', '{"lead": {"email": "b@b.example"}}') FROM generate_series(1, 3) i) r \g /dev/null
RESET SESSION AUTHORIZATION;
UPDATE flowent.workflow_executions e SET duration_ms = 10 * x.n
	FROM (SELECT id, row_number() OVER (ORDER BY started_at, id) AS n FROM flowent.workflow_executions) x WHERE x.id = e.id;
UPDATE flowent.workflow_node_logs l SET duration_ms = CASE l.node_id WHEN 'boom' THEN 700 WHEN 'c' THEN 5 ELSE 1 END
	+ x.n % 7 FROM (SELECT id, row_number() OVER (ORDER BY seq, id) AS n FROM flowent.workflow_node_logs) x WHERE x.id = l.id;
UPDATE flowent.workflow_executions SET started_at = started_at - interval '1 day'
	WHERE workflow_id = :'flaky' AND (input ->> 'ok')::boolean;
UPDATE flowent.workflow_executions SET total_tokens = 7, total_cost = 0.25 WHERE workflow_id = :'flaky';

-- what the rows say, for alice (her own runs; she edits only her workflows)
CREATE TEMP VIEW alice_runs AS
	SELECT * FROM flowent.workflow_executions WHERE user_id = 'alice';
GRANT SELECT ON alice_runs TO PUBLIC;
SELECT is((SELECT count(*) FROM flowent.workflow_executions WHERE user_id = 'bob'), 3::bigint, 'bob ran three');
SELECT (now() AT TIME ZONE 'UTC')::date AS today, (now() AT TIME ZONE 'UTC')::date - 1 AS yesterday \gset

SET SESSION AUTHORIZATION tpa_gw;
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT flowent.api_analytics() AS a \gset
RESET SESSION AUTHORIZATION;
SELECT is(:'a'::jsonb -> 'range', jsonb_build_object('from', :'today'::date - 29, 'to', :'today'::date),
	'api_analytics: by default the last 30 days');
SELECT is(:'a'::jsonb -> 'totals', (SELECT jsonb_build_object(
		'executions', count(*),
		'successes', count(*) FILTER (WHERE status = 'success'),
		'errors', count(*) FILTER (WHERE status = 'error'),
		'cancelled', count(*) FILTER (WHERE status = 'cancelled'),
		'success_rate', round(count(*) FILTER (WHERE status = 'success')::numeric
			/ count(*) FILTER (WHERE status IN ('success', 'error', 'cancelled')), 4),
		'p50_ms', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)
			FILTER (WHERE status IN ('success', 'error', 'cancelled')))::numeric, 1),
		'p95_ms', round((percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)
			FILTER (WHERE status IN ('success', 'error', 'cancelled')))::numeric, 1),
		'tokens', sum(total_tokens), 'cost_usd', sum(total_cost)) FROM alice_runs),
	'... totals: counts, success rate, p50, p95, tokens and cost as the rows of alice''s runs say');
SELECT is((:'a'::jsonb #>> '{totals,errors}')::int, 6, '... (five flaky failures and a payment mismatch)');
SELECT is((SELECT sum((d ->> 'executions')::int) FROM jsonb_array_elements(:'a'::jsonb -> 'daily') d),
	(:'a'::jsonb #>> '{totals,executions}')::bigint, '... the daily rows add up to the totals');
SELECT is((SELECT d FROM jsonb_array_elements(:'a'::jsonb -> 'daily') d
		WHERE d ->> 'workflow_id' = :'flaky' AND d ->> 'day' = :'today'),
	(SELECT jsonb_build_object('day', :'today'::date, 'workflow_id', :'flaky'::uuid, 'workflow_name', 'flaky',
		'executions', 5, 'successes', 0, 'errors', 5, 'cancelled', 0, 'success_rate', 0.0000,
		'p50_ms', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms))::numeric, 1),
		'p95_ms', round((percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms))::numeric, 1),
		'tokens', 35, 'cost_usd', 1.250000)
		FROM alice_runs WHERE workflow_id = :'flaky' AND NOT (input ->> 'ok')::boolean),
	'... a daily row: today''s failures of "flaky"');
SELECT is((SELECT d -> 'successes' FROM jsonb_array_elements(:'a'::jsonb -> 'daily') d
		WHERE d ->> 'workflow_id' = :'flaky' AND d ->> 'day' = :'yesterday'), '5',
	'... and yesterday''s successes');
SELECT is(:'a'::jsonb #> '{failing_nodes,0}', jsonb_build_object('workflow_id', :'flaky', 'node_id', 'boom',
	'node_type', 'stop-error', 'runs', 5, 'errors', 5, 'error_rate', 1.0000),
	'... failing nodes: the stop-error node first');
SELECT is(jsonb_array_length(:'a'::jsonb -> 'failing_nodes'), 2, '... and the payment mismatch: only nodes with errors');
SELECT is(:'a'::jsonb #> '{slowest_nodes,0}', (SELECT jsonb_build_object('workflow_id', n.workflow_id, 'node_id', n.node_id,
		'node_type', n.node_type, 'runs', n.runs, 'p95_ms', n.p95_ms, 'avg_ms', n.avg_ms)
		FROM (SELECT l.workflow_id, l.node_id, l.node_type, count(*) AS runs,
				round((percentile_cont(0.95) WITHIN GROUP (ORDER BY l.duration_ms))::numeric, 1) AS p95_ms,
				round(avg(l.duration_ms), 1) AS avg_ms
			FROM flowent.workflow_node_logs l JOIN alice_runs e ON e.id = l.execution_id
			WHERE l.status IN ('success', 'error') GROUP BY l.workflow_id, l.node_id, l.node_type) n
		ORDER BY n.p95_ms DESC, n.avg_ms DESC LIMIT 1),
	'... slowest nodes: the top one by p95 as the node logs say');
SELECT is(jsonb_array_length(:'a'::jsonb -> 'slowest_nodes'), 10, '... ten of them');
SELECT is((SELECT count(*) FROM jsonb_array_elements(:'a'::jsonb -> 'daily') d
		WHERE d ->> 'workflow_id' = :'bob_lead'), 0::bigint, '... nothing of bob''s');

SET SESSION AUTHORIZATION tpa_gw;
SELECT flowent.gateway_login(:'ta') \g /dev/null
SELECT is(flowent.api_analytics(jsonb_build_object('from', :'today')) #>> '{totals,executions}',
	(SELECT count(*)::text FROM alice_runs WHERE started_at >= :'today'::timestamp AT TIME ZONE 'UTC'),
	'from today: yesterday''s runs are left out');
SELECT is(flowent.api_analytics(jsonb_build_object('from', :'yesterday', 'to', :'yesterday')) -> 'totals',
	jsonb_build_object('executions', 5, 'successes', 5, 'errors', 0, 'cancelled', 0, 'success_rate', 1.0000,
		'p50_ms', (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms))::numeric, 1)
			FROM alice_runs WHERE workflow_id = :'flaky' AND (input ->> 'ok')::boolean),
		'p95_ms', (SELECT round((percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms))::numeric, 1)
			FROM alice_runs WHERE workflow_id = :'flaky' AND (input ->> 'ok')::boolean),
		'tokens', 35, 'cost_usd', 1.250000),
	'one day: yesterday''s five successes of "flaky"');
SELECT is(flowent.api_analytics(jsonb_build_object('workflowId', :'flaky')) #> '{totals,executions}', '10',
	'workflowId: the runs of one workflow');
SELECT is(flowent.api_analytics(jsonb_build_object('from', :'yesterday' || 'T23:30:00-01:00', 'to', :'today' || 'T12:00:00'))
		-> 'range', jsonb_build_object('from', :'today'::date, 'to', :'today'::date),
	'timestamps select their UTC day');
SELECT is(flowent.api_analytics('{"from": "2001-01-01", "to": "2001-01-31"}'),
	'{"range": {"from": "2001-01-01", "to": "2001-01-31"}, "totals": {"executions": 0, "successes": 0, "errors": 0,
	  "cancelled": 0, "success_rate": null, "p50_ms": null, "p95_ms": null, "tokens": 0, "cost_usd": 0},
	  "daily": [], "slowest_nodes": [], "failing_nodes": []}', 'a range without runs');
SELECT is((SELECT count(*) FROM flowent.analytics_executions), (SELECT count(*) FROM alice_runs),
	'the view analytics_executions shows alice her runs');

SELECT flowent.gateway_login(:'tb') \g /dev/null
SELECT flowent.api_analytics() AS b \gset
SELECT is(:'b'::jsonb #> '{totals,executions}', '3', 'bob''s analytics count his three runs only');
SELECT is((SELECT array_agg(DISTINCT d ->> 'workflow_id') FROM jsonb_array_elements(:'b'::jsonb -> 'daily') d),
	ARRAY[:'bob_lead'], '... of his one workflow');
SELECT is((SELECT count(*) FROM flowent.analytics_daily WHERE workflow_id = :'flaky'), 0::bigint,
	'... the view analytics_daily hides alice''s runs from him');
SELECT is((SELECT count(*) FROM flowent.analytics_nodes WHERE workflow_id <> :'bob_lead'), 0::bigint,
	'... and so does analytics_nodes');
SELECT throws_ok(format('SELECT flowent.api_analytics(%L)', jsonb_build_object('workflowId', :'flaky')), '42704',
	format('workflow %s not found', :'flaky'), 'bob asks for alice''s private workflow: 42704');

SELECT throws_ok(format('SELECT flowent.api_analytics(%L)', c.params), '22023', c.message, c.description)
FROM (VALUES
	('{"from": "yesterday"}', 'params.from must be an ISO date (YYYY-MM-DD) or timestamp, got "yesterday"',
		'from: not an ISO date: 22023'),
	('{"to": "2026-13-01"}', 'params.to must be an ISO date (YYYY-MM-DD) or timestamp, got "2026-13-01"',
		'to: no such date: 22023'),
	('{"from": 20260101}', 'params.from must be a string, got number', 'from: a number: 22023'),
	('{"from": "2026-12-02", "to": "2026-12-01"}', 'params.from (2026-12-02) must not be after params.to (2026-12-01)',
		'from after to: 22023'),
	('{"from": "2025-01-01", "to": "2026-12-01"}',
		'params.from: a range is at most 366 days, got 700 days from 2025-01-01 to 2026-12-01', 'over a year: 22023'),
	('{"workflowId": "x"}', 'params.workflowId must be a UUID, got "x"', 'workflowId: not a uuid: 22023'),
	('{"since": "2026-01-01"}', 'unknown key "since" in params; allowed: from, to, workflowId', 'an unknown param: 22023')
) c(params, message, description);
RESET SESSION AUTHORIZATION;

SELECT is((SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c
		WHERE c.relnamespace = 'flowent'::regnamespace AND c.relname LIKE 'analytics_%'
			AND c.reloptions @> '{security_invoker=true}'),
	'{analytics_daily,analytics_executions,analytics_nodes}', 'the analytics views run with the caller''s security');

SELECT * FROM finish();
ROLLBACK;
