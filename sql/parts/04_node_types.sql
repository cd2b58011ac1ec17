
-- ===========================================================================
-- Builtin node types (DESIGN §6, Appendix A): the registry rows the web
-- palette and config panel render from, and validate() reads required fields
-- from. config_schema is a JSON-Schema subset:
--   {"type": "object", "required": [...], "properties": {field: {"type",
--    "enum"?, "default"?, "description", "items"?, "properties"?, "format"?}}}
-- A property without "type" takes any JSON value. Any string value may hold
-- {{…}} templates, whatever the declared type. Every schema also lists the
-- fields every node accepts (label, retry, timeoutMs, onError, breakpoint);
-- a type's own definition of such a field wins (wait.timeoutMs).
-- ===========================================================================

WITH common(props) AS (VALUES ('{
	"label": {"type": "string", "description": "Name shown on the canvas and in logs."},
	"retry": {"type": "object", "description": "Retry a failed attempt: {maxAttempts, backoffMs}.",
		"properties": {
			"maxAttempts": {"type": "integer", "default": 1, "description": "Attempts in all, the first one included."},
			"backoffMs": {"type": "integer", "default": 1000, "description": "Milliseconds to wait before the next attempt."}}},
	"timeoutMs": {"type": "integer", "description": "Fail the node with TIMEOUT after this many milliseconds."},
	"onError": {"type": "string", "enum": ["stop", "continue", "branch"], "default": "stop",
		"description": "On failure: stop the execution, continue with output {error}, or follow the error handle."},
	"breakpoint": {"type": "boolean", "default": false,
		"description": "Pause before this node in test runs and runs given breakpoints."}
}'::jsonb)),
types(type, category, label, description, handles, schema) AS (VALUES
('trigger', 'control', 'Trigger', 'Starts the workflow; its output is the trigger payload.', '["out"]', '{
	"required": [],
	"properties": {
		"triggerType": {"type": "string", "enum": ["manual", "schedule", "webhook", "table"], "default": "manual",
			"description": "What starts the workflow: a manual run, a pg_cron schedule, a signed webhook or a row written in a watched table (flowent.on_change)."},
		"schema": {"type": "object",
			"description": "A JSON Schema of the payload; an llm-agent offering this workflow as a tool gives it to the model as the tool''s parameters."}}}'),

('output', 'control', 'Output', 'Sets the execution''s output: the value given, else the node''s input.', '[]', '{
	"required": [],
	"properties": {
		"value": {"description": "The output value (any JSON, may hold {{…}}); default: the node''s input."}}}'),

('set-variable', 'data', 'Set Variable', 'Sets workflow variables, readable later as {{variables.name}}.', '["out"]', '{
	"required": [],
	"properties": {
		"name": {"type": "string", "description": "Name of the variable to set (with value)."},
		"value": {"description": "Value of the variable name (any JSON)."},
		"variables": {"type": "object", "description": "Several variables at once: {name: value}."}}}'),

('data-transform', 'data', 'Data Transform', 'Computes a value from the input with a SQL expression or a jsonpath.', '["out"]', '{
	"required": ["expression"],
	"properties": {
		"language": {"type": "string", "enum": ["sql", "jsonpath"], "default": "sql",
			"description": "sql: one read-only SQL expression with jsonb columns input and state; jsonpath: a path over the input."},
		"expression": {"type": "string",
			"description": "The SQL expression (no {{…}}; use input/state) or the jsonpath; its jsonb value is the output."},
		"input": {"description": "Value to transform (any JSON, may hold {{…}}); default: the node''s input."}}}'),

('condition', 'control', 'Condition', 'Chooses the true or false branch from rules combined with AND/OR.', '["true", "false"]', '{
	"required": ["conditions"],
	"properties": {
		"conditions": {"type": "array", "items": {"type": "object"},
			"description": "Rules {left, operator, right} or nested groups {combinator, conditions}. Operators: equals, not_equals, gt, gte, lt, lte, contains, not_contains, starts_with, ends_with, matches, in, not_in, is_empty, is_not_empty, exists, not_exists."},
		"combinator": {"type": "string", "enum": ["and", "or"], "default": "and",
			"description": "How the rules combine: all (and) or any (or)."},
		"fallbackToAI": {"type": "boolean", "default": false,
			"description": "Let an AI model decide when a rule''s left side does not resolve."},
		"model": {"type": "string", "description": "The model that decides for fallbackToAI (as llm-agent''s)."},
		"credential": {"type": "string", "description": "Name of the credential with the model API''s key (a string or {apiKey})."},
		"baseUrl": {"type": "string", "format": "uri",
			"description": "The OpenAI-style API base, before /chat/completions; default flowent.llm_base_url."}}}'),

('switch', 'control', 'Switch', 'Follows the first case whose rule matches the value, else default.', '["default"]', '{
	"required": ["value", "cases"],
	"properties": {
		"value": {"description": "The value to compare (any JSON, usually {{…}})."},
		"cases": {"type": "array", "items": {"type": "object"},
			"description": "Cases [{id, operator (default equals), right}]; each id is an output handle."}}}'),

('merge', 'control', 'Merge', 'Waits for all live inputs and combines them.', '["out"]', '{
	"required": [],
	"properties": {
		"mode": {"type": "string", "enum": ["object", "array"], "default": "object",
			"description": "object: inputs keyed by node id; array: inputs in the order of the edges."}}}'),

('loop-controller', 'control', 'Loop', 'Runs the body branch once per item, then continues on done with the results.', '["body", "done"]', '{
	"required": ["items"],
	"properties": {
		"items": {"type": "array", "description": "The items to loop over ({{loop.item}}, {{loop.index}} in the body)."},
		"parallel": {"type": "integer", "default": 1, "description": "How many iterations may run at once."},
		"maxIterations": {"type": "integer", "description": "Fail with LIMIT_EXCEEDED when there are more items than this."}}}'),

('filter', 'data', 'Filter', 'Keeps the items that match the conditions.', '["out"]', '{
	"required": ["items", "conditions"],
	"properties": {
		"items": {"type": "array", "description": "The array to filter."},
		"conditions": {"type": "array", "items": {"type": "object"},
			"description": "Rules as in condition, evaluated per element with {{item…}}."},
		"combinator": {"type": "string", "enum": ["and", "or"], "default": "and",
			"description": "How the rules combine: all (and) or any (or)."}}}'),

('delay', 'control', 'Delay', 'Pauses the execution for a duration or until a time.', '["out"]', '{
	"required": [],
	"properties": {
		"durationMs": {"type": "integer", "description": "How long to wait, in milliseconds."},
		"until": {"type": "string", "format": "date-time", "description": "Wait until this time (ISO 8601 timestamp)."}}}'),

('wait', 'control', 'Wait for Signal', 'Suspends until flowent.resume() sends data; outputs that data.', '["out"]', '{
	"required": [],
	"properties": {
		"signal": {"type": "string", "description": "Name of the signal to wait for (optional)."},
		"timeoutMs": {"type": "integer", "description": "Deadline in milliseconds: afterwards the node fails with TIMEOUT."}}}'),

('human-approval', 'control', 'Human Approval', 'Suspends until a person approves or rejects.', '["approved", "rejected"]', '{
	"required": ["title"],
	"properties": {
		"title": {"type": "string", "description": "Title of the approval request."},
		"message": {"type": "string", "description": "What the approver is asked to decide."},
		"contextData": {"description": "Data shown to the approver as context (any JSON)."},
		"previewData": {"description": "Preview of what approval will do (any JSON)."},
		"assignedUserId": {"type": "string", "description": "User who may decide; empty: anyone who can see the workflow."},
		"expiresInMs": {"type": "integer", "description": "Expire after this many milliseconds."},
		"expiresAt": {"type": "string", "format": "date-time", "description": "Expire at this time (ISO 8601 timestamp)."},
		"onExpire": {"type": "string", "enum": ["reject", "fail"], "default": "reject",
			"description": "On expiry: take the rejected branch, or fail with APPROVAL_EXPIRED."}}}'),

('sub-workflow', 'control', 'Sub-workflow', 'Runs another workflow as a child execution and outputs its output.', '["out"]', '{
	"required": ["workflowId"],
	"properties": {
		"workflowId": {"type": "string", "format": "uuid", "description": "The workflow to run."},
		"payload": {"description": "Trigger payload of the child (any JSON, may hold {{…}})."}}}'),

('stop-error', 'control', 'Stop with Error', 'Fails the execution with a message and code.', '[]', '{
	"required": [],
	"properties": {
		"message": {"type": "string", "description": "Error message of the execution."},
		"code": {"type": "string", "default": "STOP_ERROR", "description": "Error code of the execution."}}}'),

('database-query', 'data', 'Database Query', 'Runs a parameterised SQL query as the workflow''s run_as role.', '["out"]', '{
	"required": ["query"],
	"properties": {
		"query": {"type": "string", "description": "SQL with $1, $2, … placeholders (no {{…}}: pass values in params)."},
		"params": {"type": "array", "description": "Values of $1, $2, … (may hold {{…}})."},
		"readOnly": {"type": "boolean", "default": true, "description": "Run in a read-only context."},
		"maxRows": {"type": "integer", "default": 1000, "description": "Return at most this many rows (truncated: true past it)."}}}'),

('notify', 'data', 'Notify', 'Sends a payload with pg_notify on a channel.', '["out"]', '{
	"required": ["channel"],
	"properties": {
		"channel": {"type": "string", "description": "NOTIFY channel (not flowent, no {{…}})."},
		"payload": {"description": "Payload to send (any JSON, may hold {{…}}); sent as JSON text."}}}'),

('http-request', 'action', 'HTTP Request', 'Calls an HTTP API; outputs the response status, headers and body.', '["out"]', '{
	"required": ["url"],
	"properties": {
		"method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "GET",
			"description": "HTTP method."},
		"url": {"type": "string", "format": "uri",
			"description": "http or https URL. Private, loopback and link-local addresses are refused unless flowent.http_allow_hosts lists them (redirects are checked too)."},
		"headers": {"type": "object", "description": "Request headers {name: value}; a null value leaves the header out."},
		"query": {"type": "object",
			"description": "Query parameters {name: value}, URL-encoded and appended to the URL; an array value repeats the name, null leaves it out."},
		"body": {"description": "Request body: objects, arrays, numbers and booleans are sent as JSON (Content-Type application/json unless headers set it); a string is sent as it is (text/plain unless headers set it)."},
		"auth": {"type": "object", "description": "Authorization from a credential: {type: bearer or basic, credential: name}.",
			"properties": {
				"type": {"type": "string", "enum": ["bearer", "basic"],
					"description": "bearer: Authorization: Bearer <token>; basic: user and password, base64-encoded."},
				"credential": {"type": "string",
					"description": "Name of a credential (flowent.set_credential): bearer takes a string or {token}; basic takes {username, password} or \"user:password\"."}}},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the whole request (redirects included) takes longer; default flowent.http_timeout_ms (30000)."},
		"acceptStatus": {"type": "array", "items": {"type": ["integer", "string"]},
			"description": "Statuses that count as success, e.g. [200, 404] or [\"2xx\", \"3xx\"]; default 2xx. Any other status fails with HTTP_ERROR."}}}'),

('webhook', 'action', 'Webhook', 'POSTs a JSON payload to a URL, optionally signed with HMAC-SHA256.', '["out"]', '{
	"required": ["url"],
	"properties": {
		"url": {"type": "string", "format": "uri",
			"description": "http or https URL to POST to (same address policy as http-request)."},
		"payload": {"description": "JSON to send (any JSON, may hold {{…}}); default: the node''s input."},
		"secret": {"type": "string",
			"description": "Name of a credential to sign with: X-Flowent-Timestamp (unix seconds) and X-Flowent-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + \".\" + body)>."},
		"headers": {"type": "object", "description": "Extra request headers {name: value}."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the request takes longer; default flowent.http_timeout_ms (30000)."},
		"acceptStatus": {"type": "array", "items": {"type": ["integer", "string"]},
			"description": "Statuses that count as success, e.g. [200, 202] or [\"2xx\"]; default 2xx."}}}'),

('llm-agent', 'ai', 'LLM Agent', 'Asks an OpenAI-compatible chat-completions API; token usage becomes cost.', '["out"]', '{
	"required": ["model"],
	"properties": {
		"model": {"type": "string", "description": "The model, e.g. gpt-4o-mini (its price: flowent.model_price)."},
		"prompt": {"type": "string", "description": "The user message (may hold {{…}}); required unless messages is given."},
		"systemPrompt": {"type": "string", "description": "The system message, sent first."},
		"messages": {"type": "array", "items": {"type": "object"},
			"description": "A conversation from earlier nodes, [{role, content}], sent after the system message and before prompt."},
		"temperature": {"type": "number", "description": "Sampling temperature, as the API takes it."},
		"maxTokens": {"type": "integer", "description": "Most tokens the answer may have (max_tokens)."},
		"responseFormat": {"type": "string", "enum": ["text", "json"], "default": "text",
			"description": "json asks for a JSON object and outputs it parsed as json (AI_RESPONSE_INVALID when it is not)."},
		"credential": {"type": "string",
			"description": "Name of a credential with the API key: a string or {apiKey}; sent as a bearer token."},
		"baseUrl": {"type": "string", "format": "uri",
			"description": "The API up to before /chat/completions, e.g. https://api.openai.com/v1; default flowent.llm_base_url."},
		"tools": {"type": "array", "items": {"type": "object"},
			"description": "Workflows the model may call: [{workflowId, name?, description?, parameters?}]; each call runs the workflow with the arguments as its payload, and its output goes back to the model."},
		"maxSteps": {"type": "integer", "default": 5,
			"description": "Most model calls of one run of the node (with tools); the last is told to answer."},
		"retry": {"type": "object",
			"description": "Retry a failed attempt: {maxAttempts, backoffMs}. Without it a call that fails with AI_UNAVAILABLE or TIMEOUT is made 3 times in all, 1 s and 2 s apart (longer when Retry-After asks).",
			"properties": {
				"maxAttempts": {"type": "integer", "default": 3, "description": "Attempts in all, the first one included."},
				"backoffMs": {"type": "integer", "default": 1000, "description": "Milliseconds to wait before the next attempt (doubling)."}}},
		"stream": {"type": "boolean", "default": true,
			"description": "In asynchronous runs, ask for the answer as a stream and show its text as it is written (step:progress events); the output is the same."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when a call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('web-search', 'action', 'Web Search', 'Searches the web with Brave, DuckDuckGo or Google: [{title, url, snippet}].', '["out"]', '{
	"required": ["provider", "query"],
	"properties": {
		"provider": {"type": "string", "enum": ["brave", "duckduckgo", "google"],
			"description": "brave (Web Search API), duckduckgo (Instant Answer API, no key) or google (Custom Search JSON API)."},
		"query": {"type": "string", "description": "What to search for (may hold {{…}})."},
		"count": {"type": "integer", "default": 10, "description": "Most results, 1 to 50 (Google: 10)."},
		"credential": {"type": "string",
			"description": "Name of a credential: brave a string or {apiKey}; google {apiKey, cx}; duckduckgo none."},
		"baseUrl": {"type": "string", "format": "uri", "description": "The search endpoint; default the provider''s own."},
		"timeoutMs": {"type": "integer",
			"description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-create-contact', 'action', 'HubSpot: Create Contact', 'Creates a HubSpot contact (CRM v3); outputs HubSpot''s answer.', '["out"]', '{
	"required": ["credential", "properties"],
	"properties": {
		"properties": {"type": "object", "description": "The contact''s properties, e.g. {email, firstname, lastname} (may hold {{…}})."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-update-deal', 'action', 'HubSpot: Update Deal', 'Changes a HubSpot deal''s properties (CRM v3); outputs HubSpot''s answer.', '["out"]', '{
	"required": ["credential", "dealId", "properties"],
	"properties": {
		"dealId": {"type": ["string", "integer"], "description": "The deal''s id."},
		"properties": {"type": "object", "description": "The properties to set, e.g. {dealstage, amount}."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-add-note', 'action', 'HubSpot: Add Note', 'Adds a note to a HubSpot contact and/or deal (CRM v3); outputs HubSpot''s answer.', '["out"]', '{
	"required": ["credential", "body"],
	"properties": {
		"body": {"type": "string", "description": "The note''s text (hs_note_body)."},
		"contactId": {"type": ["string", "integer"], "description": "The contact to attach it to."},
		"dealId": {"type": ["string", "integer"], "description": "The deal to attach it to."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('hubspot-search-contacts', 'action', 'HubSpot: Search Contacts', 'Searches HubSpot contacts (CRM v3 search); outputs {total, results, paging}.', '["out"]', '{
	"required": ["credential"],
	"properties": {
		"filters": {"type": "array", "items": {"type": "object"},
			"description": "Filters, all to hold: [{propertyName, operator (EQ, CONTAINS_TOKEN, GT, …), value}]."},
		"properties": {"type": "array", "items": {"type": "string"}, "description": "The properties to return."},
		"limit": {"type": "integer", "default": 10, "description": "Results per page, 1 to 200."},
		"after": {"type": "string", "description": "The paging cursor of a previous answer (paging.next.after)."},
		"baseUrl": {"type": "string", "format": "uri", "default": "https://api.hubapi.com", "description": "The HubSpot API."},
		"credential": {"type": "string", "description": "Name of a credential with a private app''s token: a string, or {token} or {accessToken}."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when the call takes longer; default flowent.http_timeout_ms (30000)."}}}'),

('email', 'action', 'Email', 'Sends an email over SMTP or SMTPS: {messageId, accepted}.', '["out"]', '{
	"required": ["server", "from", "to"],
	"properties": {
		"server": {"type": "string", "format": "uri",
			"description": "smtp://host:port (STARTTLS when offered) or smtps://host:port (TLS from the start)."},
		"credential": {"type": "string", "description": "Name of a credential {username, password} for the server''s AUTH."},
		"from": {"type": "string", "description": "The sender: name@example.com or Name <name@example.com>."},
		"to": {"description": "A recipient or a list of recipients (addresses as for from)."},
		"cc": {"description": "Copy recipients: an address or a list."},
		"bcc": {"description": "Blind copy recipients: an address or a list (in the envelope only)."},
		"replyTo": {"type": "string", "description": "Where replies go."},
		"subject": {"type": "string", "description": "The subject (UTF-8; may hold {{…}})."},
		"text": {"type": "string", "description": "The plain-text body."},
		"html": {"type": "string", "description": "The HTML body (with text: multipart/alternative)."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when sending takes longer; default flowent.http_timeout_ms (30000)."}}}')
)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model,
	builtin, handler)
SELECT t.type, t.category, t.label, t.description, t.handles::jsonb,
	jsonb_build_object('type', 'object',
		'required', t.schema::jsonb -> 'required',
		'properties', common.props || (t.schema::jsonb -> 'properties')),
	CASE t.type WHEN 'llm-agent' THEN '{"kind": "tokens", "prices": "flowent.model_price"}'
		ELSE '{"kind": "free"}' END::jsonb, true, NULL
FROM types t, common;
