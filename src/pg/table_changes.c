/*
 * table_changes.c
 *	  The rows an async table trigger's statement changed, kept as they were
 *	  written until a worker turns them into queued executions.
 *
 * Turning every row into a JSON payload and an execution inside the writing
 * statement cost ten times the COPY itself.  Instead the statement trigger
 * copies the transition tables' tuples, as they are, into a few rows of
 * flowent.table_change_batches (one per ROWS_PER_BATCH rows), with the
 * table's attributes at that moment; the batch commits or rolls back with
 * the write.  A worker then reads one batch in a transaction of its own,
 * makes each row's {op, table, new, old} payload with to_jsonb (as the
 * table's owner, who answers for the table's types), keeps the rows the
 * trigger's `columns` and `when` let through (a `when` that cannot be
 * evaluated fails the batch, never the write), and queues the executions
 * with one multi-row insert, deleting the batch in the same
 * transaction: every committed change becomes exactly one execution.
 *
 * Tuples are decoded with the stored attributes, not the table's current
 * ones, so an ALTER TABLE (or DROP TABLE) between the write and the worker
 * changes nothing; values kept out of line are copied in, since the table's
 * TOAST rows may be gone by then.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "core/rowstream.h"
#include "pg/context.h"
#include "pg/engine.h"
#include "pg/exec_internal.h"
#include "pg/jsonb_util.h"
#include "pg/table_changes.h"
#include "worker/worker.h"

/* rows per stored batch: what one worker transaction turns into executions */
#define ROWS_PER_BATCH 10000
#define BATCH_BYTES (64 * 1024 * 1024)
#define ROW_TYPE_MAGIC 0x464c5431	/* "FLT1" */

/* The table's attributes as the tuples were formed: count, then each fixed part. */
static bytea *
row_type_bytes(TupleDesc desc)
{
	Size		len = VARHDRSZ + 2 * sizeof(uint32) + (Size) desc->natts * ATTRIBUTE_FIXED_PART_SIZE;
	bytea	   *b = palloc(len);
	char	   *p = VARDATA(b);
	uint32		head[2] = {ROW_TYPE_MAGIC, (uint32) desc->natts};

	SET_VARSIZE(b, len);
	memcpy(p, head, sizeof(head));
	p += sizeof(head);
	for (int i = 0; i < desc->natts; i++, p += ATTRIBUTE_FIXED_PART_SIZE)
		memcpy(p, TupleDescAttr(desc, i), ATTRIBUTE_FIXED_PART_SIZE);
	return b;
}

/* A descriptor of the stored attributes, registered as an anonymous record type. */
static TupleDesc
row_type_from_bytes(bytea *b, int64 batch)
{
	const char *p = VARDATA_ANY(b);
	uint32		natts;
	TupleDesc	desc;

	if (!fl_rowtype_header(p, VARSIZE_ANY_EXHDR(b), ROW_TYPE_MAGIC, MaxTupleAttributeNumber,
						   ATTRIBUTE_FIXED_PART_SIZE, &natts))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("table change batch " INT64_FORMAT ": its row type is not one Flowent wrote", batch)));
	p += 2 * sizeof(uint32);
	desc = CreateTemplateTupleDesc((int) natts);
	for (uint32 i = 0; i < natts; i++, p += ATTRIBUTE_FIXED_PART_SIZE)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		memcpy(att, p, ATTRIBUTE_FIXED_PART_SIZE);
		att->attrelid = InvalidOid;
		att->atthasdef = false;
		att->atthasmissing = false;
		att->attnotnull = false;
		if (!att->attisdropped && !SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(att->atttypid)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("table change batch " INT64_FORMAT ": column \"%s\" was of type %u, which no longer exists",
							batch, NameStr(att->attname), att->atttypid)));
	}
	return BlessTupleDesc(desc);
}

/*
 * Appends one tuple as [uint32 length][tuple], complete: its out-of-line
 * values copied in, and the values of columns added after it was written
 * (an update's old row) filled in from the table's defaults.
 */
static void
append_tuple(StringInfo buf, TupleTableSlot *slot)
{
	bool		should_free;
	MinimalTuple mt = ExecFetchSlotMinimalTuple(slot, &should_free);
	MinimalTuple flat = mt;
	uint32		len;

	if ((mt->t_infomask & HEAP_HASEXTERNAL) ||
		(mt->t_infomask2 & HEAP_NATTS_MASK) < slot->tts_tupleDescriptor->natts)
	{
		TupleDesc	desc = slot->tts_tupleDescriptor;
		Datum	   *values = palloc(sizeof(Datum) * desc->natts);

		slot_getallattrs(slot);
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			values[i] = slot->tts_values[i];
			if (!slot->tts_isnull[i] && att->attlen == -1 && !att->attisdropped &&
				VARATT_IS_EXTERNAL(DatumGetPointer(values[i])))
				values[i] = PointerGetDatum(detoast_external_attr((struct varlena *) DatumGetPointer(values[i])));
		}
		flat = heap_form_minimal_tuple(desc, values, slot->tts_isnull);
	}
	len = flat->t_len;
	appendBinaryStringInfo(buf, (char *) &len, sizeof(len));
	appendBinaryStringInfo(buf, (char *) flat, len);
	if (flat != mt)
		pfree(flat);
	if (should_free)
		pfree(mt);
}

/* Up to max tuples of ts (or BATCH_BYTES of them) as bytea; how many in *n. */
static bytea *
take_rows(Tuplestorestate *ts, TupleTableSlot *slot, int max, int *n)
{
	StringInfoData buf;
	bytea	   *b;

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	*n = 0;
	while (*n < max && buf.len < BATCH_BYTES && tuplestore_gettupleslot(ts, true, false, slot))
	{
		append_tuple(&buf, slot);
		(*n)++;
		if ((*n & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	b = (bytea *) buf.data;
	SET_VARSIZE(b, buf.len);
	return b;
}

static void
insert_batch(const FlTableChange *c, const char *op, const char *table,
			 bytea *row_type, bytea *rows, bytea *old_rows, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[13] = {UUIDOID, UUIDOID, INT4OID, TEXTOID, OIDOID, TEXTOID, TEXTOID, TEXTARRAYOID,
		BYTEAOID, BYTEAOID, BYTEAOID, INT4OID, JSONBOID};
	Datum		a[13];
	char		nulls[13];

	memset(nulls, ' ', sizeof(nulls));
	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(c->trigger_id));
	a[1] = UUIDPGetDatum(c->workflow_id);
	a[2] = Int32GetDatum(c->version);
	a[3] = CStringGetTextDatum(c->created_by);
	a[4] = ObjectIdGetDatum(c->reader);
	a[5] = CStringGetTextDatum(op);
	a[6] = CStringGetTextDatum(table);
	a[7] = c->columns;
	nulls[7] = c->columns == (Datum) 0 ? 'n' : ' ';
	a[8] = PointerGetDatum(row_type);
	a[9] = PointerGetDatum(rows);
	a[10] = PointerGetDatum(old_rows);
	nulls[10] = old_rows ? ' ' : 'n';
	a[11] = Int32GetDatum(n);
	a[12] = c->when ? JsonbPGetDatum(c->when) : (Datum) 0;
	nulls[12] = c->when ? ' ' : 'n';
	if (fl_owner_query(&plan,
					   "INSERT INTO flowent.table_change_batches (trigger_id, workflow_id, workflow_version, "
					   " created_by, reader, op, table_name, columns, row_type, rows, old_rows, row_count, condition) "
					   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
					   13, types, a, nulls, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the rows of table trigger %s", c->trigger_id);
}

/*
 * Store the statement's changed rows (new rows of an insert or update, old
 * rows of a delete and of an update, paired by position); returns how many.
 */
int64
fl_table_changes_store(const FlTableChange *c, const char *op, const char *table, TriggerData *td)
{
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	bool		update = strcmp(op, "update") == 0;
	Tuplestorestate *rows = strcmp(op, "delete") == 0 ? td->tg_oldtable : td->tg_newtable;
	Tuplestorestate *old = update ? td->tg_oldtable : NULL;
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	bytea	   *row_type = row_type_bytes(desc);
	int			rptr,
				optr = 0;
	int64		total = 0;

	if (rows == NULL || (update && old == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("table trigger %s has no transition table for %s", c->trigger_id, op),
				 errhint("Make the trigger again with flowent.on_change().")));
	/* read pointers of our own: another trigger of the statement may read the same tables */
	rptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(rows, rptr);
	tuplestore_rescan(rows);
	if (old)
	{
		optr = tuplestore_alloc_read_pointer(old, EXEC_FLAG_REWIND);
		tuplestore_select_read_pointer(old, optr);
		tuplestore_rescan(old);
	}
	for (;;)
	{
		int			n,
					nold = 0;
		bytea	   *b,
				   *ob = NULL;

		tuplestore_select_read_pointer(rows, rptr);
		b = take_rows(rows, slot, ROWS_PER_BATCH, &n);
		if (old)
		{
			tuplestore_select_read_pointer(old, optr);
			ob = take_rows(old, slot, n, &nold);
			if (nold != n)
				elog(ERROR, "table trigger %s: an update's old and new rows differ in number", c->trigger_id);
		}
		if (n == 0)
			break;
		insert_batch(c, op, table, row_type, b, ob, n);
		total += n;
		pfree(b);
		if (ob)
			pfree(ob);
	}
	tuplestore_select_read_pointer(rows, 0);
	if (old)
		tuplestore_select_read_pointer(old, 0);
	ExecDropSingleTupleTableSlot(slot);
	if (total > 0)
		fl_wake_at_commit();
	return total;
}

/* A stored tuple stream, read one tuple at a time. */
typedef struct RowReader
{
	FlRowStream s;
	int64		batch;
} RowReader;

static void
reader_init(RowReader *r, bytea *b, int64 batch)
{
	fl_rowstream_init(&r->s, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	r->batch = batch;
}

/* the next tuple as a composite datum of desc, or false at the end */
static bool
reader_next(RowReader *r, TupleDesc desc, Datum *out)
{
	const char *rec;
	uint32		len;
	MinimalTuple mt;
	HeapTuple	ht;

	switch (fl_rowstream_next(&r->s, SizeofMinimalTupleHeader, &rec, &len))
	{
		case FL_ROWS_END:
			return false;
		case FL_ROWS_CORRUPT:
			goto corrupt;
		case FL_ROWS_RECORD:
			break;
	}
	mt = palloc(len);			/* aligned: the stored bytes are not */
	memcpy(mt, rec, len);
	if (mt->t_len != len || (mt->t_infomask2 & HEAP_NATTS_MASK) != desc->natts ||
		mt->t_hoff < MINIMAL_TUPLE_OFFSET + SizeofMinimalTupleHeader || mt->t_hoff > len + MINIMAL_TUPLE_OFFSET)
		goto corrupt;
	ht = heap_tuple_from_minimal_tuple(mt);
	pfree(mt);
	*out = heap_copy_tuple_as_datum(ht, desc);
	heap_freetuple(ht);
	return true;

corrupt:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("table change batch " INT64_FORMAT ": its rows are not ones Flowent wrote", r->batch)));
	return false;				/* not reached */
}

/* an update counts when one of the columns changed value (as JSON), or when there are none */
static bool
columns_changed(char **columns, int ncolumns, Jsonb *new_row, Jsonb *old_row)
{
	if (columns == NULL)
		return true;
	for (int i = 0; i < ncolumns; i++)
	{
		JsonbValue	nv,
					ov;
		bool		has_new = jb_get(new_row, columns[i], &nv);
		bool		has_old = jb_get(old_row, columns[i], &ov);

		if (has_new != has_old || (has_new && !jbv_equal(&nv, &ov)))
			return true;
	}
	return false;
}

typedef struct Batch
{
	int64		id;
	char	   *trigger_id;
	pg_uuid_t	workflow_id;
	int			version;
	char	   *created_by;
	Oid			reader;
	char	   *op;
	char	   *table;
	char	  **columns;		/* options.columns of an update, or NULL */
	int			ncolumns;
	bytea	   *row_type;
	bytea	   *rows;
	bytea	   *old_rows;
	Jsonb	   *condition;
} Batch;

/* Claim the oldest batch no other worker holds; false when there is none. */
static bool
claim_batch(Batch *b)
{
	static SPIPlanPtr plan = NULL;
	HeapTuple	row;
	TupleDesc	d;
	bool		isnull;
	Datum		v;

	if (fl_owner_query(&plan,
					   "SELECT id, trigger_id::text, workflow_id, workflow_version, created_by, reader, op, "
					   " table_name, columns, row_type, rows, old_rows, condition "
					   "FROM flowent.table_change_batches WHERE error IS NULL "
					   "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", 0, NULL, NULL, NULL, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look at the table changes");
	if (SPI_processed == 0)
		return false;
	row = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	b->id = DatumGetInt64(SPI_getbinval(row, d, 1, &isnull));
	b->trigger_id = SPI_getvalue(row, d, 2);
	memcpy(&b->workflow_id, DatumGetUUIDP(SPI_getbinval(row, d, 3, &isnull)), sizeof(pg_uuid_t));
	b->version = DatumGetInt32(SPI_getbinval(row, d, 4, &isnull));
	b->created_by = TextDatumGetCString(SPI_getbinval(row, d, 5, &isnull));
	b->reader = DatumGetObjectId(SPI_getbinval(row, d, 6, &isnull));
	b->op = TextDatumGetCString(SPI_getbinval(row, d, 7, &isnull));
	b->table = TextDatumGetCString(SPI_getbinval(row, d, 8, &isnull));
	v = SPI_getbinval(row, d, 9, &isnull);
	b->columns = NULL;
	b->ncolumns = 0;
	if (!isnull)
	{
		Datum	   *names;
		bool	   *nulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(v), TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &n);
		b->columns = palloc(sizeof(char *) * Max(n, 1));
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				b->columns[b->ncolumns++] = TextDatumGetCString(names[i]);
	}
	b->row_type = DatumGetByteaPCopy(SPI_getbinval(row, d, 10, &isnull));
	b->rows = DatumGetByteaPCopy(SPI_getbinval(row, d, 11, &isnull));
	v = SPI_getbinval(row, d, 12, &isnull);
	b->old_rows = isnull ? NULL : DatumGetByteaPCopy(v);
	v = SPI_getbinval(row, d, 13, &isnull);
	b->condition = isnull ? NULL : DatumGetJsonbPCopy(v);
	return true;
}

/*
 * The batch's payloads, as a jsonb[]; *count of them.  to_jsonb runs as the
 * table's owner, restricted: a cast to json of a column's type is the
 * owner's code, never the worker's superuser one.
 */
static Datum
batch_payloads(Batch *b, int *count)
{
	TupleDesc	desc = row_type_from_bytes(b->row_type, b->id);
	FmgrInfo	to_jsonb;
	RowReader	rows,
				old;
	Datum	   *out = NULL;
	int			n = 0,
				cap = 0;
	Oid			save_uid;
	int			save_sec;
	bool		is_update = strcmp(b->op, "update") == 0;
	bool		is_delete = strcmp(b->op, "delete") == 0;
	struct FlExec *when = b->condition ? fl_table_when_state() : NULL;
	OverrideSearchPath catalog_only = {.schemas = NIL, .addCatalog = true, .addTemp = false};

	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(b->reader)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table change batch " INT64_FORMAT ": the owner of %s (role %u) no longer exists",
						b->id, b->table, b->reader)));
	fmgr_info(F_TO_JSONB, &to_jsonb);
	to_jsonb.fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
											 list_make1(makeNullConst(RECORDOID, -1, InvalidOid)),
											 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	reader_init(&rows, b->rows, b->id);
	if (b->old_rows)
		reader_init(&old, b->old_rows, b->id);
	GetUserIdAndSecContext(&save_uid, &save_sec);
	PushOverrideSearchPath(&catalog_only);
	SetUserIdAndSecContext(b->reader, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		Datum		row;

		while (reader_next(&rows, desc, &row))
		{
			Jsonb	   *j = DatumGetJsonbP(FunctionCall1(&to_jsonb, row));
			Jsonb	   *oj = NULL;
			JB			p = {0};

			if (is_update)
			{
				Datum		orow;

				if (!b->old_rows || !reader_next(&old, desc, &orow))
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("table change batch " INT64_FORMAT ": an update without its old row", b->id)));
				oj = DatumGetJsonbP(FunctionCall1(&to_jsonb, orow));
				if (!columns_changed(b->columns, b->ncolumns, j, oj))
					continue;
			}
			if (when && !fl_table_when_keeps(when, b->condition, is_delete ? NULL : j, is_delete ? j : oj,
											 b->trigger_id))
				continue;
			jb_obj_begin(&p);
			jb_kv_str(&p, "op", b->op);
			jb_kv_str(&p, "table", b->table);
			if (is_delete)
			{
				jb_key(&p, "new");
				jb_null(&p);
				jb_kv_jsonb(&p, "old", j);
			}
			else
			{
				jb_kv_jsonb(&p, "new", j);
				if (oj)
					jb_kv_jsonb(&p, "old", oj);
				else
				{
					jb_key(&p, "old");
					jb_null(&p);
				}
			}
			jb_obj_end(&p);
			if (n == cap)
			{
				cap = cap ? cap * 2 : 1024;
				out = out ? repalloc(out, sizeof(Datum) * cap) : palloc(sizeof(Datum) * cap);
			}
			out[n++] = JsonbPGetDatum(jb_finish(&p));
			if ((n & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_uid, save_sec);
		PopOverrideSearchPath();
	}
	PG_END_TRY();
	*count = n;
	return PointerGetDatum(construct_array(out ? out : palloc(sizeof(Datum)), n, JSONBOID, -1, false, TYPALIGN_INT));
}

/* the executions the batch made, on its trigger's counter (if the trigger is still there) */
static void
count_executions(Batch *b, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {TEXTOID, INT4OID, INT8OID, INT8OID};
	Datum		a[4];

	a[0] = CStringGetTextDatum(b->trigger_id);
	a[1] = Int32GetDatum(MyProcPid);
	a[2] = Int64GetDatum(n);
	a[3] = Int64GetDatum(b->id);
	if (fl_owner_query(&plan,
					   "INSERT INTO flowent.table_trigger_fires AS f (trigger_id, backend, fires, executions, last_fired_at) "
					   "SELECT t.id, $2, 0, $3, b.created_at FROM flowent.table_change_triggers t, "
					   " flowent.table_change_batches b WHERE t.id = $1::uuid AND b.id = $4 "
					   "ON CONFLICT (trigger_id, backend) DO UPDATE SET executions = f.executions + EXCLUDED.executions",
					   4, types, a, NULL, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not count the executions of table trigger %s", b->trigger_id);
}

static void
delete_batch(int64 id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8OID};
	Datum		a[1] = {Int64GetDatum(id)};

	if (fl_owner_query(&plan, "DELETE FROM flowent.table_change_batches WHERE id = $1",
					   1, types, a, NULL, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not remove table change batch " INT64_FORMAT, id);
}

/* Queue the payloads as executions of the batch's workflow, as the trigger's creator. */
static void
queue_as_creator(Batch *b, Datum payloads, int n)
{
	const char *prev = fl_start_as(b->created_by);

	PG_TRY();
	{
		FlWorkflow *wf = fl_table_workflow(&b->workflow_id, b->version, b->created_by);
		FlExec	   *tmpl;
		Datum	   *ids = palloc(sizeof(Datum) * n);

		tmpl = fl_exec_create(wf, jsonb_from_cstring("{}", 2), jsonb_from_cstring("{}", 2), "table");
		tmpl->sync = false;
		for (int i = 0; i < n; i++)
		{
			pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

			fl_new_uuid(u);
			ids[i] = UUIDPGetDatum(u);
		}
		fl_store_queue_many(tmpl, PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR)),
							payloads);
	}
	PG_FINALLY();
	{
		fl_start_as(prev);
	}
	PG_END_TRY();
}

/*
 * In a worker's unit: turn the oldest batch into queued executions of its
 * workflow and delete it.  False when none waits; *batch_id names the
 * batch claimed, for an error on the way.
 */
bool
fl_table_changes_queue_next(int64 *batch_id)
{
	Batch		b;
	Datum		payloads;
	int			n;

	*batch_id = 0;
	if (!claim_batch(&b))
		return false;
	*batch_id = b.id;
	payloads = batch_payloads(&b, &n);
	if (n > 0)
	{
		queue_as_creator(&b, payloads, n);
		count_executions(&b, n);
		fl_wake_at_commit();
	}
	delete_batch(b.id);
	return true;
}

/* A batch that could not be turned into executions keeps its rows and says why. */
void
fl_table_changes_failed(int64 batch_id, const char *message)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		a[2] = {Int64GetDatum(batch_id), CStringGetTextDatum(message)};
	FlOwner		own;

	fl_owner_begin(&own);
	fl_spi_args("UPDATE flowent.table_change_batches SET error = $2, failed_at = clock_timestamp() WHERE id = $1",
				2, types, a, NULL, false, 0);
	fl_owner_end(&own);
}

