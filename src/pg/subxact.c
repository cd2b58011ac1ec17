/*
 * subxact.c
 *	  Run a piece of work in an internal subtransaction and trap its error:
 *	  the one copy of PostgreSQL's subtransaction error-trap pattern.
 *
 * fn runs in a subtransaction; if it raises, the subtransaction is rolled
 * back (undoing its writes, locks and settings) and the error is returned,
 * copied into the caller's memory context, with the caller's context and
 * resource owner restored.  The caller decides what the error means (and
 * re-throws a cancel or shutdown).  NULL: fn succeeded.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/resowner.h"

#include "pg/subxact.h"

ErrorData *
fl_subxact_try(FlSubxactFn fn, void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile ed = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		ed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	return ed;
}
