/*
 * launcher.c
 *	  The launcher: finds the databases to serve and keeps their workers up.
 *
 * It connects to no database (shared catalogs only), lists pg_database, and
 * starts `flowent.workers` dynamic workers per database.  A worker that finds
 * no extension in its database says so and exits quietly; the launcher looks
 * again later, or at once when CREATE EXTENSION asks it to
 * (flowent._launcher_rescan()).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
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
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "worker/worker.h"

#define RESCAN_MS 10000

typedef struct DbEntry
{
	Oid			oid;
	char		name[NAMEDATALEN];
} DbEntry;

/* Worker handles of this launcher, per slot and worker index. */
static BackgroundWorkerHandle *handles[FL_MAX_DBS][FL_MAX_WORKERS + 1];

/* Is this database named by flowent.database? */
static bool
db_selected(const char *name)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;

	if (strcmp(fl_worker_databases, "*") == 0)
		return true;
	copy = pstrdup(fl_worker_databases);
	if (!SplitIdentifierString(copy, ',', &names))
		return false;
	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/* Databases that accept connections and are not templates. */
static List *
list_databases(void)
{
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	MemoryContext outer = CurrentMemoryContext;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;
		DbEntry    *e;

		if (!db->datallowconn || db->datistemplate)
			continue;
		old = MemoryContextSwitchTo(outer);
		e = palloc0(sizeof(DbEntry));
		e->oid = db->oid;
		strlcpy(e->name, NameStr(db->datname), NAMEDATALEN);
		result = lappend(result, e);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/* The slot of a database, creating it; -1 when all slots are taken. */
static int
slot_for(Oid dboid)
{
	int			free_slot = -1;

	for (int i = 0; i < FL_MAX_DBS; i++)
	{
		if (fl_shared->slots[i].dboid == dboid)
			return i;
		if (fl_shared->slots[i].dboid == InvalidOid && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0)
	{
		FlDbSlot   *s = &fl_shared->slots[free_slot];

		s->dboid = dboid;
		s->nworkers = 0;
		s->no_extension = false;
		s->retry_at = 0;
		s->dropping_until = 0;
		memset(s->pids, 0, sizeof(s->pids));
		memset(s->latches, 0, sizeof(s->latches));
	}
	return free_slot;
}

/* Start worker k of a database (k == FL_EVENTS_INDEX: its events process) unless it runs. */
static bool
start_worker(int slot, int k, Oid dboid, const char *dbname)
{
	BackgroundWorker bgw;
	pid_t		pid;
	bool		events = k == FL_EVENTS_INDEX;

	if (handles[slot][k] != NULL &&
		GetBackgroundWorkerPid(handles[slot][k], &pid) != BGWH_STOPPED)
		return true;
	if (handles[slot][k])
	{
		pfree(handles[slot][k]);
		handles[slot][k] = NULL;
	}
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "flowent");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, events ? "fl_events_main" : "fl_worker_main");
	if (events)
		snprintf(bgw.bgw_name, BGW_MAXLEN, "flowent events for %s", dbname);
	else
		snprintf(bgw.bgw_name, BGW_MAXLEN, "flowent worker %d for %s", k, dbname);
	snprintf(bgw.bgw_type, BGW_MAXLEN, events ? "flowent events" : "flowent worker");
	bgw.bgw_main_arg = ObjectIdGetDatum(dboid);
	memcpy(bgw.bgw_extra, &k, sizeof(int));
	memcpy(bgw.bgw_extra + sizeof(int), &slot, sizeof(int));
	bgw.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&bgw, &handles[slot][k]))
	{
		ereport(LOG, (errmsg("flowent: could not start a worker for database \"%s\"", dbname),
					  errhint("Raise max_worker_processes.")));
		return false;
	}
	return true;
}

/* Start the missing events process and workers of one database. */
static void
start_workers(int slot, Oid dboid, const char *dbname)
{
	if (!start_worker(slot, FL_EVENTS_INDEX, dboid, dbname))
		return;
	for (int k = 0; k < fl_worker_count; k++)
		if (!start_worker(slot, k, dboid, dbname))
			return;
}

/* Stop tracking a slot whose database is gone. */
static void
forget_slot(int i)
{
	for (int k = 0; k <= FL_EVENTS_INDEX; k++)
		if (handles[i][k])
		{
			pfree(handles[i][k]);
			handles[i][k] = NULL;
		}
	SpinLockAcquire(&fl_shared->mutex);
	fl_shared->slots[i].dboid = InvalidOid;
	SpinLockRelease(&fl_shared->mutex);
}

/* One pass: serve every selected database that has (or may have) the extension. */
static void
launcher_scan(void)
{
	List	   *dbs = list_databases();
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	bool		present[FL_MAX_DBS];

	memset(present, 0, sizeof(present));
	foreach(lc, dbs)
	{
		DbEntry    *e = lfirst(lc);
		int			slot;
		FlDbSlot   *s;
		bool		skip;

		if (!db_selected(e->name))
			continue;
		SpinLockAcquire(&fl_shared->mutex);
		slot = slot_for(e->oid);
		if (slot >= 0)
		{
			s = &fl_shared->slots[slot];
			skip = (s->no_extension && now < s->retry_at) || now < s->dropping_until;
			if (s->no_extension && now >= s->retry_at)
				s->no_extension = false;
		}
		else
			skip = true;
		SpinLockRelease(&fl_shared->mutex);
		if (slot < 0)
		{
			ereport(LOG, (errmsg("flowent: more than %d databases to serve; \"%s\" is not served", FL_MAX_DBS, e->name)));
			continue;
		}
		present[slot] = true;
		if (!skip)
			start_workers(slot, e->oid, e->name);
	}
	for (int i = 0; i < FL_MAX_DBS; i++)
		if (fl_shared->slots[i].dboid != InvalidOid && !present[i])
			forget_slot(i);
	list_free_deep(dbs);
}

/* Launcher entry point. */
void
fl_launcher_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("flowent launcher");

	SpinLockAcquire(&fl_shared->mutex);
	fl_shared->launcher_latch = MyLatch;
	SpinLockRelease(&fl_shared->mutex);

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		pg_atomic_write_u32(&fl_shared->rescan, 0);
		launcher_scan();
		if (pg_atomic_read_u32(&fl_shared->rescan))
			continue;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 RESCAN_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

PG_FUNCTION_INFO_V1(flowent_launcher_rescan);

/* CREATE EXTENSION asks the launcher to look at this database once it commits. */
Datum
flowent_launcher_rescan(PG_FUNCTION_ARGS)
{
	if (fl_shared == NULL)
		PG_RETURN_BOOL(false);
	fl_rescan_at_commit();
	PG_RETURN_BOOL(true);
}
