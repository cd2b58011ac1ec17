/*
 * sse.c
 *	  The events of a text/event-stream (sse.h), as the HTML standard's
 *	  "interpreting an event stream" reads them, for the data field.
 */
#include <string.h>

#include "core/fl_alloc.h"
#include "core/sse.h"

/*
 * The end of the line at p (its terminator excluded) and where the next
 * starts; false when it has no terminator yet.  At the end of the stream
 * the buffer's end ends it.
 */
static bool
line_at(const char *buf, size_t len, size_t p, bool at_end, size_t *end, size_t *next)
{
	for (size_t i = p; i < len; i++)
	{
		if (buf[i] == '\n')
		{
			*end = i;
			*next = i + 1;
			return true;
		}
		if (buf[i] == '\r')
		{
			/* a CR at the very end may be the first half of a CRLF still to come */
			if (i + 1 == len && !at_end)
				return false;
			*end = i;
			*next = i + 1 < len && buf[i + 1] == '\n' ? i + 2 : i + 1;
			return true;
		}
	}
	if (!at_end)
		return false;
	*end = *next = len;
	return true;
}

char *
fl_sse_next(const char *buf, size_t len, size_t *pos, bool at_end, size_t *data_len)
{
	size_t		p = *pos;

	*data_len = 0;
	while (p < len)
	{
		size_t		start = p;
		size_t		dlen = 0;
		bool		has_data = false;
		bool		complete = false;
		size_t		q = p;

		/* measure the event: its data's length, and whether it is complete */
		for (;;)
		{
			size_t		end,
						next;

			if (!line_at(buf, len, q, at_end, &end, &next))
				break;
			if (end == q)
			{
				complete = true;	/* a blank line, or the end of the stream */
				q = next;
				break;
			}
			if (end - q >= 5 && memcmp(buf + q, "data:", 5) == 0)
			{
				size_t		v = q + 5;

				if (v < end && buf[v] == ' ')
					v++;
				dlen += (has_data ? 1 : 0) + (end - v);
				has_data = true;
			}
			else if (end - q == 4 && memcmp(buf + q, "data", 4) == 0)
			{
				/* a field name alone: its value is empty */
				dlen += has_data ? 1 : 0;
				has_data = true;
			}
			q = next;
			if (q >= len)
			{
				complete = at_end;
				break;
			}
		}
		if (!complete)
		{
			*pos = start;
			return NULL;
		}
		p = q;
		if (!has_data)
			continue;

		/* copy it */
		{
			char	   *out = fl_alloc(dlen + 1);
			size_t		o = 0;
			bool		first = true;

			for (q = start; q < p;)
			{
				size_t		end,
							next;

				(void) line_at(buf, len, q, true, &end, &next);
				if (end == q)
					break;
				if (end - q >= 4 && memcmp(buf + q, "data", 4) == 0 &&
					(end - q == 4 || buf[q + 4] == ':'))
				{
					size_t		v = q + 4;

					if (v < end)
						v++;	/* the colon */
					if (v < end && buf[v] == ' ')
						v++;
					if (!first)
						out[o++] = '\n';
					memcpy(out + o, buf + v, end - v);
					o += end - v;
					first = false;
				}
				q = next;
			}
			out[o] = '\0';
			*pos = p;
			*data_len = o;
			return out;
		}
	}
	*pos = p;
	return NULL;
}
