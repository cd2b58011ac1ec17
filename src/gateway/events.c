/*
 * events.c
 *	  LISTEN flowent and the subscriptions of WebSocket and SSE sinks.
 *
 *	  An execution topic keeps its live events in a queue, in arrival (= seq)
 *	  order; a step event with an output waits at the head until the output
 *	  has been read from the node log (flowent.api_execution_events, as one
 *	  of the topic's subscribers), so every subscriber gets every event in
 *	  seq order.  A subscription that is catching up holds the live events
 *	  that arrive meanwhile and sends those past the last seq it caught up to.
 */
#include "gateway/events.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "gateway/errors.h"
#include "gateway/loop.h"
#include "gateway/metrics.h"
#include "gateway/pool.h"
#include "gateway/util.h"

#define EVENTS_SQL "SELECT flowent.api_execution_events($1::uuid, $2::int, $3::int)"
#define PROGRESS_SQL "SELECT flowent.api_node_progress($1::uuid, $2, $3)"

typedef struct ev
{
	struct ev  *next;
	int			seq;
	char	   *json;
	bool		needs_output;
	bool		complete;		/* workflow:complete */
	bool		skipped;		/* events:skipped: catch up from the node logs */
	/* a live step:progress (no seq, no node-log row): its text is read from node_progress */
	bool		progress;
	bool		needs_progress;
	char	   *node_id;		/* of a progress event waiting for its text */
	char	   *iteration;
} ev;

typedef struct topic topic;

typedef struct sub
{
	struct sub *next;
	gw_sink    *sink;
	topic	   *topic;
	int			last_seq;
	bool		catching_up;
	bool		authorized;
	ev		   *held,
			   *held_tail;
	bool		gone;			/* left while a job of it was pending */
	int			jobs;
} sub;

typedef enum
{
	T_EXECUTION,				/* every event of one execution, with outputs */
	T_WORKFLOW,					/* every event of a workflow's executions */
	T_USER						/* a user's feed: my executions finishing, approvals for me */
} topic_kind;

struct topic
{
	topic	   *next;
	char		id[256];
	topic_kind	kind;
	sub		   *subs;
	ev		   *q,
			   *q_tail;
	bool		fetching;
};

static topic *topics;
static int	nfeed_users;		/* user feeds with subscribers */
static char *listen_conninfo;
static PGconn *lconn;
static gw_watch *lwatch;
static int	lfd = -1;
static bool listening;
static int	backoff_ms;
static bool was_listening;

static void catch_up(sub *s, int since);
static void pump(topic *t);

static void
ev_free(ev *e)
{
	free(e->json);
	free(e->node_id);
	free(e->iteration);
	free(e);
}

static topic *
find_topic(const char *id, topic_kind kind, bool create)
{
	topic	   *t;

	for (t = topics; t; t = t->next)
		if (t->kind == kind && strcmp(t->id, id) == 0)
			return t;
	if (!create)
		return NULL;
	t = gw_alloc(sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->kind = kind;
	t->next = topics;
	topics = t;
	return t;
}

static void
topic_drop_if_empty(topic *t)
{
	if (t->subs || t->fetching)
		return;
	while (t->q)
	{
		ev		   *e = t->q;

		t->q = e->next;
		ev_free(e);
	}
	for (topic **p = &topics; *p; p = &(*p)->next)
		if (*p == t)
		{
			*p = t->next;
			free(t);
			return;
		}
}

static void
sub_free(sub *s)
{
	while (s->held)
	{
		ev		   *e = s->held;

		s->held = e->next;
		ev_free(e);
	}
	free(s);
}

/* take s out of its topic; freed now, or when its last job ends */
static void
sub_remove(sub *s)
{
	topic	   *t = s->topic;

	for (sub **p = &t->subs; *p; p = &(*p)->next)
		if (*p == s)
		{
			*p = s->next;
			break;
		}
	s->sink->nsubs--;
	s->gone = true;
	if (t->kind == T_USER && t->subs == NULL)
		nfeed_users--;
	if (s->jobs == 0)
		sub_free(s);
	topic_drop_if_empty(t);
}

/* a job of s has ended: free s if it was removed meanwhile; true if it was */
static bool
release(sub *s)
{
	s->jobs--;
	if (!s->gone)
		return false;
	if (s->jobs == 0)
		sub_free(s);
	return true;
}

/* the error code a client sees for a failed lookup, as HTTP would say it */
static const char *
result_code(gw_result *r)
{
	return r->unavailable ? "UNAVAILABLE" : gw_map_sqlstate(r->sqlstate).code;
}

static void
reply(gw_sink *k, const char *type, const char *key, const char *id, const char *code, const char *message)
{
	gw_buf		b = {0};

	gw_buf_message(&b, type, key, id, code, message);
	k->send(k, b.data, b.len, -1, false);
	gw_buf_free(&b);
}

static void
send_to(sub *s, ev *e)
{
	if (s->catching_up)
	{
		ev		   *c = gw_alloc(sizeof(*c));

		*c = *e;
		c->next = NULL;
		c->json = gw_strdup(e->json);
		c->node_id = c->iteration = NULL;	/* read at the head of the queue, before this */
		if (s->held_tail)
			s->held_tail->next = c;
		else
			s->held = c;
		s->held_tail = c;
		return;
	}
	if (e->skipped)
	{
		s->sink->send(s->sink, e->json, strlen(e->json), -1, false);
		catch_up(s, s->last_seq);
		return;
	}
	if (e->progress)
	{
		/* partial output between two seqs: in no order with them, and never caught up */
		s->sink->send(s->sink, e->json, strlen(e->json), -1, false);
		return;
	}
	if (s->topic->kind == T_EXECUTION && e->seq <= s->last_seq)
		return;					/* already sent while catching up */
	if (s->topic->kind == T_EXECUTION)
		s->last_seq = e->seq;
	s->sink->send(s->sink, e->json, strlen(e->json), e->seq, e->complete && s->topic->kind == T_EXECUTION);
}

static void
deliver(topic *t, ev *e)
{
	sub		   *next;

	for (sub *s = t->subs; s; s = next)
	{
		next = s->next;			/* a sink may leave while it is sent to */
		if (s->authorized || s->catching_up)
			send_to(s, e);
	}
	gw_metrics_events(1, 0);
}

/* a row of api_execution_events: "<seq> <event json>" */
static bool
split_row(const char *row, int *seq, const char **json)
{
	char	   *end;
	long		n;

	if (row == NULL)
		return false;
	n = strtol(row, &end, 10);
	if (end == row || *end != ' ')
		return false;
	*seq = (int) n;
	*json = end + 1;
	return true;
}

typedef struct fetch_job
{
	topic	   *t;
	sub		   *s;
} fetch_job;

static void
fetched(void *arg, gw_result *r)
{
	fetch_job  *j = arg;
	topic	   *t = j->t;

	release(j->s);
	free(j);
	t->fetching = false;
	for (ev *e = t->q; e; e = e->next)
	{
		if (!e->needs_output)
			continue;
		e->needs_output = false;	/* not visible or not found: sent as it came */
		for (int i = 0; r->ok && i < r->nrows; i++)
		{
			int			seq;
			const char *json;

			if (split_row(r->rows[i], &seq, &json) && seq == e->seq)
			{
				free(e->json);
				e->json = gw_strdup(json);
				break;
			}
		}
	}
	if (t->subs == NULL)
		topic_drop_if_empty(t);
	else
		pump(t);
}

/* The text of the progress event at the head of the queue has been read. */
static void
fetched_progress(void *arg, gw_result *r)
{
	fetch_job  *j = arg;
	topic	   *t = j->t;
	ev		   *e = t->q;

	release(j->s);
	free(j);
	t->fetching = false;
	if (e && e->needs_progress)
	{
		e->needs_progress = false;	/* not visible, or the answer is in: sent as it came */
		if (r->ok && r->value)
		{
			free(e->json);
			e->json = gw_strdup(r->value);
		}
	}
	if (t->subs == NULL)
		topic_drop_if_empty(t);
	else
		pump(t);
}

/*
 * Read what the event at the head of the queue lacks (sql with 3
 * parameters) as one of the topic's authorized subscribers, the queue
 * waiting meanwhile; false when none may read it.
 */
static bool
fetch_for(topic *t, const char *sql, const char **params, void (*done) (void *, gw_result *))
{
	sub		   *reader = NULL;
	fetch_job  *j;

	for (sub *s = t->subs; s && !reader; s = s->next)
		if (s->authorized)
			reader = s;
	if (reader == NULL)
		return false;
	j = gw_alloc(sizeof(*j));
	j->t = t;
	j->s = reader;
	reader->jobs++;
	t->fetching = true;
	gw_pool_submit(reader->sink->token, sql, 3, params, done, j);
	return true;
}

static void
pump(topic *t)
{
	while (t->q && !t->fetching)
	{
		ev		   *e = t->q;

		if (e->needs_progress)
		{
			const char *p[3] = {t->id, e->node_id, e->iteration ? e->iteration : ""};

			if (fetch_for(t, PROGRESS_SQL, p, fetched_progress))
				return;
			e->needs_progress = false;
		}
		if (e->needs_output)
		{
			char		since[16],
						cap[16];
			const char *p[3] = {t->id, since, cap};

			snprintf(since, sizeof(since), "%d", e->seq - 1);
			snprintf(cap, sizeof(cap), "%d", GW_OUTPUT_CAP);
			if (fetch_for(t, EVENTS_SQL, p, fetched))
				return;
			e->needs_output = false;
		}
		t->q = e->next;
		if (t->q == NULL)
			t->q_tail = NULL;
		deliver(t, e);
		ev_free(e);
	}
}

static void
caught_up(void *arg, gw_result *r)
{
	sub		   *s = arg;
	topic	   *t = s->topic;
	bool		complete = false;

	/* the job's hold on s lasts until the end: a send may remove s */
	if (s->gone)
	{
		release(s);
		return;
	}
	if (!r->ok)
	{
		reply(s->sink, "error", "executionId", t->id, result_code(r), r->message);
		if (!s->gone)
			sub_remove(s);
		release(s);
		return;
	}
	for (int i = 0; i < r->nrows && !s->gone; i++)
	{
		int			seq;
		const char *json;

		if (split_row(r->rows[i], &seq, &json) && seq > s->last_seq)
		{
			/* jsonb's text form: the database wrote it */
			bool		last = strstr(json, "\"event\": \"workflow:complete\"") != NULL;

			s->last_seq = seq;
			complete |= last;
			s->sink->send(s->sink, json, strlen(json), seq, last);
		}
	}
	if (!s->gone && !s->authorized)
	{
		char		seqtxt[16];
		gw_buf		b = {0};

		s->authorized = true;
		snprintf(seqtxt, sizeof(seqtxt), "%d", s->last_seq);
		gw_buf_str(&b, "{\"type\": \"joined\", \"executionId\": ");
		gw_buf_json_str(&b, t->id);
		gw_buf_printf(&b, ", \"lastSeq\": %s, \"complete\": %s}", s->last_seq >= 0 ? seqtxt : "null",
					  complete ? "true" : "false");
		s->sink->send(s->sink, b.data, b.len, -1, false);
		gw_buf_free(&b);
	}
	if (!s->gone)
		s->catching_up = false;
	while (!s->gone && s->held)
	{
		ev		   *e = s->held;

		s->held = e->next;
		if (s->held == NULL)
			s->held_tail = NULL;
		send_to(s, e);
		ev_free(e);
	}
	if (!release(s))
		pump(t);
}

static void
catch_up(sub *s, int since)
{
	char		sincetxt[16],
				cap[16];
	const char *p[3] = {s->topic->id, sincetxt, cap};

	snprintf(sincetxt, sizeof(sincetxt), "%d", since);
	snprintf(cap, sizeof(cap), "%d", GW_OUTPUT_CAP);
	s->jobs++;
	s->catching_up = true;
	gw_pool_submit(s->sink->token, EVENTS_SQL, 3, p, caught_up, s);
}

static sub *
find_sub(topic *t, gw_sink *k)
{
	for (sub *s = t ? t->subs : NULL; s; s = s->next)
		if (s->sink == k)
			return s;
	return NULL;
}

static sub *
add_sub(topic *t, gw_sink *k)
{
	sub		   *s = gw_alloc(sizeof(*s));

	s->sink = k;
	s->topic = t;
	s->last_seq = -1;
	s->next = t->subs;
	t->subs = s;
	k->nsubs++;
	return s;
}

void
gw_events_join_execution(gw_sink *k, const char *execution_id, int since)
{
	topic	   *t = find_topic(execution_id, T_EXECUTION, true);
	sub		   *s = find_sub(t, k);

	if (s)
		sub_remove(s);			/* joining again starts over from since */
	t = find_topic(execution_id, T_EXECUTION, true);
	s = add_sub(t, k);
	/* without since, only live events: the node logs are read just to check who may see them */
	s->last_seq = since >= 0 ? since : -1;
	catch_up(s, since >= 0 ? since : 2147483647);
}

static void
leave(gw_sink *k, topic_kind kind, const char *key, const char *id)
{
	sub		   *s = find_sub(find_topic(id, kind, false), k);

	if (s)
		sub_remove(s);
	reply(k, "left", key, id, NULL, NULL);
}

void
gw_events_leave_execution(gw_sink *k, const char *execution_id)
{
	leave(k, T_EXECUTION, "executionId", execution_id);
}

static void
watch_checked(void *arg, gw_result *r)
{
	sub		   *s = arg;

	if (s->gone)
	{
		release(s);
		return;
	}
	if (!r->ok)
	{
		reply(s->sink, "error", "workflowId", s->topic->id, result_code(r), r->message);
		if (!s->gone)
			sub_remove(s);
		release(s);
		return;
	}
	s->authorized = true;
	reply(s->sink, "joined", "workflowId", s->topic->id, NULL, NULL);
	release(s);
}

void
gw_events_join_workflow(gw_sink *k, const char *workflow_id)
{
	topic	   *t = find_topic(workflow_id, T_WORKFLOW, true);
	sub		   *s = find_sub(t, k);
	const char *p[1] = {workflow_id};

	if (s)
	{
		reply(k, "joined", "workflowId", workflow_id, NULL, NULL);
		return;
	}
	s = add_sub(t, k);
	s->jobs++;
	gw_pool_submit(k->token, "SELECT flowent.api_watch_workflow($1::uuid)", 1, p, watch_checked, s);
}

void
gw_events_leave_workflow(gw_sink *k, const char *workflow_id)
{
	leave(k, T_WORKFLOW, "workflowId", workflow_id);
}

void
gw_events_forget(gw_sink *k)
{
	topic	   *tn;

	for (topic *t = topics; t && k->nsubs > 0; t = tn)
	{
		sub		   *s = find_sub(t, k);

		tn = t->next;			/* sub_remove may free t */
		if (s)
			sub_remove(s);
	}
}

/* ---- the per-user feed ---- */

typedef struct feed_ev
{
	struct feed_ev *next;
	char		execution_id[37];
	char	   *json;
	bool		complete;		/* else node:suspended */
} feed_ev;

static feed_ev *feed_batch,
		   *feed_batch_tail;

void
gw_events_join_feed(gw_sink *k, const char *user_id)
{
	topic	   *t = find_topic(user_id, T_USER, true);
	sub		   *s = find_sub(t, k);

	if (s == NULL)
	{
		if (t->subs == NULL)
			nfeed_users++;
		s = add_sub(t, k);
		s->authorized = true;	/* the socket's own user, from its token */
	}
	reply(k, "joined", "feed", user_id, NULL, NULL);
}

static void
feed_send(const char *user, const char *reason, feed_ev *e)
{
	topic	   *t = find_topic(user, T_USER, false);
	gw_buf		b = {0};

	if (t == NULL)
		return;
	gw_buf_str(&b, "{\"type\": \"feed\", \"reason\": ");
	gw_buf_json_str(&b, reason);
	gw_buf_str(&b, ", \"event\": ");
	gw_buf_str(&b, e->json);
	gw_buf_str(&b, "}");
	for (sub *s = t->subs, *next; s; s = next)
	{
		next = s->next;
		s->sink->send(s->sink, b.data, b.len, -1, false);
	}
	gw_buf_free(&b);
}

static void
feed_resolved(void *arg, gw_result *r)
{
	feed_ev    *batch = arg;

	while (batch)
	{
		feed_ev    *e = batch;

		batch = e->next;
		for (int i = 0; r->ok && i < r->nrows; i++)
		{
			json_t	   *row = r->rows[i] ? json_loads(r->rows[i], 0, NULL) : NULL;
			const char *exec = json_string_value(json_object_get(row, "e"));
			const char *user = json_string_value(json_object_get(row, "u"));
			json_t	   *assignees = json_object_get(row, "a");

			if (exec && user && strcmp(exec, e->execution_id) == 0)
			{
				if (e->complete)
					feed_send(user, "execution-finished", e);
				else if (json_array_size(assignees) == 0)
					feed_send(user, "approval-pending", e);
				else
				{
					size_t		k;
					json_t	   *a;

					json_array_foreach(assignees, k, a)
						if (json_is_string(a))
						feed_send(json_string_value(a), "approval-assigned", e);
				}
			}
			json_decref(row);
		}
		free(e->json);
		free(e);
	}
}

/* the feed's events of one notification go to the database together */
static void
feed_flush(void)
{
	gw_buf		ids = {0};

	if (feed_batch == NULL)
		return;
	gw_buf_str(&ids, "{");
	for (feed_ev *e = feed_batch; e; e = e->next)
		gw_buf_array_element(&ids, e->execution_id);
	gw_buf_str(&ids, "}");
	{
		const char *p[1] = {ids.data};

		gw_pool_submit(NULL, "SELECT flowent.gateway_event_users($1::uuid[])", 1, p, feed_resolved, feed_batch);
	}
	feed_batch = feed_batch_tail = NULL;
	gw_buf_free(&ids);
}

static void
feed_queue(const char *exec, const char *name, const char *json)
{
	feed_ev    *e;
	bool		complete = strcmp(name, "workflow:complete") == 0;

	if (nfeed_users == 0 || strlen(exec) != 36 || !(complete || strcmp(name, "node:suspended") == 0))
		return;
	e = gw_alloc(sizeof(*e));
	memcpy(e->execution_id, exec, 36);
	e->json = gw_strdup(json);
	e->complete = complete;
	if (feed_batch_tail)
		feed_batch_tail->next = e;
	else
		feed_batch = e;
	feed_batch_tail = e;
}

/* ---- the LISTEN connection ---- */

static void
queue_event(json_t *e)
{
	const char *name = json_string_value(json_object_get(e, "event"));
	const char *exec = json_string_value(json_object_get(e, "executionId"));
	const char *wf = json_string_value(json_object_get(e, "workflowId"));
	json_t	   *seqj = json_object_get(e, "seq");
	topic	   *t;
	char	   *text;

	if (name == NULL || exec == NULL)
		return;
	t = find_topic(exec, T_EXECUTION, false);
	/* most events have no reader here: serialise only those that do */
	if (t == NULL && !(wf && find_topic(wf, T_WORKFLOW, false)) &&
		!(nfeed_users > 0 && (strcmp(name, "workflow:complete") == 0 || strcmp(name, "node:suspended") == 0)))
		return;
	text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL)
		return;
	feed_queue(exec, name, text);
	if (t)
	{
		ev		   *x = gw_alloc(sizeof(*x));
		json_int_t	ob = json_integer_value(json_object_get(e, "outputBytes"));

		x->seq = json_is_integer(seqj) ? (int) json_integer_value(seqj) : -1;
		x->json = gw_strdup(text);
		x->complete = strcmp(name, "workflow:complete") == 0;
		x->skipped = strcmp(name, "events:skipped") == 0;
		x->needs_output = ob > 0 && (strcmp(name, "step:completed") == 0 || strcmp(name, "node:suspended") == 0);
		if (strcmp(name, "step:progress") == 0 && json_is_true(json_object_get(e, "live")))
		{
			const char *node = json_string_value(json_object_get(e, "nodeId"));
			const char *iter = json_string_value(json_object_get(e, "iteration"));

			x->progress = true;
			x->needs_progress = node != NULL;
			x->node_id = node ? gw_strdup(node) : NULL;
			x->iteration = iter ? gw_strdup(iter) : NULL;
		}
		if (t->q_tail)
			t->q_tail->next = x;
		else
			t->q = x;
		t->q_tail = x;
		pump(t);
	}
	if (wf && (t = find_topic(wf, T_WORKFLOW, false)) != NULL)
	{
		ev			x = {.seq = json_is_integer(seqj) ? (int) json_integer_value(seqj) : -1,.json = text};

		x.complete = strcmp(name, "workflow:complete") == 0;
		deliver(t, &x);
	}
	free(text);
}

static void
on_payload(const char *payload)
{
	json_error_t err;
	json_t	   *j;

	/* with nobody subscribed here, every run's events would be parsed for nothing */
	if (topics == NULL)
		return;
	j = json_loads(payload, 0, &err);

	if (j == NULL)
	{
		gw_log("events: a notification that is not JSON (%s): ignored", err.text);
		return;
	}
	if (json_is_array(j))
	{
		size_t		i;
		json_t	   *e;

		json_array_foreach(j, i, e)
			if (json_is_object(e))
			queue_event(e);
	}
	else if (json_is_object(j))
		queue_event(j);
	json_decref(j);
	feed_flush();
}

static void listen_open(void);

static void
listen_retry(void *arg)
{
	(void) arg;
	listen_open();
}

static void
listen_broken(void)
{
	if (listening)
		gw_log("events: the LISTEN connection was lost (%s); reconnecting", PQerrorMessage(lconn));
	gw_watch_drop(lwatch);
	lwatch = NULL;
	if (lconn)
		PQfinish(lconn);
	lconn = NULL;
	was_listening |= listening;
	listening = false;
	backoff_ms = backoff_ms ? (backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2) : 100;
	gw_timer_add(backoff_ms, listen_retry, NULL);
}

/*
 * After a reconnect every execution subscription catches up on what it
 * missed; a workflow's subscribers are told that they may have missed some
 * (its executions' events are not kept in one sequence).
 */
static void
resubscribe(void)
{
	for (topic *t = topics; t; t = t->next)
		for (sub *s = t->subs; s; s = s->next)
		{
			if (!s->authorized || s->catching_up)
				continue;
			if (t->kind == T_USER)
				continue;
			if (t->kind == T_WORKFLOW)
				reply(s->sink, "events:gap", "workflowId", t->id, "EVENTS_MISSED",
					  "the gateway lost its connection to the database for a moment: executions of this workflow may have events you did not get; read them with join:execution and since");
			else
				catch_up(s, s->last_seq);
		}
}

static void
listen_io(void *arg, uint32_t events)
{
	PGnotify   *n;
	PGresult   *r;

	(void) arg;
	(void) events;
	if (!listening)
	{
		PostgresPollingStatusType st = PQconnectPoll(lconn);

		if (st == PGRES_POLLING_FAILED)
		{
			listen_broken();
			return;
		}
		if (PQsocket(lconn) != lfd)
		{
			gw_watch_drop(lwatch);
			lfd = PQsocket(lconn);
			lwatch = gw_watch_add(lfd, EPOLLIN, listen_io, NULL);
		}
		if (st == PGRES_POLLING_OK)
		{
			/* LISTEN is tiny: sent blocking once, before any event matters */
			r = PQexec(lconn, "LISTEN flowent");
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
			{
				gw_log("events: LISTEN failed: %s", PQresultErrorMessage(r));
				PQclear(r);
				listen_broken();
				return;
			}
			PQclear(r);
			PQsetnonblocking(lconn, 1);
			listening = true;
			backoff_ms = 0;
			gw_watch_set(lwatch, EPOLLIN);
			if (was_listening)
				resubscribe();
			return;
		}
		gw_watch_set(lwatch, st == PGRES_POLLING_WRITING ? EPOLLOUT : EPOLLIN);
		return;
	}
	if (!PQconsumeInput(lconn))
	{
		listen_broken();
		return;
	}
	while ((n = PQnotifies(lconn)) != NULL)
	{
		on_payload(n->extra);
		PQfreemem(n);
	}
	while (!PQisBusy(lconn) && (r = PQgetResult(lconn)) != NULL)
		PQclear(r);
	if (PQstatus(lconn) != CONNECTION_OK)
		listen_broken();
}

static void
listen_open(void)
{
	lconn = PQconnectStart(listen_conninfo);
	if (lconn == NULL || PQstatus(lconn) == CONNECTION_BAD)
	{
		listen_broken();
		return;
	}
	lfd = PQsocket(lconn);
	lwatch = gw_watch_add(lfd, EPOLLOUT, listen_io, NULL);
}

void
gw_events_start(const char *conninfo)
{
	listen_conninfo = gw_strdup(conninfo);
	listen_open();
}

bool
gw_events_listening(void)
{
	return listening;
}

void
gw_events_stop(void)
{
	gw_watch_drop(lwatch);
	lwatch = NULL;
	if (lconn)
		PQfinish(lconn);
	lconn = NULL;
}
