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

/* Execute an http-request node synchronously. */
static void
http_request_execute(FlNodeCall *call, FlNodeResult *res)
{
	FlHttpRequest req;

	if (!fl_http_request_from_config(call, &req, res))
		return;
	fl_http_execute(&req, res);
}

const FlNodeType fl_node_http_request = {
	.type = "http-request",
	.flags = FL_NT_EXTERNAL,
	.sql_error_code = NULL,
	.execute = http_request_execute,
};
