/*
 * llm_stream.h
 *	  A streamed chat completion (stream: true): the server-sent chunks of
 *	  an OpenAI-compatible API read as they arrive (the text so far, for
 *	  progress) and, at the end, as the one chat completion they make.
 */
#ifndef FL_LLM_STREAM_H
#define FL_LLM_STREAM_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef struct FlLlmStream
{
	size_t		pos;			/* how far the stream has been read */
	StringInfoData text;		/* choices[0].delta.content so far */
	char	   *model;
	char	   *finish_reason;
	Jsonb	   *usage;			/* the last chunk's usage (stream_options.include_usage) */
	Jsonb	   *error;			/* an {"error": …} chunk */
	List	   *tool_calls;		/* FlLlmStreamCall *, by index */
	bool		done;			/* data: [DONE] */
	bool		any;			/* at least one chunk was JSON */
} FlLlmStream;

/* Begin reading a stream (in the current memory context). */
extern void fl_llm_stream_init(FlLlmStream *s);

/*
 * Read the complete events of body[s->pos, len) (at_end: the stream is
 * over, its last event complete); true when the text grew.
 */
extern bool fl_llm_stream_feed(FlLlmStream *s, const char *body, size_t len, bool at_end);

/*
 * The chat completion the stream makes ({model, choices: [{message:
 * {role, content, tool_calls?}, finish_reason}], usage}), an error chunk
 * as it came, or NULL when no chunk was a chat completion chunk.
 */
extern Jsonb *fl_llm_stream_completion(FlLlmStream *s);

#endif
