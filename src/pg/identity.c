/*
 * identity.c
 *	  Who the engine's SQL runs as: the schema owner for its bookkeeping, the
 *	  workflow's run_as role (as stored in the execution) for user SQL.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "utils/syscache.h"

#include "pg/context.h"
#include "pg/engine.h"

static Oid	owner_oid = InvalidOid;

/* The owner of the flowent schema, who owns the engine's tables. */
Oid
fl_owner_oid(void)
{
	if (!OidIsValid(owner_oid))
	{
		HeapTuple	tup = SearchSysCache1(NAMESPACEOID,
										  ObjectIdGetDatum(get_namespace_oid("flowent", false)));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "schema flowent not found");
		owner_oid = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
		ReleaseSysCache(tup);
	}
	return owner_oid;
}

/*
 * Become the execution's run_as role for user SQL (security-restricted), as
 * stored in its context; a superuser run_as only for that superuser.
 */
void
fl_run_as_begin(FlExec *ex, Oid *saved_uid, int *saved_sec)
{
	GetUserIdAndSecContext(saved_uid, saved_sec);
	if (!OidIsValid(ex->run_as_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the run_as role \"%s\" of workflow \"%s\" no longer exists",
						ex->run_as ? ex->run_as : "?", ex->wf->name)));
	/* anyone else would get superuser SQL */
	if (superuser_arg(ex->run_as_oid) && strcmp(ex->run_as, ex->user_id) != 0)
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("workflow \"%s\" runs as superuser \"%s\"; only \"%s\" may run it, not \"%s\"",
							   ex->wf->name, ex->run_as, ex->run_as, ex->user_id),
						errhint("Set runAs to a role without superuser rights.")));
	SetUserIdAndSecContext(ex->run_as_oid,
						   *saved_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
}

void
fl_run_as_end(Oid saved_uid, int saved_sec)
{
	SetUserIdAndSecContext(saved_uid, saved_sec);
}

