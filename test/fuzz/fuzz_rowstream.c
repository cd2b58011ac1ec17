/*
 * fuzz_rowstream.c
 *	  libFuzzer target for the stored row stream's framing
 *	  (src/core/rowstream.c).
 *
 * Any bytes are read as a row stream, the first byte setting the least
 * record length: every record lies inside the buffer, is at least that
 * long, the stream moves forward, and it ends (FL_ROWS_END) exactly when
 * the records cover the buffer.  The same bytes as a row type header: a
 * header that passes describes exactly the buffer's length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rowstream.h"

#define FZ_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FlRowStream s;
	uint32_t	min_len;
	size_t		covered = 0;
	FlRowsStatus st;
	const char *rec;
	uint32_t	len;
	uint32_t	natts;
	const char *buf;
	size_t		n;

	if (size == 0)
		return 0;
	min_len = data[0] % 32;
	buf = (const char *) data + 1;
	n = size - 1;
	fl_rowstream_init(&s, buf, n);
	while ((st = fl_rowstream_next(&s, min_len, &rec, &len)) == FL_ROWS_RECORD)
	{
		FZ_CHECK(len >= min_len);
		FZ_CHECK(rec >= buf + covered + 4 && rec + len <= buf + n);
		covered += 4 + len;
		FZ_CHECK(s.p == buf + covered);
	}
	FZ_CHECK((st == FL_ROWS_END) == (covered == n));
	if (fl_rowtype_header(buf, n, 0x464c5431, 1600, (size_t) (min_len + 1), &natts))
		FZ_CHECK(8 + (size_t) natts * (min_len + 1) == n && natts <= 1600);
	return 0;
}
