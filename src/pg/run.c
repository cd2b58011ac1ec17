/*
 * run.c
 *	  Executions: start, finish and result; continuing a suspended one,
 *	  queueing for the workers, and rerun.
 *
 * Continuing a suspended execution (and rerun) replays the same
 * deterministic walk, reusing the outputs recorded in the node logs instead
 * of running those nodes again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/engine.h"
#include "pg/exec_internal.h"
#include "pg/jsonb_util.h"
#include "worker/worker.h"

/* ---- results ---- */

/* The API result of a run. */
Jsonb *
fl_result_object(FlExec *ex, const char *status, Jsonb *output)
{
	JB			b = {0};
	long		secs;
	int			usecs;
	ListCell   *lc;

	TimestampDifference(ex->started_at, GetCurrentTimestamp(), &secs, &usecs);
	jb_obj_begin(&b);
	jb_kv_str(&b, "executionId", ex->id_str);
	jb_kv_str(&b, "workflowId", ex->wf_id_str);
	jb_kv_str(&b, "status", status);
	jb_kv_jsonb(&b, "output", output);
	jb_key(&b, "error");
	if (ex->failed || ex->cancelled)
	{
		jb_obj_begin(&b);
		jb_kv_str(&b, "code", ex->error_code);
		jb_kv_str(&b, "message", ex->error_message);
		jb_kv_str(&b, "nodeId", ex->error_node);
		if (ex->error_details)
			jb_kv_jsonb(&b, "details", ex->error_details);
		jb_obj_end(&b);
	}
	else
		jb_null(&b);
	jb_kv_int(&b, "durationMs", secs * 1000 + usecs / 1000);
	jb_key(&b, "totalCost");
	jb_numeric(&b, ex->total_cost);
	jb_kv_int(&b, "totalTokens", ex->total_tokens);
	jb_key(&b, "waiting");
	jb_arr_begin(&b);
	foreach(lc, ex->waiting)
	{
		FlWaiting  *w = lfirst(lc);

		jb_obj_begin(&b);
		jb_kv_str(&b, "executionId", w->execution_id);
		jb_kv_str(&b, "nodeId", w->node_id);
		jb_kv_str(&b, "kind", w->kind);
		jb_kv_str(&b, "approvalId", w->approval_id);
		jb_obj_end(&b);
	}
	jb_arr_end(&b);
	if (ex->waiting != NIL)
	{
		FlWaiting  *first = linitial(ex->waiting);
		char	   *approval = NULL;

		foreach(lc, ex->waiting)
		{
			FlWaiting  *w = lfirst(lc);

			if (approval == NULL && w->approval_id)
				approval = w->approval_id;
		}
		jb_kv_str(&b, "waitingNodeId", first->node_id);
		jb_kv_str(&b, "approvalId", approval);
	}
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* Settle the execution: status, output, final events, row update. */
Jsonb *
fl_exec_finish(FlExec *ex)
{
	const char *status;
	Jsonb	   *output = NULL;
	JB			e = {0};
	long		secs;
	int			usecs;

	/* a cancel asked for while the last node ran wins over how it ended */
	if (!ex->sync && !ex->cancelled && fl_cancel_or_settle(ex->id_str, &ex->cancel_reason))
		fl_exec_cancelled(ex);
	TimestampDifference(ex->started_at, GetCurrentTimestamp(), &secs, &usecs);
	if (ex->cancelled)
	{
		status = "cancelled";
		ex->waiting = NIL;
	}
	else if (ex->failed)
	{
		status = "error";
		jb_obj_begin(&e);
		jb_kv_str(&e, "errorCode", ex->error_code);
		jb_kv_str(&e, "failedNodeId", ex->error_node);
		jb_obj_end(&e);
		fl_emit(ex, "fatal:error", -1, "error", NULL, -1, jb_finish(&e));
	}
	else if (ex->waiting != NIL)
		status = "suspended";
	else
	{
		status = "success";
		if (ex->last_output_node >= 0)
			output = ex->outputs[ex->last_output_node];
		else if (ex->last_completed >= 0)
			output = ex->outputs[ex->last_completed];
		else
			output = jsonb_null();
	}
	if (strcmp(status, "suspended") != 0)
	{
		JB			c = {0};

		jb_obj_begin(&c);
		jb_kv_int(&c, "totalDurationMs", secs * 1000 + usecs / 1000);
		jb_key(&c, "totalCost");
		jb_numeric(&c, ex->total_cost);
		jb_kv_int(&c, "totalTokens", ex->total_tokens);
		jb_obj_end(&c);
		fl_emit(ex, "workflow:complete", -1, status, output, secs * 1000 + usecs / 1000, jb_finish(&c));
	}
	fl_store_flush_logs(ex);
	fl_store_execution_finish(ex, status, output);
	if (ex->cancelled && !ex->sync)
		(void) fl_store_cancel_tree(ex->id_str, ex->cancel_reason);
	return fl_result_object(ex, status, output);
}

/* ---- entry points ---- */

/* A new execution's id; it is its own root until a parent says otherwise. */
static void
new_execution_id(FlExec *ex)
{
	fl_new_uuid(&ex->id);
	strlcpy(ex->id_str, FL_UUID_STR(&ex->id), sizeof(ex->id_str));
	ex->root_id = pstrdup(ex->id_str);
}

/*
 * Start a new execution of a workflow version and run it here.  A child
 * (parent given) inherits its parent's user, mode, test flag and root, one
 * level deeper; its run_as is its own workflow's.
 */
Jsonb *
fl_run_workflow(FlWorkflow *wf, Jsonb *payload, Jsonb *options,
				const char *trigger_type, FlExec *parent,
				const char *parent_node_id, char **exec_id_out)
{
	FlExec	   *ex;

	fl_workflow_check_runnable(wf);
	ex = fl_exec_create(wf, payload, options, trigger_type);
	new_execution_id(ex);
	if (parent)
	{
		ex->user_id = pstrdup(parent->user_id);
		ex->sync = parent->sync;
		ex->is_test = parent->is_test;
		ex->depth = parent->depth + 1;
		ex->parent_id = pstrdup(parent->id_str);
		ex->parent_node_id = pstrdup(parent_node_id);
		ex->root_id = pstrdup(parent->root_id);
	}
	if (exec_id_out)
		*exec_id_out = pstrdup(ex->id_str);
	fl_sched_start(ex->sched);
	fl_run_scope(ex, 0);
	return fl_exec_finish(ex);
}

/*
 * One node run on its own, in no execution: synchronously, as the calling
 * user with that user's credentials, budgets and outbound rules, its
 * templates resolved against a run with this trigger payload and nothing
 * else; nothing is stored and no event is sent.  {status, output} or {status, error: {code, message, details}},
 * with the node's tokens and costUsd (flowent._run_node, which
 * flowent.generate asks the model with).
 */
Jsonb *
fl_run_node_alone(Jsonb *node, Jsonb *payload)
{
	JB			b = {0};
	Jsonb	   *nodes;
	FlWorkflow *wf;
	FlExec	   *ex;
	FlNodeCall	call;
	FlNodeResult res;

	jb_arr_begin(&b);
	jb_jsonb(&b, node);
	jb_arr_end(&b);
	nodes = jb_finish(&b);
	wf = fl_workflow_build(nodes, jsonb_from_cstring("[]", 2), CurrentMemoryContext);
	/* the node's own issues count; a lone node has no trigger, by design */
	for (int i = 0; i < wf->issues.n; i++)
		if (wf->issues.items[i].node_id != NULL)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("the node is not valid: %s", wf->issues.items[i].message)));
	if (wf->nnodes != 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("the node is not valid: %s",
							   wf->issues.n > 0 ? wf->issues.items[0].message : "expected one node")));
	ex = fl_exec_create(wf, payload, jsonb_from_cstring("{}", 2), "manual");
	wf->owner = ex->user_id;	/* the caller's credentials */
	wf->run_as = GetUserId();
	new_execution_id(ex);
	ex->events_off = true;
	fl_node_call_init(ex, 0, &call, &res);
	if (fl_node_config(ex, 0, &call, &res))
		wf->nodes[0].info->impl->execute(&call, &res);
	if (res.outcome == FL_SUSPEND)
		fl_fail(&res, "INVALID_CONFIG", "node \"%s\": a %s node cannot run on its own: it waits",
				wf->nodes[0].id, wf->nodes[0].type);
	jb_obj_begin(&b);
	jb_kv_str(&b, "status", res.outcome == FL_SUCCESS ? "success" : "error");
	if (res.outcome == FL_SUCCESS)
		jb_kv_jsonb(&b, "output", fl_scrub_jsonb(ex, res.output ? res.output : jsonb_null()));
	else
	{
		jb_key(&b, "error");
		jb_obj_begin(&b);
		jb_kv_str(&b, "code", res.error_code);
		jb_kv_str(&b, "message", fl_scrub_text(ex, res.error_message));
		if (res.error_details)
			jb_kv_jsonb(&b, "details", fl_scrub_jsonb(ex, res.error_details));
		jb_obj_end(&b);
	}
	jb_kv_int(&b, "tokens", res.tokens);
	jb_key(&b, "costUsd");
	if (res.cost)
		jb_numeric(&b, res.cost);
	else
		jb_int(&b, 0);
	jb_obj_end(&b);
	return jb_finish(&b);
}

static uint8 *downstream_of(const fl_graph *g, int from);

/*
 * What the node logs of one scope of an execution (the top level: "", or
 * one loop iteration) say each node did: rows that succeeded, wait or were
 * skipped, in the order they were written.
 */
List *
fl_read_prior(FlExec *ex, const char *exec_id, const char *iteration)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		a[2];
	uint64		nrows;
	SPITupleTable *tt;
	List	   *rows = NIL;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(iteration);
	if (fl_owner_query(&plan, "SELECT node_id, status::text, output, handle, seq "
					   "FROM flowent.workflow_node_logs "
					   "WHERE execution_id = $1 AND iteration = $2 AND status IN ('success', 'waiting', 'skipped') "
					   "ORDER BY seq", 2, types, a, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read node logs");
	nrows = SPI_processed;
	tt = SPI_tuptable;
	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	tup = tt->vals[i];
		bool		isnull;
		char	   *status = SPI_getvalue(tup, tt->tupdesc, 2);
		int			n = fl_graph_find(ex->wf->graph, SPI_getvalue(tup, tt->tupdesc, 1));
		FlPrior    *p;
		Datum		d;

		if (n < 0)
			continue;
		p = palloc0(sizeof(FlPrior));
		p->status = status[0] == 's' ? (status[1] == 'u' ? 's' : 'k') : 'w';
		d = SPI_getbinval(tup, tt->tupdesc, 3, &isnull);
		p->output = isnull ? jsonb_null() : DatumGetJsonbPCopy(d);
		p->handle = SPI_getvalue(tup, tt->tupdesc, 4);
		p->seq = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 5, &isnull));
		p->node = n;
		p->iteration = pstrdup(iteration);
		rows = lappend(rows, p);
	}
	return rows;
}

/* An execution's top level as the per-node prior table (the last row of each node). */
static void
load_prior(FlExec *ex, const char *exec_id, bool successes_only, const uint8 *exclude)
{
	ListCell   *lc;

	ex->prior = palloc0(sizeof(FlPrior *) * (ex->wf->nnodes + 1));
	foreach(lc, fl_read_prior(ex, exec_id, ""))
	{
		FlPrior    *p = lfirst(lc);

		if ((successes_only && p->status != 's') || (exclude && exclude[p->node]))
			continue;
		ex->prior[p->node] = p;
	}
}

typedef struct ExecRow
{
	pg_uuid_t	workflow_id;
	int			version;
	Jsonb	   *input;
	Jsonb	   *options;
	char	   *user_id;
	bool		is_test;
	char	   *mode;
	char	   *trigger_type;
	char	   *parent_id;
	char	   *parent_node_id;
	int			seq;
	TimestampTz started_at;
	char	   *status;
	Numeric		total_cost;
	int64		total_tokens;
	char	   *rerun_of;
	char	   *run_as;
	int			depth;
	char	   *root_id;
	List	   *credential_names;
} ExecRow;

/* Read (and lock) an execution row as the schema owner. */
static void
read_exec_row(const char *exec_id, ExecRow *r)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {UUIDOID};
	Datum		a[1];
	HeapTuple	tup;
	TupleDesc	d;
	bool		isnull;
	Datum		v;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	if (fl_owner_query(&plan, "SELECT workflow_id, workflow_version, input, options, user_id, is_test, "
					   " mode, trigger_type, parent_execution_id::text, parent_node_id, seq, "
					   " started_at, status::text, total_cost, total_tokens, rerun_of::text, "
					   " run_as, depth, root_execution_id::text, credential_names "
					   "FROM flowent.workflow_executions WHERE id = $1 FOR UPDATE",
					   1, types, a, NULL, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read execution");
	if (SPI_processed == 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
						errmsg("execution %s does not exist", exec_id)));
	tup = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	memcpy(&r->workflow_id, DatumGetUUIDP(SPI_getbinval(tup, d, 1, &isnull)), sizeof(pg_uuid_t));
	r->version = DatumGetInt32(SPI_getbinval(tup, d, 2, &isnull));
	v = SPI_getbinval(tup, d, 3, &isnull);
	r->input = isnull ? jsonb_from_cstring("{}", 2) : DatumGetJsonbPCopy(v);
	r->options = DatumGetJsonbPCopy(SPI_getbinval(tup, d, 4, &isnull));
	r->user_id = SPI_getvalue(tup, d, 5);
	r->is_test = DatumGetBool(SPI_getbinval(tup, d, 6, &isnull));
	r->mode = SPI_getvalue(tup, d, 7);
	r->trigger_type = SPI_getvalue(tup, d, 8);
	r->parent_id = SPI_getvalue(tup, d, 9);
	r->parent_node_id = SPI_getvalue(tup, d, 10);
	r->seq = DatumGetInt32(SPI_getbinval(tup, d, 11, &isnull));
	r->started_at = DatumGetTimestampTz(SPI_getbinval(tup, d, 12, &isnull));
	r->status = SPI_getvalue(tup, d, 13);
	r->total_cost = DatumGetNumericCopy(SPI_getbinval(tup, d, 14, &isnull));
	r->total_tokens = DatumGetInt32(SPI_getbinval(tup, d, 15, &isnull));
	r->rerun_of = SPI_getvalue(tup, d, 16);
	r->run_as = SPI_getvalue(tup, d, 17);
	r->depth = DatumGetInt32(SPI_getbinval(tup, d, 18, &isnull));
	r->root_id = SPI_getvalue(tup, d, 19);
	r->credential_names = NIL;
	v = SPI_getbinval(tup, d, 20, &isnull);
	if (!isnull)
	{
		Datum	   *elems;
		bool	   *enulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(v), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &enulls, &n);
		for (int i = 0; i < n; i++)
			if (!enulls[i])
				r->credential_names = lappend(r->credential_names,
											  makeString(TextDatumGetCString(elems[i])));
	}
}

/*
 * The iteration in which a node of an execution waits, or NULL.  In a loop
 * running iterations in parallel one node may wait in several: `at` names
 * the one a continuation is for (its iteration, approval id or child
 * execution id); without a match, the one that has waited longest.
 */
static char *
waiting_iteration(const char *exec_id, const char *node_id, const char *at)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {UUIDOID, TEXTOID, TEXTOID};
	Datum		a[3];
	char		nulls[3] = {' ', ' ', ' '};

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(node_id);
	a[2] = at ? CStringGetTextDatum(at) : (Datum) 0;
	nulls[2] = at ? ' ' : 'n';
	if (fl_owner_query(&plan, "SELECT iteration FROM flowent.workflow_node_logs "
					   "WHERE execution_id = $1 AND node_id = $2 AND status = 'waiting' "
					   "ORDER BY $3 IN (iteration, output->>'approvalId', output->>'childExecutionId') DESC NULLS LAST, seq "
					   "LIMIT 1", 3, types, a, nulls, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * The run state of an execution that already has its row: its context comes
 * from the row alone, whoever runs the continuation (a worker, an approver).
 */
static FlExec *
exec_from_row(const char *exec_id, ExecRow *r)
{
	FlWorkflow *wf = fl_workflow_load_for(&r->workflow_id, r->version, r->user_id, false);
	FlExec	   *ex = fl_exec_create(wf, r->input, r->options, r->trigger_type);

	ex->id = *DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id)));
	strlcpy(ex->id_str, exec_id, sizeof(ex->id_str));
	ex->user_id = r->user_id;
	ex->run_as = r->run_as;
	ex->run_as_oid = r->run_as ? get_role_oid(r->run_as, true) : InvalidOid;
	ex->is_test = r->is_test;
	ex->sync = strcmp(r->mode, "sync") == 0;
	ex->depth = r->depth;
	ex->parent_id = r->parent_id;
	ex->parent_node_id = r->parent_node_id;
	ex->root_id = r->root_id ? r->root_id : pstrdup(exec_id);
	fl_restore_secrets(ex, r->credential_names);
	ex->seq = r->seq;
	ex->started_at = r->started_at;
	ex->total_cost = r->total_cost;
	ex->total_tokens = r->total_tokens;
	ex->row_written = true;
	return ex;
}

/*
 * Continue a suspended execution from a waiting node, in this transaction.
 * When it finishes and has a suspended parent, the parent continues too;
 * the result is that of the outermost execution continued.
 */
Jsonb *
fl_continue_execution(const char *exec_id, const char *node_id, const char *at, Jsonb *data,
					  bool is_approval, bool *finished_out)
{
	ExecRow		r;
	FlExec	   *ex;
	Jsonb	   *result;
	char	   *status;
	int			n;

	read_exec_row(exec_id, &r);
	if (strcmp(r.status, "suspended") != 0)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("execution %s is %s, not suspended", exec_id, r.status)));
	ex = exec_from_row(exec_id, &r);
	load_prior(ex, exec_id, false, NULL);
	n = fl_graph_find(ex->wf->graph, node_id);
	ex->resume_iteration = n < 0 ? NULL : waiting_iteration(exec_id, node_id, at);
	if (ex->resume_iteration == NULL)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("node \"%s\" of execution %s is not waiting", node_id, exec_id)));
	ex->resume_node = n;
	ex->resume_data = data;
	fl_sched_start(ex->sched);
	fl_run_scope(ex, 0);
	result = fl_exec_finish(ex);
	status = jb_get_cstring(result, "status");
	if (finished_out)
		*finished_out = strcmp(status, "suspended") != 0;
	if (strcmp(status, "suspended") != 0 && ex->parent_id)
	{
		ExecRow		pr;

		read_exec_row(ex->parent_id, &pr);
		if (strcmp(pr.status, "suspended") == 0)
			return fl_continue_execution(ex->parent_id, ex->parent_node_id, ex->id_str, result, false,
										 finished_out);
	}
	return result;
}

/*
 * The worker's continue: quietly does nothing when the execution is no
 * longer suspended or the node no longer waits (cancelled, decided, or
 * resumed early by someone else).  The caller holds the root execution's
 * row (fl_lock_execution_root).
 */
Jsonb *
fl_continue_if_waiting(const char *exec_id, const char *node_id, const char *at, Jsonb *data,
					   bool is_approval)
{
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		a[2];
	FlOwner		own;
	int			ret;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(node_id);
	fl_owner_begin(&own);
	ret = fl_spi_args("SELECT 1 FROM flowent.workflow_executions e "
					  "JOIN flowent.workflow_node_logs l ON l.execution_id = e.id "
					  "WHERE e.id = $1 AND e.status = 'suspended' AND l.node_id = $2 "
					  "  AND l.status = 'waiting' FOR UPDATE OF e",
					  2, types, a, NULL, false, 1);
	fl_owner_end(&own);
	if (ret != SPI_OK_SELECT || SPI_processed == 0)
		return NULL;
	return fl_continue_execution(exec_id, node_id, at, data, is_approval, NULL);
}

/* Run a queued (pending, async) execution from its start. */
Jsonb *
fl_start_execution(const char *exec_id)
{
	ExecRow		r;
	FlExec	   *ex;

	read_exec_row(exec_id, &r);
	if (strcmp(r.status, "pending") != 0)
		return NULL;			/* cancelled before it started */
	ex = exec_from_row(exec_id, &r);
	if (r.rerun_of)
	{
		/* an asynchronous rerun: reuse what the original run computed */
		char	   *from = jb_get_cstring(r.options, "rerunFromNode");
		int			n = from ? fl_graph_find(ex->wf->graph, from) : -1;

		if (n >= 0)
		{
			ex->rerun_of = r.rerun_of;
			load_prior(ex, r.rerun_of, true, downstream_of(ex->wf->graph, n));
		}
	}
	fl_sched_start(ex->sched);
	fl_run_scope(ex, 0);
	return fl_exec_finish(ex);
}

/* Queue the start of a pending execution for the workers. */
static void
queue_start(FlExec *ex)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {UUIDOID};
	Datum		a[1];

	a[0] = UUIDPGetDatum(&ex->id);
	if (fl_owner_query(&plan, "INSERT INTO flowent.run_queue (execution_id, reason) VALUES ($1, 'start')",
					   1, types, a, NULL, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the execution");
}

/*
 * A new asynchronous execution: its row (pending) and a queue entry; the
 * workers are woken when the caller's transaction commits.
 */
char *
fl_queue_execution(FlWorkflow *wf, Jsonb *payload, Jsonb *options, const char *trigger_type)
{
	FlExec	   *ex;

	fl_workflow_check_runnable(wf);
	ex = fl_exec_create(wf, payload, options, trigger_type);
	new_execution_id(ex);
	ex->sync = false;
	fl_store_execution_insert(ex);
	queue_start(ex);
	return pstrdup(ex->id_str);
}

/*
 * Queue the continuation of an async execution for the workers; `at` (see
 * waiting_iteration) travels in the data as "__at", which the worker takes out.
 */
void
fl_queue_continue(const char *exec_id, const char *node_id, const char *at, Jsonb *data)
{
	Oid			types[4] = {UUIDOID, TEXTOID, JSONBOID, TEXTOID};
	Datum		a[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	FlOwner		own;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(node_id);
	a[2] = JsonbPGetDatum(data);
	a[3] = at ? CStringGetTextDatum(at) : (Datum) 0;
	nulls[3] = at ? ' ' : 'n';
	fl_owner_begin(&own);
	if (fl_spi_args("INSERT INTO flowent.run_queue (execution_id, reason, node_id, data) "
					"VALUES ($1, 'resume', $2, CASE WHEN $4 IS NULL THEN $3 "
					"ELSE $3 || jsonb_build_object('__at', $4) END)",
					4, types, a, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the continuation");
	fl_owner_end(&own);
}

/* Every node reachable from `from` (inclusive), as a byte per node. */
static uint8 *
downstream_of(const fl_graph *g, int from)
{
	uint8	   *mark = palloc0(g->nnodes + 1);

	fl_graph_mark_reachable(g, from, mark);
	return mark;
}

/*
 * A new execution of the same version and payload that reuses the outputs
 * of nodes that succeeded and are neither from_node nor downstream of it.
 */
Jsonb *
fl_rerun_execution(const char *exec_id, const char *from_node, Jsonb *options, char **new_id,
				   bool async)
{
	ExecRow		r;
	FlWorkflow *wf;
	FlExec	   *ex;
	int			n;
	Jsonb	   *opts = options;
	JsonbValue	v;

	read_exec_row(exec_id, &r);
	wf = fl_workflow_load_for(&r.workflow_id, r.version, fl_current_user_id(), false);
	fl_workflow_check_startable(wf);
	fl_workflow_check_runnable(wf);
	n = fl_graph_find(wf->graph, from_node);
	if (n < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("node \"%s\" does not exist in version %d of workflow %s",
							   from_node, r.version, FL_UUID_STR(&r.workflow_id))));
	/* variables of the original run unless the caller gives new ones */
	if (!jb_get(options, "variables", &v) && jb_get(r.options, "variables", &v))
	{
		JB			b = {0};

		jb_obj_begin(&b);
		jb_kv_jsonb(&b, "variables", jbv_to_jsonb(&v));
		jb_obj_end(&b);
		opts = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(jb_finish(&b)),
												  JsonbPGetDatum(options)));
	}
	if (async)
	{
		JB			b = {0};

		jb_obj_begin(&b);
		jb_kv_str(&b, "rerunFromNode", from_node);
		jb_obj_end(&b);
		opts = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(opts),
												  JsonbPGetDatum(jb_finish(&b))));
	}
	ex = fl_exec_create(wf, r.input, opts, r.trigger_type);
	new_execution_id(ex);
	ex->rerun_of = pstrdup(exec_id);
	*new_id = pstrdup(ex->id_str);
	if (async)
	{
		/* the workers run it; fl_start_execution reuses the original's outputs */
		ex->sync = false;
		fl_store_execution_insert(ex);
		queue_start(ex);
		return NULL;
	}
	load_prior(ex, exec_id, true, downstream_of(wf->graph, n));
	fl_sched_start(ex->sched);
	fl_run_scope(ex, 0);
	return fl_exec_finish(ex);
}

