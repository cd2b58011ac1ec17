/*
 * budget.c
 *	  Budget reservations of costly calls (budget.h): the SQL side,
 *	  flowent._budget_reserve and _budget_settle_node, locks the user's
 *	  budget rows, so the check and the hold are one step for all runs.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "pg/budget.h"
#include "pg/jsonb_util.h"

int			fl_llm_max_tokens = 4096;

/* A numeric run option (maxCostUsd, maxTokens), or NULL. */
static Numeric
cap_option(FlExec *ex, const char *key)
{
	JsonbValue	v;

	if (ex->options && jb_get(ex->options, key, &v) && v.type == jbvNumeric)
		return v.val.numeric;
	return NULL;
}

static char *
detail_text(Jsonb *answer, const char *key)
{
	JsonbValue	v;

	if (!jb_get(answer, key, &v) || v.type == jbvNull)
		return NULL;
	if (v.type == jbvString)
		return jbv_cstring(&v);
	return jsonb_to_cstring(jbv_to_jsonb(&v));
}

/* BUDGET_EXCEEDED with what would be passed: spent, limit, the node. */
static void
exceeded(FlNodeCall *call, FlNodeResult *res, Jsonb *answer)
{
	char	   *scope = detail_text(answer, "scope");
	char	   *unit = detail_text(answer, "unit");
	bool		usd = unit && strcmp(unit, "usd") == 0;
	const char *what = usd ? " USD" : " tokens";
	JB			b = {0};

	if (scope && strcmp(scope, "run") == 0)
		fl_fail(res, "BUDGET_EXCEEDED",
				"node \"%s\": the call may cost up to %s%s, and this run may spend %s%s (options.%s); it has spent %s",
				call->def->id, detail_text(answer, "needed"), what, detail_text(answer, "limit"), what,
				usd ? "maxCostUsd" : "maxTokens", detail_text(answer, "spent"));
	else
		fl_fail(res, "BUDGET_EXCEEDED",
				"node \"%s\": the call may cost up to %s%s; user \"%s\"'s %s budget is %s%s, of which %s is spent and %s held by calls in flight",
				call->def->id, detail_text(answer, "needed"), what, call->ex->user_id,
				detail_text(answer, "period"), detail_text(answer, "limit"), what,
				detail_text(answer, "spent"), detail_text(answer, "reserved"));
	jb_obj_begin(&b);
	jb_kv_str(&b, "nodeId", call->def->id);
	jb_kv_str(&b, "userId", call->ex->user_id);
	jb_kv_merge(&b, answer, "ok");
	jb_obj_end(&b);
	res->error_details = jb_finish(&b);
}

bool
fl_budget_reserve(FlNodeCall *call, FlNodeResult *res, const char *model,
				  int64 prompt_tokens, int64 completion_tokens, bool *held)
{
	static SPIPlanPtr plan = NULL;
	FlExec	   *ex = call->ex;
	Oid			types[12] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
	BOOLOID, NUMERICOID, INT8OID, NUMERICOID, INT8OID};
	Datum		a[12];
	char		nulls[12];
	Numeric		cap_usd = cap_option(ex, "maxCostUsd");
	Numeric		cap_tokens = cap_option(ex, "maxTokens");
	JsonbValue	skip;
	bool		isnull;
	Jsonb	   *answer;
	JsonbValue	v;

	*held = false;
	memset(nulls, ' ', sizeof(nulls));
	a[0] = CStringGetTextDatum(ex->user_id);
	a[1] = CStringGetTextDatum(ex->id_str);
	a[2] = CStringGetTextDatum(call->def->id);
	a[3] = CStringGetTextDatum(ex->iteration);
	a[4] = CStringGetTextDatum(model);
	a[5] = Int64GetDatum(prompt_tokens);
	a[6] = Int64GetDatum(completion_tokens);
	a[7] = BoolGetDatum(ex->options && jb_get(ex->options, "skipBudgetCheck", &skip) &&
						skip.type == jbvBool && skip.val.boolean);
	if (cap_usd)
		a[8] = NumericGetDatum(cap_usd);
	else
		nulls[8] = 'n';
	if (cap_tokens)
		a[9] = DirectFunctionCall1(numeric_int8, NumericGetDatum(cap_tokens));
	else
		nulls[9] = 'n';
	a[10] = NumericGetDatum(ex->total_cost);
	a[11] = Int64GetDatum(ex->total_tokens);
	if (fl_owner_query(&plan,
					   "SELECT flowent._budget_reserve($1, $2::uuid, $3, $4, flowent._max_cost($5, $6, $7), $6 + $7, $8, "
					   "$9, $10, $11, $12)",
					   12, types, a, nulls, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not reserve the budget of node \"%s\"", call->def->id);
	answer = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!jb_get(answer, "ok", &v) || v.type != jbvBool || !v.val.boolean)
	{
		exceeded(call, res, answer);
		return false;
	}
	*held = jb_get(answer, "id", &v) && v.type == jbvNumeric;
	return true;
}

void
fl_budget_settle(FlNodeCall *call, int64 tokens, Numeric cost, bool charged_in_full)
{
	static SPIPlanPtr plan = NULL;
	FlExec	   *ex = call->ex;
	Oid			types[5] = {TEXTOID, TEXTOID, TEXTOID, NUMERICOID, INT8OID};
	Datum		a[5];
	char		nulls[5] = "     ";

	a[0] = CStringGetTextDatum(ex->id_str);
	a[1] = CStringGetTextDatum(call->def->id);
	a[2] = CStringGetTextDatum(ex->iteration);
	if (charged_in_full)
		nulls[3] = nulls[4] = 'n';
	else
	{
		a[3] = cost ? NumericGetDatum(cost) : NumericGetDatum(int64_to_numeric(0));
		a[4] = Int64GetDatum(tokens);
	}
	if (fl_owner_query(&plan, "SELECT flowent._budget_settle_node($1::uuid, $2, $3, $4, $5)",
					   5, types, a, nulls, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not settle the budget of node \"%s\"", call->def->id);
}
