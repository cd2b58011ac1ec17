/*
 * http.h
 *	  The HTTP side: libmicrohttpd driven from the gateway's event loop.
 *	  A request that needs the database is suspended while its job runs and
 *	  answered when the job is done.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/pool.h"

typedef struct gw_config
{
	const char *conninfo;
	const char *listen_host;
	int			listen_port;
	const char *web_dir;		/* NULL: no web files */
	const char *cors_origin;	/* NULL: CORS off */
	size_t		body_limit;
	int			max_connections;
	int			idle_timeout_s;
	int			pool_size;
	int			rate_limit;		/* requests per second per token; 0: none */
} gw_config;

typedef struct gw_req gw_req;

void		gw_http_start(const gw_config *cfg);
/* stop accepting; true once no request is left in flight */
void		gw_http_quiesce(void);
bool		gw_http_idle(void);
void		gw_http_stop(void);
int			gw_http_connections(void);

const char *gw_req_method(gw_req *r);
const char *gw_req_path(gw_req *r);
const char *gw_req_header(gw_req *r, const char *name);
const char *gw_req_arg(gw_req *r, const char *key);
/* the query string as a JSON object: integers and true/false typed, the rest strings */
char	   *gw_req_args_json(gw_req *r);
/* the body, NUL-terminated; NULL when there is none */
const char *gw_req_body(gw_req *r, size_t *len);
/* the bearer token of the Authorization header, or NULL */
const char *gw_req_token(gw_req *r);

/* answer with body (taken over, freed by the server) */
void		gw_req_respond(gw_req *r, unsigned status, const char *content_type, char *body, size_t len);
/* answer with a JSON text (copied), a newline after it */
void		gw_req_respond_json(gw_req *r, unsigned status, const char *json);
void		gw_req_respond_fd(gw_req *r, unsigned status, const char *content_type, int fd, size_t size);
void		gw_req_add_header(gw_req *r, const char *name, const char *value);
/* {"error": {code, message, details}}; details_json NULL: null */
void		gw_req_error(gw_req *r, unsigned status, const char *code, const char *message,
						 const char *details_json);
/*
 * Run sql in one transaction, as the request's token's user when auth, and
 * answer with its jsonb value (ok_status) or its error mapped to HTTP.
 */
void		gw_req_sql(gw_req *r, bool auth, const char *sql, int nparams,
					   const char *const *params, unsigned ok_status);
/* as gw_req_sql, but the result goes to fn, which must answer */
typedef void (*gw_req_result_fn) (gw_req *r, gw_result *res);
void		gw_req_sql_then(gw_req *r, bool auth, const char *sql, int nparams,
							const char *const *params, gw_req_result_fn fn);
/* as gw_req_sql_then with auth, the result's stamp read first (GW_STAMP_SQL) */
void		gw_req_sql_stamped_then(gw_req *r, const char *sql, int nparams,
									const char *const *params, gw_req_result_fn fn);
/* the request waits (its connection suspended) until it is answered */
void		gw_req_hold(gw_req *r);
/* a route's own state across its jobs, freed (free_data) with the request */
void		gw_req_set_data(gw_req *r, void *data, void (*free_data) (void *));
void	   *gw_req_data(gw_req *r);

/*
 * Switch the connection to another protocol (101 Switching Protocols with
 * the given headers, NULL-terminated name/value pairs); fn then owns the
 * socket, with the bytes the client sent after its request, until it calls
 * gw_upgraded_close(handle).
 */
typedef void (*gw_upgrade_fn) (void *arg, int fd, const char *extra, size_t extra_len, void *handle);
void		gw_req_upgrade(gw_req *r, const char *const *headers, gw_upgrade_fn fn, void *arg);
void		gw_upgraded_close(void *handle);

/* a streamed answer (SSE): read() fills buf, returns bytes, 0 = nothing yet
 * (the connection waits until gw_req_stream_wake), -1 = end */
typedef long (*gw_stream_fn) (void *arg, char *buf, size_t max);
typedef void (*gw_stream_done_fn) (void *arg);
void		gw_req_stream(gw_req *r, unsigned status, const char *content_type,
						  gw_stream_fn read, gw_stream_done_fn done, void *arg, void **handle);
void		gw_stream_wake(void *handle);

/* answer a failed result: the SQLSTATE mapped to a status and an error object */
void		gw_req_sql_error(gw_req *r, gw_result *res);

#endif
