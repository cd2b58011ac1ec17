/*
 * events.c
 *	  Step events as pg_notify('flowent', json), inside the transaction.
 *
 * The envelope is {event, executionId, workflowId, seq, nodeId, nodeType,
 * status, output, durationMs, ts, truncated} plus event-specific keys.
 * NOTIFY payloads must stay under 8000 bytes: an oversized output is
 * replaced by null and flagged; clients fetch the full value from the node
 * logs, which carry the same seq.
 */
#include "postgres.h"

#include "commands/async.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "pg/engine.h"
#include "pg/jsonb_util.h"

#define FL_EVENT_CHANNEL "flowent"
#define FL_EVENT_MAX 7900

/* Build one envelope; output may be dropped to fit. */
static char *
envelope(FlExec *ex, const char *event, int node, const char *status,
		 Jsonb *output, bool with_output, int duration_ms, Jsonb *extra, bool truncated)
{
	JB			b = {0};
	char		ts[64];
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	const char *tzn;

	if (timestamp2tm(GetCurrentTimestamp(), &tz, &tm, &fsec, &tzn, NULL) == 0)
		snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
				 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) (fsec / 1000));
	else
		strlcpy(ts, "", sizeof(ts));

	jb_obj_begin(&b);
	jb_kv_str(&b, "event", event);
	jb_kv_str(&b, "executionId", ex->id_str);
	jb_kv_str(&b, "workflowId", ex->wf_id_str);
	jb_kv_int(&b, "seq", ex->seq);
	if (node >= 0)
	{
		jb_kv_str(&b, "nodeId", ex->wf->nodes[node].id);
		jb_kv_str(&b, "nodeType", ex->wf->nodes[node].type);
		if (ex->iteration[0])
			jb_kv_str(&b, "iteration", ex->iteration);
	}
	else
	{
		jb_key(&b, "nodeId");
		jb_null(&b);
		jb_key(&b, "nodeType");
		jb_null(&b);
	}
	jb_kv_str(&b, "status", status);
	jb_key(&b, "output");
	if (with_output && output)
		jb_jsonb(&b, output);
	else
		jb_null(&b);
	if (duration_ms >= 0)
		jb_kv_int(&b, "durationMs", duration_ms);
	else
	{
		jb_key(&b, "durationMs");
		jb_null(&b);
	}
	jb_kv_str(&b, "ts", ts);
	jb_kv_bool(&b, "truncated", truncated);
	if (extra)
	{
		JsonbValue	ev;
		JsonbIterator *it;
		JsonbValue	k,
					v;
		JsonbIteratorToken tok;

		jbv_from_jsonb(extra, &ev);
		it = JsonbIteratorInit(ev.val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			if (tok != WJB_KEY)
				continue;
			jb_key(&b, jbv_cstring(&k));
			JsonbIteratorNext(&it, &v, true);
			jb_val(&b, &v);
		}
	}
	jb_obj_end(&b);
	return jsonb_to_cstring(jb_finish(&b));
}

/* Emit one event (seq advances even when events are off, as logs use it). */
void
fl_emit(FlExec *ex, const char *event, int node, const char *status,
		Jsonb *output, int duration_ms, Jsonb *extra)
{
	char	   *payload;

	ex->seq++;
	if (ex->events_off)
		return;
	if (output && VARSIZE(output) > FL_EVENT_MAX)
		payload = envelope(ex, event, node, status, output, false, duration_ms, extra, true);
	else
	{
		payload = envelope(ex, event, node, status, output, true, duration_ms, extra, false);
		if (strlen(payload) > FL_EVENT_MAX)
			payload = envelope(ex, event, node, status, output, false, duration_ms, extra, true);
	}
	if (strlen(payload) > FL_EVENT_MAX)
		payload = envelope(ex, event, node, status, NULL, false, duration_ms, NULL, true);
	Async_Notify(FL_EVENT_CHANNEL, payload);
}
