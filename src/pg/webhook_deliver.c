/*
 * webhook_deliver.c
 *	  flowent.gateway_webhook_deliver: the signed webhook deliveries that the
 *	  gateway groups into one transaction (a group commit: one WAL flush for
 *	  all of them), each in its own subtransaction.
 *
 * The gateway checked each signature with a secret it remembers and sends
 * that secret's sha256.  Each delivery, in order, answers one row: 'stale'
 * when the workflow is not published or its secret's sha256 differs (rotated
 * since), 'replayed' when its signature was recorded before, else the
 * answer of the owner's run of the published version (text: numbers stay
 * exact), or 'error ' || {sqlstate, message, detail} when it failed.  A delivery that
 * fails leaves no replay record and no trace of its run; the others run.
 *
 * In C, not plpgsql: the plpgsql chain (secret, record, run, start) was as
 * much CPU per delivery as the run itself.  One statement checks the secret,
 * records the signature and gives the owner, the published version and the
 * wait setting.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "pg/api.h"
#include "pg/engine.h"
#include "pg/jsonb_util.h"
#include "pg/subxact.h"

PG_FUNCTION_INFO_V1(flowent_gateway_webhook_deliver);

/* The longest signature recorded (the gateway sends "sha256=" and 64 hex digits). */
#define SIGNATURE_MAX 512

/* The published workflow a delivery runs. */
typedef struct HookTarget
{
	char	   *owner;
	int			version;
	bool		wait;			/* settings.webhookWait */
} HookTarget;

typedef enum HookCheck
{
	HOOK_STALE,
	HOOK_REPLAYED,
	HOOK_NEW
} HookCheck;

/* Elements of a one-dimensional array argument (none for NULL). */
static int
array_arg(FunctionCallInfo fcinfo, int arg, Oid type, Datum **vals, bool **nulls)
{
	ArrayType  *a;
	int16		len;
	bool		byval;
	char		align;
	int			n;

	*vals = NULL;
	*nulls = NULL;
	if (PG_ARGISNULL(arg))
		return 0;
	a = PG_GETARG_ARRAYTYPE_P(arg);
	if (ARR_NDIM(a) > 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("ids, signatures, bodies, waits and digests must be one-dimensional arrays")));
	get_typlenbyvalalign(type, &len, &byval, &align);
	deconstruct_array(a, type, len, byval, align, vals, nulls, &n);
	return n;
}

/*
 * The published workflow id whose secret's sha256 is digest, and the
 * delivery's signature recorded for it, in one statement: stale when there
 * is no such workflow, replayed when the signature was recorded before.
 */
static HookCheck
hook_check(Datum id, text *signature, text *digest, HookTarget *t)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {UUIDOID, TEXTOID, TEXTOID};
	Datum		a[3];
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;

	if (signature == NULL || VARSIZE_ANY_EXHDR(signature) < 1 ||
		pg_mbstrlen_with_len(VARDATA_ANY(signature), VARSIZE_ANY_EXHDR(signature)) > SIGNATURE_MAX)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("signature must be 1 to %d characters", SIGNATURE_MAX)));
	if (digest == NULL)
		return HOOK_STALE;
	a[0] = id;
	a[1] = PointerGetDatum(signature);
	a[2] = PointerGetDatum(digest);
	if (fl_owner_query(&plan,
					   "WITH w AS (SELECT user_id, published_version, "
					   "  coalesce(settings -> 'webhookWait' = 'true'::jsonb, false) AS wait "
					   " FROM flowent.workflows WHERE id = $1 AND is_published AND published_version >= 1 "
					   "  AND encode(sha256(convert_to(webhook_secret::text, 'UTF8')), 'hex') = $3), "
					   "r AS (INSERT INTO flowent.webhook_deliveries (workflow_id, signature) SELECT $1, $2 FROM w "
					   " ON CONFLICT ON CONSTRAINT webhook_deliveries_pkey DO NOTHING RETURNING 1) "
					   "SELECT user_id, published_version, wait, EXISTS (SELECT 1 FROM r) FROM w",
					   3, types, a, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not check the webhook delivery");
	if (SPI_processed == 0)
		return HOOK_STALE;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	t->owner = SPI_getvalue(row, desc, 1);
	t->version = DatumGetInt32(SPI_getbinval(row, desc, 2, &isnull));
	t->wait = DatumGetBool(SPI_getbinval(row, desc, 3, &isnull));
	return DatumGetBool(SPI_getbinval(row, desc, 4, &isnull)) ? HOOK_NEW : HOOK_REPLAYED;
}

/* The status of the stored execution. */
static char *
execution_status(Datum exec_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {UUIDOID};
	Datum		a[1] = {exec_id};

	if (fl_owner_query(&plan, "SELECT status::text FROM flowent.workflow_executions WHERE id = $1",
					   1, types, a, NULL, 1) != SPI_OK_SELECT || SPI_processed == 0)
		elog(ERROR, "the queued execution is not there");
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * Run the published version as its owner, with trigger type webhook:
 * synchronously (wait) with the run's result and success, or queued with
 * {success, executionId, status}.
 */
static char *
run_hook(Datum id, HookTarget *t, text *body, bool wait)
{
	Datum		payload = body ? DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(body)))
		: DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	Datum		options = DirectFunctionCall1(jsonb_in,
											  CStringGetDatum(psprintf("{\"triggerType\": \"webhook\", \"version\": %d}", t->version)));
	Jsonb	   *answer;

	DirectFunctionCall1(flowent_set_acting_user, PointerGetDatum(cstring_to_text(t->owner)));
	if (wait)
	{
		Jsonb	   *r = DatumGetJsonbP(DirectFunctionCall3(flowent_run, id, payload, options));
		char	   *status = jb_get_cstring(r, "status");
		Datum		success = DirectFunctionCall1(jsonb_in, CStringGetDatum(
			status && strcmp(status, "success") == 0 ? "{\"success\": true}" : "{\"success\": false}"));

		answer = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, success, JsonbPGetDatum(r)));
	}
	else
	{
		Datum		exec = DirectFunctionCall3(flowent_execute, id, payload, options);
		char	   *exec_text = DatumGetCString(DirectFunctionCall1(uuid_out, exec));
		StringInfoData s;

		initStringInfo(&s);
		appendStringInfo(&s, "{\"success\": true, \"executionId\": \"%s\", \"status\": ", exec_text);
		escape_json(&s, execution_status(exec));
		appendStringInfoChar(&s, '}');
		answer = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
	}
	return JsonbToCString(NULL, &answer->root, VARSIZE(answer));
}

/* One delivery (fl_subxact_try's work): its arguments and its answer. */
typedef struct Delivery
{
	Datum		id;
	bool		id_null;
	text	   *signature;
	text	   *body;
	bool		wait_given;
	bool		wait;
	text	   *digest;
	char	   *answer;
} Delivery;

static void
deliver(void *arg)
{
	Delivery   *d = arg;
	HookTarget	t;

	if (d->id_null)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("id must not be null")));
	switch (hook_check(d->id, d->signature, d->digest, &t))
	{
		case HOOK_STALE:
			d->answer = "stale";
			return;
		case HOOK_REPLAYED:
			d->answer = "replayed";
			return;
		case HOOK_NEW:
			break;
	}
	d->answer = run_hook(d->id, &t, d->body, d->wait_given ? d->wait : t.wait);
}

/* 'error ' || {sqlstate, message, detail} */
static char *
error_answer(ErrorData *e)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "error {\"sqlstate\": \"%s\", \"message\": ", unpack_sql_state(e->sqlerrcode));
	escape_json(&s, e->message ? e->message : "");
	appendStringInfoString(&s, ", \"detail\": ");
	if (e->detail && e->detail[0])
		escape_json(&s, e->detail);
	else
		appendStringInfoString(&s, "null");
	appendStringInfoChar(&s, '}');
	return s.data;
}

/*
 * flowent.gateway_webhook_deliver(ids uuid[], signatures text[], bodies
 * text[], waits boolean[], digests text[]) RETURNS TABLE (n integer, answer
 * text).  A NULL wait: the workflow's own setting (settings.webhookWait).
 */
Datum
flowent_gateway_webhook_deliver(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *ids,
			   *sigs,
			   *bodies,
			   *waits,
			   *digests;
	bool	   *ids_null,
			   *sigs_null,
			   *bodies_null,
			   *waits_null,
			   *digests_null;
	int			k;
	MemoryContext one;
	static SPIPlanPtr prune = NULL;

	InitMaterializedSRF(fcinfo, 0);
	k = array_arg(fcinfo, 0, UUIDOID, &ids, &ids_null);
	if (array_arg(fcinfo, 1, TEXTOID, &sigs, &sigs_null) != k ||
		array_arg(fcinfo, 2, TEXTOID, &bodies, &bodies_null) != k ||
		array_arg(fcinfo, 3, BOOLOID, &waits, &waits_null) != k ||
		array_arg(fcinfo, 4, TEXTOID, &digests, &digests_null) != k)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("ids, signatures, bodies, waits and digests must be arrays of the same length")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* old signatures go once per batch, not once per delivery */
	if (fl_owner_query(&prune, "SELECT flowent._webhook_deliveries_prune()", 0, NULL, NULL, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not prune old webhook signatures");
	one = AllocSetContextCreate(CurrentMemoryContext, "webhook delivery", ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < k; i++)
	{
		MemoryContext caller = MemoryContextSwitchTo(one);
		Delivery	d = {ids[i], ids_null[i],
			sigs_null[i] ? NULL : DatumGetTextPP(sigs[i]),
			bodies_null[i] ? NULL : DatumGetTextPP(bodies[i]),
			!waits_null[i], !waits_null[i] && DatumGetBool(waits[i]),
		digests_null[i] ? NULL : DatumGetTextPP(digests[i]), NULL};
		ErrorData  *e = fl_subxact_try(deliver, &d);
		Datum		row[2];
		bool		row_null[2] = {false, false};

		/* a cancel or a shutdown stops the batch (its transaction rolls back) */
		if (e && (e->sqlerrcode == ERRCODE_QUERY_CANCELED || e->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN))
			ReThrowError(e);
		row[0] = Int32GetDatum(i + 1);
		row[1] = CStringGetTextDatum(e ? error_answer(e) : d.answer);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, row_null);
		MemoryContextSwitchTo(caller);
		MemoryContextReset(one);
	}
	MemoryContextDelete(one);
	SPI_finish();
	return (Datum) 0;
}
