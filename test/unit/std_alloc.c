/* malloc-backed fl_alloc for unit tests and fuzzers */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/fl_alloc.h"

void *
fl_alloc(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return p;
}

void
fl_free(void *ptr)
{
	free(ptr);
}

char *
fl_strndup(const char *s, size_t len)
{
	char	   *p = fl_alloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
