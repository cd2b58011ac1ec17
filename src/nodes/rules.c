/*
 * rules.c
 *	  Rule evaluation shared by the condition, switch and filter nodes.
 *
 * The node's data arrives raw (FL_NT_SELF_RESOLVE).  Walking a rule list,
 * each field is resolved where it is used: `left` leniently, everything
 * else strictly.  A list given as one template ("{{variables.rules}}") is
 * resolved strictly as a whole and then taken as data: substitution is one
 * pass, so what it produced is never read again as a template.
 *
 * Semantics are documented in rules.h.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "nodes/rules.h"
#include "pg/jsonb_util.h"

static FlTri eval_list(FlNodeCall *call, FlNodeResult *res, const JsonbValue *list,
					   bool raw, fl_combinator comb, const char *prefix, bool *failed);
static FlTri eval_group_obj(FlNodeCall *call, FlNodeResult *res, const JsonbValue *group,
							bool raw, const char *path, bool *failed);

/* The id of the node being run, for messages. */
static const char *
node_id(FlNodeCall *call)
{
	return call->def && call->def->id ? call->def->id : "?";
}

/* Fail the node with INVALID_CONFIG, naming the node and the field path. */
static void
config_error(FlNodeCall *call, FlNodeResult *res, bool *failed,
			 const char *field, const char *msg)
{
	fl_fail(res, "INVALID_CONFIG", "node \"%s\": %s: %s", node_id(call), field, msg);
	*failed = true;
}

/*
 * Bring a value into the shape the jbv_* helpers read: a scalar wrapped in
 * a binary container is unwrapped, an in-memory array/object is packed into
 * a binary container.
 */
static void
normalise_value(JsonbValue *v)
{
	if (v->type == jbvBinary && JsonContainerIsScalar(v->val.binary.data))
	{
		JsonbValue	s;

		JsonbExtractScalar(v->val.binary.data, &s);
		*v = s;
	}
	else if (v->type == jbvArray || v->type == jbvObject)
		jbv_from_jsonb(JsonbValueToJsonb(v), v);
}

/* Resolve one raw field; see rules.h. */
bool
fl_resolve_field(FlNodeCall *call, FlNodeResult *res, const JsonbValue *raw,
				 bool lenient, const char *field, JsonbValue *out, bool *missing)
{
	FlResolveError err = {0};
	bool		miss = false;

	if (!fl_resolve(call->ex, call->node, raw, out, lenient, &miss, &err))
	{
		if (err.message)
			fl_fail(res, err.code ? err.code : "VARIABLE_NOT_FOUND", "%s", err.message);
		else
			fl_fail(res, err.code ? err.code : "VARIABLE_NOT_FOUND",
					"node \"%s\": %s: could not be resolved", node_id(call), field);
		return false;
	}
	if (missing)
		*missing = miss;
	if (miss)
	{
		/* lenient miss: the value is meaningless, make it a harmless null */
		out->type = jbvNull;
		return true;
	}
	normalise_value(out);
	return true;
}

/* A field's value: resolved when raw, else taken as it is. */
static bool
field_value(FlNodeCall *call, FlNodeResult *res, const JsonbValue *v, bool raw,
			bool lenient, const char *field, JsonbValue *out, bool *missing,
			bool *failed)
{
	if (missing)
		*missing = false;
	if (!raw)
	{
		*out = *v;
		normalise_value(out);
		return true;
	}
	if (!fl_resolve_field(call, res, v, lenient, field, out, missing))
	{
		*failed = true;
		return false;
	}
	return true;
}

/* Parse a resolved `operator` value; see rules.h. */
bool
fl_parse_operator(FlNodeCall *call, FlNodeResult *res, const JsonbValue *opval,
				  const char *path, fl_cond_op *op)
{
	int			k;

	*op = FL_OP_DEFAULT;
	if (opval == NULL || opval->type == jbvNull)
		return true;
	if (opval->type != jbvString)
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": %s.operator: must be a string, got %s; expected one of %s",
				node_id(call), path, jbv_type_name(opval), fl_cond_op_list());
		return false;
	}
	k = fl_cond_op_parse_len(opval->val.string.val, opval->val.string.len);
	if (k < 0)
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": %s.operator: unknown operator \"%s\"; expected one of %s",
				node_id(call), path, jbv_cstring(opval), fl_cond_op_list());
		return false;
	}
	*op = (fl_cond_op) k;
	return true;
}

/* Is a value empty: null, "", [] or {}? */
static bool
value_is_empty(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return true;
		case jbvString:
			return v->val.string.len == 0;
		case jbvBinary:
			return JsonContainerSize(v->val.binary.data) == 0;
		default:
			return false;
	}
}

/*
 * Order two values.  Returns false when they are not comparable (different
 * types, or types without an order); else *cmp is <0, 0 or >0.  Numbers by
 * exact numeric value, strings by bytes.
 */
static bool
value_order(const JsonbValue *a, const JsonbValue *b, int *cmp)
{
	if (a->type == jbvNumeric && b->type == jbvNumeric)
	{
		*cmp = DatumGetInt32(DirectFunctionCall2(numeric_cmp,
												 NumericGetDatum(a->val.numeric),
												 NumericGetDatum(b->val.numeric)));
		return true;
	}
	if (a->type == jbvString && b->type == jbvString)
	{
		int			la = a->val.string.len,
					lb = b->val.string.len;
		int			r = memcmp(a->val.string.val, b->val.string.val, Min(la, lb));

		*cmp = r != 0 ? r : (la > lb) - (la < lb);
		return true;
	}
	return false;
}

/* Does hay[0..hlen) contain needle[0..nlen)? */
static bool
bytes_contain(const char *hay, int hlen, const char *needle, int nlen)
{
	if (nlen == 0)
		return true;
	for (int i = 0; i + nlen <= hlen; i++)
	{
		const char *p = memchr(hay + i, needle[0], hlen - nlen - i + 1);

		if (p == NULL)
			return false;
		i = p - hay;
		if (memcmp(p, needle, nlen) == 0)
			return true;
	}
	return false;
}

/* Is v deep-equal to an element of the array arr? */
static bool
array_has(const JsonbValue *arr, const JsonbValue *v)
{
	int			n = jbv_array_size(arr);

	for (int i = 0; i < n; i++)
	{
		JsonbValue	e;

		if (jbv_get_index(arr, i, &e) && jbv_equal(&e, v))
			return true;
	}
	return false;
}

/* contains: substring, array element, or object key. */
static bool
value_contains(const JsonbValue *l, const JsonbValue *r)
{
	if (l->type == jbvString)
		return r->type == jbvString &&
			bytes_contain(l->val.string.val, l->val.string.len,
						  r->val.string.val, r->val.string.len);
	if (jbv_is_array(l))
		return array_has(l, r);
	if (jbv_is_object(l) && r->type == jbvString)
	{
		JsonbValue	dummy;

		return getKeyJsonValueFromContainer(l->val.binary.data, r->val.string.val,
											r->val.string.len, &dummy) != NULL;
	}
	return false;
}

/*
 * Check that a regex compiles, without raising: PostgreSQL's
 * RE_compile_and_cache would ERROR, and a bad pattern is a configuration
 * error of the node, not of the whole run.  On failure errbuf holds the
 * regex library's message.
 */
static bool
regex_compiles(const char *pat, int len, char *errbuf, size_t errlen)
{
	/* the last pattern that compiled: a filter tests one pattern per element */
	static char last_ok[1024];
	static int	last_ok_len = -1;
	pg_wchar   *wpat;
	int			wlen;
	regex_t		re;
	int			rc;

	if (len == last_ok_len && memcmp(pat, last_ok, len) == 0)
		return true;
	wpat = palloc((len + 1) * sizeof(pg_wchar));
	wlen = pg_mb2wchar_with_len(pat, wpat, len);
	rc = pg_regcomp(&re, wpat, wlen, REG_ADVANCED, DEFAULT_COLLATION_OID);
	pfree(wpat);
	if (rc != REG_OKAY)
	{
		/* a failed compile frees itself: no pg_regfree */
		pg_regerror(rc, &re, errbuf, errlen);
		return false;
	}
	pg_regfree(&re);
	if (len <= (int) sizeof(last_ok))
	{
		memcpy(last_ok, pat, len);
		last_ok_len = len;
	}
	return true;
}

/* left ~ right with PostgreSQL's regex (cached, interruptible). */
static bool
regex_match(const JsonbValue *l, const JsonbValue *r)
{
	text	   *subject = cstring_to_text_with_len(l->val.string.val, l->val.string.len);
	text	   *pattern = cstring_to_text_with_len(r->val.string.val, r->val.string.len);

	return DatumGetBool(DirectFunctionCall2Coll(textregexeq, DEFAULT_COLLATION_OID,
												PointerGetDatum(subject),
												PointerGetDatum(pattern)));
}

/* One operator on resolved values; see rules.h. */
FlTri
fl_eval_operator(FlNodeCall *call, FlNodeResult *res, fl_cond_op op,
				 const JsonbValue *left, bool left_missing,
				 const JsonbValue *right, const char *path, bool *failed)
{
	int			cmp;

	*failed = false;

	/* configuration checks first, so they do not depend on the data */
	if (fl_cond_op_needs_right(op) && right == NULL)
	{
		config_error(call, res, failed, psprintf("%s.right", path),
					 psprintf("required by operator %s", fl_cond_op_name(op)));
		return FL_TRI_UNDECIDED;
	}
	if (fl_cond_op_needs_array(op) && !jbv_is_array(right))
	{
		config_error(call, res, failed, psprintf("%s.right", path),
					 psprintf("operator %s needs an array, got %s",
							  fl_cond_op_name(op), jbv_type_name(right)));
		return FL_TRI_UNDECIDED;
	}
	if (op == FL_OP_MATCHES)
	{
		char		errbuf[256];

		if (right->type != jbvString)
		{
			config_error(call, res, failed, psprintf("%s.right", path),
						 psprintf("operator matches needs a regular expression string, got %s",
								  jbv_type_name(right)));
			return FL_TRI_UNDECIDED;
		}
		if (!regex_compiles(right->val.string.val, right->val.string.len,
							errbuf, sizeof(errbuf)))
		{
			config_error(call, res, failed, psprintf("%s.right", path),
						 psprintf("invalid regular expression \"%s\": %s",
								  jbv_cstring(right), errbuf));
			return FL_TRI_UNDECIDED;
		}
	}

	if (left_missing)
		return fl_cond_op_on_missing(op);

	switch (op)
	{
		case FL_OP_EQUALS:
			return fl_tri_from_bool(jbv_equal(left, right));
		case FL_OP_NOT_EQUALS:
			return fl_tri_from_bool(!jbv_equal(left, right));
		case FL_OP_GT:
			return fl_tri_from_bool(value_order(left, right, &cmp) && cmp > 0);
		case FL_OP_GTE:
			return fl_tri_from_bool(value_order(left, right, &cmp) && cmp >= 0);
		case FL_OP_LT:
			return fl_tri_from_bool(value_order(left, right, &cmp) && cmp < 0);
		case FL_OP_LTE:
			return fl_tri_from_bool(value_order(left, right, &cmp) && cmp <= 0);
		case FL_OP_CONTAINS:
			return fl_tri_from_bool(value_contains(left, right));
		case FL_OP_NOT_CONTAINS:
			return fl_tri_from_bool(!value_contains(left, right));
		case FL_OP_STARTS_WITH:
			return fl_tri_from_bool(left->type == jbvString && right->type == jbvString &&
									left->val.string.len >= right->val.string.len &&
									memcmp(left->val.string.val, right->val.string.val,
										   right->val.string.len) == 0);
		case FL_OP_ENDS_WITH:
			return fl_tri_from_bool(left->type == jbvString && right->type == jbvString &&
									left->val.string.len >= right->val.string.len &&
									memcmp(left->val.string.val + left->val.string.len -
										   right->val.string.len,
										   right->val.string.val,
										   right->val.string.len) == 0);
		case FL_OP_MATCHES:
			return fl_tri_from_bool(left->type == jbvString && regex_match(left, right));
		case FL_OP_IN:
			return fl_tri_from_bool(array_has(right, left));
		case FL_OP_NOT_IN:
			return fl_tri_from_bool(!array_has(right, left));
		case FL_OP_IS_EMPTY:
			return fl_tri_from_bool(value_is_empty(left));
		case FL_OP_IS_NOT_EMPTY:
			return fl_tri_from_bool(!value_is_empty(left));
		case FL_OP_EXISTS:
			return FL_TRI_TRUE;
		case FL_OP_NOT_EXISTS:
			return FL_TRI_FALSE;
	}
	elog(ERROR, "unexpected condition operator %d", (int) op);
	return FL_TRI_UNDECIDED;	/* keep compiler quiet */
}

/* Evaluate one rule object {left, operator, right} at path. */
static FlTri
eval_rule(FlNodeCall *call, FlNodeResult *res, const JsonbValue *rule, bool raw,
		  const char *path, bool *failed)
{
	JsonbValue	raw_left,
				raw_op,
				raw_right,
				opv,
				left,
				right;
	bool		has_left,
				has_op,
				has_right,
				missing = false;
	fl_cond_op	op;

	has_left = jbv_get_key(rule, "left", &raw_left);
	has_op = jbv_get_key(rule, "operator", &raw_op);
	has_right = jbv_get_key(rule, "right", &raw_right);

	if (has_op && !field_value(call, res, &raw_op, raw, false,
							   psprintf("%s.operator", path), &opv, NULL, failed))
		return FL_TRI_UNDECIDED;
	if (!fl_parse_operator(call, res, has_op ? &opv : NULL, path, &op))
	{
		*failed = true;
		return FL_TRI_UNDECIDED;
	}
	if (!has_left)
	{
		config_error(call, res, failed, psprintf("%s.left", path), "required");
		return FL_TRI_UNDECIDED;
	}
	if (fl_cond_op_needs_right(op) && !has_right)
	{
		config_error(call, res, failed, psprintf("%s.right", path),
					 psprintf("required by operator %s", fl_cond_op_name(op)));
		return FL_TRI_UNDECIDED;
	}
	if (!field_value(call, res, &raw_left, raw, true, psprintf("%s.left", path),
					 &left, &missing, failed))
		return FL_TRI_UNDECIDED;
	if (fl_cond_op_needs_right(op) &&
		!field_value(call, res, &raw_right, raw, false, psprintf("%s.right", path),
					 &right, NULL, failed))
		return FL_TRI_UNDECIDED;
	return fl_eval_operator(call, res, op, &left, missing,
							fl_cond_op_needs_right(op) ? &right : NULL, path, failed);
}

/* Evaluate one item of a list: a rule or a nested group. */
static FlTri
eval_item(FlNodeCall *call, FlNodeResult *res, const JsonbValue *item, bool raw,
		  const char *path, bool *failed)
{
	JsonbValue	dummy;
	bool		is_rule,
				is_group;

	if (!jbv_is_object(item))
	{
		config_error(call, res, failed, path,
					 psprintf("expected a rule {left, operator, right} or a group {combinator, conditions}, got %s",
							  jbv_type_name(item)));
		return FL_TRI_UNDECIDED;
	}
	is_rule = jbv_get_key(item, "left", &dummy) || jbv_get_key(item, "operator", &dummy) ||
		jbv_get_key(item, "right", &dummy);
	is_group = jbv_get_key(item, "conditions", &dummy);
	if (is_group && !is_rule)
		return eval_group_obj(call, res, item, raw, path, failed);
	if (is_rule && !is_group)
		return eval_rule(call, res, item, raw, path, failed);
	config_error(call, res, failed, path,
				 is_group ?
				 "has both rule fields (left, operator, right) and group fields (conditions)" :
				 "expected a rule {left, operator, right} or a group {combinator, conditions}, got an object with neither");
	return FL_TRI_UNDECIDED;
}

/*
 * Evaluate a list of items (field "<prefix>conditions") combined with comb.
 * Every item is evaluated; the first failure stops the walk.
 */
static FlTri
eval_list(FlNodeCall *call, FlNodeResult *res, const JsonbValue *list, bool raw,
		  fl_combinator comb, const char *prefix, bool *failed)
{
	const char *field = psprintf("%sconditions", prefix);
	JsonbValue	resolved;
	FlTri		acc = fl_tri_identity(comb);
	int			n;

	/* a whole-list template: resolve it strictly, then it is data */
	if (raw && list->type == jbvString)
	{
		if (!field_value(call, res, list, true, false, field, &resolved, NULL, failed))
			return FL_TRI_UNDECIDED;
		list = &resolved;
		raw = false;
	}
	if (!jbv_is_array(list))
	{
		config_error(call, res, failed, field,
					 psprintf("must be an array of rules or groups, got %s",
							  jbv_type_name(list)));
		return FL_TRI_UNDECIDED;
	}
	n = jbv_array_size(list);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	item;
		FlTri		t;

		CHECK_FOR_INTERRUPTS();
		if (!jbv_get_index(list, i, &item))
			elog(ERROR, "could not read element %d of %s", i, field);
		t = eval_item(call, res, &item, raw, psprintf("%s[%d]", field, i), failed);
		if (*failed)
			return FL_TRI_UNDECIDED;
		acc = fl_tri_combine(comb, acc, t);
	}
	return acc;
}

/*
 * Read a group's `combinator` (resolved when raw): absent or null means
 * and.  Returns false (node failed) when it is neither and nor or.
 */
static bool
group_combinator(FlNodeCall *call, FlNodeResult *res, const JsonbValue *group,
				 bool raw, const char *path, fl_combinator *comb, bool *failed)
{
	JsonbValue	rawc,
				c;
	const char *field = psprintf("%scombinator", path);
	int			k;

	*comb = FL_COMB_AND;
	if (!jbv_get_key(group, "combinator", &rawc))
		return true;
	if (!field_value(call, res, &rawc, raw, false, field, &c, NULL, failed))
		return false;
	if (c.type == jbvNull)
		return true;
	k = c.type == jbvString ? fl_cond_combinator_parse(jbv_cstring(&c)) : -1;
	if (k < 0)
	{
		config_error(call, res, failed, field,
					 c.type == jbvString ?
					 psprintf("unknown combinator \"%s\"; expected and or or", jbv_cstring(&c)) :
					 psprintf("must be \"and\" or \"or\", got %s", jbv_type_name(&c)));
		return false;
	}
	*comb = (fl_combinator) k;
	return true;
}

/*
 * A group object at path ("" for the node's data, else "conditions[i]"):
 * its combinator and its conditions list.
 */
static FlTri
eval_group_obj(FlNodeCall *call, FlNodeResult *res, const JsonbValue *group,
			   bool raw, const char *path, bool *failed)
{
	const char *prefix = path[0] ? psprintf("%s.", path) : "";
	fl_combinator comb;
	JsonbValue	list;

	/* groups nest as deep as the JSON does */
	check_stack_depth();
	if (!group_combinator(call, res, group, raw, prefix, &comb, failed))
		return FL_TRI_UNDECIDED;
	if (!jbv_get_key(group, "conditions", &list))
	{
		config_error(call, res, failed, psprintf("%sconditions", prefix), "required");
		return FL_TRI_UNDECIDED;
	}
	return eval_list(call, res, &list, raw, comb, prefix, failed);
}

/* Public: a raw group object; see rules.h. */
FlTri
fl_eval_group(FlNodeCall *call, FlNodeResult *res, const JsonbValue *group,
			  const char *path, bool *failed)
{
	*failed = false;
	if (!jbv_is_object(group))
	{
		config_error(call, res, failed, path && path[0] ? path : "data",
					 psprintf("must be an object, got %s", jbv_type_name(group)));
		return FL_TRI_UNDECIDED;
	}
	return eval_group_obj(call, res, group, true, path ? path : "", failed);
}

/* Public: a raw list with a resolved combinator; see rules.h. */
FlTri
fl_eval_rules(FlNodeCall *call, FlNodeResult *res, const JsonbValue *conditions,
			  const char *combinator, const char *path_prefix, bool *failed)
{
	int			k = FL_COMB_AND;
	const char *prefix = path_prefix ? path_prefix : "";

	*failed = false;
	if (combinator != NULL)
	{
		k = fl_cond_combinator_parse(combinator);
		if (k < 0)
		{
			config_error(call, res, failed, psprintf("%scombinator", prefix),
						 psprintf("unknown combinator \"%s\"; expected and or or", combinator));
			return FL_TRI_UNDECIDED;
		}
	}
	return eval_list(call, res, conditions, true, (fl_combinator) k, prefix, failed);
}
