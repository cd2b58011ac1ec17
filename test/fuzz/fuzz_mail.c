/*
 * fuzz_mail.c
 *	  libFuzzer target for mail addresses and Retry-After values
 *	  (src/core/mail.c).
 *
 * Any bytes are read both ways.  An address found must lie inside the
 * input, hold exactly one @ with text on both sides and no byte that could
 * break a header or the envelope; a name, when there is one, must precede
 * it.  A Retry-After value must lie inside the input, without blanks at its
 * ends; its seconds, when it is a number, stay within the cap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mail.h"

#define FZ_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	const char *a,
			   *n,
			   *v;
	size_t		al,
				nl,
				vl;
	long		secs;

	if (fl_mail_address(s, size, &a, &al, &n, &nl))
	{
		int			ats = 0;

		FZ_CHECK(a >= s && a + al <= s + size && al >= 3);
		for (size_t i = 0; i < al; i++)
		{
			FZ_CHECK((unsigned char) a[i] > ' ' && a[i] != 0x7f && a[i] != '<' && a[i] != '>');
			ats += a[i] == '@';
		}
		FZ_CHECK(ats == 1 && a[0] != '@' && a[al - 1] != '@');
		for (size_t i = 0; i < size; i++)
			FZ_CHECK(s[i] != '\r' && s[i] != '\n' && s[i] != '\0');
		if (n)
			FZ_CHECK(n == s && nl > 0 && n + nl < a);
	}
	if (fl_retry_after_header(s, size, &v, &vl))
	{
		FZ_CHECK(v >= s && v + vl <= s + size && vl > 0);
		FZ_CHECK(v[0] != ' ' && v[0] != '\t' && v[vl - 1] != ' ' && v[vl - 1] != '\r');
		if (fl_retry_after_seconds(v, vl, 86400, &secs))
			FZ_CHECK(secs >= 0 && secs <= 86400);
	}
	return 0;
}
