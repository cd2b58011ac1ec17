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
} cached_call;

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

static void
made(gw_req *r, gw_result *res)
{
	cached_call *c = gw_req_data(r);
	const char *v;

	if (!res->ok)
	{
		gw_req_sql_error(r, res);
		return;
	}
	v = res->value ? res->value : "null";
	if (res->stamp)
		gw_answers_put(c->key, res->stamp, v, strlen(v));
	gw_req_respond_json(r, 200, v);
}

static void
make(gw_req *r, cached_call *c)
{
	gw_answers_count(false);
	gw_req_sql_stamped_then(r, c->sql, c->nparams, (const char *const *) c->params, made);
}

static void
checked(gw_req *r, gw_result *res)
{
	cached_call *c = gw_req_data(r);
	const gw_answer *a;

	if (!res->ok)
	{
		gw_req_sql_error(r, res);	/* the token's refusal, as any route's */
		return;
	}
	gw_answers_note_stamp(res->value);
	a = gw_answers_get(c->key);
	if (a != NULL && res->value != NULL && strcmp(a->stamp, res->value) == 0)
	{
		gw_answers_count(true);
		gw_req_respond_json(r, 200, a->body);
		return;
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
	gw_req_set_data(r, c, call_free);
	if (gw_answers_get(c->key) != NULL)
		gw_req_sql_then(r, true, GW_STAMP_SQL, 0, NULL, checked);
	else
		make(r, c);
}
