/*
 * data_transform.c
 *	  The data-transform node: one SQL expression or a jsonpath over the input.
 *
 * language "sql" (default): `expression` is evaluated as a single SQL
 * expression, read-only, with the jsonb columns `input` and `state` in scope;
 * the output is its value converted with to_jsonb.  language "jsonpath": the
 * output is the array of matches of `expression` over the input, with the
 * workflow variables available as jsonpath variables ($name).
 *
 * The expression is SQL text, so {{…}} is refused in it (Appendix B): values
 * reach it only through `input`.  Prepared plans and parsed jsonpaths are
 * cached per backend, because this node sits on the hot path.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/scanner.h"
#include "common/keywords.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/jsonpath.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"
#include "pg/subxact.h"

/* cached entries in all, before the cache is emptied */
#ifndef DT_CACHE_MAX
#define DT_CACHE_MAX 1024
#endif

typedef enum DtKind
{
	DT_SQL,
	DT_JSONPATH
} DtKind;

typedef struct DtKey
{
	uint32		hash;			/* of the expression text */
	Oid			userid;			/* plans are per role; InvalidOid for paths */
	int			kind;			/* DtKind */
} DtKey;

/* One cached expression; entries with equal keys are chained. */
typedef struct DtItem
{
	struct DtItem *next;
	char	   *expr;
	SPIPlanPtr	plan;			/* DT_SQL */
	JsonPath   *path;			/* DT_JSONPATH */
} DtItem;

typedef struct DtEntry
{
	DtKey		key;
	DtItem	   *items;
} DtEntry;

static HTAB *dt_cache = NULL;
static MemoryContext dt_cache_cxt = NULL;
static int	dt_cache_count = 0;

/*
 * The backend-local cache, created on first use.  It only grows, up to
 * DT_CACHE_MAX items; past that, expressions are prepared for one use.  No
 * entry is ever freed, so a plan cannot vanish under a nested run (an
 * expression that calls flowent.run).
 */
static void
dt_cache_init(void)
{
	HASHCTL		ctl;

	if (dt_cache != NULL)
		return;
	dt_cache_cxt = AllocSetContextCreate(TopMemoryContext,
										 "flowent data-transform cache",
										 ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(DtKey);
	ctl.entrysize = sizeof(DtEntry);
	ctl.hcxt = dt_cache_cxt;
	dt_cache = hash_create("flowent data-transform cache", 128, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
dt_cache_key(DtKey *key, const char *expr, Oid userid, DtKind kind)
{
	memset(key, 0, sizeof(*key));
	key->hash = hash_bytes((const unsigned char *) expr, strlen(expr));
	key->userid = userid;
	key->kind = kind;
}

/* The cached item of an expression, or NULL. */
static DtItem *
dt_cache_lookup(const char *expr, Oid userid, DtKind kind)
{
	DtKey		key;
	DtEntry    *e;

	dt_cache_init();
	dt_cache_key(&key, expr, userid, kind);
	e = hash_search(dt_cache, &key, HASH_FIND, NULL);
	if (e == NULL)
		return NULL;
	for (DtItem *it = e->items; it; it = it->next)
		if (strcmp(it->expr, expr) == 0)
			return it;
	return NULL;
}

/* Is there room for one more item? */
static bool
dt_cache_has_room(void)
{
	dt_cache_init();
	return dt_cache_count < DT_CACHE_MAX;
}

/* Add an item (plan or path already made long-lived) to the cache. */
static void
dt_cache_add(const char *expr, Oid userid, DtKind kind, SPIPlanPtr plan, JsonPath *path)
{
	DtKey		key;
	DtEntry    *e;
	bool		found;
	DtItem	   *it;

	dt_cache_init();
	dt_cache_key(&key, expr, userid, kind);
	e = hash_search(dt_cache, &key, HASH_ENTER, &found);
	if (!found)
		e->items = NULL;
	it = MemoryContextAllocZero(dt_cache_cxt, sizeof(DtItem));
	it->expr = MemoryContextStrdup(dt_cache_cxt, expr);
	it->plan = plan;
	it->path = path;
	it->next = e->items;
	e->items = it;
	dt_cache_count++;
}

/*
 * Does SQL text hold a ';' token?  Uses the core lexer, so semicolons in
 * string literals, quoted identifiers, dollar quotes and comments do not
 * count.  (A lexer error such as an unterminated quote is raised.)
 */
static bool
dt_has_semicolon(const char *expr)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	bool		found = false;
	int			tok;

	scanner = scanner_init(expr, &yyextra, &ScanKeywords, ScanKeywordTokens);
	while ((tok = core_yylex(&yylval, &yylloc, scanner)) != 0)
		if (tok == ';')
		{
			found = true;
			break;
		}
	scanner_finish(scanner);
	return found;
}

/*
 * Prepare the wrapper statement of an SQL expression.  The expression sits
 * on lines of its own so that a trailing "--" comment cannot swallow the
 * rest of the wrapper; anything that makes the text more than one statement
 * is refused.  Returns NULL (and fails the node) on refusal.
 */
static SPIPlanPtr
dt_prepare_sql(FlNodeCall *call, FlNodeResult *res, const char *expr)
{
	StringInfoData sql;
	Oid			argtypes[2] = {JSONBOID, JSONBOID};
	SPIPlanPtr	plan;
	List	   *sources;
	ListCell   *lc;

	if (dt_has_semicolon(expr))
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"expression\" must be one SQL expression; ';' separated statements are not allowed",
				call->def->id);
		return NULL;
	}
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT to_jsonb((\n%s\n)) FROM (SELECT $1::jsonb AS input, $2::jsonb AS state) AS flowent_ctx",
					 expr);
	plan = SPI_prepare(sql.data, 2, argtypes);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("node \"%s\": could not prepare expression: %s",
						call->def->id, SPI_result_code_string(SPI_result))));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
	{
		SPI_freeplan(plan);
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"expression\" must be one SQL expression, not several statements",
				call->def->id);
		return NULL;
	}
	/* one SELECT, and nothing that writes (FOR UPDATE, modifying WITH) */
	foreach(lc, ((CachedPlanSource *) linitial(sources))->query_list)
	{
		Query	   *q = lfirst_node(Query, lc);

		if (q->commandType != CMD_SELECT || q->rowMarks != NIL || q->hasModifyingCTE)
		{
			SPI_freeplan(plan);
			fl_fail(res, "INVALID_CONFIG",
					"node \"%s\": field \"expression\" must be a read-only SQL expression",
					call->def->id);
			return NULL;
		}
	}
	return plan;
}

/*
 * Execute a plan read-only: on a fresh snapshot (so it sees what earlier
 * nodes of this transaction wrote), with the transaction marked read-only
 * while it runs, so that writes hidden in volatile functions are refused
 * too.  The engine's subtransaction cleans up the snapshot after an error.
 */
static int
dt_execute_read_only(SPIPlanPtr plan, Datum *values, const char *nulls, long tcount)
{
	bool		save_ro = XactReadOnly;
	int			rc;

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	XactReadOnly = true;
	PG_TRY();
	{
		rc = SPI_execute_plan(plan, values, nulls, true, tcount);
	}
	PG_FINALLY();
	{
		XactReadOnly = save_ro;
	}
	PG_END_TRY();
	PopActiveSnapshot();
	return rc;
}

/* Run a prepared expression; the output in mcxt, or NULL when the node failed. */
static Jsonb *
dt_run_sql(FlNodeCall *call, FlNodeResult *res, SPIPlanPtr plan, Jsonb *input,
		   Jsonb *state, MemoryContext mcxt)
{
	Datum		values[2];
	char		nulls[2];
	int			rc;
	Jsonb	   *out = NULL;

	values[0] = input ? JsonbPGetDatum(input) : (Datum) 0;
	nulls[0] = input ? ' ' : 'n';
	values[1] = state ? JsonbPGetDatum(state) : (Datum) 0;
	nulls[1] = state ? ' ' : 'n';

	rc = dt_execute_read_only(plan, values, nulls, 2);
	fl_node_check_read_only(call->def->id);
	if (rc != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("node \"%s\": expression failed: %s",
						call->def->id, SPI_result_code_string(rc))));
	if (SPI_processed > 1)
	{
		SPI_freetuptable(SPI_tuptable);
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": expression returned more than one row (aggregate a set with jsonb_agg)",
				call->def->id);
		return NULL;
	}
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(mcxt);

			out = DatumGetJsonbPCopy(d);
			MemoryContextSwitchTo(old);
		}
	}
	SPI_freetuptable(SPI_tuptable);
	if (out == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(mcxt);

		out = jsonb_null();
		MemoryContextSwitchTo(old);
	}
	return out;
}

/*
 * Parse a jsonpath inside a subtransaction, so that a syntax error becomes
 * a message instead of an ERROR.  Errors that are not about the path itself
 * (cancel, out of memory) are re-thrown.
 */
typedef struct JsonPathParse
{
	const char *expr;
	MemoryContext target;
	JsonPath   *jp;
} JsonPathParse;

static void
parse_jsonpath(void *arg)
{
	JsonPathParse *p = arg;
	JsonPath   *parsed = DatumGetJsonPathP(DirectFunctionCall1(jsonpath_in, CStringGetDatum(p->expr)));

	/* only the result goes to the target context, not the parser's garbage */
	p->jp = MemoryContextAlloc(p->target, VARSIZE(parsed));
	memcpy(p->jp, parsed, VARSIZE(parsed));
}

static JsonPath *
dt_parse_jsonpath(const char *expr, MemoryContext target, char **errmsg_out)
{
	JsonPathParse p = {expr, target, NULL};
	ErrorData  *ed = fl_subxact_try(parse_jsonpath, &p);
	int			cat;

	*errmsg_out = NULL;
	if (ed == NULL)
		return p.jp;
	cat = ERRCODE_TO_CATEGORY(ed->sqlerrcode);
	if (cat != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
		cat != ERRCODE_DATA_EXCEPTION &&
		cat != ERRCODE_FEATURE_NOT_SUPPORTED)
		ReThrowError(ed);
	*errmsg_out = ed->message;
	return NULL;
}

/* Does a jsonpath mention a variable ($name or $"name")? */
static bool
dt_path_uses_vars(const char *expr)
{
	for (const char *p = expr; (p = strchr(p, '$')) != NULL; p++)
		if (p[1] == '"' || p[1] == '_' || isalpha((unsigned char) p[1]) ||
			IS_HIGHBIT_SET(p[1]))
			return true;
	return false;
}

/* Execute a data-transform node. */
static void
data_transform_execute(FlNodeCall *call, FlNodeResult *res)
{
	MemoryContext mcxt = CurrentMemoryContext;
	char	   *raw;
	char	   *language;
	char	   *expr;
	Jsonb	   *input = call->input;
	JsonbValue	v;
	DtItem	   *item;

	/* SQL text: no templates (checked on the unresolved data) */
	raw = jb_get_cstring(call->def->data, "expression");
	if (raw != NULL && fl_contains_template(raw))
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"expression\" must not contain {{…}} templates; reach values through \"input\" instead",
				call->def->id);
		return;
	}
	if (!fl_cfg_string(call, res, "language", false, &language))
		return;
	if (!fl_cfg_string(call, res, "expression", true, &expr))
		return;
	if (expr[strspn(expr, " \t\r\n")] == '\0')
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"expression\" is empty",
				call->def->id);
		return;
	}
	if (fl_cfg_value(call, "input", &v))
		input = jbv_to_jsonb(&v);

	if (language == NULL || strcmp(language, "sql") == 0)
	{
		Jsonb	   *state = NULL;
		Jsonb	   *out;

		SPIPlanPtr	plan;
		bool		transient = false;

		item = dt_cache_lookup(expr, GetUserId(), DT_SQL);
		if (item != NULL)
			plan = item->plan;
		else
		{
			plan = dt_prepare_sql(call, res, expr);
			if (plan == NULL)
				return;
			if (dt_cache_has_room())
			{
				SPI_keepplan(plan);
				dt_cache_add(expr, GetUserId(), DT_SQL, plan, NULL);
			}
			else
				transient = true;
		}
		if (strstr(expr, "state") != NULL)
			state = fl_state_object(call->ex);
		out = dt_run_sql(call, res, plan, input, state, mcxt);
		if (transient)
			SPI_freeplan(plan);
		if (out != NULL)
			fl_succeed(res, out, NULL);
	}
	else if (strcmp(language, "jsonpath") == 0)
	{
		Jsonb	   *vars;
		Jsonb	   *out;
		Datum		d;

		JsonPath   *path;

		item = dt_cache_lookup(expr, InvalidOid, DT_JSONPATH);
		if (item != NULL)
			path = item->path;
		else
		{
			bool		keep = dt_cache_has_room();
			char	   *msg;

			path = dt_parse_jsonpath(expr, keep ? dt_cache_cxt : CurrentMemoryContext, &msg);
			if (path == NULL)
			{
				fl_fail(res, "INVALID_CONFIG",
						"node \"%s\": field \"expression\" is not a valid jsonpath: %s",
						call->def->id, msg);
				return;
			}
			if (keep)
				dt_cache_add(expr, InvalidOid, DT_JSONPATH, NULL, path);
		}
		if (input == NULL)
			input = jsonb_null();
		vars = dt_path_uses_vars(expr) ? fl_variables_object(call->ex) : NULL;
		if (vars == NULL)
			vars = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
		d = DirectFunctionCall4(jsonb_path_query_array,
								JsonbPGetDatum(input),
								PointerGetDatum(path),
								JsonbPGetDatum(vars),
								BoolGetDatum(false));
		out = DatumGetJsonbP(d);
		fl_succeed(res, out, NULL);
	}
	else
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"language\" must be \"sql\" or \"jsonpath\", got \"%s\"",
				call->def->id, language);
}

const FlNodeType fl_node_data_transform = {
	.type = "data-transform",
	.flags = FL_NT_SQL | FL_NT_RUN_AS,
	.sql_error_code = NULL,
	.execute = data_transform_execute,
};
