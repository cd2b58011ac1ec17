/*
 * delay.c
 *	  delay: suspends until `durationMs` has passed or `until` (ISO time).
 *
 * A run never sleeps: the node suspends with a timer row that the worker
 * fires; flowent.resume() ends it early.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

/* {resumedAt: now} */
static Jsonb *
resumed_now(void)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_str(&b, "resumedAt", DatumGetCString(DirectFunctionCall1(timestamptz_out,
																   TimestampTzGetDatum(GetCurrentTimestamp()))));
	jb_obj_end(&b);
	return jb_finish(&b);
}

/*
 * Parse `until`.  A malformed timestamp raises; the engine runs this node in
 * a subtransaction and reports that as INVALID_CONFIG.
 */
static bool
parse_until(const char *s, TimestampTz *out)
{
	*out = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	/* "infinity" parses, but no timer can be due then */
	return !TIMESTAMP_NOT_FINITE(*out);
}

static void
delay_execute(FlNodeCall *call, FlNodeResult *res)
{
	int64		ms;
	char	   *until;
	TimestampTz fire_at;
	JB			b = {0};

	if (!fl_cfg_int(call, res, "durationMs", -1, 0, PG_INT64_MAX / 1000, &ms) ||
		!fl_cfg_string(call, res, "until", false, &until))
		return;
	if (ms < 0 && until == NULL)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": set \"durationMs\" or \"until\"", call->def->id);
		return;
	}
	if (until)
	{
		if (!parse_until(until, &fire_at))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"until\" must be a finite ISO timestamp, got \"%s\"",
					call->def->id, until);
			return;
		}
	}
	else
		fire_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	if (fire_at <= GetCurrentTimestamp())
	{
		fl_succeed(res, resumed_now(), NULL);
		return;
	}
	fl_store_timer(call->ex, call->node, "delay", fire_at, NULL);
	jb_obj_begin(&b);
	jb_kv_str(&b, "fireAt", DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(fire_at))));
	jb_obj_end(&b);
	res->outcome = FL_SUSPEND;
	res->wait_kind = FL_WAIT_DELAY;
	res->suspend_info = jb_finish(&b);
}

static void
delay_resume(FlNodeCall *call, FlNodeResult *res)
{
	fl_succeed(res, resumed_now(), NULL);
}

const FlNodeType fl_node_delay = {
	.type = "delay",
	.flags = FL_NT_SUSPENDS | FL_NT_SQL,
	.sql_error_code = "INVALID_CONFIG",
	.execute = delay_execute,
	.resume = delay_resume,
};
