-- AI nodes (release 0.8: the llm-agent, src/nodes/llm_agent.c).

-- List prices per 1,000 tokens in USD, shipped with the extension (not
-- dumped: each install or update brings its own). flowent.model_prices,
-- the database's own prices (dumped), comes first: a row there overrides
-- the list price of its model or prices a model the list does not know. A
-- model in neither costs 0, and the node says priced: false.
CREATE TABLE flowent.model_list_prices (
	model text PRIMARY KEY,
	prompt_per_1k numeric(12,6) NOT NULL,
	completion_per_1k numeric(12,6) NOT NULL,
	as_of date NOT NULL
);
INSERT INTO flowent.model_list_prices (model, prompt_per_1k, completion_per_1k, as_of) VALUES
	('gpt-4o', 0.0025, 0.01, '2025-06-01'),
	('gpt-4o-mini', 0.00015, 0.0006, '2025-06-01'),
	('gpt-4.1', 0.002, 0.008, '2025-06-01'),
	('gpt-4.1-mini', 0.0004, 0.0016, '2025-06-01'),
	('gpt-4.1-nano', 0.0001, 0.0004, '2025-06-01'),
	('o3', 0.002, 0.008, '2025-06-01'),
	('o3-mini', 0.0011, 0.0044, '2025-06-01'),
	('o4-mini', 0.0011, 0.0044, '2025-06-01'),
	('gpt-3.5-turbo', 0.0005, 0.0015, '2025-06-01'),
	('claude-3-5-sonnet', 0.003, 0.015, '2025-06-01'),
	('claude-3-5-haiku', 0.0008, 0.004, '2025-06-01'),
	('claude-3-7-sonnet', 0.003, 0.015, '2025-06-01'),
	('mistral-large-latest', 0.002, 0.006, '2025-06-01'),
	('mistral-small-latest', 0.0001, 0.0003, '2025-06-01');
GRANT SELECT ON flowent.model_list_prices TO PUBLIC;

-- The price a model's usage is charged at: the database's own, else the list's.
CREATE VIEW flowent.model_price WITH (security_invoker = true) AS
	SELECT p.model, p.prompt_per_1k, p.completion_per_1k, 'model_prices' AS source FROM flowent.model_prices p
	UNION ALL
	SELECT l.model, l.prompt_per_1k, l.completion_per_1k, 'list (' || l.as_of || ')' FROM flowent.model_list_prices l
	WHERE NOT EXISTS (SELECT 1 FROM flowent.model_prices p WHERE p.model = l.model);
GRANT SELECT ON flowent.model_price TO PUBLIC;
