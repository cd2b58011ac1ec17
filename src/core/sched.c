/*
 * sched.c
 *	  Ready-node scheduler with dead-path elimination (no PostgreSQL headers).
 *
 * Every node counts its unsettled incoming edges and its live ones.  When
 * the last edge settles the node is ready (some input live) or skipped (all
 * dead); a skipped node's outgoing edges die at once, iteratively, so the
 * walk never recurses.  Ready nodes wait in one min-heap per scope (the top
 * level and each loop body) so they run in the order of the nodes array.
 */
#include <string.h>

#include "core/fl_alloc.h"
#include "core/graph.h"

/* Push onto a min-heap of node indexes. */
static void
heap_push(fl_heap *h, int v)
{
	int			i;

	if (h->n == h->cap)
	{
		int			ncap = h->cap ? h->cap * 2 : 16;
		int		   *nv = fl_alloc(sizeof(int) * ncap);

		if (h->n)
			memcpy(nv, h->v, sizeof(int) * h->n);
		fl_free(h->v);
		h->v = nv;
		h->cap = ncap;
	}
	i = h->n++;
	while (i > 0 && h->v[(i - 1) / 2] > v)
	{
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = v;
}

/* Pop the smallest node index, or -1. */
static int
heap_pop(fl_heap *h)
{
	int			top,
				last,
				i = 0;

	if (h->n == 0)
		return -1;
	top = h->v[0];
	last = h->v[--h->n];
	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= last)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/* Remove a specific value from a heap (rare: resuming a chosen node). */
static bool
heap_remove(fl_heap *h, int v)
{
	int			found = -1;
	int		   *tmp;
	int			n;

	for (int i = 0; i < h->n; i++)
		if (h->v[i] == v)
			found = i;
	if (found < 0)
		return false;
	n = h->n;
	tmp = fl_alloc(sizeof(int) * n);
	memcpy(tmp, h->v, sizeof(int) * n);
	h->n = 0;
	for (int i = 0; i < n; i++)
		if (i != found)
			heap_push(h, tmp[i]);
	fl_free(tmp);
	return true;
}

/* Scheduler over a finished, valid graph. */
fl_sched *
fl_sched_create(const fl_graph *g)
{
	fl_sched   *s = fl_alloc(sizeof(fl_sched));
	int			n = g->nnodes;

	s->g = g;
	s->nstate = fl_alloc(n + 1);
	s->estate = fl_alloc(g->nedges + 1);
	s->unsettled = fl_alloc(sizeof(int) * (n + 1));
	s->live_in = fl_alloc(sizeof(int) * (n + 1));
	s->ready = fl_alloc(sizeof(fl_heap) * (g->nloops + 1));
	s->skipped = fl_alloc(sizeof(int) * (n + 1));
	s->stack = fl_alloc(sizeof(int) * (n + 1));
	for (int i = 0; i < n; i++)
		s->unsettled[i] = g->in_start[i + 1] - g->in_start[i];
	return s;
}

/* All inputs of v settled: make it ready, or skip it and queue its edges. */
static void
inputs_settled(fl_sched *s, int v, int *sp)
{
	if (s->nstate[v] != FL_PENDING)
		return;
	if (s->live_in[v] > 0)
	{
		s->nstate[v] = FL_READY;
		heap_push(&s->ready[s->g->nodes[v].scope_slot], v);
	}
	else
	{
		s->nstate[v] = FL_SKIPPED;
		s->skipped[s->nskipped++] = v;
		s->stack[(*sp)++] = v;
	}
}

/* Settle one edge and propagate skips iteratively. */
static void
settle_edge(fl_sched *s, int e, bool live, int *sp)
{
	const fl_edge *edge = &s->g->edges[e];
	int			t = edge->target;

	if (s->estate[e] != FL_EDGE_UNSET)
		return;
	s->estate[e] = live ? FL_EDGE_LIVE : FL_EDGE_DEAD;
	if (live)
		s->live_in[t]++;
	if (--s->unsettled[t] == 0)
		inputs_settled(s, t, sp);
}

/* Kill the unset outgoing edges of every skipped node on the work stack. */
static void
propagate(fl_sched *s, int sp)
{
	const fl_graph *g = s->g;

	while (sp > 0)
	{
		int			v = s->stack[--sp];

		for (int k = g->out_start[v]; k < g->out_start[v + 1]; k++)
			settle_edge(s, g->out_edges[k], false, &sp);
	}
}

/* Top scope: nodes without inputs are ready (triggers) or skipped. */
void
fl_sched_start(fl_sched *s)
{
	const fl_graph *g = s->g;
	int			sp = 0;

	for (int i = 0; i < g->nnodes; i++)
	{
		if (g->nodes[i].scope_slot != 0 || s->unsettled[i] != 0 || s->nstate[i] != FL_PENDING)
			continue;
		if (g->nodes[i].flags & FL_NODE_TRIGGER)
		{
			s->nstate[i] = FL_READY;
			heap_push(&s->ready[0], i);
		}
		else
			inputs_settled(s, i, &sp);
	}
	propagate(s, sp);
}

/* Lowest-index ready node of a scope, marked running; -1 when none. */
int
fl_sched_next(fl_sched *s, int slot)
{
	int			v = heap_pop(&s->ready[slot]);

	if (v >= 0)
		s->nstate[v] = FL_RUNNING;
	return v;
}

/* Take a particular ready node out of its heap and mark it running. */
bool
fl_sched_take(fl_sched *s, int n)
{
	if (s->nstate[n] != FL_READY)
		return false;
	heap_remove(&s->ready[s->g->nodes[n].scope_slot], n);
	s->nstate[n] = FL_RUNNING;
	return true;
}

/* Node finished: unset edges live when their handle is live_handle. */
void
fl_sched_complete(fl_sched *s, int n, int live_handle)
{
	const fl_graph *g = s->g;
	int			sp = 0;

	s->nstate[n] = FL_DONE;
	for (int k = g->out_start[n]; k < g->out_start[n + 1]; k++)
	{
		int			e = g->out_edges[k];

		settle_edge(s, e, live_handle >= 0 && g->edges[e].handle == live_handle, &sp);
	}
	propagate(s, sp);
}

/* Settle only the edges of one handle, as live. */
void
fl_sched_fire(fl_sched *s, int n, int handle)
{
	const fl_graph *g = s->g;
	int			sp = 0;

	for (int k = g->out_start[n]; k < g->out_start[n + 1]; k++)
	{
		int			e = g->out_edges[k];

		if (g->edges[e].handle == handle)
			settle_edge(s, e, true, &sp);
	}
	propagate(s, sp);
}

/* A running node suspends; its outgoing edges stay unsettled. */
void
fl_sched_wait(fl_sched *s, int n)
{
	s->nstate[n] = FL_WAITING;
}

/* Reset a loop body for the next iteration. */
void
fl_sched_reset_body(fl_sched *s, int loop)
{
	const fl_graph *g = s->g;
	int			slot = g->nodes[loop].loop_slot;

	for (int v = 0; v < g->nnodes; v++)
	{
		if (!fl_graph_in_body(g, loop, v))
			continue;
		s->nstate[v] = FL_PENDING;
		s->unsettled[v] = g->in_start[v + 1] - g->in_start[v];
		s->live_in[v] = 0;
		for (int k = g->in_start[v]; k < g->in_start[v + 1]; k++)
			s->estate[g->in_edges[k]] = FL_EDGE_UNSET;
		if (g->nodes[v].flags & FL_NODE_LOOP)
			s->ready[g->nodes[v].loop_slot].n = 0;
	}
	s->ready[slot].n = 0;
	s->nskipped = s->skip_head = 0;
}

/* Next node skipped since the last drain, or -1. */
int
fl_sched_next_skipped(fl_sched *s)
{
	if (s->skip_head >= s->nskipped)
	{
		s->skip_head = s->nskipped = 0;
		return -1;
	}
	return s->skipped[s->skip_head++];
}
