/*
 * fuzz_sse.c
 *	  libFuzzer target for server-sent events (src/core/sse.c).
 *
 * Any bytes are read as a stream twice: whole, as at its end, and as it
 * arrives, in pieces whose sizes the first byte sets, each piece read as
 * far as it goes before the next arrives, then the end.  Both must give
 * the same events; every read stays inside the buffer, moves forward, and
 * returns data no longer than the stream.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fl_alloc.h"
#include "core/sse.h"

#define FZ_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define MAX_EVENTS 4096

typedef struct Seen
{
	int			n;
	char	   *data[MAX_EVENTS];
	size_t		len[MAX_EVENTS];
} Seen;

static void
read_to(const char *s, size_t len, size_t *pos, bool at_end, Seen *seen)
{
	char	   *d;
	size_t		dlen;
	size_t		before = *pos;

	while ((d = fl_sse_next(s, len, pos, at_end, &dlen)) != NULL)
	{
		FZ_CHECK(*pos > before && *pos <= len);
		FZ_CHECK(dlen <= len);
		FZ_CHECK(d[dlen] == '\0');
		before = *pos;
		if (seen->n < MAX_EVENTS)
		{
			seen->data[seen->n] = d;
			seen->len[seen->n] = dlen;
			seen->n++;
		}
		else
			fl_free(d);
	}
	FZ_CHECK(*pos >= before && *pos <= len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Seen whole,
				pieces;
	const char *s;
	size_t		pos = 0,
				step;

	if (size == 0)
		return 0;
	step = (data[0] % 16) + 1;
	s = (const char *) data + 1;
	size--;
	whole.n = pieces.n = 0;
	read_to(s, size, &pos, true, &whole);
	FZ_CHECK(pos == size);
	pos = 0;
	for (size_t have = step; have < size; have += step)
		read_to(s, have, &pos, false, &pieces);
	read_to(s, size, &pos, true, &pieces);
	FZ_CHECK(pos == size);
	FZ_CHECK(whole.n == pieces.n);
	for (int i = 0; i < whole.n; i++)
	{
		FZ_CHECK(whole.len[i] == pieces.len[i]);
		FZ_CHECK(memcmp(whole.data[i], pieces.data[i], whole.len[i]) == 0);
		fl_free(whole.data[i]);
		fl_free(pieces.data[i]);
	}
	return 0;
}
