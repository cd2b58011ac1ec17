/*
 * webhook.c
 *	  One transaction per webhook once the gateway knows the workflow's
 *	  secret (shared with the webhooks that arrive meanwhile: hook_batch.c):
 *	  it checks the signature with the secret it remembers, then the
 *	  delivery makes sure that secret is still the workflow's (by its
 *	  digest: no secret in a statement's parameters, which a server log may
 *	  keep), records the signature (a replay finds it) and starts the run as
 *	  the workflow's owner.  A run that fails to start rolls the record back,
 *	  so the sender may retry.  Without a remembered secret, or when it was
 *	  stale, the secret is read first (as the gateway's own role: nobody acts
 *	  yet) and the delivery follows.
 */
#include "gateway/webhook.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/hook_batch.h"
#include "gateway/hook_secrets.h"
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

static void fetch_secret(gw_req *r);

static void
hook_id(gw_req *r, char out[37])
{
	memcpy(out, gw_req_path(r) + strlen("/api/hooks/"), 36);
	out[36] = '\0';
}

static gw_sig_status
check(gw_req *r, const char *secret)
{
	size_t		blen;
	const char *body = gw_req_body(r, &blen);

	return gw_sig_check(secret, gw_req_header(r, "X-Flowent-Timestamp"), gw_req_header(r, "X-Flowent-Signature"),
						body ? body : "", body ? blen : 0, (int64_t) time(NULL), MAX_AGE_S);
}

/* a delivery's answer (hook_batch.c); from_cache: whether its secret was a remembered one */
static void
delivered(gw_req *r, gw_result *res, bool from_cache)
{
	char	   *v;
	size_t		n;
	bool		sync;
	char		id[37];

	if (!res->ok)
	{
		gw_req_sql_error(r, res);
		return;
	}
	if (res->value == NULL)
	{
		gw_req_error(r, 500, "INTERNAL", "the webhook's run gave no answer", NULL);
		return;
	}
	hook_id(r, id);
	if (strcmp(res->value, "stale") == 0)
	{
		gw_hook_secret_drop(id);
		if (from_cache)
			fetch_secret(r);	/* rotated or unpublished since: ask again */
		else
			gw_req_error(r, 401, "INVALID_SIGNATURE", "the workflow's webhook secret changed while the request was checked", NULL);
		return;
	}
	if (strcmp(res->value, "replayed") == 0)
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
deliver(gw_req *r, const char *secret, bool from_cache)
{
	size_t		blen;
	const char *body = gw_req_body(r, &blen);
	const char *wait;
	char		id[37];
	char		digest[65];

	want_wait(r, &wait);
	hook_id(r, id);
	gw_sha256_hex(secret, digest);
	gw_hook_batch_add(r, id, gw_req_header(r, "X-Flowent-Signature"), body && blen ? body : "{}", wait, digest,
					  from_cache, delivered);
}

static void
have_secret(gw_req *r, gw_result *res)
{
	gw_sig_status st;
	char		id[37];

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
	st = check(r, res->value);
	if (st != SIG_OK)
	{
		gw_req_error(r, 401, "INVALID_SIGNATURE", gw_sig_status_text(st), NULL);
		return;
	}
	hook_id(r, id);
	gw_hook_secret_put(id, res->value);
	deliver(r, res->value, false);
}

static void
fetch_secret(gw_req *r)
{
	char		id[37];
	const char *p[1] = {id};

	hook_id(r, id);
	gw_req_sql_then(r, false, "SELECT flowent.gateway_webhook_secret($1::uuid)", 1, p, have_secret);
}

void
gw_webhook(gw_req *r, const char *workflow_id)
{
	const char *wait;
	const char *secret;

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
	{
		size_t		blen;
		const char *body = gw_req_body(r, &blen);

		/* the database gets the body as text: a NUL would cut what is signed */
		if (body && memchr(body, '\0', blen))
		{
			gw_req_error(r, 400, "INVALID_INPUT", "body: expected JSON text, got a NUL byte", NULL);
			return;
		}
	}
	if (gw_req_header(r, "X-Flowent-Timestamp") == NULL || gw_req_header(r, "X-Flowent-Signature") == NULL)
	{
		gw_req_error(r, 401, "INVALID_SIGNATURE", gw_sig_status_text(SIG_MISSING), NULL);
		return;
	}
	/* a signature the remembered secret refuses may be made with a new one */
	secret = gw_hook_secret_get(workflow_id);
	if (secret != NULL && check(r, secret) == SIG_OK)
		deliver(r, secret, true);
	else
		fetch_secret(r);
}
