/*
 * rules.h
 *	  Rule evaluation shared by the condition, switch and filter nodes.
 *
 * A rule is {left, operator, right}; a group is {combinator, conditions}
 * and nests.  These node types resolve their own templates
 * (FL_NT_SELF_RESOLVE): `left` (and switch's `value`) leniently, so a path
 * that does not resolve makes the rule *undecided* instead of failing the
 * node; every other field strictly.  Results are three-valued (core/cond.h).
 *
 * Operator semantics (DESIGN Appendix A/B):
 *	- numbers compare exactly as numerics (19.99 equals 19.990); strings
 *	  compare by bytes (memcmp order: "B" < "a", no collation), which also
 *	  orders ISO-8601 timestamps of one format; booleans equal only booleans;
 *	  values of different types are never equal nor ordered: the positive
 *	  operators give false and their negations (not_equals, not_contains,
 *	  not_in) true.  gt/gte/lt/lte order numbers and strings only.
 *	- contains: substring of a string, deep-equal element of an array, key
 *	  of an object.  starts_with/ends_with: strings only.
 *	- matches: PostgreSQL's `~` (advanced regex, unanchored, case-sensitive;
 *	  `(?i)` switches case off); a bad regex is INVALID_CONFIG.
 *	- in/not_in: `right` must be an array (else INVALID_CONFIG).
 *	- is_empty: null, "", [], {} or missing.  exists: the path resolves
 *	  (a JSON null exists).
 *	- a missing `left`: exists false, not_exists true, is_empty true,
 *	  is_not_empty false, anything else undecided.
 *	- a missing `operator` means equals; `right` is required by every
 *	  operator but the four unary ones, which ignore it.
 * Every rule of a group is evaluated (no short cut), so a configuration
 * error shows up whatever the data.
 */
#ifndef FL_RULES_H
#define FL_RULES_H

#include "core/cond.h"
#include "nodes/fl_nodes.h"

typedef fl_tri FlTri;

/*
 * Evaluate a list of rules and groups.
 *	conditions	the raw (unresolved) list from the node's data
 *	combinator	"and"/"or" (any case); NULL means and
 *	path_prefix	prefix for messages, e.g. "" or "conditions[2]."; the items
 *				are named "<prefix>conditions[i]"
 * On a configuration or resolution error the node fails (res is set),
 * *failed is true and the result is meaningless.
 */
extern FlTri fl_eval_rules(FlNodeCall *call, FlNodeResult *res,
						   const JsonbValue *conditions, const char *combinator,
						   const char *path_prefix, bool *failed);

/*
 * Evaluate a group object {combinator?, conditions} whose fields are still
 * raw: combinator is resolved strictly.  The node's data itself is such an
 * object (condition, filter), with path "" for its top level.
 */
extern FlTri fl_eval_group(FlNodeCall *call, FlNodeResult *res,
						   const JsonbValue *group, const char *path,
						   bool *failed);

/*
 * One operator on resolved values.  left_missing: `left` did not resolve
 * (left is then ignored).  right may be NULL for unary operators.  path names
 * the rule in messages (e.g. "conditions[1]" or "cases[0]").  Fails the node
 * with INVALID_CONFIG for a bad regex, a non-array `right` of in/not_in or a
 * missing `right`.
 */
extern FlTri fl_eval_operator(FlNodeCall *call, FlNodeResult *res,
							  fl_cond_op op, const JsonbValue *left, bool left_missing,
							  const JsonbValue *right, const char *path, bool *failed);

/*
 * Parse an already resolved `operator` value (absent/NULL: equals).
 * Fails the node naming "<path>.operator" and the valid names.
 */
extern bool fl_parse_operator(FlNodeCall *call, FlNodeResult *res,
							  const JsonbValue *opval, const char *path,
							  fl_cond_op *op);

/*
 * Resolve one raw field of the node's data.  lenient: a path that does not
 * resolve sets *missing instead of failing.  field names it in messages.
 * Returns false (node failed) on a resolution error.
 */
extern bool fl_resolve_field(FlNodeCall *call, FlNodeResult *res,
							 const JsonbValue *raw, bool lenient,
							 const char *field, JsonbValue *out, bool *missing);

#endif
