/*
 * api.c
 *	  SQL-callable entry points: validate, run, approve, resume, cancel, rerun.
 *
 * These are SECURITY INVOKER: what the caller may see is decided by
 * row-level security on the reads below; the engine's own bookkeeping
 * writes go through store.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "pg/context.h"
#include "pg/engine.h"
#include "pg/jsonb_util.h"
#include "worker/worker.h"

PG_FUNCTION_INFO_V1(flowent_validate);
PG_FUNCTION_INFO_V1(flowent_run);
PG_FUNCTION_INFO_V1(flowent_approve);
PG_FUNCTION_INFO_V1(flowent_resume);
PG_FUNCTION_INFO_V1(flowent_cancel);
PG_FUNCTION_INFO_V1(flowent_rerun);
PG_FUNCTION_INFO_V1(flowent_execute);
PG_FUNCTION_INFO_V1(flowent_run_node);

static MemoryContext run_cxt = NULL;
static int	run_depth = 0;

/*
 * Memory for synchronous runs, kept between calls: its first block stays
 * mapped when reset, so a run does not fault in fresh pages every time (a
 * measurable share of a 1,000-node run).  Nested runs (flowent.run from a
 * custom node) use their caller's context instead.
 */
static MemoryContext
run_context(void)
{
	if (run_cxt == NULL)
		run_cxt = AllocSetContextCreate(TopMemoryContext, "flowent run",
										4 * 1024 * 1024, 1024 * 1024, 8 * 1024 * 1024);
	return run_cxt;
}

/* Connect to SPI but keep allocating in the caller's memory context. */
static void
spi_begin(void)
{
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(caller);
}

static Jsonb *
arg_jsonb(FunctionCallInfo fcinfo, int i, const char *dflt)
{
	if (PG_ARGISNULL(i))
		return jsonb_from_cstring(dflt, strlen(dflt));
	return PG_GETARG_JSONB_P(i);
}

/* An option of the wrong JSON type is bad input, named with what it must be. */
static void
option_must_be(Jsonb *options, const char *key, enum jbvType type, const char *what)
{
	JsonbValue	v;

	if (!jb_get(options, key, &v) || v.type == jbvNull)
		return;
	if (type == jbvObject ? !jbv_is_object(&v) : type == jbvArray ? !jbv_is_array(&v) : v.type != type)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options.%s must be %s, got %s", key, what, jsonb_to_cstring(jbv_to_jsonb(&v)))));
}

/* The types of the run options (version and triggerType are read where used). */
static void
check_option_types(Jsonb *options)
{
	JsonbValue	v,
				el;

	option_must_be(options, "variables", jbvObject, "an object");
	option_must_be(options, "skipBudgetCheck", jbvBool, "true or false");
	option_must_be(options, "isTest", jbvBool, "true or false");
	option_must_be(options, "preflight", jbvBool, "true or false");
	option_must_be(options, "mode", jbvString, "\"sync\" or \"async\"");
	option_must_be(options, "triggerType", jbvString, "manual, schedule or webhook");
	option_must_be(options, "breakpoints", jbvArray, "an array of node ids");
	option_must_be(options, "maxCostUsd", jbvNumeric, "a number of USD");
	option_must_be(options, "maxTokens", jbvNumeric, "a whole number of tokens");
	if (jb_get(options, "maxCostUsd", &v) && v.type == jbvNumeric &&
		DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(v.val.numeric),
										 NumericGetDatum(int64_to_numeric(0)))))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options.maxCostUsd must not be negative, got %s", jsonb_to_cstring(jbv_to_jsonb(&v)))));
	if (jb_get(options, "maxTokens", &v) && v.type == jbvNumeric &&
		(DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(v.val.numeric),
										  NumericGetDatum(int64_to_numeric(0)))) ||
		 !DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(v.val.numeric),
										   DirectFunctionCall2(numeric_trunc, NumericGetDatum(v.val.numeric),
															   Int32GetDatum(0))))))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options.maxTokens must be a whole number of tokens, not negative, got %s",
							   jsonb_to_cstring(jbv_to_jsonb(&v)))));
	if (jb_get(options, "skipBudgetCheck", &v) && v.type == jbvBool && v.val.boolean && !fl_is_budget_admin())
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("options.skipBudgetCheck is for members of flowent_budget_admin; user \"%s\" is not one",
							   fl_current_user_id())));
	if (jb_get(options, "breakpoints", &v) && jbv_is_array(&v))
		for (int i = 0; jbv_get_index(&v, i, &el); i++)
			if (el.type != jbvString)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("options.breakpoints[%d] must be a node id (a string), got %s",
									   i, jsonb_to_cstring(jbv_to_jsonb(&el)))));
}

/* options: an object with known keys only. */
static void
check_options(Jsonb *options, const char *const *allowed)
{
	JsonbValue	o;
	JsonbIterator *it;
	JsonbValue	k;
	JsonbIteratorToken tok;

	jbv_from_jsonb(options, &o);
	if (!jbv_is_object(&o))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options must be a JSON object, got %s", jbv_type_name(&o))));
	it = JsonbIteratorInit(o.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;
		bool		ok = false;

		if (tok != WJB_KEY)
			continue;
		key = jbv_cstring(&k);
		for (int i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], key) == 0)
				ok = true;
		if (!ok)
		{
			StringInfoData known;

			initStringInfo(&known);
			for (int i = 0; allowed[i]; i++)
				appendStringInfo(&known, "%s%s", i ? ", " : "", allowed[i]);
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("unknown option \"%s\"", key),
							errhint("Known options: %s.", known.data)));
		}
	}
	check_option_types(options);
}

static const char *const run_options[] = {
	"variables", "skipBudgetCheck", "maxCostUsd", "maxTokens", "isTest", "version", "breakpoints", "mode",
	"triggerType", "preflight", NULL
};

/*
 * options.preflight: refuse a run whose estimate (flowent.estimate) is over
 * its caps or the user's remaining budgets before it starts.
 */
static void
preflight(pg_uuid_t *id, Jsonb *payload, Jsonb *options)
{
	Oid			types[3] = {UUIDOID, JSONBOID, JSONBOID};
	Datum		a[3];

	if (!jb_get_bool(options, "preflight", false))
		return;
	a[0] = UUIDPGetDatum(id);
	a[1] = JsonbPGetDatum(payload);
	a[2] = JsonbPGetDatum(options);
	if (fl_spi_args("SELECT flowent._preflight($1, $2, $3)", 3, types, a, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check the run's estimate");
}

/* The payload must fit flowent.max_payload_bytes. */
static void
check_payload(Jsonb *payload)
{
	if ((int64) VARSIZE(payload) > fl_max_payload_bytes)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("payload is %d bytes; the limit is %d (flowent.max_payload_bytes)",
							   (int) VARSIZE(payload), fl_max_payload_bytes)));
}

/* options.mode of flowent.run: it runs synchronously. */
static void
check_sync_mode(Jsonb *options)
{
	char	   *mode = jb_get_cstring(options, "mode");

	if (mode && strcmp(mode, "sync") != 0 && strcmp(mode, "async") != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options.mode must be \"sync\" or \"async\", got \"%s\"", mode)));
	if (mode && strcmp(mode, "async") == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("flowent.run is synchronous: options.mode \"async\" is for flowent.execute"),
						errhint("Call flowent.execute(workflow_id, payload, options) to run it in the background.")));
}

/* options.version, or 0 for "latest" (or the published one for schedules and webhooks) */
static int
option_version(Jsonb *options)
{
	JsonbValue	v;
	int			version = 0;

	if (jb_get(options, "version", &v) && v.type != jbvNull)
	{
		int64		x;

		if (!jbv_int_between(&v, 1, PG_INT32_MAX, &x))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("options.version must be an integer from 1 to %d, got %s",
								   PG_INT32_MAX, jsonb_to_cstring(jbv_to_jsonb(&v)))));
		version = (int) x;
	}
	return version;
}

static const char *
option_trigger_type(Jsonb *options)
{
	char	   *t = jb_get_cstring(options, "triggerType");

	if (t && strcmp(t, "manual") != 0 && strcmp(t, "schedule") != 0 && strcmp(t, "webhook") != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options.triggerType must be manual, schedule or webhook")));
	return t ? t : "manual";
}

Datum
flowent_validate(PG_FUNCTION_ARGS)
{
	Jsonb	   *nodes = arg_jsonb(fcinfo, 0, "[]");
	Jsonb	   *edges = arg_jsonb(fcinfo, 1, "[]");
	FlWorkflow *wf;
	Jsonb	   *res;

	spi_begin();
	wf = fl_workflow_build(nodes, edges, CurrentMemoryContext);
	res = fl_issues_to_jsonb(wf);
	SPI_finish();
	PG_RETURN_JSONB_P(res);
}

Datum
flowent_run(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;
	Jsonb	   *payload = arg_jsonb(fcinfo, 1, "{}");
	Jsonb	   *options = arg_jsonb(fcinfo, 2, "{}");
	FlWorkflow *wf;
	Jsonb	   *volatile res = NULL;
	int			version = 0;
	const char *trigger_type;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("workflow_id must not be null")));
	id = PG_GETARG_UUID_P(0);
	check_payload(payload);
	check_options(options, run_options);
	check_sync_mode(options);
	version = option_version(options);
	trigger_type = option_trigger_type(options);
	spi_begin();
	preflight(id, payload, options);
	PG_TRY();
	{
		/* a top-level run allocates in the kept context; nested ones in their caller's */
		bool		top = run_depth++ == 0;
		MemoryContext caller = CurrentMemoryContext;
		Jsonb	   *r;

		if (top)
			MemoryContextSwitchTo(run_context());
		wf = fl_workflow_load(id, version, false);
		fl_workflow_check_startable(wf);
		r = fl_run_workflow(wf, payload, options, trigger_type, NULL, NULL, NULL);
		MemoryContextSwitchTo(caller);
		res = r;
		if (top)
		{
			res = palloc(VARSIZE(r));
			memcpy(res, r, VARSIZE(r));
			MemoryContextReset(run_context());
		}
	}
	PG_FINALLY();
	{
		run_depth--;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_JSONB_P(res);
}

/*
 * flowent._run_node(node jsonb, payload jsonb): one node run on its own
 * (fl_run_node_alone).
 */
Datum
flowent_run_node(PG_FUNCTION_ARGS)
{
	Jsonb	   *node = arg_jsonb(fcinfo, 0, "null");
	Jsonb	   *payload = arg_jsonb(fcinfo, 1, "{}");
	Jsonb	   *out;

	if (!JB_ROOT_IS_OBJECT(node) || JB_ROOT_IS_SCALAR(node))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("node must be a node object {id, type, data}")));
	spi_begin();
	check_payload(payload);
	out = fl_run_node_alone(node, payload);
	SPI_finish();
	PG_RETURN_JSONB_P(out);
}

/* Is the execution visible to the caller (row-level security)? */
static void
check_execution_visible(const char *exec_id)
{
	Oid			types[1] = {UUIDOID};
	Datum		a[1];

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	if (fl_spi_args("SELECT 1 FROM flowent.workflow_executions WHERE id = $1",
							  1, types, a, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read executions");
	if (SPI_processed == 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
						errmsg("execution %s does not exist or is not visible", exec_id)));
}

/* An async continuation was handed to the workers. */
static Jsonb *
pending_result(const char *exec_id)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_str(&b, "executionId", exec_id);
	jb_kv_str(&b, "status", "pending");
	jb_key(&b, "output");
	jb_null(&b);
	jb_key(&b, "error");
	jb_null(&b);
	jb_key(&b, "waiting");
	jb_arr_begin(&b);
	jb_arr_end(&b);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* {success, executionId, status, resumedFromNodeId, output, error, waiting…} */
static Jsonb *
continue_result(Jsonb *result, const char *resumed_node, const char *approval_id)
{
	JB			b = {0};
	JsonbValue	o;
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;

	jb_obj_begin(&b);
	jb_kv_bool(&b, "success", true);
	jb_kv_str(&b, "resumedFromNodeId", resumed_node);
	if (approval_id)
		jb_kv_str(&b, "decidedApprovalId", approval_id);
	jbv_from_jsonb(result, &o);
	it = JsonbIteratorInit(o.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		jb_key(&b, jbv_cstring(&k));
		jb_val(&b, &v);
	}
	jb_obj_end(&b);
	return jb_finish(&b);
}

/*
 * A sync execution continues here, in the caller's transaction; an async one
 * is handed to the workers (woken when the caller commits).
 */
static Jsonb *
continue_or_queue(const char *exec_id, const char *node_id, Jsonb *data, const char *mode,
				  const char *approval_id)
{
	Jsonb	   *res;

	if (strcmp(mode, "sync") == 0)
		res = fl_continue_execution(exec_id, node_id, approval_id, data, approval_id != NULL, NULL);
	else
	{
		fl_queue_continue(exec_id, node_id, approval_id, data);
		fl_wake_at_commit();
		res = pending_result(exec_id);
	}
	return continue_result(res, node_id, approval_id);
}

Datum
flowent_approve(PG_FUNCTION_ARGS)
{
	char	   *id;
	bool		approved;
	char	   *comment = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *approved_by = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	Oid			types[1] = {UUIDOID};
	Datum		a[1];
	char	   *approval_id,
			   *exec_id,
			   *node_id,
			   *status,
			   *exec_mode,
			   *assignee,
			   *me;
	bool		is_editor;
	static SPIPlanPtr tree_plan = NULL;
	static SPIPlanPtr mode_plan = NULL;
	Jsonb	   *data,
			   *res;
	JB			b = {0};
	char	   *decided_at;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("execution_id and approved must not be null")));
	id = FL_UUID_STR(PG_GETARG_UUID_P(0));
	approved = PG_GETARG_BOOL(1);
	a[0] = PG_GETARG_DATUM(0);

	spi_begin();
	me = fl_current_user_id();
	/*
	 * An approval id, else an execution id with exactly one pending approval;
	 * read under row-level security: the assignee, the execution's user and
	 * the workflow's editors see it.
	 */
	if (fl_spi_args("SELECT a.id::text, a.execution_id::text, a.node_id, a.status::text, "
					"       a.assigned_user_id "
					"FROM flowent.workflow_approval_requests a WHERE a.id = $1",
					1, types, a, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read approvals");
	if (SPI_processed == 0)
	{
		check_execution_visible(id);
		if (fl_owner_query(&tree_plan,
						   "WITH RECURSIVE tree(id) AS ("
						   "  SELECT $1::uuid UNION ALL "
						   "  SELECT e.id FROM flowent.workflow_executions e JOIN tree t ON e.parent_execution_id = t.id) "
						   "SELECT a.id::text, a.execution_id::text, a.node_id, a.status::text, "
						   "       a.assigned_user_id "
						   "FROM flowent.workflow_approval_requests a "
						   "WHERE a.execution_id IN (SELECT id FROM tree) AND a.status = 'pending' "
						   "ORDER BY a.created_at", 1, types, a, NULL, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read approvals");
		if (SPI_processed != 1)
			ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							errmsg("execution %s has %d pending approvals; pass the approval id", id,
								   (int) SPI_processed)));
	}
	approval_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	exec_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	node_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	assignee = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5);
	{
		/* the execution's mode, and whether the acting user edits the workflow */
		Oid			t2[2] = {UUIDOID, TEXTOID};
		Datum		a2[2];

		a2[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
		a2[1] = CStringGetTextDatum(me);
		if (fl_owner_query(&mode_plan,
						   "SELECT e.mode, coalesce(flowent._can_edit(w.user_id, w.workspace_id, $2), false) "
						   "FROM flowent.workflow_executions e "
						   "LEFT JOIN flowent.workflows w ON w.id = e.workflow_id WHERE e.id = $1",
						   2, t2, a2, NULL, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read the execution of approval %s", approval_id);
		exec_mode = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		is_editor = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), "t") == 0;
	}
	if (strcmp(status, "pending") != 0)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("approval %s was already decided (%s)", approval_id, status)));
	if (assignee && strcmp(assignee, me) != 0 && !is_editor && !fl_is_admin())
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("approval %s is assigned to \"%s\"", approval_id, assignee)));
	/* the decision is recorded as the acting user's; only an admin names another */
	if (approved_by && strcmp(approved_by, me) != 0 && !fl_is_admin())
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("approved_by: only members of flowent_admin may record a decision as another user (\"%s\"); the acting user is \"%s\"",
							   approved_by, me)));

	/* record the decision */
	(void) fl_lock_execution_root(exec_id, true);
	{
		Oid			t2[4] = {UUIDOID, BOOLOID, TEXTOID, TEXTOID};
		Datum		a2[4];
		char		n2[4] = {' ', ' ', ' ', ' '};
		FlOwner		own;

		a2[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(approval_id));
		a2[1] = BoolGetDatum(approved);
		a2[2] = comment ? CStringGetTextDatum(comment) : (Datum) 0;
		n2[2] = comment ? ' ' : 'n';
		a2[3] = CStringGetTextDatum(approved_by ? approved_by : me);
		fl_owner_begin(&own);
		if (fl_spi_args("UPDATE flowent.workflow_approval_requests SET "
								  " status = CASE WHEN $2 THEN 'approved' ELSE 'rejected' END::flowent.approval_status, "
								  " resolved_by = $4, resolved_at = clock_timestamp(), comment = $3, "
								  " rejection_reason = CASE WHEN $2 THEN NULL ELSE $3 END "
								  "WHERE id = $1 AND status = 'pending'", 4, t2, a2, n2, false, 0) != SPI_OK_UPDATE ||
			SPI_processed != 1)
			ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							errmsg("approval %s was decided concurrently", approval_id)));
		fl_owner_end(&own);
	}
	decided_at = DatumGetCString(DirectFunctionCall1(timestamptz_out,
													 TimestampTzGetDatum(GetCurrentTimestamp())));
	jb_obj_begin(&b);
	jb_kv_bool(&b, "approved", approved);
	jb_kv_str(&b, "comment", comment);
	jb_kv_str(&b, "approvedBy", approved_by ? approved_by : me);
	jb_kv_str(&b, "decidedAt", decided_at);
	jb_obj_end(&b);
	data = jb_finish(&b);
	res = continue_or_queue(exec_id, node_id, data, exec_mode, approval_id);
	SPI_finish();
	PG_RETURN_JSONB_P(res);
}

Datum
flowent_resume(PG_FUNCTION_ARGS)
{
	char	   *id;
	Jsonb	   *data = arg_jsonb(fcinfo, 1, "{}");
	Oid			types[1] = {UUIDOID};
	Datum		a[1];
	char	   *exec_id,
			   *node_id,
			   *mode;
	Jsonb	   *res;
	FlOwner		own;
	int			ret;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("execution_id must not be null")));
	id = FL_UUID_STR(PG_GETARG_UUID_P(0));
	check_payload(data);
	a[0] = PG_GETARG_DATUM(0);
	spi_begin();
	check_execution_visible(id);
	fl_owner_begin(&own);
	ret = fl_spi_args(
								"WITH RECURSIVE tree(id, depth) AS ("
								"  SELECT $1::uuid, 0 UNION ALL "
								"  SELECT e.id, t.depth + 1 FROM flowent.workflow_executions e "
								"  JOIN tree t ON e.parent_execution_id = t.id) "
								"SELECT l.execution_id::text, l.node_id, e.mode "
								"FROM flowent.workflow_node_logs l JOIN tree t ON t.id = l.execution_id "
								"JOIN flowent.workflow_executions e ON e.id = l.execution_id "
								"WHERE l.status = 'waiting' AND e.status = 'suspended' "
								"  AND l.output->>'kind' IN ('delay', 'wait', 'breakpoint') "
								"ORDER BY t.depth, l.seq LIMIT 1", 1, types, a, NULL, false, 1);
	fl_owner_end(&own);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read node logs");
	if (SPI_processed == 0)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("execution %s has no node waiting on a delay, wait or breakpoint", id),
						errhint("Approvals are decided with flowent.approve().")));
	exec_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	node_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	mode = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	{
		Oid			t2[2] = {UUIDOID, TEXTOID};
		Datum		a2[2];

		a2[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
		a2[1] = CStringGetTextDatum(node_id);
		(void) fl_lock_execution_root(exec_id, true);
		fl_owner_begin(&own);
		fl_spi_args("DELETE FROM flowent.timers WHERE execution_id = $1 AND node_id = $2",
							  2, t2, a2, NULL, false, 0);
		fl_owner_end(&own);
	}
	res = continue_or_queue(exec_id, node_id, data, mode, NULL);
	SPI_finish();
	PG_RETURN_JSONB_P(res);
}

Datum
flowent_cancel(PG_FUNCTION_ARGS)
{
	char	   *id;
	char	   *reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			types[1] = {UUIDOID};
	Datum		a[1];
	char	   *previous = NULL;
	FlOwner		own;
	JB			b = {0};
	Jsonb	   *res;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("execution_id must not be null")));
	id = FL_UUID_STR(PG_GETARG_UUID_P(0));
	a[0] = PG_GETARG_DATUM(0);
	if (reason && strlen(reason) >= FL_CANCEL_REASON_MAX)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("reason: at most %d bytes, got %zu", FL_CANCEL_REASON_MAX - 1, strlen(reason))));
	spi_begin();
	check_execution_visible(id);
	if (!fl_lock_execution_root(id, false))
	{
		bool		running_async;

		fl_owner_begin(&own);
		running_async = fl_worker_available() &&
			fl_spi_args("SELECT 1 FROM flowent.workflow_executions WHERE id = $1 AND mode = 'async' "
						"AND status IN ('pending', 'running', 'suspended')",
						1, types, a, NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1;
		fl_owner_end(&own);
		/* a worker is running it right now: it stops at its next node, or as it ends */
		if (running_async && fl_request_cancel(id, reason))
			previous = "running";
		else
		{
			/* a decision in progress, or a worker ending it: wait, then see how it stands */
			(void) fl_lock_execution_root(id, true);
		}
	}
	if (previous == NULL)
	{
		fl_owner_begin(&own);
		if (fl_spi_args("SELECT status::text FROM flowent.workflow_executions WHERE id = $1 FOR UPDATE",
						1, types, a, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read execution");
		fl_owner_end(&own);
		if (SPI_processed == 0)
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("execution %s does not exist", id)));
		previous = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (strcmp(previous, "pending") != 0 && strcmp(previous, "running") != 0 &&
			strcmp(previous, "suspended") != 0)
			ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							errmsg("execution %s already finished (%s)", id, previous)));
		(void) fl_store_cancel_tree(id, reason);
	}
	jb_obj_begin(&b);
	jb_kv_bool(&b, "success", true);
	jb_kv_str(&b, "executionId", id);
	jb_kv_str(&b, "status", "cancelled");
	jb_kv_str(&b, "previousStatus", previous);
	jb_key(&b, "error");
	jb_null(&b);
	jb_obj_end(&b);
	res = jb_finish(&b);
	SPI_finish();
	PG_RETURN_JSONB_P(res);
}

Datum
flowent_rerun(PG_FUNCTION_ARGS)
{
	char	   *id;
	char	   *from_node;
	Jsonb	   *options = arg_jsonb(fcinfo, 2, "{}");
	char	   *new_id;
	char	   *mode;
	bool		async;
	Datum		result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("execution_id and from_node must not be null")));
	id = FL_UUID_STR(PG_GETARG_UUID_P(0));
	from_node = text_to_cstring(PG_GETARG_TEXT_PP(1));
	check_options(options, run_options);
	mode = jb_get_cstring(options, "mode");
	if (mode && strcmp(mode, "sync") != 0 && strcmp(mode, "async") != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options.mode must be \"sync\" or \"async\", got \"%s\"", mode)));
	async = mode && strcmp(mode, "async") == 0;
	if (async && !fl_worker_available())
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("an asynchronous rerun needs the background worker, which is not running"),
						errhint("Add flowent to shared_preload_libraries and restart, or rerun with mode \"sync\".")));
	spi_begin();
	check_execution_visible(id);
	(void) fl_rerun_execution(id, from_node, options, &new_id, async);
	if (async)
		fl_wake_at_commit();
	result = DirectFunctionCall1(uuid_in, CStringGetDatum(new_id));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* Queue an execution for the background workers; returns its id at once. */
Datum
flowent_execute(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;
	Jsonb	   *payload = arg_jsonb(fcinfo, 1, "{}");
	Jsonb	   *options = arg_jsonb(fcinfo, 2, "{}");
	FlWorkflow *wf;
	char	   *mode;
	const char *trigger_type;
	int			version;
	char	   *exec_id;
	Datum		result;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("workflow_id must not be null")));
	id = PG_GETARG_UUID_P(0);
	check_payload(payload);
	check_options(options, run_options);
	mode = jb_get_cstring(options, "mode");
	if (mode && strcmp(mode, "async") != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("flowent.execute runs asynchronously; options.mode must be \"async\" if given, got \"%s\"", mode),
						errhint("Use flowent.run for a synchronous run.")));
	version = option_version(options);
	trigger_type = option_trigger_type(options);
	if (!fl_worker_available())
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("flowent.execute needs the background worker, which is not running"),
						errhint("Add flowent to shared_preload_libraries (e.g. 'pg_cron,flowent') and restart the server; flowent.run works without it.")));
	spi_begin();
	/* schedules and webhooks run the published version */
	wf = fl_workflow_load(id, version,
						  version == 0 && strcmp(trigger_type, "manual") != 0);
	fl_workflow_check_startable(wf);
	preflight(id, payload, options);
	exec_id = fl_queue_execution(wf, payload, options, trigger_type);
	fl_wake_at_commit();
	result = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
