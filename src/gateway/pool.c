/*
 * pool.c
 *	  Non-blocking libpq connections driven by the event loop.  A connection
 *	  that breaks is reopened with backoff; a job whose connection broke
 *	  before any of its results arrived is sent again once (a server restart
 *	  closes idle connections, and the first use of one would fail).
 */
#include "gateway/pool.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "gateway/loop.h"
#include "gateway/util.h"

typedef struct gw_job
{
	struct gw_job *next;
	char	   *token;
	char	   *sql;
	int			nparams;
	char	  **params;
	gw_done_fn	done;
	void	   *arg;
	int			tries;
	bool		stamped;		/* read the change stamp before the statement */
} gw_job;

/*
 * The statements a connection has prepared, by their text: the route table's
 * statements are few and fixed, and each is parsed and planned once per
 * connection instead of once per request.
 */
#define MAX_PREPARED 128
#define MAX_STMTS 8

typedef struct prepared
{
	char	   *sql;
	char		name[16];
} prepared;

typedef enum
{
	C_DOWN,						/* waiting to reconnect */
	C_CONNECTING,
	C_IDLE,
	C_BUSY
} conn_state;

typedef struct gw_conn
{
	PGconn	   *pg;
	conn_state	state;
	gw_watch   *watch;
	int			fd;
	gw_job	   *job;
	bool		got_result;		/* a result of the job's pipeline has arrived */
	int			stmt;			/* index of the statement whose result comes next */
	int			nstmts;
	int			stamp_stmt;		/* index of the change stamp's statement, or -1 */
	int			prepare_of[MAX_STMTS];	/* a PREPARE's entry in prep, else -1 */
	prepared	prep[MAX_PREPARED];
	int			nprep;
	int			prep_seq;
	gw_result	res;
	int			backoff_ms;
	gw_timer   *retry;
} gw_conn;

static char *pool_conninfo;
static gw_conn *conns;
static int	nconns;
static gw_job *queue_head,
		   *queue_tail;
static int	nqueued;
static int	queue_limit;
static long njobs,
			nfailures;

static void
quiet_notice(void *arg, const PGresult *r)
{
	(void) arg;
	(void) r;
}

static void conn_open(gw_conn *c);
static void conn_io(void *arg, uint32_t events);
static void dispatch(void);

void
gw_result_free(gw_result *r)
{
	free(r->value);
	for (int i = 0; i < r->nrows; i++)
		free(r->rows[i]);
	free(r->rows);
	free(r->message);
	free(r->detail);
	free(r->stamp);
	memset(r, 0, sizeof(*r));
}

static void
job_free(gw_job *j)
{
	free(j->token);
	free(j->sql);
	for (int i = 0; i < j->nparams; i++)
		free(j->params[i]);
	free(j->params);
	free(j);
}

static void
job_finish(gw_job *j, gw_result *r)
{
	j->done(j->arg, r);
	gw_result_free(r);
	job_free(j);
}

static void
job_unavailable(gw_job *j, const char *why)
{
	gw_result	r = {0};

	r.unavailable = true;
	r.message = gw_strdup(why);
	nfailures++;
	job_finish(j, &r);
}

static void
enqueue_front(gw_job *j)
{
	j->next = queue_head;
	queue_head = j;
	if (queue_tail == NULL)
		queue_tail = j;
	nqueued++;
}

static void
submit(const char *token, const char *sql, int nparams, const char *const *params,
	   gw_done_fn done, void *arg, bool stamped)
{
	gw_job	   *j = gw_alloc(sizeof(*j));

	j->token = token ? gw_strdup(token) : NULL;
	j->sql = gw_strdup(sql);
	j->nparams = nparams;
	j->params = gw_alloc(sizeof(char *) * (nparams ? nparams : 1));
	for (int i = 0; i < nparams; i++)
		j->params[i] = params[i] ? gw_strdup(params[i]) : NULL;
	j->done = done;
	j->arg = arg;
	j->stamped = stamped;
	njobs++;
	if (nqueued >= queue_limit)
	{
		job_unavailable(j, "the gateway's database queue is full");
		return;
	}
	if (queue_tail)
		queue_tail->next = j;
	else
		queue_head = j;
	queue_tail = j;
	nqueued++;
	dispatch();
}

void
gw_pool_submit(const char *token, const char *sql, int nparams,
			   const char *const *params, gw_done_fn done, void *arg)
{
	submit(token, sql, nparams, params, done, arg, false);
}

void
gw_pool_submit_stamped(const char *token, const char *sql, int nparams,
					   const char *const *params, gw_done_fn done, void *arg)
{
	submit(token, sql, nparams, params, done, arg, true);
}

static void
forget_prepared(gw_conn *c, int i)
{
	free(c->prep[i].sql);
	c->prep[i] = c->prep[--c->nprep];
	c->prep[c->nprep].sql = NULL;
}

static void
forget_all_prepared(gw_conn *c)
{
	while (c->nprep > 0)
		forget_prepared(c, c->nprep - 1);
}

static void
conn_retry_cb(void *arg)
{
	gw_conn    *c = arg;

	c->retry = NULL;
	conn_open(c);
}

/* The connection is gone: give its job back (or fail it) and reopen later. */
static void
conn_broken(gw_conn *c)
{
	const char *why = c->pg ? PQerrorMessage(c->pg) : "no connection";
	bool		was_up = c->state == C_IDLE || c->state == C_BUSY;

	if (was_up || c->backoff_ms >= 4000)
		gw_log("database connection lost: %s", *why ? why : "closed");
	gw_watch_drop(c->watch);
	c->watch = NULL;
	if (c->job)
	{
		gw_job	   *j = c->job;

		c->job = NULL;
		gw_result_free(&c->res);
		if (!c->got_result && j->tries < 2)
			enqueue_front(j);
		else
			job_unavailable(j, "the database connection was lost during the request");
	}
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	forget_all_prepared(c);		/* a new session has none */
	c->state = C_DOWN;
	c->backoff_ms = c->backoff_ms ? (c->backoff_ms * 2 > 5000 ? 5000 : c->backoff_ms * 2) : 100;
	c->retry = gw_timer_add(was_up ? 0 : c->backoff_ms, conn_retry_cb, c);
	/* nobody can serve the queue: fail it rather than let requests hang */
	{
		bool		any_up = false;

		for (int i = 0; i < nconns; i++)
			if (conns[i].state == C_IDLE || conns[i].state == C_BUSY)
				any_up = true;
		if (!any_up && !was_up)
			while (queue_head)
			{
				gw_job	   *j = queue_head;

				queue_head = j->next;
				if (queue_head == NULL)
					queue_tail = NULL;
				nqueued--;
				job_unavailable(j, "the database is not reachable");
			}
	}
}

static void
conn_open(gw_conn *c)
{
	c->pg = PQconnectStart(pool_conninfo);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD)
	{
		conn_broken(c);
		return;
	}
	PQsetNoticeReceiver(c->pg, quiet_notice, NULL);
	c->fd = PQsocket(c->pg);
	c->state = C_CONNECTING;
	c->watch = gw_watch_add(c->fd, EPOLLOUT, conn_io, c);
}

static void
watch_fd(gw_conn *c, uint32_t events)
{
	int			fd = PQsocket(c->pg);

	/* libpq may open a new socket while connecting (another address) */
	if (fd != c->fd || c->watch == NULL)
	{
		gw_watch_drop(c->watch);
		c->fd = fd;
		c->watch = gw_watch_add(fd, events, conn_io, c);
	}
	else
		gw_watch_set(c->watch, events);
}

static void
connect_step(gw_conn *c)
{
	switch (PQconnectPoll(c->pg))
	{
		case PGRES_POLLING_READING:
			watch_fd(c, EPOLLIN);
			break;
		case PGRES_POLLING_WRITING:
			watch_fd(c, EPOLLOUT);
			break;
		case PGRES_POLLING_OK:
			if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1)
			{
				conn_broken(c);
				return;
			}
			c->state = C_IDLE;
			c->backoff_ms = 0;
			watch_fd(c, EPOLLIN);
			dispatch();
			break;
		default:
			conn_broken(c);
	}
}

static void
flush_out(gw_conn *c)
{
	int			r = PQflush(c->pg);

	if (r < 0)
		conn_broken(c);
	else
		gw_watch_set(c->watch, EPOLLIN | (r == 1 ? EPOLLOUT : 0));
}

/* send sql, prepared on this connection first if it is not yet */
static bool
send_stmt(gw_conn *c, const char *sql, int nparams, const char *const *params)
{
	int			i;

	for (i = 0; i < c->nprep; i++)
		if (strcmp(c->prep[i].sql, sql) == 0)
			break;
	if (i == c->nprep)
	{
		if (c->nprep == MAX_PREPARED || c->nstmts + 2 > MAX_STMTS)
		{
			c->prepare_of[c->nstmts++] = -1;
			return PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
		}
		c->prep[i].sql = gw_strdup(sql);
		snprintf(c->prep[i].name, sizeof(c->prep[i].name), "gw%d", ++c->prep_seq);
		c->nprep++;
		if (!PQsendPrepare(c->pg, c->prep[i].name, sql, nparams, NULL))
			return false;
		c->prepare_of[c->nstmts++] = i;
	}
	c->prepare_of[c->nstmts++] = -1;
	return PQsendQueryPrepared(c->pg, c->prep[i].name, nparams, params, NULL, NULL, 0);
}

static bool
send_job(gw_conn *c, gw_job *j)
{
	j->tries++;
	c->job = j;
	c->got_result = false;
	c->stmt = 0;
	c->nstmts = 0;
	c->stamp_stmt = -1;
	memset(&c->res, 0, sizeof(c->res));
	if (j->token)
	{
		const char *p[1] = {j->token};

		if (!send_stmt(c, "SELECT flowent.gateway_login($1)", 1, p))
			return false;
	}
	/*
	 * In its own statement, so the stamp is read before the next one takes
	 * its snapshot (read committed: one per statement)
	 */
	if (j->stamped)
	{
		if (!send_stmt(c, GW_STAMP_SQL, 0, NULL))
			return false;
		c->stamp_stmt = c->nstmts - 1;
	}
	if (!send_stmt(c, j->sql, j->nparams, (const char *const *) j->params))
		return false;
	if (!PQpipelineSync(c->pg))
		return false;
	c->state = C_BUSY;
	flush_out(c);
	return true;
}

static void
dispatch(void)
{
	for (int i = 0; i < nconns && queue_head; i++)
	{
		gw_conn    *c = &conns[i];
		gw_job	   *j;

		if (c->state != C_IDLE)
			continue;
		j = queue_head;
		queue_head = j->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		nqueued--;
		j->next = NULL;
		if (!send_job(c, j))
			conn_broken(c);
	}
}

static void
take_error(gw_conn *c, PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *det = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);

	if (!c->res.ok && c->res.message)
		return;					/* the first error is the one */
	c->res.ok = false;
	snprintf(c->res.sqlstate, sizeof(c->res.sqlstate), "%s", st ? st : "XX000");
	c->res.message = gw_strdup(msg ? msg : PQresultErrorMessage(r));
	c->res.detail = det ? gw_strdup(det) : NULL;
}

static void
read_results(gw_conn *c)
{
	if (!PQconsumeInput(c->pg))
	{
		conn_broken(c);
		return;
	}
	while (c->state == C_BUSY && !PQisBusy(c->pg))
	{
		PGresult   *r = PQgetResult(c->pg);

		if (r == NULL)
		{
			c->stmt++;			/* end of one statement's results */
			continue;
		}
		c->got_result = true;
		/* a PREPARE that failed, or never ran (the pipeline aborted): not made */
		if (c->stmt < c->nstmts && c->prepare_of[c->stmt] >= 0 &&
			PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		{
			forget_prepared(c, c->prepare_of[c->stmt]);
			for (int k = 0; k < c->nstmts; k++)
				if (c->prepare_of[k] == c->nprep)
					c->prepare_of[k] = c->prepare_of[c->stmt];	/* moved by forget_prepared */
			c->prepare_of[c->stmt] = -1;
		}
		switch (PQresultStatus(r))
		{
			case PGRES_TUPLES_OK:
			case PGRES_COMMAND_OK:
				if (c->prepare_of[c->stmt] >= 0)
					break;		/* a PREPARE's own result */
				if (c->stmt == c->stamp_stmt && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
				{
					free(c->res.stamp);
					c->res.stamp = gw_strdup(PQgetvalue(r, 0, 0));
				}
				if (c->stmt == c->nstmts - 1 && c->res.message == NULL)
				{
					int			n = PQntuples(r);

					c->res.ok = true;
					if (n > 0)
					{
						c->res.has_row = true;
						if (!PQgetisnull(r, 0, 0))
							c->res.value = gw_strndup(PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0));
					}
					if (n > 0 && PQnfields(r) > 0)
					{
						c->res.rows = gw_alloc(sizeof(char *) * n);
						c->res.nrows = n;
						for (int i = 0; i < n; i++)
							c->res.rows[i] = PQgetisnull(r, i, 0) ? NULL
								: gw_strndup(PQgetvalue(r, i, 0), PQgetlength(r, i, 0));
					}
				}
				break;
			case PGRES_PIPELINE_SYNC:
				{
					gw_job	   *j = c->job;
					gw_result	res = c->res;

					PQclear(r);
					c->job = NULL;
					memset(&c->res, 0, sizeof(c->res));
					c->state = C_IDLE;
					if (!res.ok && res.message == NULL)
					{
						res.message = gw_strdup("the statement returned nothing");
						snprintf(res.sqlstate, sizeof(res.sqlstate), "XX000");
					}
					/*
					 * A prepared statement whose result type changed (the
					 * extension was updated): prepare them all again, and
					 * send the job once more (its transaction rolled back).
					 */
					if (!res.ok && strcmp(res.sqlstate, "0A000") == 0 && res.message &&
						strstr(res.message, "cached plan must not change result type"))
					{
						forget_all_prepared(c);
						if (j->tries < 2)
						{
							gw_result_free(&res);
							enqueue_front(j);
							dispatch();
							return;
						}
					}
					if (!res.ok)
						nfailures++;
					job_finish(j, &res);
					dispatch();
					return;
				}
			case PGRES_PIPELINE_ABORTED:
				break;
			default:
				take_error(c, r);
		}
		PQclear(r);
	}
}

static void
conn_io(void *arg, uint32_t events)
{
	gw_conn    *c = arg;

	switch (c->state)
	{
		case C_CONNECTING:
			connect_step(c);
			break;
		case C_IDLE:
			/* a notice, or the server closing an idle connection */
			if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK)
				conn_broken(c);
			else
			{
				PGresult   *r;

				while (!PQisBusy(c->pg) && (r = PQgetResult(c->pg)) != NULL)
					PQclear(r);
				if (PQstatus(c->pg) != CONNECTION_OK)
					conn_broken(c);
			}
			break;
		case C_BUSY:
			if (events & EPOLLOUT)
			{
				flush_out(c);
				if (c->state != C_BUSY)
					break;
			}
			if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				read_results(c);
			break;
		case C_DOWN:
			break;
	}
}

void
gw_pool_init(const char *conninfo, int size, int max_queue)
{
	pool_conninfo = gw_strdup(conninfo);
	nconns = size;
	queue_limit = max_queue;
	conns = gw_alloc(sizeof(gw_conn) * size);
	for (int i = 0; i < size; i++)
		conn_open(&conns[i]);
}

gw_pool_stats
gw_pool_get_stats(void)
{
	gw_pool_stats s = {.size = nconns,.queued = nqueued,.jobs = njobs,.failures = nfailures};

	for (int i = 0; i < nconns; i++)
	{
		if (conns[i].state == C_IDLE || conns[i].state == C_BUSY)
			s.connected++;
		if (conns[i].state == C_BUSY)
			s.busy++;
	}
	return s;
}

void
gw_pool_shutdown(void)
{
	for (int i = 0; i < nconns; i++)
	{
		if (conns[i].retry)
			gw_timer_cancel(conns[i].retry);
		gw_watch_drop(conns[i].watch);
		if (conns[i].pg)
			PQfinish(conns[i].pg);
		conns[i].pg = NULL;
	}
}
