/*
 * store.c
 *	  The engine's bookkeeping writes: executions, node logs, approvals, timers.
 *
 * Users get only SELECT on these tables (row-level security decides what
 * they see); the engine writes them after switching to the owner of the
 * flowent schema, through these few prepared statements and nothing else.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "parser/parse_relation.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "pg/engine.h"
#include "pg/jsonb_util.h"
#include "worker/worker.h"

static Oid	owner_oid = InvalidOid;

/*
 * SPI leaves its procedure context current after every call; the engine
 * allocates in its caller's context, so restore it each time.
 */
int
fl_spi_plan(SPIPlanPtr plan, Datum *args, const char *nulls, bool ro, long count)
{
	MemoryContext mc = CurrentMemoryContext;
	int			ret = SPI_execute_plan(plan, args, nulls, ro, count);

	MemoryContextSwitchTo(mc);
	return ret;
}

int
fl_spi_args(const char *sql, int nargs, Oid *types, Datum *args,
			const char *nulls, bool ro, long count)
{
	MemoryContext mc = CurrentMemoryContext;
	int			ret = SPI_execute_with_args(sql, nargs, types, args, nulls, ro, count);

	MemoryContextSwitchTo(mc);
	return ret;
}

SPIPlanPtr
fl_spi_prepare(const char *sql, int nargs, Oid *types)
{
	MemoryContext mc = CurrentMemoryContext;
	SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

	MemoryContextSwitchTo(mc);
	return p;
}

int
fl_spi(const char *sql, bool ro, long count)
{
	MemoryContext mc = CurrentMemoryContext;
	int			ret = SPI_execute(sql, ro, count);

	MemoryContextSwitchTo(mc);
	return ret;
}

/* The owner of the flowent schema, who owns the engine's tables. */
Oid
fl_owner_oid(void)
{
	if (!OidIsValid(owner_oid))
	{
		HeapTuple	tup = SearchSysCache1(NAMESPACEOID,
										  ObjectIdGetDatum(get_namespace_oid("flowent", false)));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "schema flowent not found");
		owner_oid = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
		ReleaseSysCache(tup);
	}
	return owner_oid;
}

/*
 * Become the execution's run_as role for user SQL (security-restricted), as
 * stored in its context; a superuser run_as only for that superuser.
 */
void
fl_run_as_begin(FlExec *ex, Oid *saved_uid, int *saved_sec)
{
	GetUserIdAndSecContext(saved_uid, saved_sec);
	if (!OidIsValid(ex->run_as_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the run_as role \"%s\" of workflow \"%s\" no longer exists",
						ex->run_as ? ex->run_as : "?", ex->wf->name)));
	/* anyone else would get superuser SQL */
	if (superuser_arg(ex->run_as_oid) && strcmp(ex->run_as, ex->user_id) != 0)
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("workflow \"%s\" runs as superuser \"%s\"; only \"%s\" may run it, not \"%s\"",
							   ex->wf->name, ex->run_as, ex->run_as, ex->user_id),
						errhint("Set runAs to a role without superuser rights.")));
	SetUserIdAndSecContext(ex->run_as_oid,
						   *saved_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
}

void
fl_run_as_end(Oid saved_uid, int saved_sec)
{
	SetUserIdAndSecContext(saved_uid, saved_sec);
}

/*
 * Prepare once per backend and keep; parsed as the owner with the owner's
 * fixed search_path, like every run of it.
 */
static SPIPlanPtr
plan_for(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	if (*slot == NULL)
	{
		FlOwner		own;
		SPIPlanPtr	p;

		fl_owner_begin(&own);
		p = fl_spi_prepare(sql, nargs, types);
		fl_owner_end(&own);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*slot = p;
	}
	return *slot;
}

/* Run a prepared write as the schema owner. */
static void
exec_as_owner(SPIPlanPtr plan, Datum *args, const char *nulls, int expect)
{
	FlOwner		own;
	int			ret;

	fl_owner_begin(&own);
	ret = fl_spi_plan(plan, args, nulls, false, 0);
	fl_owner_end(&own);
	if (ret != expect)
		elog(ERROR, "flowent bookkeeping write failed: %s", SPI_result_code_string(ret));
}

/*
 * A statement of the engine's own, prepared once per backend (in *slot) and
 * run as the schema owner; returns the SPI result code.
 */
int
fl_owner_query(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types,
			   Datum *args, const char *nulls, long count)
{
	FlOwner		own;
	int			ret;

	plan_for(slot, sql, nargs, types);
	fl_owner_begin(&own);
	ret = fl_spi_plan(*slot, args, nulls, false, count);
	fl_owner_end(&own);
	return ret;
}

/*
 * A time-ordered (version 7) uuid: 48 bits of Unix milliseconds, then random
 * bits.  New rows land at the right edge of the primary-key btrees instead
 * of at random pages, which matters for the bulk node-log inserts.
 */
void
fl_new_uuid(pg_uuid_t *u)
{
	uint64		ms = (uint64) ((GetCurrentTimestamp() / 1000) +
							   (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * (uint64) SECS_PER_DAY * 1000);

	if (!pg_strong_random(u->data + 6, UUID_LEN - 6))
		elog(ERROR, "could not generate random uuid");
	for (int i = 0; i < 6; i++)
		u->data[i] = (uint8) (ms >> (40 - 8 * i));
	u->data[6] = (u->data[6] & 0x0f) | 0x70;
	u->data[8] = (u->data[8] & 0x3f) | 0x80;
}

#define TXT(s) ((s) ? CStringGetTextDatum(s) : (Datum) 0)
#define NUL(p) ((p) ? ' ' : 'n')

/* The names of the credentials the execution resolved, as text[]. */
static Datum
credential_names_datum(FlExec *ex)
{
	int			n = list_length(ex->credential_names);
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	ListCell   *lc;

	foreach(lc, ex->credential_names)
		d[foreach_current_index(lc)] = CStringGetTextDatum(strVal(lfirst(lc)));
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Write the execution row.  A run that needs no row while it runs (no
 * approval, timer or child execution refers to it) writes it once, final,
 * from fl_store_execution_finish.
 */
static void
execution_row_insert(FlExec *ex, const char *status, Jsonb *output)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[28] = {UUIDOID, UUIDOID, INT4OID, JSONBOID, TIMESTAMPTZOID,
		TEXTOID, BOOLOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID, UUIDOID, TEXTOID, UUIDOID, TEXTOID,
		JSONBOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, NUMERICOID, INT4OID, INT4OID, BOOLOID,
	TEXTOID, INT4OID, UUIDOID, TEXTARRAYOID};
	Datum		a[28];
	char		n[28];
	bool		final = status != NULL;
	long		secs;
	int			usecs;

	plan_for(&plan,
			 "INSERT INTO flowent.workflow_executions (id, workflow_id, workflow_version, input, "
			 " started_at, user_id, is_test, mode, trigger_type, options, variables, "
			 " parent_execution_id, parent_node_id, rerun_of, status, output, error, error_code, "
			 " error_node_id, duration_ms, total_cost, total_tokens, seq, completed_at, "
			 " run_as, depth, root_execution_id, credential_names) "
			 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
			 " $15::flowent.execution_status, $16, $17, $18, $19, $20, $21, $22, $23, "
			 " CASE WHEN $24 AND $15 IN ('success', 'error', 'cancelled') THEN clock_timestamp() END, "
			 " $25, $26, $27, $28)",
			 28, types);
	memset(n, ' ', sizeof(n));
	TimestampDifference(ex->started_at, GetCurrentTimestamp(), &secs, &usecs);
	a[0] = UUIDPGetDatum(&ex->id);
	a[1] = UUIDPGetDatum(&ex->wf->id);
	a[2] = Int32GetDatum(ex->wf->version);
	a[3] = JsonbPGetDatum(ex->payload);
	a[4] = TimestampTzGetDatum(ex->started_at);
	a[5] = CStringGetTextDatum(ex->user_id);
	a[6] = BoolGetDatum(ex->is_test);
	a[7] = CStringGetTextDatum(ex->sync ? "sync" : "async");
	a[8] = CStringGetTextDatum(ex->trigger_type);
	a[9] = JsonbPGetDatum(ex->options);
	a[10] = JsonbPGetDatum(fl_scrub_jsonb(ex, fl_variables_object(ex)));
	a[11] = ex->parent_id ? DirectFunctionCall1(uuid_in, CStringGetDatum(ex->parent_id)) : (Datum) 0;
	n[11] = NUL(ex->parent_id);
	a[12] = TXT(ex->parent_node_id);
	n[12] = NUL(ex->parent_node_id);
	a[13] = ex->rerun_of ? DirectFunctionCall1(uuid_in, CStringGetDatum(ex->rerun_of)) : (Datum) 0;
	n[13] = NUL(ex->rerun_of);
	a[14] = CStringGetTextDatum(final ? status : (ex->sync ? "running" : "pending"));
	a[15] = output ? JsonbPGetDatum(output) : (Datum) 0;
	n[15] = NUL(output);
	a[16] = TXT(ex->error_message);
	n[16] = NUL(ex->error_message);
	a[17] = TXT(ex->error_code);
	n[17] = NUL(ex->error_code);
	a[18] = TXT(ex->error_node);
	n[18] = NUL(ex->error_node);
	a[19] = Int32GetDatum((int32) Min(secs * 1000 + usecs / 1000, PG_INT32_MAX));
	n[19] = final ? ' ' : 'n';
	a[20] = NumericGetDatum(ex->total_cost);
	a[21] = Int32GetDatum((int32) Min(ex->total_tokens, PG_INT32_MAX));
	a[22] = Int32GetDatum(ex->seq);
	a[23] = BoolGetDatum(final);
	a[24] = TXT(ex->run_as);
	n[24] = NUL(ex->run_as);
	a[25] = Int32GetDatum(ex->depth);
	a[26] = DirectFunctionCall1(uuid_in, CStringGetDatum(ex->root_id));
	a[27] = credential_names_datum(ex);
	exec_as_owner(plan, a, n, SPI_OK_INSERT);
	ex->row_written = true;
}

/* Make sure the execution row exists (something is about to refer to it). */
void
fl_store_execution_insert(FlExec *ex)
{
	if (!ex->row_written)
		execution_row_insert(ex, NULL, NULL);
}

void
fl_store_execution_finish(FlExec *ex, const char *status, Jsonb *output)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[13] = {UUIDOID, TEXTOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID,
		INT4OID, NUMERICOID, INT4OID, INT4OID, JSONBOID, TEXTARRAYOID, TEXTOID};
	Datum		a[13];
	char		n[13];
	long		secs;
	int			usecs;

	if (!ex->row_written)
	{
		execution_row_insert(ex, status, output);
		return;
	}
	plan_for(&plan,
			 "UPDATE flowent.workflow_executions SET status = $2::flowent.execution_status, "
			 " output = $3, error = $4, error_code = $5, error_node_id = $6, "
			 " completed_at = CASE WHEN $2 IN ('success', 'error', 'cancelled') THEN clock_timestamp() END, "
			 " duration_ms = $7, total_cost = $8, total_tokens = $9, seq = $10, variables = $11, "
			 " credential_names = $12, cancel_reason = $13, updated_at = clock_timestamp() WHERE id = $1",
			 13, types);
	memset(n, ' ', sizeof(n));
	TimestampDifference(ex->started_at, GetCurrentTimestamp(), &secs, &usecs);
	a[0] = UUIDPGetDatum(&ex->id);
	a[1] = CStringGetTextDatum(status);
	a[2] = output ? JsonbPGetDatum(output) : (Datum) 0;
	n[2] = NUL(output);
	a[3] = TXT(ex->error_message);
	n[3] = NUL(ex->error_message);
	a[4] = TXT(ex->error_code);
	n[4] = NUL(ex->error_code);
	a[5] = TXT(ex->error_node);
	n[5] = NUL(ex->error_node);
	a[6] = Int32GetDatum((int32) Min(secs * 1000 + usecs / 1000, PG_INT32_MAX));
	a[7] = NumericGetDatum(ex->total_cost);
	a[8] = Int32GetDatum((int32) Min(ex->total_tokens, PG_INT32_MAX));
	a[9] = Int32GetDatum(ex->seq);
	a[10] = JsonbPGetDatum(fl_scrub_jsonb(ex, fl_variables_object(ex)));
	a[11] = credential_names_datum(ex);
	a[12] = TXT(ex->cancel_reason);
	n[12] = NUL(ex->cancel_reason);
	exec_as_owner(plan, a, n, SPI_OK_UPDATE);
}

#define LOG_COLS 16
/* rows written at a time (and buffered at most, so a long loop's memory stays bounded) */
#define LOG_FLUSH_ROWS 1000

/* Node log rows collected during a run and written in one INSERT. */
typedef struct FlLogBuf
{
	int			n;
	int			cap;
	Datum	   *vals;			/* n x LOG_COLS */
	bool	   *nulls;
} FlLogBuf;


/* A value for a varchar(max) column of the node logs: at most max characters. */
static void
log_column_fits(FlNodeDef *nd, const char *column, const char *value, int max)
{
	int			chars = value ? pg_mbstrlen(value) : 0;

	if (chars > max)
		ereport(ERROR, (errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
						errmsg("node \"%.40s\": its %s has %d characters; the node log holds %d",
							   nd->id, column, chars, max)));
}

/*
 * Queue a node log row.  Rows are written by fl_store_flush_logs() when the
 * run settles (they become visible at commit either way).
 */
void
fl_store_node_log(FlExec *ex, int node, const char *status, Jsonb *input,
				  Jsonb *output, const char *error_code, const char *error,
				  const char *handle, TimestampTz started, int attempts)
{
	FlLogBuf   *lb = ex->logbuf;
	FlNodeDef  *nd = &ex->wf->nodes[node];
	TimestampTz now = GetCurrentTimestamp();
	long		secs;
	int			usecs;
	Datum	   *a;
	bool	   *n;

	if (lb != NULL && lb->n >= LOG_FLUSH_ROWS)
		fl_store_flush_logs(ex);
	if (lb == NULL)
	{
		lb = ex->logbuf = palloc0(sizeof(FlLogBuf));
		lb->cap = Max(16, ex->wf->nnodes + 4);
		lb->vals = palloc(sizeof(Datum) * LOG_COLS * lb->cap);
		lb->nulls = palloc(sizeof(bool) * LOG_COLS * lb->cap);
	}
	if (lb->n == lb->cap)
	{
		lb->cap *= 2;
		lb->vals = repalloc(lb->vals, sizeof(Datum) * LOG_COLS * lb->cap);
		lb->nulls = repalloc(lb->nulls, sizeof(bool) * LOG_COLS * lb->cap);
	}
	a = lb->vals + (size_t) lb->n * LOG_COLS;
	n = lb->nulls + (size_t) lb->n * LOG_COLS;
	lb->n++;
	memset(n, 0, sizeof(bool) * LOG_COLS);
	TimestampDifference(started, now, &secs, &usecs);
	{
		pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

		fl_new_uuid(id);
		a[0] = UUIDPGetDatum(id);
	}
	/* the multi-insert skips the columns' length checks: done here */
	log_column_fits(nd, "node_id", nd->id, 100);
	log_column_fits(nd, "node_type", nd->type, 50);
	log_column_fits(nd, "node_name", nd->label, 255);
	a[1] = CStringGetTextDatum(nd->id);
	a[2] = CStringGetTextDatum(nd->type);
	a[3] = TXT(nd->label);
	n[3] = !nd->label;
	a[4] = CStringGetTextDatum(status);
	a[5] = PointerGetDatum(input);
	n[5] = !input;
	a[6] = PointerGetDatum(output);
	n[6] = !output;
	a[7] = TXT(error);
	n[7] = !error;
	a[8] = TXT(error_code);
	n[8] = !error_code;
	a[9] = TXT(handle);
	n[9] = !handle;
	a[10] = CStringGetTextDatum(ex->iteration);
	a[11] = Int32GetDatum(attempts);
	a[12] = Int32GetDatum(ex->seq);
	a[13] = TimestampTzGetDatum(started);
	a[14] = TimestampTzGetDatum(now);
	n[14] = strcmp(status, "waiting") == 0;
	a[15] = Int32GetDatum((int32) Min(secs * 1000 + usecs / 1000, PG_INT32_MAX));
}

static void flush_chunk(FlExec *ex, FlLogBuf *lb, int start, int n, TupleTableSlot **slots, Relation rel,
						ResultRelInfo *rri, EState *estate, CommandId cid, int *attno, int exec_att,
						int wf_att, Oid status_type);

static const char *const log_col_names[LOG_COLS] = {
	"id", "node_id", "node_type", "node_name", "status", "input", "output", "error",
	"error_code", "handle", "iteration", "attempts", "seq", "started_at", "completed_at",
	"duration_ms"
};

/*
 * Write the queued node log rows in one go: heap_multi_insert plus the
 * index entries, as COPY does.  These rows are the engine's own (no
 * triggers, no foreign keys, written as the schema owner), and a run may
 * queue thousands, so the executor's per-statement work is skipped.
 */
void
fl_store_flush_logs(FlExec *ex)
{
	FlLogBuf   *lb = ex->logbuf;
	Oid			relid;
	Relation	rel;
	TupleDesc	desc;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot **slots;
	TupleDesc	slot_desc;
	int			nslots;
	int			attno[LOG_COLS];
	int			exec_att,
				wf_att;
	Oid			status_type;
	CommandId	cid;

	if (lb == NULL || lb->n == 0)
		return;
	relid = get_relname_relid("workflow_node_logs", get_namespace_oid("flowent", false));
	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	for (int c = 0; c < LOG_COLS; c++)
	{
		attno[c] = attnameAttNum(rel, log_col_names[c], false);
		if (attno[c] <= 0)
			elog(ERROR, "flowent.workflow_node_logs has no column %s", log_col_names[c]);
	}
	exec_att = attnameAttNum(rel, "execution_id", false);
	wf_att = attnameAttNum(rel, "workflow_id", false);
	status_type = TupleDescAttr(desc, attno[4] - 1)->atttypid;

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	cid = GetCurrentCommandId(true);
	/*
	 * Slots on a copy of the descriptor: one on the relcache's would pin it
	 * in the resource owner once per slot, and pins of one descriptor
	 * collide in its hash (quadratic in the rows of a long loop).  Written
	 * in chunks through the same slots.
	 */
	slot_desc = CreateTupleDescCopy(desc);
	nslots = Min(lb->n, LOG_FLUSH_ROWS);
	slots = palloc(sizeof(TupleTableSlot *) * nslots);
	for (int r = 0; r < nslots; r++)
		slots[r] = MakeSingleTupleTableSlot(slot_desc, table_slot_callbacks(rel));
	for (int start = 0; start < lb->n; start += nslots)
		flush_chunk(ex, lb, start, Min(nslots, lb->n - start), slots, rel, rri, estate, cid,
					attno, exec_att, wf_att, status_type);
	for (int r = 0; r < nslots; r++)
		ExecDropSingleTupleTableSlot(slots[r]);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	lb->n = 0;
}

/* Write rows start .. start + n - 1 of the buffer through slots[0 .. n - 1]. */
static void
flush_chunk(FlExec *ex, FlLogBuf *lb, int start, int n, TupleTableSlot **slots, Relation rel,
			ResultRelInfo *rri, EState *estate, CommandId cid, int *attno, int exec_att, int wf_att,
			Oid status_type)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < n; i++)
	{
		TupleTableSlot *slot = slots[i];
		int			r = start + i;
		Datum	   *a = lb->vals + (size_t) r * LOG_COLS;
		bool	   *nl = lb->nulls + (size_t) r * LOG_COLS;

		ExecClearTuple(slot);
		for (int k = 0; k < desc->natts; k++)
		{
			slot->tts_values[k] = (Datum) 0;
			slot->tts_isnull[k] = true;
		}
		for (int c = 0; c < LOG_COLS; c++)
		{
			slot->tts_values[attno[c] - 1] = a[c];
			slot->tts_isnull[attno[c] - 1] = nl[c];
		}
		/* status is an enum; the buffer holds its text */
		slot->tts_values[attno[4] - 1] =
			DirectFunctionCall2(enum_in, CStringGetDatum(TextDatumGetCString(a[4])),
								ObjectIdGetDatum(status_type));
		slot->tts_values[exec_att - 1] = UUIDPGetDatum(&ex->id);
		slot->tts_isnull[exec_att - 1] = false;
		slot->tts_values[wf_att - 1] = UUIDPGetDatum(&ex->wf->id);
		slot->tts_isnull[wf_att - 1] = false;
		ExecStoreVirtualTuple(slot);
	}
	table_multi_insert(rel, slots, n, cid, 0, NULL);
	for (int i = 0; i < n; i++)
	{
		List	   *recheck;

		recheck = ExecInsertIndexTuples(rri, slots[i], estate, false, false, NULL, NIL);
		list_free(recheck);
	}
}

/* A waiting node continued: its log row becomes the final one. */
void
fl_store_resume_log(FlExec *ex, int node, const char *status, Jsonb *output,
					const char *error_code, const char *error, const char *handle, int attempts)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[10] = {UUIDOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
	TEXTOID};
	Datum		a[10];
	char		n[10];

	plan_for(&plan,
			 "UPDATE flowent.workflow_node_logs SET status = $3::flowent.node_log_status, output = $4, "
			 " error = $5, error_code = $6, handle = $7, seq = $8, completed_at = clock_timestamp(), "
			 " duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int, "
			 " attempts = greatest(attempts, $9) "
			 "WHERE execution_id = $1 AND node_id = $2 AND status = 'waiting' AND iteration = $10",
			 10, types);
	memset(n, ' ', sizeof(n));
	a[0] = UUIDPGetDatum(&ex->id);
	a[1] = CStringGetTextDatum(ex->wf->nodes[node].id);
	a[2] = CStringGetTextDatum(status);
	a[3] = output ? JsonbPGetDatum(output) : (Datum) 0;
	n[3] = NUL(output);
	a[4] = TXT(error);
	n[4] = NUL(error);
	a[5] = TXT(error_code);
	n[5] = NUL(error_code);
	a[6] = TXT(handle);
	n[6] = NUL(handle);
	a[7] = Int32GetDatum(ex->seq);
	a[8] = Int32GetDatum(Max(attempts, 1));
	a[9] = CStringGetTextDatum(ex->iteration);
	exec_as_owner(plan, a, n, SPI_OK_UPDATE);
}

/* An approval request with the node's resolved fields; returns its id. */
char *
fl_store_approval(FlExec *ex, int node, Jsonb *config, TimestampTz expires_at,
				  const char *on_expire)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[11] = {UUIDOID, UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID,
		JSONBOID, JSONBOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		a[11];
	char		n[11];
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
	JsonbValue	v;
	char	   *title = jb_get_cstring(config, "title");
	char	   *message = NULL;
	char	   *assignee = jb_get_cstring(config, "assignedUserId");

	fl_store_execution_insert(ex);
	plan_for(&plan,
			 "INSERT INTO flowent.workflow_approval_requests (id, execution_id, workflow_id, node_id, "
			 " title, message, context_data, preview_data, assigned_user_id, expires_at, on_expire) "
			 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
			 11, types);
	memset(n, ' ', sizeof(n));
	fl_new_uuid(id);
	if (jb_get(config, "message", &v) && v.type != jbvNull)
		message = jbv_to_text(&v);
	a[0] = UUIDPGetDatum(id);
	a[1] = UUIDPGetDatum(&ex->id);
	a[2] = UUIDPGetDatum(&ex->wf->id);
	a[3] = CStringGetTextDatum(ex->wf->nodes[node].id);
	a[4] = CStringGetTextDatum(title ? title : (ex->wf->nodes[node].label ? ex->wf->nodes[node].label : "Approval"));
	a[5] = TXT(message);
	n[5] = NUL(message);
	n[6] = n[7] = 'n';
	if (jb_get(config, "contextData", &v) && v.type != jbvNull)
	{
		a[6] = JsonbPGetDatum(jbv_to_jsonb(&v));
		n[6] = ' ';
	}
	if (jb_get(config, "previewData", &v) && v.type != jbvNull)
	{
		a[7] = JsonbPGetDatum(jbv_to_jsonb(&v));
		n[7] = ' ';
	}
	a[8] = TXT(assignee);
	n[8] = NUL(assignee);
	a[9] = TimestampTzGetDatum(expires_at);
	n[9] = expires_at ? ' ' : 'n';
	a[10] = CStringGetTextDatum(on_expire);
	exec_as_owner(plan, a, n, SPI_OK_INSERT);
	return FL_UUID_STR(id);
}

/* A timer the worker fires (delay, approval expiry, wait deadline, retry). */
void
fl_store_timer(FlExec *ex, int node, const char *kind, TimestampTz fire_at, Jsonb *payload)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {UUIDOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID};
	Datum		a[5];

	fl_store_execution_insert(ex);
	plan_for(&plan,
			 "INSERT INTO flowent.timers (execution_id, node_id, kind, fire_at, payload) "
			 "VALUES ($1, $2, $3, $4, $5)", 5, types);
	a[0] = UUIDPGetDatum(&ex->id);
	a[1] = CStringGetTextDatum(ex->wf->nodes[node].id);
	a[2] = CStringGetTextDatum(kind);
	a[3] = TimestampTzGetDatum(fire_at);
	a[4] = JsonbPGetDatum(payload ? payload : jsonb_from_cstring("{}", 2));
	exec_as_owner(plan, a, NULL, SPI_OK_INSERT);
	fl_wake_at_commit();		/* the workers sleep until their next timer */
}

/*
 * Decisions about an execution (a worker running it, approve, resume,
 * cancel, timers) first lock the row of its root execution: one lock order
 * for all of them, so two decisions never deadlock.  With wait false: false
 * when someone else holds it (or the execution is gone).
 */
bool
fl_lock_execution_root(const char *exec_id, bool wait)
{
	static SPIPlanPtr wait_plan = NULL;
	static SPIPlanPtr skip_plan = NULL;
	Oid			types[1] = {UUIDOID};
	Datum		a[1];

#define ROOT_SQL "SELECT 1 FROM flowent.workflow_executions r WHERE r.id = (" \
	"SELECT coalesce(e.root_execution_id, e.id) FROM flowent.workflow_executions e WHERE e.id = $1) FOR UPDATE"
	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	if (fl_owner_query(wait ? &wait_plan : &skip_plan, wait ? ROOT_SQL : ROOT_SQL " SKIP LOCKED",
					   1, types, a, NULL, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not lock execution %s", exec_id);
#undef ROOT_SQL
	return SPI_processed > 0;
}

/*
 * Cancel an execution and its sub-executions that are still going, with
 * their pending approvals, timers and queued work; sends their
 * workflow:complete events.  Returns how many were cancelled.
 */
int
fl_store_cancel_tree(const char *exec_id, const char *reason)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		a[2];
	char		n[2] = {' ', reason ? ' ' : 'n'};
	int			count;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(exec_id));
	a[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	if (fl_owner_query(&plan,
					   "WITH RECURSIVE tree(id) AS ("
					   "  SELECT $1::uuid UNION ALL "
					   "  SELECT e.id FROM flowent.workflow_executions e JOIN tree t ON e.parent_execution_id = t.id), "
					   "ex AS (UPDATE flowent.workflow_executions e SET status = 'cancelled', "
					   "  cancel_reason = $2, error_code = 'CANCELLED', "
					   "  error = coalesce('cancelled: ' || $2, 'cancelled'), completed_at = clock_timestamp(), "
					   "  duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int, "
					   "  seq = seq + 1, updated_at = clock_timestamp() "
					   "  WHERE e.id IN (SELECT id FROM tree) AND e.status IN ('pending', 'running', 'suspended') "
					   "  RETURNING e.id, e.workflow_id, e.seq), "
					   "ap AS (UPDATE flowent.workflow_approval_requests a SET status = 'rejected', "
					   "  resolved_by = 'system', resolved_at = clock_timestamp(), rejection_reason = 'execution cancelled' "
					   "  WHERE a.execution_id IN (SELECT id FROM tree) AND a.status = 'pending' RETURNING 1), "
					   "ti AS (DELETE FROM flowent.timers WHERE execution_id IN (SELECT id FROM tree) RETURNING 1), "
					   "rq AS (DELETE FROM flowent.run_queue WHERE execution_id IN (SELECT id FROM tree) RETURNING 1) "
					   "SELECT id::text, workflow_id::text, seq "
					   "FROM ex, (SELECT count(*) FROM ap) a, (SELECT count(*) FROM ti) t, (SELECT count(*) FROM rq) r",
					   2, types, a, n, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not cancel execution %s", exec_id);
	count = (int) SPI_processed;
	for (int i = 0; i < count; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		fl_send_complete_event(SPI_getvalue(tup, d, 1), SPI_getvalue(tup, d, 2),
							   DatumGetInt32(SPI_getbinval(tup, d, 3, &isnull)), "cancelled", "CANCELLED");
	}
	return count;
}
