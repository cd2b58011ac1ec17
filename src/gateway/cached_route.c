/*
 * cached_route.c
 *	  A cacheable route (a GET whose answer depends only on its user, its
 *	  parameters and the tables flowent.change_stamp() counts) answers from
 *	  the kept answer when the stamp still reads what it read before that
 *	  answer was made: one transaction that logs the token in (so a revoked
 *	  token is refused at once) and reads the stamp, instead of the route's
 *	  statement.  Without a kept answer the route's statement runs with the
 *	  stamp read first in the same round trip, and its answer is kept.
 *
 *	  Kept answers are by token (its sha256), route and parameters, and are
 *	  served only to the user they were made for.
 *
 *	  Single flight: while the answer of a key is being made, a request of
 *	  the same key whose check finds no kept answer it may have waits for
 *	  that making instead of making it again, and gets its answer if both
 *	  read the same stamp (and user): no counted change committed between
 *	  the two reads, so, as with a kept answer, the answer holds every
 *	  change committed before the waiter asked.  A waiter that read another
 *	  stamp makes its own answer (it waits at most once); when the making
 *	  fails, its waiters get its error.
 */
#include "gateway/cached_route.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/answers.h"
#include "gateway/util.h"

typedef struct cached_call
{
	char	   *key;
	char	   *sql;
	int			nparams;
	char	  **params;
	bool		waited;			/* it waited for another making once */
} cached_call;

typedef struct waiter
{
	gw_req	   *req;
	char	   *stamp;			/* what its check read */
	struct waiter *next;
} waiter;

/* A key's answer being made by maker's statement, and who waits for it. */
typedef struct flight
{
	char	   *key;
	gw_req	   *maker;
	waiter	   *waiters;
	struct flight *next;
} flight;

static flight *flights;

static flight *
flight_of(const char *key)
{
	for (flight *f = flights; f; f = f->next)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

/* The flight r made, taken off the list; NULL when r made none. */
static flight *
flight_landed(gw_req *r, const char *key)
{
	for (flight **p = &flights; *p; p = &(*p)->next)
		if ((*p)->maker == r && strcmp((*p)->key, key) == 0)
		{
			flight	   *f = *p;

			*p = f->next;
			return f;
		}
	return NULL;
}

static void make(gw_req *r, cached_call *c);

static void
call_free(void *p)
{
	cached_call *c = p;

	free(c->key);
	free(c->sql);
	for (int i = 0; i < c->nparams; i++)
		free(c->params[i]);
	free(c->params);
	free(c);
}

/* A waiter of a landed flight: its answer, its error, or its own making. */
static void
serve_waiter(waiter *w, gw_result *res, const char *v)
{
	if (!res->ok)
		gw_req_sql_error(w->req, res);
	else if (res->stamp && strcmp(res->stamp, w->stamp) == 0)
	{
		gw_answers_count(GW_ANSWER_SHARED);
		gw_req_respond_json(w->req, 200, v);
	}
	else
		make(w->req, gw_req_data(w->req));
}

static void
made(gw_req *r, gw_result *res)
{
	cached_call *c = gw_req_data(r);
	flight	   *f = flight_landed(r, c->key);
	const char *v = res->value ? res->value : "null";

	if (!res->ok)
		gw_req_sql_error(r, res);
	else
	{
		if (res->stamp)
			gw_answers_put(c->key, res->stamp, v, strlen(v));
		gw_req_respond_json(r, 200, v);
	}
	if (f == NULL)
		return;
	while (f->waiters)
	{
		waiter	   *w = f->waiters;

		f->waiters = w->next;
		serve_waiter(w, res, v);
		free(w->stamp);
		free(w);
	}
	free(f->key);
	free(f);
}

static void
make(gw_req *r, cached_call *c)
{
	if (flight_of(c->key) == NULL)
	{
		flight	   *f = gw_alloc(sizeof(*f));

		f->key = gw_strdup(c->key);
		f->maker = r;
		f->waiters = NULL;
		f->next = flights;
		flights = f;
	}
	gw_answers_count(GW_ANSWER_MADE);
	gw_req_sql_stamped_then(r, c->sql, c->nparams, (const char *const *) c->params, made);
}

static void
checked(gw_req *r, gw_result *res)
{
	cached_call *c = gw_req_data(r);
	const gw_answer *a;
	flight	   *f;

	if (!res->ok)
	{
		gw_req_sql_error(r, res);	/* the token's refusal, as any route's */
		return;
	}
	gw_answers_note_stamp(res->value);
	a = gw_answers_get(c->key);
	if (a != NULL && res->value != NULL && strcmp(a->stamp, res->value) == 0)
	{
		gw_answers_count(GW_ANSWER_KEPT);
		gw_req_respond_json(r, 200, a->body);
		return;
	}
	f = flight_of(c->key);
	if (f != NULL && res->value != NULL && !c->waited)
	{
		waiter	   *w = gw_alloc(sizeof(*w));

		w->req = r;
		w->stamp = gw_strdup(res->value);
		w->next = f->waiters;
		f->waiters = w;
		c->waited = true;
		return;					/* held until the flight lands */
	}
	make(r, c);
}

void
gw_cached_sql(gw_req *r, const char *route, const char *sql, int nparams, const char *const *params)
{
	const char *token = gw_req_token(r);
	cached_call *c;
	gw_buf		key = {0};
	char		th[65];

	if (!gw_answers_enabled() || token == NULL)
	{
		gw_req_sql(r, true, sql, nparams, params, 200);
		return;
	}
	gw_sha256_hex(token, th);
	gw_buf_str(&key, th);
	gw_buf_str(&key, "\n");
	gw_buf_str(&key, route);
	for (int i = 0; i < nparams; i++)
	{
		gw_buf_str(&key, "\n");
		gw_buf_str(&key, params[i] ? params[i] : "\x01");
	}
	c = gw_alloc(sizeof(*c));
	c->key = key.data;
	c->sql = gw_strdup(sql);
	c->nparams = nparams;
	c->params = gw_alloc(sizeof(char *) * (nparams ? nparams : 1));
	for (int i = 0; i < nparams; i++)
		c->params[i] = params[i] ? gw_strdup(params[i]) : NULL;
	c->waited = false;
	gw_req_set_data(r, c, call_free);
	if (gw_answers_get(c->key) != NULL || flight_of(c->key) != NULL)
		gw_req_sql_then(r, true, GW_STAMP_SQL, 0, NULL, checked);
	else
		make(r, c);
}
