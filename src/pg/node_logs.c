/*
 * node_logs.c
 *	  The node-log rows of a run: queued as nodes finish and written in bulk
 *	  (heap_multi_insert and the index entries, as COPY does), and the final
 *	  row of a waiting node that continues.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "parser/parse_relation.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/partcache.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "pg/change_stamp.h"
#include "pg/engine.h"
#include "pg/jsonb_util.h"

#define TXT(s) ((s) ? CStringGetTextDatum(s) : (Datum) 0)
#define NUL(p) ((p) ? ' ' : 'n')

#define LOG_COLS 18
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


/*
 * Queue a node log row.  Rows are written by fl_store_flush_logs() when the
 * run settles (they become visible at commit either way).
 */
void
fl_store_node_log(FlExec *ex, int node, const char *status, Jsonb *input,
				  Jsonb *output, const char *error_code, const char *error,
				  const char *handle, TimestampTz started, int attempts,
				  int64 tokens, Numeric cost)
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
	/*
	 * The multi-insert skips the columns' length checks: a workflow whose
	 * node id, type or label does not fit is not valid, so it never runs
	 * (fl_workflow_build, fl_graph_finish).
	 */
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
	/* what a model call used: tokens and cost (NULL for the nodes that call none) */
	a[16] = Int32GetDatum((int32) Min(tokens, PG_INT32_MAX));
	n[16] = tokens <= 0;
	a[17] = cost ? NumericGetDatum(cost) : (Datum) 0;
	n[17] = cost == NULL;
}

static void flush_chunk(FlExec *ex, FlLogBuf *lb, int start, int n, TupleTableSlot **slots, Relation rel,
						ResultRelInfo *rri, EState *estate, CommandId cid, int *attno, int exec_att,
						int wf_att, Oid status_type);

static const char *const log_col_names[LOG_COLS] = {
	"id", "node_id", "node_type", "node_name", "status", "input", "output", "error",
	"error_code", "handle", "iteration", "attempts", "seq", "started_at", "completed_at",
	"duration_ms", "tokens_used", "cost_usd"
};

/*
 * The partition of the history table parent (flowent.workflow_executions by
 * id, flowent.workflow_node_logs by execution_id: ranges of one uuid) that
 * holds the rows of the execution exec_id: the lookup tuple routing does.
 */
static Oid
history_partition(Relation parent, pg_uuid_t *exec_id)
{
	PartitionKey key = RelationGetPartitionKey(parent);
	PartitionDesc pd = RelationGetPartitionDesc(parent, true);
	Datum		value = UUIDPGetDatum(exec_id);
	int			part = -1;

	if (key == NULL || key->strategy != PARTITION_STRATEGY_RANGE || key->partnatts != 1)
		elog(ERROR, "%s is not partitioned by a range of one uuid", RelationGetRelationName(parent));
	if (pd->boundinfo != NULL && pd->boundinfo->ndatums > 0)
	{
		bool		equal;
		int			bound = partition_range_datum_bsearch(key->partsupfunc, key->partcollation,
														  pd->boundinfo, 1, &value, &equal);

		part = pd->boundinfo->indexes[bound + 1];
	}
	if (part >= 0)
		return pd->oids[part];
	if (!OidIsValid(get_default_oid_from_partdesc(pd)))
		ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
						errmsg("flowent.%s has no partition for the execution %s", RelationGetRelationName(parent),
							   DatumGetCString(DirectFunctionCall1(uuid_out, value)))));
	return get_default_oid_from_partdesc(pd);
}

/*
 * Open the partition of the execution's rows in the history table name
 * (locking the parent, then the partition, for writing).
 */
static Relation
open_history_partition(const char *name, pg_uuid_t *exec_id, LOCKMODE mode)
{
	Relation	parent = table_open(get_relname_relid(name, get_namespace_oid("flowent", false)), mode);
	Oid			part = history_partition(parent, exec_id);

	table_close(parent, NoLock);
	return table_open(part, mode);
}

/*
 * Write the queued node log rows in one go: heap_multi_insert plus the
 * index entries, as COPY does, into the partition of the execution.  These rows are the engine's own (no
 * triggers, no foreign keys, written as the schema owner), and a run may
 * queue thousands, so the executor's per-statement work is skipped.
 */
void
fl_store_flush_logs(FlExec *ex)
{
	FlLogBuf   *lb = ex->logbuf;
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
	fl_note_change(false);		/* no statement trigger sees these rows */
	/*
	 * The execution's partition first, then the node logs': the order in
	 * which the history's maintenance locks them (15_partitions.sql).  A run
	 * that held the node logs and then waited for its execution row's
	 * partition closed a cycle with it: every run stalled for the
	 * maintenance's lock wait, and under steady load the partitions were
	 * never made.
	 */
	table_close(open_history_partition("workflow_executions", &ex->id, RowExclusiveLock), NoLock);
	rel = open_history_partition("workflow_node_logs", &ex->id, RowExclusiveLock);
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
					const char *error_code, const char *error, const char *handle, int attempts,
					int64 tokens, Numeric cost)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[12] = {UUIDOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
	TEXTOID, INT4OID, NUMERICOID};
	Datum		a[12];
	char		n[12];

	fl_owner_plan(&plan,
			 "UPDATE flowent.workflow_node_logs SET status = $3::flowent.node_log_status, output = $4, "
			 " error = $5, error_code = $6, handle = $7, seq = $8, completed_at = clock_timestamp(), "
			 " duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int, "
			 " attempts = greatest(attempts, $9), tokens_used = $11, cost_usd = $12 "
			 "WHERE execution_id = $1 AND node_id = $2 AND status = 'waiting' AND iteration = $10",
			 12, types);
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
	a[10] = Int32GetDatum((int32) Min(tokens, PG_INT32_MAX));
	n[10] = tokens > 0 ? ' ' : 'n';
	a[11] = cost ? NumericGetDatum(cost) : (Datum) 0;
	n[11] = NUL(cost);
	fl_owner_exec(plan, a, n, SPI_OK_UPDATE);
}

