/*
 * condition.c
 *	  The condition node: rules and and/or groups choose the `true` or
 *	  `false` handle.
 *
 * data: conditions (rules and nested groups), combinator (and, or),
 * fallbackToAI.  An undecided result (a `left` that did not resolve)
 * counts as false, unless fallbackToAI asks a model to decide (seed §6.3):
 * `model` (required then), `credential`, `baseUrl` and `timeoutMs` as for
 * llm-agent.  The model gets the rules and the node's input and answers in
 * JSON mode {decision: true|false, reasoning}; the output then carries
 * decidedBy "ai", the reasoning, and the call's model, usage and cost (its
 * tokens and cost go into the node log).  In asynchronous runs the worker's
 * curl loop makes the call: prepare_http decides by the rules where it can,
 * and asks for a request only when the model must decide.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "nodes/fl_nodes.h"
#include "nodes/llm_call.h"
#include "nodes/rules.h"
#include "pg/http_async.h"
#include "pg/jsonb_util.h"

/* What the model is told; its answer is a JSON object. */
#define AI_INSTRUCTIONS \
	"You decide a condition of a workflow. The rules below could not be decided because a value " \
	"they refer to is missing. Judge from the rules and the data whether the condition holds. " \
	"Answer with a JSON object only: {\"decision\": true or false, \"reasoning\": \"one sentence\"}."

/*
 * A field of the node's data with its templates resolved, into *out when it
 * is there and not null (*present); false, the node failed, when it is not
 * of type want.
 */
static bool
resolved_field(FlNodeCall *call, FlNodeResult *res, const char *field, enum jbvType want,
			   const char *want_name, JsonbValue *out, bool *present)
{
	JsonbValue	rawv;

	*present = false;
	if (!jb_get(call->config, field, &rawv))
		return true;
	if (!fl_resolve_field(call, res, &rawv, false, field, out, NULL))
		return false;
	if (out->type == jbvNull)
		return true;
	if (out->type != want)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be %s, got %s",
				call->def->id, field, want_name, jbv_type_name(out));
		return false;
	}
	*present = true;
	return true;
}

/* A string field, resolved (absent: NULL). */
static bool
resolved_string(FlNodeCall *call, FlNodeResult *res, const char *field, char **out)
{
	JsonbValue	v;
	bool		present;

	*out = NULL;
	if (!resolved_field(call, res, field, jbvString, "a string", &v, &present))
		return false;
	if (present)
		*out = jbv_cstring(&v);
	return true;
}

/* fallbackToAI, resolved (it may be a template); absent means false. */
static bool
read_fallback(FlNodeCall *call, FlNodeResult *res, bool *fallback)
{
	JsonbValue	v;
	bool		present;

	*fallback = false;
	if (!resolved_field(call, res, "fallbackToAI", jbvBool, "a boolean", &v, &present))
		return false;
	*fallback = present && v.val.boolean;
	return true;
}

/* {result, branch}: two constant values, built once per backend. */
static Jsonb *
branch_output(bool result)
{
	static Jsonb *outputs[2];

	if (outputs[result] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		JB			b = {0};

		jb_obj_begin(&b);
		jb_kv_bool(&b, "result", result);
		jb_kv_str(&b, "branch", result ? "true" : "false");
		jb_obj_end(&b);
		outputs[result] = jb_finish(&b);
		MemoryContextSwitchTo(old);
	}
	return outputs[result];
}

/* The rules and the data, as the model reads them. */
static Jsonb *
ai_messages(FlNodeCall *call)
{
	JB			q = {0};
	JB			b = {0};
	JsonbValue	v;
	char	   *combinator;

	jb_obj_begin(&q);
	if (jb_get(call->config, "conditions", &v))
	{
		jb_key(&q, "conditions");
		jb_val(&q, &v);
	}
	combinator = jb_get_cstring(call->config, "combinator");
	jb_kv_str(&q, "combinator", combinator ? combinator : "and");
	if (call->input)
		jb_kv_jsonb(&q, "data", call->input);
	jb_obj_end(&q);
	jb_arr_begin(&b);
	fl_llm_message(&b, "system", AI_INSTRUCTIONS);
	fl_llm_message(&b, "user", jsonb_to_compact(jb_finish(&q)));
	jb_arr_end(&b);
	return jb_finish(&b);
}

/*
 * Decide by the rules (res succeeds: false returned, no request), or
 * describe the model's call when they are undecided and fallbackToAI is set.
 */
static bool
condition_prepare(FlNodeCall *call, FlHttpRequest *req, FlNodeResult *res)
{
	JsonbValue	data;
	bool		failed = false;
	bool		fallback;
	FlTri		t;
	FlLlmAsk	ask;
	char	   *model,
			   *base,
			   *credential;

	memset(req, 0, sizeof(*req));
	if (!read_fallback(call, res, &fallback))
		return false;
	if (call->config == NULL)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": conditions: required", call->def->id);
		return false;
	}
	jbv_from_jsonb(call->config, &data);
	t = fl_eval_group(call, res, &data, "", &failed);
	if (failed)
		return false;
	if (t != FL_TRI_UNDECIDED || !fallback)
	{
		fl_succeed(res, branch_output(t == FL_TRI_TRUE), t == FL_TRI_TRUE ? "true" : "false");
		return false;
	}
	if (!resolved_string(call, res, "model", &model) ||
		!resolved_string(call, res, "baseUrl", &base) ||
		!resolved_string(call, res, "credential", &credential) ||
		!fl_http_config_timeout(call, res, req))
		return false;
	if (model == NULL)
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": the conditions are undecided (a left value did not resolve) and fallbackToAI is set: "
				"field \"model\" is required (with \"credential\", and \"baseUrl\" unless flowent.llm_base_url is set)",
				call->def->id);
		return false;
	}
	memset(&ask, 0, sizeof(ask));
	ask.model = model;
	ask.base_url = base;
	ask.credential = credential;
	ask.messages = ai_messages(call);
	ask.max_tokens = 300;
	ask.json = true;
	return fl_llm_request(call, res, &ask, req);
}

/* The model's decision: the branch, with its reasoning and cost. */
static void
condition_ai_result(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res)
{
	FlLlmAnswer a;
	JsonbValue	decision,
				reasoning;
	JB			b = {0};

	if (!fl_llm_answer(call, req, resp, code, res, true, &a))
		return;
	if (a.json == NULL || !jb_get(a.json, "decision", &decision) || decision.type != jbvBool)
	{
		fl_fail(res, "AI_RESPONSE_INVALID",
				"node \"%s\": the model's answer has no boolean \"decision\" (expected {\"decision\": true or false, \"reasoning\"}): %.200s",
				call->def->id, a.text ? a.text : "(tool calls only)");
		return;
	}
	jb_obj_begin(&b);
	jb_kv_bool(&b, "result", decision.val.boolean);
	jb_kv_str(&b, "branch", decision.val.boolean ? "true" : "false");
	jb_kv_str(&b, "decidedBy", "ai");
	jb_kv_str(&b, "reasoning", jb_get(a.json, "reasoning", &reasoning) && reasoning.type == jbvString
			  ? jbv_cstring(&reasoning) : NULL);
	fl_llm_usage_fields(&b, &a);
	jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), decision.val.boolean ? "true" : "false");
}

static void
condition_execute(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_sync(call, res, condition_prepare, condition_ai_result);
}

static void
condition_resume(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_resume(call, res, condition_prepare, condition_ai_result);
}

const FlNodeType fl_node_condition = {
	.type = "condition",
	.flags = FL_NT_SELF_RESOLVE,
	.execute = condition_execute,
	.resume = condition_resume,
	.prepare_http = condition_prepare,
};
