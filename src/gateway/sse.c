/*
 * sse.c
 *	  Each event is "id: <seq>\ndata: <envelope>\n\n", so a browser's
 *	  EventSource resumes after the last one it got.
 */
#include "gateway/sse.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/events.h"
#include "gateway/loop.h"
#include "gateway/util.h"

#define KEEPALIVE_MS 15000

typedef struct sse_client
{
	gw_sink		sink;			/* first: events.c hands it back */
	char		execution_id[37];
	int			since;
	gw_buf		out;
	size_t		off;
	bool		ended;
	void	   *stream;
	gw_timer   *keepalive;
} sse_client;

static void
wake(sse_client *c)
{
	if (c->stream)
		gw_stream_wake(c->stream);
}

static void
sink_send(gw_sink *s, const char *json, size_t len, int seq, bool complete)
{
	sse_client *c = (sse_client *) s;

	if (c->ended)
		return;
	if (seq >= 0)
	{
		gw_buf_printf(&c->out, "id: %d\ndata: ", seq);
		gw_buf_add(&c->out, json, len);
		gw_buf_str(&c->out, "\n\n");
	}
	else if (strstr(json, "\"type\": \"error\""))
	{
		gw_buf_str(&c->out, "event: error\ndata: ");
		gw_buf_add(&c->out, json, len);
		gw_buf_str(&c->out, "\n\n");
		complete = true;
	}
	if (complete)
	{
		c->ended = true;
		gw_events_forget(&c->sink);
	}
	wake(c);
}

static void
keepalive(void *arg)
{
	sse_client *c = arg;

	gw_buf_str(&c->out, ": keepalive\n\n");
	c->keepalive = gw_timer_add(KEEPALIVE_MS, keepalive, c);
	wake(c);
}

static long
read_out(void *arg, char *buf, size_t max)
{
	sse_client *c = arg;
	size_t		n = c->out.len - c->off;

	if (n == 0)
	{
		if (c->ended)
			return -1;
		c->out.len = c->off = 0;
		return 0;
	}
	if (n > max)
		n = max;
	memcpy(buf, c->out.data + c->off, n);
	c->off += n;
	if (c->off == c->out.len)
		c->out.len = c->off = 0;
	return (long) n;
}

static void
stream_done(void *arg)
{
	sse_client *c = arg;

	gw_events_forget(&c->sink);
	if (c->keepalive)
		gw_timer_cancel(c->keepalive);
	gw_buf_free(&c->out);
	free(c->sink.token);
	free(c);
}

static void
checked(gw_req *r, gw_result *res)
{
	sse_client *c;
	const char *p = gw_req_path(r);

	if (!res->ok)
	{
		gw_req_sql_error(r, res);
		return;
	}
	c = gw_alloc(sizeof(*c));
	c->sink.send = sink_send;
	c->sink.token = gw_strdup(gw_req_token(r));
	/* the path is /api/executions/<uuid>/events, checked by the route */
	memcpy(c->execution_id, p + strlen("/api/executions/"), 36);
	c->since = atoi(gw_req_header(r, "Last-Event-ID") ? gw_req_header(r, "Last-Event-ID") : "0");
	gw_req_stream(r, 200, "text/event-stream", read_out, stream_done, c, &c->stream);
	gw_req_add_header(r, "X-Accel-Buffering", "no");
	c->keepalive = gw_timer_add(KEEPALIVE_MS, keepalive, c);
	gw_events_join_execution(&c->sink, c->execution_id, c->since);
}

void
gw_sse_start(gw_req *r, const char *execution_id)
{
	const char *last = gw_req_header(r, "Last-Event-ID");
	const char *p[1] = {execution_id};

	if (last)
	{
		char	   *end;
		long		n = strtol(last, &end, 10);

		if (*last == '\0' || *end != '\0' || n < 0 || n > 2147483646)
		{
			gw_req_error(r, 400, "INVALID_INPUT", "Last-Event-ID: expected the seq of an event (an integer >= 0)", NULL);
			return;
		}
	}
	gw_req_sql_then(r, true, "SELECT flowent.api_execution_context($1::uuid)", 1, p, checked);
}
