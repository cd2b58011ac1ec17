/*
 * llm_call.h
 *	  One call of an OpenAI-compatible chat-completions API, for the nodes
 *	  that ask a model: llm-agent, and condition's AI fallback.
 */
#ifndef FL_LLM_CALL_H
#define FL_LLM_CALL_H

#include "nodes/fl_nodes.h"
#include "pg/http.h"
#include "pg/jsonb_util.h"

/* What to ask. */
typedef struct FlLlmAsk
{
	const char *model;
	const char *base_url;		/* NULL: flowent.llm_base_url */
	const char *credential;		/* its name; NULL: no key */
	Jsonb	   *messages;		/* [{role, content}] */
	JsonbValue *temperature;	/* NULL: the model's */
	int64		max_tokens;		/* 0: the model's */
	bool		json;			/* response_format json_object */
	Jsonb	   *tools;			/* NULL, or the OpenAI tools array */
	bool		no_tools;		/* tool_choice none: the model must answer */
	int			step;			/* 0: a single call; else the agent's step (its Idempotency-Key) */
	bool		stream;			/* stream: true (the worker reports the text as it comes) */
} FlLlmAsk;

/* What came back. */
typedef struct FlLlmAnswer
{
	char	   *text;			/* NULL when the model only calls tools */
	Jsonb	   *json;			/* the text parsed, when asked for json */
	Jsonb	   *tool_calls;		/* NULL, or [{id, type, function: {name, arguments}}] */
	char	   *model;
	char	   *finish_reason;
	int64		prompt_tokens;
	int64		completion_tokens;
	int64		total_tokens;
	Numeric		cost;			/* NULL: the model has no price */
} FlLlmAnswer;

/* Append a {role, content} message to the array being built. */
extern void fl_llm_message(JB *b, const char *role, const char *content);

/*
 * The request (POST <base>/chat/completions, the credential as a bearer
 * token) into *req, whose timeout the caller has set; false with res failed
 * on bad config.
 */
extern bool fl_llm_request(FlNodeCall *call, FlNodeResult *res, const FlLlmAsk *ask, FlHttpRequest *req);

/*
 * The response read into *a (json: the answer must be JSON), its tokens and
 * cost on res; false with res failed with the provider's error mapped.
 */
extern bool fl_llm_answer(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code,
						  FlNodeResult *res, bool json, FlLlmAnswer *a);

/* model, usage {promptTokens, completionTokens, totalTokens}, costUsd, priced into an object. */
extern void fl_llm_usage_fields(JB *b, const FlLlmAnswer *a);

#endif
