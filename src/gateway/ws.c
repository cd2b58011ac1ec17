/*
 * ws.c
 *	  WebSocket clients.  A socket belongs to the user of the token it was
 *	  opened with; each join is checked again as that user by the database.
 *	  Sockets are closed from a timer, never from inside wslay's callbacks.
 */
#include "gateway/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#include "gateway/events.h"
#include "gateway/loop.h"
#include "gateway/metrics.h"
#include "gateway/util.h"

#define PING_EVERY_MS 30000
#define PONG_TIMEOUT_MS 75000

typedef struct ws_client
{
	gw_sink		sink;			/* first: events.c hands it back */
	struct ws_client *next;
	int			fd;
	void	   *urh;
	wslay_event_context_ptr ctx;
	gw_watch   *watch;
	char	   *extra;
	size_t		extra_len;
	size_t		extra_off;
	char	   *user;			/* the token's user */
	bool		closing;
	gw_timer   *ping;
	gw_timer   *reaper;
	int64_t		last_seen;
} ws_client;

static ws_client *clients;
static int	nclients;

int
gw_ws_count(void)
{
	return nclients;
}

static void
destroy(void *arg)
{
	ws_client  *c = arg;

	for (ws_client **p = &clients; *p; p = &(*p)->next)
		if (*p == c)
		{
			*p = c->next;
			break;
		}
	nclients--;
	gw_events_forget(&c->sink);
	if (c->ping)
		gw_timer_cancel(c->ping);
	gw_watch_drop(c->watch);
	wslay_event_context_free(c->ctx);
	gw_upgraded_close(c->urh);
	free(c->extra);
	free(c->sink.token);
	free(c->user);
	free(c);
}

/* close from outside any callback of this client */
static void
close_soon(ws_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->reaper = gw_timer_add(0, destroy, c);
}

static void
update_watch(ws_client *c)
{
	uint32_t	ev = 0;

	if (c->closing)
		return;
	if (wslay_event_want_read(c->ctx))
		ev |= EPOLLIN;
	if (wslay_event_want_write(c->ctx))
		ev |= EPOLLOUT;
	if (ev == 0)
		close_soon(c);			/* closed both ways: the handshake of close is done */
	else
		gw_watch_set(c->watch, ev);
}

static void
queue_close(ws_client *c, uint16_t code, const char *reason)
{
	wslay_event_queue_close(c->ctx, code, (const uint8_t *) reason, strlen(reason));
	wslay_event_send(c->ctx);
	update_watch(c);
}

static void
queue_text(ws_client *c, const char *json, size_t len)
{
	struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *) json, len};

	if (c->closing || !wslay_event_get_write_enabled(c->ctx))
		return;
	if (wslay_event_get_queued_msg_length(c->ctx) + len > GW_WS_SEND_CAP)
	{
		gw_log("ws: closing a client that does not read (%zu bytes waiting)",
			   wslay_event_get_queued_msg_length(c->ctx));
		queue_close(c, 1008, "too many events waiting: the client does not read fast enough");
		close_soon(c);
		gw_metrics_events(0, 1);
		return;
	}
	wslay_event_queue_msg(c->ctx, &m);
	if (wslay_event_send(c->ctx) != 0)
		close_soon(c);
	else
		update_watch(c);
}

static void
sink_send(gw_sink *s, const char *json, size_t len, int seq, bool complete)
{
	(void) seq;
	(void) complete;
	queue_text((ws_client *) s, json, len);
}

static void
reply_error(ws_client *c, const char *code, const char *message)
{
	gw_buf		b = {0};

	gw_buf_message(&b, "error", NULL, NULL, code, message);
	queue_text(c, b.data, b.len);
	gw_buf_free(&b);
}

static const char *
uuid_field(ws_client *c, json_t *m, const char *key)
{
	const char *v = json_string_value(json_object_get(m, key));

	if (v == NULL || !gw_is_uuid(v))
	{
		char	   *msg = gw_printf("%s: expected a uuid", key);

		reply_error(c, "INVALID_INPUT", msg);
		free(msg);
		return NULL;
	}
	return v;
}

static void
on_message(ws_client *c, const char *text, size_t len)
{
	json_error_t err;
	json_t	   *m = json_loadb(text, len, 0, &err);
	const char *type;
	const char *id;

	if (m == NULL || !json_is_object(m))
	{
		reply_error(c, "INVALID_INPUT", "a message is a JSON object with a \"type\"");
		json_decref(m);
		return;
	}
	type = json_string_value(json_object_get(m, "type"));
	if (type == NULL)
		reply_error(c, "INVALID_INPUT", "type: expected a string");
	else if (strcmp(type, "join:execution") == 0)
	{
		json_t	   *since = json_object_get(m, "since");

		if ((id = uuid_field(c, m, "executionId")) == NULL)
			;
		else if (since && !json_is_null(since) &&
				 (!json_is_integer(since) || json_integer_value(since) < 0 || json_integer_value(since) > 2147483646))
			reply_error(c, "INVALID_INPUT", "since: expected a seq (an integer >= 0)");
		else
			gw_events_join_execution(&c->sink, id, since && json_is_integer(since) ? (int) json_integer_value(since) : -1);
	}
	else if (strcmp(type, "leave:execution") == 0)
	{
		if ((id = uuid_field(c, m, "executionId")) != NULL)
			gw_events_leave_execution(&c->sink, id);
	}
	else if (strcmp(type, "join:workflow") == 0)
	{
		if ((id = uuid_field(c, m, "workflowId")) != NULL)
			gw_events_join_workflow(&c->sink, id);
	}
	else if (strcmp(type, "leave:workflow") == 0)
	{
		if ((id = uuid_field(c, m, "workflowId")) != NULL)
			gw_events_leave_workflow(&c->sink, id);
	}
	else if (strcmp(type, "join:feed") == 0)
		gw_events_join_feed(&c->sink, c->user);
	else if (strcmp(type, "ping") == 0)
		queue_text(c, "{\"type\": \"pong\"}", 16);
	else
		reply_error(c, "INVALID_INPUT", "type: expected join:execution, leave:execution, join:workflow, leave:workflow, join:feed or ping");
	json_decref(m);
}

static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	ws_client  *c = user;
	ssize_t		n;

	(void) flags;
	if (c->extra_off < c->extra_len)
	{
		n = c->extra_len - c->extra_off < len ? c->extra_len - c->extra_off : len;
		memcpy(buf, c->extra + c->extra_off, n);
		c->extra_off += n;
		return n;
	}
	n = recv(c->fd, buf, len, 0);
	if (n > 0)
	{
		c->last_seen = gw_now_ms();
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	ws_client  *c = user;
	ssize_t		n = send(c->fd, data, len, MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0));

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void
msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	ws_client  *c = user;

	(void) ctx;
	if (arg->opcode == WSLAY_TEXT_FRAME)
		on_message(c, (const char *) arg->msg, arg->msg_length);
	else if (arg->opcode == WSLAY_BINARY_FRAME)
		queue_close(c, 1003, "messages are JSON text");
}

static void
io(void *arg, uint32_t events)
{
	ws_client  *c = arg;

	if (c->closing)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && wslay_event_recv(c->ctx) != 0)
	{
		close_soon(c);
		return;
	}
	if ((events & EPOLLOUT) && wslay_event_send(c->ctx) != 0)
	{
		close_soon(c);
		return;
	}
	update_watch(c);
}

static void
ping(void *arg)
{
	ws_client  *c = arg;
	struct wslay_event_msg m = {WSLAY_PING, (const uint8_t *) "", 0};

	c->ping = NULL;
	if (c->closing)
		return;
	if (gw_now_ms() - c->last_seen > PONG_TIMEOUT_MS)
	{
		queue_close(c, 1001, "no answer to pings");
		close_soon(c);
		return;
	}
	wslay_event_queue_msg(c->ctx, &m);
	wslay_event_send(c->ctx);
	update_watch(c);
	c->ping = gw_timer_add(PING_EVERY_MS, ping, c);
}

static void
on_open(void *arg, int fd, const char *extra, size_t extra_len, void *urh)
{
	static const struct wslay_event_callbacks cbs = {
		.recv_callback = recv_cb,.send_callback = send_cb,.on_msg_recv_callback = msg_cb,
	};
	ws_client  *c = arg;

	c->fd = fd;
	c->urh = urh;
	if (extra_len)
	{
		c->extra = gw_strndup(extra, extra_len);
		c->extra_len = extra_len;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	wslay_event_context_server_init(&c->ctx, &cbs, c);
	wslay_event_config_set_max_recv_msg_length(c->ctx, 65536);
	c->last_seen = gw_now_ms();
	c->watch = gw_watch_add(fd, EPOLLIN, io, c);
	c->ping = gw_timer_add(PING_EVERY_MS, ping, c);
	c->next = clients;
	clients = c;
	nclients++;
	if (extra_len)
		io(c, EPOLLIN);
}

static void
accept_key(const char *key, char out[64])
{
	unsigned char sha[SHA_DIGEST_LENGTH];
	char	   *k = gw_printf("%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);

	SHA1((const unsigned char *) k, strlen(k), sha);
	EVP_EncodeBlock((unsigned char *) out, sha, SHA_DIGEST_LENGTH);
	free(k);
}

static void
logged_in(gw_req *r, gw_result *res)
{
	const char *key = gw_req_header(r, "Sec-WebSocket-Key");
	char		accept[64];
	ws_client  *c;

	if (!res->ok)
	{
		gw_req_sql_error(r, res);
		return;
	}
	accept_key(key, accept);
	c = gw_alloc(sizeof(*c));
	c->sink.send = sink_send;
	c->sink.token = gw_strdup(gw_req_token(r));
	c->user = gw_strdup(res->value ? res->value : "");
	{
		const char *h[] = {"Upgrade", "websocket", "Sec-WebSocket-Accept", accept, NULL};

		gw_req_upgrade(r, h, on_open, c);
	}
}

void
gw_ws_upgrade(gw_req *r)
{
	const char *key = gw_req_header(r, "Sec-WebSocket-Key");
	const char *version = gw_req_header(r, "Sec-WebSocket-Version");

	if (strcmp(gw_req_method(r), "GET") != 0 || !gw_list_has(gw_req_header(r, "Upgrade"), "websocket", true) ||
		!gw_list_has(gw_req_header(r, "Connection"), "upgrade", true))
	{
		gw_req_error(r, 400, "INVALID_INPUT", "/ws takes a WebSocket upgrade (GET with Upgrade: websocket)", NULL);
		return;
	}
	if (version == NULL || strcmp(version, "13") != 0 || key == NULL || strlen(key) != 24)
	{
		gw_req_error(r, 400, "INVALID_INPUT", "Sec-WebSocket-Version 13 and a Sec-WebSocket-Key are required", NULL);
		gw_req_add_header(r, "Sec-WebSocket-Version", "13");
		return;
	}
	gw_req_sql_then(r, true, "SELECT flowent.current_user_id()", 0, NULL, logged_in);
}

void
gw_ws_close_all(void)
{
	for (ws_client *c = clients; c; c = c->next)
		if (!c->closing)
		{
			queue_close(c, 1001, "the gateway is shutting down");
			close_soon(c);
		}
}
