/*
 * loop.c
 *	  loop-controller: its body once per item, on the scheduler's loop scope,
 *	  up to `parallel` iterations waiting at once; a suspension in the body
 *	  suspends its iteration.  Driven by the engine (FlNodeType.drive), since
 *	  iterations run the scheduler.
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

/*
 * Results of iterations that finished in earlier units of work, read from
 * the node logs once, when the loop ends: for each body sink, its last row
 * within the iteration (at any depth), as iteration_result would have seen
 * its state.  Only iterations with results[i] still NULL are filled.
 */
static void
load_earlier_results(FlExec *ex, int loop, const char *prefix, Jsonb **results, int count)
{
	static SPIPlanPtr plan = NULL;
	const fl_graph *g = ex->wf->graph;
	Oid			types[4] = {UUIDOID, TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		a[4];
	char	   *upper = pstrdup(prefix);
	Datum	   *sinks = palloc(sizeof(Datum) * (g->nnodes + 1));
	int			nsinks = 0;
	int			plen = strlen(prefix);
	Jsonb	  **last;
	char	   *state;
	uint64		nrows;
	SPITupleTable *tt;

	for (int v = 0; v < g->nnodes; v++)
		if (fl_graph_in_body(g, loop, v) && g->out_start[v] == g->out_start[v + 1])
			sinks[nsinks++] = CStringGetTextDatum(g->nodes[v].id);
	if (nsinks == 0)
		return;
	/* the iterations of this loop: [prefix, upper), bytewise (COLLATE "C") */
	upper[plen - 1]++;			/* the prefix ends in ':' */
	a[0] = UUIDPGetDatum(&ex->id);
	a[1] = CStringGetTextDatum(prefix);
	a[2] = CStringGetTextDatum(upper);
	a[3] = PointerGetDatum(construct_array(sinks, nsinks, TEXTOID, -1, false, TYPALIGN_INT));
	if (fl_owner_query(&plan, "SELECT node_id, iteration, status::text, output "
					   "FROM flowent.workflow_node_logs "
					   "WHERE execution_id = $1 AND iteration >= $2 AND iteration < $3 AND node_id = ANY ($4) "
					   "  AND status IN ('success', 'error', 'skipped') ORDER BY seq",
					   4, types, a, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read node logs");
	nrows = SPI_processed;
	tt = SPI_tuptable;
	/* per (iteration, node): the last row's state ('d' done, 'k' not) and output */
	last = palloc0(sizeof(Jsonb *) * ((size_t) count * g->nnodes + 1));
	state = palloc0((size_t) count * g->nnodes + 1);
	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	tup = tt->vals[r];
		char	   *iter = SPI_getvalue(tup, tt->tupdesc, 2) + plen;
		char	   *status = SPI_getvalue(tup, tt->tupdesc, 3);
		int			v = fl_graph_find(g, SPI_getvalue(tup, tt->tupdesc, 1));
		char	   *endp;
		long		i;
		bool		isnull;
		Datum		d;
		size_t		slot;

		i = strtol(iter, &endp, 10);
		if (v < 0 || endp == iter || (*endp != '\0' && *endp != '/') || i < 0 || i >= count ||
			results[i] != NULL)
			continue;
		slot = (size_t) i * g->nnodes + v;
		d = SPI_getbinval(tup, tt->tupdesc, 4, &isnull);
		/* an error row without output stopped the loop; with one, it went on */
		state[slot] = status[0] == 'k' || isnull ? 'k' : 'd';
		last[slot] = isnull ? NULL : DatumGetJsonbPCopy(d);
	}
	for (int i = 0; i < count; i++)
	{
		int			found = 0,
					one = -1;
		JB			b = {0};

		if (results[i] != NULL)
			continue;
		for (int v = 0; v < g->nnodes; v++)
			if (state[(size_t) i * g->nnodes + v] == 'd')
			{
				found++;
				one = v;
			}
		if (found <= 1)
		{
			results[i] = found ? last[(size_t) i * g->nnodes + one] : jsonb_null();
			continue;
		}
		jb_obj_begin(&b);
		for (int v = 0; v < g->nnodes; v++)
			if (state[(size_t) i * g->nnodes + v] == 'd')
				jb_kv_jsonb(&b, g->nodes[v].id, last[(size_t) i * g->nnodes + v]);
		jb_obj_end(&b);
		results[i] = jb_finish(&b);
	}
}

/*
 * Run iteration i of loop n (resuming: it waited in an earlier unit): its
 * result, or NULL when it suspended (a body node waits).
 */
static Jsonb *
run_iteration(FlExec *ex, int n, JsonbValue *items, int i, int count, const char *saved_iter,
			  bool resuming)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	JsonbValue	item;
	FlLoopFrame *f = &ex->loops[ex->nloops++];
	int			waiting_before = list_length(ex->waiting);
	Jsonb	   *result;

	CHECK_FOR_INTERRUPTS();
	jbv_get_index(items, i, &item);
	f->node = n;
	f->item = jbv_to_jsonb(&item);
	f->index = i;
	f->count = count;
	snprintf(ex->iteration, sizeof(ex->iteration), "%s%s%s:%d",
			 saved_iter, saved_iter[0] ? "/" : "", nd->id, i);
	if (resuming)
		ex->body_prior = list_concat(ex->body_prior, fl_read_prior(ex, ex->id_str, ex->iteration));
	fl_sched_reset_body(ex->sched, n);
	fl_sched_fire(ex->sched, n, fl_graph_handle_index(&ex->wf->graph->nodes[n], "body"));
	fl_run_scope(ex, ex->wf->graph->nodes[n].loop_slot);
	result = list_length(ex->waiting) == waiting_before ? iteration_result(ex, n) : NULL;
	ex->nloops--;
	return result;
}

/* The iterations a suspended loop waits in, and the next one to start. */
static List *
pending_iterations(Jsonb *info, int *next)
{
	JsonbValue	v,
				el;
	List	   *pending = NIL;

	*next = 0;
	if (info == NULL)
		return NIL;
	if (jb_get(info, "pending", &v) && jbv_is_array(&v))
	{
		for (int k = 0; jbv_get_index(&v, k, &el); k++)
			if (el.type == jbvNumeric)
				pending = lappend_int(pending, DatumGetInt32(DirectFunctionCall1(numeric_int4,
																				 NumericGetDatum(el.val.numeric))));
		if (jb_get(info, "next", &v) && v.type == jbvNumeric)
			*next = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v.val.numeric)));
	}
	else if (jb_get(info, "iteration", &v) && v.type == jbvNumeric)
	{
		/* suspended by release 0.3: one iteration, results inline (read from the logs now) */
		int			i = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v.val.numeric)));

		pending = list_make1_int(i);
		*next = i + 1;
	}
	return pending;
}

/*
 * loop-controller: run the body once per item, up to `parallel` iterations
 * at once, then continue on "done".  A body node that suspends suspends its
 * iteration; while fewer than `parallel` wait, the next iterations start, so
 * in a worker their HTTP requests are in flight together.  The loop waits
 * while any iteration does (info: the waiting iterations and the next to
 * start; finished ones are in the node logs, so a suspension costs the same
 * at every item); resume_info continues it.
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
	int64		parallel = 1;
	int			count;
	int			next;
	char		saved_iter[sizeof(ex->iteration)];
	Jsonb	  **results;
	List	   *was_pending;
	List	   *pending = NIL;
	ListCell   *lc;
	int			waiting_before = list_length(ex->waiting);
	bool		resuming = resume_info != NULL;
	bool		stopped = false;
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
	if (!fl_cfg_int(&call, &res, "maxIterations", 10000, 0, PG_INT32_MAX, &max_iter) ||
		!fl_cfg_int(&call, &res, "parallel", 1, 1, 1000, &parallel))
		goto done;
	count = jbv_array_size(&items);
	if (count > max_iter)
	{
		fl_fail(&res, "LIMIT_EXCEEDED", "node \"%s\": %d items exceed maxIterations (" INT64_FORMAT ")",
				nd->id, count, max_iter);
		goto done;
	}

	results = palloc0(sizeof(Jsonb *) * (count + 1));
	was_pending = pending_iterations(resume_info, &next);
	strlcpy(saved_iter, ex->iteration, sizeof(saved_iter));
	ex->loops = ex->nloops == 0 ? palloc(sizeof(FlLoopFrame) * (ex->wf->graph->nloops + 1)) : ex->loops;
	foreach(lc, was_pending)
	{
		int			i = lfirst_int(lc);

		if (i < 0 || i >= count)
			continue;
		if ((results[i] = run_iteration(ex, n, &items, i, count, saved_iter, true)) == NULL)
			pending = lappend_int(pending, i);
		if ((stopped = ex->failed || ex->cancelled))
			break;
	}
	for (; !stopped && next < count && list_length(pending) < parallel; next++)
	{
		if ((results[next] = run_iteration(ex, n, &items, next, count, saved_iter, false)) == NULL)
			pending = lappend_int(pending, next);
		stopped = ex->failed || ex->cancelled;
	}
	strlcpy(ex->iteration, saved_iter, sizeof(ex->iteration));
	if (ex->cancelled)
		return;
	if (ex->failed)
	{
		/* iterations still waiting are abandoned with the loop */
		ex->waiting = list_truncate(ex->waiting, waiting_before);
		fl_fail(&res, ex->error_code, "%s", ex->error_message);
		ex->failed = false;		/* finish_node decides with the loop's onError */
		goto done;
	}
	if (pending != NIL)
	{
		JB			w = {0};

		jb_obj_begin(&w);
		jb_key(&w, "pending");
		jb_arr_begin(&w);
		foreach(lc, pending)
			jb_int(&w, lfirst_int(lc));
		jb_arr_end(&w);
		jb_kv_int(&w, "next", next);
		jb_obj_end(&w);
		res.outcome = FL_SUSPEND;
		res.wait_kind = FL_WAIT_LOOP;
		res.suspend_info = jb_finish(&w);
		goto done;
	}
	if (resuming)
	{
		char	   *prefix = psprintf("%s%s%s:", saved_iter, saved_iter[0] ? "/" : "", nd->id);

		load_earlier_results(ex, n, prefix, results, count);
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
