/*
 * llm_agent.c
 *	  The llm-agent node: an OpenAI-compatible chat-completions API asked
 *	  until it answers, calling the workflows it is given as tools
 *	  (Appendix A).
 *
 * POST <baseUrl>/chat/completions (baseUrl default: flowent.llm_base_url)
 * with {model, messages, temperature?, max_tokens?, response_format?,
 * tools?}: the messages are systemPrompt (as the system message), then
 * `messages` (a conversation from earlier nodes: [{role, content}]), then
 * `prompt` (as the user's), then what the steps so far said.  The API key
 * is the credential named by `credential` (a string, or an object with
 * "apiKey"), sent as a bearer token.
 *
 * With `tools` (llm_tools.c) a step's answer may call them: each call runs
 * its workflow as a child execution, and its output (or error) goes back
 * to the model as the tool's message, until the model answers or maxSteps
 * (default 5) model calls are made; the last one is sent with tool_choice
 * none, so the model must answer.  Every step is a node-log row of its own
 * with its tokens and cost (fl_log_node_step).
 *
 * Output {text} (or, with responseFormat json, {json}: the answer parsed)
 * plus model, finishReason, usage {promptTokens, completionTokens,
 * totalTokens} and costUsd and priced, the totals of all steps; with tools
 * also steps and toolCalls.  llm_call.c maps the provider's errors (429,
 * 5xx and no connection AI_UNAVAILABLE, retryable by the node's retry
 * setting, which repeats the failed step only).
 *
 * In asynchronous runs no step waits in a worker: a model call suspends
 * the node on its request (the worker's curl multi loop sends it), and a
 * tool whose child suspends suspends the node until the child ends.  What
 * the agent has done is kept in the waiting node's info ("agent"), so a
 * continuation, a retry timer or another worker goes on from there.  There
 * the answer is asked for as a stream (unless `stream` is false): the
 * worker stores the text so far as it arrives (http_multi.c), and the
 * streamed chunks put together are the same answer (llm_stream.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "nodes/llm_call.h"
#include "nodes/llm_tools.h"
#include "pg/exec_internal.h"
#include "pg/http_async.h"
#include "pg/jsonb_util.h"
#include "pg/subxact.h"

#define MAX_STEPS_DEFAULT 5
#define MAX_STEPS_LIMIT 50

typedef struct AgentConfig
{
	FlLlmAsk	ask;			/* with the configured messages only */
	JsonbValue	temperature;
	FlLlmTools	tools;
	int			max_steps;
	bool		stream;
} AgentConfig;

/* What the agent has done: kept across attempts and suspensions. */
typedef struct Agent
{
	int			step;			/* model calls answered */
	List	   *transcript;		/* Jsonb *: the messages after the configured ones */
	List	   *calls;			/* Jsonb *: the tool calls run */
	int64		prompt_tokens;
	int64		completion_tokens;
	Numeric		cost;			/* NULL: the model has no price */
	char	   *model;
	char	   *waiting_call;	/* the tool call whose child execution runs */
	TimestampTz sent_at;		/* when the step in flight was sent */
} Agent;

typedef enum StepEnd
{
	STEP_FAILED,
	STEP_TOOLS,
	STEP_FINAL
} StepEnd;

static bool
agent_config(FlNodeCall *call, FlNodeResult *res, AgentConfig *cfg)
{
	const char *id = call->def->id;
	JB			b = {0};
	JsonbValue	v,
				el;
	char	   *prompt,
			   *system,
			   *format,
			   *model,
			   *base,
			   *cred_name;
	int64		max_tokens,
				max_steps;
	bool		has_messages;

	memset(cfg, 0, sizeof(*cfg));
	if (!fl_cfg_string(call, res, "model", true, &model) ||
		!fl_cfg_string(call, res, "prompt", false, &prompt) ||
		!fl_cfg_string(call, res, "systemPrompt", false, &system) ||
		!fl_cfg_string(call, res, "responseFormat", false, &format) ||
		!fl_cfg_string(call, res, "baseUrl", false, &base) ||
		!fl_cfg_string(call, res, "credential", false, &cred_name) ||
		!fl_cfg_int(call, res, "maxTokens", 0, 1, 10000000, &max_tokens) ||
		!fl_cfg_int(call, res, "maxSteps", MAX_STEPS_DEFAULT, 1, MAX_STEPS_LIMIT, &max_steps) ||
		!fl_cfg_bool(call, res, "stream", true, &cfg->stream))
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
	cfg->ask.messages = jb_finish(&b);
	if (fl_cfg_value(call, "temperature", &cfg->temperature) && cfg->temperature.type != jbvNull)
	{
		if (cfg->temperature.type != jbvNumeric)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"temperature\" must be a number, got %s",
					id, jbv_type_name(&cfg->temperature));
			return false;
		}
		cfg->ask.temperature = &cfg->temperature;
	}
	cfg->ask.model = model;
	cfg->ask.base_url = base;
	cfg->ask.credential = cred_name;
	cfg->ask.max_tokens = max_tokens;
	cfg->ask.json = format && strcmp(format, "json") == 0;
	cfg->max_steps = (int) max_steps;
	return fl_llm_tools(call, res, &cfg->tools);
}

/* ---- the agent's state as JSON (the waiting node's info "agent") */

static List *
jsonb_list(JsonbValue *arr)
{
	List	   *l = NIL;
	JsonbValue	el;

	for (int i = 0; jbv_is_array(arr) && jbv_get_index(arr, i, &el); i++)
		l = lappend(l, jbv_to_jsonb(&el));
	return l;
}

static void
jb_kv_list(JB *b, const char *key, List *l)
{
	ListCell   *lc;

	jb_key(b, key);
	jb_arr_begin(b);
	foreach(lc, l)
		jb_jsonb(b, lfirst(lc));
	jb_arr_end(b);
}

static Jsonb *
agent_to_jsonb(Agent *ag)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_int(&b, "step", ag->step);
	jb_kv_int(&b, "promptTokens", ag->prompt_tokens);
	jb_kv_int(&b, "completionTokens", ag->completion_tokens);
	jb_key(&b, "cost");
	if (ag->cost)
		jb_numeric(&b, ag->cost);
	else
		jb_null(&b);
	jb_kv_str(&b, "model", ag->model);
	jb_kv_str(&b, "waitingCall", ag->waiting_call);
	jb_kv_int(&b, "sentAt", ag->sent_at);
	jb_kv_list(&b, "transcript", ag->transcript);
	jb_kv_list(&b, "toolCalls", ag->calls);
	jb_obj_end(&b);
	return jb_finish(&b);
}

static int64
state_int(Jsonb *j, const char *key)
{
	JsonbValue	v;
	int64		out = 0;

	if (jb_get(j, key, &v))
		(void) jbv_int_between(&v, PG_INT64_MIN, PG_INT64_MAX, &out);
	return out;
}

/* The agent a waiting node's info keeps, or a new one. */
static Agent *
agent_load(Jsonb *info)
{
	Agent	   *ag = palloc0(sizeof(Agent));
	JsonbValue	v;
	Jsonb	   *j;

	if (info == NULL || !jb_get(info, "agent", &v) || !jbv_is_object(&v))
		return ag;
	j = jbv_to_jsonb(&v);
	ag->step = (int) state_int(j, "step");
	ag->prompt_tokens = state_int(j, "promptTokens");
	ag->completion_tokens = state_int(j, "completionTokens");
	ag->sent_at = (TimestampTz) state_int(j, "sentAt");
	if (jb_get(j, "cost", &v) && v.type == jbvNumeric)
		ag->cost = v.val.numeric;
	ag->model = jb_get_cstring(j, "model");
	ag->waiting_call = jb_get_cstring(j, "waitingCall");
	if (jb_get(j, "transcript", &v))
		ag->transcript = jsonb_list(&v);
	if (jb_get(j, "toolCalls", &v))
		ag->calls = jsonb_list(&v);
	return ag;
}

/* {agent} as the info of a suspension, or kept for the retry of a failed step. */
static Jsonb *
agent_info(FlExec *ex, Agent *ag)
{
	JB			b = {0};
	Jsonb	   *state = agent_to_jsonb(ag);

	/* what a model echoed of a secret is not kept in the log */
	if (ex->secrets != NIL)
		state = fl_scrub_jsonb(ex, state);
	jb_obj_begin(&b);
	jb_kv_jsonb(&b, "agent", state);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* ---- tool calls */

/* The next tool call of the last answer that has no result yet. */
static bool
next_tool_call(Agent *ag, JsonbValue *tc)
{
	int			answered = 0;

	for (int i = list_length(ag->transcript) - 1; i >= 0; i--)
	{
		Jsonb	   *m = list_nth(ag->transcript, i);
		char	   *role = jb_get_cstring(m, "role");
		JsonbValue	calls;

		if (role && strcmp(role, "tool") == 0)
		{
			answered++;
			continue;
		}
		if (!jb_get(m, "tool_calls", &calls) || !jbv_is_array(&calls))
			return false;
		return jbv_get_index(&calls, answered, tc);
	}
	return false;
}

static char *
tool_call_field(JsonbValue *tc, const char *key)
{
	JsonbValue	f,
				v;

	if (strcmp(key, "id") == 0)
		return jbv_get_key(tc, "id", &v) && v.type == jbvString ? jbv_cstring(&v) : NULL;
	if (jbv_get_key(tc, "function", &f) && jbv_is_object(&f) && jbv_get_key(&f, key, &v) &&
		v.type == jbvString)
		return jbv_cstring(&v);
	return NULL;
}

/* The tool's result as the model gets it: a string as it is, anything else as JSON. */
static void
tool_message(Agent *ag, const char *call_id, Jsonb *answer)
{
	JB			b = {0};
	JsonbValue	v;
	char	   *content;

	jbv_from_jsonb(answer, &v);
	content = v.type == jbvString ? jbv_cstring(&v) : jsonb_to_compact(answer);
	jb_obj_begin(&b);
	jb_kv_str(&b, "role", "tool");
	jb_kv_str(&b, "tool_call_id", call_id ? call_id : "");
	jb_kv_str(&b, "content", content);
	jb_obj_end(&b);
	ag->transcript = lappend(ag->transcript, jb_finish(&b));
}

static void
record_call(Agent *ag, const char *call_id, const char *name, const char *child_id, const char *status)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_int(&b, "step", ag->step);
	jb_kv_str(&b, "id", call_id);
	jb_kv_str(&b, "name", name);
	jb_kv_str(&b, "executionId", child_id);
	jb_kv_str(&b, "status", status);
	jb_obj_end(&b);
	ag->calls = lappend(ag->calls, jb_finish(&b));
}

typedef struct ToolRun
{
	FlNodeCall *call;
	AgentConfig *cfg;
	const char *name;
	const char *arguments;
	Jsonb	   *result;
	char	   *child_id;
} ToolRun;

static void
tool_run(void *arg)
{
	ToolRun    *t = arg;

	t->result = fl_llm_run_tool(t->call, &t->cfg->tools, t->name, t->arguments, &t->child_id);
}

/*
 * Run one tool call; false with res suspended when its child waits (the
 * child's end continues this node).  An error of the child's start goes to
 * the model as the tool's answer, as a failed child does.
 */
static bool
run_tool_call(FlNodeCall *call, FlNodeResult *res, AgentConfig *cfg, Agent *ag, JsonbValue *tc)
{
	ToolRun		t;
	ErrorData  *ed;
	char	   *call_id = tool_call_field(tc, "id");
	char	   *status;
	JsonbValue	v;

	memset(&t, 0, sizeof(t));
	t.call = call;
	t.cfg = cfg;
	t.name = tool_call_field(tc, "name");
	t.arguments = tool_call_field(tc, "arguments");
	ed = fl_subxact_try(tool_run, &t);
	if (ed != NULL)
	{
		if (ed->sqlerrcode == ERRCODE_QUERY_CANCELED || ed->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(ed);
		record_call(ag, call_id, t.name, NULL, "error");
		tool_message(ag, call_id, jsonb_string(psprintf("error: %s", ed->message)));
		return true;
	}
	if (t.child_id == NULL)
	{
		record_call(ag, call_id, t.name, NULL, "error");
		tool_message(ag, call_id, t.result);
		return true;
	}
	status = jb_get_cstring(t.result, "status");
	record_call(ag, call_id, t.name, t.child_id, status);
	if (status && strcmp(status, "suspended") == 0)
	{
		JB			b = {0};
		Jsonb	   *info;

		ag->waiting_call = call_id ? call_id : "";
		info = agent_info(call->ex, ag);
		jb_obj_begin(&b);
		jb_kv_str(&b, "childExecutionId", t.child_id);
		if (jb_get(t.result, "waiting", &v))
		{
			jb_key(&b, "waiting");
			jb_val(&b, &v);
		}
		jb_kv_merge(&b, info, NULL);
		jb_obj_end(&b);
		res->outcome = FL_SUSPEND;
		res->wait_kind = FL_WAIT_SUB;
		res->suspend_info = jb_finish(&b);
		return false;
	}
	tool_message(ag, call_id, fl_llm_tool_answer(t.result));
	return true;
}

/* The child a tool call waited on ended: its result is the tool's answer. */
static void
tool_child_done(Agent *ag, Jsonb *child)
{
	char	   *status = jb_get_cstring(child, "status");
	Jsonb	   *last = llast(ag->calls);
	JB			b = {0};

	/* the recorded call ends as its child did */
	jb_obj_begin(&b);
	jb_kv_merge(&b, last, "status");
	jb_kv_str(&b, "status", status);
	jb_obj_end(&b);
	llast(ag->calls) = jb_finish(&b);
	tool_message(ag, ag->waiting_call, fl_llm_tool_answer(child));
	ag->waiting_call = NULL;
}

/* ---- model calls */

static bool
step_request(FlNodeCall *call, FlNodeResult *res, AgentConfig *cfg, Agent *ag, FlHttpRequest *req)
{
	FlLlmAsk	ask = cfg->ask;
	JB			b = {0};
	JsonbValue	v,
				el;
	ListCell   *lc;

	memset(req, 0, sizeof(*req));
	if (!fl_http_config_timeout(call, res, req))
		return false;
	if (ag->transcript != NIL)
	{
		jbv_from_jsonb(cfg->ask.messages, &v);
		jb_arr_begin(&b);
		for (int i = 0; jbv_get_index(&v, i, &el); i++)
			jb_val(&b, &el);
		foreach(lc, ag->transcript)
			jb_jsonb(&b, lfirst(lc));
		jb_arr_end(&b);
		ask.messages = jb_finish(&b);
	}
	/* streamed where a worker sends it: it reports the text as it comes */
	ask.stream = cfg->stream && !call->ex->sync && fl_http_dispatcher != NULL;
	if (cfg->tools.n > 0)
	{
		ask.tools = cfg->tools.defs;
		ask.no_tools = ag->step + 1 >= cfg->max_steps;
		ask.step = ag->step + 1;
	}
	return fl_llm_request(call, res, &ask, req);
}

static void
add_usage(Agent *ag, FlLlmAnswer *a)
{
	ag->prompt_tokens += a->prompt_tokens;
	ag->completion_tokens += a->completion_tokens;
	/* one model throughout: priced in every step or in none */
	if (a->cost == NULL || ag->step == 1)
		ag->cost = a->cost;
	else if (ag->cost != NULL)
		ag->cost = DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(ag->cost),
													   NumericGetDatum(a->cost)));
	ag->model = a->model;
}

/* The step's own node-log row: what it said and used. */
static void
log_step(FlNodeCall *call, Agent *ag, FlLlmAnswer *a, TimestampTz started)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_int(&b, "step", ag->step);
	if (a->text)
		jb_kv_str(&b, "text", a->text);
	if (a->tool_calls)
		jb_kv_jsonb(&b, "toolCalls", a->tool_calls);
	jb_kv_str(&b, "finishReason", a->finish_reason);
	fl_llm_usage_fields(&b, a);
	jb_obj_end(&b);
	fl_log_node_step(call->ex, call->node, ag->step, jb_finish(&b), started,
					 a->prompt_tokens + a->completion_tokens, a->cost);
}

static void
succeed(FlNodeCall *call, FlNodeResult *res, AgentConfig *cfg, Agent *ag, FlLlmAnswer *last)
{
	FlLlmAnswer total = *last;
	JB			b = {0};

	total.prompt_tokens = ag->prompt_tokens;
	total.completion_tokens = ag->completion_tokens;
	total.total_tokens = cfg->tools.n > 0 ? ag->prompt_tokens + ag->completion_tokens : last->total_tokens;
	total.cost = ag->cost;
	jb_obj_begin(&b);
	if (cfg->ask.json)
		jb_kv_jsonb(&b, "json", last->json);
	else
		jb_kv_str(&b, "text", last->text);
	jb_kv_str(&b, "finishReason", last->finish_reason);
	fl_llm_usage_fields(&b, &total);
	if (cfg->tools.n > 0)
	{
		jb_kv_int(&b, "steps", ag->step);
		jb_kv_list(&b, "toolCalls", ag->calls);
	}
	jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), NULL);
	res->tokens = ag->prompt_tokens + ag->completion_tokens;
	res->cost = ag->cost;
}

/* The text a worker stored while the answer streamed in: the answer has it now. */
static void
forget_progress(FlNodeCall *call)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {UUIDOID, TEXTOID, TEXTOID};
	Datum		a[3];

	a[0] = UUIDPGetDatum(&call->ex->id);
	a[1] = CStringGetTextDatum(call->def->id);
	a[2] = CStringGetTextDatum(call->ex->iteration);
	fl_owner_plan(&plan, "DELETE FROM flowent.node_progress WHERE execution_id = $1 AND node_id = $2 AND iteration = $3",
				  3, types);
	fl_owner_exec(plan, a, NULL, SPI_OK_DELETE);
}

/* A step's answer: the final one, or tool calls to run. */
static StepEnd
step_answer(FlNodeCall *call, FlNodeResult *res, AgentConfig *cfg, Agent *ag, FlHttpRequest *req,
			FlHttpResponse *resp, CURLcode code, TimestampTz started)
{
	FlLlmAnswer a;

	if (req->stream)
		forget_progress(call);
	if (!fl_llm_answer(call, req, resp, code, res, cfg->ask.json, &a))
		return STEP_FAILED;
	ag->step++;
	add_usage(ag, &a);
	if (cfg->tools.n > 0)
		log_step(call, ag, &a, started);
	if (a.tool_calls && cfg->tools.n > 0)
	{
		JB			b = {0};

		if (ag->step >= cfg->max_steps)
		{
			fl_fail(res, "LIMIT_EXCEEDED", "node \"%s\": the model still calls tools after maxSteps (%d) model calls, the last sent with tool_choice none",
					call->def->id, cfg->max_steps);
			return STEP_FAILED;
		}
		jb_obj_begin(&b);
		jb_kv_str(&b, "role", "assistant");
		jb_kv_str(&b, "content", a.text);
		jb_kv_jsonb(&b, "tool_calls", a.tool_calls);
		jb_obj_end(&b);
		ag->transcript = lappend(ag->transcript, jb_finish(&b));
		return STEP_TOOLS;
	}
	if (a.text == NULL)
	{
		fl_fail(res, "AI_RESPONSE_INVALID", "node \"%s\": the model called tools, but the node has none (field \"tools\")",
				call->def->id);
		return STEP_FAILED;
	}
	succeed(call, res, cfg, ag, &a);
	return STEP_FINAL;
}

/* A step made here (flowent.run): the request, its answer. */
static StepEnd
step_sync(FlNodeCall *call, FlNodeResult *res, AgentConfig *cfg, Agent *ag, FlHttpRequest *req)
{
	FlHttpResponse resp;
	TimestampTz started = GetCurrentTimestamp();
	StepEnd		end = STEP_FAILED;

	fl_http_response_init(&resp);
	PG_TRY();
	{
		CURLcode	code = fl_http_perform_sync(req, &resp);

		end = step_answer(call, res, cfg, ag, req, &resp, code, started);
	}
	PG_FINALLY();
	{
		fl_http_response_free(&resp);
	}
	PG_END_TRY();
	return end;
}

static bool
is_kind(const char *kind, const char *name)
{
	return kind && strcmp(kind, name) == 0;
}

static void
agent_run(FlNodeCall *call, FlNodeResult *res)
{
	FlExec	   *ex = call->ex;
	AgentConfig cfg;
	Agent	   *ag;
	bool		resend = false;

	if (!agent_config(call, res, &cfg))
		return;
	if (call->state == NULL)
	{
		FlPrior    *p = fl_prior_of(ex, call->node);
		Jsonb	   *info = p && p->status == 'w' ? p->output : NULL;
		char	   *kind = info ? jb_get_cstring(info, "kind") : NULL;

		call->state = ag = agent_load(info);
		if (is_kind(kind, FL_WAIT_HTTP) && fl_http_completion != NULL)
		{
			FlHttpCompletion *c = fl_http_completion;
			StepEnd		end;

			fl_http_completion = NULL;	/* the tools' children have their own */
			end = step_answer(call, res, &cfg, ag, c->req, c->resp, c->code,
							  ag->sent_at ? ag->sent_at : GetCurrentTimestamp());
			if (end == STEP_FAILED)
				res->suspend_info = agent_info(ex, ag);
			if (end != STEP_TOOLS)
				return;
		}
		else if (is_kind(kind, FL_WAIT_SUB) && ag->waiting_call && call->resume_data)
			tool_child_done(ag, call->resume_data);
		else if (is_kind(kind, FL_WAIT_HTTP))
			resend = true;		/* the worker that sent it is gone */
	}
	else
		ag = call->state;

	for (;;)
	{
		JsonbValue	tc;
		FlHttpRequest *req = palloc0(sizeof(FlHttpRequest));
		StepEnd		end;

		while (next_tool_call(ag, &tc))
			if (!run_tool_call(call, res, &cfg, ag, &tc))
				return;
		if (!step_request(call, res, &cfg, ag, req))
		{
			res->suspend_info = agent_info(ex, ag);
			return;
		}
		if (!ex->sync && fl_http_dispatcher != NULL)
		{
			/* the worker's curl loop sends it; its answer continues the node */
			ag->sent_at = GetCurrentTimestamp();
			res->outcome = FL_SUSPEND;
			res->wait_kind = resend ? NULL : FL_WAIT_HTTP;	/* NULL: waiting as logged */
			res->http_request = req;
			res->suspend_info = agent_info(ex, ag);
			return;
		}
		end = step_sync(call, res, &cfg, ag, req);
		if (end == STEP_FAILED)
			res->suspend_info = agent_info(ex, ag);
		if (end != STEP_TOOLS)
			return;
	}
}

const FlNodeType fl_node_llm_agent = {
	.type = "llm-agent",
	.flags = FL_NT_EXTERNAL | FL_NT_SUSPENDS,
	.sql_error_code = NULL,
	.execute = agent_run,
	.resume = agent_run,
	/* 429, 5xx, no connection, a timeout: twice more, after 1 s and 2 s (or Retry-After) */
	.default_attempts = 3,
	.default_backoff_ms = 1000,
};
