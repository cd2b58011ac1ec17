/*
 * pool.h
 *	  A pool of non-blocking libpq connections in pipeline mode.  A job is
 *	  one transaction: optionally `SELECT flowent.gateway_login(token)` (the
 *	  acting user for the rest of it), then one statement, sent together and
 *	  committed at the pipeline's sync, so one round trip per request.
 */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stdbool.h>
#include <libpq-fe.h>

typedef struct gw_result
{
	bool		ok;
	/* ok: the statement's value (first column of the first row) or NULL */
	char	   *value;
	bool		has_row;
	/* the first column of every row (NULL entries for SQL NULL) */
	char	  **rows;
	int			nrows;
	/* !ok: what failed */
	char		sqlstate[6];
	char	   *message;
	char	   *detail;
	bool		unavailable;	/* no database connection: the job never ran */
	/* a stamped job: what GW_STAMP_SQL answered before the statement ran */
	char	   *stamp;
} gw_result;

/*
 * The change stamp (flowent.change_stamp(), empty when none can be kept) and
 * the acting user: an answer made after it was read is served again while
 * this reads the same.
 */
#define GW_STAMP_SQL "SELECT coalesce(flowent.change_stamp(), '') || ' ' || coalesce(flowent.current_user_id(), '')"


typedef void (*gw_done_fn) (void *arg, gw_result *r);

/* nparams values (NULL = SQL NULL) are copied; token NULL: no login */
void		gw_pool_submit(const char *token, const char *sql, int nparams,
						   const char *const *params, gw_done_fn done, void *arg);
/* as gw_pool_submit, reading GW_STAMP_SQL into the result's stamp first */
void		gw_pool_submit_stamped(const char *token, const char *sql, int nparams,
								   const char *const *params, gw_done_fn done, void *arg);
void		gw_pool_init(const char *conninfo, int size, int max_queue);
void		gw_result_free(gw_result *r);

typedef struct gw_pool_stats
{
	int			size;
	int			connected;
	int			busy;
	int			queued;
	long		jobs;
	long		failures;
} gw_pool_stats;

gw_pool_stats gw_pool_get_stats(void);
void		gw_pool_shutdown(void);

#endif
