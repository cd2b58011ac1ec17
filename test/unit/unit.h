/* Minimal assertion helpers for src/core unit tests. */
#ifndef FL_UNIT_H
#define FL_UNIT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	unit_failures;
static int	unit_checks;

#define CHECK(cond) do { unit_checks++; if (!(cond)) { unit_failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); unit_checks++; \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { unit_failures++; \
	fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, b_ ? b_ : "(null)", a_ ? a_ : "(null)"); } } while (0)
#define UNIT_DONE() do { printf("%d checks, %d failures\n", unit_checks, unit_failures); \
	return unit_failures ? 1 : 0; } while (0)
#endif
