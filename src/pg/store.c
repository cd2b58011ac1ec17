/*
 * store.c
 *	  The engine's bookkeeping writes: executions, approvals, timers, and the
 *	  decisions' lock order (node logs: node_logs.c).
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

	fl_owner_plan(&plan,
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
	fl_owner_exec(plan, a, n, SPI_OK_INSERT);
	ex->row_written = true;
}

/*
 * Queue many pending executions of one workflow version at once (a table
 * trigger's statement): tmpl's row for each id of ids (uuid[]) with the
 * input of the same place in payloads (jsonb[]), and their queue entries,
 * in one statement.
 */
void
fl_store_queue_many(FlExec *tmpl, Datum ids, Datum payloads)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[13] = {UUIDARRAYOID, JSONBARRAYOID, UUIDOID, INT4OID, TIMESTAMPTZOID, TEXTOID,
		BOOLOID, TEXTOID, JSONBOID, JSONBOID, TEXTOID, INT4OID, TEXTARRAYOID};
	Datum		a[13];
	char		n[13];

	fl_owner_plan(&plan,
			 "WITH e AS (INSERT INTO flowent.workflow_executions (id, workflow_id, workflow_version, input, "
			 " started_at, user_id, is_test, mode, trigger_type, options, variables, status, run_as, depth, "
			 " root_execution_id, credential_names) "
			 " SELECT x.id, $3, $4, x.input, $5, $6, $7, 'async', $8, $9, $10, 'pending', $11, $12, x.id, $13 "
			 " FROM unnest($1, $2) AS x(id, input) RETURNING id) "
			 "INSERT INTO flowent.run_queue (execution_id, reason) SELECT e.id, 'start' FROM e",
			 13, types);
	memset(n, ' ', sizeof(n));
	a[0] = ids;
	a[1] = payloads;
	a[2] = UUIDPGetDatum(&tmpl->wf->id);
	a[3] = Int32GetDatum(tmpl->wf->version);
	a[4] = TimestampTzGetDatum(tmpl->started_at);
	a[5] = CStringGetTextDatum(tmpl->user_id);
	a[6] = BoolGetDatum(tmpl->is_test);
	a[7] = CStringGetTextDatum(tmpl->trigger_type);
	a[8] = JsonbPGetDatum(tmpl->options);
	a[9] = JsonbPGetDatum(fl_scrub_jsonb(tmpl, fl_variables_object(tmpl)));
	a[10] = TXT(tmpl->run_as);
	n[10] = NUL(tmpl->run_as);
	a[11] = Int32GetDatum(tmpl->depth);
	a[12] = credential_names_datum(tmpl);
	fl_owner_exec(plan, a, n, SPI_OK_INSERT);
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
	fl_owner_plan(&plan,
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
	fl_owner_exec(plan, a, n, SPI_OK_UPDATE);
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
	fl_owner_plan(&plan,
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
	fl_owner_exec(plan, a, n, SPI_OK_INSERT);
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
	fl_owner_plan(&plan,
			 "INSERT INTO flowent.timers (execution_id, node_id, kind, fire_at, payload) "
			 "VALUES ($1, $2, $3, $4, $5)", 5, types);
	a[0] = UUIDPGetDatum(&ex->id);
	a[1] = CStringGetTextDatum(ex->wf->nodes[node].id);
	a[2] = CStringGetTextDatum(kind);
	a[3] = TimestampTzGetDatum(fire_at);
	if (payload == NULL)
		payload = jsonb_from_cstring("{}", 2);
	if (ex->iteration[0])
	{
		/* the worker continues the node in this iteration (waiting_iteration) */
		JB			b = {0};

		jb_obj_begin(&b);
		jb_kv_str(&b, "iteration", ex->iteration);
		jb_obj_end(&b);
		payload = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(payload),
													 JsonbPGetDatum(jb_finish(&b))));
	}
	a[4] = JsonbPGetDatum(payload);
	fl_owner_exec(plan, a, NULL, SPI_OK_INSERT);
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
