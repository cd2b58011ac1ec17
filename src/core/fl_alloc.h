/*
 * fl_alloc.h
 *	  Allocation hooks for src/core.
 *
 * src/core never includes a PostgreSQL header.  Inside the backend these are
 * palloc/pfree (src/pg/core_alloc.c), so an ERROR cannot leak core memory;
 * unit tests and fuzzers link test/unit/std_alloc.c instead.
 */
#ifndef FL_ALLOC_H
#define FL_ALLOC_H

#include <stddef.h>

/* Returns zeroed memory; never returns NULL (the backend raises, tests abort). */
extern void *fl_alloc(size_t size);
extern void fl_free(void *ptr);
extern char *fl_strndup(const char *s, size_t len);

#endif
