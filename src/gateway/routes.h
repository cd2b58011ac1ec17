/*
 * routes.h
 *	  Every route of the API: a method, a path pattern and the one SQL
 *	  function it calls.
 */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include "gateway/errors.h"
#include "gateway/http.h"

/* answer r (now or later); returns the matched route's pattern, for metrics */
const char *gw_route(gw_req *r);
/* the route table as OpenAPI 3 JSON (malloc'd) */
char	   *gw_openapi_json(void);

#endif
