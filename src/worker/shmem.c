/*
 * shmem.c
 *	  Shared state of the launcher and workers, wake-ups at commit, and
 *	  DROP DATABASE handling.
 *
 * Workers sleep on their latches.  A transaction that queues work marks its
 * database "pending" and sets the workers' latches from a commit callback,
 * so a worker never wakes for work that was rolled back.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include <signal.h>

#include "pg/change_stamp.h"
#include "worker/event_ring.h"
#include "worker/worker.h"

FlShared   *fl_shared = NULL;
char	   *fl_worker_databases = NULL;
int			fl_worker_count = 2;
int			fl_max_inflight_http = 512;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;
static bool wake_registered = false;
static bool wake_at_commit = false;
static bool rescan_at_commit = false;

/* Tell the launcher to look at this database again now. */
static void
rescan_now(void)
{
	SpinLockAcquire(&fl_shared->mutex);
	for (int i = 0; i < FL_MAX_DBS; i++)
		if (fl_shared->slots[i].dboid == MyDatabaseId)
		{
			fl_shared->slots[i].no_extension = false;
			fl_shared->slots[i].retry_at = 0;
		}
	pg_atomic_write_u32(&fl_shared->rescan, 1);
	if (fl_shared->launcher_latch)
		SetLatch(fl_shared->launcher_latch);
	SpinLockRelease(&fl_shared->mutex);
}

/* Reserve our shared memory (PG 15: from shmem_request_hook). */
static void
fl_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(FlShared)));
	RequestAddinShmemSpace(fl_event_ring_shmem_size());
	RequestNamedLWLockTranche("flowent events", FL_MAX_DBS);
}

static void
fl_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	fl_shared = ShmemInitStruct("flowent", sizeof(FlShared), &found);
	if (!found)
	{
		memset(fl_shared, 0, sizeof(FlShared));
		SpinLockInit(&fl_shared->mutex);
		pg_atomic_init_u32(&fl_shared->rescan, 0);
		pg_atomic_init_u64(&fl_shared->changes, 0);
		fl_shared->changes_epoch = (uint64) GetCurrentTimestamp();
		for (int i = 0; i < FL_MAX_DBS; i++)
			pg_atomic_init_u32(&fl_shared->slots[i].pending, 0);
	}
	fl_event_ring_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

/* Is the worker running for this cluster (preloaded)? */
bool
fl_worker_available(void)
{
	return fl_shared != NULL && process_shared_preload_libraries_done;
}

/*
 * Ask whichever worker runs this execution to stop it: at its next node, or
 * as it settles (fl_cancel_or_settle).  False when a worker already settled
 * it in a unit that has not committed: the caller waits for the execution's
 * row and sees how it ended.  Under the mutex, so a request is either seen
 * by the worker or refused here.
 */
bool
fl_request_cancel(const char *exec_id, const char *reason)
{
	FlCancelRequest *r;

	if (fl_shared == NULL)
		return false;
	SpinLockAcquire(&fl_shared->mutex);
	for (int i = 0; i < FL_SETTLE_SLOTS; i++)
		if (fl_shared->settling[i].pid != 0 && strcmp(fl_shared->settling[i].exec_id, exec_id) == 0)
		{
			SpinLockRelease(&fl_shared->mutex);
			return false;
		}
	r = &fl_shared->cancels[fl_shared->cancel_next];
	strlcpy(r->exec_id, exec_id, sizeof(r->exec_id));
	r->has_reason = reason != NULL;
	strlcpy(r->reason, reason ? reason : "", sizeof(r->reason));
	fl_shared->cancel_next = (fl_shared->cancel_next + 1) % FL_CANCEL_SLOTS;
	SpinLockRelease(&fl_shared->mutex);
	return true;
}

/*
 * Take a cancel request of this execution, if any; with settle and none, mark
 * the execution settling.  *reason is palloc'd (NULL: none given).
 */
static bool
cancel_check(const char *exec_id, char **reason, bool settle)
{
	bool		found = false;
	bool		has_reason = false;
	char		copy[FL_CANCEL_REASON_MAX];

	if (fl_shared == NULL)
		return false;
	SpinLockAcquire(&fl_shared->mutex);
	for (int i = 0; i < FL_CANCEL_SLOTS && !found; i++)
	{
		FlCancelRequest *r = &fl_shared->cancels[i];

		if (r->exec_id[0] && strcmp(r->exec_id, exec_id) == 0)
		{
			r->exec_id[0] = '\0';
			has_reason = r->has_reason;
			memcpy(copy, r->reason, sizeof(copy));
			found = true;
		}
	}
	for (int i = 0; i < FL_SETTLE_SLOTS && settle && !found; i++)
		if (fl_shared->settling[i].pid == 0)
		{
			strlcpy(fl_shared->settling[i].exec_id, exec_id, sizeof(fl_shared->settling[i].exec_id));
			fl_shared->settling[i].pid = MyProcPid;
			break;
		}
	/* (all settling slots taken, hundreds of units at once: a cancel may come too late) */
	SpinLockRelease(&fl_shared->mutex);
	if (found && reason)
		*reason = has_reason ? pstrdup(copy) : NULL;
	return found;
}

/*
 * Is a cancel of this execution waiting?  Without the lock and without
 * taking the request: safe in a signal handler (a request being written may
 * be missed once and is seen at the next look).
 */
bool
fl_cancel_pending(const char *exec_id)
{
	if (fl_shared == NULL)
		return false;
	for (int i = 0; i < FL_CANCEL_SLOTS; i++)
		if (strncmp(fl_shared->cancels[i].exec_id, exec_id, sizeof(fl_shared->cancels[i].exec_id)) == 0)
			return true;
	return false;
}

/* Was a cancel of this running execution requested? */
bool
fl_cancel_requested(const char *exec_id, char **reason)
{
	return cancel_check(exec_id, reason, false);
}

/*
 * A worker settles an execution (ends it, or suspends it): true when a
 * cancel was requested, which wins; else the execution counts as settling
 * until this worker's unit ends (fl_settled), and later cancels wait for its
 * row instead of asking.
 */
bool
fl_cancel_or_settle(const char *exec_id, char **reason)
{
	return cancel_check(exec_id, reason, true);
}

/* This worker's unit committed or rolled back: its executions settled. */
void
fl_settled(void)
{
	if (fl_shared == NULL)
		return;
	SpinLockAcquire(&fl_shared->mutex);
	for (int i = 0; i < FL_SETTLE_SLOTS; i++)
		if (fl_shared->settling[i].pid == MyProcPid)
			fl_shared->settling[i].pid = 0;
	SpinLockRelease(&fl_shared->mutex);
}

/* Mark a database's work pending and wake its workers. */
void
fl_wake_db(Oid dboid)
{
	if (fl_shared == NULL)
		return;
	SpinLockAcquire(&fl_shared->mutex);
	for (int i = 0; i < FL_MAX_DBS; i++)
	{
		FlDbSlot   *s = &fl_shared->slots[i];

		if (s->dboid != dboid)
			continue;
		pg_atomic_write_u32(&s->pending, 1);
		for (int k = 0; k < FL_MAX_WORKERS; k++)
			if (s->latches[k])
				SetLatch(s->latches[k]);
	}
	SpinLockRelease(&fl_shared->mutex);
}

static void
wake_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		if (wake_at_commit)
			fl_wake_db(MyDatabaseId);
		if (rescan_at_commit)
			rescan_now();
		wake_at_commit = rescan_at_commit = false;
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = rescan_at_commit = false;
}

static void
register_callback(void)
{
	if (!wake_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		wake_registered = true;
	}
}

/* After this transaction commits, the launcher looks at this database. */
void
fl_rescan_at_commit(void)
{
	if (fl_shared == NULL)
		return;
	register_callback();
	rescan_at_commit = true;
}

/* Wake this database's workers when the current transaction commits. */
void
fl_wake_at_commit(void)
{
	if (fl_shared == NULL)
		return;
	register_callback();
	wake_at_commit = true;
}

/*
 * DROP DATABASE waits for every session connected to the database; our
 * workers are such sessions.  Stop them first and keep the launcher from
 * restarting them while the drop runs.
 */
static void
stop_workers_of(Oid dboid)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 5000);

	for (;;)
	{
		bool		any = false;

		SpinLockAcquire(&fl_shared->mutex);
		for (int i = 0; i < FL_MAX_DBS; i++)
		{
			FlDbSlot   *s = &fl_shared->slots[i];

			if (s->dboid != dboid)
				continue;
			s->dropping_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 30000);
			for (int k = 0; k <= FL_EVENTS_INDEX; k++)
				if (s->pids[k] != 0)
				{
					kill(s->pids[k], SIGTERM);
					any = true;
				}
		}
		SpinLockRelease(&fl_shared->mutex);
		if (!any || GetCurrentTimestamp() > deadline)
			break;
		pg_usleep(10000);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Any utility statement may change what a cached answer shows (DDL, GRANT,
 * policies, partitions dropped, COMMIT PREPARED), except transaction control
 * and settings.
 */
static bool
changes_what_caches_show(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_TransactionStmt:
			return ((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED;
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_ExplainStmt:		/* what it runs counts for itself */
		case T_ListenStmt:
		case T_UnlistenStmt:
		case T_NotifyStmt:
		case T_CheckPointStmt:
		case T_DeclareCursorStmt:
		case T_FetchStmt:
		case T_ClosePortalStmt:
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
		case T_DiscardStmt:
		case T_CallStmt:		/* likewise */
		case T_DoStmt:
			return false;
		default:
			return true;
	}
}

static void
fl_utility_hook(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				ProcessUtilityContext context, ParamListInfo params,
				QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (fl_shared && IsA(pstmt->utilityStmt, DropdbStmt))
	{
		DropdbStmt *stmt = (DropdbStmt *) pstmt->utilityStmt;
		Oid			dboid = get_database_oid(stmt->dbname, true);

		if (OidIsValid(dboid))
			stop_workers_of(dboid);
	}
	if (changes_what_caches_show(pstmt->utilityStmt))
		fl_note_change(IsA(pstmt->utilityStmt, TransactionStmt));
	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* Check hook: flowent.workers within what shared memory holds. */
static bool
check_databases(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("flowent.database must be \"*\" or a comma-separated list of database names.");
		return false;
	}
	return true;
}

/*
 * PostgreSQL only warns about a bad value of an extension's setting read
 * from the configuration file and goes on with the default; a worker pool
 * silently running with other settings than written is worse than not
 * starting, so refuse here (an error while preloading stops the server).
 */
static void
check_startup_value(const char *name, int min, int max)
{
	const char *raw = GetConfigOption(name, true, false);
	char	   *end;
	long		v;

	if (raw == NULL)
		return;
	errno = 0;
	v = strtol(raw, &end, 10);
	while (*end == ' ')
		end++;
	if (errno != 0 || end == raw || *end != '\0' || v < min || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"%s\": \"%s\"", name, raw),
				 errdetail("%s must be an integer from %d to %d.", name, min, max)));
}

/* Settings, shared memory and the launcher; only when preloaded. */
void
fl_worker_init(void)
{
	BackgroundWorker bgw;

	if (!process_shared_preload_libraries_in_progress)
		return;
	check_startup_value("flowent.workers", 1, FL_MAX_WORKERS);
	check_startup_value("flowent.max_inflight_http", 1, 100000);
	check_startup_value("flowent.event_buffer_kb", 16, 1024 * 1024);
	DefineCustomStringVariable("flowent.database",
							   "Databases the background workers serve: * (every database with the extension) or a comma-separated list.",
							   NULL, &fl_worker_databases, "*", PGC_POSTMASTER, 0,
							   check_databases, NULL, NULL);
	DefineCustomIntVariable("flowent.workers",
							"Background workers per served database.",
							NULL, &fl_worker_count, 2, 1, FL_MAX_WORKERS,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.max_inflight_http",
							"Outbound HTTP requests one worker keeps in flight at once.",
							NULL, &fl_max_inflight_http, 512, 1, 100000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("flowent.event_buffer_kb",
							"Shared memory per served database for committed events waiting for its events process.",
							NULL, &fl_event_buffer_kb, 256, 16, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = fl_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = fl_shmem_startup;
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = fl_utility_hook;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "flowent");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "fl_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "flowent launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "flowent launcher");
	RegisterBackgroundWorker(&bgw);
}
