/*
 * exec.c
 *	  Running nodes: one attempt, retries, results, suspension, the scope walk.
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
#include "pg/exec_internal.h"
#include "pg/jsonb_util.h"
#include "pg/subxact.h"
#include "pg/http_async.h"
#include "worker/worker.h"

static void run_node(FlExec *ex, int n);

FlHttpCompletion *fl_http_completion = NULL;
void		(*fl_http_dispatcher) (const char *exec_id, const char *node_id, const char *iteration,
								   FlHttpRequest *req) = NULL;

static TimeoutId node_timeout_id = MAX_TIMEOUTS;
static volatile sig_atomic_t node_timeout_fired = false;
static TimeoutId cancel_poll_id = MAX_TIMEOUTS;
static volatile sig_atomic_t node_cancel_fired = false;
static char cancel_poll_exec[40];	/* the execution whose node runs */

#define CANCEL_POLL_MS 100

/* Timeout handler: cancel the node's SQL, remembering why. */
static void
node_timeout_handler(void)
{
	node_timeout_fired = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/*
 * In a worker, every CANCEL_POLL_MS while a node runs SQL: a flowent.cancel
 * of its execution interrupts the node instead of waiting for it to end.
 */
static void
cancel_poll_handler(void)
{
	if (!fl_cancel_pending(cancel_poll_exec))
		return;
	node_cancel_fired = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* The node's timers, armed and cleared in one go (one setitimer each way). */
static void
node_timers_start(FlExec *ex, int timeout_ms)
{
	EnableTimeoutParams t[2];
	int			n = 0;

	if (timeout_ms > 0)
	{
		t[n].id = node_timeout_id;
		t[n].type = TMPARAM_AFTER;
		t[n++].delay_ms = timeout_ms;
	}
	if (!ex->sync)
	{
		strlcpy(cancel_poll_exec, ex->id_str, sizeof(cancel_poll_exec));
		t[n].id = cancel_poll_id;
		t[n].type = TMPARAM_EVERY;
		t[n++].delay_ms = CANCEL_POLL_MS;
	}
	if (n > 0)
		enable_timeouts(t, n);
}

static void
node_timers_stop(FlExec *ex, int timeout_ms)
{
	DisableTimeoutParams t[2];
	int			n = 0;

	if (timeout_ms > 0)
	{
		t[n].id = node_timeout_id;
		t[n++].keep_indicator = false;
	}
	if (!ex->sync)
	{
		t[n].id = cancel_poll_id;
		t[n++].keep_indicator = false;
	}
	if (n > 0)
		disable_timeouts(t, n);
}

/* ---- node execution ---- */

static const char *const retryable_codes[] = {
	"SQL_ERROR", "TIMEOUT", "HTTP_ERROR", "CUSTOM_NODE_FAILED", "AI_UNAVAILABLE", "EMAIL_UNAVAILABLE", NULL
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

/* One attempt of a SQL node, inside its subtransaction (fl_subxact_try). */
typedef struct NodeAttempt
{
	FlExec	   *ex;
	FlNodeCall *call;
	FlNodeResult *res;
	void		(*fn) (FlNodeCall *, FlNodeResult *);
	int			timeout_ms;
	FlNodeScope scope;
	bool		entered;		/* the scope is open: close it after a failure */
} NodeAttempt;

static void
attempt_node(void *arg)
{
	NodeAttempt *a = arg;
	const FlNodeType *impl = a->call->def->info->impl;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			uid = InvalidOid;
	int			sec = 0;

	fl_node_enter(a->ex, &a->scope);
	a->entered = true;
	if (impl->flags & FL_NT_RUN_AS)
		fl_run_as_begin(a->ex, &uid, &sec);
	node_timers_start(a->ex, a->timeout_ms);
	a->fn(a->call, a->res);
	MemoryContextSwitchTo(cxt);	/* SPI leaves its own context current */
	node_timers_stop(a->ex, a->timeout_ms);
	if (node_timeout_fired || node_cancel_fired)
	{
		/*
		 * The node ended before it saw the interrupt: it must not hit
		 * whatever runs next (a cancel is still seen before the next node).
		 */
		QueryCancelPending = false;
		node_timeout_fired = node_cancel_fired = false;
	}
	if (impl->flags & FL_NT_RUN_AS)
		fl_run_as_end(uid, sec);
	fl_node_leave(&a->scope, true);
	a->entered = false;
}

/* One attempt; SQL nodes in a subtransaction, as run_as, with a timeout. */
static void
call_once(FlExec *ex, FlNodeCall *call, FlNodeResult *res, bool resume)
{
	const FlNodeType *impl = call->def->info->impl;
	void		(*fn) (FlNodeCall *, FlNodeResult *) = resume ? impl->resume : impl->execute;
	MemoryContext oldcxt = CurrentMemoryContext;
	int			timeout_ms = call->def->timeout_ms >= 0 ? call->def->timeout_ms : fl_node_timeout_ms;
	NodeAttempt a;
	ErrorData  *ed;
	bool		timed_out;
	bool		cancelled;

	if (!(impl->flags & FL_NT_SQL))
	{
		fn(call, res);
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	if (node_timeout_id == MAX_TIMEOUTS)
		node_timeout_id = RegisterTimeout(USER_TIMEOUT, node_timeout_handler);
	if (cancel_poll_id == MAX_TIMEOUTS)
		cancel_poll_id = RegisterTimeout(USER_TIMEOUT, cancel_poll_handler);
	node_timeout_fired = false;
	node_cancel_fired = false;

	a.ex = ex;
	a.call = call;
	a.res = res;
	a.fn = fn;
	a.timeout_ms = timeout_ms;
	a.entered = false;
	ed = fl_subxact_try(attempt_node, &a);
	if (ed == NULL)
		return;
	timed_out = node_timeout_fired;
	cancelled = node_cancel_fired && !timed_out && ed->sqlerrcode == ERRCODE_QUERY_CANCELED;
	node_timers_stop(ex, timeout_ms);
	if (a.entered)
		fl_node_leave(&a.scope, false);
	node_timeout_fired = false;
	node_cancel_fired = false;
	/* a real cancel or termination ends the whole statement */
	if (!timed_out && !cancelled && (ed->sqlerrcode == ERRCODE_QUERY_CANCELED ||
									 ed->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN))
		ReThrowError(ed);
	memset(res, 0, sizeof(*res));
	if (cancelled)
	{
		/* flowent.cancel of this execution: the node stops, the run ends cancelled */
		(void) fl_cancel_requested(ex->id_str, &ex->cancel_reason);
		fl_exec_cancelled(ex);
		fl_fail(res, "CANCELLED", "node \"%s\" was interrupted: %s", call->def->id, ex->error_message);
	}
	else if (timed_out)
		fl_fail(res, "TIMEOUT", "node \"%s\" timed out after %d ms", call->def->id, timeout_ms);
	else
		fl_fail(res, sql_error_code(impl, ed, false), "node \"%s\": %s%s%s",
				call->def->id, ed->message,
				ed->detail ? ": " : "", ed->detail ? ed->detail : "");
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

/* Extra keys of the step:failed event: the code, never the message. */
static Jsonb *
error_extra(FlNodeResult *res)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_str(&b, "errorCode", res->error_code);
	jb_obj_end(&b);
	return jb_finish(&b);
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

/* What a node can wait on: the one list. */
static const char *const wait_kinds[] = {
	FL_WAIT_APPROVAL, FL_WAIT_DELAY, FL_WAIT_WAIT, FL_WAIT_BREAKPOINT, FL_WAIT_SUB,
	FL_WAIT_HTTP, FL_WAIT_LOOP, FL_WAIT_RETRY,
};

/* The kind a recorded name stands for (a "wait" when unknown). */
const char *
fl_wait_kind(const char *name)
{
	for (int i = 0; name && i < lengthof(wait_kinds); i++)
		if (strcmp(name, wait_kinds[i]) == 0)
			return wait_kinds[i];
	return FL_WAIT_WAIT;
}

/* Record the waiting entries a suspension info object carries. */
static void
waiting_from_info(FlExec *ex, int n, Jsonb *info)
{
	JsonbValue	v,
				arr;

	add_waiting(ex, ex->id_str, ex->wf->nodes[n].id, fl_wait_kind(jb_get_cstring(info, "kind")),
				jb_get_cstring(info, "approvalId"));
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
						fl_wait_kind(ck), jb_get_cstring(w, "approvalId"));
		}
	}
}

/* Apply a node's result: output, log, events, edges. */
void
fl_finish_node(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res,
			TimestampTz started, bool resuming, int attempts)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	long		secs;
	int			usecs;
	int			dur;
	int			handle = -1;

	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	dur = (int) Min(secs * 1000 + usecs / 1000, PG_INT32_MAX);

	if (res->outcome == FL_SUCCESS && res->output != NULL &&
		(int64) VARSIZE(res->output) > fl_max_output_bytes)
	{
		int			size = (int) VARSIZE(res->output);

		memset(res, 0, sizeof(*res));
		fl_fail(res, "LIMIT_EXCEEDED", "node \"%s\": its output is %d bytes; the limit is %d (flowent.max_output_bytes)",
				nd->id, size, fl_max_output_bytes);
	}
	/* secrets resolved from {{credentials…}} never reach outputs, logs or events */
	if (ex->secrets != NIL)
	{
		res->output = fl_scrub_jsonb(ex, res->output);
		res->error_message = fl_scrub_text(ex, res->error_message);
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
									handle >= 0 ? nd->handles[handle] : NULL, attempts, res->tokens, res->cost);
			else
				fl_store_node_log(ex, n, "success", call->input, res->output, NULL, NULL,
								  handle >= 0 ? nd->handles[handle] : NULL, started, attempts,
								  res->tokens, res->cost);
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
										handle >= 0 ? nd->handles[handle] : NULL, attempts, 0, NULL);
				else
					fl_store_node_log(ex, n, "error", call->input, out, res->error_code,
									  res->error_message, handle >= 0 ? nd->handles[handle] : NULL,
									  started, attempts, 0, NULL);
				/* a node interrupted by a cancel: the run ends cancelled, as the cancel says */
				if (ex->cancelled)
					break;
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

				jb_obj_begin(&b);
				jb_kv_str(&b, "kind", res->wait_kind);
				if (res->approval_id)
					jb_kv_str(&b, "approvalId", res->approval_id);
				if (res->suspend_info)
					jb_kv_merge(&b, res->suspend_info, NULL);
				jb_obj_end(&b);
				info = jb_finish(&b);
				{
					JB			e = {0};

					jb_obj_begin(&e);
					jb_kv_str(&e, "reason", res->wait_kind);
					jb_kv_str(&e, "approvalId", res->approval_id);
					jb_obj_end(&e);
					fl_emit(ex, "node:suspended", n, "waiting", info, dur, jb_finish(&e));
				}
				if (resuming)
					fl_store_resume_log(ex, n, "waiting", info, NULL, NULL, NULL, attempts, 0, NULL);
				else
					fl_store_node_log(ex, n, "waiting", call->input, info, NULL, NULL, NULL,
									  started, attempts, 0, NULL);
				fl_sched_wait(ex->sched, n);
				/* a loop waits on its body's nodes, which are listed already */
				if (strcmp(res->wait_kind, FL_WAIT_LOOP) != 0)
					waiting_from_info(ex, n, info);
				break;
			}
	}
}

/*
 * One step of a node that works in steps (an agent's model call and the
 * tools it asked for): a step:progress event and a node-log row of its own
 * with the step's tokens and cost, in the iteration "<iteration>#<step>",
 * which no continuation reads as the node's.
 */
void
fl_log_node_step(FlExec *ex, int n, int step, Jsonb *output, TimestampTz started,
				 int64 tokens, Numeric cost)
{
	char		saved[sizeof(ex->iteration)];
	JB			e = {0};

	if (ex->secrets != NIL)
		output = fl_scrub_jsonb(ex, output);
	memcpy(saved, ex->iteration, sizeof(saved));
	snprintf(ex->iteration, sizeof(ex->iteration), "%s#%d", saved, step);
	jb_obj_begin(&e);
	jb_kv_int(&e, "step", step);
	jb_kv_int(&e, "tokens", tokens);
	jb_obj_end(&e);
	fl_emit(ex, "step:progress", n, "running", output, -1, jb_finish(&e));
	fl_store_node_log(ex, n, "success", NULL, output, NULL, NULL, NULL, started, 1, tokens, cost);
	memcpy(ex->iteration, saved, sizeof(saved));
}

/* Resolve the node's data (strictly) unless it resolves its own fields. */
bool
fl_node_config(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res)
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
FlPrior *
fl_prior_of(FlExec *ex, int n)
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

/* The longest Retry-After a run waits for: a synchronous one sleeps in its caller's statement. */
#define RETRY_AFTER_MAX_SYNC_MS 60000
#define RETRY_AFTER_MAX_ASYNC_MS 3600000

/*
 * The wait before attempt `next` of node nd after the error res: its backoff
 * (doubling with each attempt) or the server's Retry-After, the longer; -1
 * when the server asks for longer than the run waits (the error stands, and
 * says so).
 */
static int64
retry_wait_ms(FlExec *ex, FlNodeDef *nd, FlNodeResult *res, int next)
{
	int64		backoff = (int64) nd->retry_backoff_ms * (1 << Min(next - 2, 10));
	int64		limit = ex->sync ? RETRY_AFTER_MAX_SYNC_MS : RETRY_AFTER_MAX_ASYNC_MS;

	if (res->retry_after_ms > limit)
	{
		res->error_message = psprintf("%s (the server asks to retry after %lld s, longer than a%s run waits: %d s)",
									  res->error_message ? res->error_message : "",
									  (long long) (res->retry_after_ms / 1000),
									  ex->sync ? " synchronous" : "n asynchronous", (int) (limit / 1000));
		return -1;
	}
	return Max(backoff, res->retry_after_ms);
}

/* Wait wait_ms for attempt `next` of a failed node: its retry timer continues the node. */
static void
suspend_for_retry(FlExec *ex, int n, FlNodeResult *res, int next, int64 wait_ms)
{
	JB			b = {0};
	char	   *last_error = pstrdup(res->error_message ? res->error_message : "");
	Jsonb	   *kept = res->suspend_info;

	fl_store_timer(ex, n, "retry", TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms), NULL);
	jb_obj_begin(&b);
	jb_kv_int(&b, "attempt", next);
	jb_kv_str(&b, "lastError", last_error);
	/* what the node keeps for its next attempt (an agent's conversation) */
	if (kept)
		jb_kv_merge(&b, kept, "attempt");
	jb_obj_end(&b);
	memset(res, 0, sizeof(*res));
	res->outcome = FL_SUSPEND;
	res->wait_kind = FL_WAIT_RETRY;
	res->suspend_info = jb_finish(&b);
}

/* The attempt number recorded in a waiting node's info (1 when absent). */
static int
waiting_attempt(FlExec *ex, int n)
{
	JsonbValue	v;

	FlPrior    *p = fl_prior_of(ex, n);

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
		return;					/* res decided: bad config, or no request needed */
	fl_http_dispatcher(ex->id_str, call->def->id, ex->iteration, req);
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
		int64		wait = retry_wait_ms(ex, nd, res, *attempt + 1);

		/* the retry timer re-sends it (after the wait, if any) */
		if (wait >= 0)
		{
			(*attempt)++;
			suspend_for_retry(ex, n, res, *attempt, wait);
			res->wait_kind = FL_WAIT_HTTP;
		}
	}
	return true;
}

/* A call of node n on its input (which becomes the run's current input). */
void
fl_node_call_init(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res)
{
	memset(call, 0, sizeof(*call));
	memset(res, 0, sizeof(*res));
	call->ex = ex;
	call->node = n;
	call->def = &ex->wf->nodes[n];
	call->input = fl_node_input(ex, n);
	ex->cur_input = call->input;
}

/* Run a node's executor with retries, then apply the result. */
static void
execute_node(FlExec *ex, int n, bool resuming, Jsonb *resume_data)
{
	FlNodeDef  *nd = &ex->wf->nodes[n];
	FlNodeCall	call;
	FlNodeResult res;
	TimestampTz started = GetCurrentTimestamp();
	FlPrior    *p = resuming ? fl_prior_of(ex, n) : NULL;
	char	   *kind = p ? jb_get_cstring(p->output, "kind") : NULL;
	bool		retrying = kind && strcmp(kind, FL_WAIT_RETRY) == 0;
	bool		answered = kind && strcmp(kind, FL_WAIT_HTTP) == 0;
	int			attempt = retrying || answered ? waiting_attempt(ex, n) : 1;
	int64		wait;

	if (retrying)
		resume_data = NULL;		/* the timer fired: the next attempt runs afresh */
	fl_node_call_init(ex, n, &call, &res);
	call.resume_data = resume_data;
	if (!resuming)
		fl_emit(ex, "step:started", n, "running", NULL, -1, NULL);

	if (fl_node_config(ex, n, &call, &res) && !hand_over_http(ex, n, &call, &res, resuming, &attempt))
	{
		for (;; attempt++)
		{
			memset(&res, 0, sizeof(res));
			call.attempt = attempt;
			call_once(ex, &call, &res, resume_data != NULL && nd->info->impl->resume != NULL);
			if (res.outcome != FL_ERROR || attempt >= nd->retry_max || !is_retryable(res.error_code))
				break;
			wait = retry_wait_ms(ex, nd, &res, attempt + 1);
			if (wait < 0)
				break;
			if (wait > 0 && !ex->sync)
			{
				/* a worker never sleeps in its transaction: a timer starts the next attempt */
				suspend_for_retry(ex, n, &res, attempt + 1, wait);
				break;
			}
			if (wait > 0)
				backoff_sleep((int) wait);
		}
	}
	if (res.outcome == FL_SUCCESS && res.output == NULL)
		res.output = jsonb_null();
	/* a node that made its own request waits on it (an agent's next model call) */
	if (res.outcome == FL_SUSPEND && res.http_request)
	{
		JB			b = {0};

		fl_http_dispatcher(ex->id_str, nd->id, ex->iteration, res.http_request);
		jb_obj_begin(&b);
		jb_kv_int(&b, "attempt", attempt);
		if (res.suspend_info)
			jb_kv_merge(&b, res.suspend_info, "attempt");
		jb_obj_end(&b);
		res.suspend_info = jb_finish(&b);
	}
	if (res.outcome == FL_SUSPEND && res.wait_kind == NULL)
	{
		/* re-sent to a worker: the node keeps waiting as logged */
		fl_sched_wait(ex->sched, n);
		waiting_from_info(ex, n, fl_prior_of(ex, n)->output);
		return;
	}
	fl_finish_node(ex, n, &call, &res, started, resuming, attempt);
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
						  GetCurrentTimestamp(), 0, 0, NULL);
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
	FlPrior    *p = fl_prior_of(ex, n);

	CHECK_FOR_INTERRUPTS();
	if (p && p->status == 's')
	{
		reuse_node(ex, n, p);
		return;
	}
	if (p && p->status == 'w')
	{
		char	   *kind = jb_get_cstring(p->output, "kind");

		if (nd->info->impl->drive)
		{
			/* e.g. a loop that suspended in an iteration: go on from there */
			nd->info->impl->drive(ex, n, p->output);
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
			fl_store_node_log(ex, n, "skipped", NULL, NULL, NULL, NULL, NULL, GetCurrentTimestamp(), 0, 0, NULL);
			fl_sched_complete(ex->sched, n, -1);
			return;
		}
	}
	if (breakpoint_applies(ex, n))
	{
		FlNodeCall	call;
		FlNodeResult res;

		fl_node_call_init(ex, n, &call, &res);
		res.outcome = FL_SUSPEND;
		res.wait_kind = FL_WAIT_BREAKPOINT;
		fl_finish_node(ex, n, &call, &res, GetCurrentTimestamp(), false, 0);
		return;
	}
	if (nd->info->impl->drive)
		nd->info->impl->drive(ex, n, NULL);
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
		FlPrior    *p = fl_prior_of(ex, v);

		if (p && p->status == 'k')
			continue;			/* logged by the earlier run */
		fl_emit(ex, "state:update", v, "skipped", NULL, -1, NULL);
		fl_store_node_log(ex, v, "skipped", NULL, NULL, NULL, NULL, NULL, GetCurrentTimestamp(), 0, 0, NULL);
	}
}

/* A cancel request reached the run: it ends cancelled, with the reason. */
void
fl_exec_cancelled(FlExec *ex)
{
	ex->cancelled = true;
	ex->error_code = "CANCELLED";
	ex->error_message = ex->cancel_reason ? psprintf("cancelled: %s", ex->cancel_reason) : "cancelled";
}

/* Run every ready node of a scope until none is left. */
void
fl_run_scope(FlExec *ex, int slot)
{
	drain_skipped(ex);
	while (!ex->failed && !ex->cancelled)
	{
		int			n = fl_sched_next(ex->sched, slot);

		if (n < 0)
			break;
		/* flowent.cancel of an execution a worker is running */
		if (!ex->sync && fl_cancel_requested(ex->id_str, &ex->cancel_reason))
		{
			fl_exec_cancelled(ex);
			break;
		}
		run_node(ex, n);
		drain_skipped(ex);
	}
}

