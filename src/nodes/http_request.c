/*
 * http_request.c
 *	  The http-request node: one HTTP call (Appendix A).
 *
 * method GET/POST/PUT/PATCH/DELETE (default GET), url (http or https),
 * headers, query (appended URL-encoded), body (objects and arrays as JSON,
 * strings as they are), auth {type: bearer|basic, credential: NAME},
 * timeoutMs, acceptStatus (default 2xx).  Output {status, headers, body},
 * the body parsed when the response is JSON.  The request carries
 * Idempotency-Key: <executionId>:<nodeId>:<iteration>, the same on every
 * retry.  Building the request and mapping the response live in
 * src/pg/http.c, which the worker's curl multi loop shares; here the call is
 * made synchronously (flowent.run), interruptible by cancel.
 */
#include "postgres.h"

#include "nodes/fl_nodes.h"
#include "pg/http.h"
#include "pg/http_async.h"

/* Execute an http-request node synchronously. */
static void
http_request_execute(FlNodeCall *call, FlNodeResult *res)
{
	FlHttpRequest req;

	if (!fl_http_request_from_config(call, &req, res))
		return;
	fl_http_execute(&req, res);
}

/* Describe the request for a worker's curl multi loop. */
static bool
http_request_prepare(FlNodeCall *call, FlHttpRequest *req, FlNodeResult *res)
{
	return fl_http_request_from_config(call, req, res);
}

/* The worker's response came back: map it to the node's result. */
static void
http_request_resume(FlNodeCall *call, FlNodeResult *res)
{
	FlHttpCompletion *c = fl_http_completion;

	if (c == NULL)
	{
		http_request_execute(call, res);
		return;
	}
	fl_http_result(c->req, c->resp, c->code, res);
}

const FlNodeType fl_node_http_request = {
	.type = "http-request",
	.flags = FL_NT_EXTERNAL,
	.sql_error_code = NULL,
	.execute = http_request_execute,
	.resume = http_request_resume,
	.prepare_http = http_request_prepare,
};
