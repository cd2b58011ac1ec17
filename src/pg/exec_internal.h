/*
 * exec_internal.h
 *	  What the parts of the execution engine (state.c, exec.c, nodes/loop.c,
 *	  run.c, table_trigger.c) share with each other and nobody else.
 */
#ifndef FL_EXEC_INTERNAL_H
#define FL_EXEC_INTERNAL_H

#include "nodes/fl_nodes.h"
#include "pg/engine.h"

extern FlExec *fl_exec_create(FlWorkflow *wf, Jsonb *payload, Jsonb *options,
							  const char *trigger_type);
extern void fl_run_scope(FlExec *ex, int slot);
extern void fl_node_call_init(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res);
extern bool fl_node_config(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res);
extern void fl_finish_node(FlExec *ex, int n, FlNodeCall *call, FlNodeResult *res,
						   TimestampTz started, bool resuming, int attempts);
extern FlPrior *fl_prior_of(FlExec *ex, int n);
extern List *fl_read_prior(FlExec *ex, const char *exec_id, const char *iteration);
extern Jsonb *fl_exec_finish(FlExec *ex);

#endif
