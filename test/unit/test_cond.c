/*
 * test_cond.c
 *	  Unit tests of the three-valued condition logic and the operator table
 *	  (src/core/cond.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cond.h"
#include "unit.h"

static const fl_tri all3[3] = {FL_TRI_FALSE, FL_TRI_TRUE, FL_TRI_UNDECIDED};

/* The full truth tables of and/or/not. */
static void
test_truth_tables(void)
{
	/* and: rows a, columns b in order FALSE, TRUE, UNDECIDED */
	static const fl_tri and_tab[3][3] = {
		{FL_TRI_FALSE, FL_TRI_FALSE, FL_TRI_FALSE},
		{FL_TRI_FALSE, FL_TRI_TRUE, FL_TRI_UNDECIDED},
		{FL_TRI_FALSE, FL_TRI_UNDECIDED, FL_TRI_UNDECIDED},
	};
	static const fl_tri or_tab[3][3] = {
		{FL_TRI_FALSE, FL_TRI_TRUE, FL_TRI_UNDECIDED},
		{FL_TRI_TRUE, FL_TRI_TRUE, FL_TRI_TRUE},
		{FL_TRI_UNDECIDED, FL_TRI_TRUE, FL_TRI_UNDECIDED},
	};

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
		{
			CHECK(fl_tri_and(all3[i], all3[j]) == and_tab[i][j]);
			CHECK(fl_tri_or(all3[i], all3[j]) == or_tab[i][j]);
			/* commutative */
			CHECK(fl_tri_and(all3[i], all3[j]) == fl_tri_and(all3[j], all3[i]));
			CHECK(fl_tri_or(all3[i], all3[j]) == fl_tri_or(all3[j], all3[i]));
			/* De Morgan holds in Kleene logic */
			CHECK(fl_tri_not(fl_tri_and(all3[i], all3[j])) ==
				  fl_tri_or(fl_tri_not(all3[i]), fl_tri_not(all3[j])));
		}
	CHECK(fl_tri_not(FL_TRI_TRUE) == FL_TRI_FALSE);
	CHECK(fl_tri_not(FL_TRI_FALSE) == FL_TRI_TRUE);
	CHECK(fl_tri_not(FL_TRI_UNDECIDED) == FL_TRI_UNDECIDED);
	CHECK(fl_tri_from_bool(true) == FL_TRI_TRUE);
	CHECK(fl_tri_from_bool(false) == FL_TRI_FALSE);
	CHECK_STR(fl_tri_name(FL_TRI_TRUE), "true");
	CHECK_STR(fl_tri_name(FL_TRI_FALSE), "false");
	CHECK_STR(fl_tri_name(FL_TRI_UNDECIDED), "undecided");
}

/* Fold a list of values into a group result. */
static fl_tri
fold(fl_combinator comb, const fl_tri *v, int n)
{
	fl_tri		acc = fl_tri_identity(comb);

	for (int i = 0; i < n; i++)
		acc = fl_tri_combine(comb, acc, v[i]);
	return acc;
}

/* Group folding: "any FALSE -> FALSE, else any UNDECIDED -> UNDECIDED ..." */
static void
test_groups(void)
{
	fl_tri		a[4] = {FL_TRI_FALSE};

	/* empty groups are the identities */
	CHECK(fold(FL_COMB_AND, a, 0) == FL_TRI_TRUE);
	CHECK(fold(FL_COMB_OR, a, 0) == FL_TRI_FALSE);

	/* every list of length 1..4 against the rule stated in words */
	for (int n = 1; n <= 4; n++)
	{
		int			total = 1;

		for (int i = 0; i < n; i++)
			total *= 3;
		for (int code = 0; code < total; code++)
		{
			int			c = code;
			bool		anyF = false,
						anyT = false,
						anyU = false;
			fl_tri		expect_and,
						expect_or;

			for (int i = 0; i < n; i++)
			{
				a[i] = all3[c % 3];
				c /= 3;
				anyF |= a[i] == FL_TRI_FALSE;
				anyT |= a[i] == FL_TRI_TRUE;
				anyU |= a[i] == FL_TRI_UNDECIDED;
			}
			expect_and = anyF ? FL_TRI_FALSE : anyU ? FL_TRI_UNDECIDED : FL_TRI_TRUE;
			expect_or = anyT ? FL_TRI_TRUE : anyU ? FL_TRI_UNDECIDED : FL_TRI_FALSE;
			CHECK(fold(FL_COMB_AND, a, n) == expect_and);
			CHECK(fold(FL_COMB_OR, a, n) == expect_or);
		}
	}

	CHECK(fl_cond_combinator_parse("and") == FL_COMB_AND);
	CHECK(fl_cond_combinator_parse("or") == FL_COMB_OR);
	CHECK(fl_cond_combinator_parse("AND") == FL_COMB_AND);
	CHECK(fl_cond_combinator_parse("Or") == FL_COMB_OR);
	CHECK(fl_cond_combinator_parse("xor") == -1);
	CHECK(fl_cond_combinator_parse("an") == -1);
	CHECK(fl_cond_combinator_parse("andx") == -1);
	CHECK(fl_cond_combinator_parse("") == -1);
	CHECK(fl_cond_combinator_parse(NULL) == -1);
}

/* Operator names round-trip, unknown names fail, the list matches. */
static void
test_operators(void)
{
	char		list[512];
	size_t		n = 0;

	for (int i = 0; i < FL_OP_COUNT; i++)
	{
		const char *name = fl_cond_op_name((fl_cond_op) i);

		CHECK(name != NULL);
		CHECK(fl_cond_op_parse(name) == i);
		CHECK(fl_cond_op_parse_len(name, (int) strlen(name)) == i);
		n += snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", name);
	}
	CHECK_STR(fl_cond_op_list(), list);
	CHECK(FL_OP_COUNT == 17);

	CHECK(fl_cond_op_parse("equals") == FL_OP_EQUALS);
	CHECK(fl_cond_op_parse("not_exists") == FL_OP_NOT_EXISTS);
	CHECK(fl_cond_op_parse("matches") == FL_OP_MATCHES);
	CHECK(fl_cond_op_parse("eq") == -1);
	CHECK(fl_cond_op_parse("EQUALS") == -1);
	CHECK(fl_cond_op_parse("equals ") == -1);
	CHECK(fl_cond_op_parse("equal") == -1);
	CHECK(fl_cond_op_parse("equalss") == -1);
	CHECK(fl_cond_op_parse("") == -1);
	CHECK(fl_cond_op_parse(NULL) == -1);
	/* counted form: a prefix of a longer buffer */
	CHECK(fl_cond_op_parse_len("inx", 2) == FL_OP_IN);
	CHECK(fl_cond_op_parse_len("in", 0) == -1);
	CHECK(fl_cond_op_parse_len("in", -1) == -1);
	CHECK(fl_cond_op_name((fl_cond_op) FL_OP_COUNT) == NULL);
	CHECK(fl_cond_op_name((fl_cond_op) -1) == NULL);
	CHECK(FL_OP_DEFAULT == FL_OP_EQUALS);
}

/* Per-operator properties: right needed, array needed, missing left. */
static void
test_operator_properties(void)
{
	for (int i = 0; i < FL_OP_COUNT; i++)
	{
		fl_cond_op	op = (fl_cond_op) i;
		bool		unary = op == FL_OP_IS_EMPTY || op == FL_OP_IS_NOT_EMPTY ||
			op == FL_OP_EXISTS || op == FL_OP_NOT_EXISTS;

		CHECK(fl_cond_op_needs_right(op) == !unary);
		CHECK(fl_cond_op_needs_array(op) == (op == FL_OP_IN || op == FL_OP_NOT_IN));
		if (!unary)
			CHECK(fl_cond_op_on_missing(op) == FL_TRI_UNDECIDED);
	}
	CHECK(fl_cond_op_on_missing(FL_OP_EXISTS) == FL_TRI_FALSE);
	CHECK(fl_cond_op_on_missing(FL_OP_NOT_EXISTS) == FL_TRI_TRUE);
	CHECK(fl_cond_op_on_missing(FL_OP_IS_EMPTY) == FL_TRI_TRUE);
	CHECK(fl_cond_op_on_missing(FL_OP_IS_NOT_EMPTY) == FL_TRI_FALSE);
}

int
main(void)
{
	test_truth_tables();
	test_groups();
	test_operators();
	test_operator_properties();
	UNIT_DONE();
}
