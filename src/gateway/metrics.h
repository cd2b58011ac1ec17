/*
 * metrics.h
 *	  Counters for /metrics (Prometheus text format).
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdint.h>

void		gw_metrics_request(const char *route, unsigned status, int64_t ms);
void		gw_metrics_events(long forwarded, long dropped);
/* the exposition text (malloc'd) */
char	   *gw_metrics_text(void);

#endif
