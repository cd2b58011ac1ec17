/*
 * fuzz_graph.c
 *	  libFuzzer target for graph validation and the dead-path scheduler
 *	  (src/core/graph.c, src/core/sched.c).
 *
 * The input is decoded as a tiny workflow:
 *
 *	  byte 0         node count (mod 33)
 *	  1 byte/node    bits 0-2 the kind: trigger, condition (true/false),
 *					 loop-controller (body/done), plain (out), unknown type,
 *					 plain with an error handle, sink (no outputs) or a
 *					 single "next" handle (by id bit 0), trigger;
 *					 bits 3-7 the id: 30 repeats an earlier id, 31 takes a
 *					 reserved root name, anything else is unique
 *	  1 byte         edge count (mod 97)
 *	  3 bytes/edge   source, target (index mod nodes+1; nodes+1 means an
 *					 id that does not exist) and handle (bits 0-2: none, one
 *					 of the source's handles, "bogus" or "out"; bits 3-7 = 31
 *					 repeats the previous edge id)
 *	  rest           choices while running: which handle a node fires,
 *					 how many times a loop iterates, suspensions, takes
 *
 * Invalid graphs must be reported (a known fault must make finish fail);
 * valid ones are run to the end, checking that every node runs at most
 * once per scope iteration, only in its own scope, that skipped nodes never
 * run, and that nothing is left pending when a scope drains.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fl_alloc.h"
#include "core/graph.h"

#define FZ_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define FZ_MAX_NODES	32
#define FZ_MAX_EDGES	96

typedef struct fz_in
{
	const uint8_t *p;
	size_t		n;
	size_t		pos;
} fz_in;

/* Next input byte, 0 once the input is used up. */
static uint8_t
fz_byte(fz_in *in)
{
	return in->pos < in->n ? in->p[in->pos++] : 0;
}

static const char *const h_out[] = {"out"};
static const char *const h_cond[] = {"true", "false"};
static const char *const h_loop[] = {"body", "done"};
static const char *const h_next[] = {"next"};
static const char *const h_out_err[] = {"out", "error"};
static const char *const reserved[] = {"trigger", "loop", "nodes", "item"};

/* Everything the decoded graph borrows: it must outlive the graph. */
typedef struct fz_graph
{
	int			nn;
	int			ne;
	char		node_id[FZ_MAX_NODES][16];
	char		edge_id[FZ_MAX_EDGES][16];
	const char *edge_src[FZ_MAX_EDGES];
	const char *edge_dst[FZ_MAX_EDGES];
	int			kind[FZ_MAX_NODES];
	int			idmode[FZ_MAX_NODES];
	bool		must_fail;		/* the decoder planted a fault */
	int			run_count[FZ_MAX_NODES];
	int			ran_in_iter[FZ_MAX_NODES];	/* scope iteration it last ran in */
	int			iter_of_slot[FZ_MAX_NODES + 1];
	int			iter_serial;
	int			steps;
} fz_graph;

/*
 * Free a graph.  graph.h has no destructor yet, so this frees the arrays
 * graph.c allocates (borrowed strings excluded).
 */
static void
fz_graph_free(fl_graph *g)
{
	fl_free(g->nodes);
	fl_free(g->edges);
	fl_free(g->out_start);
	fl_free(g->out_edges);
	fl_free(g->in_start);
	fl_free(g->in_edges);
	fl_free(g->hash);
	fl_free(g->slot_loop);
	fl_free(g->in_body);
	fl_free(g);
}

/* Free a scheduler (sched.h has no destructor yet either). */
static void
fz_sched_free(fl_sched *s)
{
	for (int i = 0; i <= s->g->nloops; i++)
		fl_free(s->ready[i].v);
	fl_free(s->ready);
	fl_free(s->nstate);
	fl_free(s->estate);
	fl_free(s->unsettled);
	fl_free(s->live_in);
	fl_free(s->skipped);
	fl_free(s->stack);
	fl_free(s);
}

/* Decode the node and edge list and describe it to the graph. */
static fl_graph *
fz_decode(fz_in *in, fz_graph *fg)
{
	fl_graph   *g;
	bool		has_trigger = false;
	bool		unknown_source[FZ_MAX_NODES] = {false};

	fg->nn = fz_byte(in) % (FZ_MAX_NODES + 1);
	for (int i = 0; i < fg->nn; i++)
	{
		uint8_t		b = fz_byte(in);
		int			idmode = b >> 3;

		fg->kind[i] = b & 7;
		fg->idmode[i] = idmode;
		if (idmode == 30 && i > 0)
		{
			memcpy(fg->node_id[i], fg->node_id[(b >> 1) % i], 16);
			fg->must_fail = true;	/* DUPLICATE_NODE_ID */
		}
		else if (idmode == 31)
		{
			snprintf(fg->node_id[i], 16, "%s", reserved[i % 4]);
			fg->must_fail = true;	/* RESERVED_NODE_ID */
		}
		else
			snprintf(fg->node_id[i], 16, "n%d", i);
	}

	fg->ne = fz_byte(in) % (FZ_MAX_EDGES + 1);
	g = fl_graph_create(fg->nn, fg->ne);
	for (int i = 0; i < fg->nn; i++)
	{
		int			idmode = fg->idmode[i];
		const char *const *handles = h_out;
		int			nout = 1;
		int			flags = 0;
		const char *type = "transform";

		switch (fg->kind[i])
		{
			case 0:
			case 7:
				type = "trigger";
				flags = FL_NODE_TRIGGER;
				has_trigger = true;
				break;
			case 1:
				type = "condition";
				handles = h_cond;
				nout = 2;
				break;
			case 2:
				type = "loop-controller";
				flags = FL_NODE_LOOP;
				handles = h_loop;
				nout = 2;
				break;
			case 3:
				break;
			case 4:
				type = "no-such-type";
				flags = FL_NODE_UNKNOWN_TYPE;
				unknown_source[i] = true;
				break;
			case 5:
				type = "http-request";
				handles = h_out_err;
				nout = 2;
				break;
			case 6:
				if (idmode & 1)
				{
					type = "output";
					handles = NULL;
					nout = 0;
				}
				else
				{
					type = "delay";
					handles = h_next;
				}
				break;
		}
		fl_graph_set_node(g, i, fg->node_id[i], type, flags,
						  (const char **) handles, nout);
	}
	if (!has_trigger)
		fg->must_fail = true;	/* NO_TRIGGER */

	for (int k = 0; k < fg->ne; k++)
	{
		int			si = fz_byte(in) % (fg->nn + 1);
		int			ti = fz_byte(in) % (fg->nn + 1);
		uint8_t		hb = fz_byte(in);
		const char *handle = NULL;
		bool		known_src = si < fg->nn && !unknown_source[si];

		fg->edge_src[k] = si < fg->nn ? fg->node_id[si] : "ghost";
		fg->edge_dst[k] = ti < fg->nn ? fg->node_id[ti] : "ghost";
		if (si == fg->nn || ti == fg->nn)
			fg->must_fail = true;	/* EDGE_SOURCE/TARGET_NOT_FOUND */
		if (si == ti && si < fg->nn)
			fg->must_fail = true;	/* CYCLE */
		if ((hb >> 3) == 31 && k > 0)
		{
			memcpy(fg->edge_id[k], fg->edge_id[k - 1], 16);
			fg->must_fail = true;	/* DUPLICATE_EDGE_ID */
		}
		else
			snprintf(fg->edge_id[k], 16, "e%d", k);

		switch (hb & 7)
		{
			case 0:
			case 1:
				handle = NULL;
				break;
			case 2:
			case 3:
			case 4:
				if (si < fg->nn)
				{
					const fl_node *src = &g->nodes[si];

					if (src->nout > 0)
						handle = src->out_handles[(hb >> 3) % src->nout];
					else
						handle = "out";
				}
				else
					handle = "out";
				break;
			case 5:
			case 6:
				handle = "bogus";
				if (known_src)
					fg->must_fail = true;	/* UNKNOWN_HANDLE */
				break;
			case 7:
				handle = "out";
				break;
		}
		fl_graph_set_edge(g, k, fg->edge_id[k], fg->edge_src[k], fg->edge_dst[k],
						  handle, (hb & 0x80) ? "in" : NULL);
	}
	return g;
}

/* Check what finish computed against the graph's own accessors. */
static void
fz_check_graph(const fl_graph *g, const fz_graph *fg, const fl_issues *issues,
			   bool valid)
{
	uint8_t		scratch[FZ_MAX_NODES + 1];

	FZ_CHECK(g->finished);
	FZ_CHECK(g->valid == valid);
	FZ_CHECK(valid == (issues->n == 0));
	if (fg->must_fail)
		FZ_CHECK(!valid);
	for (int i = 0; i < issues->n; i++)
	{
		FZ_CHECK(issues->items[i].code != NULL);
		FZ_CHECK(issues->items[i].message != NULL);
	}

	for (int i = 0; i < g->nnodes; i++)
	{
		int			f = fl_graph_find(g, g->nodes[i].id);

		FZ_CHECK(f >= 0 && f <= i);
		FZ_CHECK(strcmp(g->nodes[f].id, g->nodes[i].id) == 0);
	}
	FZ_CHECK(fl_graph_find(g, "ghost") < 0);

	FZ_CHECK(g->in_start[0] == 0 && g->out_start[0] == 0);
	for (int i = 0; i < g->nnodes; i++)
	{
		FZ_CHECK(g->out_start[i] <= g->out_start[i + 1]);
		FZ_CHECK(g->in_start[i] <= g->in_start[i + 1]);
		for (int k = g->out_start[i]; k < g->out_start[i + 1]; k++)
			FZ_CHECK(g->edges[g->out_edges[k]].source == i);
		for (int k = g->in_start[i]; k < g->in_start[i + 1]; k++)
			FZ_CHECK(g->edges[g->in_edges[k]].target == i);
	}
	FZ_CHECK(g->out_start[g->nnodes] <= g->nedges);
	FZ_CHECK(g->out_start[g->nnodes] == g->in_start[g->nnodes]);

	for (int k = 0; k < g->nedges; k++)
	{
		const fl_edge *e = &g->edges[k];

		FZ_CHECK(e->source >= -1 && e->source < g->nnodes);
		FZ_CHECK(e->target >= -1 && e->target < g->nnodes);
		if (e->source >= 0)
			FZ_CHECK(e->handle >= -1 && e->handle < g->nodes[e->source].nout);
		if (valid)
		{
			FZ_CHECK(e->source >= 0 && e->target >= 0);
			if (!(g->nodes[e->source].flags & FL_NODE_UNKNOWN_TYPE))
				FZ_CHECK(e->handle >= 0);
		}
	}

	FZ_CHECK(g->slot_loop[0] == -1);
	for (int i = 0; i < g->nnodes; i++)
	{
		const fl_node *n = &g->nodes[i];

		FZ_CHECK(n->scope_slot >= 0 && n->scope_slot <= g->nloops);
		if (n->scope_slot == 0)
			FZ_CHECK(n->loop_owner == -1);
		else
		{
			FZ_CHECK(n->loop_owner == g->slot_loop[n->scope_slot]);
			FZ_CHECK(fl_graph_in_body(g, n->loop_owner, i));
			FZ_CHECK(n->loop_owner != i);
		}
		if (n->flags & FL_NODE_LOOP)
		{
			FZ_CHECK(n->loop_slot >= 1 && n->loop_slot <= g->nloops);
			FZ_CHECK(g->slot_loop[n->loop_slot] == i);
		}
		else
			FZ_CHECK(!fl_graph_in_body(g, i, 0));
	}

	/* reachability agrees with the edges */
	for (int k = 0; k < g->nedges; k++)
	{
		const fl_edge *e = &g->edges[k];

		if (e->source < 0 || e->target < 0)
			continue;
		memset(scratch, 0, sizeof(scratch));
		FZ_CHECK(fl_graph_reaches(g, e->source, e->target, scratch));
	}
	for (int i = 0; i < g->nnodes; i++)
	{
		memset(scratch, 0, sizeof(scratch));
		FZ_CHECK(fl_graph_reaches(g, i, i, scratch));
	}
}

/* Drain the skipped list: every entry must be a skipped node, never run. */
static void
fz_drain_skipped(fl_sched *s, fz_graph *fg)
{
	int			v;
	int			guard = 0;

	while ((v = fl_sched_next_skipped(s)) >= 0)
	{
		FZ_CHECK(v < s->g->nnodes);
		FZ_CHECK(s->nstate[v] == FL_SKIPPED);
		FZ_CHECK(fg->ran_in_iter[v] != fg->iter_of_slot[s->g->nodes[v].scope_slot]);
		FZ_CHECK(++guard <= s->g->nnodes);
	}
}

static void fz_run_scope(fl_sched *s, fz_graph *fg, fz_in *in, int slot, int depth);

/* Run node v (already marked running) the way the engine would. */
static void
fz_run_node(fl_sched *s, fz_graph *fg, fz_in *in, int v, int depth)
{
	const fl_graph *g = s->g;
	const fl_node *n = &g->nodes[v];
	uint8_t		b = fz_byte(in);

	FZ_CHECK(s->nstate[v] == FL_RUNNING);
	/* at most once per iteration of its scope */
	FZ_CHECK(fg->ran_in_iter[v] != fg->iter_of_slot[n->scope_slot]);
	fg->ran_in_iter[v] = fg->iter_of_slot[n->scope_slot];
	fg->run_count[v]++;
	fg->steps++;

	/* now and then the node suspends first and is resumed later */
	if ((b & 0xc0) == 0xc0)
	{
		fl_sched_wait(s, v);
		FZ_CHECK(s->nstate[v] == FL_WAITING);
		FZ_CHECK(!fl_sched_take(s, v));
	}

	if (n->flags & FL_NODE_LOOP)
	{
		int			hb = fl_graph_handle_index(n, "body");
		int			hd = fl_graph_handle_index(n, "done");
		int			iterations = (b & 3) % 3;

		FZ_CHECK(hb >= 0 && hd >= 0);
		for (int it = 0; it < iterations && fg->steps < 4000; it++)
		{
			/* a new iteration of this body and of every loop inside it */
			fg->iter_of_slot[n->loop_slot] = ++fg->iter_serial;
			for (int u = 0; u < g->nnodes; u++)
				if ((g->nodes[u].flags & FL_NODE_LOOP) && fl_graph_in_body(g, v, u))
					fg->iter_of_slot[g->nodes[u].loop_slot] = ++fg->iter_serial;
			fl_sched_reset_body(s, v);
			for (int u = 0; u < g->nnodes; u++)
				if (fl_graph_in_body(g, v, u))
					FZ_CHECK(s->nstate[u] == FL_PENDING);
			fl_sched_fire(s, v, hb);
			fz_drain_skipped(s, fg);
			fz_run_scope(s, fg, in, n->loop_slot, depth + 1);
		}
		fl_sched_complete(s, v, hd);
	}
	else
	{
		int			live;

		switch ((b >> 2) & 3)
		{
			case 0:
				live = -1;		/* stopped: every output dies */
				break;
			default:
				live = n->nout > 0 ? (b >> 4) % n->nout : -1;
				break;
		}
		fl_sched_complete(s, v, live);
	}
	FZ_CHECK(s->nstate[v] == FL_DONE);
	fz_drain_skipped(s, fg);
}

/* Run one scope until it has no ready node, then check it drained. */
static void
fz_run_scope(fl_sched *s, fz_graph *fg, fz_in *in, int slot, int depth)
{
	const fl_graph *g = s->g;
	int			v;

	FZ_CHECK(depth <= g->nloops);
	for (;;)
	{
		uint8_t		b = fz_byte(in);

		/* sometimes take a chosen ready node instead of the next one */
		if ((b & 0x0f) == 0x0f && g->nnodes > 0)
		{
			int			c = (b >> 4) % g->nnodes;

			if (g->nodes[c].scope_slot == slot && s->nstate[c] == FL_READY)
			{
				FZ_CHECK(fl_sched_take(s, c));
				fz_run_node(s, fg, in, c, depth);
				continue;
			}
			if (s->nstate[c] != FL_READY)
				FZ_CHECK(!fl_sched_take(s, c));
		}
		v = fl_sched_next(s, slot);
		if (v < 0)
			break;
		FZ_CHECK(v < g->nnodes);
		FZ_CHECK(g->nodes[v].scope_slot == slot);
		fz_run_node(s, fg, in, v, depth);
	}
	fz_drain_skipped(s, fg);

	/* a valid graph's scope drains completely */
	for (int u = 0; u < g->nnodes; u++)
		if (g->nodes[u].scope_slot == slot)
			FZ_CHECK(s->nstate[u] == FL_DONE || s->nstate[u] == FL_SKIPPED);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode a graph, validate it, and run it when valid. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in		in = {data, size, 0};
	fz_graph   *fg = calloc(1, sizeof(fz_graph));
	fl_graph   *g;
	fl_issues	issues = {0};
	bool		valid;

	FZ_CHECK(fg != NULL);
	g = fz_decode(&in, fg);
	valid = fl_graph_finish(g, &issues);
	fz_check_graph(g, fg, &issues, valid);

	if (valid)
	{
		fl_sched   *s = fl_sched_create(g);

		for (int i = 0; i < FZ_MAX_NODES; i++)
			fg->ran_in_iter[i] = -1;
		fg->iter_of_slot[0] = ++fg->iter_serial;
		fl_sched_start(s);
		fz_drain_skipped(s, fg);
		fz_run_scope(s, fg, &in, 0, 0);

		/* top-level nodes run at most once; triggers always run */
		for (int i = 0; i < g->nnodes; i++)
		{
			if (g->nodes[i].scope_slot == 0)
				FZ_CHECK(fg->run_count[i] <= 1);
			if (g->nodes[i].flags & FL_NODE_TRIGGER)
				FZ_CHECK(g->nodes[i].scope_slot != 0 ||
						 g->in_start[i + 1] > g->in_start[i] ||
						 fg->run_count[i] == 1);
		}
		FZ_CHECK(fl_sched_next(s, 0) == -1);
		FZ_CHECK(fl_sched_next_skipped(s) == -1);
		fz_sched_free(s);
	}

	fl_issues_free(&issues);
	fz_graph_free(g);
	free(fg);
	return 0;
}
