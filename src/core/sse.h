/*
 * sse.h
 *	  Server-sent events (the text/event-stream format, as the streamed
 *	  chat completions of OpenAI-compatible APIs send them): the data of
 *	  each complete event of a buffer that may still be growing.  Pure C.
 */
#ifndef FL_SSE_H
#define FL_SSE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The data of the next event in buf[*pos, len) that has any: its "data:"
 * lines (one leading space dropped) joined with '\n', NUL-terminated,
 * allocated with fl_alloc (length in *data_len); *pos moves past it.
 * Lines end in CRLF, LF or CR; an event ends at an empty line, or, when
 * at_end, at the end of the buffer.  Comments (":…") and other fields are
 * skipped.  NULL when no complete event with data is left: *pos then
 * stays at the start of the incomplete one, to be read again when more
 * has arrived.
 */
extern char *fl_sse_next(const char *buf, size_t len, size_t *pos, bool at_end, size_t *data_len);

#endif
