/*
 * stop_error.c
 *	  stop-error: fails the execution with a message and code.
 */
#include "postgres.h"

#include "nodes/fl_nodes.h"

/* Fail with the configured code (default STOP_ERROR). */
static void
stop_error_execute(FlNodeCall *call, FlNodeResult *res)
{
	char	   *message,
			   *code;

	if (!fl_cfg_string(call, res, "message", false, &message) ||
		!fl_cfg_string(call, res, "code", false, &code))
		return;
	fl_fail(res, code && code[0] ? code : "STOP_ERROR", "%s",
			message ? message : "stopped by a stop-error node");
}

const FlNodeType fl_node_stop_error = {
	.type = "stop-error",
	.execute = stop_error_execute,
};
