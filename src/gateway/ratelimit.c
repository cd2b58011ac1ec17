/*
 * ratelimit.c
 *	  Buckets in a fixed open-addressing table keyed by a hash of the token;
 *	  when the table is full the longest idle bucket is reused, so memory
 *	  stays bounded whatever the number of tokens.
 */
#include "gateway/ratelimit.h"

#include <string.h>

#define SLOTS 4096
#define PROBE 16

typedef struct bucket
{
	uint64_t	key;			/* 0: free */
	double		tokens;
	int64_t		at_ms;
} bucket;

static bucket table[SLOTS];
static int	rate;

void
gw_rate_init(int per_second)
{
	rate = per_second;
	memset(table, 0, sizeof(table));
}

static uint64_t
hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h ? h : 1;
}

bool
gw_rate_allow(const char *key, int64_t now_ms, int *retry_after_s)
{
	uint64_t	h;
	bucket	   *b = NULL,
			   *oldest = NULL;
	double		burst = 2.0 * rate;

	if (rate <= 0 || key == NULL)
		return true;
	h = hash(key);
	for (int i = 0; i < PROBE; i++)
	{
		bucket	   *c = &table[(h + i) % SLOTS];

		if (c->key == h)
		{
			b = c;
			break;
		}
		if (c->key == 0 || oldest == NULL || c->at_ms < oldest->at_ms)
			oldest = c;
		if (c->key == 0)
			break;
	}
	if (b == NULL)
	{
		b = oldest;
		b->key = h;
		b->tokens = burst;
		b->at_ms = now_ms;
	}
	b->tokens += (now_ms - b->at_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->at_ms = now_ms;
	if (b->tokens >= 1.0)
	{
		b->tokens -= 1.0;
		return true;
	}
	*retry_after_s = (int) ((1.0 - b->tokens) / rate) + 1;
	return false;
}
