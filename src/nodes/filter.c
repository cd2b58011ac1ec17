/*
 * filter.c
 *	  The filter node: keep the elements of `items` for which the
 *	  conditions hold.
 *
 * data: items (resolved strictly; must be an array; absent: the node's
 * input when that is an array), conditions and combinator as in the
 * condition node, evaluated once per element with the element bound as
 * {{item}} (and its position as the index of the current item).  An
 * undecided element is left out.  Output: the kept elements, unchanged,
 * in their order.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "nodes/fl_nodes.h"
#include "nodes/rules.h"
#include "pg/jsonb_util.h"

/* The array to filter: `items` resolved, else an array input. */
static bool
filter_items(FlNodeCall *call, FlNodeResult *res, JsonbValue *items)
{
	JsonbValue	raw;

	if (jb_get(call->config, "items", &raw))
	{
		if (!fl_resolve_field(call, res, &raw, false, "items", items, NULL))
			return false;
	}
	else if (call->input != NULL)
		jbv_from_jsonb(call->input, items);
	else
		items->type = jbvNull;
	if (!jbv_is_array(items))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": items: must resolve to an array, got %s",
				call->def->id, jbv_type_name(items));
		return false;
	}
	return true;
}

/* Test every element; build the array of those that pass. */
static void
filter_execute(FlNodeCall *call, FlNodeResult *res)
{
	JsonbValue	items,
				data;
	MemoryContext scratch,
				outer = CurrentMemoryContext;
	int			n;
	JB			b = {0};
	bool		failed = false;

	if (!filter_items(call, res, &items))
		return;
	jbv_from_jsonb(call->config, &data);

	/* per-element work (resolution, messages) is freed after each element */
	scratch = AllocSetContextCreate(outer, "flowent filter element",
									ALLOCSET_SMALL_SIZES);
	jb_arr_begin(&b);
	n = jbv_array_size(&items);
	for (int i = 0; i < n && !failed; i++)
	{
		JsonbValue	elem;
		FlTri		t;

		CHECK_FOR_INTERRUPTS();
		if (!jbv_get_index(&items, i, &elem))
			elog(ERROR, "could not read element %d of items", i);

		MemoryContextSwitchTo(scratch);
		fl_set_current_item(call->ex, jbv_to_jsonb(&elem), i);
		t = fl_eval_group(call, res, &data, "", &failed);
		fl_clear_current_item(call->ex);
		MemoryContextSwitchTo(outer);

		if (failed)
		{
			/* keep the message past the reset, and say which element */
			res->error_message = psprintf("%s (items[%d])", res->error_message, i);
			break;
		}
		if (t == FL_TRI_TRUE)
			jb_val(&b, &elem);
		MemoryContextReset(scratch);
	}
	MemoryContextDelete(scratch);
	if (failed)
		return;
	jb_arr_end(&b);
	fl_succeed(res, jb_finish(&b), "out");
}

const FlNodeType fl_node_filter = {
	.type = "filter",
	.flags = FL_NT_SELF_RESOLVE,
	.execute = filter_execute,
};
