/*
 * webhook.c
 *	  Two round trips: the secret of the published workflow (as the gateway's
 *	  own role: nobody acts yet), then, once the signature holds, one
 *	  transaction that records the signature (a replay finds it) and starts
 *	  the run as the workflow's owner.  A run that fails to start rolls the
 *	  record back, so the sender may retry.
 */
#include "gateway/webhook.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/signature.h"
#include "gateway/util.h"

#define MAX_AGE_S 300

static bool
want_wait(gw_req *r, const char **wait)
{
	const char *w = gw_req_arg(r, "wait");

	*wait = NULL;				/* not given: the workflow's webhookWait setting */
	if (w == NULL)
		return true;
	if (strcmp(w, "true") == 0 || strcmp(w, "1") == 0 || *w == '\0')
		*wait = "true";
	else if (strcmp(w, "false") == 0 || strcmp(w, "0") == 0)
		*wait = "false";
	else
		return false;
	return true;
}

static void
started(gw_req *r, gw_result *res)
{
	char	   *v;
	size_t		n;
	bool		sync;

	if (!res->ok)
	{
		gw_req_sql_error(r, res);
		return;
	}
	if (res->value == NULL)
	{
		gw_req_error(r, 409, "REPLAYED", "this signature was seen before: a webhook request is accepted once", NULL);
		return;
	}
	v = res->value;
	res->value = NULL;
	/*
	 * A run made in the request (?wait=true, or the workflow's webhookWait
	 * setting) answers its result, with its output; a queued one answers
	 * 202 with ids and status only, so the key tells them apart.
	 */
	sync = strstr(v, "\"output\": ") != NULL;
	n = strlen(v);
	gw_req_respond(r, sync ? 200 : 202, "application/json", v, n);
}

static void
have_secret(gw_req *r, gw_result *res)
{
	const char *path = gw_req_path(r);
	const char *id = path + strlen("/api/hooks/");
	size_t		blen;
	const char *body = gw_req_body(r, &blen);
	const char *sig = gw_req_header(r, "X-Flowent-Signature");
	gw_sig_status st;
	const char *wait;
	char		wfid[37];

	if (!res->ok)
	{
		gw_req_sql_error(r, res);
		return;
	}
	if (res->value == NULL)
	{
		gw_req_error(r, 404, "NOT_FOUND", "no published workflow with this id", NULL);
		return;
	}
	st = gw_sig_check(res->value, gw_req_header(r, "X-Flowent-Timestamp"), sig,
					  body ? body : "", body ? blen : 0, (int64_t) time(NULL), MAX_AGE_S);
	if (st != SIG_OK)
	{
		gw_req_error(r, 401, "INVALID_SIGNATURE", gw_sig_status_text(st), NULL);
		return;
	}
	want_wait(r, &wait);
	memcpy(wfid, id, 36);
	wfid[36] = '\0';
	{
		const char *p[4] = {wfid, sig, body && blen ? body : "{}", wait};

		gw_req_sql_then(r, false,
						"SELECT CASE WHEN flowent.gateway_webhook_seen($1::uuid, $2) THEN NULL "
						"ELSE flowent.gateway_webhook_run($1::uuid, $3::jsonb, $4::boolean) END",
						4, p, started);
	}
}

void
gw_webhook(gw_req *r, const char *workflow_id)
{
	const char *p[1] = {workflow_id};
	const char *wait;

	if (!gw_is_uuid(workflow_id))
	{
		gw_req_error(r, 404, "NOT_FOUND", "no published workflow with this id", NULL);
		return;
	}
	if (!want_wait(r, &wait))
	{
		gw_req_error(r, 400, "INVALID_INPUT", "wait: expected true or false", NULL);
		return;
	}
	if (gw_req_header(r, "X-Flowent-Timestamp") == NULL || gw_req_header(r, "X-Flowent-Signature") == NULL)
	{
		gw_req_error(r, 401, "INVALID_SIGNATURE", gw_sig_status_text(SIG_MISSING), NULL);
		return;
	}
	gw_req_sql_then(r, false, "SELECT flowent.gateway_webhook_secret($1::uuid)", 1, p, have_secret);
}
