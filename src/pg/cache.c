/*
 * cache.c
 *	  Backend-local caches whose evictions cannot free what is in use.
 *
 * A run holds pointers into caches (its parsed workflow, the node type
 * infos that workflow points to, parsed templates) while it loads more
 * (a sub-workflow, a template), and loading may evict.  So nothing a cache
 * drops is freed at once: its memory is retired, and retired memory is
 * freed when the top-level transaction ends, when no run can still point
 * into it (runs never span transactions; what outlives one is copied).
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "pg/cache.h"

static MemoryContext retired = NULL;
static bool callback_registered = false;

static void
free_retired(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		 event == XACT_EVENT_PREPARE) && retired != NULL)
		MemoryContextReset(retired);
}

/* Free cxt (with its children) once the transaction has ended. */
void
fl_cache_retire(MemoryContext cxt)
{
	if (cxt == NULL)
		return;
	if (retired == NULL)
		retired = AllocSetContextCreate(TopMemoryContext, "flowent retired cache memory",
										ALLOCSET_SMALL_SIZES);
	if (!callback_registered)
	{
		RegisterXactCallback(free_retired, NULL);
		callback_registered = true;
	}
	if (!IsTransactionState())
		MemoryContextDelete(cxt);
	else
		MemoryContextSetParent(cxt, retired);
}

static void
create(FlCache *c)
{
	HASHCTL		ctl;

	c->cxt = AllocSetContextCreate(CacheMemoryContext, "flowent cache", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSetIdentifier(c->cxt, c->name);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = c->keysize;
	ctl.entrysize = c->entrysize;
	ctl.hcxt = c->cxt;
	c->hash = hash_create(c->name, 64, &ctl,
						  HASH_ELEM | HASH_CONTEXT | (c->string_keys ? HASH_STRINGS : HASH_BLOBS));
}

/* Drop every entry (their memory is retired, not freed). */
void
fl_cache_reset(FlCache *c)
{
	if (c->cxt)
		fl_cache_retire(c->cxt);
	c->cxt = NULL;
	c->hash = NULL;
}

/* The context entries allocate what they point to in. */
MemoryContext
fl_cache_context(FlCache *c)
{
	if (c->hash == NULL)
		create(c);
	return c->cxt;
}

void *
fl_cache_find(FlCache *c, const void *key)
{
	if (c->hash == NULL)
		return NULL;
	return hash_search(c->hash, key, HASH_FIND, NULL);
}

/*
 * The entry of key, new (zeroed after the key) or existing; a full cache is
 * reset first.  Allocate what it points to in fl_cache_context() after this.
 */
void *
fl_cache_enter(FlCache *c, const void *key)
{
	bool		found;
	char	   *e;

	if (c->hash != NULL && hash_get_num_entries(c->hash) >= c->max_entries &&
		hash_search(c->hash, key, HASH_FIND, NULL) == NULL)
		fl_cache_reset(c);
	if (c->hash == NULL)
		create(c);
	e = hash_search(c->hash, key, HASH_ENTER, &found);
	if (!found)
		memset(e + c->keysize, 0, c->entrysize - c->keysize);
	return e;
}

/* Forget one entry; entry_cxt (what it owned, if its own) is retired. */
void
fl_cache_remove(FlCache *c, const void *key, MemoryContext entry_cxt)
{
	if (c->hash != NULL)
		hash_search(c->hash, key, HASH_REMOVE, NULL);
	fl_cache_retire(entry_cxt);
}
