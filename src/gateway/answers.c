/*
 * answers.c
 *	  Answers of cacheable routes, each kept with the change stamp and user
 *	  it was made under (GW_STAMP_SQL), within a byte budget, least recently
 *	  used first out.
 *
 *	  Stamps count up within an epoch (a server start), so once a newer stamp
 *	  is seen every kept answer is out of date: the store holds answers of
 *	  the newest stamp only and empties itself when one arrives.  An answer
 *	  made under an older stamp than the newest seen is not kept.
 */
#include "gateway/answers.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/util.h"

#define NBUCKETS 4096

typedef struct entry
{
	struct entry *hnext;
	struct entry *prev,
			   *next;			/* most recently used first */
	uint32_t	hash;
	char	   *key;
	gw_answer	a;
} entry;

static entry *buckets[NBUCKETS];
static entry *mru,
		   *lru;
static size_t max_bytes,
			bytes;
static long nentries;
static bool have_latest;
static uint64_t latest_epoch,
			latest_count;
static long hits,
			shared,
			misses;

static uint32_t
hash_of(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

static size_t
size_of(const entry *e)
{
	return sizeof(*e) + strlen(e->key) + strlen(e->a.stamp) + e->a.len + 3;
}

static void
unlink_lru(entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		mru = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		lru = e->prev;
	e->prev = e->next = NULL;
}

static void
push_mru(entry *e)
{
	e->next = mru;
	e->prev = NULL;
	if (mru)
		mru->prev = e;
	mru = e;
	if (lru == NULL)
		lru = e;
}

static void
drop(entry *e)
{
	entry	  **p = &buckets[e->hash % NBUCKETS];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	unlink_lru(e);
	bytes -= size_of(e);
	nentries--;
	free(e->key);
	free(e->a.stamp);
	free(e->a.body);
	free(e);
}

static void
drop_all(void)
{
	while (mru)
		drop(mru);
}

void
gw_answers_init(size_t budget)
{
	max_bytes = budget;
}

bool
gw_answers_enabled(void)
{
	return max_bytes > 0;
}

/* "epoch.count user": false when it holds no stamp */
static bool
parse_stamp(const char *s, uint64_t *epoch, uint64_t *count)
{
	char	   *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	*epoch = strtoull(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	*count = strtoull(end + 1, &end, 10);
	return *end == ' ';
}

bool
gw_answers_note_stamp(const char *stamp)
{
	uint64_t	epoch,
				count;

	if (!parse_stamp(stamp, &epoch, &count))
		return false;
	if (!have_latest || epoch != latest_epoch || count > latest_count)
	{
		/* another epoch is a server restart: its stamps are the newest */
		if (have_latest && epoch == latest_epoch && count < latest_count)
			return false;
		drop_all();
		have_latest = true;
		latest_epoch = epoch;
		latest_count = count;
		return true;
	}
	return count == latest_count;
}

const gw_answer *
gw_answers_get(const char *key)
{
	uint32_t	h = hash_of(key);

	for (entry *e = buckets[h % NBUCKETS]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
		{
			unlink_lru(e);
			push_mru(e);
			return &e->a;
		}
	return NULL;
}

void
gw_answers_put(const char *key, const char *stamp, const char *body, size_t len)
{
	uint32_t	h = hash_of(key);
	entry	   *e;
	size_t		need;

	if (max_bytes == 0 || !gw_answers_note_stamp(stamp))
		return;
	for (e = buckets[h % NBUCKETS]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
		{
			drop(e);
			break;
		}
	e = gw_alloc(sizeof(*e));
	e->hash = h;
	e->key = gw_strdup(key);
	e->a.stamp = gw_strdup(stamp);
	e->a.body = gw_strndup(body, len);
	e->a.len = len;
	need = size_of(e);
	if (need > max_bytes / 4)
	{
		/* one answer never takes most of the budget */
		free(e->key);
		free(e->a.stamp);
		free(e->a.body);
		free(e);
		return;
	}
	while (lru && bytes + need > max_bytes)
		drop(lru);
	e->hnext = buckets[h % NBUCKETS];
	buckets[h % NBUCKETS] = e;
	push_mru(e);
	bytes += need;
	nentries++;
}

void
gw_answers_count(gw_answer_source how)
{
	if (how == GW_ANSWER_KEPT)
		hits++;
	else if (how == GW_ANSWER_SHARED)
		shared++;
	else
		misses++;
}

gw_answers_stats
gw_answers_get_stats(void)
{
	gw_answers_stats s = {.entries = nentries,.bytes = bytes,.hits = hits,.shared = shared,.misses = misses};

	return s;
}

void
gw_answers_shutdown(void)
{
	drop_all();
}
