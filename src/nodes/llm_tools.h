/*
 * llm_tools.h
 *	  An llm-agent's tools: workflows the model may call as functions.
 */
#ifndef FL_LLM_TOOLS_H
#define FL_LLM_TOOLS_H

#include "nodes/fl_nodes.h"
#include "pg/http.h"

typedef struct FlLlmTool
{
	char	   *name;			/* the function's name */
	char	   *workflow_id;	/* the workflow it runs (a uuid) */
} FlLlmTool;

typedef struct FlLlmTools
{
	int			n;
	FlLlmTool  *items;
	Jsonb	   *defs;			/* the OpenAI tools array; NULL: no tools */
} FlLlmTools;

/* The node's `tools` read and checked (none: n 0); false with res failed. */
extern bool fl_llm_tools(FlNodeCall *call, FlNodeResult *res, FlLlmTools *tools);

/*
 * Run the tool call name(arguments, a JSON text): the child execution's
 * result, *child_id its execution; or, when no child could run (no such
 * tool, arguments that are no JSON, a workflow that cannot start), the
 * {"error": {code, message}} the model gets, *child_id NULL.
 */
extern Jsonb *fl_llm_run_tool(FlNodeCall *call, FlLlmTools *tools, const char *name, const char *arguments,
							  char **child_id);

/* What the model gets from a finished child: its output, or {"error": {code, message}}. */
extern Jsonb *fl_llm_tool_answer(Jsonb *child);

#endif
