/*
 * notify.c
 *	  The notify node: NOTIFY a channel with a payload.
 *
 * `channel` is the channel name (1..63 bytes, no control characters); the
 * engine's own event channel `flowent` is refused, and so are {{…}}
 * templates in it (Appendix B).  `payload` is any value (default: the
 * node's input); it is sent as text — strings raw, everything else as
 * compact JSON — and must stay under PostgreSQL's 8000-byte NOTIFY limit.
 * The notification is transactional: listeners see it when the transaction
 * that ran the node commits.  The output is the payload value.
 */
#include "postgres.h"

#include "commands/async.h"
#include "datatype/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

/* PostgreSQL refuses payloads of 8000 bytes or more */
#define NOTIFY_MAX_PAYLOAD 7999

/* Check a channel name; false (and the node failed) when it is refused. */
static bool
notify_check_channel(FlNodeCall *call, FlNodeResult *res, const char *channel)
{
	size_t		len = strlen(channel);

	if (len == 0 || len >= NAMEDATALEN)
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"channel\" must be 1 to %d bytes long, got %zu",
				call->def->id, NAMEDATALEN - 1, len);
		return false;
	}
	for (const unsigned char *p = (const unsigned char *) channel; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
		{
			fl_fail(res, "INVALID_CONFIG",
					"node \"%s\": field \"channel\" must not contain control characters",
					call->def->id);
			return false;
		}
	if (pg_strcasecmp(channel, "flowent") == 0)
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": channel \"%s\" is reserved for Flowent's own events; choose another channel",
				call->def->id, channel);
		return false;
	}
	return true;
}

/* Execute a notify node. */
static void
notify_execute(FlNodeCall *call, FlNodeResult *res)
{
	char	   *raw;
	char	   *channel;
	JsonbValue	v;
	Jsonb	   *payload;
	char	   *text;
	size_t		len;

	/* a channel name is SQL-level text: no templates in the unresolved data */
	raw = jb_get_cstring(call->def->data, "channel");
	if (raw != NULL && fl_contains_template(raw))
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"channel\" must not contain {{…}} templates",
				call->def->id);
		return;
	}
	if (!fl_cfg_string(call, res, "channel", true, &channel))
		return;
	if (!notify_check_channel(call, res, channel))
		return;

	if (fl_cfg_value(call, "payload", &v))
		payload = jbv_to_jsonb(&v);
	else
		payload = call->input ? call->input : jsonb_null();
	jbv_from_jsonb(payload, &v);
	text = jbv_to_text(&v);
	len = strlen(text);
	if (len > NOTIFY_MAX_PAYLOAD)
	{
		fl_fail(res, "LIMIT_EXCEEDED",
				"node \"%s\": payload is %zu bytes, NOTIFY allows at most %d",
				call->def->id, len, NOTIFY_MAX_PAYLOAD);
		return;
	}

	Async_Notify(channel, text);
	fl_succeed(res, payload, NULL);
}

const FlNodeType fl_node_notify = {
	.type = "notify",
	.flags = 0,
	.sql_error_code = NULL,
	.execute = notify_execute,
};
