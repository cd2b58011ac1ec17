/*
 * hook_batch.c
 *	  Webhook deliveries grouped into one transaction each batch
 *	  (flowent.gateway_webhook_deliver): a group commit.  At most
 *	  `batches` of them run at once; a delivery that arrives meanwhile waits
 *	  for the next, which takes every waiting one (up to `batch_size`).  So
 *	  a lone webhook is sent at once, alone, and under load one commit (one
 *	  WAL flush) serves many.  Each delivery runs in its own subtransaction
 *	  there: one that fails is answered its error and leaves the others.  No
 *	  delivery is answered before its batch committed.
 */
#include "gateway/hook_batch.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/util.h"

#define DELIVER_SQL \
	"SELECT answer FROM flowent.gateway_webhook_deliver($1::uuid[], $2::text[], $3::text[], $4::boolean[], $5::text[]) " \
	"ORDER BY n"

typedef struct delivery
{
	struct delivery *next;
	gw_req	   *req;
	char	   *id;
	char	   *signature;
	const char *body;			/* the request's own: it lives until answered */
	const char *wait;			/* "true", "false" or NULL (a static string) */
	char	   *digest;
	bool		from_cache;
	gw_hook_answer_fn answer;
} delivery;

typedef struct batch
{
	delivery   *first;
	int			n;
} batch;

static delivery *waiting_head,
		   *waiting_tail;
static int	nwaiting;
static int	running;
static int	max_running = 2;
static int	max_size = 32;
static long nbatches,
			ndelivered;

void
gw_hook_batch_config(int batches, int batch_size)
{
	max_running = batches;
	max_size = batch_size;
}

static void
delivery_free(delivery *d)
{
	free(d->id);
	free(d->signature);
	free(d->digest);
	free(d);
}

/* an 'error {sqlstate, message, detail}' answer as the failed result it stands for */
static void
error_result(const char *json, gw_result *res)
{
	json_t	   *o = json_loads(json, 0, NULL);
	const char *st = json_string_value(json_object_get(o, "sqlstate"));
	const char *msg = json_string_value(json_object_get(o, "message"));
	const char *det = json_string_value(json_object_get(o, "detail"));

	res->ok = false;
	snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", st ? st : "XX000");
	res->message = gw_strdup(msg ? msg : "the webhook's delivery failed");
	res->detail = det ? gw_strdup(det) : NULL;
	json_decref(o);
}

static void dispatch(void);

static void
batch_done(void *arg, gw_result *res)
{
	batch	   *b = arg;
	delivery   *d = b->first;

	running--;
	for (int i = 0; d; i++)
	{
		delivery   *next = d->next;
		gw_result	one = {0};

		if (!res->ok)
			d->answer(d->req, res, d->from_cache);
		else if (res->nrows != b->n || res->rows[i] == NULL)
		{
			one.ok = false;
			snprintf(one.sqlstate, sizeof(one.sqlstate), "XX000");
			one.message = gw_printf("the batch of %d webhook deliveries answered %d rows", b->n, res->nrows);
			d->answer(d->req, &one, d->from_cache);
		}
		else if (strncmp(res->rows[i], "error ", 6) == 0)
		{
			error_result(res->rows[i] + 6, &one);
			d->answer(d->req, &one, d->from_cache);
		}
		else
		{
			one.ok = true;
			one.has_row = true;
			one.value = res->rows[i];
			res->rows[i] = NULL;	/* taken over by one */
			d->answer(d->req, &one, d->from_cache);
		}
		gw_result_free(&one);
		delivery_free(d);
		d = next;
	}
	free(b);
	dispatch();
}

static void
send_batch(void)
{
	batch	   *b = gw_alloc(sizeof(*b));
	delivery   *last = NULL;
	gw_buf		arr[5] = {{0}};
	const char *params[5];

	for (int k = 0; k < 5; k++)
		gw_buf_str(&arr[k], "{");
	b->first = waiting_head;
	while (waiting_head && b->n < max_size)
	{
		delivery   *d = waiting_head;

		waiting_head = d->next;
		nwaiting--;
		last = d;
		b->n++;
		gw_buf_array_element(&arr[0], d->id);
		gw_buf_array_element(&arr[1], d->signature);
		gw_buf_array_element(&arr[2], d->body);
		gw_buf_array_element(&arr[3], d->wait);
		gw_buf_array_element(&arr[4], d->digest);
	}
	last->next = NULL;
	if (waiting_head == NULL)
		waiting_tail = NULL;
	for (int k = 0; k < 5; k++)
	{
		gw_buf_str(&arr[k], "}");
		params[k] = arr[k].data;
	}
	running++;
	nbatches++;
	ndelivered += b->n;
	gw_pool_submit(NULL, DELIVER_SQL, 5, params, batch_done, b);
	for (int k = 0; k < 5; k++)
		gw_buf_free(&arr[k]);
}

static void
dispatch(void)
{
	while (waiting_head && running < max_running)
		send_batch();
}

void
gw_hook_batch_add(gw_req *r, const char *id, const char *signature, const char *body,
				  const char *wait, const char *digest, bool from_cache, gw_hook_answer_fn answer)
{
	delivery   *d = gw_alloc(sizeof(*d));

	d->req = r;
	d->id = gw_strdup(id);
	d->signature = gw_strdup(signature);
	d->body = body;
	d->wait = wait;
	d->digest = gw_strdup(digest);
	d->from_cache = from_cache;
	d->answer = answer;
	gw_req_hold(r);
	if (waiting_tail)
		waiting_tail->next = d;
	else
		waiting_head = d;
	waiting_tail = d;
	nwaiting++;
	dispatch();
}

gw_hook_batch_stats
gw_hook_batch_get_stats(void)
{
	gw_hook_batch_stats s = {.batches = nbatches,.deliveries = ndelivered,.waiting = nwaiting};

	return s;
}
