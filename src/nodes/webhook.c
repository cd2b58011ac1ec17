/*
 * webhook.c
 *	  The webhook node: an outgoing, optionally signed JSON POST.
 *
 * POSTs `payload` (default: the node's input) as JSON to `url`.  With
 * `secret` (the NAME of a credential: a string, or an object with "secret")
 * it signs the request as flowent's own webhook receiver expects (DESIGN
 * §10): X-Flowent-Timestamp: <unix seconds> and X-Flowent-Signature:
 * sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>.  Also `headers`,
 * `timeoutMs`, `acceptStatus`; the Idempotency-Key and the output are those
 * of http-request.
 */
#include "postgres.h"

#include <time.h>

#include "common/hmac.h"
#include "common/sha2.h"

#include "nodes/fl_nodes.h"
#include "pg/http.h"
#include "pg/http_async.h"
#include "pg/jsonb_util.h"

/* hex HMAC-SHA256 of "<timestamp>.<body>" with key */
static char *
webhook_signature(const char *key, size_t keylen, const char *ts, const char *body, size_t blen)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8		mac[PG_SHA256_DIGEST_LENGTH];
	char	   *hex;
	bool		ok;

	if (ctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	ok = pg_hmac_init(ctx, (const uint8 *) key, keylen) == 0 &&
		pg_hmac_update(ctx, (const uint8 *) ts, strlen(ts)) == 0 &&
		pg_hmac_update(ctx, (const uint8 *) ".", 1) == 0 &&
		pg_hmac_update(ctx, (const uint8 *) body, blen) == 0 &&
		pg_hmac_final(ctx, mac, sizeof(mac)) == 0;
	if (!ok)
	{
		const char *why = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		elog(ERROR, "could not compute HMAC-SHA256: %s", why);
	}
	pg_hmac_free(ctx);
	hex = palloc(sizeof(mac) * 2 + 1);
	for (int i = 0; i < (int) sizeof(mac); i++)
		snprintf(hex + i * 2, 3, "%02x", mac[i]);
	return hex;
}

/*
 * The request of a webhook node: false (res failed) on bad config.  The
 * timestamp is taken now, so a re-sent request is signed afresh.
 */
static bool
webhook_prepare(FlNodeCall *call, FlHttpRequest *reqp, FlNodeResult *res)
{
	const char *id = call->def->id;
	FlHttpRequest req;
	JsonbValue	v;
	char	   *url;
	char	   *secret_name;

	memset(&req, 0, sizeof(req));
	memset(reqp, 0, sizeof(*reqp));
	req.node_id = id;
	req.method = pstrdup("POST");
	req.max_response_bytes = fl_http_max_response_bytes;
	req.idempotency_key = fl_http_idempotency_key(call);

	if (!fl_cfg_string(call, res, "url", true, &url))
		return false;
	if (!fl_http_parse_url(call, res, "url", url, &req.url))
		return false;
	if (!fl_http_config_headers(call, res, &req.headers))
		return false;
	if (!fl_http_config_timeout(call, res, &req))
		return false;
	if (!fl_http_config_accept(call, res, &req))
		return false;

	/* the body: payload (any JSON, null included), else the input */
	if (fl_cfg_value(call, "payload", &v))
		req.body = jsonb_to_compact(jbv_to_jsonb(&v));
	else
		req.body = jsonb_to_compact(call->input ? call->input : jsonb_null());
	req.body_len = strlen(req.body);
	req.headers = fl_http_set_header(req.headers, "Content-Type", "application/json");

	if (!fl_cfg_string(call, res, "secret", false, &secret_name))
		return false;
	if (secret_name != NULL)
	{
		JsonbValue	cred,
					m;
		char	   *key = NULL;
		char		ts[32];

		if (secret_name[0] == '\0')
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"secret\" must be the name of a credential", id);
			return false;
		}
		if (!fl_node_credential(call, res, secret_name, &cred))
			return false;
		if (cred.type == jbvString)
			key = jbv_cstring(&cred);
		else if (jbv_is_object(&cred) && jbv_get_key(&cred, "secret", &m) && m.type == jbvString)
			key = jbv_cstring(&m);
		if (key == NULL || key[0] == '\0')
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be a string or an object with \"secret\" to sign webhooks",
					id, secret_name);
			return false;
		}
		snprintf(ts, sizeof(ts), "%lld", (long long) time(NULL));
		req.headers = fl_http_set_header(req.headers, "X-Flowent-Timestamp", ts);
		req.headers = fl_http_set_header(req.headers, "X-Flowent-Signature",
										 psprintf("sha256=%s",
												  webhook_signature(key, strlen(key), ts,
																	req.body, req.body_len)));
	}
	*reqp = req;
	return true;
}

/* Execute a webhook node synchronously. */
static void
webhook_execute(FlNodeCall *call, FlNodeResult *res)
{
	FlHttpRequest req;

	if (!webhook_prepare(call, &req, res))
		return;
	fl_http_execute(&req, res);
}

/* The worker's response came back: map it to the node's result. */
static void
webhook_resume(FlNodeCall *call, FlNodeResult *res)
{
	FlHttpCompletion *c = fl_http_completion;

	if (c == NULL)
	{
		webhook_execute(call, res);
		return;
	}
	fl_http_result(c->req, c->resp, c->code, res);
}

const FlNodeType fl_node_webhook = {
	.type = "webhook",
	.flags = FL_NT_EXTERNAL,
	.sql_error_code = NULL,
	.execute = webhook_execute,
	.resume = webhook_resume,
	.prepare_http = webhook_prepare,
};
