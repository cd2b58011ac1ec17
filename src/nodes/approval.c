/*
 * approval.c
 *	  human-approval: an approval request row, then suspension until
 *	  flowent.approve() decides (handles approved/rejected) or it expires.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

static void
approval_execute(FlNodeCall *call, FlNodeResult *res)
{
	char	   *title,
			   *on_expire,
			   *expires_at_text,
			   *assignee;
	int64		expires_in;
	TimestampTz expires_at = 0;
	JB			b = {0};

	if (!fl_cfg_string(call, res, "title", false, &title) ||
		!fl_cfg_string(call, res, "onExpire", false, &on_expire) ||
		!fl_cfg_string(call, res, "expiresAt", false, &expires_at_text) ||
		!fl_cfg_string(call, res, "assignedUserId", false, &assignee) ||
		!fl_cfg_int(call, res, "expiresInMs", 0, 0, PG_INT64_MAX / 1000, &expires_in))
		return;
	if (on_expire && strcmp(on_expire, "reject") != 0 && strcmp(on_expire, "fail") != 0)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"onExpire\" must be \"reject\" or \"fail\", got \"%s\"",
				call->def->id, on_expire);
		return;
	}
	if (expires_at_text)
		expires_at = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(expires_at_text),
															 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	else if (expires_in > 0)
		expires_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), expires_in);

	res->approval_id = fl_store_approval(call->ex, call->node, call->config, expires_at,
										 on_expire ? on_expire : "reject");
	if (expires_at)
	{
		JB			t = {0};

		jb_obj_begin(&t);
		jb_kv_str(&t, "approvalId", res->approval_id);
		jb_obj_end(&t);
		fl_store_timer(call->ex, call->node, "approval_expiry", expires_at, jb_finish(&t));
	}
	jb_obj_begin(&b);
	jb_kv_str(&b, "title", title ? title : call->def->label);
	jb_kv_str(&b, "assignedUserId", assignee);
	if (expires_at)
		jb_kv_str(&b, "expiresAt", DatumGetCString(DirectFunctionCall1(timestamptz_out,
																	   TimestampTzGetDatum(expires_at))));
	jb_obj_end(&b);
	res->outcome = FL_SUSPEND;
	res->wait_kind = FL_WAIT_APPROVAL;
	res->suspend_info = jb_finish(&b);
}

/* The decision {approved, comment, approvedBy, decidedAt[, expired]}. */
static void
approval_resume(FlNodeCall *call, FlNodeResult *res)
{
	bool		approved = jb_get_bool(call->resume_data, "approved", false);
	bool		expired = jb_get_bool(call->resume_data, "expired", false);
	char	   *on_expire = jb_get_cstring(call->def->data, "onExpire");

	if (expired && on_expire && strcmp(on_expire, "fail") == 0)
	{
		fl_fail(res, "APPROVAL_EXPIRED", "node \"%s\": the approval expired without a decision",
				call->def->id);
		return;
	}
	fl_succeed(res, call->resume_data, approved ? "approved" : "rejected");
}

const FlNodeType fl_node_approval = {
	.type = "human-approval",
	.flags = FL_NT_SUSPENDS | FL_NT_SQL,
	.sql_error_code = "INVALID_CONFIG",
	.execute = approval_execute,
	.resume = approval_resume,
};
