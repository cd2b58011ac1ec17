/*
 * test_mail.c
 *	  Unit tests of mail addresses and Retry-After values (src/core/mail.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/mail.h"
#include "unit.h"

/* "addr|name" of s, or "no" */
static const char *
split(const char *s)
{
	static char out[256];
	const char *a,
			   *n;
	size_t		al,
				nl;

	if (!fl_mail_address(s, strlen(s), &a, &al, &n, &nl))
		return "no";
	snprintf(out, sizeof(out), "%.*s|%.*s", (int) al, a, (int) nl, n ? n : "");
	return out;
}

static void
test_addresses(void)
{
	CHECK_STR(split("ana@example.com"), "ana@example.com|");
	CHECK_STR(split("Ana Lee <ana@example.com>"), "ana@example.com|Ana Lee");
	CHECK_STR(split("Bob Müller   <bob@example.org>"), "bob@example.org|Bob Müller");
	CHECK_STR(split("<x@y.z>"), "x@y.z|");
	CHECK_STR(split("\"Lee, Ana\" <ana@example.com>"), "ana@example.com|\"Lee, Ana\"");
	CHECK_STR(split(""), "no");
	CHECK_STR(split("not an address"), "no");
	CHECK_STR(split("@example.com"), "no");
	CHECK_STR(split("ana@"), "no");
	CHECK_STR(split("a@b@c"), "no");
	CHECK_STR(split("ana@example.com>"), "no");
	CHECK_STR(split("Ana <ana@example.com> x"), "no");
	CHECK_STR(split("Ana <ana@example.com"), "no");
	CHECK_STR(split("a b@example.com"), "no");
	CHECK_STR(split("a@example.com\r\nBcc: x@evil.example"), "no");
	CHECK_STR(split("Ana\n <ana@example.com>"), "no");
	CHECK(!fl_mail_address("a@b\0c", 5, &(const char *) {0}, &(size_t) {0}, &(const char *) {0}, &(size_t) {0}));
}

/* the Retry-After value of raw headers, or "none" */
static const char *
retry_after(const char *hdr)
{
	static char out[128];
	const char *v;
	size_t		vl;

	if (!fl_retry_after_header(hdr, strlen(hdr), &v, &vl))
		return "none";
	snprintf(out, sizeof(out), "%.*s", (int) vl, v);
	return out;
}

static void
test_retry_after(void)
{
	long		secs = -1;

	CHECK_STR(retry_after("HTTP/1.1 429 Too Many\r\nContent-Type: x\r\nRetry-After: 120\r\n\r\n"), "120");
	CHECK_STR(retry_after("retry-after:\t7 \r\n"), "7");
	CHECK_STR(retry_after("RETRY-AFTER: Wed, 21 Oct 2026 07:28:00 GMT\r\n"), "Wed, 21 Oct 2026 07:28:00 GMT");
	CHECK_STR(retry_after("X-Retry-After: 5\r\n"), "none");
	CHECK_STR(retry_after("Retry-After:   \r\n"), "none");
	CHECK_STR(retry_after("Retry-After: 3"), "3");	/* no line end */
	CHECK_STR(retry_after(""), "none");
	CHECK(fl_retry_after_seconds("120", 3, 86400, &secs) && secs == 120);
	CHECK(fl_retry_after_seconds("0", 1, 86400, &secs) && secs == 0);
	CHECK(fl_retry_after_seconds("99999999999999999999", 20, 86400, &secs) && secs == 86400);
	CHECK(!fl_retry_after_seconds("1.5", 3, 86400, &secs));
	CHECK(!fl_retry_after_seconds("-1", 2, 86400, &secs));
	CHECK(!fl_retry_after_seconds("", 0, 86400, &secs));
	CHECK(!fl_retry_after_seconds("Wed, 21 Oct", 11, 86400, &secs));
}

int
main(void)
{
	test_addresses();
	test_retry_after();
	UNIT_DONE();
}
