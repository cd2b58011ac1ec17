/*
 * llm_stream.c
 *	  A streamed chat completion (llm_stream.h).  Each server-sent event
 *	  (src/core/sse.c) is a chat.completion.chunk: choices[0].delta holds
 *	  the next piece of content and of each tool call (by its index: the
 *	  id and name once, the arguments in pieces), the last choice chunk its
 *	  finish_reason, and with stream_options.include_usage a final chunk
 *	  with no choices carries the usage; "[DONE]" ends the stream.
 */
#include "postgres.h"

#include "core/fl_alloc.h"
#include "core/sse.h"
#include "nodes/llm_stream.h"
#include "pg/http.h"
#include "pg/jsonb_util.h"

typedef struct FlLlmStreamCall
{
	char	   *id;
	char	   *type;
	char	   *name;
	StringInfoData arguments;
} FlLlmStreamCall;

void
fl_llm_stream_init(FlLlmStream *s)
{
	memset(s, 0, sizeof(*s));
	initStringInfo(&s->text);
}

static char *
str_or_null(JsonbValue *obj, const char *key)
{
	JsonbValue	v;

	return jbv_get_key(obj, key, &v) && v.type == jbvString ? jbv_cstring(&v) : NULL;
}

static void
tool_call_delta(FlLlmStream *s, JsonbValue *tc)
{
	JsonbValue	v,
				fn;
	int64		index = list_length(s->tool_calls);
	FlLlmStreamCall *c;
	char	   *str;

	if (jbv_get_key(tc, "index", &v))
		(void) jbv_int_between(&v, 0, 1000, &index);
	while (list_length(s->tool_calls) <= index)
	{
		c = palloc0(sizeof(FlLlmStreamCall));
		initStringInfo(&c->arguments);
		s->tool_calls = lappend(s->tool_calls, c);
	}
	c = list_nth(s->tool_calls, (int) index);
	if ((str = str_or_null(tc, "id")) != NULL)
		c->id = str;
	if ((str = str_or_null(tc, "type")) != NULL)
		c->type = str;
	if (jbv_get_key(tc, "function", &fn) && jbv_is_object(&fn))
	{
		if ((str = str_or_null(&fn, "name")) != NULL)
			c->name = str;
		if ((str = str_or_null(&fn, "arguments")) != NULL)
			appendStringInfoString(&c->arguments, str);
	}
}

/* One chunk; true when it added text. */
static bool
chunk(FlLlmStream *s, Jsonb *j)
{
	JsonbValue	choices,
				choice,
				delta,
				v,
				calls,
				tc;
	bool		grew = false;

	s->any = true;
	if (jb_get(j, "error", &v) && v.type != jbvNull)
	{
		s->error = j;
		return false;
	}
	if (jb_get(j, "model", &v) && v.type == jbvString)
		s->model = jbv_cstring(&v);
	if (jb_get(j, "usage", &v) && jbv_is_object(&v))
		s->usage = jbv_to_jsonb(&v);
	if (!jb_get(j, "choices", &choices) || !jbv_is_array(&choices) ||
		!jbv_get_index(&choices, 0, &choice) || !jbv_is_object(&choice))
		return false;
	if (jbv_get_key(&choice, "finish_reason", &v) && v.type == jbvString)
		s->finish_reason = jbv_cstring(&v);
	if (!jbv_get_key(&choice, "delta", &delta) || !jbv_is_object(&delta))
		return false;
	if (jbv_get_key(&delta, "content", &v) && v.type == jbvString && v.val.string.len > 0)
	{
		appendBinaryStringInfo(&s->text, v.val.string.val, v.val.string.len);
		grew = true;
	}
	if (jbv_get_key(&delta, "tool_calls", &calls) && jbv_is_array(&calls))
		for (int i = 0; jbv_get_index(&calls, i, &tc); i++)
			if (jbv_is_object(&tc))
				tool_call_delta(s, &tc);
	return grew;
}

bool
fl_llm_stream_feed(FlLlmStream *s, const char *body, size_t len, bool at_end)
{
	bool		grew = false;
	char	   *data;
	size_t		dlen;

	while (!s->done && (data = fl_sse_next(body, len, &s->pos, at_end, &dlen)) != NULL)
	{
		Jsonb	   *j;

		if (strcmp(data, "[DONE]") == 0)
			s->done = true;
		else if ((j = fl_http_try_parse_json(data)) != NULL)
			grew |= chunk(s, j);
		fl_free(data);
	}
	return grew;
}

Jsonb *
fl_llm_stream_completion(FlLlmStream *s)
{
	JB			b = {0};
	ListCell   *lc;

	if (s->error)
		return s->error;
	if (!s->any)
		return NULL;
	jb_obj_begin(&b);
	jb_kv_str(&b, "object", "chat.completion");
	jb_kv_str(&b, "model", s->model);
	jb_key(&b, "choices");
	jb_arr_begin(&b);
	jb_obj_begin(&b);
	jb_kv_int(&b, "index", 0);
	jb_key(&b, "message");
	jb_obj_begin(&b);
	jb_kv_str(&b, "role", "assistant");
	jb_kv_str(&b, "content", s->text.len > 0 || s->tool_calls == NIL ? s->text.data : NULL);
	if (s->tool_calls != NIL)
	{
		jb_key(&b, "tool_calls");
		jb_arr_begin(&b);
		foreach(lc, s->tool_calls)
		{
			FlLlmStreamCall *c = lfirst(lc);

			jb_obj_begin(&b);
			jb_kv_str(&b, "id", c->id);
			jb_kv_str(&b, "type", c->type ? c->type : "function");
			jb_key(&b, "function");
			jb_obj_begin(&b);
			jb_kv_str(&b, "name", c->name);
			jb_kv_str(&b, "arguments", c->arguments.data);
			jb_obj_end(&b);
			jb_obj_end(&b);
		}
		jb_arr_end(&b);
	}
	jb_obj_end(&b);
	jb_kv_str(&b, "finish_reason", s->finish_reason);
	jb_obj_end(&b);
	jb_arr_end(&b);
	if (s->usage)
		jb_kv_jsonb(&b, "usage", s->usage);
	jb_obj_end(&b);
	return jb_finish(&b);
}
