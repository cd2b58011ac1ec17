/*
 * lease.c
 *	  The lease that makes one worker at a time hold an execution.
 *
 * A heavyweight lock of the "userlock" tag type (PostgreSQL keeps the type
 * for extensions; no SQL function takes such locks: advisory locks have
 * their own type), with database, class = the oid of
 * flowent.workflow_executions, object = hashtext(execution id).  So no user
 * can take the lease or block it.  It is in the user lock method, whose
 * session locks survive a transaction's abort (the default method's do
 * not), and process death releases it.  pg_advisory_unlock_all() would
 * release it too: a node that calls it, or takes a session-level advisory
 * lock, gets this worker's leases taken again when it ends
 * (fl_http_multi_rehold).  pg_locks shows it as locktype 'userlock'.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"

#include "worker/worker.h"

static void
lease_tag(LOCKTAG *tag, const char *exec_id)
{
	Oid			rel = get_relname_relid("workflow_executions", get_namespace_oid("flowent", false));
	uint32		key = DatumGetUInt32(hash_any((const unsigned char *) exec_id, strlen(exec_id)));

	if (!OidIsValid(rel))
		elog(ERROR, "flowent.workflow_executions not found");
	tag->locktag_field1 = MyDatabaseId;
	tag->locktag_field2 = rel;
	tag->locktag_field3 = key;
	tag->locktag_field4 = 0;
	tag->locktag_type = LOCKTAG_USERLOCK;
	tag->locktag_lockmethodid = USER_LOCKMETHOD;
}

/* Take the lease for this transaction; false if another process holds it. */
bool
fl_lease_try(const char *exec_id)
{
	LOCKTAG		tag;

	lease_tag(&tag, exec_id);
	return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

/* Hold the lease beyond this transaction (an HTTP request in flight). */
void
fl_lease_hold(const char *exec_id)
{
	LOCKTAG		tag;

	lease_tag(&tag, exec_id);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
}

/* Give back the lease held beyond the transaction (fl_lease_hold). */
void
fl_lease_release(const char *exec_id)
{
	LOCKTAG		tag;

	lease_tag(&tag, exec_id);
	(void) LockRelease(&tag, ExclusiveLock, true);
}

/*
 * Give back, before the transaction ends, the lease fl_lease_try took for
 * it (releasing it as a session lock would warn "you don't own a lock").
 */
void
fl_lease_return(const char *exec_id)
{
	LOCKTAG		tag;

	lease_tag(&tag, exec_id);
	(void) LockRelease(&tag, ExclusiveLock, false);
}
