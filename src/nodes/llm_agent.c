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
 * costUsd and priced (llm_call.c, which also maps the provider's errors:
 * 429, 5xx and no connection AI_UNAVAILABLE, retryable by the node's retry
 * setting).  In asynchronous runs the worker's curl multi loop makes the
 * call (prepare/resume), as for http-request.
 */
#include "postgres.h"

#include "nodes/llm_call.h"
#include "pg/http_async.h"
#include "pg/jsonb_util.h"

static bool
llm_prepare(FlNodeCall *call, FlHttpRequest *reqp, FlNodeResult *res)
{
	const char *id = call->def->id;
	FlHttpRequest req;
	FlLlmAsk	ask;
	JB			b = {0};
	JsonbValue	v,
				el,
				temperature;
	char	   *prompt,
			   *system,
			   *format,
			   *model,
			   *base,
			   *cred_name;
	int64		max_tokens;
	bool		has_messages;

	memset(&req, 0, sizeof(req));
	memset(reqp, 0, sizeof(*reqp));
	memset(&ask, 0, sizeof(ask));
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
	has_messages = fl_cfg_value(call, "messages", &v) && v.type != jbvNull;
	if (prompt == NULL && !has_messages)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"prompt\" is required (or \"messages\")", id);
		return false;
	}
	jb_arr_begin(&b);
	if (system)
		fl_llm_message(&b, "system", system);
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
			fl_llm_message(&b, jbv_cstring(&role), jbv_cstring(&content));
		}
	}
	if (prompt)
		fl_llm_message(&b, "user", prompt);
	jb_arr_end(&b);
	ask.messages = jb_finish(&b);
	if (fl_cfg_value(call, "temperature", &temperature) && temperature.type != jbvNull)
	{
		if (temperature.type != jbvNumeric)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"temperature\" must be a number, got %s",
					id, jbv_type_name(&temperature));
			return false;
		}
		ask.temperature = &temperature;
	}
	ask.model = model;
	ask.base_url = base;
	ask.credential = cred_name;
	ask.max_tokens = max_tokens;
	ask.json = format && strcmp(format, "json") == 0;
	if (!fl_llm_request(call, res, &ask, &req))
		return false;
	*reqp = req;
	return true;
}

static void
llm_result(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res)
{
	char	   *format = jb_get_cstring(call->config, "responseFormat");
	bool		json = format && strcmp(format, "json") == 0;
	FlLlmAnswer a;
	JB			b = {0};

	if (!fl_llm_answer(call, req, resp, code, res, json, &a))
		return;
	jb_obj_begin(&b);
	if (json)
		jb_kv_jsonb(&b, "json", a.json);
	else
		jb_kv_str(&b, "text", a.text);
	jb_kv_str(&b, "finishReason", a.finish_reason);
	fl_llm_usage_fields(&b, &a);
	jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), NULL);
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
