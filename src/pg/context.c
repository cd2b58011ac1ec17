/*
 * context.c
 *	  Who is acting, and what a running node may not change.
 *
 * The acting user is held in backend memory, not in a setting a query could
 * change: the gateway sets it per transaction with flowent.set_acting_user()
 * (members of flowent_gateway only), and it is cleared when the transaction
 * ends.  While a node runs, the acting user is its execution's user,
 * whatever the session says, and set_acting_user() is refused.
 *
 * A node that runs SQL runs inside a GUC nest level that is rolled back when
 * it ends: every setting it changes, SET and set_config(..., false)
 * included, is reverted (stricter than a function's SET clause, after
 * which a plain SET persists).  Session-level advisory locks it takes are
 * released, and a read-only node that writes anything fails.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "pg/context.h"
#include "pg/engine.h"

PG_FUNCTION_INFO_V1(flowent_set_acting_user);
PG_FUNCTION_INFO_V1(flowent_current_user_id);
PG_FUNCTION_INFO_V1(flowent_caller_id);

static char *acting_user = NULL;	/* in TopMemoryContext */
static FlExec *node_exec = NULL;	/* execution of the innermost running node */
static int	node_depth = 0;
static const char *starting_user = NULL;	/* fl_start_as; the caller's memory */

void		(*fl_after_session_lock_release) (void) = NULL;

static void
clear_acting_user(void)
{
	if (acting_user)
		pfree(acting_user);
	acting_user = NULL;
}

static void
context_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			clear_acting_user();
			node_exec = NULL;
			node_depth = 0;
			starting_user = NULL;
			break;
		default:
			break;
	}
}

void
fl_context_init(void)
{
	RegisterXactCallback(context_xact_callback, NULL);
}

/*
 * Advisory locks this backend holds (session or transaction level), read
 * from its own lock lists: cheap, as it mostly holds none.
 */
static int
advisory_locks_held(void)
{
	int			n = 0;

	for (int i = 0; i < NUM_LOCK_PARTITIONS; i++)
	{
		LWLock	   *partition = LockHashPartitionLockByIndex(i);
		SHM_QUEUE  *head = &MyProc->myProcLocks[i];
		PROCLOCK   *pl;

		if (SHMQueueEmpty(head))
			continue;
		LWLockAcquire(partition, LW_SHARED);
		for (pl = (PROCLOCK *) SHMQueueNext(head, head, offsetof(PROCLOCK, procLink));
			 pl != NULL;
			 pl = (PROCLOCK *) SHMQueueNext(head, &pl->procLink, offsetof(PROCLOCK, procLink)))
			if (pl->holdMask != 0 && pl->tag.myLock->tag.locktag_type == LOCKTAG_ADVISORY)
				n++;
		LWLockRelease(partition);
	}
	return n;
}

/* The execution's user while a node runs, else the gateway's, else NULL. */
static const char *
acting_user_if_set(void)
{
	return starting_user ? starting_user : node_exec ? node_exec->user_id : acting_user;
}

/*
 * The user who starts the runs a table trigger makes, for the time it
 * makes them (its creator, whoever wrote the rows); returns the previous
 * one, for the caller to restore.  Not reachable from SQL.
 */
const char *
fl_start_as(const char *user_id)
{
	const char *prev = starting_user;

	starting_user = user_id;
	return prev;
}

/*
 * The acting user: the user of the execution whose node is running, else
 * the one the gateway set for this transaction, else the current role.
 */
char *
fl_current_user_id(void)
{
	const char *who = acting_user_if_set();

	return who ? pstrdup(who) : GetUserNameFromId(GetUserId(), false);
}

/* The execution whose node is running in this backend, or NULL. */
FlExec *
fl_running_execution(void)
{
	return node_exec;
}

/*
 * A node starts running SQL: its execution becomes the acting one and its
 * setting changes are confined to it.  In a worker the node gets the
 * database's default search_path, not the worker's own fixed one.
 */
void
fl_node_enter(FlExec *ex, FlNodeScope *scope)
{
	scope->prev_exec = node_exec;
	scope->advisory_before = advisory_locks_held();
	scope->guc_level = NewGUCNestLevel();
	node_exec = ex;
	node_depth++;
	if (IsBackgroundWorker)
		(void) set_config_option("search_path", GetConfigOptionResetString("search_path"),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/*
 * The node ended.  ok: it returned normally (its subtransaction commits):
 * every setting it changed, even with SET or set_config(..., false), is
 * rolled back here; after an error the subtransaction's abort did that.
 */
void
fl_node_leave(FlNodeScope *scope, bool ok)
{
	if (ok)
		AtEOXact_GUC(false, scope->guc_level);
	node_exec = scope->prev_exec;
	node_depth--;
	if (advisory_locks_held() > scope->advisory_before)
	{
		/*
		 * No session-level advisory lock may outlive the node.  PostgreSQL
		 * releases them only all at once (transaction-level ones stay), and
		 * with them a worker's leases, which it takes again.
		 */
		if (scope->advisory_before > 0)
			ereport(WARNING,
					(errmsg("a workflow node took an advisory lock: every session-level advisory lock of this session was released")));
		LockReleaseSession(USER_LOCKMETHOD);
		if (fl_after_session_lock_release)
			fl_after_session_lock_release();
	}
}

/*
 * A read-only node wrote nothing: PostgreSQL's read-only mode still lets
 * large objects and temporary tables be written, but any write gives the
 * node's subtransaction a transaction id.
 */
void
fl_node_check_read_only(const char *node_id)
{
	if (TransactionIdIsValid(GetCurrentTransactionIdIfAny()))
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("node \"%s\" is read-only but wrote to the database (a large object or a temporary table)", node_id),
				 errhint("Set \"readOnly\": false on a database-query node that writes.")));
}

/*
 * Become the schema owner for one of the engine's own statements, with a
 * search path the caller cannot have prepared: pg_catalog only (not even
 * pg_temp), everything else schema-qualified.  An override search path,
 * not a setting: cheap, and popped by an abort.
 */
void
fl_owner_begin(FlOwner *o)
{
	OverrideSearchPath path = {.schemas = NIL, .addCatalog = true, .addTemp = false};

	GetUserIdAndSecContext(&o->uid, &o->sec);
	PushOverrideSearchPath(&path);
	SetUserIdAndSecContext(fl_owner_oid(), o->sec | SECURITY_LOCAL_USERID_CHANGE);
}

void
fl_owner_end(FlOwner *o)
{
	SetUserIdAndSecContext(o->uid, o->sec);
	PopOverrideSearchPath();
}

/*
 * flowent.set_acting_user(user_id text): the end user a gateway acts for,
 * until this transaction ends.
 */
Datum
flowent_set_acting_user(PG_FUNCTION_ARGS)
{
	Oid			gw = get_role_oid("flowent_gateway", true);
	char	   *user_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("user_id must not be null")));
	user_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (user_id[0] == '\0' || strlen(user_id) > 200)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("user_id must be 1 to 200 characters, got %d", (int) strlen(user_id))));
	if (node_depth > 0 || InSecurityRestrictedOperation())
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("flowent.set_acting_user cannot be called while a workflow node runs")));
	if (!OidIsValid(gw) || !is_member_of_role(GetSessionUserId(), gw))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("only members of flowent_gateway may set the acting user"),
						errdetail("Session user \"%s\" is not a member of flowent_gateway.",
								  GetUserNameFromId(GetSessionUserId(), false))));
	clear_acting_user();
	acting_user = MemoryContextStrdup(TopMemoryContext, user_id);
	PG_RETURN_VOID();
}

Datum
flowent_current_user_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(fl_current_user_id()));
}

/* As current_user_id(), for SECURITY DEFINER functions: the outer role. */
Datum
flowent_caller_id(PG_FUNCTION_ARGS)
{
	const char *who = acting_user_if_set();

	PG_RETURN_TEXT_P(cstring_to_text(who ? who : GetUserNameFromId(GetOuterUserId(), false)));
}

/*
 * Is the acting user a superuser or a member of `role`?  A gateway's end
 * user is one only if a role of that name is.
 */
static bool
acting_user_has(const char *role)
{
	Oid			r = get_role_oid(role, true);
	const char *name = acting_user_if_set();
	Oid			who = name ? get_role_oid(name, true) : GetUserId();

	if (!OidIsValid(who))
		return false;
	return superuser_arg(who) || (OidIsValid(r) && is_member_of_role(who, r));
}

/* Is the acting user an administrator (flowent_admin)? */
bool
fl_is_admin(void)
{
	return acting_user_has("flowent_admin");
}

/* May the acting user run past budgets (skipBudgetCheck: flowent_budget_admin)? */
bool
fl_is_budget_admin(void)
{
	return acting_user_has("flowent_budget_admin");
}
