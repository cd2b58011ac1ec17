/*
 * loop.c
 *	  loop-controller: the engine runs its body per item (exec.c run_loop),
 *	  because iterations drive the scheduler itself.
 */
#include "postgres.h"

#include "nodes/fl_nodes.h"

/* Never called: exec.c handles loop nodes before dispatching. */
static void
loop_execute(FlNodeCall *call, FlNodeResult *res)
{
	elog(ERROR, "loop-controller node \"%s\" dispatched as a plain node", call->def->id);
}

const FlNodeType fl_node_loop = {
	.type = "loop-controller",
	.execute = loop_execute,
};
