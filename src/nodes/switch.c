/*
 * switch.c
 *	  The switch node: the first case whose operator matches `value` picks
 *	  the live handle (the case id), else `default`.
 *
 * data: value (resolved leniently), cases: [{id, operator (default
 * equals), right}].  A value that does not resolve matches only the
 * operators that are decided on a missing value (not_exists, is_empty);
 * an undecided case does not match.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "nodes/fl_nodes.h"
#include "nodes/rules.h"
#include "pg/jsonb_util.h"

/*
 * Test one case against the value.  Sets *id to the case id; returns the
 * operator's result, with *failed on a configuration error.
 */
static FlTri
eval_case(FlNodeCall *call, FlNodeResult *res, const JsonbValue *c, int i,
		  const JsonbValue *value, bool missing, char **id, bool *failed)
{
	const char *path = psprintf("cases[%d]", i);
	JsonbValue	idv,
				raw_op,
				raw_right,
				opv,
				right;
	bool		has_op,
				has_right;
	fl_cond_op	op;

	*failed = false;
	if (!jbv_is_object(c))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": %s: expected a case {id, operator, right}, got %s",
				call->def->id, path, jbv_type_name(c));
		*failed = true;
		return FL_TRI_UNDECIDED;
	}
	/* the id is a handle name, fixed by the graph: never a template */
	if (!jbv_get_key(c, "id", &idv) || idv.type != jbvString || idv.val.string.len == 0)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": %s.id: required, a non-empty string naming the case's handle",
				call->def->id, path);
		*failed = true;
		return FL_TRI_UNDECIDED;
	}
	*id = jbv_cstring(&idv);

	has_op = jbv_get_key(c, "operator", &raw_op);
	if (has_op && !fl_resolve_field(call, res, &raw_op, false,
									psprintf("%s.operator", path), &opv, NULL))
	{
		*failed = true;
		return FL_TRI_UNDECIDED;
	}
	if (!fl_parse_operator(call, res, has_op ? &opv : NULL, path, &op))
	{
		*failed = true;
		return FL_TRI_UNDECIDED;
	}
	has_right = jbv_get_key(c, "right", &raw_right);
	if (fl_cond_op_needs_right(op) && has_right &&
		!fl_resolve_field(call, res, &raw_right, false,
						  psprintf("%s.right", path), &right, NULL))
	{
		*failed = true;
		return FL_TRI_UNDECIDED;
	}
	return fl_eval_operator(call, res, op, value, missing,
							fl_cond_op_needs_right(op) && has_right ? &right : NULL,
							path, failed);
}

/* Route to the first matching case. */
static void
switch_execute(FlNodeCall *call, FlNodeResult *res)
{
	JsonbValue	raw_value,
				value,
				cases;
	bool		missing = false;
	const char *chosen = "default";
	int			n;
	JB			b = {0};

	if (!jb_get(call->config, "value", &raw_value))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": value: required", call->def->id);
		return;
	}
	if (!fl_resolve_field(call, res, &raw_value, true, "value", &value, &missing))
		return;

	if (!jb_get(call->config, "cases", &cases) || cases.type == jbvNull)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": cases: required, an array of {id, operator, right}",
				call->def->id);
		return;
	}
	if (!jbv_is_array(&cases))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": cases: must be an array of {id, operator, right}, got %s",
				call->def->id, jbv_type_name(&cases));
		return;
	}
	n = jbv_array_size(&cases);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	c;
		char	   *id = NULL;
		bool		failed = false;
		FlTri		t;

		CHECK_FOR_INTERRUPTS();
		if (!jbv_get_index(&cases, i, &c))
			elog(ERROR, "could not read cases[%d]", i);
		t = eval_case(call, res, &c, i, &value, missing, &id, &failed);
		if (failed)
			return;
		if (t == FL_TRI_TRUE)
		{
			chosen = id;
			break;
		}
	}

	jb_obj_begin(&b);
	jb_key(&b, "value");
	if (missing)
		jb_null(&b);
	else
		jb_val(&b, &value);
	jb_kv_str(&b, "case", chosen);
	jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), chosen);
}

const FlNodeType fl_node_switch = {
	.type = "switch",
	.flags = FL_NT_SELF_RESOLVE,
	.execute = switch_execute,
};
