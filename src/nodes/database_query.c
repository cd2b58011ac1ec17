/*
 * database_query.c
 *	  The database-query node: one SQL statement with bound parameters.
 *
 * `query` is SQL text with $1… placeholders; {{…}} is refused in it
 * (Appendix B), values come in through `params`.  Parameters are bound
 * untyped, as libpq does with type 0: the parser infers each one's type from
 * its use, and the value's text is read with that type's input function
 * (strings raw, numbers/booleans/objects/arrays as JSON text, null as NULL).
 * Rows convert with to_jsonb column by column, so numbers stay exact numbers.
 *
 * readOnly (default true) runs the statement read-only and refuses writes;
 * maxRows (default 1000) caps the rows returned and sets `truncated`.  The
 * engine runs this node as the workflow's run_as role, inside a
 * subtransaction, so permission and SQL errors become the node's error.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_param.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

#ifndef DQ_CACHE_MAX
#define DQ_CACHE_MAX 512
#endif
#define DQ_MAX_PARAMS 65535

typedef struct DqKey
{
	uint32		hash;			/* of the query text */
	Oid			userid;
} DqKey;

/*
 * One cached statement.  The parameter types are filled in by the parser
 * (variable parameters); they live as long as the plan, because the plan
 * cache re-runs the parser setup hook when it re-analyses the statement.
 */
typedef struct DqItem
{
	struct DqItem *next;
	char	   *query;
	SPIPlanPtr	plan;
	Oid		   *types;
	int			ntypes;
	bool		is_select;		/* a plain SELECT: fetch maxRows+1 at most */
	const char *write_kind;		/* command name when it writes, else NULL */
} DqItem;

typedef struct DqEntry
{
	DqKey		key;
	DqItem	   *items;
} DqEntry;

static HTAB *dq_cache = NULL;
static MemoryContext dq_cache_cxt = NULL;
static int	dq_cache_count = 0;

/*
 * The backend-local plan cache, created on first use.  It only grows, up to
 * DQ_CACHE_MAX statements; past that, statements are prepared for one use.
 * No entry is ever freed, so a plan cannot vanish under a nested run.
 */
static void
dq_cache_init(void)
{
	HASHCTL		ctl;

	if (dq_cache != NULL)
		return;
	dq_cache_cxt = AllocSetContextCreate(TopMemoryContext,
										 "flowent database-query cache",
										 ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(DqKey);
	ctl.entrysize = sizeof(DqEntry);
	ctl.hcxt = dq_cache_cxt;
	dq_cache = hash_create("flowent database-query cache", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* Parser setup hook: parameters of unknown type, inferred from their use. */
static void
dq_parser_setup(struct ParseState *pstate, void *arg)
{
	DqItem	   *it = (DqItem *) arg;

	setup_parse_variable_parameters(pstate, &it->types, &it->ntypes);
}

/* The SQL command a Query would run if it writes, else NULL. */
static const char *
dq_write_kind(Query *q)
{
	if (q->commandType == CMD_SELECT)
	{
		if (q->rowMarks != NIL)
			return "SELECT FOR UPDATE/SHARE";
		if (q->hasModifyingCTE)
			return "a data-modifying WITH";
		return NULL;
	}
	if (q->commandType == CMD_UTILITY)	/* SPI refuses them all read-only */
		return GetCommandTagName(CreateCommandTag(q->utilityStmt));
	return GetCommandTagName(CreateCommandTag((Node *) q));
}

/*
 * The statement for a query text and the current role: from the cache, or
 * prepared now (and cached while there is room; else *transient is set and
 * the caller frees the plan after use).  Returns NULL (the node failed)
 * when the text is not exactly one statement.
 */
static DqItem *
dq_get_plan(FlNodeCall *call, FlNodeResult *res, const char *query, int nparams,
			bool *transient)
{
	DqKey		key;
	DqEntry    *e;
	DqItem	   *it;
	bool		found;
	bool		keep;
	MemoryContext cxt;
	SPIPlanPtr	plan;
	List	   *sources;
	ListCell   *lc;

	dq_cache_init();
	memset(&key, 0, sizeof(key));
	key.hash = hash_bytes((const unsigned char *) query, strlen(query));
	key.userid = GetUserId();
	*transient = false;
	e = hash_search(dq_cache, &key, HASH_FIND, NULL);
	for (it = e ? e->items : NULL; it; it = it->next)
		if (strcmp(it->query, query) == 0)
			return it;

	/*
	 * Prepare into a new item; the types array is allocated in the item's
	 * context, and repalloc by the parser keeps it there.
	 */
	keep = dq_cache_count < DQ_CACHE_MAX;
	cxt = keep ? dq_cache_cxt : CurrentMemoryContext;
	it = MemoryContextAllocZero(cxt, sizeof(DqItem));
	it->query = MemoryContextStrdup(cxt, query);
	it->ntypes = nparams;
	it->types = MemoryContextAllocZero(cxt, sizeof(Oid) * Max(nparams, 1));
	plan = SPI_prepare_params(query, dq_parser_setup, it, 0);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("node \"%s\": could not prepare query: %s",
						call->def->id, SPI_result_code_string(SPI_result))));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
	{
		SPI_freeplan(plan);
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"query\" must be exactly one SQL statement, got %d",
				call->def->id, list_length(sources));
		return NULL;
	}
	it->is_select = true;
	foreach(lc, ((CachedPlanSource *) linitial(sources))->query_list)
	{
		Query	   *q = lfirst_node(Query, lc);

		if (q->commandType != CMD_SELECT || q->hasModifyingCTE)
			it->is_select = false;
		if (it->write_kind == NULL)
			it->write_kind = dq_write_kind(q);
	}
	if (it->write_kind)
		it->write_kind = MemoryContextStrdup(cxt, it->write_kind);
	it->plan = plan;
	if (!keep)
	{
		*transient = true;
		return it;
	}
	SPI_keepplan(plan);
	e = hash_search(dq_cache, &key, HASH_ENTER, &found);
	if (!found)
		e->items = NULL;
	it->next = e->items;
	e->items = it;
	dq_cache_count++;
	return it;
}

/*
 * Bind the params list to the inferred types: each value's text goes
 * through its type's input function, as a libpq text-format parameter.
 * Returns false (and the node failed) when params are missing.
 */
static bool
dq_bind(FlNodeCall *call, FlNodeResult *res, DqItem *it, JsonbValue *params, int nparams,
		ParamListInfo *out)
{
	ParamListInfo pli;
	int			highest = 0;

	*out = NULL;
	for (int i = 0; i < it->ntypes; i++)
		if (OidIsValid(it->types[i]))
			highest = i + 1;
	if (highest > nparams)
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"query\" uses $%d but \"params\" has %d value%s",
				call->def->id, highest, nparams, nparams == 1 ? "" : "s");
		return false;
	}
	if (highest == 0)
		return true;
	pli = makeParamList(highest);
	for (int i = 0; i < highest; i++)
	{
		ParamExternData *prm = &pli->params[i];
		JsonbValue	v;

		prm->pflags = PARAM_FLAG_CONST;
		prm->ptype = it->types[i];
		prm->isnull = true;
		prm->value = (Datum) 0;
		if (!OidIsValid(prm->ptype))
		{
			/* not referenced by the statement */
			prm->ptype = UNKNOWNOID;
			continue;
		}
		if (!jbv_get_index(params, i, &v))
			elog(ERROR, "params element %d missing", i);
		if (v.type != jbvNull)
		{
			Oid			typinput;
			Oid			typioparam;

			getTypeInputInfo(prm->ptype, &typinput, &typioparam);
			prm->value = OidInputFunctionCall(typinput, jbv_to_text(&v), typioparam, -1);
			prm->isnull = false;
		}
	}
	*out = pli;
	return true;
}

/* Set up a call of to_jsonb(anyelement) for values of one type. */
static void
dq_to_jsonb_info(FmgrInfo *fi, Oid typid)
{
	fmgr_info(F_TO_JSONB, fi);
	fi->fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
										list_make1(makeNullConst(typid, -1, InvalidOid)),
										InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/*
 * Build {rows, rowCount[, truncated]} from the SPI result, in mcxt.  Each
 * row becomes an object like to_jsonb(row): one key per column, values by
 * to_jsonb of the column's type, NULL as null.
 */
static Jsonb *
dq_result(SPITupleTable *tt, uint64 processed, int64 maxrows, MemoryContext mcxt)
{
	MemoryContext tmp = AllocSetContextCreate(mcxt, "flowent database-query rows",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	JB			b = {0};
	uint64		nrows = 0;
	bool		truncated = false;
	Jsonb	   *out;

	jb_obj_begin(&b);
	jb_key(&b, "rows");
	jb_arr_begin(&b);
	if (tt != NULL)
	{
		TupleDesc	desc = tt->tupdesc;
		int			natts = desc->natts;
		FmgrInfo   *fis = palloc0(sizeof(FmgrInfo) * Max(natts, 1));

		for (int c = 0; c < natts; c++)
			if (!TupleDescAttr(desc, c)->attisdropped)
				dq_to_jsonb_info(&fis[c], TupleDescAttr(desc, c)->atttypid);
		nrows = Min(processed, (uint64) maxrows);
		truncated = processed > (uint64) maxrows;
		for (uint64 r = 0; r < nrows; r++)
		{
			HeapTuple	tup = tt->vals[r];

			CHECK_FOR_INTERRUPTS();
			jb_obj_begin(&b);
			for (int c = 0; c < natts; c++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, c);
				bool		isnull;
				Datum		d;

				if (att->attisdropped)
					continue;
				jb_key(&b, NameStr(att->attname));
				d = heap_getattr(tup, c + 1, desc, &isnull);
				if (isnull)
					jb_null(&b);
				else
					jb_jsonb(&b, DatumGetJsonbP(FunctionCall1(&fis[c], d)));
			}
			jb_obj_end(&b);
		}
	}
	jb_arr_end(&b);
	jb_kv_int(&b, "rowCount", tt != NULL ? (int64) nrows : (int64) processed);
	if (truncated)
		jb_kv_bool(&b, "truncated", true);
	jb_obj_end(&b);
	MemoryContextSwitchTo(mcxt);
	out = jb_finish(&b);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return out;
}

/*
 * Execute the statement.  Read-only: on a fresh snapshot, so that earlier
 * nodes' writes are visible, with the transaction read-only while it runs,
 * which refuses writes in volatile functions and utility commands as well.
 * The engine's subtransaction cleans up the snapshot after an error.
 */
static int
dq_execute(SPIPlanPtr plan, ParamListInfo pli, bool read_only, long tcount)
{
	bool		save_ro = XactReadOnly;
	int			rc;

	if (!read_only)
		return SPI_execute_plan_with_paramlist(plan, pli, false, tcount);
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	XactReadOnly = true;
	PG_TRY();
	{
		rc = SPI_execute_plan_with_paramlist(plan, pli, true, tcount);
	}
	PG_FINALLY();
	{
		XactReadOnly = save_ro;
	}
	PG_END_TRY();
	PopActiveSnapshot();
	return rc;
}

/* Execute a database-query node. */
static void
database_query_execute(FlNodeCall *call, FlNodeResult *res)
{
	MemoryContext mcxt = CurrentMemoryContext;
	char	   *raw;
	char	   *query;
	JsonbValue	params;
	int			nparams = 0;
	bool		read_only;
	int64		maxrows;
	DqItem	   *it;
	bool		transient;
	ParamListInfo pli;
	long		tcount;
	int			rc;

	params.type = jbvNull;

	/* SQL text: no templates (checked on the unresolved data) */
	raw = jb_get_cstring(call->def->data, "query");
	if (raw != NULL && fl_contains_template(raw))
	{
		fl_fail(res, "INVALID_CONFIG",
				"node \"%s\": field \"query\" must not contain {{…}} templates; pass values as $1… through \"params\"",
				call->def->id);
		return;
	}
	if (!fl_cfg_string(call, res, "query", true, &query))
		return;
	if (query[strspn(query, " \t\r\n")] == '\0')
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"query\" is empty",
				call->def->id);
		return;
	}
	if (fl_cfg_value(call, "params", &params) && params.type != jbvNull)
	{
		if (!jbv_is_array(&params))
		{
			fl_fail(res, "INVALID_CONFIG",
					"node \"%s\": field \"params\" must be an array, got %s",
					call->def->id, jbv_type_name(&params));
			return;
		}
		if (params.type != jbvBinary)
			params.type = jbvNull;	/* cannot happen: values come from a Jsonb */
		else
			nparams = jbv_array_size(&params);
		if (nparams > DQ_MAX_PARAMS)
		{
			fl_fail(res, "INVALID_CONFIG",
					"node \"%s\": field \"params\" has %d values, at most %d are allowed",
					call->def->id, nparams, DQ_MAX_PARAMS);
			return;
		}
	}
	if (!fl_cfg_bool(call, res, "readOnly", true, &read_only))
		return;
	if (!fl_cfg_int(call, res, "maxRows", 1000, 1, 1000000, &maxrows))
		return;

	it = dq_get_plan(call, res, query, nparams, &transient);
	if (it == NULL)
		return;
	if (read_only && it->write_kind != NULL)
	{
		if (transient)
			SPI_freeplan(it->plan);
		fl_fail(res, "SQL_ERROR",
				"node \"%s\" is readOnly, so %s is not allowed; set \"readOnly\": false to run statements that write",
				call->def->id, it->write_kind);
		return;
	}
	if (!dq_bind(call, res, it, &params, nparams, &pli))
	{
		if (transient)
			SPI_freeplan(it->plan);
		return;
	}
	tcount = it->is_select ? (long) maxrows + 1 : 0;

	rc = dq_execute(it->plan, pli, read_only, tcount);
	if (read_only)
		fl_node_check_read_only(call->def->id);
	if (transient)
		SPI_freeplan(it->plan);
	if (rc < 0)
	{
		fl_fail(res, "SQL_ERROR", "node \"%s\": query failed: %s",
				call->def->id, SPI_result_code_string(rc));
		return;
	}
	fl_succeed(res, dq_result(SPI_tuptable, SPI_processed, maxrows, mcxt), NULL);
	if (SPI_tuptable)
		SPI_freetuptable(SPI_tuptable);
}

const FlNodeType fl_node_database_query = {
	.type = "database-query",
	.flags = FL_NT_SQL | FL_NT_RUN_AS,
	.sql_error_code = NULL,
	.execute = database_query_execute,
};
