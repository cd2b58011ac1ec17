/*
 * exec.c
 *	  Walking a workflow: node by node, loop iterations, suspension, results.
 *
 * The scheduler in src/core decides what is ready; this file runs ready
 * nodes in nodes-array order, writes one log row and the events per node,
 * and assembles the result.  Continuing a suspended execution (and rerun)
 * replays the same deterministic walk, reusing the outputs recorded in the
 * node logs instead of running those nodes again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "nodes/fl_nodes.h"
#include "pg/engine.h"
#include "pg/jsonb_util.h"
#include "pg/http_async.h"
#include "worker/worker.h"

static void run_scope(FlExec *ex, int slot);
static void run_node(FlExec *ex, int n);
static void run_loop(FlExec *ex, int n, Jsonb *resume_info);

FlHttpCompletion *fl_http_completion = NULL;
void		(*fl_http_dispatcher) (const char *exec_id, const char *node_id, FlHttpRequest *req) = NULL;

static TimeoutId node_timeout_id = MAX_TIMEOUTS;
static volatile sig_atomic_t node_timeout_fired = false;

/* Timeout handler: cancel the node's SQL, remembering why. */
static void
node_timeout_handler(void)
{
	node_timeout_fired = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* ---- variables ---- */

#define VAR_KEY_LEN 256

typedef struct VarEntry
{
	char		key[VAR_KEY_LEN];
	int			idx;
} VarEntry;

/* Index of a variable in var_names/var_values, or -1. */
static int
var_index(FlExec *ex, const char *name)
{
	ListCell   *ln;

	if (strlen(name) < VAR_KEY_LEN)
	{
		VarEntry   *e;

		if (ex->var_hash == NULL)
			return -1;
		e = hash_search(ex->var_hash, name, HASH_FIND, NULL);
		return e ? e->idx : -1;
	}
	foreach(ln, ex->var_names)
		if (strcmp(lfirst(ln), name) == 0)
			return foreach_current_index(ln);
	return -1;
}

/* A variable's value, or NULL. */
Jsonb *
fl_get_variable(FlExec *ex, const char *name)
{
	int			i = var_index(ex, name);

	return i < 0 ? NULL : list_nth(ex->var_values, i);
}

/* Set (or replace) a workflow variable. */
void
fl_set_variable(FlExec *ex, const char *name, Jsonb *value)
{
	int			i = var_index(ex, name);

	if (i >= 0)
	{
		list_nth_cell(ex->var_values, i)->ptr_value = value;
		return;
	}
	ex->var_names = lappend(ex->var_names, pstrdup(name));
	ex->var_values = lappend(ex->var_values, value);
	if (strlen(name) < VAR_KEY_LEN)
	{
		VarEntry   *e;

		if (ex->var_hash == NULL)
		{
			HASHCTL		ctl;

			memset(&ctl, 0, sizeof(ctl));
			ctl.keysize = VAR_KEY_LEN;
			ctl.entrysize = sizeof(VarEntry);
			ctl.hcxt = CurrentMemoryContext;
			ex->var_hash = hash_create("flowent variables", 32, &ctl,
									   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		}
		e = hash_search(ex->var_hash, name, HASH_ENTER, NULL);
		e->idx = list_length(ex->var_names) - 1;
	}
}

/* All variables as one object. */
Jsonb *
fl_variables_object(FlExec *ex)
{
	JB			b = {0};
	ListCell   *ln,
			   *lv;

	jb_obj_begin(&b);
	forboth(ln, ex->var_names, lv, ex->var_values)
		jb_kv_jsonb(&b, lfirst(ln), lfirst(lv));
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* {id: {output, meta: {status}}} of every node that has run (seed §7.2). */
Jsonb *
fl_nodes_object(FlExec *ex)
{
	JB			b = {0};

	jb_obj_begin(&b);
	for (int i = 0; i < ex->wf->nnodes; i++)
	{
		if (!ex->outputs[i])
			continue;
		jb_key(&b, ex->wf->nodes[i].id);
		jb_obj_begin(&b);
		jb_kv_jsonb(&b, "output", ex->outputs[i]);
		jb_key(&b, "meta");
		jb_obj_begin(&b);
		jb_kv_str(&b, "status", ex->sched->nstate[i] == FL_WAITING ? "waiting" : "completed");
		jb_obj_end(&b);
		jb_obj_end(&b);
	}
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* {trigger, variables, nodes:{id:{output, meta}}, execution} for SQL transforms. */
Jsonb *
fl_state_object(FlExec *ex)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_jsonb(&b, "trigger", ex->trigger);
	jb_kv_jsonb(&b, "variables", fl_variables_object(ex));
	jb_kv_jsonb(&b, "nodes", fl_nodes_object(ex));
	jb_key(&b, "execution");
	jb_obj_begin(&b);
	jb_kv_str(&b, "id", ex->id_str);
	jb_kv_str(&b, "workflowId", ex->wf_id_str);
	jb_obj_end(&b);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* ---- setup ---- */

/* Options every entry point accepts; anything else is bad input. */
static void
apply_options(FlExec *ex, Jsonb *options)
{
	JsonbValue	o,
				v;

	ex->options = options;
	jbv_from_jsonb(options, &o);
	if (jbv_get_key(&o, "variables", &v) && v.type != jbvNull)
	{
		JsonbIterator *it;
		JsonbValue	k,
					val;
		JsonbIteratorToken tok;

		if (!jbv_is_object(&v))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("options.variables must be an object, got %s", jbv_type_name(&v))));
		it = JsonbIteratorInit(v.val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			if (tok != WJB_KEY)
				continue;
			JsonbIteratorNext(&it, &val, true);
			fl_set_variable(ex, jbv_cstring(&k), jbv_to_jsonb(&val));
		}
	}
	if (jbv_get_key(&o, "isTest", &v) && v.type == jbvBool)
		ex->is_test = v.val.boolean;
	if (jbv_get_key(&o, "breakpoints", &v) && v.type != jbvNull)
	{
		int			n = jbv_array_size(&v);

		if (!jbv_is_array(&v))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("options.breakpoints must be an array of node ids")));
		ex->breakpoints_given = true;
		for (int i = 0; i < n; i++)
		{
			JsonbValue	el;

			if (!jbv_get_index(&v, i, &el) || el.type != jbvString)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("options.breakpoints[%d] must be a node id string", i)));
			if (fl_graph_find(ex->wf->graph, jbv_cstring(&el)) < 0)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("options.breakpoints[%d]: node \"%s\" does not exist in the workflow",
									   i, jbv_cstring(&el))));
			ex->breakpoints = lappend(ex->breakpoints, jbv_cstring(&el));
		}
	}
}

/* A fresh execution state over a workflow version. */
static FlExec *
exec_create(FlWorkflow *wf, Jsonb *payload, Jsonb *options, const char *trigger_type)
{
	FlExec	   *ex = palloc0(sizeof(FlExec));
	JB			b = {0};

	ex->wf = wf;
	ex->cxt = CurrentMemoryContext;
	ex->sync = true;
	ex->user_id = fl_current_user_id();
	ex->trigger_type = trigger_type;
	ex->payload = payload;
	ex->started_at = GetCurrentTimestamp();
	ex->outputs = palloc0(sizeof(Jsonb *) * (wf->nnodes + 1));
	ex->sched = fl_sched_create(wf->graph);
	ex->resume_node = -1;
	ex->last_completed = -1;
	ex->last_output_node = -1;
	ex->total_cost = int64_to_numeric(0);
	strlcpy(ex->wf_id_str, FL_UUID_STR(&wf->id), sizeof(ex->wf_id_str));
	apply_options(ex, options);

	jb_obj_begin(&b);
	jb_kv_str(&b, "type", trigger_type);
	jb_kv_jsonb(&b, "payload", payload);
	jb_key(&b, "timestamp");
	jb_str(&b, DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(ex->started_at))));
	jb_obj_end(&b);
	ex->trigger = jb_finish(&b);

	/* triggers of the execution's type fire; if none matches, all do */
	for (int i = 0; i < wf->nnodes; i++)
	{
		char	   *tt;

		if (strcmp(wf->nodes[i].type, "trigger") != 0)
			continue;
		tt = jb_get_cstring(wf->nodes[i].data, "triggerType");
		if (strcmp(tt ? tt : "manual", trigger_type) == 0)
			ex->live_triggers++;
	}
	if (DatumGetFloat8(DirectFunctionCall1(pg_notification_queue_usage, (Datum) 0)) > 0.5)
	{
		ereport(LOG, (errmsg("flowent: notification queue is over half full; events of this execution are skipped")));
		ex->events_off = true;
	}
	return ex;
}

/* ---- node execution ---- */

static const char *const retryable_codes[] = {
	"SQL_ERROR", "TIMEOUT", "HTTP_ERROR", "CUSTOM_NODE_FAILED", "AI_UNAVAILABLE", NULL
};

static bool
is_retryable(const char *code)
{
	for (int i = 0; retryable_codes[i]; i++)
		if (strcmp(code, retryable_codes[i]) == 0)
			return true;
	return false;
}

/* Sleep interruptibly (retry backoff). */
static void
backoff_sleep(int ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Map an SQL error inside a node to a runtime code. */
static const char *
sql_error_code(const FlNodeType *impl, ErrorData *ed, bool timed_out)
{
	if (timed_out)
		return "TIMEOUT";
	if (ed->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		return "PERMISSION_DENIED";
	if (ed->sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED)
		return "LIMIT_EXCEEDED";
	return impl->sql_error_code ? impl->sql_error_code : "SQL_ERROR";
}

/* One attempt; SQL nodes in a subtransaction, as run_as, with a timeout. */
static void
call_once(FlExec *ex, FlNodeCall *call, FlNodeResult *res, bool resume)
{
	const FlNodeType *impl = call->def->info->impl;
	void		(*fn) (FlNodeCall *, FlNodeResult *) = resume ? impl->resume : impl->execute;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			timeout_ms = call->def->timeout_ms;

	if (!(impl->flags & FL_NT_SQL))
	{
		fn(call, res);
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	if (node_timeout_id == MAX_TIMEOUTS)
		node_timeout_id = RegisterTimeout(USER_TIMEOUT, node_timeout_handler);
	node_timeout_fired = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		Oid			uid = InvalidOid;
		int			sec = 0;

		if (impl->flags & FL_NT_RUN_AS)
			fl_run_as_begin(ex, &uid, &sec);
		if (timeout_ms > 0)
			enable_timeout_after(node_timeout_id, timeout_ms);
		fn(call, res);
		MemoryContextSwitchTo(oldcxt);	/* SPI leaves its own context current */
		if (timeout_ms > 0)
			disable_timeout(node_timeout_id, false);
		if (impl->flags & FL_NT_RUN_AS)
			fl_run_as_end(uid, sec);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *ed;
		bool		timed_out = node_timeout_fired;

		if (timeout_ms > 0)
			disable_timeout(node_timeout_id, false);
		MemoryContextSwitchTo(oldcxt);
		ed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		node_timeout_fired = false;
		/* a real cancel or termination ends the whole statement */
		if (!timed_out && (ed->sqlerrcode == ERRCODE_QUERY_CANCELED ||
						   ed->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN))
			ReThrowError(ed);
		memset(res, 0, sizeof(*res));
		if (timed_out)
			fl_fail(res, "TIMEOUT", "node \"%s\" timed out after %d ms", call->def->id, timeout_ms);
		else
			fl_fail(res, sql_error_code(impl, ed, false), "node \"%s\": %s%s%s",
					call->def->id, ed->message,
					ed->detail ? ": " : "", ed->detail ? ed->detail : "");
	}
	PG_END_TRY();
}

/* {error: {code, message}} as the output of a node that failed but goes on. */
static Jsonb *
error_output(FlNodeResult *res)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_key(&b, "error");
	jb_obj_begin(&b);
	jb_kv_str(&b, "code", res->error_code);
	jb_kv_str(&b, "message", res->error_message);
	if (res->error_details)
		jb_kv_jsonb(&b, "details", res->error_details);
	jb_obj_end(&b);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* Extra keys of the step:failed event. */
static Jsonb *
error_extra(FlNodeResult *res)
{
	return error_output(res);
}

static void
add_waiting(FlExec *ex, const char *exec_id, const char *node_id, const char *kind,
			const char *approval_id)
{
	FlWaiting  *w = palloc0(sizeof(FlWaiting));

	w->execution_id = pstrdup(exec_id);
	w->node_id = pstrdup(node_id);
	w->kind = kind;
	w->approval_id = approval_id ? pstrdup(approval_id) : NULL;
	ex->waiting = lappend(ex->waiting, w);
}

/* Record the waiting entries a suspension info object carries. */
static void
waiting_from_info(FlExec *ex, int n, Jsonb *info)
{
	JsonbValue	v,
				arr;
	char	   *kind = jb_get_cstring(info, "kind");
	const char *k = FL_WAIT_WAIT;

	if (kind)
	{
		if (strcmp(kind, FL_WAIT_APPROVAL) == 0)
			k = FL_WAIT_APPROVAL;
		else if (strcmp(kind, FL_WAIT_DELAY) == 0)
			k = FL_WAIT_DELAY;
		else if (strcmp(kind, FL_WAIT_BREAKPOINT) == 0)
			k = FL_WAIT_BREAKPOINT;
		else if (strcmp(kind, FL_WAIT_SUB) == 0)
			k = FL_WAIT_SUB;
		else if (strcmp(kind, FL_WAIT_HTTP) == 0)
			k = FL_WAIT_HTTP;
	}
	add_waiting(ex, ex->id_str, ex->wf->nodes[n].id, k, jb_get_cstring(info, "approvalId"));
	/* a sub-workflow forwards what its child waits on */
	if (jb_get(info, "waiting", &arr) && jbv_is_array(&arr))
	{
		int			cnt = jbv_array_size(&arr);

		for (int i = 0; i < cnt; i++)
		{
			Jsonb	   *w;
			char	   *ck;

			if (!jbv_get_index(&arr, i, &v))
				continue;
			w = jbv_to_jsonb(&v);
			ck = jb_get_cstring(w, "kind");
			add_waiting(ex, jb_get_cstring(w, "executionId"), jb_get_cstring(w, "nodeId"),
						ck && strcmp(ck, FL_WAIT_APPROVAL) == 0 ? FL_WAIT_APPROVAL :
						ck && strcmp(ck, FL_WAIT_DELAY) == 0 ? FL_WAIT_DELAY :
						ck && strcmp(ck, FL_WAIT_BREAKPOINT) == 0 ? FL_WAIT_BREAKPOINT :
						ck && strcmp(ck, FL_WAIT_SUB) == 0 ? FL_WAIT_SUB : FL_WAIT_WAIT,
						jb_get_cstring(w, "approvalId"));
		}
	}
}

/* Apply a node's result: output, log, events, edges. */
static void
finish_node(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res,
			TimestampTz started, bool resuming, int attempts)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	long		secs;
	int			usecs;
	int			dur;
	int			handle = -1;

	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	dur = (int) Min(secs * 1000 + usecs / 1000, PG_INT32_MAX);

	/* secrets resolved from {{credentials…}} never reach outputs, logs or events */
	if (ex->secrets != NIL)
	{
		res->output = fl_scrub_jsonb(ex, res->output);
		res->error_message = fl_scrub_text(ex, res->error_message, false);
		res->error_details = fl_scrub_jsonb(ex, res->error_details);
	}

	if (res->outcome == FL_SUCCESS)
	{
		if (res->handle)
		{
			handle = fl_graph_handle_index(&ex->wf->graph->nodes[n], res->handle);
			if (handle < 0)
				fl_fail(res, "INVALID_CONFIG", "node \"%s\" chose output \"%s\", which it does not have",
						nd->id, res->handle);
		}
		else
			handle = nd->nhandles > 0 ? 0 : -1;
	}

	switch (res->outcome)
	{
		case FL_SUCCESS:
			ex->outputs[n] = res->output;
			if (res->tokens > 0)
				ex->total_tokens += res->tokens;
			if (res->cost)
				ex->total_cost = DatumGetNumeric(DirectFunctionCall2(numeric_add,
																	 NumericGetDatum(ex->total_cost),
																	 NumericGetDatum(res->cost)));
			ex->last_completed = n;
			if (strcmp(nd->type, "output") == 0)
				ex->last_output_node = n;
			fl_emit(ex, "step:completed", n, "success", res->output, dur, NULL);
			if (resuming)
				fl_store_resume_log(ex, n, "success", res->output, NULL, NULL,
									handle >= 0 ? nd->handles[handle] : NULL, attempts);
			else
				fl_store_node_log(ex, n, "success", call->input, res->output, NULL, NULL,
								  handle >= 0 ? nd->handles[handle] : NULL, started, attempts);
			fl_sched_complete(ex->sched, n, handle);
			break;

		case FL_ERROR:
			{
				Jsonb	   *out = NULL;

				fl_emit(ex, "step:failed", n, "error", NULL, dur, error_extra(res));
				if (nd->on_error != FL_ONERROR_STOP)
				{
					out = error_output(res);
					ex->outputs[n] = out;
					ex->last_completed = n;
					handle = nd->on_error == FL_ONERROR_BRANCH ? nd->error_handle :
						(nd->nhandles > 0 && nd->error_handle != 0 ? 0 : -1);
				}
				if (resuming)
					fl_store_resume_log(ex, n, "error", out, res->error_code, res->error_message,
										handle >= 0 ? nd->handles[handle] : NULL, attempts);
				else
					fl_store_node_log(ex, n, "error", call->input, out, res->error_code,
									  res->error_message, handle >= 0 ? nd->handles[handle] : NULL,
									  started, attempts);
				if (nd->on_error == FL_ONERROR_STOP)
				{
					ex->failed = true;
					ex->error_code = pstrdup(res->error_code);
					ex->error_message = pstrdup(res->error_message);
					ex->error_node = nd->id;
					ex->error_details = res->error_details;
				}
				else
					fl_sched_complete(ex->sched, n, handle);
				break;
			}

		case FL_SUSPEND:
			{
				JB			b = {0};
				Jsonb	   *info;
				JsonbValue	v;

				jb_obj_begin(&b);
				jb_kv_str(&b, "kind", res->wait_kind);
				if (res->approval_id)
					jb_kv_str(&b, "approvalId", res->approval_id);
				if (res->suspend_info)
				{
					JsonbIterator *it;
					JsonbValue	k;
					JsonbIteratorToken tok;

					jbv_from_jsonb(res->suspend_info, &v);
					it = JsonbIteratorInit(v.val.binary.data);
					while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
					{
						JsonbValue	val;

						if (tok != WJB_KEY)
							continue;
						JsonbIteratorNext(&it, &val, true);
						jb_key(&b, jbv_cstring(&k));
						jb_val(&b, &val);
					}
				}
				jb_obj_end(&b);
				info = jb_finish(&b);
				{
					JB			e = {0};

					jb_obj_begin(&e);
					jb_kv_str(&e, "reason", res->wait_kind);
					jb_kv_str(&e, "approvalId", res->approval_id);
					jb_kv_str(&e, "nodeName", nd->label);
					jb_obj_end(&e);
					fl_emit(ex, "node:suspended", n, "waiting", info, dur, jb_finish(&e));
				}
				if (resuming)
					fl_store_resume_log(ex, n, "waiting", info, NULL, NULL, NULL, attempts);
				else
					fl_store_node_log(ex, n, "waiting", call->input, info, NULL, NULL, NULL,
									  started, attempts);
				fl_sched_wait(ex->sched, n);
				/* a loop waits on its body's nodes, which are listed already */
				if (strcmp(res->wait_kind, FL_WAIT_LOOP) != 0)
					waiting_from_info(ex, n, info);
				break;
			}
	}
}

/* Resolve the node's data (strictly) unless it resolves its own fields. */
static bool
node_config(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	JsonbValue	in,
				out;
	FlResolveError err;

	call->config = nd->data;
	if (nd->info->impl->flags & FL_NT_SELF_RESOLVE)
		return true;
	jbv_from_jsonb(nd->data, &in);
	if (!fl_resolve(ex, n, &in, &out, false, NULL, &err))
	{
		fl_fail(res, err.code, "%s", err.message);
		return false;
	}
	/* data is an object: the result is the root of a Jsonb, no copy needed */
	if (out.type == jbvBinary)
		call->config = (Jsonb *) ((char *) out.val.binary.data - offsetof(Jsonb, root));
	else
		call->config = jbv_to_jsonb(&out);
	return true;
}

/* What an earlier run left for node n in the current iteration, or NULL. */
static FlPrior *
prior_of(FlExec *ex, int n)
{
	ListCell   *lc;

	if (ex->iteration[0] == '\0')
		return ex->prior ? ex->prior[n] : NULL;
	foreach(lc, ex->body_prior)
	{
		FlPrior    *p = lfirst(lc);

		if (p->node == n && strcmp(p->iteration, ex->iteration) == 0)
			return p;
	}
	return NULL;
}

/* Is n, in the current iteration, the node this call continues? */
static bool
is_resume_target(FlExec *ex, int n)
{
	return n == ex->resume_node && ex->resume_iteration &&
		strcmp(ex->resume_iteration, ex->iteration) == 0;
}

/* The attempt number recorded in a waiting node's info (1 when absent). */
static int
waiting_attempt(FlExec *ex, int n)
{
	JsonbValue	v;

	FlPrior    *p = prior_of(ex, n);

	if (p && jb_get(p->output, "attempt", &v) && v.type == jbvNumeric)
		return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v.val.numeric)));
	return 1;
}

/* Suspend on an HTTP request that a worker sends (attempt n of the node). */
static void
suspend_on_http(FlExec *ex, FlNodeCall *call, FlNodeResult *res, int attempt)
{
	FlHttpRequest *req = palloc0(sizeof(FlHttpRequest));
	JB			b = {0};

	if (!call->def->info->impl->prepare_http(call, req, res))
		return;					/* res failed: bad config */
	fl_http_dispatcher(ex->id_str, call->def->id, req);
	jb_obj_begin(&b);
	jb_kv_int(&b, "attempt", attempt);
	jb_obj_end(&b);
	res->outcome = FL_SUSPEND;
	res->wait_kind = FL_WAIT_HTTP;
	res->suspend_info = jb_finish(&b);
}

/*
 * Asynchronous runs in a worker do not wait on HTTP: the node's request goes
 * to the worker's curl multi loop and the execution suspends on it (inside a
 * loop body, the loop waits in that iteration).
 * Returns true when it handled the node (res filled).
 */
static bool
hand_over_http(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res, bool resuming, int *attempt)
{
	const FlNodeType *impl = call->def->info->impl;
	FlNodeDef  *nd = call->def;

	if (ex->sync || impl->prepare_http == NULL || fl_http_dispatcher == NULL)
		return false;
	if (!resuming)
	{
		suspend_on_http(ex, call, res, 1);
		return true;
	}
	*attempt = waiting_attempt(ex, n);
	if (fl_http_completion == NULL)
	{
		/* a retry timer fired, or the worker that held it died: send again */
		suspend_on_http(ex, call, res, *attempt);
		if (res->outcome == FL_SUSPEND)
			res->wait_kind = NULL;	/* already logged as waiting */
		return true;
	}
	call_once(ex, call, res, true);
	if (res->outcome == FL_ERROR && *attempt < nd->retry_max && is_retryable(res->error_code))
	{
		JB			b = {0};

		(*attempt)++;
		jb_obj_begin(&b);
		jb_kv_int(&b, "attempt", *attempt);
		jb_kv_str(&b, "lastError", res->error_message);
		jb_obj_end(&b);
		/* the retry timer re-sends it (after the backoff, if any) */
		fl_store_timer(ex, n, "retry",
					   TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   nd->retry_backoff_ms * (1 << Min(*attempt - 2, 10))),
					   NULL);
		memset(res, 0, sizeof(*res));
		res->outcome = FL_SUSPEND;
		res->wait_kind = FL_WAIT_HTTP;
		res->suspend_info = jb_finish(&b);
	}
	return true;
}

/* Run a node's executor with retries, then apply the result. */
static void
execute_node(FlExec *ex, int n, bool resuming, Jsonb *resume_data)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	FlNodeCall	call;
	FlNodeResult res;
	TimestampTz started = GetCurrentTimestamp();
	int			attempt = 1;

	memset(&call, 0, sizeof(call));
	memset(&res, 0, sizeof(res));
	call.ex = ex;
	call.node = n;
	call.def = nd;
	call.input = fl_node_input(ex, n);
	call.resume_data = resume_data;
	ex->cur_input = call.input;
	ex->used_credentials = false;
	if (!resuming)
		fl_emit(ex, "step:started", n, "running", NULL, -1, NULL);

	if (node_config(ex, n, &call, &res) && !hand_over_http(ex, n, &call, &res, resuming, &attempt))
	{
		for (;; attempt++)
		{
			memset(&res, 0, sizeof(res));
			call.attempt = attempt;
			call_once(ex, &call, &res, resume_data != NULL && nd->info->impl->resume != NULL);
			if (res.outcome != FL_ERROR || attempt >= nd->retry_max || !is_retryable(res.error_code))
				break;
			if (nd->retry_backoff_ms > 0)
				backoff_sleep(nd->retry_backoff_ms * (1 << Min(attempt - 1, 10)));
		}
	}
	if (res.outcome == FL_SUCCESS && res.output == NULL)
		res.output = jsonb_null();
	if (res.outcome == FL_SUSPEND && res.wait_kind == NULL)
	{
		/* re-sent to a worker: the node keeps waiting as logged */
		fl_sched_wait(ex->sched, n);
		waiting_from_info(ex, n, prior_of(ex, n)->output);
		return;
	}
	finish_node(ex, n, &call, &res, started, resuming, attempt);
}

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
run_loop(FlExec *ex, int n, Jsonb *resume_info)
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

	memset(&call, 0, sizeof(call));
	memset(&res, 0, sizeof(res));
	call.ex = ex;
	call.node = n;
	call.def = nd;
	call.input = fl_node_input(ex, n);
	ex->cur_input = call.input;
	if (!resuming)
		fl_emit(ex, "step:started", n, "running", NULL, -1, NULL);
	if (!node_config(ex, n, &call, &res))
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
		run_scope(ex, ex->wf->graph->nodes[n].loop_slot);
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
	finish_node(ex, n, &call, &res, started, resuming, 1);
}

/* Use an output recorded by an earlier run instead of running the node. */
static void
reuse_node(FlExec *ex, int n, FlPrior *p)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	int			handle = p->handle ? fl_graph_handle_index(&ex->wf->graph->nodes[n], p->handle) :
		(nd->nhandles > 0 ? 0 : -1);

	ex->outputs[n] = p->output;
	if (nd->info->impl->replay)
		nd->info->impl->replay(ex, n, p->output);
	ex->last_completed = n;
	if (strcmp(nd->type, "output") == 0)
		ex->last_output_node = n;
	if (ex->rerun_of)
	{
		ex->seq++;
		fl_store_node_log(ex, n, "success", NULL, p->output, NULL, NULL, p->handle,
						  GetCurrentTimestamp(), 0);
	}
	fl_sched_complete(ex->sched, n, handle);
}

/* Does a breakpoint stop this node? */
static bool
breakpoint_applies(FlExec *ex, int n)
{
	ListCell   *lc;

	if (ex->wf->nodes[n].breakpoint && (ex->is_test || ex->breakpoints_given))
		return true;
	foreach(lc, ex->breakpoints)
		if (strcmp(lfirst(lc), ex->wf->nodes[n].id) == 0)
			return true;
	return false;
}

/* Run (or reuse, or keep waiting) one ready node. */
static void
run_node(FlExec *ex, int n)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	FlPrior    *p = prior_of(ex, n);

	CHECK_FOR_INTERRUPTS();
	if (p && p->status == 's')
	{
		reuse_node(ex, n, p);
		return;
	}
	if (p && p->status == 'w')
	{
		char	   *kind = jb_get_cstring(p->output, "kind");

		if (kind && strcmp(kind, FL_WAIT_LOOP) == 0)
		{
			/* a loop that suspended in an iteration: go on from there */
			run_loop(ex, n, p->output);
			return;
		}
		if (!is_resume_target(ex, n))
		{
			fl_sched_wait(ex->sched, n);
			waiting_from_info(ex, n, p->output);
			return;
		}
		{
			JB			e = {0};

			jb_obj_begin(&e);
			jb_kv_str(&e, "resumedFromNodeId", nd->id);
			jb_kv_jsonb(&e, "approvalData", ex->resume_data);
			jb_obj_end(&e);
			fl_emit(ex, "workflow:resumed", n, "running", NULL, -1, jb_finish(&e));
		}
		if (kind && strcmp(kind, FL_WAIT_BREAKPOINT) == 0)
			execute_node(ex, n, true, NULL);
		else
			execute_node(ex, n, true, ex->resume_data);
		return;
	}
	if (nd->info->impl == &fl_node_trigger && ex->live_triggers > 0)
	{
		char	   *tt = jb_get_cstring(nd->data, "triggerType");

		if (strcmp(tt ? tt : "manual", ex->trigger_type) != 0)
		{
			/* another trigger type started this execution */
			fl_emit(ex, "state:update", n, "skipped", NULL, -1, NULL);
			fl_store_node_log(ex, n, "skipped", NULL, NULL, NULL, NULL, NULL, GetCurrentTimestamp(), 0);
			fl_sched_complete(ex->sched, n, -1);
			return;
		}
	}
	if (breakpoint_applies(ex, n))
	{
		FlNodeCall	call;
		FlNodeResult res;

		memset(&call, 0, sizeof(call));
		memset(&res, 0, sizeof(res));
		call.ex = ex;
		call.node = n;
		call.def = nd;
		call.input = fl_node_input(ex, n);
		res.outcome = FL_SUSPEND;
		res.wait_kind = FL_WAIT_BREAKPOINT;
		finish_node(ex, n, &call, &res, GetCurrentTimestamp(), false, 0);
		return;
	}
	if (nd->info->impl == &fl_node_loop)
		run_loop(ex, n, NULL);
	else
		execute_node(ex, n, false, NULL);
}

/* Log nodes skipped by dead-path elimination. */
static void
drain_skipped(FlExec *ex)
{
	int			v;

	while ((v = fl_sched_next_skipped(ex->sched)) >= 0)
	{
		FlPrior    *p = prior_of(ex, v);

		if (p && p->status == 'k')
			continue;			/* logged by the earlier run */
		fl_emit(ex, "state:update", v, "skipped", NULL, -1, NULL);
		fl_store_node_log(ex, v, "skipped", NULL, NULL, NULL, NULL, NULL, GetCurrentTimestamp(), 0);
	}
}

/* Run every ready node of a scope until none is left. */
static void
run_scope(FlExec *ex, int slot)
{
	drain_skipped(ex);
	while (!ex->failed && !ex->cancelled)
	{
		int			n = fl_sched_next(ex->sched, slot);

		if (n < 0)
			break;
		/* flowent.cancel of an execution a worker is running */
		if (!ex->sync && fl_cancel_requested(ex->id_str))
		{
			ex->cancelled = true;
			ex->error_code = "CANCELLED";
			ex->error_message = "the execution was cancelled";
			break;
		}
		run_node(ex, n);
		drain_skipped(ex);
	}
}

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
static Jsonb *
exec_finish(FlExec *ex)
{
	const char *status;
	Jsonb	   *output = NULL;
	JB			e = {0};
	long		secs;
	int			usecs;

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
		jb_kv_str(&e, "message", ex->error_message);
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
	return fl_result_object(ex, status, output);
}

/* ---- entry points ---- */

/* Start a new execution of a workflow version and run it here. */
Jsonb *
fl_run_workflow(FlWorkflow *wf, Jsonb *payload, Jsonb *options,
				const char *trigger_type, const char *parent_id,
				const char *parent_node_id, int depth, char **exec_id_out)
{
	FlExec	   *ex;

	fl_workflow_check_runnable(wf);
	ex = exec_create(wf, payload, options, trigger_type);
	fl_new_uuid(&ex->id);
	strlcpy(ex->id_str, FL_UUID_STR(&ex->id), sizeof(ex->id_str));
	ex->parent_id = parent_id ? pstrdup(parent_id) : NULL;
	ex->parent_node_id = parent_node_id ? pstrdup(parent_node_id) : NULL;
	ex->depth = depth;
	if (exec_id_out)
		*exec_id_out = pstrdup(ex->id_str);
	fl_sched_start(ex->sched);
	run_scope(ex, 0);
	return exec_finish(ex);
}

/* Read the node logs of an execution into the per-node prior table. */
static void
load_prior(FlExec *ex, const char *exec_id, bool successes_only, const uint8 *exclude)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {UUIDOID};
	Datum		a[1];
	uint64		nrows;
	SPITupleTable *tt;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	if (fl_owner_query(&plan, "SELECT node_id, status::text, output, handle, seq "
					   "FROM flowent.workflow_node_logs "
					   "WHERE execution_id = $1 AND iteration = '' ORDER BY seq",
					   1, types, a, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read node logs");
	nrows = SPI_processed;
	tt = SPI_tuptable;
	ex->prior = palloc0(sizeof(FlPrior *) * (ex->wf->nnodes + 1));
	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	tup = tt->vals[i];
		bool		isnull;
		char	   *node_id = SPI_getvalue(tup, tt->tupdesc, 1);
		char	   *status = SPI_getvalue(tup, tt->tupdesc, 2);
		int			n = fl_graph_find(ex->wf->graph, node_id);
		FlPrior    *p;
		Datum		d;
		char		st;

		if (n < 0)
			continue;
		if (strcmp(status, "success") == 0)
			st = 's';
		else if (strcmp(status, "waiting") == 0)
			st = 'w';
		else if (strcmp(status, "skipped") == 0)
			st = 'k';
		else
			continue;
		if (successes_only && st != 's')
			continue;
		if (exclude && exclude[n])
			continue;
		p = palloc0(sizeof(FlPrior));
		p->status = st;
		d = SPI_getbinval(tup, tt->tupdesc, 3, &isnull);
		p->output = isnull ? jsonb_null() : DatumGetJsonbPCopy(d);
		p->handle = SPI_getvalue(tup, tt->tupdesc, 4);
		p->seq = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 5, &isnull));
		ex->prior[n] = p;
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
					   " started_at, status::text, total_cost, total_tokens "
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
}

/* Load a workflow version as the schema owner (the caller was authorised). */
static FlWorkflow *
load_wf_as_owner(pg_uuid_t *id, int version)
{
	Oid			uid;
	int			sec;
	FlWorkflow *wf;

	fl_owner_begin(&uid, &sec);
	wf = fl_workflow_load(id, version, false);
	fl_owner_end(uid, sec);
	return wf;
}

/* The iteration in which a node of an execution waits, or NULL. */
static char *
waiting_iteration(const char *exec_id, const char *node_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		a[2];

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(node_id);
	if (fl_owner_query(&plan, "SELECT iteration FROM flowent.workflow_node_logs "
					   "WHERE execution_id = $1 AND node_id = $2 AND status = 'waiting' "
					   "ORDER BY seq DESC LIMIT 1", 2, types, a, NULL, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* The run state of an execution that already has its row. */
static FlExec *
exec_from_row(const char *exec_id, ExecRow *r)
{
	FlWorkflow *wf = load_wf_as_owner(&r->workflow_id, r->version);
	FlExec	   *ex = exec_create(wf, r->input, r->options, r->trigger_type);

	ex->id = *DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id)));
	strlcpy(ex->id_str, exec_id, sizeof(ex->id_str));
	ex->user_id = r->user_id;
	ex->is_test = r->is_test;
	ex->sync = strcmp(r->mode, "sync") == 0;
	ex->parent_id = r->parent_id;
	ex->parent_node_id = r->parent_node_id;
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
fl_continue_execution(const char *exec_id, const char *node_id, Jsonb *data,
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
	ex->resume_iteration = n < 0 ? NULL : waiting_iteration(exec_id, node_id);
	if (ex->resume_iteration == NULL)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("node \"%s\" of execution %s is not waiting", node_id, exec_id)));
	ex->resume_node = n;
	ex->resume_data = data;
	ex->resume_is_approval = is_approval;
	fl_sched_start(ex->sched);
	run_scope(ex, 0);
	result = exec_finish(ex);
	status = jb_get_cstring(result, "status");
	if (finished_out)
		*finished_out = strcmp(status, "suspended") != 0;
	if (strcmp(status, "suspended") != 0 && ex->parent_id)
	{
		ExecRow		pr;

		read_exec_row(ex->parent_id, &pr);
		if (strcmp(pr.status, "suspended") == 0)
			return fl_continue_execution(ex->parent_id, ex->parent_node_id, result, false, finished_out);
	}
	return result;
}

/*
 * The worker's continue: quietly does nothing when the execution is no
 * longer suspended or the node no longer waits (cancelled, decided, or
 * resumed early by someone else).
 */
Jsonb *
fl_continue_if_waiting(const char *exec_id, const char *node_id, Jsonb *data, bool is_approval)
{
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		a[2];
	Oid			uid;
	int			sec;
	int			ret;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(node_id);
	fl_owner_begin(&uid, &sec);
	ret = fl_spi_args("SELECT 1 FROM flowent.workflow_executions e "
					  "JOIN flowent.workflow_node_logs l ON l.execution_id = e.id "
					  "WHERE e.id = $1 AND e.status = 'suspended' AND l.node_id = $2 "
					  "  AND l.status = 'waiting' FOR UPDATE OF e",
					  2, types, a, NULL, false, 1);
	fl_owner_end(uid, sec);
	if (ret != SPI_OK_SELECT || SPI_processed == 0)
		return NULL;
	return fl_continue_execution(exec_id, node_id, data, is_approval, NULL);
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
	fl_sched_start(ex->sched);
	run_scope(ex, 0);
	return exec_finish(ex);
}

/*
 * A new asynchronous execution: its row (pending) and a queue entry; the
 * workers are woken when the caller's transaction commits.
 */
char *
fl_queue_execution(FlWorkflow *wf, Jsonb *payload, Jsonb *options, const char *trigger_type)
{
	FlExec	   *ex;
	Oid			types[1] = {UUIDOID};
	Datum		a[1];
	Oid			uid;
	int			sec;

	fl_workflow_check_runnable(wf);
	ex = exec_create(wf, payload, options, trigger_type);
	fl_new_uuid(&ex->id);
	strlcpy(ex->id_str, FL_UUID_STR(&ex->id), sizeof(ex->id_str));
	ex->sync = false;
	fl_store_execution_insert(ex);
	a[0] = UUIDPGetDatum(&ex->id);
	fl_owner_begin(&uid, &sec);
	if (fl_spi_args("INSERT INTO flowent.run_queue (execution_id, reason) VALUES ($1, 'start')",
					1, types, a, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the execution");
	fl_owner_end(uid, sec);
	return pstrdup(ex->id_str);
}

/* Queue the continuation of an async execution for the workers. */
void
fl_queue_continue(const char *exec_id, const char *node_id, Jsonb *data)
{
	Oid			types[3] = {UUIDOID, TEXTOID, JSONBOID};
	Datum		a[3];
	Oid			uid;
	int			sec;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(node_id);
	a[2] = JsonbPGetDatum(data);
	fl_owner_begin(&uid, &sec);
	if (fl_spi_args("INSERT INTO flowent.run_queue (execution_id, reason, node_id, data) "
					"VALUES ($1, 'resume', $2, $3)", 3, types, a, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the continuation");
	fl_owner_end(uid, sec);
}

/* Mark every node reachable from `from` (inclusive). */
static uint8 *
downstream_of(const fl_graph *g, int from)
{
	uint8	   *mark = palloc0(g->nnodes + 1);
	int		   *stack = palloc(sizeof(int) * (g->nnodes + 1));
	int			sp = 0;

	mark[from] = 1;
	stack[sp++] = from;
	while (sp > 0)
	{
		int			u = stack[--sp];

		for (int k = g->out_start[u]; k < g->out_start[u + 1]; k++)
		{
			int			t = g->edges[g->out_edges[k]].target;

			if (!mark[t])
			{
				mark[t] = 1;
				stack[sp++] = t;
			}
		}
	}
	return mark;
}

/*
 * A new execution of the same version and payload that reuses the outputs
 * of nodes that succeeded and are neither from_node nor downstream of it.
 */
Jsonb *
fl_rerun_execution(const char *exec_id, const char *from_node, Jsonb *options, char **new_id)
{
	ExecRow		r;
	FlWorkflow *wf;
	FlExec	   *ex;
	int			n;
	Jsonb	   *opts = options;
	JsonbValue	v;

	read_exec_row(exec_id, &r);
	wf = load_wf_as_owner(&r.workflow_id, r.version);
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
	ex = exec_create(wf, r.input, opts, r.trigger_type);
	fl_new_uuid(&ex->id);
	strlcpy(ex->id_str, FL_UUID_STR(&ex->id), sizeof(ex->id_str));
	ex->rerun_of = pstrdup(exec_id);
	*new_id = pstrdup(ex->id_str);
	load_prior(ex, exec_id, true, downstream_of(wf->graph, n));
	fl_sched_start(ex->sched);
	run_scope(ex, 0);
	return exec_finish(ex);
}
