/*
 * webhook.h
 *	  POST /api/hooks/:workflowId: a signed request starts the published
 *	  version with the body as its trigger payload.
 */
#ifndef GW_WEBHOOK_H
#define GW_WEBHOOK_H

#include "gateway/http.h"

void		gw_webhook(gw_req *r, const char *workflow_id);

#endif
