/*
 * rowstream.h
 *	  The framing of a stored row stream (rowstream.c): records of
 *	  [uint32 length][length bytes], and a row type's header.  Pure C.
 */
#ifndef FL_ROWSTREAM_H
#define FL_ROWSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FlRowStream
{
	const char *p;
	const char *end;
} FlRowStream;

typedef enum FlRowsStatus
{
	FL_ROWS_RECORD,				/* *rec and *len set, the stream moved past it */
	FL_ROWS_END,				/* nothing left */
	FL_ROWS_CORRUPT				/* a length runs past the end, or is below min_len */
} FlRowsStatus;

extern void fl_rowstream_init(FlRowStream *s, const char *data, size_t len);
extern FlRowsStatus fl_rowstream_next(FlRowStream *s, uint32_t min_len, const char **rec, uint32_t *len);
extern bool fl_rowtype_header(const char *data, size_t len, uint32_t magic, uint32_t max_natts,
							  size_t att_size, uint32_t *natts);

#endif
