/*
 * registry.c
 *	  Backend-local cache of flowent.node_types.
 *
 * Reloaded when the table changes: a statement trigger on node_types calls
 * flowent._registry_changed(), which sends a relcache invalidation for the
 * table; every backend's callback then bumps the generation at commit.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "nodes/fl_nodes.h"
#include "pg/cache.h"
#include "pg/engine.h"
#include "pg/jsonb_util.h"

typedef struct RegistryEntry
{
	char		type[NAMEDATALEN * 2];
	FlTypeInfo	info;
} RegistryEntry;

typedef char RegistryKey[NAMEDATALEN * 2];

static FlCache registry = FL_CACHE_INIT("flowent registry", RegistryKey, RegistryEntry, LONG_MAX, true);
static bool registry_loaded = false;
static uint64 generation = 1;
static uint64 loaded_generation = 0;
static Oid	node_types_relid = InvalidOid;

/* Relcache callback: node_types (or everything) was invalidated. */
static void
registry_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == node_types_relid)
		generation++;
}

void
fl_registry_init(void)
{
	CacheRegisterRelcacheCallback(registry_inval, (Datum) 0);
}

uint64
fl_registry_generation(void)
{
	return generation;
}

/* Load every row of node_types afresh (infos still in use stay valid). */
static void
registry_load(void)
{
	MemoryContext old;
	int			ret;

	fl_cache_reset(&registry);
	registry_loaded = true;
	node_types_relid = get_relname_relid("node_types", get_namespace_oid("flowent", false));
	loaded_generation = generation;

	ret = fl_spi("SELECT type, category, handles, config_schema, handler::oid "
					  "FROM flowent.node_types", false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read flowent.node_types");

	old = MemoryContextSwitchTo(fl_cache_context(&registry));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *type = SPI_getvalue(tup, desc, 1);
		RegistryEntry *e;
		Jsonb	   *handles;
		JsonbValue	hv;
		Datum		d;

		if (strlen(type) >= NAMEDATALEN * 2)
			continue;
		e = fl_cache_enter(&registry, type);
		e->info.type = pstrdup(type);
		e->info.category = SPI_getvalue(tup, desc, 2);
		handles = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 3, &isnull));
		jbv_from_jsonb(handles, &hv);
		if (jbv_is_array(&hv))
		{
			int			n = jbv_array_size(&hv);

			e->info.handles = palloc0(sizeof(char *) * (n + 1));
			for (int k = 0; k < n; k++)
			{
				JsonbValue	el;

				if (jbv_get_index(&hv, k, &el) && el.type == jbvString)
					e->info.handles[e->info.nhandles++] = jbv_cstring(&el);
			}
		}
		d = SPI_getbinval(tup, desc, 4, &isnull);
		e->info.schema = isnull ? NULL : DatumGetJsonbPCopy(d);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		e->info.handler = isnull ? InvalidOid : DatumGetObjectId(d);
		e->info.impl = OidIsValid(e->info.handler) ? &fl_node_custom : fl_builtin_node_type(type);
	}
	MemoryContextSwitchTo(old);
}

/* The registered type, or NULL.  Caller is connected to SPI. */
const FlTypeInfo *
fl_registry_lookup(const char *type)
{
	RegistryEntry *e;

	if (!registry_loaded || loaded_generation != generation)
		registry_load();
	if (strlen(type) >= NAMEDATALEN * 2)
		return NULL;
	e = fl_cache_find(&registry, type);
	if (e == NULL || e->info.impl == NULL)
		return NULL;
	return &e->info;
}

PG_FUNCTION_INFO_V1(flowent_registry_changed);

/* Statement trigger on node_types: invalidate every backend's cache. */
Datum
flowent_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "flowent._registry_changed() must be called as a trigger");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(td->tg_relation));
	return PointerGetDatum(NULL);
}
