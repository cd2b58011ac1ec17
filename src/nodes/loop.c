/*
 * loop.c
 *	  loop-controller: its body once per item, on the scheduler's loop scope;
 *	  a suspension in the body suspends the loop in that iteration.  Driven
 *	  by the engine (FlNodeType.drive), since iterations run the scheduler.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/engine.h"
#include "pg/exec_internal.h"
#include "pg/jsonb_util.h"

/* Output of the body's sinks that ran in this iteration. */
static Jsonb *
iteration_result(FlExec *ex, int loop)
{
	const fl_graph *g = ex->wf->graph;
	int			found = 0,
				last = -1;
	JB			b = {0};

	for (int v = 0; v < g->nnodes; v++)
		if (fl_graph_in_body(g, loop, v) && g->out_start[v] == g->out_start[v + 1] &&
			ex->sched->nstate[v] == FL_DONE)
		{
			found++;
			last = v;
		}
	if (found == 0)
		return jsonb_null();
	if (found == 1)
		return ex->outputs[last];
	jb_obj_begin(&b);
	for (int v = 0; v < g->nnodes; v++)
		if (fl_graph_in_body(g, loop, v) && g->out_start[v] == g->out_start[v + 1] &&
			ex->sched->nstate[v] == FL_DONE)
			jb_kv_jsonb(&b, g->nodes[v].id, ex->outputs[v]);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* Rows of one loop iteration left by an earlier run (resuming inside it). */
static void
load_iteration_prior(FlExec *ex, const char *iteration)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		a[2];
	uint64		nrows;
	SPITupleTable *tt;

	a[0] = UUIDPGetDatum(&ex->id);
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
		ex->body_prior = lappend(ex->body_prior, p);
	}
}

/*
 * loop-controller: run the body once per item, then continue on "done".
 * A node of the body that suspends suspends the loop in that iteration
 * (info: the iteration and the results so far); resume_info continues it.
 */
static void
loop_drive(FlExec *ex, int n, Jsonb *resume_info)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	FlNodeCall	call;
	FlNodeResult res;
	TimestampTz started = GetCurrentTimestamp();
	JsonbValue	items;
	int64		max_iter = 10000;
	int			count;
	int			first = 0;
	int			body = fl_graph_handle_index(&ex->wf->graph->nodes[n], "body");
	char		saved_iter[sizeof(ex->iteration)];
	Jsonb	  **results;
	int			waiting_before = list_length(ex->waiting);
	bool		resuming = resume_info != NULL;
	JB			b = {0};

	fl_node_call_init(ex, n, &call, &res);
	if (!resuming)
		fl_emit(ex, "step:started", n, "running", NULL, -1, NULL);
	if (!fl_node_config(ex, n, &call, &res))
		goto done;
	if (!fl_cfg_value(&call, "items", &items) || !jbv_is_array(&items))
	{
		fl_fail(&res, "INVALID_CONFIG", "node \"%s\": field \"items\" must resolve to an array, got %s",
				nd->id, fl_cfg_value(&call, "items", &items) ? jbv_type_name(&items) : "nothing");
		goto done;
	}
	if (!fl_cfg_int(&call, &res, "maxIterations", 10000, 0, PG_INT32_MAX, &max_iter))
		goto done;
	count = jbv_array_size(&items);
	if (count > max_iter)
	{
		fl_fail(&res, "LIMIT_EXCEEDED", "node \"%s\": %d items exceed maxIterations (" INT64_FORMAT ")",
				nd->id, count, max_iter);
		goto done;
	}

	results = palloc0(sizeof(Jsonb *) * (count + 1));
	if (resuming)
	{
		JsonbValue	v,
					el;

		if (jb_get(resume_info, "iteration", &v) && v.type == jbvNumeric)
			first = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v.val.numeric)));
		if (jb_get(resume_info, "results", &v) && jbv_is_array(&v))
			for (int i = 0; i < first && i < count && jbv_get_index(&v, i, &el); i++)
				results[i] = jbv_to_jsonb(&el);
	}
	strlcpy(saved_iter, ex->iteration, sizeof(saved_iter));
	ex->loops = ex->nloops == 0 ? palloc(sizeof(FlLoopFrame) * (ex->wf->graph->nloops + 1)) : ex->loops;
	for (int i = first; i < count; i++)
	{
		JsonbValue	item;
		FlLoopFrame *f = &ex->loops[ex->nloops++];

		CHECK_FOR_INTERRUPTS();
		jbv_get_index(&items, i, &item);
		f->node = n;
		f->item = jbv_to_jsonb(&item);
		f->index = i;
		f->count = count;
		snprintf(ex->iteration, sizeof(ex->iteration), "%s%s%s:%d",
				 saved_iter, saved_iter[0] ? "/" : "", nd->id, i);
		if (resuming && i == first)
			load_iteration_prior(ex, ex->iteration);
		fl_sched_reset_body(ex->sched, n);
		fl_sched_fire(ex->sched, n, body);
		fl_run_scope(ex, ex->wf->graph->nodes[n].loop_slot);
		results[i] = iteration_result(ex, n);
		ex->nloops--;
		if (ex->failed || ex->cancelled)
			break;
		if (list_length(ex->waiting) > waiting_before)
		{
			/* a body node suspended: the loop waits in this iteration */
			JB			w = {0};

			jb_obj_begin(&w);
			jb_kv_int(&w, "iteration", i);
			jb_key(&w, "results");
			jb_arr_begin(&w);
			for (int k = 0; k < i; k++)
				jb_jsonb(&w, results[k]);
			jb_arr_end(&w);
			jb_obj_end(&w);
			strlcpy(ex->iteration, saved_iter, sizeof(ex->iteration));
			res.outcome = FL_SUSPEND;
			res.wait_kind = FL_WAIT_LOOP;
			res.suspend_info = jb_finish(&w);
			goto done;
		}
	}
	strlcpy(ex->iteration, saved_iter, sizeof(ex->iteration));
	if (ex->cancelled)
		return;
	if (ex->failed)
	{
		fl_fail(&res, ex->error_code, "%s", ex->error_message);
		ex->failed = false;		/* finish_node decides with the loop's onError */
		goto done;
	}
	jb_obj_begin(&b);
	jb_key(&b, "results");
	jb_arr_begin(&b);
	for (int i = 0; i < count; i++)
		jb_jsonb(&b, results[i]);
	jb_arr_end(&b);
	jb_kv_int(&b, "count", count);
	jb_obj_end(&b);
	fl_succeed(&res, jb_finish(&b), "done");

done:
	fl_finish_node(ex, n, &call, &res, started, resuming, 1);
}


/* Never called: the engine drives loop nodes. */
static void
loop_execute(FlNodeCall *call, FlNodeResult *res)
{
	elog(ERROR, "loop-controller node \"%s\" dispatched as a plain node", call->def->id);
}

const FlNodeType fl_node_loop = {
	.type = "loop-controller",
	.execute = loop_execute,
	.drive = loop_drive,
};
