/*
 * output.c
 *	  output: `value` resolved, else the input; becomes the execution's output.
 */
#include "postgres.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

/* The configured value, or the input unchanged. */
static void
output_execute(FlNodeCall *call, FlNodeResult *res)
{
	JsonbValue	v;

	if (fl_cfg_value(call, "value", &v))
		fl_succeed(res, jbv_to_jsonb(&v), NULL);
	else
		fl_succeed(res, call->input, NULL);
}

const FlNodeType fl_node_output = {
	.type = "output",
	.execute = output_execute,
};
