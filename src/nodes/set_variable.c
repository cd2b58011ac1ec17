/*
 * set_variable.c
 *	  set-variable: `name` + `value`, or `variables: {name: value}`.
 */
#include "postgres.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

/* Apply an output (the value(s) set) to the run's variables. */
static void
apply_output(FlExec *ex, FlNodeDef *def, Jsonb *output)
{
	char	   *name = jb_get_cstring(def->data, "name");
	JsonbValue	o;

	if (name && !jb_get(def->data, "variables", &o))
	{
		fl_set_variable(ex, name, output);
		return;
	}
	jbv_from_jsonb(output, &o);
	if (jbv_is_object(&o))
	{
		JsonbIterator *it = JsonbIteratorInit(o.val.binary.data);
		JsonbValue	k,
					v;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			if (tok != WJB_KEY)
				continue;
			JsonbIteratorNext(&it, &v, true);
			fl_set_variable(ex, jbv_cstring(&k), jbv_to_jsonb(&v));
		}
	}
}

/* Set the variables; the output is the value (or the object of values) set. */
static void
set_variable_execute(FlNodeCall *call, FlNodeResult *res)
{
	JsonbValue	vars,
				value;
	char	   *name;

	if (fl_cfg_value(call, "variables", &vars) && vars.type != jbvNull)
	{
		if (!jbv_is_object(&vars))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"variables\" must be an object {name: value}, got %s",
					call->def->id, jbv_type_name(&vars));
			return;
		}
		fl_succeed(res, jbv_to_jsonb(&vars), NULL);
	}
	else
	{
		if (!fl_cfg_string(call, res, "name", true, &name))
			return;
		if (name[0] == '\0')
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"name\" must not be empty", call->def->id);
			return;
		}
		if (!fl_cfg_value(call, "value", &value))
			value.type = jbvNull;
		fl_succeed(res, jbv_to_jsonb(&value), NULL);
	}
	apply_output(call->ex, call->def, res->output);
}

static void
set_variable_replay(FlExec *ex, int node, Jsonb *output)
{
	apply_output(ex, &ex->wf->nodes[node], output);
}

const FlNodeType fl_node_set_variable = {
	.type = "set-variable",
	.execute = set_variable_execute,
	.replay = set_variable_replay,
};
