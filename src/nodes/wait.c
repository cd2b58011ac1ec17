/*
 * wait.c
 *	  wait: suspends until flowent.resume() delivers data (optionally named
 *	  by `signal`); `timeoutMs` is its deadline, after which it fails with
 *	  TIMEOUT when the worker fires the timer.
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

static void
wait_execute(FlNodeCall *call, FlNodeResult *res)
{
	char	   *signal;
	int64		timeout;
	JB			b = {0};

	if (!fl_cfg_string(call, res, "signal", false, &signal) ||
		!fl_cfg_int(call, res, "timeoutMs", 0, 0, PG_INT64_MAX / 1000, &timeout))
		return;
	if (timeout > 0)
		fl_store_timer(call->ex, call->node, "wait_timeout",
					   TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout), NULL);
	jb_obj_begin(&b);
	jb_kv_str(&b, "signal", signal);
	jb_obj_end(&b);
	res->outcome = FL_SUSPEND;
	res->wait_kind = FL_WAIT_WAIT;
	res->suspend_info = jb_finish(&b);
}

/* The data given to flowent.resume becomes the output. */
static void
wait_resume(FlNodeCall *call, FlNodeResult *res)
{
	if (jb_get_bool(call->resume_data, "__timeout", false))
	{
		fl_fail(res, "TIMEOUT", "node \"%s\": no signal arrived before its timeoutMs", call->def->id);
		return;
	}
	fl_succeed(res, call->resume_data, NULL);
}

const FlNodeType fl_node_wait = {
	.type = "wait",
	.flags = FL_NT_SUSPENDS,
	.execute = wait_execute,
	.resume = wait_resume,
};
