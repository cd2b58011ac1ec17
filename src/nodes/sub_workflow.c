/*
 * sub_workflow.c
 *	  sub-workflow: runs another workflow as a child execution and waits for
 *	  it; a child that suspends suspends this node, and the child's end
 *	  continues the parent (exec.c fl_continue_execution).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

/* Turn the child's result into this node's outcome. */
static void
child_outcome(FlNodeCall *call, FlNodeResult *res, Jsonb *child)
{
	char	   *status = jb_get_cstring(child, "status");
	char	   *child_id = jb_get_cstring(child, "executionId");
	JsonbValue	v;

	if (status && strcmp(status, "success") == 0)
	{
		jb_get(child, "output", &v);
		fl_succeed(res, jbv_to_jsonb(&v), NULL);
	}
	else if (status && strcmp(status, "suspended") == 0)
	{
		JB			b = {0};

		jb_obj_begin(&b);
		jb_kv_str(&b, "childExecutionId", child_id);
		if (jb_get(child, "waiting", &v))
		{
			jb_key(&b, "waiting");
			jb_val(&b, &v);
		}
		jb_obj_end(&b);
		res->outcome = FL_SUSPEND;
		res->wait_kind = FL_WAIT_SUB;
		res->suspend_info = jb_finish(&b);
	}
	else
	{
		JB			b = {0};
		Jsonb	   *err = NULL;
		char	   *code = NULL,
				   *msg = NULL;

		if (jb_get(child, "error", &v) && v.type != jbvNull)
		{
			err = jbv_to_jsonb(&v);
			code = jb_get_cstring(err, "code");
			msg = jb_get_cstring(err, "message");
		}
		jb_obj_begin(&b);
		jb_kv_str(&b, "childExecutionId", child_id);
		jb_kv_str(&b, "childCode", code ? code : (status ? status : "UNKNOWN"));
		jb_kv_jsonb(&b, "childError", err);
		jb_obj_end(&b);
		fl_fail(res, "SUB_WORKFLOW_FAILED", "node \"%s\": sub-workflow execution %s ended with %s: %s",
				call->def->id, child_id ? child_id : "?", code ? code : (status ? status : "?"),
				msg ? msg : "");
		res->error_details = jb_finish(&b);
	}
}

Jsonb *
fl_run_child_workflow(FlNodeCall *call, FlNodeResult *res, const char *wf_text, Jsonb *payload)
{
	FlExec	   *ex = call->ex;
	pg_uuid_t  *child_id;
	FlWorkflow *child;

	if (!fl_is_uuid(wf_text))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"workflowId\" must be a workflow id (a uuid), got \"%s\"",
				call->def->id, wf_text);
		return NULL;
	}
	child_id = DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(wf_text)));
	if (memcmp(child_id, &ex->wf->id, sizeof(pg_uuid_t)) == 0)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": a workflow cannot run itself as a sub-workflow",
				call->def->id);
		return NULL;
	}
	if (ex->depth + 1 > fl_max_depth)
	{
		fl_fail(res, "LIMIT_EXCEEDED", "node \"%s\": sub-workflows nest deeper than flowent.max_depth (%d)",
				call->def->id, fl_max_depth);
		return NULL;
	}
	/*
	 * The child must be visible to the execution's user, whoever runs this
	 * (a worker, an approver's session): loaded as the owner after that.
	 */
	child = fl_workflow_load_for(child_id, 0, ex->user_id, true);
	if (child == NULL)
	{
		fl_fail(res, "SUB_WORKFLOW_FAILED", "node \"%s\": workflow %s does not exist or is not visible to %s",
				call->def->id, wf_text, ex->user_id);
		return NULL;
	}
	if (child->archived)
	{
		fl_fail(res, "SUB_WORKFLOW_FAILED", "node \"%s\": workflow %s is archived", call->def->id, wf_text);
		return NULL;
	}
	if (!child->valid)
	{
		fl_fail(res, "VALIDATION_FAILED", "node \"%s\": sub-workflow %s is not valid: %s",
				call->def->id, wf_text, child->issues.items[0].message);
		res->error_details = fl_issues_to_jsonb(child);
		return NULL;
	}
	fl_store_execution_insert(ex);	/* the child refers to it */
	return fl_run_workflow(child, payload, jsonb_from_cstring("{}", 2), "manual", ex, call->def->id, NULL);
}

static void
sub_workflow_execute(FlNodeCall *call, FlNodeResult *res)
{
	char	   *wf_text;
	JsonbValue	payload;
	Jsonb	   *result;

	if (!fl_cfg_string(call, res, "workflowId", true, &wf_text))
		return;
	if (!fl_cfg_value(call, "payload", &payload))
		jbv_from_jsonb(call->input, &payload);
	result = fl_run_child_workflow(call, res, wf_text, jbv_to_jsonb(&payload));
	if (result)
		child_outcome(call, res, result);
}

/* The child finished: its result arrives as the resume data. */
static void
sub_workflow_resume(FlNodeCall *call, FlNodeResult *res)
{
	child_outcome(call, res, call->resume_data);
}

const FlNodeType fl_node_sub_workflow = {
	.type = "sub-workflow",
	.flags = FL_NT_SUSPENDS | FL_NT_SQL,
	.sql_error_code = "SUB_WORKFLOW_FAILED",
	.execute = sub_workflow_execute,
	.resume = sub_workflow_resume,
};
