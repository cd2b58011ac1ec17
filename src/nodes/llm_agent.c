/*
 * llm_agent.c
 *	  The llm-agent node: one call of an OpenAI-compatible chat-completions
 *	  API (Appendix A).
 *
 * POST <baseUrl>/chat/completions (baseUrl default: flowent.llm_base_url)
 * with {model, messages, temperature?, max_tokens?, response_format?}: the
 * messages are systemPrompt (as the system message), then `messages` (a
 * conversation from earlier nodes: [{role, content}]), then `prompt` (as the
 * user's).  The API key is the credential named by `credential` (a string,
 * or an object with "apiKey"), sent as a bearer token.  Output {text} (or,
 * with responseFormat json, {json}: the answer parsed) plus model,
 * finishReason, usage {promptTokens, completionTokens, totalTokens} and
 * costUsd at flowent.model_price (the database's model_prices, else the list
 * prices shipped in model_list_prices; per 1K tokens; a model without a
 * price costs 0 and says priced: false).  The provider's errors map to stable
 * codes, with its message: 401/403 CREDENTIAL_INVALID; 429, 5xx and no
 * connection AI_UNAVAILABLE (retryable: the node's retry setting retries
 * it); another refusal INVALID_CONFIG; a body that is no chat completion
 * AI_RESPONSE_INVALID; TIMEOUT, OUTBOUND_REFUSED and LIMIT_EXCEEDED as for
 * http-request.  In asynchronous runs the worker's curl multi loop makes
 * the call (prepare/resume), as for http-request.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "nodes/fl_nodes.h"
#include "pg/context.h"
#include "pg/http.h"
#include "pg/http_async.h"
#include "pg/jsonb_util.h"

char	   *fl_llm_base_url = NULL;

static FlHttpStatusRange any_status = {100, 599};

/* a {role, content} message into the array being built */
static void
add_message(JB *b, const char *role, const char *content)
{
	jb_obj_begin(b);
	jb_kv_str(b, "role", role);
	jb_kv_str(b, "content", content);
	jb_obj_end(b);
}

static bool
llm_prepare(FlNodeCall *call, FlHttpRequest *reqp, FlNodeResult *res)
{
	const char *id = call->def->id;
	FlHttpRequest req;
	JB			b = {0};
	JsonbValue	v,
				el;
	char	   *model,
			   *prompt,
			   *system,
			   *format,
			   *base,
			   *cred_name;
	int64		max_tokens;
	size_t		blen;
	bool		has_messages;

	memset(&req, 0, sizeof(req));
	memset(reqp, 0, sizeof(*reqp));
	req.node_id = id;
	req.method = pstrdup("POST");
	req.max_response_bytes = fl_http_max_response_bytes;
	req.idempotency_key = fl_http_idempotency_key(call);
	req.accept = &any_status;	/* every status is mapped below */
	req.naccept = 1;

	if (!fl_cfg_string(call, res, "model", true, &model) ||
		!fl_cfg_string(call, res, "prompt", false, &prompt) ||
		!fl_cfg_string(call, res, "systemPrompt", false, &system) ||
		!fl_cfg_string(call, res, "responseFormat", false, &format) ||
		!fl_cfg_string(call, res, "baseUrl", false, &base) ||
		!fl_cfg_string(call, res, "credential", false, &cred_name) ||
		!fl_cfg_int(call, res, "maxTokens", 0, 1, 10000000, &max_tokens) ||
		!fl_http_config_timeout(call, res, &req))
		return false;
	if (format && strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"responseFormat\" must be \"text\" or \"json\", got \"%s\"",
				id, format);
		return false;
	}
	if (model[0] == '\0')
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"model\" must not be empty", id);
		return false;
	}

	has_messages = fl_cfg_value(call, "messages", &v) && v.type != jbvNull;
	if (prompt == NULL && !has_messages)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"prompt\" is required (or \"messages\")", id);
		return false;
	}
	jb_obj_begin(&b);
	jb_kv_str(&b, "model", model);
	jb_key(&b, "messages");
	jb_arr_begin(&b);
	if (system)
		add_message(&b, "system", system);
	if (has_messages)
	{
		if (!jbv_is_array(&v))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"messages\" must be an array of {role, content}, got %s",
					id, jbv_type_name(&v));
			return false;
		}
		for (int i = 0; jbv_get_index(&v, i, &el); i++)
		{
			JsonbValue	role,
						content;

			if (!jbv_is_object(&el) || !jbv_get_key(&el, "role", &role) || role.type != jbvString ||
				!jbv_get_key(&el, "content", &content) || content.type != jbvString)
			{
				fl_fail(res, "INVALID_CONFIG", "node \"%s\": messages[%d] must be {role, content} with strings", id, i);
				return false;
			}
			add_message(&b, jbv_cstring(&role), jbv_cstring(&content));
		}
	}
	if (prompt)
		add_message(&b, "user", prompt);
	jb_arr_end(&b);
	if (fl_cfg_value(call, "temperature", &v) && v.type != jbvNull)
	{
		if (v.type != jbvNumeric)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"temperature\" must be a number, got %s",
					id, jbv_type_name(&v));
			return false;
		}
		jb_key(&b, "temperature");
		jb_val(&b, &v);
	}
	if (max_tokens > 0)
		jb_kv_int(&b, "max_tokens", max_tokens);
	if (format && strcmp(format, "json") == 0)
	{
		jb_key(&b, "response_format");
		jb_obj_begin(&b);
		jb_kv_str(&b, "type", "json_object");
		jb_obj_end(&b);
	}
	jb_obj_end(&b);
	req.body = jsonb_to_compact(jb_finish(&b));
	req.body_len = strlen(req.body);
	req.headers = fl_http_set_header(req.headers, "Content-Type", "application/json");

	if (base == NULL)
		base = fl_llm_base_url ? fl_llm_base_url : "";
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (!fl_http_parse_url(call, res, "baseUrl", psprintf("%.*s/chat/completions", (int) blen, base), &req.url))
		return false;

	if (cred_name)
	{
		JsonbValue	cred,
					k;
		char	   *key = NULL;

		if (!fl_node_credential(call, res, cred_name, &cred))
			return false;
		if (cred.type == jbvString)
			key = jbv_cstring(&cred);
		else if (jbv_is_object(&cred) && jbv_get_key(&cred, "apiKey", &k) && k.type == jbvString)
			key = jbv_cstring(&k);
		if (key == NULL || key[0] == '\0')
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be a string or an object with \"apiKey\"",
					id, cred_name);
			return false;
		}
		req.headers = fl_http_set_header(req.headers, "Authorization", psprintf("Bearer %s", key));
	}
	*reqp = req;
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

static void
llm_result(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res)
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
	char	   *format = jb_get_cstring(call->config, "responseFormat");
	char	   *model;
	char	   *text;
	int64		pt,
				ct;
	Numeric		cost;
	JB			b = {0};

	if (!fl_http_api_answer(req, resp, code, res, "model API", "AI_UNAVAILABLE", &body))
		return;
	if (body == NULL || !jb_get(body, "choices", &choices) || !jbv_is_array(&choices) ||
		!jbv_get_index(&choices, 0, &choice) || !jbv_is_object(&choice) ||
		!jbv_get_key(&choice, "message", &msg) || !jbv_is_object(&msg) ||
		!jbv_get_key(&msg, "content", &content) || content.type != jbvString)
	{
		fl_fail(res, "AI_RESPONSE_INVALID", "node \"%s\": the model API's answer is not a chat completion "
				"(expected choices[0].message.content): %s", id,
				resp->body ? pnstrdup(resp->body, Min(resp->body_len, 200)) : "(empty)");
		return;
	}
	text = jbv_cstring(&content);
	model = jb_get(body, "model", &v) && v.type == jbvString ? jbv_cstring(&v) : jb_get_cstring(call->config, "model");
	has_usage = jb_get(body, "usage", &usage) && jbv_is_object(&usage);
	pt = usage_int(has_usage ? &usage : NULL, "prompt_tokens");
	ct = usage_int(has_usage ? &usage : NULL, "completion_tokens");
	cost = usage_cost(model, pt, ct);

	jb_obj_begin(&b);
	if (format && strcmp(format, "json") == 0)
	{
		Jsonb	   *parsed = fl_http_try_parse_json(text);

		if (parsed == NULL)
		{
			fl_fail(res, "AI_RESPONSE_INVALID", "node \"%s\": responseFormat is json, but the model's answer is not JSON: %.200s",
					id, text);
			return;
		}
		jb_kv_jsonb(&b, "json", parsed);
	}
	else
		jb_kv_str(&b, "text", text);
	jb_kv_str(&b, "model", model);
	jb_kv_str(&b, "finishReason", jbv_get_key(&choice, "finish_reason", &v) && v.type == jbvString ? jbv_cstring(&v) : NULL);
	jb_key(&b, "usage");
	jb_obj_begin(&b);
	jb_kv_int(&b, "promptTokens", pt);
	jb_kv_int(&b, "completionTokens", ct);
	jb_kv_int(&b, "totalTokens", has_usage && usage_int(&usage, "total_tokens") > 0 ? usage_int(&usage, "total_tokens") : pt + ct);
	jb_obj_end(&b);
	jb_key(&b, "costUsd");
	if (cost)
		jb_numeric(&b, cost);
	else
		jb_int(&b, 0);
	jb_kv_bool(&b, "priced", cost != NULL);
	jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), NULL);
	res->tokens = pt + ct;
	res->cost = cost;
}

static void
llm_execute(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_sync(call, res, llm_prepare, llm_result);
}

static void
llm_resume(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_resume(call, res, llm_prepare, llm_result);
}

const FlNodeType fl_node_llm_agent = {
	.type = "llm-agent",
	.flags = FL_NT_EXTERNAL,
	.sql_error_code = NULL,
	.execute = llm_execute,
	.resume = llm_resume,
	.prepare_http = llm_prepare,
};
