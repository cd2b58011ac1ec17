/*
 * context.h
 *	  The acting user, the running node's execution, and the engine's switch
 *	  to the schema owner (context.c).
 */
#ifndef FL_CONTEXT_H
#define FL_CONTEXT_H

#include "postgres.h"

struct FlExec;

/* A switch to the schema owner with a fixed search path. */
typedef struct FlOwner
{
	Oid			uid;
	int			sec;
} FlOwner;

/* A node running SQL: what fl_node_leave restores. */
typedef struct FlNodeScope
{
	struct FlExec *prev_exec;
	int			advisory_before;
	int			guc_level;
} FlNodeScope;

/* set by a worker: take its leases again after a node released them */
extern void (*fl_after_session_lock_release) (void);

extern void fl_context_init(void);
extern char *fl_current_user_id(void);
extern const char *fl_start_as(const char *user_id);
extern struct FlExec *fl_running_execution(void);
extern void fl_node_enter(struct FlExec *ex, FlNodeScope *scope);
extern void fl_node_leave(FlNodeScope *scope, bool ok);
extern void fl_node_check_read_only(const char *node_id);
extern void fl_owner_begin(FlOwner *o);
extern void fl_owner_end(FlOwner *o);
extern Oid	fl_owner_oid(void);
extern bool fl_is_admin(void);
extern bool fl_is_budget_admin(void);

#endif
