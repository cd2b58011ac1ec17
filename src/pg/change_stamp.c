/*
 * change_stamp.c
 *	  A cluster-wide count of committed changes to what the gateway's cached
 *	  answers are made of, so a cached answer is checked with one cheap call
 *	  instead of being made again.
 *
 * A transaction that writes the workflows, their versions, executions, node
 * logs, workspaces or members (statement triggers, and the engine's bulk
 * node-log writes), or runs any utility statement but transaction control
 * and SET (DDL, GRANT, policies, partitions dropped, COMMIT PREPARED),
 * counts one at its commit, if it wrote anything at all (has a transaction
 * id; COMMIT PREPARED always).  The count goes up after the transaction became
 * visible (commit callbacks run after the proc array is updated) and before
 * its client hears of the commit, so:
 *	  - an answer computed by a statement that started after the stamp was
 *		read, while the stamp still reads the same, includes every change
 *		whose commit anybody was told of;
 *	  - a change not in that answer's snapshot counts after the stamp was
 *		read, and the stamp differs.
 * The stamp is NULL (nothing may be cached) when the count cannot be kept:
 * not preloaded, in recovery (replayed changes run no triggers).  Its epoch
 * is the time shared memory was made, so a restart never repeats a stamp.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "pg/change_stamp.h"
#include "worker/worker.h"

PG_FUNCTION_INFO_V1(flowent_change_stamp);
PG_FUNCTION_INFO_V1(flowent_note_change);

static bool changed = false;	/* counts if the transaction wrote anything */
static bool changed_always = false; /* counts anyway: COMMIT PREPARED */
static bool callback_registered = false;

static void
count_at_commit(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:

			/*
			 * A statement that changed no row (the workers' periodic looks,
			 * an UPDATE of nothing) left no transaction id: nothing to count.
			 * A prepared one counts again at its COMMIT PREPARED.
			 */
			if (fl_shared != NULL &&
				(changed_always || (changed && TransactionIdIsValid(GetTopTransactionIdIfAny()))))
				pg_atomic_fetch_add_u64(&fl_shared->changes, 1);
			changed = changed_always = false;
			break;
		case XACT_EVENT_ABORT:
			changed = changed_always = false;
			break;
		default:
			break;
	}
}

void
fl_note_change(bool always)
{
	if (!callback_registered)
	{
		RegisterXactCallback(count_at_commit, NULL);
		callback_registered = true;
	}
	changed = true;
	changed_always |= always;
}

/* Statement trigger on the tables cached answers read. */
Datum
flowent_note_change(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("flowent._note_change() must be called as a trigger")));
	fl_note_change(false);
	return PointerGetDatum(NULL);
}

Datum
flowent_change_stamp(PG_FUNCTION_ARGS)
{
	if (!fl_worker_available() || RecoveryInProgress())
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(psprintf(UINT64_FORMAT "." UINT64_FORMAT,
											  fl_shared->changes_epoch,
											  pg_atomic_read_u64(&fl_shared->changes))));
}
