/*
 * llm_call.c
 *	  One call of an OpenAI-compatible chat-completions API (llm_call.h):
 *	  POST <baseUrl>/chat/completions with {model, messages, temperature?,
 *	  max_tokens?, response_format?}, the API key of the credential (a
 *	  string, or an object with "apiKey") as a bearer token; the answer's
 *	  text, usage and cost at flowent.model_price (the database's
 *	  model_prices, else the list prices of model_list_prices; per 1K tokens;
 *	  a model without a price costs 0).  The provider's errors map to stable
 *	  codes with its message: 401/403 CREDENTIAL_INVALID; 429, 5xx and no
 *	  connection AI_UNAVAILABLE (retryable); another refusal INVALID_CONFIG;
 *	  a body that is no chat completion AI_RESPONSE_INVALID; TIMEOUT,
 *	  OUTBOUND_REFUSED and LIMIT_EXCEEDED as for http-request.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "nodes/llm_call.h"
#include "nodes/llm_stream.h"
#include "pg/budget.h"
#include "pg/context.h"
#include "pg/jsonb_util.h"

char	   *fl_llm_base_url = NULL;

static FlHttpStatusRange any_status = {100, 599};

void
fl_llm_message(JB *b, const char *role, const char *content)
{
	jb_obj_begin(b);
	jb_kv_str(b, "role", role);
	jb_kv_str(b, "content", content);
	jb_obj_end(b);
}

bool
fl_llm_request(FlNodeCall *call, FlNodeResult *res, const FlLlmAsk *ask, FlHttpRequest *req)
{
	const char *id = call->def->id;
	const char *base = ask->base_url ? ask->base_url : (fl_llm_base_url ? fl_llm_base_url : "");
	size_t		blen = strlen(base);
	int64		completion_bound;
	JB			b = {0};

	if (ask->model == NULL || ask->model[0] == '\0')
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"model\" must not be empty", id);
		return false;
	}
	req->node_id = id;
	req->method = pstrdup("POST");
	req->max_response_bytes = fl_http_max_response_bytes;
	req->idempotency_key = fl_http_idempotency_key(call);
	if (ask->step > 0)
		req->idempotency_key = psprintf("%s:step:%d", req->idempotency_key, ask->step);
	req->accept = &any_status;	/* every status is mapped by fl_llm_answer */
	req->naccept = 1;
	req->headers = fl_http_set_header(req->headers, "Content-Type", "application/json");

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (!fl_http_parse_url(call, res, "baseUrl", psprintf("%.*s/chat/completions", (int) blen, base), &req->url))
		return false;

	if (ask->credential)
	{
		JsonbValue	cred,
					k;
		char	   *key = NULL;

		if (!fl_node_credential(call, res, ask->credential, &cred))
			return false;
		if (cred.type == jbvString)
			key = jbv_cstring(&cred);
		else if (jbv_is_object(&cred) && jbv_get_key(&cred, "apiKey", &k) && k.type == jbvString)
			key = jbv_cstring(&k);
		if (key == NULL || key[0] == '\0')
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be a string or an object with \"apiKey\"",
					id, ask->credential);
			return false;
		}
		req->headers = fl_http_set_header(req->headers, "Authorization", psprintf("Bearer %s", key));
	}

	/*
	 * Last, when nothing else can fail: hold the most the call can cost.  No
	 * tokenizer makes more tokens than the prompt has bytes, and the JSON
	 * around each message outweighs its few tokens of overhead.  A held call
	 * without maxTokens is bounded by flowent.llm_max_tokens.
	 */
	completion_bound = ask->max_tokens > 0 ? ask->max_tokens : fl_llm_max_tokens;
	if (!fl_budget_reserve(call, res, ask->model, (int64) strlen(jsonb_to_compact(ask->messages)) + 3,
						   completion_bound, &req->budget_held))
		return false;

	jb_obj_begin(&b);
	jb_kv_str(&b, "model", ask->model);
	jb_kv_jsonb(&b, "messages", ask->messages);
	if (ask->temperature)
	{
		jb_key(&b, "temperature");
		jb_val(&b, ask->temperature);
	}
	if (ask->max_tokens > 0 || req->budget_held)
		jb_kv_int(&b, "max_tokens", completion_bound);
	if (ask->tools)
	{
		jb_kv_jsonb(&b, "tools", ask->tools);
		if (ask->no_tools)
			jb_kv_str(&b, "tool_choice", "none");
	}
	if (ask->stream)
	{
		/* the usage comes in a last chunk: the cost stays exact */
		jb_kv_bool(&b, "stream", true);
		jb_key(&b, "stream_options");
		jb_obj_begin(&b);
		jb_kv_bool(&b, "include_usage", true);
		jb_obj_end(&b);
		req->stream = true;
	}
	if (ask->json)
	{
		jb_key(&b, "response_format");
		jb_obj_begin(&b);
		jb_kv_str(&b, "type", "json_object");
		jb_obj_end(&b);
	}
	jb_obj_end(&b);
	req->body = jsonb_to_compact(jb_finish(&b));
	req->body_len = strlen(req->body);
	return true;
}

/* The price of a model's usage, or NULL when the model has none. */
static Numeric
usage_cost(const char *model, int64 prompt_tokens, int64 completion_tokens)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {TEXTOID, INT8OID, INT8OID};
	Datum		a[3];
	bool		isnull;

	a[0] = CStringGetTextDatum(model);
	a[1] = Int64GetDatum(prompt_tokens);
	a[2] = Int64GetDatum(completion_tokens);
	if (fl_owner_query(&plan,
					   "SELECT round(p.prompt_per_1k * $2 / 1000 + p.completion_per_1k * $3 / 1000, 6) "
					   "FROM flowent.model_price p WHERE p.model = $1",
					   3, types, a, NULL, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read model prices");
	if (SPI_processed != 1)
		return NULL;
	return DatumGetNumeric(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static int64
usage_int(JsonbValue *usage, const char *key)
{
	JsonbValue	v;

	if (usage && jbv_get_key(usage, key, &v) && v.type == jbvNumeric)
		return DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v.val.numeric)));
	return 0;
}

static bool
answer_invalid(const char *id, FlHttpResponse *resp, FlNodeResult *res)
{
	fl_fail(res, "AI_RESPONSE_INVALID", "node \"%s\": the model API's answer is not a chat completion "
			"(expected choices[0].message.content or tool_calls): %s", id,
			resp->body ? pnstrdup(resp->body, Min(resp->body_len, 200)) : "(empty)");
	return false;
}

static bool
read_answer(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code,
			FlNodeResult *res, bool json, FlLlmAnswer *a)
{
	const char *id = call->def->id;
	Jsonb	   *body = NULL;
	JsonbValue	choices,
				choice,
				msg,
				content,
				v,
				usage;
	bool		has_usage;

	memset(a, 0, sizeof(*a));
	if (!fl_http_api_answer(req, resp, code, res, "model API", "AI_UNAVAILABLE", &body))
		return false;
	if (req->stream && body == NULL && resp->body)
	{
		FlLlmStream s;

		fl_llm_stream_init(&s);
		(void) fl_llm_stream_feed(&s, resp->body, resp->body_len, true);
		body = fl_llm_stream_completion(&s);
		if (body && jb_get(body, "error", &v) && jbv_is_object(&v))
		{
			Jsonb	   *err = jbv_to_jsonb(&v);
			char	   *msg = jb_get_cstring(err, "message");

			fl_fail(res, "AI_UNAVAILABLE", "node \"%s\": the model API reported an error in its stream: %s",
					id, msg ? msg : jsonb_to_compact(err));
			return false;
		}
	}
	if (body == NULL || !jb_get(body, "choices", &choices) || !jbv_is_array(&choices) ||
		!jbv_get_index(&choices, 0, &choice) || !jbv_is_object(&choice) ||
		!jbv_get_key(&choice, "message", &msg) || !jbv_is_object(&msg))
		return answer_invalid(id, resp, res);
	if (jbv_get_key(&msg, "tool_calls", &v) && jbv_is_array(&v) && jbv_array_size(&v) > 0)
		a->tool_calls = jbv_to_jsonb(&v);
	if (jbv_get_key(&msg, "content", &content) && content.type == jbvString)
		a->text = jbv_cstring(&content);
	else if (a->tool_calls == NULL)
		return answer_invalid(id, resp, res);
	if (json && a->text && (a->json = fl_http_try_parse_json(a->text)) == NULL)
	{
		fl_fail(res, "AI_RESPONSE_INVALID", "node \"%s\": responseFormat is json, but the model's answer is not JSON: %.200s",
				id, a->text);
		return false;
	}
	a->model = jb_get(body, "model", &v) && v.type == jbvString ? jbv_cstring(&v) : jb_get_cstring(call->config, "model");
	a->finish_reason = jbv_get_key(&choice, "finish_reason", &v) && v.type == jbvString ? jbv_cstring(&v) : NULL;
	has_usage = jb_get(body, "usage", &usage) && jbv_is_object(&usage);
	a->prompt_tokens = usage_int(has_usage ? &usage : NULL, "prompt_tokens");
	a->completion_tokens = usage_int(has_usage ? &usage : NULL, "completion_tokens");
	a->total_tokens = has_usage && usage_int(&usage, "total_tokens") > 0 ? usage_int(&usage, "total_tokens")
		: a->prompt_tokens + a->completion_tokens;
	a->cost = a->model ? usage_cost(a->model, a->prompt_tokens, a->completion_tokens) : NULL;
	res->tokens = a->prompt_tokens + a->completion_tokens;
	res->cost = a->cost;
	return true;
}

/*
 * The answer read, and the call's budget reservation settled: with its
 * usage; with nothing when the provider refused it or it never left; in
 * full when it may have been charged but says nothing of its usage.
 */
bool
fl_llm_answer(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code,
			  FlNodeResult *res, bool json, FlLlmAnswer *a)
{
	bool		ok = read_answer(call, req, resp, code, res, json, a);

	if (req->budget_held)
	{
		bool		never_sent = resp->refused || code == CURLE_COULDNT_CONNECT ||
			code == CURLE_COULDNT_RESOLVE_HOST;
		bool		refused = code == CURLE_OK && resp->status >= 400;

		if (ok && a->total_tokens > 0)
			fl_budget_settle(call, a->prompt_tokens + a->completion_tokens, a->cost, false);
		else
			fl_budget_settle(call, 0, NULL, !(never_sent || refused));
	}
	return ok;
}

void
fl_llm_usage_fields(JB *b, const FlLlmAnswer *a)
{
	jb_kv_str(b, "model", a->model);
	jb_key(b, "usage");
	jb_obj_begin(b);
	jb_kv_int(b, "promptTokens", a->prompt_tokens);
	jb_kv_int(b, "completionTokens", a->completion_tokens);
	jb_kv_int(b, "totalTokens", a->total_tokens);
	jb_obj_end(b);
	jb_key(b, "costUsd");
	if (a->cost)
		jb_numeric(b, a->cost);
	else
		jb_int(b, 0);
	jb_kv_bool(b, "priced", a->cost != NULL);
}
