/*
 * http.h
 *	  Outbound HTTP with libcurl: request description, easy-handle setup,
 *	  outbound address policy, response → node output, and the synchronous
 *	  transfer that flowent.run uses.
 *
 * One FlHttpRequest describes a call; it is built from a node's resolved
 * config (fl_http_request_from_config, or by hand as webhook.c does) in the
 * current memory context.  fl_http_easy_setup() puts everything on an easy
 * handle, so the same request runs either synchronously
 * (fl_http_perform_sync) or inside the worker's curl multi loop:
 *
 *		FlHttpResponse resp;
 *
 *		fl_http_response_init(&resp);
 *		rc = fl_http_easy_setup(h, &req, &resp);	-- CURLOPT_PRIVATE is the caller's
 *		... curl_multi_add_handle / transfer ...; on CURLMSG_DONE with code:
 *		fl_http_finish(h, &resp);					-- status, effective URL
 *		fl_http_result(&req, &resp, code, res);	-- inside a transaction
 *		fl_http_response_free(&resp);				-- also on every error path
 *
 * The callbacks installed on the handle never palloc or ereport: response
 * bytes are malloc'd into FlHttpResponse and freed by
 * fl_http_response_free().  The outbound policy is checked on the resolved
 * peer address of every connection the handle opens (redirects, DNS answers,
 * IPv6 and numeric forms included), and again before every request sent on
 * a kept-alive connection, against flowent.http_allow_hosts.
 */
#ifndef FL_HTTP_H
#define FL_HTTP_H

#include "postgres.h"

#include <curl/curl.h>
#include "lib/stringinfo.h"
#include <sys/socket.h>

#include "nodes/fl_nodes.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "flowent needs libcurl 7.85.0 or later (CURLOPT_PROTOCOLS_STR)"
#endif

/* GUCs */
extern char *fl_http_allow_hosts;
extern int	fl_http_timeout_ms;
extern int	fl_http_max_response_bytes;

/* An accepted status range, inclusive ([200, 299] is the default) */
typedef struct FlHttpStatusRange
{
	int			lo;
	int			hi;
} FlHttpStatusRange;

/*
 * What to send.  Everything is palloc'd; curl copies the URL, the method and
 * the body when the handle is set up, so the request only has to live until
 * fl_http_easy_setup() returns (and until fl_http_result() for the accepted
 * statuses and the node id used in messages).
 */
/* The envelope of a mail (smtp:// or smtps:// URLs; the message is the body). */
typedef struct FlSmtp
{
	char	   *from;			/* MAIL FROM address */
	List	   *rcpts;			/* char *: RCPT TO addresses */
	char	   *username;		/* NULL: no AUTH */
	char	   *password;
} FlSmtp;

typedef struct FlHttpRequest
{
	const char *node_id;		/* for messages */
	char	   *method;			/* GET, POST, PUT, PATCH, DELETE */
	char	   *url;			/* http or https, query appended */
	List	   *headers;		/* char * "Name: value", as sent */
	char	   *body;			/* NULL: no body */
	size_t		body_len;
	int			timeout_ms;		/* whole transfer, redirects included */
	char	   *idempotency_key;	/* sent as Idempotency-Key; NULL: none */
	int64		max_response_bytes; /* cap on the body (and 4x on headers) */
	FlHttpStatusRange *accept;	/* NULL: 2xx */
	int			naccept;
	FlSmtp	   *smtp;			/* a mail, not an HTTP request */
	bool		budget_held;	/* a budget reservation waits for its answer (budget.h) */
	bool		stream;			/* the answer comes as server-sent events (llm_stream.h) */
} FlHttpRequest;

/* What came back.  Buffers are malloc'd: free with fl_http_response_free. */
typedef struct FlHttpResponse
{
	CURL	   *easy;			/* the handle it was set up on */
	struct curl_slist *req_headers; /* request headers (owned) */
	struct curl_slist *mail_rcpts;	/* a mail's recipients (owned) */
	char	   *upload;			/* a mail's message, as sent (malloc'd) */
	size_t		upload_len;
	size_t		upload_pos;
	char	   *body;
	size_t		body_len;
	size_t		body_cap;
	char	   *hdr;			/* raw header lines of the last response */
	size_t		hdr_len;
	size_t		hdr_cap;
	size_t		max_body;
	bool		too_large;		/* body or headers over the cap */
	bool		oom;			/* malloc failed in a callback */
	/* outbound policy: the first connection refused */
	bool		refused;
	char		refused_host[256];
	char		refused_addr[64];
	const char *refused_why;	/* "loopback", "private", … */
	long		status;			/* final HTTP status, 0: none */
	char		errbuf[CURL_ERROR_SIZE];
	char	   *effective_url;	/* malloc'd, set by fl_http_finish */
} FlHttpResponse;

/* Module load: define the GUCs (called from _PG_init) */
extern void fl_http_init(void);

/* curl_global_init, once per process (the sync path calls it itself) */
extern void fl_http_global_init(void);

/*
 * Bumped whenever flowent.http_allow_hosts changes: a long-lived handle or
 * multi (connection cache) made under an older policy should be discarded.
 */
extern uint64 fl_http_policy_generation(void);

/*
 * Is a connection to this address allowed?  host is the URL's host name
 * (may be NULL).  On refusal *why names the class of address.
 */
extern bool fl_http_address_allowed(const struct sockaddr *sa, const char *host,
									const char **why);

/*
 * The request of an http-request node from its resolved config (Appendix A:
 * method, url, headers, query, body, auth, timeoutMs, acceptStatus).  False,
 * with res failed (INVALID_CONFIG, CREDENTIAL_NOT_FOUND), on bad config.
 * Resolves auth.credential for the workflow owner and scrubs it.
 */
extern bool fl_http_request_from_config(FlNodeCall *call, FlHttpRequest *req,
										FlNodeResult *res);

/* Pieces other nodes (webhook, …) build requests from. */
extern bool fl_http_parse_url(FlNodeCall *call, FlNodeResult *res, const char *field,
							  const char *url, char **out);
extern bool fl_http_config_headers(FlNodeCall *call, FlNodeResult *res, List **headers);
extern void fl_http_remember_derived(FlExec *ex, const JsonbValue *cred);
extern bool fl_http_config_accept(FlNodeCall *call, FlNodeResult *res, FlHttpRequest *req);
extern bool fl_http_config_timeout(FlNodeCall *call, FlNodeResult *res, FlHttpRequest *req);
extern char *fl_http_idempotency_key(FlNodeCall *call);
extern bool fl_http_has_header(List *headers, const char *name);
extern List *fl_http_set_header(List *headers, const char *name, const char *value);
extern void fl_http_append_urlencoded(StringInfo buf, const char *s);

/* Zero a response before use. */
extern void fl_http_response_init(FlHttpResponse *resp);

/*
 * Set every option of the request on an easy handle (fresh or
 * curl_easy_reset): method, URL, headers (+ Idempotency-Key), body, http and
 * https only (redirects too), up to 5 redirects, timeout, no proxy, response
 * callbacks with the size cap, and the address policy on every socket
 * (CURLOPT_OPENSOCKETFUNCTION) and every request (CURLOPT_PREREQFUNCTION).
 * Leaves CURLOPT_PRIVATE and the progress callback to the caller.  Returns
 * the first failing setopt's code (CURLE_OK normally).
 */
extern CURLcode fl_http_easy_setup(CURL *h, FlHttpRequest *req, FlHttpResponse *resp);

/* After the transfer: read the status and effective URL off the handle. */
extern void fl_http_finish(CURL *h, FlHttpResponse *resp);

/*
 * The node output {status, headers, body}: body parsed as jsonb when the
 * content type is JSON and it parses, else text (base64 with
 * bodyEncoding "base64" when it is not valid text).  Needs a transaction.
 */
extern Jsonb *fl_http_response_output(FlHttpResponse *resp);

/* text parsed as jsonb, or NULL when it is not JSON (no error raised) */
extern Jsonb *fl_http_try_parse_json(const char *text);

/*
 * Map a finished transfer to the node result: OUTBOUND_REFUSED, TIMEOUT,
 * LIMIT_EXCEEDED (response over the cap), HTTP_ERROR (curl error, or a status
 * not accepted: details {status, body excerpt}), else success with
 * fl_http_response_output().  Needs a transaction.
 */
extern void fl_http_result(FlHttpRequest *req, FlHttpResponse *resp, CURLcode code,
						   FlNodeResult *res);

/*
 * For the nodes that call a JSON API (llm-agent, web-search): a finished
 * transfer mapped with the provider's message: unreachable and 429/5xx
 * `unavailable` (a retryable code), 401/403 CREDENTIAL_INVALID, another
 * non-2xx INVALID_CONFIG, and OUTBOUND_REFUSED, TIMEOUT, LIMIT_EXCEEDED as
 * fl_http_result.  True for a 2xx, with *body the response parsed (NULL
 * when it is not JSON); false with res failed.  `api` names the service.
 */
extern bool fl_http_api_answer(FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res,
							   const char *api, const char *unavailable, Jsonb **body);

/*
 * Nodes that build their own request and map their own answer (llm-agent,
 * web-search): the synchronous call, and the resume that maps the worker's
 * response (or makes the call when there is none).
 */
typedef bool (*FlHttpPrepareFn) (FlNodeCall *call, FlHttpRequest *req, FlNodeResult *res);
typedef void (*FlHttpMapFn) (FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code,
							 FlNodeResult *res);
extern void fl_http_call_sync(FlNodeCall *call, FlNodeResult *res, FlHttpPrepareFn prepare, FlHttpMapFn map);
extern void fl_http_call_resume(FlNodeCall *call, FlNodeResult *res, FlHttpPrepareFn prepare, FlHttpMapFn map);

/* Free what the response holds (safe twice, safe after init). */
extern void fl_http_response_free(FlHttpResponse *resp);

/*
 * Blocking transfer for flowent.run: a backend-wide easy handle (keeps
 * connections while the policy is unchanged), interruptible by cancel,
 * statement_timeout and termination (the interrupt is raised after the
 * response is freed), shown as wait event Extension while it runs.
 */
extern CURLcode fl_http_perform_sync(FlHttpRequest *req, FlHttpResponse *resp);

/* perform_sync + result + free, with the response freed on every path. */
extern void fl_http_execute(FlHttpRequest *req, FlNodeResult *res);

#endif
