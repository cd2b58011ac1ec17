/*
 * http.c
 *	  libmicrohttpd in external-epoll mode: its epoll fd is one watch of the
 *	  gateway's loop, so HTTP, libpq and WebSocket sockets share one thread.
 */
#include "gateway/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "gateway/errors.h"
#include "gateway/loop.h"
#include "gateway/metrics.h"
#include "gateway/ratelimit.h"
#include "gateway/routes.h"
#include "gateway/util.h"

struct gw_req
{
	struct MHD_Connection *conn;
	char	   *method;
	char	   *path;
	gw_buf		body;
	bool		has_body;
	bool		too_large;
	bool		suspended;
	bool		answered;
	struct MHD_Response *resp;
	unsigned	status;
	int64_t		started_ms;
	const char *route;			/* for metrics: the route's pattern */
	gw_req_result_fn then;
	void	   *data;			/* a route's own, freed with the request */
	void		(*free_data) (void *);
};

static gw_config cfg;
static struct MHD_Daemon *daemon_;
static gw_watch *mhd_watch;
static bool run_soon;
static int	in_flight;

static const char *const security_headers[][2] = {
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "no-referrer"},
	{"Cache-Control", "no-store"},
};

const char *
gw_req_method(gw_req *r)
{
	return r->method;
}

const char *
gw_req_path(gw_req *r)
{
	return r->path;
}

const char *
gw_req_header(gw_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
gw_req_arg(gw_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static bool
is_integer(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '\0' || strlen(p) > 15)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	gw_buf	   *b = cls;

	(void) kind;
	gw_buf_str(b, b->len > 1 ? ", " : "");
	gw_buf_json_str(b, key);
	gw_buf_str(b, ": ");
	if (value == NULL)
		gw_buf_str(b, "true");
	else if (is_integer(value) || strcmp(value, "true") == 0 || strcmp(value, "false") == 0)
		gw_buf_str(b, value);
	else
		gw_buf_json_str(b, value);
	return MHD_YES;
}

char *
gw_req_args_json(gw_req *r)
{
	gw_buf		b = {0};

	gw_buf_str(&b, "{");
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, &b);
	gw_buf_str(&b, "}");
	return b.data;
}

const char *
gw_req_body(gw_req *r, size_t *len)
{
	if (len)
		*len = r->body.len;
	return r->has_body ? r->body.data : NULL;
}

const char *
gw_req_token(gw_req *r)
{
	const char *h = gw_req_header(r, "Authorization");

	if (h && strncasecmp(h, "Bearer ", 7) == 0)
	{
		h += 7;
		while (*h == ' ')
			h++;
		return *h ? h : NULL;
	}
	/* browsers cannot set headers on a WebSocket upgrade */
	if (strcmp(r->path, "/ws") == 0)
		return gw_req_arg(r, "token");
	return NULL;
}

void
gw_req_add_header(gw_req *r, const char *name, const char *value)
{
	if (r->resp == NULL)
		return;
	/* a route's own value replaces the default one */
	for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
		if (strcasecmp(name, security_headers[i][0]) == 0)
			MHD_del_response_header(r->resp, security_headers[i][0], security_headers[i][1]);
	MHD_add_response_header(r->resp, name, value);
}

static void
set_response(gw_req *r, unsigned status, struct MHD_Response *resp, const char *content_type)
{
	const char *origin;

	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = status;
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
		MHD_add_response_header(resp, security_headers[i][0], security_headers[i][1]);
	origin = gw_req_header(r, "Origin");
	if (cfg.cors_origin && origin && gw_origin_allowed(cfg.cors_origin, origin))
	{
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
		MHD_add_response_header(resp, "Vary", "Origin");
	}
	if (r->suspended)
	{
		r->suspended = false;
		MHD_resume_connection(r->conn);
		run_soon = true;
	}
}

void
gw_req_respond(gw_req *r, unsigned status, const char *content_type, char *body, size_t len)
{
	set_response(r, status, MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE),
				 content_type);
}

void
gw_req_respond_json(gw_req *r, unsigned status, const char *json)
{
	size_t		n = strlen(json);
	char	   *v = gw_alloc(n + 2);

	memcpy(v, json, n);
	v[n] = '\n';
	v[n + 1] = '\0';
	gw_req_respond(r, status, "application/json", v, n + 1);
}

void
gw_req_respond_fd(gw_req *r, unsigned status, const char *content_type, int fd, size_t size)
{
	set_response(r, status, MHD_create_response_from_fd(size, fd), content_type);
}

void
gw_req_error(gw_req *r, unsigned status, const char *code, const char *message,
			 const char *details_json)
{
	gw_buf		b = {0};

	gw_buf_str(&b, "{\"error\": {\"code\": ");
	gw_buf_json_str(&b, code);
	gw_buf_str(&b, ", \"message\": ");
	gw_buf_json_str(&b, message);
	gw_buf_str(&b, ", \"details\": ");
	gw_buf_str(&b, details_json ? details_json : "null");
	gw_buf_str(&b, "}}\n");
	gw_req_respond(r, status, "application/json", b.data, b.len);
	if (status == 401)
		gw_req_add_header(r, "WWW-Authenticate", "Bearer");
}

void
gw_req_sql_error(gw_req *r, gw_result *res)
{
	gw_sql_status st;
	char	   *details;

	if (res->unavailable)
	{
		gw_req_error(r, 503, "UNAVAILABLE", res->message, NULL);
		gw_req_add_header(r, "Retry-After", "1");
		return;
	}
	st = gw_map_sqlstate(res->sqlstate);
	details = gw_error_details(res->sqlstate, res->detail, st.status);
	gw_req_error(r, st.status, st.code, st.status >= 500 ? "internal error (see the gateway log)" : res->message, details);
	if (st.status >= 500)
		gw_log("%s %s: %s %s%s%s", r->method, r->path, res->sqlstate, res->message,
			   res->detail ? " DETAIL: " : "", res->detail ? res->detail : "");
	free(details);
}

typedef struct sql_job
{
	gw_req	   *req;
	unsigned	ok_status;
} sql_job;

static void
sql_done(void *arg, gw_result *res)
{
	sql_job    *j = arg;
	gw_req	   *r = j->req;

	if (r->then)
		r->then(r, res);
	else if (!res->ok)
		gw_req_sql_error(r, res);
	else
		gw_req_respond_json(r, j->ok_status, res->value ? res->value : "null");
	free(j);
}

static void
submit(gw_req *r, bool auth, const char *sql, int nparams, const char *const *params,
	   unsigned ok_status, bool stamped)
{
	sql_job    *j;
	const char *token = NULL;

	if (auth)
	{
		token = gw_req_token(r);
		if (token == NULL)
		{
			gw_req_error(r, 401, "UNAUTHORIZED", "an API token is required: send Authorization: Bearer <token>", NULL);
			return;
		}
	}
	j = gw_alloc(sizeof(*j));
	j->req = r;
	j->ok_status = ok_status;
	gw_req_hold(r);
	if (stamped)
		gw_pool_submit_stamped(token, sql, nparams, params, sql_done, j);
	else
		gw_pool_submit(token, sql, nparams, params, sql_done, j);
}

void
gw_req_sql(gw_req *r, bool auth, const char *sql, int nparams, const char *const *params,
		   unsigned ok_status)
{
	r->then = NULL;
	submit(r, auth, sql, nparams, params, ok_status, false);
}

void
gw_req_sql_then(gw_req *r, bool auth, const char *sql, int nparams, const char *const *params,
				gw_req_result_fn fn)
{
	r->then = fn;
	submit(r, auth, sql, nparams, params, 200, false);
}

void
gw_req_sql_stamped_then(gw_req *r, const char *sql, int nparams, const char *const *params,
						gw_req_result_fn fn)
{
	r->then = fn;
	submit(r, true, sql, nparams, params, 200, true);
}

void
gw_req_hold(gw_req *r)
{
	if (!r->suspended && r->resp == NULL)
	{
		MHD_suspend_connection(r->conn);
		r->suspended = true;
	}
}

void
gw_req_set_data(gw_req *r, void *data, void (*free_data) (void *))
{
	if (r->free_data)
		r->free_data(r->data);
	r->data = data;
	r->free_data = free_data;
}

void *
gw_req_data(gw_req *r)
{
	return r->data;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	gw_req	   *r = *con_cls;

	(void) cls;
	(void) version;
	if (r == NULL)
	{
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

		r = gw_alloc(sizeof(*r));
		r->conn = conn;
		r->method = gw_strdup(method);
		r->path = gw_strdup(url);
		r->started_ms = gw_now_ms();
		*con_cls = r;
		in_flight++;
		if (cl && strtoull(cl, NULL, 10) > cfg.body_limit)
		{
			r->too_large = true;
			goto answer_too_large;
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (!r->too_large && r->body.len + *upload_data_size > cfg.body_limit)
		{
			r->too_large = true;
			gw_buf_free(&r->body);
		}
		if (!r->too_large)
			gw_buf_add(&r->body, upload_data, *upload_data_size);
		r->has_body = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->resp == NULL && !r->answered && !r->suspended)
	{
		if (r->too_large)
			goto answer_too_large;
		int			retry;

		if (r->has_body && r->body.data == NULL)
			gw_buf_add(&r->body, "", 0);
		if (!gw_rate_allow(gw_req_token(r), gw_now_ms(), &retry))
		{
			char		after[16];

			snprintf(after, sizeof(after), "%d", retry);
			r->route = "(rate limited)";
			gw_req_error(r, 429, "RATE_LIMITED", "too many requests with this token: slow down", NULL);
			gw_req_add_header(r, "Retry-After", after);
		}
		else
			r->route = gw_route(r);
	}
	if (r->resp && !r->answered)
	{
		enum MHD_Result ok = MHD_queue_response(conn, r->status, r->resp);

		MHD_destroy_response(r->resp);
		r->resp = NULL;
		r->answered = true;
		return ok;
	}
	return MHD_YES;

answer_too_large:
	{
		char	   *msg = gw_printf("the request body is larger than the limit of %zu bytes", cfg.body_limit);

		r->route = "(body too large)";
		gw_req_error(r, 413, "PAYLOAD_TOO_LARGE", msg, NULL);
		free(msg);
		r->answered = true;
		{
			enum MHD_Result ok = MHD_queue_response(conn, r->status, r->resp);

			MHD_destroy_response(r->resp);
			r->resp = NULL;
			return ok;
		}
	}
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	gw_req	   *r = *con_cls;

	(void) cls;
	(void) conn;
	(void) toe;
	if (r == NULL)
		return;
	gw_metrics_request(r->route ? r->route : "(none)", r->status ? r->status : 499,
					   gw_now_ms() - r->started_ms);
	if (r->resp)
		MHD_destroy_response(r->resp);
	if (r->free_data)
		r->free_data(r->data);
	gw_buf_free(&r->body);
	free(r->method);
	free(r->path);
	free(r);
	*con_cls = NULL;
	in_flight--;
}

static void
mhd_io(void *arg, uint32_t events)
{
	(void) arg;
	(void) events;
	MHD_run(daemon_);
}

static int64_t
mhd_prepare(void *arg)
{
	MHD_UNSIGNED_LONG_LONG t;

	(void) arg;
	if (daemon_ == NULL)
		return -1;
	/*
	 * Run MHD before every wait, not only when its epoll fd is readable:
	 * its epoll is edge-triggered, and some of its work shows no event at
	 * all (a resumed connection, the end of a stream, the listening socket
	 * it put back after being at --max-connections).  Then, while it says
	 * it has more ready (a timeout of 0), run it again.
	 */
	run_soon = false;
	MHD_run(daemon_);
	for (int i = 0; i < 16; i++)
	{
		if (MHD_get_timeout(daemon_, &t) != MHD_YES)
			return -1;
		if (t > 0)
			return (int64_t) t;
		MHD_run(daemon_);
	}
	return 0;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char		buf[512];

	(void) cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	gw_log("http: %s", buf);
}

void
gw_http_start(const gw_config *c)
{
	struct sockaddr_in addr = {0};
	const union MHD_DaemonInfo *info;

	cfg = *c;
	gw_rate_init(cfg.rate_limit);
	addr.sin_family = AF_INET;
	addr.sin_port = htons(cfg.listen_port);
	if (inet_pton(AF_INET, cfg.listen_host, &addr.sin_addr) != 1)
		gw_die("--listen: %s is not an IPv4 address", cfg.listen_host);
	daemon_ = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
							   cfg.listen_port, NULL, NULL, on_request, NULL,
							   MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
							   MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
							   MHD_OPTION_CONNECTION_LIMIT, (unsigned int) cfg.max_connections,
							   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) cfg.idle_timeout_s,
							   MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
							   MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
							   MHD_OPTION_END);
	if (daemon_ == NULL)
		gw_die("cannot listen on %s:%d (in use, or not allowed)", cfg.listen_host, cfg.listen_port);
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
	mhd_watch = gw_watch_add(info->epoll_fd, EPOLLIN, mhd_io, NULL);
	gw_loop_on_prepare(mhd_prepare, NULL);
}

void
gw_http_quiesce(void)
{
	MHD_socket	s = MHD_quiesce_daemon(daemon_);

	if (s != MHD_INVALID_SOCKET)
		close(s);
}

bool
gw_http_idle(void)
{
	return in_flight == 0;
}

int
gw_http_connections(void)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? (int) info->num_connections : 0;
}

void
gw_http_stop(void)
{
	gw_watch_drop(mhd_watch);
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}

/* ---- protocol switches (WebSocket) ---- */

typedef struct upgrade_ctx
{
	gw_upgrade_fn fn;
	void	   *arg;
} upgrade_ctx;

static void
on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
		   size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	upgrade_ctx *u = cls;

	(void) conn;
	(void) con_cls;
	u->fn(u->arg, sock, extra_in, extra_in_size, urh);
	free(u);
}

void
gw_req_upgrade(gw_req *r, const char *const *headers, gw_upgrade_fn fn, void *arg)
{
	upgrade_ctx *u = gw_alloc(sizeof(*u));
	struct MHD_Response *resp;

	u->fn = fn;
	u->arg = arg;
	resp = MHD_create_response_for_upgrade(on_upgrade, u);
	for (int i = 0; headers[i]; i += 2)
		MHD_add_response_header(resp, headers[i], headers[i + 1]);
	r->route = "/ws";
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = MHD_HTTP_SWITCHING_PROTOCOLS;
	if (r->suspended)
	{
		r->suspended = false;
		MHD_resume_connection(r->conn);
		run_soon = true;
	}
}

void
gw_upgraded_close(void *handle)
{
	MHD_upgrade_action(handle, MHD_UPGRADE_ACTION_CLOSE);
	run_soon = true;
}

/* ---- streamed answers (SSE) ---- */

typedef struct gw_stream
{
	struct MHD_Connection *conn;
	gw_stream_fn read;
	gw_stream_done_fn done;
	void	   *arg;
	bool		waiting;		/* suspended until there is something to read */
} gw_stream;

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	gw_stream  *s = cls;
	long		n = s->read(s->arg, buf, max);

	(void) pos;
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n == 0 && !s->waiting)
	{
		/* nothing to send: park the connection instead of polling it */
		s->waiting = true;
		MHD_suspend_connection(s->conn);
	}
	return n;
}

static void
stream_free(void *cls)
{
	gw_stream  *s = cls;

	s->done(s->arg);
	free(s);
}

void
gw_req_stream(gw_req *r, unsigned status, const char *content_type,
			  gw_stream_fn read, gw_stream_done_fn done, void *arg, void **handle)
{
	gw_stream  *s = gw_alloc(sizeof(*s));

	s->conn = r->conn;
	s->read = read;
	s->done = done;
	s->arg = arg;
	*handle = s;
	set_response(r, status, MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free),
				 content_type);
}

void
gw_stream_wake(void *handle)
{
	gw_stream  *s = handle;

	if (s->waiting)
	{
		s->waiting = false;
		MHD_resume_connection(s->conn);
		run_soon = true;
	}
}
