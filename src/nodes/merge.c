/*
 * merge.c
 *	  merge: waits for every live input and combines them.
 */
#include "postgres.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

/* mode object (default): keyed by node id; mode array: in edges order. */
static void
merge_execute(FlNodeCall *call, FlNodeResult *res)
{
	FlExec	   *ex = call->ex;
	const fl_graph *g = ex->wf->graph;
	char	   *mode;
	bool		as_array;
	JB			b = {0};

	if (!fl_cfg_string(call, res, "mode", false, &mode))
		return;
	if (mode && strcmp(mode, "object") != 0 && strcmp(mode, "array") != 0)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"mode\" must be \"object\" or \"array\", got \"%s\"",
				call->def->id, mode);
		return;
	}
	as_array = mode && strcmp(mode, "array") == 0;
	if (as_array)
		jb_arr_begin(&b);
	else
		jb_obj_begin(&b);
	for (int k = g->in_start[call->node]; k < g->in_start[call->node + 1]; k++)
	{
		int			e = g->in_edges[k];
		int			src = g->edges[e].source;

		if (ex->sched->estate[e] != FL_EDGE_LIVE)
			continue;
		if (!as_array)
			jb_key(&b, g->nodes[src].id);
		jb_jsonb(&b, ex->outputs[src]);
	}
	if (as_array)
		jb_arr_end(&b);
	else
		jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), NULL);
}

const FlNodeType fl_node_merge = {
	.type = "merge",
	.execute = merge_execute,
};
