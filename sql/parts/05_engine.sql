-- Engine entry points, implemented in C (src/pg/api.c).

CREATE FUNCTION flowent.validate(nodes jsonb, edges jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'flowent_validate' LANGUAGE C STABLE;

CREATE FUNCTION flowent.run(workflow_id uuid, payload jsonb DEFAULT '{}', options jsonb DEFAULT '{}')
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_run' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.approve(execution_id uuid, approved boolean, comment text DEFAULT NULL,
								approved_by text DEFAULT NULL)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_approve' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.resume(execution_id uuid, data jsonb DEFAULT '{}')
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_resume' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.cancel(execution_id uuid, reason text DEFAULT NULL)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'flowent_cancel' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent.rerun(execution_id uuid, from_node text, options jsonb DEFAULT '{}')
	RETURNS uuid AS 'MODULE_PATHNAME', 'flowent_rerun' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent._registry_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'flowent_registry_changed' LANGUAGE C;

CREATE FUNCTION flowent.execute(workflow_id uuid, payload jsonb DEFAULT '{}', options jsonb DEFAULT '{}')
	RETURNS uuid AS 'MODULE_PATHNAME', 'flowent_execute' LANGUAGE C VOLATILE;

CREATE FUNCTION flowent._launcher_rescan() RETURNS boolean
	AS 'MODULE_PATHNAME', 'flowent_launcher_rescan' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION flowent._launcher_rescan() FROM PUBLIC;

-- the background workers start serving this database once it commits
SELECT flowent._launcher_rescan();
