/*
 * table_trigger.c
 *	  flowent._table_changed(): the statement-level AFTER trigger that
 *	  flowent.on_change() puts on a watched table (12_table_triggers.sql).
 *
 * One firing per statement, however many rows it wrote.  Async (the
 * default): the statement's transition tables are stored as they are, and a
 * worker makes the payloads, applies `columns` and `when` and queues the
 * executions after the commit (table_changes.c).  Sync: the rows are read
 * here as {op, table, new, old} payloads (to_jsonb of each row, numbers
 * exact), `columns` and `when` keep some, and each runs inside the writing
 * statement.
 * Who acts is the trigger's creator, never the writer of the row: the
 * engine's identity for the firing is set from the trigger's record.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "nodes/fl_nodes.h"
#include "nodes/rules.h"
#include "pg/context.h"
#include "pg/engine.h"
#include "pg/exec_internal.h"
#include "pg/jsonb_util.h"
#include "pg/table_changes.h"
#include "worker/worker.h"

PG_FUNCTION_INFO_V1(flowent_table_changed);
PG_FUNCTION_INFO_V1(flowent_check_when);

typedef struct TableTrigger
{
	char	   *id;
	pg_uuid_t	workflow_id;
	Oid			target;
	Jsonb	   *options;
	char	   *created_by;
	int			version;		/* to run: options.version, the published one, else the latest */
} TableTrigger;

static void
load_trigger(const char *id, TableTrigger *t)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {UUIDOID};
	Datum		a[1];
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	JsonbValue	v;

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(id));
	if (fl_owner_query(&plan,
					   "SELECT c.workflow_id, c.target::oid, c.options, c.created_by, "
					   " CASE WHEN w.is_published AND w.published_version >= 1 THEN w.published_version "
					   " ELSE w.version END "
					   "FROM flowent.table_change_triggers c JOIN flowent.workflows w ON w.id = c.workflow_id "
					   "WHERE c.id = $1", 1, types, a, NULL, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read table trigger %s", id);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table trigger %s does not exist", id),
				 errhint("A trigger calling flowent._table_changed() outlived its record; drop it, or make a new one with flowent.on_change().")));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	t->id = pstrdup(id);
	memcpy(&t->workflow_id, DatumGetUUIDP(SPI_getbinval(row, desc, 1, &isnull)), sizeof(pg_uuid_t));
	t->target = DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));
	t->options = DatumGetJsonbPCopy(SPI_getbinval(row, desc, 3, &isnull));
	t->created_by = TextDatumGetCString(SPI_getbinval(row, desc, 4, &isnull));
	t->version = DatumGetInt32(SPI_getbinval(row, desc, 5, &isnull));
	if (jb_get(t->options, "version", &v) && v.type == jbvNumeric)
		t->version = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v.val.numeric)));
}

/* options.columns of an update as a text[], or 0 when every update counts */
static Datum
update_columns(TableTrigger *t, const char *op)
{
	JsonbValue	cols,
				el;
	int			n;
	Datum	   *d;

	if (strcmp(op, "update") != 0 || !jb_get(t->options, "columns", &cols) || !jbv_is_array(&cols))
		return (Datum) 0;
	n = jbv_array_size(&cols);
	d = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n && jbv_get_index(&cols, i, &el); i++)
		d[i] = CStringGetTextDatum(jbv_cstring(&el));
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The statement's rows as payloads, in the order written.  An update's old
 * and new rows are paired by their position in the two transition tables,
 * which the executor fills together, row by row.  With `columns`, an update
 * counts only when one of them changed value.
 */
static void
read_rows(TableTrigger *t, const char *op, const char *table)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		a[3];
	char		nulls[3] = {' ', ' ', ' '};
	const char *sql;
	int			ret;
	OverrideSearchPath catalog_only = {.schemas = NIL, .addCatalog = true, .addTemp = false};

	a[0] = CStringGetTextDatum(op);
	a[1] = CStringGetTextDatum(table);
	a[2] = update_columns(t, op);
	nulls[2] = a[2] == (Datum) 0 ? 'n' : ' ';
	if (strcmp(op, "update") == 0)
		sql = "SELECT jsonb_build_object('op', $1, 'table', $2, 'new', n.j, 'old', o.j) "
			"FROM (SELECT to_jsonb(r) AS j, row_number() OVER () AS i FROM flowent_rows r) n "
			"JOIN (SELECT to_jsonb(r) AS j, row_number() OVER () AS i FROM flowent_old r) o ON o.i = n.i "
			"WHERE $3 IS NULL OR EXISTS (SELECT 1 FROM unnest($3) c WHERE n.j -> c IS DISTINCT FROM o.j -> c) "
			"ORDER BY n.i";
	else if (strcmp(op, "insert") == 0)
		sql = "SELECT jsonb_build_object('op', $1, 'table', $2, 'new', to_jsonb(r), 'old', NULL) FROM flowent_rows r";
	else
		sql = "SELECT jsonb_build_object('op', $1, 'table', $2, 'new', NULL, 'old', to_jsonb(r)) FROM flowent_rows r";
	/*
	 * As the writer (casts to json of the writer's types run as the writer,
	 * never as the schema owner), with pg_catalog alone on the search path.
	 */
	PushOverrideSearchPath(&catalog_only);
	ret = fl_spi_args(sql, strcmp(op, "update") == 0 ? 3 : 2, types, a, nulls, true, 0);
	PopOverrideSearchPath();
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the rows of table trigger %s", t->id);
}

/*
 * The state `when` conditions are evaluated in: an execution of an empty
 * workflow whose variables new and old are the row's, so {{new.status}}
 * resolves as in any condition node.
 */
FlExec *
fl_table_when_state(void)
{
	FlWorkflow *empty = fl_workflow_build(jsonb_from_cstring("[]", 2), jsonb_from_cstring("[]", 2),
										  CurrentMemoryContext);

	return fl_exec_create(empty, jsonb_from_cstring("{}", 2), jsonb_from_cstring("{}", 2), "table");
}

/* a rules message without its 'node "?": ' prefix: a `when` belongs to no node */
static const char *
when_message(FlNodeResult *res)
{
	const char *m = res->error_message ? res->error_message : "the condition could not be evaluated";

	if (strncmp(m, "node \"?\": ", 10) == 0)
		m += 10;
	else if (strncmp(m, "node \"\": ", 9) == 0)
		m += 9;
	return m;
}

/* true/false, or an error: *failed with res set */
static bool
when_holds(FlExec *ex, Jsonb *when, Jsonb *new_row, Jsonb *old_row, FlNodeResult *res, bool *failed)
{
	FlNodeCall	call = {0};
	JsonbValue	group,
				list;

	fl_set_variable(ex, "new", new_row ? new_row : jsonb_from_cstring("null", 4));
	fl_set_variable(ex, "old", old_row ? old_row : jsonb_from_cstring("null", 4));
	call.ex = ex;
	call.node = -1;
	call.config = when;
	jbv_from_jsonb(when, &group);
	*failed = false;
	if (jb_get(when, "conditions", &list))
		return fl_eval_group(&call, res, &group, "when", failed) == FL_TRI_TRUE;
	/* a single rule: a group of one */
	{
		char	   *one = psprintf("[%s]", JsonbToCString(NULL, &when->root, VARSIZE(when)));

		jbv_from_jsonb(jsonb_from_cstring(one, strlen(one)), &list);
	}
	return fl_eval_rules(&call, res, &list, NULL, "when.", failed) == FL_TRI_TRUE;
}

/* Does `when` hold for the row?  Its evaluation failing is an error naming the trigger. */
bool
fl_table_when_keeps(FlExec *ex, Jsonb *when, Jsonb *new_row, Jsonb *old_row, const char *trigger_id)
{
	FlNodeResult res = {0};
	bool		failed;
	bool		hold = when_holds(ex, when, new_row, old_row, &res, &failed);

	if (failed)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("table trigger %s: options.when: %s: %s", trigger_id,
						res.error_code ? res.error_code : "INVALID_CONFIG", when_message(&res))));
	return hold;
}

/* The rows of the last SPI result that `when` keeps, as a jsonb[] of payloads. */
static Datum
kept_payloads(TableTrigger *t, int *count)
{
	uint64		n = SPI_processed;
	SPITupleTable *tt = SPI_tuptable;
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			kept = 0;
	JsonbValue	when;
	Jsonb	   *when_j = NULL;
	FlExec	   *ex = NULL;

	if (jb_get(t->options, "when", &when) && jbv_is_object(&when))
	{
		when_j = jbv_to_jsonb(&when);
		ex = fl_table_when_state();
	}
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Jsonb	   *p = DatumGetJsonbPCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));

		if (ex)
		{
			JsonbValue	nv,
						ov;

			jb_get(p, "new", &nv);
			jb_get(p, "old", &ov);
			if (!fl_table_when_keeps(ex, when_j, nv.type == jbvNull ? NULL : jbv_to_jsonb(&nv),
									 ov.type == jbvNull ? NULL : jbv_to_jsonb(&ov), t->id))
				continue;
		}
		d[kept++] = JsonbPGetDatum(p);
	}
	*count = kept;
	return PointerGetDatum(construct_array(d, kept, JSONBOID, -1, false, TYPALIGN_INT));
}

/* Run every payload here, one after the other; a failed run fails the statement. */
static void
run_each(TableTrigger *t, FlWorkflow *wf, ArrayType *payloads, int n)
{
	Datum	   *d;
	int			nd;

	deconstruct_array(payloads, JSONBOID, -1, false, TYPALIGN_INT, &d, NULL, &nd);
	for (int i = 0; i < nd; i++)
	{
		Jsonb	   *r = fl_run_workflow(wf, DatumGetJsonbP(d[i]), jsonb_from_cstring("{}", 2), "table",
										NULL, NULL, NULL);
		char	   *status = jb_get_cstring(r, "status");

		if (status && strcmp(status, "error") == 0)
		{
			JsonbValue	err;
			char	   *code = NULL,
					   *msg = NULL,
					   *node = NULL;

			if (jb_get(r, "error", &err) && jbv_is_object(&err))
			{
				Jsonb	   *e = jbv_to_jsonb(&err);

				code = jb_get_cstring(e, "code");
				msg = jb_get_cstring(e, "message");
				node = jb_get_cstring(e, "nodeId");
			}
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
					 errmsg("table trigger %s: workflow %s failed%s%s%s: %s: %s", t->id,
							FL_UUID_STR(&t->workflow_id), node ? " at node \"" : "", node ? node : "",
							node ? "\"" : "", code ? code : "ERROR", msg ? msg : "no message"),
					 errdetail("The trigger runs in the writing statement (options.mode sync): the write is undone with the run."),
					 errhint("Execution %s; use options.mode async to queue runs instead.",
							 jb_get_cstring(r, "executionId"))));
		}
	}
}

static void
count_firing(TableTrigger *t, int n)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {UUIDOID, INT4OID, INT8OID};
	Datum		a[3];

	a[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(t->id));
	a[1] = Int32GetDatum(MyProcPid);
	a[2] = Int64GetDatum(n);
	if (fl_owner_query(&plan,
					   "INSERT INTO flowent.table_trigger_fires AS f (trigger_id, backend, fires, executions, last_fired_at) "
					   "VALUES ($1, $2, 1, $3, clock_timestamp()) "
					   "ON CONFLICT (trigger_id, backend) DO UPDATE SET fires = f.fires + 1, "
					   " executions = f.executions + EXCLUDED.executions, last_fired_at = EXCLUDED.last_fired_at",
					   3, types, a, NULL, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not count the firing of table trigger %s", t->id);
}

/*
 * The workflow version a trigger starts, as its creator sees it, checked
 * startable and runnable; the caller acts as the creator (fl_start_as).
 */
FlWorkflow *
fl_table_workflow(pg_uuid_t *workflow_id, int version, const char *created_by)
{
	FlWorkflow *wf = fl_workflow_load_for(workflow_id, version, created_by, false);

	fl_workflow_check_startable(wf);
	fl_workflow_check_runnable(wf);
	return wf;
}

/* The workflow it starts, checked as the creator: a write it cannot start fails now. */
static void
check_startable(TableTrigger *t)
{
	const char *prev = fl_start_as(t->created_by);

	PG_TRY();
	{
		(void) fl_table_workflow(&t->workflow_id, t->version, t->created_by);
	}
	PG_FINALLY();
	{
		fl_start_as(prev);
	}
	PG_END_TRY();
}

/*
 * Async: the rows are stored as written, and a worker makes their payloads
 * and executions after the commit (table_changes.c).
 */
static void
store_rows(TableTrigger *t, const char *op, const char *table, TriggerData *td)
{
	FlTableChange c = {0};
	JsonbValue	when;
	int64		n;

	check_startable(t);
	c.trigger_id = t->id;
	c.workflow_id = &t->workflow_id;
	c.version = t->version;
	c.created_by = t->created_by;
	c.reader = td->tg_relation->rd_rel->relowner;
	c.columns = update_columns(t, op);
	if (jb_get(t->options, "when", &when) && jbv_is_object(&when))
		c.when = jbv_to_jsonb(&when);
	n = fl_table_changes_store(&c, op, table, td);
	if (n > 0)
		count_firing(t, 0);
}

Datum
flowent_table_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TableTrigger t;
	const char *op;
	char	   *table;
	Relation	rel;
	ArrayType  *payloads;
	int			n;
	const char *prev;
	bool		sync;
	char	   *mode;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || td->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("flowent._table_changed() runs only as the statement trigger flowent.on_change() makes")));
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		op = "insert";
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		op = "update";
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		op = "delete";
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("flowent._table_changed() handles insert, update and delete")));
	rel = td->tg_relation;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	load_trigger(td->tg_trigger->tgargs[0], &t);
	if (t.target != RelationGetRelid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("table trigger %s watches another table, not %s", t.id, RelationGetRelationName(rel))));
	if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
		elog(ERROR, "could not register the transition tables");
	table = psprintf("%s.%s", get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
	mode = jb_get_cstring(t.options, "mode");
	sync = mode && strcmp(mode, "sync") == 0;
	if (!sync)
	{
		store_rows(&t, op, table, td);
		SPI_finish();
		return PointerGetDatum(NULL);
	}
	read_rows(&t, op, table);
	payloads = DatumGetArrayTypeP(kept_payloads(&t, &n));
	if (n == 0)
	{
		SPI_finish();
		return PointerGetDatum(NULL);
	}
	/* the creator acts for the whole firing, also when a node of another run wrote the rows */
	prev = fl_start_as(t.created_by);
	PG_TRY();
	{
		run_each(&t, fl_table_workflow(&t.workflow_id, t.version, t.created_by), payloads, n);
	}
	PG_FINALLY();
	{
		fl_start_as(prev);
	}
	PG_END_TRY();
	count_firing(&t, n);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * flowent._check_when(condition, row): its configuration errors, on a row
 * of the table's columns, all null, as new and as old.
 */
Datum
flowent_check_when(PG_FUNCTION_ARGS)
{
	Jsonb	   *when = PG_GETARG_JSONB_P(0);
	Jsonb	   *row = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	FlNodeResult res = {0};
	bool		failed;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	when_holds(fl_table_when_state(), when, row, row, &res, &failed);
	if (failed)
	{
		const char *m = when_message(&res);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 strncmp(m, "when", 4) == 0 ? errmsg("options.%s", m) : errmsg("options.when: %s", m)));
	}
	SPI_finish();
	PG_RETURN_VOID();
}
