/*
 * metrics.c
 *	  Requests by route and status, a latency histogram, sockets, the pool
 *	  and events, as Prometheus text.
 */
#include "gateway/metrics.h"

#include <string.h>

#include "gateway/answers.h"
#include "gateway/hook_batch.h"
#include "gateway/http.h"
#include "gateway/pool.h"
#include "gateway/util.h"
#include "gateway/ws.h"

#define MAX_SERIES 256

static struct
{
	const char *route;			/* static strings: route patterns */
	unsigned	status;
	long		count;
} series[MAX_SERIES];
static int	nseries;

static const int64_t bounds_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
#define NBOUNDS (sizeof(bounds_ms) / sizeof(bounds_ms[0]))
static long buckets[NBOUNDS + 1];
static long lat_count;
static int64_t lat_sum_ms;
static long events_forwarded,
			events_dropped;

void
gw_metrics_request(const char *route, unsigned status, int64_t ms)
{
	int			i;
	size_t		b;

	for (i = 0; i < nseries; i++)
		if (series[i].status == status && strcmp(series[i].route, route) == 0)
			break;
	if (i == nseries && nseries < MAX_SERIES)
	{
		series[i].route = route;
		series[i].status = status;
		nseries++;
	}
	if (i < nseries)
		series[i].count++;
	for (b = 0; b < NBOUNDS && ms > bounds_ms[b]; b++)
		;
	buckets[b]++;
	lat_count++;
	lat_sum_ms += ms;
}

void
gw_metrics_events(long forwarded, long dropped)
{
	events_forwarded += forwarded;
	events_dropped += dropped;
}

char *
gw_metrics_text(void)
{
	gw_buf		b = {0};
	gw_pool_stats p = gw_pool_get_stats();
	long		cum = 0;

	gw_buf_str(&b, "# HELP flowent_gateway_requests_total HTTP requests by route and status.\n"
			   "# TYPE flowent_gateway_requests_total counter\n");
	for (int i = 0; i < nseries; i++)
	{
		gw_buf_str(&b, "flowent_gateway_requests_total{route=");
		gw_buf_json_str(&b, series[i].route);
		gw_buf_printf(&b, ",status=\"%u\"} %ld\n", series[i].status, series[i].count);
	}
	gw_buf_str(&b, "# HELP flowent_gateway_request_duration_seconds Time from the request's headers to its answer.\n"
			   "# TYPE flowent_gateway_request_duration_seconds histogram\n");
	for (size_t i = 0; i < NBOUNDS; i++)
	{
		cum += buckets[i];
		gw_buf_printf(&b, "flowent_gateway_request_duration_seconds_bucket{le=\"%.3f\"} %ld\n",
					  bounds_ms[i] / 1000.0, cum);
	}
	cum += buckets[NBOUNDS];
	gw_buf_printf(&b, "flowent_gateway_request_duration_seconds_bucket{le=\"+Inf\"} %ld\n", cum);
	gw_buf_printf(&b, "flowent_gateway_request_duration_seconds_sum %.3f\n", lat_sum_ms / 1000.0);
	gw_buf_printf(&b, "flowent_gateway_request_duration_seconds_count %ld\n", lat_count);
	gw_buf_printf(&b, "# TYPE flowent_gateway_http_connections gauge\nflowent_gateway_http_connections %d\n",
				  gw_http_connections());
	gw_buf_printf(&b, "# TYPE flowent_gateway_websockets gauge\nflowent_gateway_websockets %d\n", gw_ws_count());
	gw_buf_printf(&b, "# TYPE flowent_gateway_pool_connections gauge\nflowent_gateway_pool_connections %d\n"
				  "# TYPE flowent_gateway_pool_busy gauge\nflowent_gateway_pool_busy %d\n"
				  "# TYPE flowent_gateway_pool_queued gauge\nflowent_gateway_pool_queued %d\n"
				  "# TYPE flowent_gateway_pool_jobs_total counter\nflowent_gateway_pool_jobs_total %ld\n"
				  "# TYPE flowent_gateway_pool_failures_total counter\nflowent_gateway_pool_failures_total %ld\n",
				  p.connected, p.busy, p.queued, p.jobs, p.failures);
	{
		gw_answers_stats a = gw_answers_get_stats();

		gw_buf_printf(&b, "# HELP flowent_gateway_answers_total Cacheable requests: served from a kept answer (true), from the answer another request was making (shared), or made (false).\n"
					  "# TYPE flowent_gateway_answers_total counter\n"
					  "flowent_gateway_answers_total{kept=\"true\"} %ld\nflowent_gateway_answers_total{kept=\"shared\"} %ld\n"
					  "flowent_gateway_answers_total{kept=\"false\"} %ld\n"
					  "# TYPE flowent_gateway_answers_kept gauge\nflowent_gateway_answers_kept %ld\n"
					  "# TYPE flowent_gateway_answers_kept_bytes gauge\nflowent_gateway_answers_kept_bytes %zu\n",
					  a.hits, a.shared, a.misses, a.entries, a.bytes);
	}
	{
		gw_hook_batch_stats h = gw_hook_batch_get_stats();

		gw_buf_printf(&b, "# HELP flowent_gateway_webhook_batches_total Webhook transactions (each delivers a batch).\n"
					  "# TYPE flowent_gateway_webhook_batches_total counter\nflowent_gateway_webhook_batches_total %ld\n"
					  "# TYPE flowent_gateway_webhook_deliveries_total counter\nflowent_gateway_webhook_deliveries_total %ld\n"
					  "# TYPE flowent_gateway_webhook_waiting gauge\nflowent_gateway_webhook_waiting %d\n",
					  h.batches, h.deliveries, h.waiting);
	}
	gw_buf_printf(&b, "# TYPE flowent_gateway_events_forwarded_total counter\nflowent_gateway_events_forwarded_total %ld\n"
				  "# TYPE flowent_gateway_events_dropped_total counter\nflowent_gateway_events_dropped_total %ld\n",
				  events_forwarded, events_dropped);
	return b.data;
}
