/*
 * http_multi.c
 *	  Outbound HTTP of asynchronous executions: one curl multi handle per
 *	  worker drives every request at once, so waiting on HTTP never blocks a
 *	  worker and in-flight calls are not limited by the number of workers.
 *
 * The engine suspends an async execution at an HTTP node (log "waiting",
 * kind "http") after the node's request was described; the worker holds the
 * execution with a session advisory lock, starts the transfer once the
 * suspension has committed, and continues the execution from that node with
 * the response in a new transaction.  If the worker dies, the lock goes with
 * it and any worker re-sends the request (same Idempotency-Key): delivery is
 * at-least-once.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/snapmgr.h"

#include "pg/engine.h"
#include "pg/http_async.h"
#include "nodes/llm_stream.h"
#include "pg/jsonb_util.h"
#include "worker/worker.h"

typedef struct Transfer
{
	char		exec_id[64];
	char		node_id[NAMEDATALEN * 2];
	char		iteration[256];	/* of the node's loop, "" outside loops */
	MemoryContext cxt;			/* holds this struct and the request copy */
	FlHttpRequest req;
	FlHttpResponse resp;
	CURL	   *easy;
	bool		started;
	FlLlmStream *stream;		/* a streamed answer: its text so far is reported */
	TimestampTz reported_at;
} Transfer;

/* how often a streamed answer's text so far is stored and announced, at most */
#define PROGRESS_INTERVAL_MS 100

static CURLM *multi = NULL;
static MemoryContext transfer_cxt = NULL;

/* the sockets curl wants watched (CURL_POLL_IN/OUT/INOUT), and its timer */
typedef struct Watched
{
	curl_socket_t fd;
	int			what;
} Watched;
static Watched *watched = NULL;
static int	nwatched = 0;
static int	watched_cap = 0;
static bool curl_timer_set = false;
static TimestampTz curl_timer_at = 0;
static List *pending = NIL;		/* described in the current unit, not started */
static List *inflight = NIL;

static char *
copy_str(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

static bool
same_transfer(Transfer *t, const char *exec_id, const char *node_id, const char *iteration)
{
	return strcmp(t->exec_id, exec_id) == 0 && strcmp(t->node_id, node_id) == 0 &&
		strcmp(t->iteration, iteration) == 0;
}

/* The engine hands over a request of a suspending node (inside a unit). */
static void
dispatch(const char *exec_id, const char *node_id, const char *iteration, FlHttpRequest *req)
{
	MemoryContext old;
	Transfer   *t;
	ListCell   *lc;

	/* already being sent by this worker (two continuations of one orphan) */
	foreach(lc, pending)
		if (same_transfer(lfirst(lc), exec_id, node_id, iteration))
			return;
	foreach(lc, inflight)
		if (same_transfer(lfirst(lc), exec_id, node_id, iteration))
			return;
	{
		MemoryContext cxt = AllocSetContextCreate(transfer_cxt, "flowent http transfer",
												  ALLOCSET_SMALL_SIZES);

		old = MemoryContextSwitchTo(cxt);
		t = palloc0(sizeof(Transfer));
		t->cxt = cxt;
	}
	strlcpy(t->exec_id, exec_id, sizeof(t->exec_id));
	strlcpy(t->node_id, node_id, sizeof(t->node_id));
	strlcpy(t->iteration, iteration, sizeof(t->iteration));
	t->req = *req;
	t->req.node_id = t->node_id;
	t->req.method = copy_str(req->method);
	t->req.url = copy_str(req->url);
	t->req.idempotency_key = copy_str(req->idempotency_key);
	t->req.headers = NIL;
	foreach(lc, req->headers)
		t->req.headers = lappend(t->req.headers, copy_str(lfirst(lc)));
	if (req->body)
	{
		t->req.body = palloc(req->body_len + 1);
		memcpy(t->req.body, req->body, req->body_len);
		t->req.body[req->body_len] = '\0';
	}
	if (req->naccept > 0)
	{
		t->req.accept = palloc(sizeof(FlHttpStatusRange) * req->naccept);
		memcpy(t->req.accept, req->accept, sizeof(FlHttpStatusRange) * req->naccept);
	}
	if (req->smtp)
	{
		t->req.smtp = palloc0(sizeof(FlSmtp));
		t->req.smtp->from = copy_str(req->smtp->from);
		t->req.smtp->username = copy_str(req->smtp->username);
		t->req.smtp->password = copy_str(req->smtp->password);
		foreach(lc, req->smtp->rcpts)
			t->req.smtp->rcpts = lappend(t->req.smtp->rcpts, copy_str(lfirst(lc)));
	}
	if (req->stream)
	{
		t->stream = palloc(sizeof(FlLlmStream));
		fl_llm_stream_init(t->stream);
	}
	pending = lappend(pending, t);
	MemoryContextSwitchTo(old);

	/* hold the execution beyond this transaction, until the response is in */
	fl_lease_hold(exec_id);
}

/* Release the lease in a transaction of its own (after a failed unit). */
static void
release_lease_alone(const char *exec_id)
{
	PG_TRY();
	{
		fl_unit_begin("flowent: releasing an execution");
		fl_lease_release(exec_id);
		fl_unit_commit();
	}
	PG_CATCH();
	{
		fl_unit_abandon();
	}
	PG_END_TRY();
}

static void
transfer_free(Transfer *t)
{
	if (t->easy)
	{
		if (t->started)
			curl_multi_remove_handle(multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	fl_http_response_free(&t->resp);
}

/* A node released every session-level user lock: hold ours again. */
static void
rehold_leases(void)
{
	ListCell   *lc;

	foreach(lc, pending)
		fl_lease_hold(((Transfer *) lfirst(lc))->exec_id);
	foreach(lc, inflight)
		fl_lease_hold(((Transfer *) lfirst(lc))->exec_id);
}

/* curl tells which sockets to watch for what (CURLMOPT_SOCKETFUNCTION). */
static int
socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	int			i;

	for (i = 0; i < nwatched && watched[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < nwatched)
			watched[i] = watched[--nwatched];
		return 0;
	}
	if (i == nwatched)
	{
		if (nwatched == watched_cap)
		{
			watched_cap = Max(64, watched_cap * 2);
			watched = watched ? repalloc(watched, sizeof(Watched) * watched_cap) :
				MemoryContextAlloc(TopMemoryContext, sizeof(Watched) * watched_cap);
		}
		nwatched++;
	}
	watched[i].fd = fd;
	watched[i].what = what;
	return 0;
}

/* curl's next timeout (CURLMOPT_TIMERFUNCTION); -1 removes it. */
static int
timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	curl_timer_set = timeout_ms >= 0;
	curl_timer_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), Max(timeout_ms, 0));
	return 0;
}

/* Run curl's timer if it is due; returns milliseconds until it is (-1: none). */
static long
run_due_timer(void)
{
	int			running;

	for (int i = 0; i < 100 && curl_timer_set; i++)
	{
		long		secs;
		int			usecs;

		if (curl_timer_at > GetCurrentTimestamp())
		{
			TimestampDifference(GetCurrentTimestamp(), curl_timer_at, &secs, &usecs);
			return secs * 1000 + (usecs + 999) / 1000;
		}
		curl_timer_set = false;
		curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	return curl_timer_set ? 0 : -1;
}

/* Set up the worker's multi handle and become the engine's dispatcher. */
void
fl_http_multi_init(void)
{
	fl_http_global_init();
	multi = curl_multi_init();
	if (multi == NULL)
		elog(ERROR, "could not create a curl multi handle");
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) fl_max_inflight_http);
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	transfer_cxt = AllocSetContextCreate(TopMemoryContext, "flowent http transfers",
										 ALLOCSET_DEFAULT_SIZES);
	fl_http_dispatcher = dispatch;
	fl_after_session_lock_release = rehold_leases;
}

/* The unit that described requests committed: start them. */
void
fl_http_multi_start_pending(void)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		Transfer   *t = lfirst(lc);

		fl_http_response_init(&t->resp);
		t->easy = curl_easy_init();
		if (t->easy == NULL || fl_http_easy_setup(t->easy, &t->req, &t->resp) != CURLE_OK)
		{
			/* cannot even start: complete it as a failure */
			strlcpy(t->resp.errbuf, "could not set up the transfer", sizeof(t->resp.errbuf));
			t->started = false;
			inflight = lappend(inflight, t);
			continue;
		}
		curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
		curl_multi_add_handle(multi, t->easy);	/* curl sets its timer: the next wait starts it */
		t->started = true;
		inflight = lappend(inflight, t);
	}
	list_free(pending);
	pending = NIL;
}

/* The unit failed: its requests are not sent (the run is re-done later). */
void
fl_http_multi_drop_pending(void)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		Transfer   *t = lfirst(lc);

		release_lease_alone(t->exec_id);
		MemoryContextDelete(t->cxt);
	}
	list_free(pending);
	pending = NIL;
}

/* One execution's unit part failed: forget its described requests. */
void
fl_http_multi_drop_pending_for(const char *exec_id)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		Transfer   *t = lfirst(lc);

		if (strcmp(t->exec_id, exec_id) != 0)
			continue;
		fl_lease_release(t->exec_id);
		pending = foreach_delete_current(pending, lc);
		MemoryContextDelete(t->cxt);
	}
}

int
fl_http_multi_inflight(void)
{
	return list_length(inflight);
}

/* Continue an execution with a finished transfer, in its own transaction. */
static void
complete(Transfer *t, CURLcode code)
{
	FlHttpCompletion c;

	if (t->started)
		fl_http_finish(t->easy, &t->resp);
	c.req = &t->req;
	c.resp = &t->resp;
	c.code = t->started ? code : CURLE_FAILED_INIT;
	PG_TRY();
	{
		fl_unit_begin("flowent: continuing after an HTTP response");
		(void) fl_lock_execution_root(t->exec_id, true);
		fl_http_completion = &c;
		(void) fl_continue_if_waiting(t->exec_id, t->node_id, t->iteration, jsonb_from_cstring("{}", 2),
									 false);
		fl_http_completion = NULL;
		fl_lease_release(t->exec_id);
		fl_unit_commit();
		fl_http_multi_start_pending();	/* a retry, or the next HTTP node */
	}
	PG_CATCH();
	{
		fl_http_completion = NULL;
		/* the execution fails (re-sending the request would only fail again) */
		fl_unit_failed(t->exec_id);
		/* the lease stays held by this session */
		release_lease_alone(t->exec_id);
	}
	PG_END_TRY();
}

/* Continue the executions of finished transfers. */
static bool
complete_finished(void)
{
	CURLMsg    *msg;
	int			left;
	bool		done_any = false;
	ListCell   *lc;

	/* transfers that could not start complete at once */
	foreach(lc, inflight)
	{
		Transfer   *t = lfirst(lc);

		if (!t->started)
		{
			inflight = foreach_delete_current(inflight, lc);
			complete(t, CURLE_FAILED_INIT);
			transfer_free(t);
			MemoryContextDelete(t->cxt);
			done_any = true;
		}
	}
	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
	{
		Transfer   *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		if (t == NULL)
			continue;
		inflight = list_delete_ptr(inflight, t);
		complete(t, msg->data.result);
		transfer_free(t);
		MemoryContextDelete(t->cxt);
		done_any = true;
	}
	return done_any;
}

/* Store a streamed answer's text so far and announce it (inside a unit). */
static void
store_progress(Transfer *t)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		a[4];
	bool		isnull;

	if (plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("INSERT INTO flowent.node_progress AS p (execution_id, node_id, iteration, text) "
									"SELECT $1, $2, $3, $4 FROM flowent.workflow_executions e "
									"WHERE e.id = $1 AND e.status = 'suspended' "
									"ON CONFLICT (execution_id, node_id, iteration) DO UPDATE "
									"SET text = EXCLUDED.text, updated_at = clock_timestamp() "
									"RETURNING (SELECT e.workflow_id::text FROM flowent.workflow_executions e WHERE e.id = $1)",
									4, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		plan = p;
	}
	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(t->exec_id));
	a[1] = CStringGetTextDatum(t->node_id);
	a[2] = CStringGetTextDatum(t->iteration);
	a[3] = CStringGetTextDatum(t->stream->text.data);
	if (SPI_execute_plan(plan, a, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not store the progress of node \"%s\"", t->node_id);
	if (SPI_processed == 1)
		fl_send_progress_event(t->exec_id, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
							   t->node_id, "llm-agent", t->iteration, t->stream->text.len);
	(void) isnull;
}

/*
 * The text so far of the streamed answers that grew, stored and announced
 * (step:progress) in one transaction, at most every PROGRESS_INTERVAL_MS
 * per transfer.
 */
static void
report_progress(void)
{
	TimestampTz now = GetCurrentTimestamp();
	List	   *due = NIL;
	ListCell   *lc;

	foreach(lc, inflight)
	{
		Transfer   *t = lfirst(lc);

		if (t->stream && t->started && t->resp.body_len > t->stream->pos && !t->stream->done &&
			TimestampDifferenceExceeds(t->reported_at, now, PROGRESS_INTERVAL_MS))
			due = lappend(due, t);
	}
	if (due == NIL)
		return;
	PG_TRY();
	{
		fl_unit_begin("flowent: reporting streamed answers");
		foreach(lc, due)
		{
			Transfer   *t = lfirst(lc);
			MemoryContext old = MemoryContextSwitchTo(t->cxt);
			bool		grew = fl_llm_stream_feed(t->stream, t->resp.body, t->resp.body_len, false);

			MemoryContextSwitchTo(old);
			t->reported_at = now;
			if (grew)
				store_progress(t);
		}
		fl_unit_commit();
	}
	PG_CATCH();
	{
		fl_unit_abandon();
	}
	PG_END_TRY();
	list_free(due);
}

/*
 * Sleep until one of curl's sockets is ready, curl's timer is due, the latch
 * is set or timeout_ms passed, and drive the transfers that can move; the
 * executions of finished ones continue.  One wait for everything: with
 * requests in flight the worker sleeps as it does without (no polling).
 * Returns true when the latch was set (there may be new work).
 */
bool
fl_http_multi_wait(long timeout_ms)
{
	WaitEventSet *set;
	WaitEvent  *events;
	int			nready;
	int			running = 0;
	bool		latch = false;
	long		wait_ms = timeout_ms;
	long		timer_ms;

	if (complete_finished() && inflight == NIL)
		return false;
	timer_ms = run_due_timer();
	if (timer_ms >= 0)
		wait_ms = Min(wait_ms, timer_ms);
	set = CreateWaitEventSet(CurrentMemoryContext, nwatched + 2);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < nwatched; i++)
		AddWaitEventToSet(set, (watched[i].what & CURL_POLL_IN ? WL_SOCKET_READABLE : 0) |
						  (watched[i].what & CURL_POLL_OUT ? WL_SOCKET_WRITEABLE : 0),
						  watched[i].fd, NULL, NULL);
	events = palloc(sizeof(WaitEvent) * (nwatched + 2));
	nready = WaitEventSetWait(set, wait_ms, events, nwatched + 2, PG_WAIT_EXTENSION);
	FreeWaitEventSet(set);
	for (int i = 0; i < nready; i++)
	{
		WaitEvent  *e = &events[i];
		int			mask = 0;

		if (e->events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			latch = true;
			continue;
		}
		if (e->events & WL_SOCKET_READABLE)
			mask |= CURL_CSELECT_IN;
		if (e->events & WL_SOCKET_WRITEABLE)
			mask |= CURL_CSELECT_OUT;
		if (mask)
			curl_multi_socket_action(multi, e->fd, mask, &running);
	}
	pfree(events);
	(void) run_due_timer();
	CHECK_FOR_INTERRUPTS();
	(void) complete_finished();
	report_progress();
	return latch;
}

/* Drop transfers of executions that were cancelled meanwhile. */
void
fl_http_multi_reap_cancelled(void)
{
	ListCell   *lc;

	if (inflight == NIL)
		return;
	PG_TRY();
	{
		fl_unit_begin("flowent: looking for cancelled executions");
		foreach(lc, inflight)
		{
			Transfer   *t = lfirst(lc);
			Oid			types[1] = {UUIDOID};
			Datum		a[1];

			a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(t->exec_id));
			if (fl_spi_args("SELECT 1 FROM flowent.workflow_executions WHERE id = $1 AND status = 'cancelled'",
							1, types, a, NULL, true, 1) == SPI_OK_SELECT && SPI_processed > 0)
			{
				fl_lease_release(t->exec_id);
				inflight = foreach_delete_current(inflight, lc);
				transfer_free(t);
				MemoryContextDelete(t->cxt);
			}
		}
		fl_unit_commit();
	}
	PG_CATCH();
	{
		fl_unit_abandon();
	}
	PG_END_TRY();
}
