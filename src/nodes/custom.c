/*
 * custom.c
 *	  Custom node types: an SQL function (inputs jsonb, context jsonb) → jsonb.
 *
 * flowent.register_node_type() records the handler in the registry; this
 * executor calls it with inputs = the node's resolved data and context =
 * {executionId, workflowId, nodeId, input, variables, trigger}.  The
 * handler may be written in any PL; its result is the node's output (SQL
 * NULL is an error: a handler that forgot to return).  The engine runs it as the workflow's run_as role
 * inside a subtransaction, and reports an error it raises as
 * CUSTOM_NODE_FAILED.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

/* The context argument of a handler. */
static Jsonb *
custom_context(FlNodeCall *call)
{
	FlExec	   *ex = call->ex;
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_str(&b, "executionId", ex->id_str);
	jb_kv_str(&b, "workflowId", ex->wf_id_str);
	jb_kv_str(&b, "nodeId", call->def->id);
	jb_kv_jsonb(&b, "input", call->input);
	jb_kv_jsonb(&b, "variables", fl_variables_object(ex));
	jb_kv_jsonb(&b, "trigger", ex->trigger);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* Execute a node of a custom type by calling its SQL handler. */
static void
custom_execute(FlNodeCall *call, FlNodeResult *res)
{
	MemoryContext mcxt = CurrentMemoryContext;
	const FlTypeInfo *info = call->def->info;
	Oid			handler = info ? info->handler : InvalidOid;
	AclResult	aclresult;
	FmgrInfo	flinfo;
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;
	Jsonb	   *inputs;
	Jsonb	   *context;

	if (!OidIsValid(handler))
	{
		fl_fail(res, "CUSTOM_NODE_FAILED",
				"node \"%s\": type \"%s\" has no handler function",
				call->def->id, call->def->type);
		return;
	}
	if (get_func_rettype(handler) != JSONBOID || get_func_nargs(handler) != 2 ||
		get_func_retset(handler))
	{
		fl_fail(res, "CUSTOM_NODE_FAILED",
				"node \"%s\": handler %s of type \"%s\" must take (jsonb, jsonb) and return jsonb",
				call->def->id, format_procedure(handler), call->def->type);
		return;
	}
	/* fmgr does not check privileges: the run_as role must be allowed */
	aclresult = pg_proc_aclcheck(handler, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(handler));

	inputs = call->config ? call->config : jsonb_null();
	context = custom_context(call);

	fmgr_info(handler, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = JsonbPGetDatum(inputs);
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = JsonbPGetDatum(context);
	fcinfo->args[1].isnull = false;
	result = FunctionCallInvoke(fcinfo);

	if (fcinfo->isnull)
		fl_fail(res, "CUSTOM_NODE_FAILED",
				"node \"%s\": handler %s of node type \"%s\" returned SQL NULL; it must return jsonb (the node's output, 'null' for none)",
				call->def->id, format_procedure(call->def->info->handler), call->def->type);
	else
	{
		MemoryContext old = MemoryContextSwitchTo(mcxt);
		Jsonb	   *out = DatumGetJsonbPCopy(result);

		MemoryContextSwitchTo(old);
		fl_succeed(res, out, NULL);
	}
}

const FlNodeType fl_node_custom = {
	.type = "custom",
	.flags = FL_NT_SQL | FL_NT_RUN_AS,
	.sql_error_code = "CUSTOM_NODE_FAILED",
	.execute = custom_execute,
};
