/*
 * condition.c
 *	  The condition node: rules and and/or groups choose the `true` or
 *	  `false` handle.
 *
 * data: conditions (rules and nested groups), combinator (and, or),
 * fallbackToAI.  An undecided result (a `left` that did not resolve)
 * counts as false unless fallbackToAI asks a model to decide.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "nodes/fl_nodes.h"
#include "nodes/rules.h"
#include "pg/jsonb_util.h"

/* Read fallbackToAI strictly (it may be a template); absent means false. */
static bool
read_fallback(FlNodeCall *call, FlNodeResult *res, bool *fallback)
{
	JsonbValue	rawv,
				v;

	*fallback = false;
	if (!jb_get(call->config, "fallbackToAI", &rawv))
		return true;
	if (!fl_resolve_field(call, res, &rawv, false, "fallbackToAI", &v, NULL))
		return false;
	if (v.type == jbvNull)
		return true;
	if (v.type != jbvBool)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": fallbackToAI: must be a boolean, got %s",
				call->def->id, jbv_type_name(&v));
		return false;
	}
	*fallback = v.val.boolean;
	return true;
}

/* {result, branch}: two constant values, built once per backend. */
static Jsonb *
branch_output(bool result)
{
	static Jsonb *outputs[2];

	if (outputs[result] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		JB			b = {0};

		jb_obj_begin(&b);
		jb_kv_bool(&b, "result", result);
		jb_kv_str(&b, "branch", result ? "true" : "false");
		jb_obj_end(&b);
		outputs[result] = jb_finish(&b);
		MemoryContextSwitchTo(old);
	}
	return outputs[result];
}

/* Evaluate the rules and take the true or false branch. */
static void
condition_execute(FlNodeCall *call, FlNodeResult *res)
{
	JsonbValue	data;
	bool		failed = false;
	bool		fallback;
	bool		result;
	FlTri		t;

	if (!read_fallback(call, res, &fallback))
		return;
	if (call->config == NULL)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": conditions: required", call->def->id);
		return;
	}
	jbv_from_jsonb(call->config, &data);
	t = fl_eval_group(call, res, &data, "", &failed);
	if (failed)
		return;
	if (t == FL_TRI_UNDECIDED && fallback)
	{
		fl_fail(res, "AI_UNAVAILABLE",
				"node \"%s\": the conditions are undecided (a left value did not resolve) and fallbackToAI is set, "
				"but the AI fallback needs the llm-agent configuration (model, credential, baseUrl), which is not available yet",
				call->def->id);
		return;
	}
	result = (t == FL_TRI_TRUE);
	fl_succeed(res, branch_output(result), result ? "true" : "false");
}

const FlNodeType fl_node_condition = {
	.type = "condition",
	.flags = FL_NT_SELF_RESOLVE,
	.execute = condition_execute,
};
