/*
 * test_sse.c
 *	  Unit tests of server-sent events (src/core/sse.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/fl_alloc.h"
#include "core/sse.h"
#include "unit.h"

/* The events' data of s joined by "|", then "@" and where reading stopped. */
static const char *
events(const char *s, bool at_end)
{
	static char out[1024];
	size_t		pos = 0,
				dlen,
				o = 0;
	char	   *d;

	out[0] = '\0';
	while ((d = fl_sse_next(s, strlen(s), &pos, at_end, &dlen)) != NULL)
	{
		o += snprintf(out + o, sizeof(out) - o, "%s%s", o ? "|" : "", d);
		CHECK(strlen(d) == dlen);
		fl_free(d);
	}
	snprintf(out + o, sizeof(out) - o, "@%zu", pos);
	return out;
}

static void
test_events(void)
{
	CHECK_STR(events("data: a\n\ndata: b\n\n", false), "a|b@18");
	CHECK_STR(events("data: a\r\n\r\ndata:b\r\r", false), "a@11");	/* the last CR may be half a CRLF */
	CHECK_STR(events("data: a\r\n\r\ndata:b\r\r", true), "a|b@19");
	CHECK_STR(events("data: one\ndata: two\n\n", false), "one\ntwo@21");
	CHECK_STR(events(": keep-alive\n\nevent: x\nid: 3\n\ndata: y\n\n", false), "y@39");
	CHECK_STR(events("data\n\n", false), "@6");	/* empty data is an event with "" */
	CHECK_STR(events("data:  two spaces\n\n", false), " two spaces@19");
	CHECK_STR(events("datax: no\n\n", false), "@11");
	/* incomplete: waits at the event's start */
	CHECK_STR(events("data: a\n\ndata: b\n", false), "a@9");
	CHECK_STR(events("data: a\n\ndata: b", false), "a@9");
	CHECK_STR(events("data: a\r", false), "@0");	/* the CR may be half a CRLF */
	CHECK_STR(events("data: a\r\n\r", false), "@0");
	/* at the end of the stream the end closes the last event */
	CHECK_STR(events("data: a\n\ndata: b\n", true), "a|b@17");
	CHECK_STR(events("data: b", true), "b@7");
	CHECK_STR(events("data: b\r", true), "b@8");
	CHECK_STR(events("", true), "@0");
	CHECK_STR(events("\n\n\n", false), "@3");
}

int
main(void)
{
	test_events();
	UNIT_DONE();
}
