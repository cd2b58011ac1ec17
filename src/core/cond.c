/*
 * cond.c
 *	  Three-valued condition logic and the operator-name table
 *	  (no PostgreSQL headers).
 */
#include <stddef.h>
#include <string.h>

#include "core/cond.h"

static const char *const op_names[FL_OP_COUNT] = {
	[FL_OP_EQUALS] = "equals",
	[FL_OP_NOT_EQUALS] = "not_equals",
	[FL_OP_GT] = "gt",
	[FL_OP_GTE] = "gte",
	[FL_OP_LT] = "lt",
	[FL_OP_LTE] = "lte",
	[FL_OP_CONTAINS] = "contains",
	[FL_OP_NOT_CONTAINS] = "not_contains",
	[FL_OP_STARTS_WITH] = "starts_with",
	[FL_OP_ENDS_WITH] = "ends_with",
	[FL_OP_MATCHES] = "matches",
	[FL_OP_IN] = "in",
	[FL_OP_NOT_IN] = "not_in",
	[FL_OP_IS_EMPTY] = "is_empty",
	[FL_OP_IS_NOT_EMPTY] = "is_not_empty",
	[FL_OP_EXISTS] = "exists",
	[FL_OP_NOT_EXISTS] = "not_exists",
};

/* Kleene and: FALSE dominates, then UNDECIDED. */
fl_tri
fl_tri_and(fl_tri a, fl_tri b)
{
	if (a == FL_TRI_FALSE || b == FL_TRI_FALSE)
		return FL_TRI_FALSE;
	if (a == FL_TRI_UNDECIDED || b == FL_TRI_UNDECIDED)
		return FL_TRI_UNDECIDED;
	return FL_TRI_TRUE;
}

/* Kleene or: TRUE dominates, then UNDECIDED. */
fl_tri
fl_tri_or(fl_tri a, fl_tri b)
{
	if (a == FL_TRI_TRUE || b == FL_TRI_TRUE)
		return FL_TRI_TRUE;
	if (a == FL_TRI_UNDECIDED || b == FL_TRI_UNDECIDED)
		return FL_TRI_UNDECIDED;
	return FL_TRI_FALSE;
}

/* Negation; the negation of UNDECIDED is UNDECIDED. */
fl_tri
fl_tri_not(fl_tri a)
{
	if (a == FL_TRI_TRUE)
		return FL_TRI_FALSE;
	if (a == FL_TRI_FALSE)
		return FL_TRI_TRUE;
	return FL_TRI_UNDECIDED;
}

/* A definite value from a C boolean. */
fl_tri
fl_tri_from_bool(bool b)
{
	return b ? FL_TRI_TRUE : FL_TRI_FALSE;
}

/* "true", "false" or "undecided", for messages and tests. */
const char *
fl_tri_name(fl_tri t)
{
	switch (t)
	{
		case FL_TRI_TRUE:
			return "true";
		case FL_TRI_FALSE:
			return "false";
		default:
			return "undecided";
	}
}

/* The neutral start value of a group: TRUE for and, FALSE for or. */
fl_tri
fl_tri_identity(fl_combinator comb)
{
	return comb == FL_COMB_OR ? FL_TRI_FALSE : FL_TRI_TRUE;
}

/* Fold one more item into a group's accumulated value. */
fl_tri
fl_tri_combine(fl_combinator comb, fl_tri acc, fl_tri item)
{
	return comb == FL_COMB_OR ? fl_tri_or(acc, item) : fl_tri_and(acc, item);
}

/* ASCII case-insensitive equality of a NUL-terminated string with a word. */
static bool
ascii_ieq(const char *s, const char *word)
{
	for (; *s && *word; s++, word++)
	{
		char		c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != *word)
			return false;
	}
	return *s == '\0' && *word == '\0';
}

/* Parse a combinator: "and" or "or" in any case; -1 otherwise. */
int
fl_cond_combinator_parse(const char *name)
{
	if (name == NULL)
		return -1;
	if (ascii_ieq(name, "and"))
		return FL_COMB_AND;
	if (ascii_ieq(name, "or"))
		return FL_COMB_OR;
	return -1;
}

/* Parse a counted operator name; exact match against the table. */
int
fl_cond_op_parse_len(const char *name, int len)
{
	if (name == NULL || len <= 0)
		return -1;
	for (int i = 0; i < FL_OP_COUNT; i++)
	{
		size_t		n = strlen(op_names[i]);

		if ((size_t) len == n && memcmp(name, op_names[i], n) == 0)
			return i;
	}
	return -1;
}

/* Parse an operator name; -1 for unknown names (and NULL). */
int
fl_cond_op_parse(const char *name)
{
	if (name == NULL)
		return -1;
	return fl_cond_op_parse_len(name, (int) strnlen(name, 64));
}

/* The canonical name of an operator. */
const char *
fl_cond_op_name(fl_cond_op op)
{
	if ((int) op < 0 || (int) op >= FL_OP_COUNT)
		return NULL;
	return op_names[op];
}

/*
 * The valid names joined by ", " for error messages.  A literal, so it is
 * safe from any thread; test_cond.c checks it against the table.
 */
const char *
fl_cond_op_list(void)
{
	return "equals, not_equals, gt, gte, lt, lte, contains, not_contains, "
		"starts_with, ends_with, matches, in, not_in, is_empty, is_not_empty, "
		"exists, not_exists";
}

/* Unary operators ignore `right`. */
bool
fl_cond_op_needs_right(fl_cond_op op)
{
	switch (op)
	{
		case FL_OP_IS_EMPTY:
		case FL_OP_IS_NOT_EMPTY:
		case FL_OP_EXISTS:
		case FL_OP_NOT_EXISTS:
			return false;
		default:
			return true;
	}
}

/* in and not_in test membership in a `right` array. */
bool
fl_cond_op_needs_array(fl_cond_op op)
{
	return op == FL_OP_IN || op == FL_OP_NOT_IN;
}

/* The value of an operator when `left` did not resolve. */
fl_tri
fl_cond_op_on_missing(fl_cond_op op)
{
	switch (op)
	{
		case FL_OP_EXISTS:
		case FL_OP_IS_NOT_EMPTY:
			return FL_TRI_FALSE;
		case FL_OP_NOT_EXISTS:
		case FL_OP_IS_EMPTY:
			return FL_TRI_TRUE;
		default:
			return FL_TRI_UNDECIDED;
	}
}
