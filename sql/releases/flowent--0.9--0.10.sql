-- Flowent 0.9 -> 0.10: the email node (SMTP and SMTPS through libcurl,
-- src/nodes/email.c), and condition's AI fallback fields in its schema
-- (model, credential, baseUrl: src/nodes/condition.c).
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.10'" to load this file. \quit

-- 04_node_types.sql: the email node (its schema: the fields every node has, and its own)
INSERT INTO flowent.node_types (type, category, label, description, handles, config_schema, cost_model, builtin, handler)
SELECT 'email', 'action', 'Email', 'Sends an email over SMTP or SMTPS: {messageId, accepted}.',
	'["out"]'::jsonb,
	jsonb_build_object('type', 'object', 'required', x.s -> 'required',
		'properties', ((t.config_schema -> 'properties') - 'triggerType') || (x.s -> 'properties')),
	'{"kind": "free"}'::jsonb, true, NULL
FROM flowent.node_types t, (SELECT $node${
	"required": ["server", "from", "to"],
	"properties": {
		"server": {"type": "string", "format": "uri",
			"description": "smtp://host:port (STARTTLS when offered) or smtps://host:port (TLS from the start)."},
		"credential": {"type": "string", "description": "Name of a credential {username, password} for the server's AUTH."},
		"from": {"type": "string", "description": "The sender: name@example.com or Name <name@example.com>."},
		"to": {"description": "A recipient or a list of recipients (addresses as for from)."},
		"cc": {"description": "Copy recipients: an address or a list."},
		"bcc": {"description": "Blind copy recipients: an address or a list (in the envelope only)."},
		"replyTo": {"type": "string", "description": "Where replies go."},
		"subject": {"type": "string", "description": "The subject (UTF-8; may hold {{…}})."},
		"text": {"type": "string", "description": "The plain-text body."},
		"html": {"type": "string", "description": "The HTML body (with text: multipart/alternative)."},
		"timeoutMs": {"type": "integer", "description": "Fail with TIMEOUT when sending takes longer; default flowent.http_timeout_ms (30000)."}}}$node$::jsonb AS s) x
WHERE t.type = 'trigger';

-- 04_node_types.sql: condition's fields for its AI fallback
UPDATE flowent.node_types SET config_schema = jsonb_set(config_schema, '{properties}',
	(config_schema -> 'properties') || $node${
		"model": {"type": "string", "description": "The model that decides for fallbackToAI (as llm-agent's)."},
		"credential": {"type": "string", "description": "Name of the credential with the model API's key (a string or {apiKey})."},
		"baseUrl": {"type": "string", "format": "uri",
			"description": "The OpenAI-style API base, before /chat/completions; default flowent.llm_base_url."}}$node$::jsonb)
WHERE type = 'condition';
