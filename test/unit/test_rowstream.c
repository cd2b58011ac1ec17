/*
 * test_rowstream.c
 *	  Unit tests of the stored row stream's framing (src/core/rowstream.c).
 */
#include <stdint.h>
#include <string.h>

#include "core/rowstream.h"
#include "unit.h"

/* appends [len][bytes] to buf at *n */
static void
put(char *buf, size_t *n, const char *bytes, uint32_t len)
{
	memcpy(buf + *n, &len, sizeof(len));
	memcpy(buf + *n + sizeof(len), bytes, len);
	*n += sizeof(len) + len;
}

int
main(void)
{
	char		buf[256];
	size_t		n = 0;
	FlRowStream s;
	const char *rec;
	uint32_t	len;
	uint32_t	natts;

	put(buf, &n, "first row", 9);
	put(buf, &n, "second", 6);
	fl_rowstream_init(&s, buf, n);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_RECORD && len == 9 && memcmp(rec, "first row", 9) == 0);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_RECORD && len == 6 && memcmp(rec, "second", 6) == 0);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_END);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_END);

	/* empty */
	fl_rowstream_init(&s, buf, 0);
	CHECK(fl_rowstream_next(&s, 0, &rec, &len) == FL_ROWS_END);
	/* a record shorter than a tuple's header */
	fl_rowstream_init(&s, buf, n);
	CHECK(fl_rowstream_next(&s, 10, &rec, &len) == FL_ROWS_CORRUPT);
	/* cut inside the second record, and inside its length */
	fl_rowstream_init(&s, buf, n - 1);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_RECORD);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_CORRUPT);
	fl_rowstream_init(&s, buf, 4 + 9 + 2);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_RECORD);
	CHECK(fl_rowstream_next(&s, 4, &rec, &len) == FL_ROWS_CORRUPT);
	/* a length near UINT32_MAX does not wrap */
	{
		uint32_t	huge = UINT32_MAX - 2;
		char		b[8] = {0};

		memcpy(b, &huge, 4);
		fl_rowstream_init(&s, b, sizeof(b));
		CHECK(fl_rowstream_next(&s, 0, &rec, &len) == FL_ROWS_CORRUPT);
	}

	/* row type header */
	{
		uint32_t	h[2] = {0x464c5431, 3};
		char		t[8 + 3 * 5];

		memcpy(t, h, 8);
		memset(t + 8, 'a', 15);
		CHECK(fl_rowtype_header(t, sizeof(t), 0x464c5431, 1600, 5, &natts) && natts == 3);
		CHECK(!fl_rowtype_header(t, sizeof(t) - 1, 0x464c5431, 1600, 5, &natts));
		CHECK(!fl_rowtype_header(t, sizeof(t), 0x464c5432, 1600, 5, &natts));
		CHECK(!fl_rowtype_header(t, sizeof(t), 0x464c5431, 2, 5, &natts));
		CHECK(!fl_rowtype_header(t, 7, 0x464c5431, 1600, 5, &natts));
		h[1] = 0;
		memcpy(t, h, 8);
		CHECK(fl_rowtype_header(t, 8, 0x464c5431, 1600, 5, &natts) && natts == 0);
	}
	UNIT_DONE();
}
