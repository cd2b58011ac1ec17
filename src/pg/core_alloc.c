/*
 * core_alloc.c
 *	  src/core's allocation hooks inside the backend: palloc in the current
 *	  memory context, so an ERROR cannot leak what the core allocated.
 */
#include "postgres.h"

#include "core/fl_alloc.h"

void *
fl_alloc(size_t size)
{
	return palloc0(size ? size : 1);
}

void
fl_free(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

char *
fl_strndup(const char *s, size_t len)
{
	return pnstrdup(s, len);
}
