/*
 * ratelimit.h
 *	  A token bucket per API token: rate requests per second, bursts of
 *	  twice that.  Pure C: unit-tested alone.
 */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

void		gw_rate_init(int per_second);	/* 0: no limit */
/* may key make a request at now_ms?  If not, *retry_after_s says when it may */
bool		gw_rate_allow(const char *key, int64_t now_ms, int *retry_after_s);

#endif
