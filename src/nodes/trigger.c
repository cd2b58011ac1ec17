/*
 * trigger.c
 *	  trigger: the entry node; its output is the trigger payload.
 */
#include "postgres.h"

#include "nodes/fl_nodes.h"

/* Output the payload that started the execution. */
static void
trigger_execute(FlNodeCall *call, FlNodeResult *res)
{
	fl_succeed(res, call->ex->payload, NULL);
}

const FlNodeType fl_node_trigger = {
	.type = "trigger",
	.execute = trigger_execute,
};
