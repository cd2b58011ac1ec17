/*
 * rowstream.c
 *	  Reading the rows a table trigger stored (src/pg/table_changes.c):
 *	  the bounds of each record and of the row type, checked before
 *	  PostgreSQL reads the tuples themselves.  The bytes come from a table
 *	  only the extension writes, but a damaged one must give an error, not
 *	  a read past its end.
 */
#include "core/rowstream.h"

#include <string.h>

void
fl_rowstream_init(FlRowStream *s, const char *data, size_t len)
{
	s->p = data;
	s->end = data + len;
}

FlRowsStatus
fl_rowstream_next(FlRowStream *s, uint32_t min_len, const char **rec, uint32_t *len)
{
	uint32_t	n;
	size_t		left = (size_t) (s->end - s->p);

	if (left == 0)
		return FL_ROWS_END;
	if (left < sizeof(n))
		return FL_ROWS_CORRUPT;
	memcpy(&n, s->p, sizeof(n));
	if (n < min_len || n > left - sizeof(n))
		return FL_ROWS_CORRUPT;
	*rec = s->p + sizeof(n);
	*len = n;
	s->p += sizeof(n) + n;
	return FL_ROWS_RECORD;
}

/* [uint32 magic][uint32 natts] then natts records of att_size bytes, nothing more */
bool
fl_rowtype_header(const char *data, size_t len, uint32_t magic, uint32_t max_natts, size_t att_size,
				  uint32_t *natts)
{
	uint32_t	head[2];

	if (len < sizeof(head))
		return false;
	memcpy(head, data, sizeof(head));
	if (head[0] != magic || head[1] > max_natts || att_size == 0 ||
		(len - sizeof(head)) / att_size != head[1] || (len - sizeof(head)) % att_size != 0)
		return false;
	*natts = head[1];
	return true;
}
