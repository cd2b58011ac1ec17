/*
 * http_async.h
 *	  How an asynchronous execution hands its HTTP requests to a worker's
 *	  curl multi loop and gets the responses back.
 */
#ifndef FL_HTTP_ASYNC_H
#define FL_HTTP_ASYNC_H

#include "pg/http.h"

/* A finished transfer, given to the node's resume() */
typedef struct FlHttpCompletion
{
	FlHttpRequest *req;
	FlHttpResponse *resp;
	CURLcode	code;
} FlHttpCompletion;

/* Set by the worker while it continues an execution with a response. */
extern FlHttpCompletion *fl_http_completion;

/* Set in worker processes: takes a request the engine suspended on. */
extern void (*fl_http_dispatcher) (const char *exec_id, const char *node_id, const char *iteration,
								   FlHttpRequest *req);

#endif
