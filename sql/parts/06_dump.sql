
-- ===========================================================================
-- pg_dump keeps user data (Appendix B): every user table is an extension
-- configuration table, so its rows are dumped although the table itself is
-- created by CREATE EXTENSION. Builtin node types come from the extension
-- script, so only custom ones are dumped. Tables seeded by the extension
-- script must get a filter here that leaves the seeded rows out: the
-- templates of 10_templates.sql are the workflows (and versions) of the
-- system user "flowent", whom no one else may act as (_workflows_guard), so a
-- restore gets them from CREATE EXTENSION only, once. (Their download counts
-- start again at 0 in a restored database.)
-- ===========================================================================

SELECT pg_catalog.pg_extension_config_dump('flowent.workspaces', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workspace_members', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflows', 'WHERE user_id <> ''flowent''');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_versions',
	'WHERE workflow_id NOT IN (SELECT w.id FROM flowent.workflows w WHERE w.user_id = ''flowent'')');
-- History: the day partitions are tables of their own (pg_dump keeps them
-- and their rows, 15_partitions.sql); the default partitions are the
-- extension's.
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_executions_default', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_node_logs_default', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.workflow_approval_requests', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.credentials', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.budgets', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.model_prices', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.run_queue', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.timers', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.node_types', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('flowent.run_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('flowent.timers_id_seq', '');

-- Every backend's registry cache reloads when node_types changes
-- (flowent._registry_changed() is declared in 05_engine.sql).
CREATE TRIGGER node_types_registry_changed
	AFTER INSERT OR UPDATE OR DELETE ON flowent.node_types
	FOR EACH STATEMENT EXECUTE FUNCTION flowent._registry_changed();

-- API tokens (release 0.5): a restored database keeps its tokens. Webhook
-- deliveries are a replay cache of minutes, not data: not dumped.
SELECT pg_catalog.pg_extension_config_dump('flowent.api_tokens', '');
