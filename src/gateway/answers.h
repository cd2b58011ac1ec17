/*
 * answers.h
 *	  Kept answers of cacheable routes, by key, with the change stamp and
 *	  user they were made under.
 */
#ifndef GW_ANSWERS_H
#define GW_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_answer
{
	char	   *stamp;			/* what GW_STAMP_SQL read before it was made */
	char	   *body;
	size_t		len;
} gw_answer;

typedef struct gw_answers_stats
{
	long		entries;
	size_t		bytes;
	long		hits;			/* served from a kept answer */
	long		shared;			/* served from another request's making */
	long		misses;			/* made */
} gw_answers_stats;

typedef enum gw_answer_source
{
	GW_ANSWER_KEPT,
	GW_ANSWER_SHARED,
	GW_ANSWER_MADE
} gw_answer_source;

/* budget in bytes; 0: nothing is kept */
void		gw_answers_init(size_t budget);
bool		gw_answers_enabled(void);
/*
 * A stamp was read: true when it is the newest seen (a newer one empties
 * the store), false when older or when it holds none (nothing may be kept)
 */
bool		gw_answers_note_stamp(const char *stamp);
/* the kept answer of key, or NULL; valid until the next call here */
const gw_answer *gw_answers_get(const char *key);
/* keep body (copied) as key's answer made under stamp, if stamp is the newest */
void		gw_answers_put(const char *key, const char *stamp, const char *body, size_t len);
void		gw_answers_count(gw_answer_source how);
gw_answers_stats gw_answers_get_stats(void);
void		gw_answers_shutdown(void);

#endif
