/*
 * events.c
 *	  Step events as pg_notify('flowent', json), inside the transaction.
 *
 * The envelope is {event, executionId, workflowId, seq, nodeId, nodeType,
 * status, durationMs, ts, outputBytes} plus event-specific metadata (codes,
 * kinds, ids, totals).  Any role may LISTEN, so a payload carries no user
 * data: no outputs, messages, labels or decisions.  Clients read those from
 * the node logs, which carry the same seq, under row-level security.
 * Written as text directly: this runs twice per node.  With the library
 * preloaded they are sent by the database's events process after the commit
 * (src/worker/event_ring.c), else by this transaction's NOTIFY.
 */
#include "postgres.h"

#include "commands/async.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "pg/engine.h"
#include "pg/jsonb_util.h"
#include "worker/event_ring.h"

#define FL_EVENT_CHANNEL "flowent"
#define FL_EVENT_MAX 7900

static void
append_str(StringInfo buf, const char *key, const char *value)
{
	appendStringInfoString(buf, key);
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

static void
append_int(StringInfo buf, const char *key, int64 v)
{
	char		num[24];

	appendStringInfoString(buf, key);
	pg_lltoa(v, num);
	appendStringInfoString(buf, num);
}

/* Append the members of an object (without braces). */
static void
append_members(StringInfo buf, Jsonb *obj)
{
	char	   *text = jsonb_to_compact(obj);
	int			len = strlen(text);

	if (len > 2)
	{
		appendStringInfoChar(buf, ',');
		appendBinaryStringInfo(buf, text + 1, len - 2);
	}
	pfree(text);
}

/* ISO 8601 UTC time of now, formatted once per millisecond. */
static const char *
now_text(void)
{
	static TimestampTz last_ms = -1;
	static char text[40];
	TimestampTz now = GetCurrentTimestamp();
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	const char *tzn;

	if (now / 1000 == last_ms)
		return text;
	last_ms = now / 1000;
	if (timestamp2tm(now, &tz, &tm, &fsec, &tzn, NULL) == 0)
		snprintf(text, sizeof(text), "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
				 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) (fsec / 1000));
	else
		strlcpy(text, "null", sizeof(text));
	return text;
}

/* Build one envelope. */
static void
envelope(StringInfo buf, FlExec *ex, const char *event, int node, const char *status,
		 Jsonb *output, int duration_ms, Jsonb *extra)
{
	resetStringInfo(buf);
	appendStringInfoString(buf, "{\"event\":");
	escape_json(buf, event);
	appendStringInfoString(buf, ",\"executionId\":\"");
	appendStringInfoString(buf, ex->id_str);
	appendStringInfoString(buf, "\",\"workflowId\":\"");
	appendStringInfoString(buf, ex->wf_id_str);
	appendStringInfoChar(buf, '"');
	append_int(buf, ",\"seq\":", ex->seq);
	append_str(buf, ",\"nodeId\":", node >= 0 ? ex->wf->nodes[node].id : NULL);
	append_str(buf, ",\"nodeType\":", node >= 0 ? ex->wf->nodes[node].type : NULL);
	if (node >= 0 && ex->iteration[0])
		append_str(buf, ",\"iteration\":", ex->iteration);
	append_str(buf, ",\"status\":", status);
	if (duration_ms >= 0)
		append_int(buf, ",\"durationMs\":", duration_ms);
	else
		appendStringInfoString(buf, ",\"durationMs\":null");
	appendStringInfoString(buf, ",\"ts\":");
	appendStringInfoString(buf, now_text());
	if (output)
		append_int(buf, ",\"outputBytes\":", VARSIZE(output) - VARHDRSZ);
	else
		appendStringInfoString(buf, ",\"outputBytes\":null");
	if (extra)
		append_members(buf, extra);
	appendStringInfoChar(buf, '}');
}

/*
 * Emit one event (seq advances even when events are off: logs use it).
 * extra must be metadata only (see the header).
 */
void
fl_emit(FlExec *ex, const char *event, int node, const char *status,
		Jsonb *output, int duration_ms, Jsonb *extra)
{
	StringInfoData buf;

	ex->seq++;
	if (ex->events_off)
		return;
	initStringInfo(&buf);
	envelope(&buf, ex, event, node, status, output, duration_ms, extra);
	/* ids are the only unbounded parts: a node id of thousands of bytes */
	if (buf.len > FL_EVENT_MAX)
		envelope(&buf, ex, event, -1, status, output, duration_ms, NULL);
	fl_send_event(ex->id_str, ex->wf_id_str, ex->seq, buf.data, buf.len);
	pfree(buf.data);
}

/*
 * The workflow:complete event of an execution settled outside a run (a
 * cancel, a worker recording a failure, recovery giving up), which has
 * only its row: seq is the row's new seq.
 */
void
fl_send_complete_event(const char *exec_id, const char *wf_id, int seq,
					   const char *status, const char *error_code)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"event\":\"workflow:complete\"");
	append_str(&buf, ",\"executionId\":", exec_id);
	append_str(&buf, ",\"workflowId\":", wf_id);
	append_int(&buf, ",\"seq\":", seq);
	appendStringInfoString(&buf, ",\"nodeId\":null,\"nodeType\":null");
	append_str(&buf, ",\"status\":", status);
	appendStringInfoString(&buf, ",\"durationMs\":null,\"ts\":");
	appendStringInfoString(&buf, now_text());
	appendStringInfoString(&buf, ",\"outputBytes\":null");
	append_str(&buf, ",\"errorCode\":", error_code);
	appendStringInfoChar(&buf, '}');
	fl_send_event(exec_id, wf_id, seq, buf.data, buf.len);
	pfree(buf.data);
}

/*
 * The step:progress event of a node whose partial output a worker has just
 * stored (flowent.node_progress, e.g. a streamed answer): "live" and
 * without a seq, as it has no node-log row; outputBytes is the size so far.
 */
void
fl_send_progress_event(const char *exec_id, const char *wf_id, const char *node_id,
					   const char *node_type, const char *iteration, int64 bytes)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"event\":\"step:progress\"");
	append_str(&buf, ",\"executionId\":", exec_id);
	append_str(&buf, ",\"workflowId\":", wf_id);
	appendStringInfoString(&buf, ",\"seq\":null");
	append_str(&buf, ",\"nodeId\":", node_id);
	append_str(&buf, ",\"nodeType\":", node_type);
	if (iteration && iteration[0])
		append_str(&buf, ",\"iteration\":", iteration);
	appendStringInfoString(&buf, ",\"status\":\"running\",\"durationMs\":null,\"ts\":");
	appendStringInfoString(&buf, now_text());
	append_int(&buf, ",\"outputBytes\":", bytes);
	appendStringInfoString(&buf, ",\"live\":true}");
	if (buf.len <= FL_EVENT_MAX)
		fl_send_event(exec_id, wf_id, 0, buf.data, buf.len);
	pfree(buf.data);
}

/*
 * Send one event when the transaction commits: handed over to the events
 * process of this database when it runs (no NOTIFY lock in this
 * transaction), else as a NOTIFY of this transaction (the slow path, e.g.
 * without the preload).
 */
void
fl_send_event(const char *exec_id, const char *wf_id, int seq, const char *payload, int len)
{
	if (!fl_event_enqueue(exec_id, wf_id, seq, payload, len))
		Async_Notify(FL_EVENT_CHANNEL, payload);
}

/*
 * Should this execution send no events because PostgreSQL's notification
 * queue is over half full (listeners far behind)?  With the events process
 * it decides (it waits, and committed events that no longer fit the ring
 * are reported as skipped).  On the slow path this is asked at most every
 * 100 ms: pg_notification_queue_usage() takes the queue's tail lock
 * exclusively, which serialised concurrent runs.
 */
bool
fl_events_paused(void)
{
	static TimestampTz checked = 0;
	static bool full = false;
	TimestampTz now;

	if (fl_event_handover_active())
		return false;
	now = GetCurrentTimestamp();
	if (TimestampDifferenceExceeds(checked, now, 100))
	{
		checked = now;
		full = DatumGetFloat8(DirectFunctionCall1(pg_notification_queue_usage, (Datum) 0)) > 0.5;
		if (full)
			ereport(LOG, (errmsg("flowent: the notification queue is over half full; events of executions started now are skipped")));
	}
	return full;
}
