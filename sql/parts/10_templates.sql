
-- ===========================================================================
-- Templates (seed §3.2 template gallery and starter kits, §4.1
-- /api/pipelines/templates, release 0.5): workflows shipped with the
-- extension, and the route that lists them.
--
-- A shipped template is a public, active row of flowent.workflows with
-- is_template, owned by the system user "flowent" (no one else may act as
-- that user: _workflows_guard), with a fixed id f10e0000-7e00-4000-8000-<n>
-- and fixed timestamps, so every database has the same rows; its version 1
-- is in workflow_versions like any workflow's. pg_dump leaves the system
-- user's rows out (06_dump.sql): a restore gets them from CREATE EXTENSION.
-- Users clone a template (clone_template / api_clone_template) into a
-- private draft of their own, which they edit and run.
--
-- Only node types of this build: no llm-agent, email, web search or HubSpot
-- (later issues). Templates that call out (http-request) take their URLs
-- from the payload, so they run against any server, and tests point them at
-- a local one. Positions lay the graph out left to right, 250 px a column.
-- ===========================================================================

-- A flag of a query string: a JSON boolean or the string "true" or "false"
-- (JSON null or absent gives NULL).
CREATE FUNCTION flowent._json_flag(v jsonb, field text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN NULL;
	END IF;
	IF jsonb_typeof(v) = 'boolean' OR v IN ('"true"', '"false"') THEN
		RETURN (v #>> '{}')::boolean;
	END IF;
	RAISE EXCEPTION '% must be true or false, got %', field, v::text USING ERRCODE = '22023';
END
$$;

-- GET /api/pipelines/templates: params {category? (template_category),
-- starterKit? (true/false), search? (case-insensitive in name, description
-- and tags), limit? (1-200, 50), offset? (0)} → {templates: [T], meta:
-- {total, limit, offset}}: the templates the current user sees (public
-- ones, their own, their workspace's), archived ones left out; starter kits
-- first, then featured ones, then the most cloned.
CREATE FUNCTION flowent.api_templates(params jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	p jsonb := coalesce(params, '{}'::jsonb);
	v_category flowent.template_category;
	v_starter boolean;
	v_search text;
	v_limit integer;
	v_offset integer;
BEGIN
	PERFORM flowent._check_keys('params', p, ARRAY['category', 'starterKit', 'search', 'limit', 'offset']);
	v_category := flowent._json_enum(p -> 'category', 'params.category', 'flowent.template_category', true);
	v_starter := flowent._json_flag(p -> 'starterKit', 'params.starterKit');
	v_search := lower(nullif(flowent._json_string(p -> 'search', 'params.search'), ''));
	v_limit := flowent._json_int(p -> 'limit', 'params.limit', 1, 200, 50);
	v_offset := flowent._json_int(p -> 'offset', 'params.offset', 0, 2147483647, 0);
	RETURN (
		WITH matching AS (
			SELECT w.id, w.name, w.description, w.template_category, w.complexity, w.tags, w.roi_badge,
				w.is_featured, w.starter_kit, w.download_count, w.rating, w.nodes, w.edges
			FROM flowent.workflows w
			WHERE w.is_template AND w.status IS DISTINCT FROM 'archived'
				AND (v_category IS NULL OR w.template_category = v_category)
				AND (v_starter IS NULL OR w.starter_kit = v_starter)
				AND (v_search IS NULL OR strpos(lower(w.name), v_search) > 0
					OR strpos(lower(coalesce(w.description, '')), v_search) > 0
					OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(w.tags)
							WHEN 'array' THEN w.tags ELSE '[]' END) tag
						WHERE strpos(lower(tag), v_search) > 0))
		), page AS (
			SELECT m.*, row_number() OVER (ORDER BY m.starter_kit DESC, m.is_featured DESC NULLS LAST,
				m.download_count DESC NULLS LAST, m.name, m.id) AS ord
			FROM matching m
			ORDER BY ord
			LIMIT v_limit OFFSET v_offset
		)
		SELECT jsonb_build_object(
			'templates', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'id', t.id,
				'name', t.name,
				'description', t.description,
				'category', t.template_category,
				'complexity', t.complexity,
				'tags', coalesce(t.tags, '[]'::jsonb),
				'roi_badge', t.roi_badge,
				'is_featured', coalesce(t.is_featured, false),
				'starter_kit', t.starter_kit,
				'download_count', coalesce(t.download_count, 0),
				'rating', t.rating,
				'nodes', t.nodes,
				'edges', t.edges,
				'node_count', jsonb_array_length(t.nodes)) ORDER BY t.ord) FROM page t), '[]'::jsonb),
			'meta', jsonb_build_object(
				'total', (SELECT count(*) FROM matching),
				'limit', v_limit,
				'offset', v_offset)));
END
$$;

-- ---------------------------------------------------------------------------
-- The shipped templates: 15 across the seed's seven categories, three of
-- them starter kits. Each description says what the payload holds. Nodes
-- are React Flow nodes as stored; edges are written "source>target" or
-- "source:handle>target", separated by spaces, and stored as React Flow
-- edges {id: "e-<source>-<target>", source, sourceHandle, target}.
-- ---------------------------------------------------------------------------
WITH t(n, name, category, complexity, starter_kit, is_featured, roi_badge, tags, description, nodes, edges) AS (VALUES

-- ---------------------------------------------------------------- customer support
(1, 'Ticket triage by priority', 'customer-support', 'beginner', true, true, 'Routes every ticket in seconds',
 '["support", "triage", "sla", "starter-kit"]',
 'Classifies an incoming support ticket (payload {ticket: {id, subject, body, customerTier}}): outages, '
 'security and data-loss reports are P1 and page the on-call team on NOTIFY channel support_pager, '
 'enterprise and premium customers are P2, everything else P3. Outputs the queue and the SLA in hours.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "New ticket", "triggerType": "webhook"}},
	{"id": "classify", "type": "data-transform", "position": {"x": 250, "y": 150},
	 "data": {"label": "Classify priority", "language": "sql", "input": "{{trigger.payload.ticket}}",
	          "expression": "jsonb_build_object('ticketId', input->>'id', 'priority', CASE WHEN concat_ws(' ', input->>'subject', input->>'body') ~* '(outage|down|urgent|security|data loss)' THEN 'p1' WHEN input->>'customerTier' IN ('enterprise', 'premium') THEN 'p2' ELSE 'p3' END)"}},
	{"id": "route", "type": "switch", "position": {"x": 500, "y": 150},
	 "data": {"label": "Route by priority", "value": "{{classify.priority}}",
	          "cases": [{"id": "p1", "operator": "equals", "right": "p1"}, {"id": "p2", "operator": "equals", "right": "p2"}]}},
	{"id": "urgent", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Incident queue", "variables": {"queue": "incident-response", "slaHours": 1}}},
	{"id": "priority", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Priority queue", "variables": {"queue": "priority-support", "slaHours": 4}}},
	{"id": "standard", "type": "set-variable", "position": {"x": 750, "y": 300},
	 "data": {"label": "Standard queue", "variables": {"queue": "support", "slaHours": 24}}},
	{"id": "page", "type": "notify", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Page on-call", "channel": "support_pager",
	          "payload": {"ticketId": "{{classify.ticketId}}", "priority": "p1"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Routed ticket", "value": {"ticketId": "{{classify.ticketId}}", "priority": "{{classify.priority}}",
	          "queue": "{{variables.queue}}", "slaHours": "{{variables.slaHours}}"}}}
 ]$n$,
 't>classify classify>route route:p1>urgent route:p2>priority route:default>standard urgent>page '
 'page>result priority>result standard>result'),

(2, 'Refund approval', 'customer-support', 'intermediate', false, false, 'No refund over the limit without a second look',
 '["support", "refunds", "approval"]',
 'Refunds up to the limit (variable autoApproveLimit, default 100) are approved at once; larger ones wait '
 'for a person (human-approval, expires after 2 days: rejected). Approved refunds are announced on NOTIFY '
 'channel refunds. Payload {orderId, customer, amount, reason}.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "Refund requested", "triggerType": "webhook"}},
	{"id": "check", "type": "condition", "position": {"x": 250, "y": 150},
	 "data": {"label": "Over the limit?",
	          "conditions": [{"left": "{{trigger.payload.amount}}", "operator": "gt", "right": "{{variables.autoApproveLimit | 100}}"}]}},
	{"id": "review", "type": "human-approval", "position": {"x": 500, "y": 50},
	 "data": {"label": "Review refund", "title": "Refund of {{trigger.payload.amount}} for order {{trigger.payload.orderId}}",
	          "message": "{{trigger.payload.customer}} asks for a refund: {{trigger.payload.reason | no reason given}}",
	          "contextData": "{{trigger.payload}}", "expiresInMs": 172800000, "onExpire": "reject"}},
	{"id": "auto", "type": "set-variable", "position": {"x": 500, "y": 300},
	 "data": {"label": "Auto-approve", "name": "decision", "value": "auto-approved"}},
	{"id": "approved", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Approved", "name": "decision", "value": "approved"}},
	{"id": "rejected", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Rejected", "name": "decision", "value": "rejected"}},
	{"id": "refund", "type": "notify", "position": {"x": 1000, "y": 150},
	 "data": {"label": "Issue refund", "channel": "refunds",
	          "payload": {"orderId": "{{trigger.payload.orderId}}", "amount": "{{trigger.payload.amount}}", "decision": "{{variables.decision}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Decision", "value": {"orderId": "{{trigger.payload.orderId}}", "amount": "{{trigger.payload.amount}}",
	          "decision": "{{variables.decision}}"}}}
 ]$n$,
 't>check check:true>review check:false>auto review:approved>approved review:rejected>rejected '
 'approved>refund auto>refund refund>result rejected>result'),

-- ---------------------------------------------------------------- data analysis
(3, 'Daily metrics rollup', 'data-analysis', 'intermediate', false, true, 'The morning report writes itself',
 '["analytics", "reporting", "schedule"]',
 'Rolls up one UTC day of your workflow runs from the view flowent.analytics_daily (payload {day: '
 '"YYYY-MM-DD"}, default yesterday): executions, successes, errors, success rate, tokens and cost, and the '
 'five busiest workflows; publishes the summary on NOTIFY channel metrics_daily. Schedule it with '
 'flowent.schedule(id, ''15 0 * * *'').',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Every morning", "triggerType": "schedule"}},
	{"id": "totals", "type": "database-query", "position": {"x": 250, "y": 100},
	 "data": {"label": "Day totals", "readOnly": true, "maxRows": 1, "params": ["{{trigger.payload.day | null}}"],
	          "query": "SELECT d.day, coalesce(sum(a.executions), 0) AS executions, coalesce(sum(a.successes), 0) AS successes, coalesce(sum(a.errors), 0) AS errors, coalesce(sum(a.cancelled), 0) AS cancelled, coalesce(sum(a.tokens), 0) AS tokens, coalesce(sum(a.cost_usd), 0) AS cost_usd FROM (SELECT coalesce($1::date, (now() AT TIME ZONE 'UTC')::date - 1) AS day) d LEFT JOIN flowent.analytics_daily a ON a.day = d.day GROUP BY d.day"}},
	{"id": "top", "type": "database-query", "position": {"x": 500, "y": 100},
	 "data": {"label": "Busiest workflows", "readOnly": true, "maxRows": 5, "params": ["{{totals.rows.0.day}}"],
	          "query": "SELECT workflow_id, workflow_name, executions, errors, success_rate, p95_ms FROM flowent.analytics_daily WHERE day = $1::date ORDER BY executions DESC, workflow_name, workflow_id LIMIT 5"}},
	{"id": "summary", "type": "data-transform", "position": {"x": 750, "y": 100},
	 "data": {"label": "Summarise", "language": "sql", "input": {"totals": "{{totals.rows.0}}", "top": "{{top.rows}}"},
	          "expression": "input->'totals' || jsonb_build_object('successRate', round((input->'totals'->>'successes')::numeric / nullif((input->'totals'->>'successes')::numeric + (input->'totals'->>'errors')::numeric + (input->'totals'->>'cancelled')::numeric, 0), 4), 'busiest', input->'top')"}},
	{"id": "publish", "type": "notify", "position": {"x": 1000, "y": 100},
	 "data": {"label": "Publish", "channel": "metrics_daily", "payload": "{{summary}}"}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 100},
	 "data": {"label": "Rollup", "value": "{{summary}}"}}
 ]$n$,
 't>totals totals>top top>summary summary>publish publish>result'),

(4, 'Metric anomaly alert', 'data-analysis', 'intermediate', false, false, 'Catch spikes before customers do',
 '["analytics", "monitoring", "alerts"]',
 'Compares the latest value of a metric with the values before it (payload {metric, values: [numbers, '
 'oldest first], zThreshold (default 3)}): when its z-score is at least the threshold an alert goes out on '
 'NOTIFY channel metric_alerts. Outputs the mean, standard deviation and z-score.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "New data point", "triggerType": "manual"}},
	{"id": "stats", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Baseline statistics", "language": "sql",
	          "expression": "(SELECT jsonb_build_object('metric', input->>'metric', 'latest', (input->'values' -> -1)::numeric, 'mean', round(avg(b.v), 4), 'stddev', round(coalesce(stddev_samp(b.v), 0), 4), 'zScore', CASE WHEN coalesce(stddev_samp(b.v), 0) = 0 THEN 0 ELSE round(abs((input->'values' -> -1)::numeric - avg(b.v)) / stddev_samp(b.v), 2) END) FROM (SELECT x::numeric AS v FROM jsonb_array_elements_text((input->'values') - -1) x) b)"}},
	{"id": "check", "type": "condition", "position": {"x": 500, "y": 100},
	 "data": {"label": "Anomalous?",
	          "conditions": [{"left": "{{stats.zScore}}", "operator": "gte", "right": "{{trigger.payload.zThreshold | 3}}"}]}},
	{"id": "alert", "type": "notify", "position": {"x": 750, "y": 0},
	 "data": {"label": "Alert", "channel": "metric_alerts", "payload": "{{stats}}"}},
	{"id": "normal", "type": "set-variable", "position": {"x": 750, "y": 200},
	 "data": {"label": "Within range", "name": "status", "value": "normal"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 100},
	 "data": {"label": "Verdict", "value": {"anomaly": "{{check.result}}", "stats": "{{stats}}"}}}
 ]$n$,
 't>stats stats>check check:true>alert check:false>normal alert>result normal>result'),

-- ---------------------------------------------------------------- content generation
(5, 'Content approval workflow', 'content-generation', 'beginner', true, true, 'Nothing goes live unreviewed',
 '["content", "approval", "publishing", "starter-kit"]',
 'Prepares a draft (payload {title, body, author}: slug, word count, reading time, excerpt) and asks an '
 'editor to approve it (human-approval with the prepared draft as preview, expires after 7 days). Approved '
 'drafts are announced on NOTIFY channel content_published; rejected ones go back with the editor''s comment.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Draft submitted", "triggerType": "manual"}},
	{"id": "prepare", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Prepare draft", "language": "sql",
	          "expression": "jsonb_build_object('title', input->>'title', 'author', input->>'author', 'slug', btrim(regexp_replace(lower(input->>'title'), '[^a-z0-9]+', '-', 'g'), '-'), 'words', coalesce(array_length(regexp_split_to_array(nullif(btrim(input->>'body'), ''), '\\s+'), 1), 0), 'readingMinutes', greatest(1, ceil(coalesce(array_length(regexp_split_to_array(nullif(btrim(input->>'body'), ''), '\\s+'), 1), 0) / 200.0)::int), 'excerpt', left(input->>'body', 280))"}},
	{"id": "review", "type": "human-approval", "position": {"x": 500, "y": 100},
	 "data": {"label": "Editorial review", "title": "Publish \"{{prepare.title}}\"?",
	          "message": "{{prepare.words}} words by {{prepare.author}} ({{prepare.readingMinutes}} min read).",
	          "previewData": "{{prepare}}", "expiresInMs": 604800000, "onExpire": "reject"}},
	{"id": "publish", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Mark published", "name": "status", "value": "published"}},
	{"id": "revise", "type": "set-variable", "position": {"x": 750, "y": 200},
	 "data": {"label": "Request changes", "name": "status", "value": "changes-requested"}},
	{"id": "announce", "type": "notify", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Announce", "channel": "content_published",
	          "payload": {"slug": "{{prepare.slug}}", "title": "{{prepare.title}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 100},
	 "data": {"label": "Outcome", "value": {"slug": "{{prepare.slug}}", "title": "{{prepare.title}}",
	          "status": "{{variables.status}}", "reviewer": "{{review.approvedBy}}", "comment": "{{review.comment}}"}}}
 ]$n$,
 't>prepare prepare>review review:approved>publish review:rejected>revise publish>announce '
 'announce>result revise>result'),

(6, 'Newsletter digest builder', 'content-generation', 'intermediate', false, false, 'A weekly issue in one click',
 '["content", "newsletter", "markdown"]',
 'Turns the articles published since a date (payload {issue, since: "YYYY-MM-DD", articles: [{title, url, '
 'summary, publishedAt}]}) into a Markdown digest: one line per article, and a subject line with the count.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Build the issue", "triggerType": "manual"}},
	{"id": "recent", "type": "filter", "position": {"x": 250, "y": 100},
	 "data": {"label": "Since the last issue", "items": "{{trigger.payload.articles}}",
	          "conditions": [{"left": "{{item.publishedAt}}", "operator": "gte", "right": "{{trigger.payload.since}}"}]}},
	{"id": "each", "type": "loop-controller", "position": {"x": 500, "y": 100},
	 "data": {"label": "For each article", "items": "{{recent}}", "parallel": 1}},
	{"id": "entry", "type": "data-transform", "position": {"x": 750, "y": 0},
	 "data": {"label": "Markdown line", "language": "sql",
	          "expression": "to_jsonb(format('- [%s](%s): %s', input->>'title', input->>'url', coalesce(input->>'summary', '')))"}},
	{"id": "compose", "type": "data-transform", "position": {"x": 750, "y": 200},
	 "data": {"label": "Compose digest", "language": "sql",
	          "input": {"issue": "{{trigger.payload.issue}}", "lines": "{{each.results}}"},
	          "expression": "jsonb_build_object('subject', format('Newsletter #%s: %s new articles', input->>'issue', jsonb_array_length(input->'lines')), 'articles', jsonb_array_length(input->'lines'), 'markdown', coalesce((SELECT string_agg(l #>> '{}', E'\\n' ORDER BY o) FROM jsonb_array_elements(input->'lines') WITH ORDINALITY x(l, o)), ''))"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 200},
	 "data": {"label": "Digest", "value": "{{compose}}"}}
 ]$n$,
 't>recent recent>each each:body>entry each:done>compose compose>result'),

-- ---------------------------------------------------------------- automation
(7, 'Webhook to table', 'automation', 'beginner', false, false, 'Every event stored, queryable in SQL',
 '["automation", "webhook", "database"]',
 'Stores every webhook delivery (payload {source, event or type, ...}) as a row of your table '
 'webhook_events. Create it first: CREATE TABLE webhook_events (id bigserial PRIMARY KEY, source text NOT '
 'NULL, event_type text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now()); '
 'grant INSERT on it and USAGE on its sequence to the workflow''s run_as role, then publish the workflow '
 'for its webhook URL.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Webhook received", "triggerType": "webhook"}},
	{"id": "normalize", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Normalise", "language": "sql",
	          "expression": "jsonb_build_object('source', coalesce(input->>'source', 'unknown'), 'eventType', coalesce(input->>'event', input->>'type', 'unknown'), 'payload', input)"}},
	{"id": "store", "type": "database-query", "position": {"x": 500, "y": 100},
	 "data": {"label": "Insert row", "readOnly": false, "maxRows": 1,
	          "params": ["{{normalize.source}}", "{{normalize.eventType}}", "{{normalize.payload}}"],
	          "query": "INSERT INTO webhook_events (source, event_type, payload) VALUES ($1, $2, $3::jsonb) RETURNING id, received_at"}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
	 "data": {"label": "Stored", "value": {"id": "{{store.rows.0.id}}", "source": "{{normalize.source}}",
	          "eventType": "{{normalize.eventType}}"}}}
 ]$n$,
 't>normalize normalize>store store>result'),

(8, 'Endpoint health check', 'automation', 'intermediate', false, false, 'Know about downtime first',
 '["automation", "monitoring", "http", "schedule"]',
 'Calls an HTTP endpoint (payload {url}; retried once) and reports up (status below 400), down (any other '
 'status) or unreachable (no answer), alerting on NOTIFY channel health_alerts unless it is up. Schedule it '
 'with flowent.schedule, e.g. every five minutes. Private addresses need flowent.http_allow_hosts.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "Every few minutes", "triggerType": "schedule"}},
	{"id": "probe", "type": "http-request", "position": {"x": 250, "y": 150},
	 "data": {"label": "Call endpoint", "method": "GET", "url": "{{trigger.payload.url}}", "timeoutMs": 10000,
	          "acceptStatus": ["1xx", "2xx", "3xx", "4xx", "5xx"], "retry": {"maxAttempts": 2, "backoffMs": 500},
	          "onError": "branch"}},
	{"id": "healthy", "type": "condition", "position": {"x": 500, "y": 50},
	 "data": {"label": "Status below 400?", "conditions": [{"left": "{{probe.status}}", "operator": "lt", "right": 400}]}},
	{"id": "up", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Up", "name": "health", "value": "up"}},
	{"id": "down", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Down", "name": "health", "value": "down"}},
	{"id": "unreachable", "type": "set-variable", "position": {"x": 750, "y": 300},
	 "data": {"label": "Unreachable", "name": "health", "value": "unreachable"}},
	{"id": "alert", "type": "notify", "position": {"x": 1000, "y": 225},
	 "data": {"label": "Alert", "channel": "health_alerts",
	          "payload": {"url": "{{trigger.payload.url}}", "health": "{{variables.health}}", "status": "{{probe.status | null}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Health", "value": {"url": "{{trigger.payload.url}}", "health": "{{variables.health}}",
	          "status": "{{probe.status | null}}"}}}
 ]$n$,
 't>probe probe>healthy probe:error>unreachable healthy:true>up healthy:false>down down>alert '
 'unreachable>alert up>result alert>result'),

(9, 'Wait for payment, then fulfil', 'automation', 'intermediate', false, false, 'Orders ship the moment they are paid',
 '["automation", "orders", "signal"]',
 'Holds an order (payload {orderId, total}) until the payment signal arrives: flowent.resume(executionId, '
 '{"amount": ..., "reference": ...}) within a day, else the run fails with TIMEOUT. A payment that covers '
 'the total is sent to fulfilment on NOTIFY channel fulfilment; one that does not fails the run with code '
 'PAYMENT_MISMATCH.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Order placed", "triggerType": "webhook"}},
	{"id": "payment", "type": "wait", "position": {"x": 250, "y": 100},
	 "data": {"label": "Wait for payment", "signal": "payment-received", "timeoutMs": 86400000}},
	{"id": "covered", "type": "condition", "position": {"x": 500, "y": 100},
	 "data": {"label": "Covers the total?",
	          "conditions": [{"left": "{{payment.amount}}", "operator": "gte", "right": "{{trigger.payload.total}}"}]}},
	{"id": "fulfil", "type": "notify", "position": {"x": 750, "y": 0},
	 "data": {"label": "Send to fulfilment", "channel": "fulfilment",
	          "payload": {"orderId": "{{trigger.payload.orderId}}", "reference": "{{payment.reference | null}}"}}},
	{"id": "mismatch", "type": "stop-error", "position": {"x": 750, "y": 200},
	 "data": {"label": "Payment mismatch", "code": "PAYMENT_MISMATCH",
	          "message": "payment of {{payment.amount}} does not cover the order total {{trigger.payload.total}}"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Fulfilled", "value": {"orderId": "{{trigger.payload.orderId}}", "status": "fulfilled",
	          "paid": "{{payment.amount}}", "reference": "{{payment.reference | null}}"}}}
 ]$n$,
 't>payment payment>covered covered:true>fulfil covered:false>mismatch fulfil>result'),

-- ---------------------------------------------------------------- research
(10, 'Research source collector', 'research', 'advanced', false, true, 'Hours of searching in one run',
 '["research", "http", "search", "loop"]',
 'Asks each search source for a topic (payload {topic, maxResults (default 10), sources: [{name, url}]}: '
 'GET <url>?q=<topic>&limit=<maxResults>, four at a time, answers {results: [...]}) and collects the '
 'results; a source that fails is reported, not fatal. Private addresses need flowent.http_allow_hosts.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Research topic", "triggerType": "manual"}},
	{"id": "each", "type": "loop-controller", "position": {"x": 250, "y": 100},
	 "data": {"label": "For each source", "items": "{{trigger.payload.sources}}", "parallel": 4}},
	{"id": "fetch", "type": "http-request", "position": {"x": 500, "y": 0},
	 "data": {"label": "Search source", "method": "GET", "url": "{{loop.item.url}}",
	          "query": {"q": "{{trigger.payload.topic}}", "limit": "{{trigger.payload.maxResults | 10}}"},
	          "headers": {"Accept": "application/json"}, "timeoutMs": 15000, "onError": "continue"}},
	{"id": "pick", "type": "data-transform", "position": {"x": 750, "y": 0},
	 "data": {"label": "Keep the results", "language": "sql", "input": {"source": "{{loop.item}}", "response": "{{fetch}}"},
	          "expression": "jsonb_build_object('source', input->'source'->>'name', 'ok', coalesce((input->'response'->>'status')::int BETWEEN 200 AND 299, false), 'status', input->'response'->'status', 'error', input->'response'->'error'->>'message', 'results', CASE WHEN jsonb_typeof(input->'response'->'body'->'results') = 'array' THEN (SELECT jsonb_agg(r || jsonb_build_object('source', input->'source'->>'name')) FROM jsonb_array_elements(input->'response'->'body'->'results') r) ELSE '[]' END)"}},
	{"id": "collect", "type": "data-transform", "position": {"x": 500, "y": 200},
	 "data": {"label": "Collect", "language": "sql", "input": "{{each.results}}",
	          "expression": "jsonb_build_object('sources', jsonb_array_length(input), 'failed', (SELECT coalesce(jsonb_agg(s->'source'), '[]') FROM jsonb_array_elements(input) s WHERE NOT (s->>'ok')::boolean), 'results', (SELECT coalesce(jsonb_agg(r), '[]') FROM jsonb_array_elements(input) s, jsonb_array_elements(s->'results') r))"}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 200},
	 "data": {"label": "Findings", "value": {"topic": "{{trigger.payload.topic}}", "findings": "{{collect}}"}}}
 ]$n$,
 't>each each:body>fetch fetch>pick each:done>collect collect>result'),

(11, 'Research source ranking', 'research', 'beginner', false, false, 'Read the best sources first',
 '["research", "ranking", "literature"]',
 'Scores candidate sources (payload {minScore (default 50), referenceYear (default this year), sources: '
 '[{title, url, year, citations, peerReviewed}]}): peer review 40, citations up to 30, an .edu/.gov/.org '
 'site 15, recency up to 15. Outputs all sources ranked and the shortlist at or above minScore.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Candidate sources", "triggerType": "manual"}},
	{"id": "score", "type": "data-transform", "position": {"x": 250, "y": 100},
	 "data": {"label": "Score sources", "language": "sql",
	          "expression": "(SELECT coalesce(jsonb_agg(x.s || jsonb_build_object('score', x.sc) ORDER BY x.sc DESC, x.s->>'title'), '[]') FROM (SELECT s, least(100, CASE WHEN (s->>'peerReviewed')::boolean THEN 40 ELSE 0 END + least(30, coalesce((s->>'citations')::int, 0) / 10) + CASE WHEN s->>'url' ~* '^https?://[^/]+\\.(edu|gov|org)(/|$)' THEN 15 ELSE 0 END + greatest(0, 15 - 3 * (coalesce((input->>'referenceYear')::int, extract(year FROM now())::int) - coalesce((s->>'year')::int, 0)))) AS sc FROM jsonb_array_elements(input->'sources') s) x)"}},
	{"id": "keep", "type": "filter", "position": {"x": 500, "y": 100},
	 "data": {"label": "Shortlist", "items": "{{score}}",
	          "conditions": [{"left": "{{item.score}}", "operator": "gte", "right": "{{trigger.payload.minScore | 50}}"}]}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
	 "data": {"label": "Ranking", "value": {"shortlist": "{{keep}}", "ranked": "{{score}}"}}}
 ]$n$,
 't>score score>keep keep>result'),

-- ---------------------------------------------------------------- sales
(12, 'Lead scoring', 'sales', 'beginner', true, true, 'Sales calls the right leads first',
 '["sales", "leads", "scoring", "starter-kit"]',
 'Scores a new lead from 0 to 100 (payload {lead: {email, companySize, title, budget, source}}): company '
 'size, seniority, budget, a business address and the lead source. Hot leads (70+) go to an account '
 'executive and are announced on NOTIFY channel sales_hot_leads, warm ones (40+) to nurturing, cold ones to '
 'the newsletter.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 150},
	 "data": {"label": "New lead", "triggerType": "webhook"}},
	{"id": "score", "type": "data-transform", "position": {"x": 250, "y": 150},
	 "data": {"label": "Score lead", "language": "sql", "input": "{{trigger.payload.lead}}",
	          "expression": "(SELECT jsonb_build_object('email', input->>'email', 'score', x.s, 'grade', CASE WHEN x.s >= 70 THEN 'hot' WHEN x.s >= 40 THEN 'warm' ELSE 'cold' END) FROM (SELECT greatest(0, least(100, CASE WHEN coalesce((input->>'companySize')::int, 0) >= 200 THEN 30 WHEN coalesce((input->>'companySize')::int, 0) >= 50 THEN 20 WHEN coalesce((input->>'companySize')::int, 0) >= 10 THEN 10 ELSE 0 END + CASE WHEN input->>'title' ~* '(chief|ceo|cto|cfo|vp|head|director)' THEN 30 WHEN input->>'title' ~* 'manager' THEN 15 ELSE 0 END + CASE WHEN coalesce((input->>'budget')::numeric, 0) >= 25000 THEN 25 WHEN coalesce((input->>'budget')::numeric, 0) >= 5000 THEN 10 ELSE 0 END + CASE WHEN input->>'email' ~* '@(gmail|yahoo|hotmail|outlook|gmx|web)\\.' THEN -10 ELSE 5 END + CASE input->>'source' WHEN 'referral' THEN 10 WHEN 'webinar' THEN 5 ELSE 0 END)) AS s) x)"}},
	{"id": "route", "type": "switch", "position": {"x": 500, "y": 150},
	 "data": {"label": "Route by grade", "value": "{{score.grade}}",
	          "cases": [{"id": "hot", "operator": "equals", "right": "hot"}, {"id": "warm", "operator": "equals", "right": "warm"}]}},
	{"id": "ae", "type": "set-variable", "position": {"x": 750, "y": 0},
	 "data": {"label": "Account executive", "variables": {"owner": "account-executive", "nextStep": "call within 24 hours"}}},
	{"id": "nurture", "type": "set-variable", "position": {"x": 750, "y": 150},
	 "data": {"label": "Nurture", "variables": {"owner": "sdr", "nextStep": "add to the nurture sequence"}}},
	{"id": "newsletter", "type": "set-variable", "position": {"x": 750, "y": 300},
	 "data": {"label": "Newsletter", "variables": {"owner": "marketing", "nextStep": "newsletter only"}}},
	{"id": "announce", "type": "notify", "position": {"x": 1000, "y": 0},
	 "data": {"label": "Announce hot lead", "channel": "sales_hot_leads",
	          "payload": {"email": "{{score.email}}", "score": "{{score.score}}"}}},
	{"id": "result", "type": "output", "position": {"x": 1250, "y": 150},
	 "data": {"label": "Scored lead", "value": {"email": "{{score.email}}", "score": "{{score.score}}", "grade": "{{score.grade}}",
	          "owner": "{{variables.owner}}", "nextStep": "{{variables.nextStep}}"}}}
 ]$n$,
 't>score score>route route:hot>ae route:warm>nurture route:default>newsletter ae>announce '
 'announce>result nurture>result newsletter>result'),

(13, 'Follow-up reminder', 'sales', 'beginner', false, false, 'No deal goes cold by accident',
 '["sales", "reminder", "delay"]',
 'Waits (payload {dealId, contact, owner, followUpInMs (default 3 days)}), then reminds the deal owner on '
 'NOTIFY channel sales_reminders to follow up with the contact.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Meeting logged", "triggerType": "manual"}},
	{"id": "later", "type": "delay", "position": {"x": 250, "y": 100},
	 "data": {"label": "Wait before follow-up", "durationMs": "{{trigger.payload.followUpInMs | 259200000}}"}},
	{"id": "remind", "type": "notify", "position": {"x": 500, "y": 100},
	 "data": {"label": "Remind owner", "channel": "sales_reminders",
	          "payload": {"dealId": "{{trigger.payload.dealId}}", "owner": "{{trigger.payload.owner}}",
	                      "message": "Follow up with {{trigger.payload.contact}} on deal {{trigger.payload.dealId}}"}}},
	{"id": "result", "type": "output", "position": {"x": 750, "y": 100},
	 "data": {"label": "Reminder sent", "value": {"dealId": "{{trigger.payload.dealId}}", "remindedAt": "{{later.resumedAt}}",
	          "reminder": "{{remind}}"}}}
 ]$n$,
 't>later later>remind remind>result'),

-- ---------------------------------------------------------------- marketing
(14, 'Campaign UTM builder', 'marketing', 'beginner', false, false, 'Consistent tracking links every time',
 '["marketing", "utm", "campaigns", "loop"]',
 'Builds one tracking link per channel (payload {baseUrl, campaign, content?, channels: [{source, '
 'medium}]}): utm_source, utm_medium, utm_campaign and utm_content, lower-cased and URL-safe, appended to '
 'the base URL.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Campaign brief", "triggerType": "manual"}},
	{"id": "each", "type": "loop-controller", "position": {"x": 250, "y": 100},
	 "data": {"label": "For each channel", "items": "{{trigger.payload.channels}}", "parallel": 1}},
	{"id": "link", "type": "data-transform", "position": {"x": 500, "y": 0},
	 "data": {"label": "Build link", "language": "sql",
	          "input": {"base": "{{trigger.payload.baseUrl}}", "campaign": "{{trigger.payload.campaign}}",
	                    "content": "{{trigger.payload.content | null}}", "channel": "{{loop.item}}"},
	          "expression": "(SELECT jsonb_build_object('source', input->'channel'->>'source', 'medium', input->'channel'->>'medium', 'url', (input->>'base') || CASE WHEN strpos(input->>'base', '?') > 0 THEN '&' ELSE '?' END || string_agg(p.k || '=' || btrim(lower(regexp_replace(p.v, '[^A-Za-z0-9._~]+', '-', 'g')), '-'), '&' ORDER BY p.o)) FROM (VALUES (1, 'utm_source', input->'channel'->>'source'), (2, 'utm_medium', input->'channel'->>'medium'), (3, 'utm_campaign', input->>'campaign'), (4, 'utm_content', input->>'content')) p(o, k, v) WHERE p.v IS NOT NULL)"}},
	{"id": "result", "type": "output", "position": {"x": 500, "y": 200},
	 "data": {"label": "Links", "value": {"campaign": "{{trigger.payload.campaign}}", "links": "{{each.results}}",
	          "count": "{{each.count}}"}}}
 ]$n$,
 't>each each:body>link each:done>result'),

(15, 'Audience segmentation', 'marketing', 'intermediate', false, false, 'The right message for every segment',
 '["marketing", "segmentation", "email"]',
 'Splits the contacts who opted in (payload {contacts: [{email, optedIn, lastOpenDays, purchases}]}) into '
 'loyal (3+ purchases), engaged (opened within 30 days), cooling (within 90) and dormant segments, and '
 'publishes the segment sizes on NOTIFY channel audience_segments.',
 $n$[
	{"id": "t", "type": "trigger", "position": {"x": 0, "y": 100},
	 "data": {"label": "Contact export", "triggerType": "manual"}},
	{"id": "consented", "type": "filter", "position": {"x": 250, "y": 100},
	 "data": {"label": "Opted in", "items": "{{trigger.payload.contacts}}",
	          "conditions": [{"left": "{{item.optedIn}}", "operator": "equals", "right": true}]}},
	{"id": "segment", "type": "data-transform", "position": {"x": 500, "y": 100},
	 "data": {"label": "Segment", "language": "sql",
	          "expression": "(SELECT jsonb_build_object('contacts', jsonb_array_length(input), 'counts', coalesce(jsonb_object_agg(g.seg, jsonb_array_length(g.emails)), '{}'), 'segments', coalesce(jsonb_object_agg(g.seg, g.emails), '{}')) FROM (SELECT x.seg, jsonb_agg(x.c->>'email' ORDER BY x.c->>'email') AS emails FROM (SELECT c, CASE WHEN coalesce((c->>'purchases')::int, 0) >= 3 THEN 'loyal' WHEN coalesce((c->>'lastOpenDays')::int, 100000) <= 30 THEN 'engaged' WHEN coalesce((c->>'lastOpenDays')::int, 100000) <= 90 THEN 'cooling' ELSE 'dormant' END AS seg FROM jsonb_array_elements(input) c) x GROUP BY x.seg) g)"}},
	{"id": "publish", "type": "notify", "position": {"x": 750, "y": 100},
	 "data": {"label": "Publish sizes", "channel": "audience_segments", "payload": "{{segment.counts}}"}},
	{"id": "result", "type": "output", "position": {"x": 1000, "y": 100},
	 "data": {"label": "Segments", "value": "{{segment}}"}}
 ]$n$,
 't>consented consented>segment segment>publish publish>result')
), shipped AS (
	INSERT INTO flowent.workflows AS w (id, name, description, nodes, edges, status, visibility, is_template,
		template_category, tags, roi_badge, complexity, is_featured, starter_kit, user_id, version,
		created_at, updated_at)
	SELECT format('f10e0000-7e00-4000-8000-%s', lpad(t.n::text, 12, '0'))::uuid, t.name, t.description,
		t.nodes::jsonb, (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', 'e-' || m[1] || '-' || m[3],
				'source', m[1], 'sourceHandle', m[2], 'target', m[3])) ORDER BY x.o)
			FROM regexp_split_to_table(t.edges, '\s+') WITH ORDINALITY AS x(e, o),
				regexp_match(x.e, '^([^:>]+)(?::([^>]+))?>(.+)$') AS m),
		'active', 'public', true, t.category::flowent.template_category,
		t.tags::jsonb, t.roi_badge, t.complexity::flowent.template_complexity, t.is_featured, t.starter_kit,
		'flowent', 1, '2026-12-01 00:00:00+00', '2026-12-01 00:00:00+00'
	FROM t
	RETURNING w.id, w.name, w.nodes, w.edges
)
INSERT INTO flowent.workflow_versions (workflow_id, version, name, nodes, edges, message, created_by, created_at)
SELECT s.id, 1, s.name, s.nodes, s.edges, 'shipped with flowent 0.5', 'flowent', '2026-12-01 00:00:00+00'
FROM shipped s;
