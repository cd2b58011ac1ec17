/*
 * hook_batch.h
 *	  Webhook deliveries grouped into one transaction per batch.
 */
#ifndef GW_HOOK_BATCH_H
#define GW_HOOK_BATCH_H

#include <stdbool.h>

#include "gateway/http.h"

/* a delivery's answer: 'stale', 'replayed', the run's, or its error (!ok) */
typedef void (*gw_hook_answer_fn) (gw_req *r, gw_result *res, bool from_cache);

/* at most `batches` batches at once, each of at most `batch_size` deliveries */
void		gw_hook_batch_config(int batches, int batch_size);
/*
 * Deliver a webhook whose signature was checked with the secret whose
 * sha256 is digest; wait: "true", "false" or NULL (the workflow's setting),
 * a static string.  The request waits until answer is called.
 */
void		gw_hook_batch_add(gw_req *r, const char *id, const char *signature, const char *body,
							  const char *wait, const char *digest, bool from_cache,
							  gw_hook_answer_fn answer);

typedef struct gw_hook_batch_stats
{
	long		batches;
	long		deliveries;
	int			waiting;
} gw_hook_batch_stats;

gw_hook_batch_stats gw_hook_batch_get_stats(void);

#endif
