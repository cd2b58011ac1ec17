/*
 * worker.c
 *	  A worker of one database: claims queued executions and due timers and
 *	  runs them, one short transaction per unit of work.
 *
 * Work is claimed with FOR UPDATE SKIP LOCKED, so workers never wait on each
 * other.  An execution is held by one worker at a time through a
 * lease (lease.c) on its id, which process death releases;
 * a claim whose transaction does not commit puts the work back, so a killed
 * worker loses nothing.  Between units the worker sleeps on its latch until
 * a committing transaction queues work or the next timer is due.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg/engine.h"
#include "pg/jsonb_util.h"
#include "pg/http.h"
#include "pg/subxact.h"
#include "pg/table_changes.h"
#include "worker/worker.h"

#define MAX_SLEEP_MS 60000

static int	my_slot = -1;
static TimestampTz last_housekeeping = 0;
static TimestampTz last_prune_look = 0;
static TimestampTz last_upkeep = 0;
static TimestampTz last_reap = 0;
static int	my_index = -1;
static bool queue_busy = false; /* queued work was held elsewhere: look again soon */
static bool look = true;		/* the latch was set: there may be work */
static TimestampTz next_look = 0;	/* a timer is due, or time to look anyway */

/* Leave the slot on exit so wake-ups and DROP DATABASE stop counting us. */
static void
worker_detach(int code, Datum arg)
{
	if (fl_shared == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&fl_shared->mutex);
	fl_shared->slots[my_slot].pids[my_index] = 0;
	fl_shared->slots[my_slot].latches[my_index] = NULL;
	SpinLockRelease(&fl_shared->mutex);
	fl_settled();
}

/*
 * The stable code of an error that escaped a run (the nodes' own errors
 * never get here): what a user can act on, never an "internal" one.
 */
static const char *
escaped_error_code(int sqlerrcode)
{
	if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		return "PERMISSION_DENIED";
	if (ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_INSUFFICIENT_RESOURCES)
		return "LIMIT_EXCEEDED";
	if (sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		return "TIMEOUT";
	if (ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
		return "VALIDATION_FAILED";
	return "SQL_ERROR";
}

/*
 * An execution whose run raised: failed, not re-queued (it would only fail
 * again), with its workflow:complete event.  Inside a unit.
 */
static void
mark_failed(const char *exec_id, ErrorData *ed)
{
	Oid			types[3] = {UUIDOID, TEXTOID, TEXTOID};
	Datum		a[3];
	const char *code = escaped_error_code(ed->sqlerrcode);

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = CStringGetTextDatum(ed->message ? ed->message : "the execution failed");
	a[2] = CStringGetTextDatum(code);
	if (fl_spi_args("UPDATE flowent.workflow_executions SET status = 'error', error = $2, error_code = $3, "
					" completed_at = clock_timestamp(), updated_at = clock_timestamp(), seq = seq + 1, "
					" duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int "
					"WHERE id = $1 AND status IN ('pending', 'running', 'suspended') "
					"RETURNING workflow_id::text, seq", 3, types, a, NULL, false, 0) == SPI_OK_UPDATE_RETURNING &&
		SPI_processed == 1)
	{
		bool		isnull;

		fl_send_complete_event(exec_id, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
							   DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)),
							   "error", code);
	}
	fl_spi_args("DELETE FROM flowent.run_queue WHERE execution_id = $1", 1, types, a, NULL, false, 0);
	fl_spi_args("DELETE FROM flowent.timers WHERE execution_id = $1", 1, types, a, NULL, false, 0);
}

/* Did the worker itself get stopped (not the execution's fault)? */
static bool
worker_interrupted(ErrorData *ed)
{
	return ed->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		ed->sqlerrcode == ERRCODE_QUERY_CANCELED;
}

/* Start a unit of work: a transaction with SPI and a snapshot. */
void
fl_unit_begin(const char *what)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(CurTransactionContext);
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, what);
}

/* Commit a unit of work (the worker shows as idle until the next). */
void
fl_unit_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	fl_settled();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Commit a unit, then send the requests of nodes that just suspended on HTTP. */
static void
end_unit(void)
{
	fl_unit_commit();
	fl_http_multi_start_pending();
	pgstat_report_stat(false);
}

/*
 * An error escaped a unit: report it, roll back (its claims go back to the
 * queue), and mark the execution failed so it cannot loop forever; unless
 * the worker itself was stopped, then the execution is taken up again (from
 * the queue, or by orphan recovery).  The one place a failed unit ends.
 */
void
fl_unit_failed(const char *exec_id)
{
	ErrorData  *ed;
	MemoryContext ecxt = MemoryContextSwitchTo(TopMemoryContext);

	ed = CopyErrorData();
	MemoryContextSwitchTo(ecxt);
	EmitErrorReport();
	FlushErrorState();
	AbortCurrentTransaction();
	fl_settled();
	pgstat_report_activity(STATE_IDLE, NULL);
	fl_http_multi_drop_pending();
	if (exec_id == NULL || worker_interrupted(ed))
	{
		FreeErrorData(ed);
		return;
	}
	PG_TRY();
	{
		fl_unit_begin("flowent: recording a failed execution");
		mark_failed(exec_id, ed);
		end_unit();
	}
	PG_CATCH();
	{
		fl_unit_abandon();
	}
	PG_END_TRY();
	FreeErrorData(ed);
}

/* A unit that failed where the loop goes on: its error logged, its transaction gone. */
void
fl_unit_abandon(void)
{
	EmitErrorReport();
	FlushErrorState();
	AbortCurrentTransaction();
}

/*
 * Lock the execution's root row (the one lock order of decisions) without
 * waiting: a canceller holding it may wait for the queue or timer row this
 * unit claimed.  On failure the lease just taken goes back.
 */
static bool
lock_root(const char *exec_id)
{
	if (fl_lock_execution_root(exec_id, false))
		return true;
	fl_lease_return(exec_id);
	return false;
}

#define CLAIM_BATCH 32
#define CLAIM_BUDGET_MS 20

typedef struct Claim
{
	char	   *exec_id;
	char	   *reason;
	char	   *node_id;
	char	   *at;				/* which wait of node_id (waiting_iteration in run.c) */
	Jsonb	   *data;
} Claim;

/*
 * Run one claimed execution in a subtransaction: a failure there fails that
 * execution only, not the others claimed with it.
 */
static void
run_claimed(void *arg)
{
	Claim	   *c = arg;

	if (strcmp(c->reason, "start") == 0)
		(void) fl_start_execution(c->exec_id);
	else
		(void) fl_continue_if_waiting(c->exec_id, c->node_id, c->at, c->data, false);
}

static void
run_claim(Claim *c)
{
	ErrorData  *ed = fl_subxact_try(run_claimed, c);

	if (ed == NULL)
		return;
	/* a real shutdown request ends the worker */
	if (worker_interrupted(ed))
		ReThrowError(ed);
	ereport(LOG, (errmsg("flowent: execution %s failed: %s", c->exec_id, ed->message)));
	fl_http_multi_drop_pending_for(c->exec_id);
	mark_failed(c->exec_id, ed);
}

/*
 * Claim one queued execution (a start or a continuation), oldest first,
 * that no other worker or decision holds.  Its lease and root row are
 * taken before its queue row is touched: a canceller holding the root may
 * be deleting that row, so the worker must not wait for it, and an
 * execution held elsewhere stays queued, skipped for the rest of this unit.
 * False: none is due.
 */
static bool
claim_one(Claim *c, List **skipped)
{
	static SPIPlanPtr next_plan = NULL;
	static SPIPlanPtr take_plan = NULL;

	for (;;)
	{
		Oid			types[1] = {INT8ARRAYOID};
		Datum		a[1];
		Datum	   *ids = palloc(sizeof(Datum) * (list_length(*skipped) + 1));
		int			nids = 0;
		ListCell   *lc;
		HeapTuple	tup;
		TupleDesc	d;
		bool		isnull;
		Datum		dd;
		int64		qid;
		char	   *exec_id;

		foreach(lc, *skipped)
			ids[nids++] = Int64GetDatum(*(int64 *) lfirst(lc));
		a[0] = PointerGetDatum(construct_array(ids, nids, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		if (fl_owner_query(&next_plan, "SELECT id, execution_id::text FROM flowent.run_queue "
						   "WHERE available_at <= clock_timestamp() AND id <> ALL ($1) ORDER BY id LIMIT 1",
						   1, types, a, NULL, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look at the queue");
		if (SPI_processed == 0)
			return false;
		qid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		exec_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		if (fl_lease_try(exec_id) && lock_root(exec_id))
		{
			Oid			t1[1] = {INT8OID};
			Datum		a1[1] = {Int64GetDatum(qid)};

			/* which wait it continues: "__at", else a child's result names the child */
			if (fl_owner_query(&take_plan, "DELETE FROM flowent.run_queue WHERE id = $1 "
							   "RETURNING execution_id::text, reason, node_id, data - '__at', "
							   "  coalesce(data->>'__at', data->>'executionId')",
							   1, t1, a1, NULL, 1) != SPI_OK_DELETE_RETURNING)
				elog(ERROR, "could not claim work");
			if (SPI_processed == 1)
			{
				tup = SPI_tuptable->vals[0];
				d = SPI_tuptable->tupdesc;
				c->exec_id = SPI_getvalue(tup, d, 1);
				c->reason = SPI_getvalue(tup, d, 2);
				c->node_id = SPI_getvalue(tup, d, 3);
				dd = SPI_getbinval(tup, d, 4, &isnull);
				c->data = isnull ? jsonb_from_cstring("{}", 2) : DatumGetJsonbPCopy(dd);
				c->at = SPI_getvalue(tup, d, 5);
				return true;
			}
			/* claimed and done by another worker meanwhile: nothing to run */
			fl_lease_return(exec_id);
		}
		/* held by another worker or decision: it stays queued, for later */
		{
			int64	   *p = palloc(sizeof(int64));

			*p = qid;
			*skipped = lappend(*skipped, p);
		}
	}
}

/*
 * Run queued executions in one transaction, so one commit covers many:
 * claimed one at a time, for up to CLAIM_BATCH of them or CLAIM_BUDGET_MS,
 * so what this worker has not started stays in the queue for the others
 * (one slow execution holds up only itself).  Returns how many were
 * claimed.
 */
static int
run_queued(void)
{
	volatile int nclaimed = 0;

	PG_TRY();
	{
		TimestampTz began;
		Claim		c;
		List	   *skipped = NIL;

		fl_unit_begin("flowent: claiming queued work");
		began = GetCurrentTimestamp();
		while (nclaimed < CLAIM_BATCH &&
			   !TimestampDifferenceExceeds(began, GetCurrentTimestamp(), CLAIM_BUDGET_MS) &&
			   claim_one(&c, &skipped))
		{
			nclaimed++;
			CHECK_FOR_INTERRUPTS();
			pgstat_report_activity(STATE_RUNNING, "flowent: running an execution");
			run_claim(&c);
		}
		queue_busy = skipped != NIL;
		end_unit();
	}
	PG_CATCH();
	{
		fl_unit_failed(NULL);
	}
	PG_END_TRY();
	return nclaimed;
}

static int64 claimed_batch;		/* set before a batch's error can be raised */

/*
 * Turn one batch of a table's changed rows into queued executions.  A batch
 * that fails keeps its rows with the error, so it is not retried forever.
 * False: none waits.
 */

static bool
queue_table_changes(void)
{
	volatile bool found = false;

	claimed_batch = 0;
	PG_TRY();
	{
		fl_unit_begin("flowent: queuing a table's changes");
		found = fl_table_changes_queue_next(&claimed_batch);
		end_unit();
	}
	PG_CATCH();
	{
		ErrorData  *ed;
		MemoryContext ecxt = MemoryContextSwitchTo(TopMemoryContext);

		ed = CopyErrorData();
		MemoryContextSwitchTo(ecxt);
		fl_unit_abandon();
		if (worker_interrupted(ed))
			ReThrowError(ed);
		found = claimed_batch != 0;
		if (found)
		{
			PG_TRY();
			{
				fl_unit_begin("flowent: recording a failed table change batch");
				fl_table_changes_failed(claimed_batch, ed->message ? ed->message : "the batch could not be queued");
				end_unit();
			}
			PG_CATCH();
			{
				fl_unit_abandon();
			}
			PG_END_TRY();
		}
		FreeErrorData(ed);
	}
	PG_END_TRY();
	return found;
}

/* Fire one due timer.  False: none due. */
static bool
fire_timer(void)
{
	char	   *volatile exec_id = NULL;
	volatile bool found = false;

	PG_TRY();
	{
		fl_unit_begin("flowent: firing a timer");
		if (fl_spi("UPDATE flowent.timers SET fired_at = clock_timestamp() WHERE id = ("
				   " SELECT id FROM flowent.timers WHERE fired_at IS NULL AND fire_at <= clock_timestamp() "
				   " ORDER BY fire_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
				   "RETURNING execution_id::text, node_id, kind, payload->>'approvalId', "
				   "  coalesce(payload->>'approvalId', payload->>'iteration')", false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "could not claim a timer");
		if (SPI_processed > 0)
		{
			HeapTuple	tup = SPI_tuptable->vals[0];
			TupleDesc	d = SPI_tuptable->tupdesc;
			char	   *node_id = SPI_getvalue(tup, d, 2);
			char	   *kind = SPI_getvalue(tup, d, 3);
			char	   *approval_id = SPI_getvalue(tup, d, 4);
			char	   *at = SPI_getvalue(tup, d, 5);
			JB			b = {0};
			bool		approval = false;
			bool		proceed = true;

			exec_id = MemoryContextStrdup(TopMemoryContext, SPI_getvalue(tup, d, 1));
			found = fl_lease_try(exec_id) && lock_root(exec_id);
			jb_obj_begin(&b);
			if (!found)
				proceed = false;
			else if (strcmp(kind, "approval_expiry") == 0)
			{
				Oid			types[3] = {UUIDOID, TEXTOID, TEXTOID};
				Datum		a[3];
				char		nulls[3] = {' ', ' ', approval_id ? ' ' : 'n'};

				a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
				a[1] = CStringGetTextDatum(node_id);
				a[2] = approval_id ? CStringGetTextDatum(approval_id) : (Datum) 0;
				fl_spi_args("UPDATE flowent.workflow_approval_requests SET status = 'expired', "
							" resolved_at = clock_timestamp(), resolved_by = 'system' "
							"WHERE execution_id = $1 AND node_id = $2 AND status = 'pending' "
							"  AND ($3 IS NULL OR id::text = $3)",
							3, types, a, nulls, false, 0);
				proceed = SPI_processed > 0;	/* else it was decided meanwhile */
				approval = true;
				jb_kv_bool(&b, "approved", false);
				jb_kv_bool(&b, "expired", true);
				jb_key(&b, "comment");
				jb_null(&b);
				jb_key(&b, "approvedBy");
				jb_null(&b);
				jb_kv_str(&b, "decidedAt", DatumGetCString(DirectFunctionCall1(timestamptz_out,
																			   TimestampTzGetDatum(GetCurrentTimestamp()))));
			}
			else if (strcmp(kind, "wait_timeout") == 0)
				jb_kv_bool(&b, "__timeout", true);
			jb_obj_end(&b);
			if (proceed)
				(void) fl_continue_if_waiting(exec_id, node_id, at, jb_finish(&b), approval);
		}
		if (exec_id && !found)
		{
			/* its execution is held elsewhere: roll back so the timer fires again */
			SPI_finish();
			PopActiveSnapshot();
			AbortCurrentTransaction();
			fl_settled();
		}
		else
			end_unit();
	}
	PG_CATCH();
	{
		fl_unit_failed(exec_id);
	}
	PG_END_TRY();
	if (exec_id)
		pfree(exec_id);
	return found;
}

/* Milliseconds until the next timer is due (capped). */
static long
next_timer_ms(void)
{
	volatile long ms = MAX_SLEEP_MS;

	PG_TRY();
	{
		fl_unit_begin("flowent: looking for timers");
		if (fl_spi("SELECT ceil(extract(epoch FROM min(fire_at) - clock_timestamp()) * 1000)::bigint "
				   "FROM flowent.timers WHERE fired_at IS NULL AND fire_at < 'infinity'", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			bool		isnull;
			Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				ms = Max(0, Min(MAX_SLEEP_MS, DatumGetInt64(v)));
		}
		end_unit();
	}
	PG_CATCH();
	{
		fl_unit_failed(NULL);
	}
	PG_END_TRY();
	return ms;
}

/*
 * Executions waiting on an HTTP response that no worker holds (their worker
 * died, or the server restarted): queue them so the request is sent again,
 * at most ORPHAN_TRIES times, 5 s, 10 s, 20 s ... apart; then the execution
 * fails with ORPHANED.  The count lives in the waiting node log.
 */
#define ORPHAN_TRIES 5

/*
 * Node logs are joined by their key (execution_id, id): by id alone the plan
 * held a sequential scan of every node log, never run but costed, and past
 * a million rows its cost had each look JIT-compiled (1.9 s of CPU every
 * five seconds per worker, with nothing to recover).  The executions come
 * first in FROM: locked before the node logs, as every writer does
 * (node_logs.c).
 */
static void
recover_orphans(void)
{
	PG_TRY();
	{
		fl_unit_begin("flowent: looking for abandoned HTTP requests");
		if (fl_spi("WITH o AS ("
				   " SELECT l.id, l.execution_id, l.node_id, l.iteration, coalesce((l.output->>'recoveries')::int, 0) AS n "
				   " FROM flowent.workflow_executions e "
				   " JOIN flowent.workflow_node_logs l ON l.execution_id = e.id "
				   " WHERE e.status = 'suspended' AND l.status = 'waiting' "
				   "  AND l.output->>'kind' = 'http' "
				   "  AND coalesce((l.output->>'recoveredAt')::timestamptz, '-infinity') <= "
				   "      clock_timestamp() - make_interval(secs => 5 * 2 ^ least(coalesce((l.output->>'recoveries')::int, 0) - 1, 10)) "
				   "  AND NOT EXISTS (SELECT 1 FROM flowent.run_queue q WHERE q.execution_id = l.execution_id) "
				   "  AND NOT EXISTS (SELECT 1 FROM flowent.timers t WHERE t.execution_id = l.execution_id "
				   "                  AND t.node_id = l.node_id AND t.fired_at IS NULL) "
				   "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks k WHERE k.locktype = 'userlock' AND k.granted "
				   "                  AND k.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) "
				   "                  AND k.classid = 'flowent.workflow_executions'::regclass "
				   "                  AND k.objid = hashtext(l.execution_id::text)::oid) "
				   " FOR UPDATE OF l, e SKIP LOCKED), "
				   "counted AS (UPDATE flowent.workflow_node_logs l SET output = l.output || "
				   "  jsonb_build_object('recoveries', o.n + 1, 'recoveredAt', clock_timestamp()) "
				   "  FROM o WHERE l.execution_id = o.execution_id AND l.id = o.id AND o.n < " CppAsString2(ORPHAN_TRIES) " RETURNING 1), "
				   "queued AS (INSERT INTO flowent.run_queue (execution_id, reason, node_id, data) "
				   "  SELECT execution_id, 'resume', node_id, jsonb_build_object('__at', iteration) "
				   "  FROM o WHERE n < " CppAsString2(ORPHAN_TRIES) " RETURNING 1), "
				   "gave_up AS (UPDATE flowent.workflow_executions e SET status = 'error', error_code = 'ORPHANED', "
				   "  error = format('the HTTP request of node %s was abandoned %s times (its worker stopped before the response); recovery gave up', o.node_id, o.n), "
				   "  error_node_id = o.node_id, completed_at = clock_timestamp(), updated_at = clock_timestamp(), seq = e.seq + 1, "
				   "  duration_ms = (extract(epoch FROM clock_timestamp() - e.started_at) * 1000)::int "
				   "  FROM o WHERE e.id = o.execution_id AND o.n >= " CppAsString2(ORPHAN_TRIES) " RETURNING e.id, e.workflow_id, e.seq, o.id AS log_id), "
				   "log_failed AS (UPDATE flowent.workflow_node_logs l SET status = 'error', completed_at = clock_timestamp(), "
				   "  error = 'recovery gave up: ORPHANED' FROM gave_up g WHERE l.execution_id = g.id AND l.id = g.log_id RETURNING 1) "
				   "SELECT g.id::text, g.workflow_id::text, g.seq FROM gave_up g, "
				   " (SELECT count(*) FROM counted) c, (SELECT count(*) FROM queued) q, (SELECT count(*) FROM log_failed) f",
				   false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not look for abandoned HTTP requests");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;

			ereport(LOG, (errmsg("flowent: execution %s: its HTTP request was abandoned %d times; it failed with ORPHANED",
								 SPI_getvalue(tup, d, 1), ORPHAN_TRIES)));
			fl_send_complete_event(SPI_getvalue(tup, d, 1), SPI_getvalue(tup, d, 2),
								   DatumGetInt32(SPI_getbinval(tup, d, 3, &isnull)), "error", "ORPHANED");
		}
		end_unit();
	}
	PG_CATCH();
	{
		fl_unit_failed(NULL);
	}
	PG_END_TRY();
}

/*
 * History retention: about every flowent.prune_interval seconds one worker
 * of the database prunes (flowent._prune_if_due picks it), in a unit of its
 * own, and says what it removed.
 */
static void
prune_if_due(void)
{
	PG_TRY();
	{
		Oid			types[1] = {INT4OID};
		Datum		a[1] = {Int32GetDatum(fl_prune_interval_s)};
		bool		isnull;

		fl_unit_begin("flowent: pruning history");
		if (fl_spi_args("SELECT flowent._prune_if_due($1)", 1, types, a, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not prune");
		if (SPI_processed == 1)
		{
			Datum		n = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				ereport(LOG, (errmsg("flowent: retention: removed " INT64_FORMAT " executions", DatumGetInt64(n))));
		}
		end_unit();
	}
	PG_CATCH();
	{
		fl_unit_failed(NULL);
	}
	PG_END_TRY();
}

/*
 * Looked after when a worker starts and then every ten seconds (each look is
 * an index or catalog lookup when there is nothing to do): history is
 * partitioned by day, and the partitions of today and the next two days are
 * made ahead, so that a day's runs find theirs; budget reservations that no
 * response settled count as spent once their execution is over.
 */
static void
upkeep(void)
{
	PG_TRY();
	{
		fl_unit_begin("flowent: making history partitions, settling budget reservations");
		if (fl_spi("SELECT flowent._add_partitions(), flowent._budget_sweep()", false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not make the history partitions or settle budget reservations");
		end_unit();
	}
	PG_CATCH();
	{
		fl_unit_failed(NULL);
	}
	PG_END_TRY();
}

/*
 * Does this database have the extension, in the version this library runs?
 * An older one waits for ALTER EXTENSION flowent UPDATE (its tables lack
 * what this build writes).
 */
static bool
extension_present(void)
{
	bool		present = false;

	fl_unit_begin("flowent: checking for the extension");
	if (fl_spi("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'flowent'", true, 1) == SPI_OK_SELECT &&
		SPI_processed > 0)
	{
		char	   *version = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		present = strcmp(version, FL_EXTVERSION) == 0;
		if (!present)
			ereport(LOG,
					(errmsg("flowent: database \"%s\" has flowent %s, this library runs %s: its executions wait",
							get_database_name(MyDatabaseId), version, FL_EXTVERSION),
					 errhint("Run ALTER EXTENSION flowent UPDATE in that database.")));
	}
	end_unit();
	return present;
}

/*
 * The start of a process of one database (a worker, its events process):
 * bgw_main_arg is the database, bgw_extra (index, slot).  Connects, and
 * fixes search_path for its own statements, which run as a superuser:
 * nothing in the database may shadow what they call (nodes get the
 * database's default back, fl_node_enter).  Without the extension in this
 * version it tells the launcher, which looks again later, and exits.
 * Returns the slot.
 */
int
fl_worker_attach(Datum arg, const char *appname, int *index)
{
	int			slot;

	memcpy(index, MyBgworkerEntry->bgw_extra, sizeof(int));
	memcpy(&slot, MyBgworkerEntry->bgw_extra + sizeof(int), sizeof(int));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(arg), InvalidOid, 0);
	pgstat_report_appname(appname);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
	if (!extension_present())
	{
		SpinLockAcquire(&fl_shared->mutex);
		fl_shared->slots[slot].no_extension = true;
		fl_shared->slots[slot].retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 10000);
		SpinLockRelease(&fl_shared->mutex);
		proc_exit(0);
	}
	return slot;
}

/* Worker entry point: bgw_main_arg is the database, bgw_extra (index, slot). */
void
fl_worker_main(Datum arg)
{
	my_slot = fl_worker_attach(arg, "flowent worker", &my_index);
	SpinLockAcquire(&fl_shared->mutex);
	fl_shared->slots[my_slot].pids[my_index] = MyProcPid;
	fl_shared->slots[my_slot].latches[my_index] = MyLatch;
	SpinLockRelease(&fl_shared->mutex);
	before_shmem_exit(worker_detach, (Datum) 0);
	fl_http_multi_init();
	recover_orphans();
	upkeep();
	last_upkeep = GetCurrentTimestamp();
	look = true;

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		bool		worked = false;
		long		wait_ms;
		long		secs;
		int			usecs;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		/* the queue and timers are looked at when woken, or when a timer is due */
		if (look || now >= next_look)
		{
			long		sleep_ms;
			bool		batches;

			/* clear before looking, so work queued meanwhile wakes us again */
			pg_atomic_exchange_u32(&fl_shared->slots[my_slot].pending, 0);
			/* batches come with a wake-up: looked for once per look, and on while there are some */
			batches = true;
			for (int i = 0; i < 1000; i++)
			{
				bool		a = run_queued() > 0;
				bool		b = fire_timer();

				if (batches)
					batches = queue_table_changes();
				CHECK_FOR_INTERRUPTS();
				if (!a && !b && !batches)
					break;
				worked = true;
			}
			/* a due timer or queued work we could not take (its execution is busy): look again soon */
			sleep_ms = queue_busy ? 20 : Max(next_timer_ms(), 10);
			now = GetCurrentTimestamp();
			next_look = TimestampTzPlusMilliseconds(now, Min(sleep_ms, 5000));
			look = false;
		}
		if (TimestampDifferenceExceeds(last_housekeeping, now, 5000))
		{
			recover_orphans();
			last_housekeeping = now;
		}
		if (TimestampDifferenceExceeds(last_upkeep, now, 10 * 1000))
		{
			upkeep();
			last_upkeep = now;
		}
		/* looked at once a minute, or as often as the interval asks */
		if (fl_prune_interval_s > 0 &&
			TimestampDifferenceExceeds(last_prune_look, now, Min(fl_prune_interval_s, 60) * 1000))
		{
			prune_if_due();
			last_prune_look = now;
		}
		/* cancel aborts requests in flight */
		if (fl_http_multi_inflight() > 0 && TimestampDifferenceExceeds(last_reap, now, 250))
		{
			fl_http_multi_reap_cancelled();
			last_reap = now;
		}
		if (worked || pg_atomic_read_u32(&fl_shared->slots[my_slot].pending))
		{
			look = true;
			continue;
		}
		TimestampDifference(GetCurrentTimestamp(), next_look, &secs, &usecs);
		wait_ms = secs * 1000 + usecs / 1000;
		if (fl_http_multi_inflight() > 0)
		{
			pgstat_report_stat(false);	/* at most once a second */
			look = fl_http_multi_wait(Min(wait_ms, 250));
		}
		else
		{
			int			rc;

			pgstat_report_stat(true);	/* table statistics, for autovacuum */
			rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
									   wait_ms, PG_WAIT_EXTENSION);

			ResetLatch(MyLatch);
			look = (rc & WL_LATCH_SET) != 0;
		}
	}
}
