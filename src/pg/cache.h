/*
 * cache.h
 *	  Backend-local caches whose evictions cannot free what is in use.
 */
#ifndef FL_CACHE_H
#define FL_CACHE_H

#include "utils/hsearch.h"

typedef struct FlCache
{
	const char *name;
	Size		keysize;
	Size		entrysize;
	long		max_entries;
	bool		string_keys;
	HTAB	   *hash;
	MemoryContext cxt;			/* the hash and what entries point to */
} FlCache;

#define FL_CACHE_INIT(name, key_type, entry_type, max, strings) \
	{name, sizeof(key_type), sizeof(entry_type), max, strings, NULL, NULL}

extern void *fl_cache_find(FlCache *c, const void *key);
extern void *fl_cache_enter(FlCache *c, const void *key);
extern void fl_cache_remove(FlCache *c, const void *key, MemoryContext entry_cxt);
extern void fl_cache_reset(FlCache *c);
extern MemoryContext fl_cache_context(FlCache *c);
extern void fl_cache_retire(MemoryContext cxt);

#endif
