/*
 * state.c
 *	  The run state of an execution: variables, state objects, options.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/engine.h"
#include "pg/exec_internal.h"
#include "pg/jsonb_util.h"

/* ---- variables ---- */

#define VAR_KEY_LEN 256

typedef struct VarEntry
{
	char		key[VAR_KEY_LEN];
	int			idx;
} VarEntry;

/* Index of a variable in var_names/var_values, or -1. */
static int
var_index(FlExec *ex, const char *name)
{
	ListCell   *ln;

	if (strlen(name) < VAR_KEY_LEN)
	{
		VarEntry   *e;

		if (ex->var_hash == NULL)
			return -1;
		e = hash_search(ex->var_hash, name, HASH_FIND, NULL);
		return e ? e->idx : -1;
	}
	foreach(ln, ex->var_names)
		if (strcmp(lfirst(ln), name) == 0)
			return foreach_current_index(ln);
	return -1;
}

/* A variable's value, or NULL. */
Jsonb *
fl_get_variable(FlExec *ex, const char *name)
{
	int			i = var_index(ex, name);

	return i < 0 ? NULL : list_nth(ex->var_values, i);
}

/* Set (or replace) a workflow variable. */
void
fl_set_variable(FlExec *ex, const char *name, Jsonb *value)
{
	int			i = var_index(ex, name);

	if (i >= 0)
	{
		list_nth_cell(ex->var_values, i)->ptr_value = value;
		return;
	}
	ex->var_names = lappend(ex->var_names, pstrdup(name));
	ex->var_values = lappend(ex->var_values, value);
	if (strlen(name) < VAR_KEY_LEN)
	{
		VarEntry   *e;

		if (ex->var_hash == NULL)
		{
			HASHCTL		ctl;

			memset(&ctl, 0, sizeof(ctl));
			ctl.keysize = VAR_KEY_LEN;
			ctl.entrysize = sizeof(VarEntry);
			ctl.hcxt = CurrentMemoryContext;
			ex->var_hash = hash_create("flowent variables", 32, &ctl,
									   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		}
		e = hash_search(ex->var_hash, name, HASH_ENTER, NULL);
		e->idx = list_length(ex->var_names) - 1;
	}
}

/* All variables as one object. */
Jsonb *
fl_variables_object(FlExec *ex)
{
	JB			b = {0};
	ListCell   *ln,
			   *lv;

	jb_obj_begin(&b);
	forboth(ln, ex->var_names, lv, ex->var_values)
		jb_kv_jsonb(&b, lfirst(ln), lfirst(lv));
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* {id: {output, meta: {status}}} of every node that has run (seed §7.2). */
Jsonb *
fl_nodes_object(FlExec *ex)
{
	JB			b = {0};

	jb_obj_begin(&b);
	for (int i = 0; i < ex->wf->nnodes; i++)
	{
		if (!ex->outputs[i])
			continue;
		jb_key(&b, ex->wf->nodes[i].id);
		jb_obj_begin(&b);
		jb_kv_jsonb(&b, "output", ex->outputs[i]);
		jb_key(&b, "meta");
		jb_obj_begin(&b);
		jb_kv_str(&b, "status", ex->sched->nstate[i] == FL_WAITING ? "waiting" : "completed");
		jb_obj_end(&b);
		jb_obj_end(&b);
	}
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* {trigger, variables, nodes:{id:{output, meta}}, execution} for SQL transforms. */
Jsonb *
fl_state_object(FlExec *ex)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_jsonb(&b, "trigger", ex->trigger);
	jb_kv_jsonb(&b, "variables", fl_variables_object(ex));
	jb_kv_jsonb(&b, "nodes", fl_nodes_object(ex));
	jb_key(&b, "execution");
	jb_obj_begin(&b);
	jb_kv_str(&b, "id", ex->id_str);
	jb_kv_str(&b, "workflowId", ex->wf_id_str);
	jb_obj_end(&b);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* ---- setup ---- */

/* Options every entry point accepts; anything else is bad input. */
static void
apply_options(FlExec *ex, Jsonb *options)
{
	JsonbValue	o,
				v;

	ex->options = options;
	jbv_from_jsonb(options, &o);
	if (jbv_get_key(&o, "variables", &v) && v.type != jbvNull)
	{
		JsonbIterator *it;
		JsonbValue	k,
					val;
		JsonbIteratorToken tok;

		if (!jbv_is_object(&v))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("options.variables must be an object, got %s", jbv_type_name(&v))));
		it = JsonbIteratorInit(v.val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			if (tok != WJB_KEY)
				continue;
			JsonbIteratorNext(&it, &val, true);
			fl_set_variable(ex, jbv_cstring(&k), jbv_to_jsonb(&val));
		}
	}
	if (jbv_get_key(&o, "isTest", &v) && v.type == jbvBool)
		ex->is_test = v.val.boolean;
	if (jbv_get_key(&o, "breakpoints", &v) && v.type != jbvNull)
	{
		int			n = jbv_array_size(&v);

		if (!jbv_is_array(&v))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("options.breakpoints must be an array of node ids")));
		ex->breakpoints_given = true;
		for (int i = 0; i < n; i++)
		{
			JsonbValue	el;

			if (!jbv_get_index(&v, i, &el) || el.type != jbvString)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("options.breakpoints[%d] must be a node id string", i)));
			if (fl_graph_find(ex->wf->graph, jbv_cstring(&el)) < 0)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("options.breakpoints[%d]: node \"%s\" does not exist in the workflow",
									   i, jbv_cstring(&el))));
			ex->breakpoints = lappend(ex->breakpoints, jbv_cstring(&el));
		}
	}
}

/*
 * The context of a new execution, built here and nowhere else: the acting
 * user (a node's flowent.run inherits its execution's), the workflow's
 * run_as, and the depth, which nested runs count toward flowent.max_depth.
 * Children and continuations overwrite it from their parent or stored row.
 */
static void
fl_context_fresh(FlExec *ex)
{
	FlExec	   *outer = fl_running_execution();

	ex->user_id = fl_current_user_id();
	ex->run_as_oid = ex->wf->run_as;
	ex->run_as = OidIsValid(ex->run_as_oid) ? GetUserNameFromId(ex->run_as_oid, true) : NULL;
	if (outer)
	{
		ex->depth = outer->depth + 1;
		ex->is_test = outer->is_test;
		if (ex->depth > fl_max_depth)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							errmsg("workflow runs nest deeper than flowent.max_depth (%d)", fl_max_depth),
							errdetail("Execution %s at depth %d started another run.",
									  outer->id_str, outer->depth)));
	}
}

/* A fresh execution state over a workflow version. */
FlExec *
fl_exec_create(FlWorkflow *wf, Jsonb *payload, Jsonb *options, const char *trigger_type)
{
	FlExec	   *ex = palloc0(sizeof(FlExec));
	JB			b = {0};

	ex->wf = wf;
	ex->cxt = CurrentMemoryContext;
	ex->sync = true;
	fl_context_fresh(ex);
	ex->trigger_type = trigger_type;
	ex->payload = payload;
	ex->started_at = GetCurrentTimestamp();
	ex->outputs = palloc0(sizeof(Jsonb *) * (wf->nnodes + 1));
	ex->sched = fl_sched_create(wf->graph);
	ex->resume_node = -1;
	ex->last_completed = -1;
	ex->last_output_node = -1;
	ex->total_cost = int64_to_numeric(0);
	strlcpy(ex->wf_id_str, FL_UUID_STR(&wf->id), sizeof(ex->wf_id_str));
	apply_options(ex, options);

	jb_obj_begin(&b);
	jb_kv_str(&b, "type", trigger_type);
	jb_kv_jsonb(&b, "payload", payload);
	jb_key(&b, "timestamp");
	jb_str(&b, DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(ex->started_at))));
	jb_obj_end(&b);
	ex->trigger = jb_finish(&b);

	/* triggers of the execution's type fire; if none matches, all do */
	for (int i = 0; i < wf->nnodes; i++)
	{
		char	   *tt;

		if (strcmp(wf->nodes[i].type, "trigger") != 0)
			continue;
		tt = jb_get_cstring(wf->nodes[i].data, "triggerType");
		if (strcmp(tt ? tt : "manual", trigger_type) == 0)
			ex->live_triggers++;
	}
	ex->events_off = fl_events_paused();
	return ex;
}

