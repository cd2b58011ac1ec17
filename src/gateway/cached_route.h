/*
 * cached_route.h
 *	  Routes answered from kept answers while the change stamp holds.
 */
#ifndef GW_CACHED_ROUTE_H
#define GW_CACHED_ROUTE_H

#include "gateway/http.h"

/* as gw_req_sql(r, true, sql, ..., 200), kept by token, route and params */
void		gw_cached_sql(gw_req *r, const char *route, const char *sql, int nparams,
						  const char *const *params);

#endif
