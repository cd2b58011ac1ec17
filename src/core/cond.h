/*
 * cond.h
 *	  Condition logic over small C types (no PostgreSQL headers).
 *
 * Rules of condition, switch and filter nodes evaluate to a three-valued
 * result: a rule whose `left` path does not resolve is *undecided* rather
 * than false, so an AI fallback (or the caller) can tell "the data says no"
 * from "the data is not there".  Combination follows Kleene logic:
 *
 *	and: any FALSE -> FALSE, else any UNDECIDED -> UNDECIDED, else TRUE
 *	or:  any TRUE  -> TRUE,  else any UNDECIDED -> UNDECIDED, else FALSE
 *
 * An empty `and` is TRUE and an empty `or` is FALSE (the identities).
 *
 * The operator-name table is the single list of valid operator names; the
 * validator and the executors both parse through it.
 */
#ifndef FL_COND_H
#define FL_COND_H

#include <stdbool.h>

typedef enum fl_tri
{
	FL_TRI_FALSE = 0,
	FL_TRI_TRUE = 1,
	FL_TRI_UNDECIDED = 2
} fl_tri;

/* Binary combination (Kleene and/or) and negation (UNDECIDED stays). */
extern fl_tri fl_tri_and(fl_tri a, fl_tri b);
extern fl_tri fl_tri_or(fl_tri a, fl_tri b);
extern fl_tri fl_tri_not(fl_tri a);
extern fl_tri fl_tri_from_bool(bool b);
extern const char *fl_tri_name(fl_tri t);

/* How a group combines its items. */
typedef enum fl_combinator
{
	FL_COMB_AND = 0,
	FL_COMB_OR = 1
} fl_combinator;

/*
 * Incremental combination of a group: start with fl_tri_identity(comb),
 * then fold each item with fl_tri_combine(comb, acc, item).
 */
extern fl_tri fl_tri_identity(fl_combinator comb);
extern fl_tri fl_tri_combine(fl_combinator comb, fl_tri acc, fl_tri item);

/* "and"/"or", ASCII case-insensitive; -1 when unknown. */
extern int	fl_cond_combinator_parse(const char *name);

/* Operators, in the order of DESIGN Appendix A. */
typedef enum fl_cond_op
{
	FL_OP_EQUALS = 0,
	FL_OP_NOT_EQUALS,
	FL_OP_GT,
	FL_OP_GTE,
	FL_OP_LT,
	FL_OP_LTE,
	FL_OP_CONTAINS,
	FL_OP_NOT_CONTAINS,
	FL_OP_STARTS_WITH,
	FL_OP_ENDS_WITH,
	FL_OP_MATCHES,
	FL_OP_IN,
	FL_OP_NOT_IN,
	FL_OP_IS_EMPTY,
	FL_OP_IS_NOT_EMPTY,
	FL_OP_EXISTS,
	FL_OP_NOT_EXISTS
} fl_cond_op;

#define FL_OP_COUNT (FL_OP_NOT_EXISTS + 1)

/* The operator a missing `operator` field means. */
#define FL_OP_DEFAULT FL_OP_EQUALS

/*
 * Parse an operator name (exact, lower case as listed); -1 when unknown.
 * NULL is unknown too.
 */
extern int	fl_cond_op_parse(const char *name);
/* Same for a counted string (not NUL-terminated). */
extern int	fl_cond_op_parse_len(const char *name, int len);
/* The name of an operator, or NULL when out of range. */
extern const char *fl_cond_op_name(fl_cond_op op);
/* "equals, not_equals, ..., not_exists": the valid names, for messages. */
extern const char *fl_cond_op_list(void);

/* Does the operator look at `right`?  (false for is_empty ... not_exists) */
extern bool fl_cond_op_needs_right(fl_cond_op op);
/* Does the operator need `right` to be an array?  (in, not_in) */
extern bool fl_cond_op_needs_array(fl_cond_op op);

/*
 * The result of an operator whose `left` did not resolve: exists -> FALSE,
 * not_exists -> TRUE, is_empty -> TRUE, is_not_empty -> FALSE, every other
 * operator -> UNDECIDED.
 */
extern fl_tri fl_cond_op_on_missing(fl_cond_op op);

#endif
