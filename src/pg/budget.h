/*
 * budget.h
 *	  Reservations against the acting user's budgets and the run's caps
 *	  before a costly call, settled with its real usage (16_budgets.sql).
 */
#ifndef FL_BUDGET_H
#define FL_BUDGET_H

#include "nodes/fl_nodes.h"
#include "pg/http.h"

/* flowent.llm_max_tokens: the completion bound of a held call without maxTokens */
extern int	fl_llm_max_tokens;

/*
 * Hold the most a call of `model` can cost (prompt and completion tokens,
 * upper bounds) for the node of `call`.  False with res failed
 * BUDGET_EXCEEDED when a budget or cap would be passed; else true, and
 * *held says whether anything is held (no budget and no cap: nothing).
 */
extern bool fl_budget_reserve(FlNodeCall *call, FlNodeResult *res, const char *model,
							  int64 prompt_tokens, int64 completion_tokens, bool *held);

/*
 * Settle the node's reservation, if it has one: with the call's real usage,
 * or (charged_in_full) as spent whole, when the call may have been made
 * but its usage is unknown.
 */
extern void fl_budget_settle(FlNodeCall *call, int64 tokens, Numeric cost, bool charged_in_full);

#endif
