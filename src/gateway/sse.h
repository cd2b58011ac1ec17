/*
 * sse.h
 *	  GET /api/executions/:id/events: an execution's events as Server-Sent
 *	  Events, from the start or after Last-Event-ID, live until
 *	  workflow:complete.
 */
#ifndef GW_SSE_H
#define GW_SSE_H

#include "gateway/http.h"

void		gw_sse_start(gw_req *r, const char *execution_id);

#endif
