/*
 * test_graph.c
 *	  Unit tests of graph validation (src/core/graph.c) and of the ready-node
 *	  scheduler with dead-path elimination (src/core/sched.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fl_alloc.h"
#include "core/graph.h"
#include "unit.h"

/* CHECK_STR that also accepts an expected NULL */
#define CHECK_NSTR(a, b) do { const char *x_ = (a), *y_ = (b); \
	if (y_ == NULL) CHECK(x_ == NULL); else CHECK_STR(x_, y_); } while (0)

/* issue k of `is` has exactly this code, nodeId, edgeId and field */
#define CHECK_ISSUE(is, k, code_, node_, edge_, field_) do { \
	CHECK((is)->n > (k)); \
	if ((is)->n > (k)) { \
		const fl_issue *it_ = &(is)->items[k]; \
		CHECK_STR(it_->code, code_); \
		CHECK_NSTR(it_->node_id, node_); \
		CHECK_NSTR(it_->edge_id, edge_); \
		CHECK_NSTR(it_->field, field_); \
		CHECK(it_->message != NULL && it_->message[0] != '\0'); \
	} } while (0)

/* the message of issue k contains `part` */
#define CHECK_MSG(is, k, part) \
	CHECK((is)->n > (k) && strstr((is)->items[k].message, (part)) != NULL)

/* ---- building graphs ---- */

enum kind
{
	K_TRIGGER,					/* out */
	K_PLAIN,					/* out */
	K_COND,						/* true, false */
	K_LOOP,						/* body, done */
	K_OUTERR,					/* out, error (onError: branch) */
	K_SINK,						/* no outputs */
	K_NEXT,						/* next */
	K_NEXTERR,					/* next, error */
	K_CONDERR,					/* true, false, error */
	K_UNKNOWN					/* unknown type: no handles */
};

static const char *h_out[] = {"out"};
static const char *h_cond[] = {"true", "false"};
static const char *h_loop[] = {"body", "done"};
static const char *h_outerr[] = {"out", "error"};
static const char *h_next[] = {"next"};
static const char *h_nexterr[] = {"next", "error"};
static const char *h_conderr[] = {"true", "false", "error"};

/* handle indexes, by position in the arrays above */
#define H_OUT	0
#define H_TRUE	0
#define H_FALSE	1
#define H_BODY	0
#define H_DONE	1
#define H_ERROR	1

static void
N(fl_graph *g, int i, const char *id, enum kind k)
{
	switch (k)
	{
		case K_TRIGGER:
			fl_graph_set_node(g, i, id, "trigger", FL_NODE_TRIGGER, h_out, 1);
			break;
		case K_PLAIN:
			fl_graph_set_node(g, i, id, "transform", 0, h_out, 1);
			break;
		case K_COND:
			fl_graph_set_node(g, i, id, "condition", 0, h_cond, 2);
			break;
		case K_LOOP:
			fl_graph_set_node(g, i, id, "loop-controller", FL_NODE_LOOP, h_loop, 2);
			break;
		case K_OUTERR:
			fl_graph_set_node(g, i, id, "http-request", 0, h_outerr, 2);
			break;
		case K_SINK:
			fl_graph_set_node(g, i, id, "output", 0, NULL, 0);
			break;
		case K_NEXT:
			fl_graph_set_node(g, i, id, "delay", 0, h_next, 1);
			break;
		case K_NEXTERR:
			fl_graph_set_node(g, i, id, "delay", 0, h_nexterr, 2);
			break;
		case K_CONDERR:
			fl_graph_set_node(g, i, id, "condition", 0, h_conderr, 3);
			break;
		case K_UNKNOWN:
			fl_graph_set_node(g, i, id, "no-such-type", FL_NODE_UNKNOWN_TYPE, NULL, 0);
			break;
	}
}

static void
E(fl_graph *g, int i, const char *id, const char *src, const char *dst, const char *handle)
{
	fl_graph_set_edge(g, i, id, src, dst, handle, NULL);
}

/* graph.h has no destructor: free what graph.c allocates (strings are borrowed) */
static void
graph_free(fl_graph *g)
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

static void
sched_free(fl_sched *s)
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

/* node index by id (the test's own graphs always have it) */
static int
ix(const fl_graph *g, const char *id)
{
	int			i = fl_graph_find(g, id);

	if (i < 0)
	{
		fprintf(stderr, "no node \"%s\"\n", id);
		abort();
	}
	return i;
}

/* finish a graph expected to be valid */
static void
finish_valid(fl_graph *g)
{
	fl_issues	is = {0};

	CHECK(fl_graph_finish(g, &is));
	CHECK(is.n == 0);
	for (int i = 0; i < is.n; i++)
		fprintf(stderr, "unexpected issue %s: %s\n", is.items[i].code, is.items[i].message);
	fl_issues_free(&is);
}

/* drain the skipped list into out[] (in order); returns the count */
static int
drain_skipped(fl_sched *s, int *out, int max)
{
	int			n = 0,
				v;

	while ((v = fl_sched_next_skipped(s)) >= 0)
	{
		if (n < max)
			out[n] = v;
		n++;
	}
	return n;
}

/* ---- validation ---- */

/* A valid graph has no issues; edges resolve to indexes and handles. */
static void
test_valid_graph(void)
{
	fl_graph   *g = fl_graph_create(9, 10);
	fl_issues	is = {0};

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "c", K_COND);
	N(g, 2, "a", K_PLAIN);
	N(g, 3, "b", K_PLAIN);
	N(g, 4, "j", K_OUTERR);
	N(g, 5, "d", K_NEXT);
	N(g, 6, "x", K_NEXTERR);
	N(g, 7, "o", K_SINK);
	N(g, 8, "h", K_PLAIN);
	E(g, 0, "e0", "t", "c", NULL);
	E(g, 1, "e1", "c", "a", "true");
	E(g, 2, "e2", "c", "b", "false");
	E(g, 3, "e3", "a", "j", NULL);
	E(g, 4, "e4", "b", "j", "out");
	E(g, 5, "e5", "j", "d", NULL);	/* out+error: not ambiguous */
	E(g, 6, "e6", "j", "h", "error");
	E(g, 7, "e7", "d", "x", NULL);	/* the single handle "next" */
	E(g, 8, "e8", "x", "o", NULL);	/* next+error: "next" */
	E(g, 9, "e9", "h", "o", NULL);

	CHECK(!g->finished);
	CHECK(fl_graph_find(g, "t") == -1);	/* no index before finish */
	CHECK(fl_graph_finish(g, &is));
	CHECK(is.n == 0);
	CHECK(g->finished);
	CHECK(g->valid);
	CHECK(g->nloops == 0);
	CHECK(g->slot_loop[0] == -1);

	CHECK(fl_graph_find(g, "t") == 0);
	CHECK(fl_graph_find(g, "j") == 4);
	CHECK(fl_graph_find(g, "h") == 8);
	CHECK(fl_graph_find(g, "nope") == -1);
	CHECK(fl_graph_find(g, "") == -1);
	CHECK(fl_graph_find(g, NULL) == -1);

	CHECK(g->edges[0].source == 0 && g->edges[0].target == 1 && g->edges[0].handle == H_OUT);
	CHECK(g->edges[1].handle == H_TRUE);
	CHECK(g->edges[2].handle == H_FALSE);
	CHECK(g->edges[3].handle == H_OUT);
	CHECK(g->edges[4].handle == H_OUT);
	CHECK(g->edges[5].handle == 0);
	CHECK(g->edges[6].handle == H_ERROR);
	CHECK(g->edges[7].handle == 0);
	CHECK(g->edges[8].handle == 0);
	CHECK(g->edges[9].source == 8 && g->edges[9].target == 7);

	/* CSR in edges-array order */
	CHECK(g->out_start[1] - g->out_start[0] == 1);
	CHECK(g->out_start[2] - g->out_start[1] == 2);
	CHECK(g->out_edges[g->out_start[1]] == 1 && g->out_edges[g->out_start[1] + 1] == 2);
	CHECK(g->in_start[5] - g->in_start[4] == 2);
	CHECK(g->in_edges[g->in_start[4]] == 3 && g->in_edges[g->in_start[4] + 1] == 4);
	CHECK(g->in_start[8] - g->in_start[7] == 2);
	CHECK(g->out_start[8] == g->out_start[7]);	/* the sink has no out edges */
	CHECK(g->out_start[9] == 10 && g->in_start[9] == 10);

	for (int i = 0; i < g->nnodes; i++)
	{
		CHECK(g->nodes[i].scope_slot == 0);
		CHECK(g->nodes[i].loop_owner == -1);
		CHECK(g->nodes[i].loop_slot == -1);
	}

	/* handle lookup and reachability */
	CHECK(fl_graph_handle_index(&g->nodes[1], "true") == 0);
	CHECK(fl_graph_handle_index(&g->nodes[1], "false") == 1);
	CHECK(fl_graph_handle_index(&g->nodes[1], "out") == -1);
	CHECK(fl_graph_handle_index(&g->nodes[7], "out") == -1);
	{
		uint8_t		scratch[9];

		memset(scratch, 0, sizeof(scratch));
		CHECK(fl_graph_reaches(g, 0, 7, scratch));
		memset(scratch, 0, sizeof(scratch));
		CHECK(fl_graph_reaches(g, 2, 2, scratch));
		memset(scratch, 0, sizeof(scratch));
		CHECK(!fl_graph_reaches(g, 2, 3, scratch));	/* a does not reach b */
		memset(scratch, 0, sizeof(scratch));
		CHECK(!fl_graph_reaches(g, 7, 0, scratch));
	}
	CHECK(!fl_graph_in_body(g, 0, 1));	/* not a loop */

	/* the same structure finished with prior issues still counts as valid */
	fl_issues_free(&is);
	graph_free(g);

	g = fl_graph_create(2, 1);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "o", K_SINK);
	E(g, 0, "e1", "t", "o", NULL);
	fl_issue_add(&is, "UNKNOWN_NODE_TYPE", "z", NULL, "type", "pre-existing %d", 1);
	CHECK(fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "UNKNOWN_NODE_TYPE", "z", NULL, "type");
	CHECK_STR(is.items[0].message, "pre-existing 1");
	fl_issues_free(&is);
	CHECK(is.n == 0 && is.items == NULL && is.cap == 0);
	graph_free(g);
}

static void
test_duplicate_node_id(void)
{
	fl_graph   *g = fl_graph_create(4, 1);
	fl_issues	is = {0};

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_PLAIN);
	N(g, 2, "a", K_SINK);
	N(g, 3, "a", K_PLAIN);
	E(g, 0, "e1", "t", "a", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(!g->valid);
	CHECK(is.n == 2);
	CHECK_ISSUE(&is, 0, "DUPLICATE_NODE_ID", "a", NULL, "id");
	CHECK_ISSUE(&is, 1, "DUPLICATE_NODE_ID", "a", NULL, "id");
	CHECK_MSG(&is, 0, "\"a\"");
	CHECK(fl_graph_find(g, "a") == 1);	/* the first occurrence wins */
	CHECK(g->edges[0].target == 1);
	fl_issues_free(&is);
	graph_free(g);
}

static void
test_duplicate_edge_id(void)
{
	fl_graph   *g = fl_graph_create(3, 3);
	fl_issues	is = {0};

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_PLAIN);
	N(g, 2, "b", K_SINK);
	E(g, 0, "e1", "t", "a", NULL);
	E(g, 1, "e2", "a", "b", NULL);
	E(g, 2, "e1", "t", "b", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "DUPLICATE_EDGE_ID", NULL, "e1", "id");
	CHECK_MSG(&is, 0, "\"e1\"");
	fl_issues_free(&is);
	graph_free(g);
}

static void
test_edge_endpoint_not_found(void)
{
	fl_graph   *g = fl_graph_create(2, 4);
	fl_issues	is = {0};

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_SINK);
	E(g, 0, "e1", "t", "a", NULL);
	E(g, 1, "e2", "ghost", "a", NULL);
	E(g, 2, "e3", "t", "nowhere", NULL);
	E(g, 3, "e4", "ghost", "nowhere", "out");
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 4);
	CHECK_ISSUE(&is, 0, "EDGE_SOURCE_NOT_FOUND", NULL, "e2", "source");
	CHECK_MSG(&is, 0, "\"ghost\"");
	CHECK_ISSUE(&is, 1, "EDGE_TARGET_NOT_FOUND", NULL, "e3", "target");
	CHECK_MSG(&is, 1, "\"nowhere\"");
	CHECK_ISSUE(&is, 2, "EDGE_SOURCE_NOT_FOUND", NULL, "e4", "source");
	CHECK_ISSUE(&is, 3, "EDGE_TARGET_NOT_FOUND", NULL, "e4", "target");
	CHECK(g->edges[1].source == -1 && g->edges[1].target == 1);
	CHECK(g->edges[2].source == 0 && g->edges[2].target == -1);
	CHECK(g->edges[3].source == -1 && g->edges[3].target == -1);
	/* dangling edges stay out of the adjacency */
	CHECK(g->in_start[2] - g->in_start[1] == 1);
	CHECK(g->out_start[1] - g->out_start[0] == 1);
	fl_issues_free(&is);
	graph_free(g);
}

static void
test_unknown_handle(void)
{
	fl_graph   *g = fl_graph_create(6, 5);
	fl_issues	is = {0};

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "c", K_COND);
	N(g, 2, "a", K_PLAIN);
	N(g, 3, "o", K_SINK);
	N(g, 4, "u", K_UNKNOWN);
	N(g, 5, "z", K_SINK);
	E(g, 0, "e0", "t", "c", NULL);
	E(g, 1, "e1", "c", "a", "maybe");	/* no such handle */
	E(g, 2, "e2", "a", "o", "error");	/* error only with onError branch */
	E(g, 3, "e3", "o", "z", NULL);	/* a node without outputs */
	E(g, 4, "e4", "u", "z", "whatever");	/* unknown type: reported elsewhere */
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 3);
	CHECK_ISSUE(&is, 0, "UNKNOWN_HANDLE", "c", "e1", "sourceHandle");
	CHECK_MSG(&is, 0, "\"maybe\"");
	CHECK_ISSUE(&is, 1, "UNKNOWN_HANDLE", "a", "e2", "sourceHandle");
	CHECK_MSG(&is, 1, "\"error\"");
	CHECK_ISSUE(&is, 2, "UNKNOWN_HANDLE", "o", "e3", "sourceHandle");
	CHECK(g->edges[1].handle == -1);
	CHECK(g->edges[4].handle == -1);
	fl_issues_free(&is);
	graph_free(g);
}

static void
test_missing_handle(void)
{
	fl_graph   *g = fl_graph_create(9, 8);
	fl_issues	is = {0};

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "c", K_COND);
	N(g, 2, "l", K_LOOP);
	N(g, 3, "ce", K_CONDERR);
	N(g, 4, "h", K_OUTERR);
	N(g, 5, "n", K_NEXTERR);
	N(g, 6, "a", K_PLAIN);
	N(g, 7, "b", K_PLAIN);
	N(g, 8, "z", K_SINK);
	E(g, 0, "e0", "t", "c", NULL);
	E(g, 1, "e1", "c", "l", NULL);	/* true/false: ambiguous */
	E(g, 2, "e2", "l", "ce", NULL);	/* body/done: ambiguous */
	E(g, 3, "e3", "ce", "h", NULL);	/* true/false/error: ambiguous */
	E(g, 4, "e4", "h", "n", NULL);	/* out+error: "out" */
	E(g, 5, "e5", "n", "a", NULL);	/* next+error: "next" */
	E(g, 6, "e6", "a", "b", NULL);
	E(g, 7, "e7", "b", "z", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 3);
	CHECK_ISSUE(&is, 0, "MISSING_HANDLE", "c", "e1", "sourceHandle");
	CHECK_MSG(&is, 0, "sourceHandle is required");
	CHECK_ISSUE(&is, 1, "MISSING_HANDLE", "l", "e2", "sourceHandle");
	CHECK_ISSUE(&is, 2, "MISSING_HANDLE", "ce", "e3", "sourceHandle");
	CHECK(g->edges[1].handle == -1);
	CHECK(g->edges[4].handle == fl_graph_handle_index(&g->nodes[4], "out"));
	CHECK(g->edges[5].handle == fl_graph_handle_index(&g->nodes[5], "next"));
	fl_issues_free(&is);
	graph_free(g);

	/* the out+error node alone is valid */
	g = fl_graph_create(3, 2);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "h", K_OUTERR);
	N(g, 2, "z", K_SINK);
	E(g, 0, "e0", "t", "h", NULL);
	E(g, 1, "e1", "h", "z", NULL);
	finish_valid(g);
	CHECK(g->edges[1].handle == 0);
	graph_free(g);
}

static void
test_no_trigger(void)
{
	fl_graph   *g = fl_graph_create(2, 1);
	fl_issues	is = {0};

	N(g, 0, "a", K_PLAIN);
	N(g, 1, "b", K_SINK);
	E(g, 0, "e1", "a", "b", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "NO_TRIGGER", NULL, NULL, NULL);
	fl_issues_free(&is);
	graph_free(g);

	/* the empty graph */
	g = fl_graph_create(0, 0);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "NO_TRIGGER", NULL, NULL, NULL);
	CHECK(fl_graph_find(g, "a") == -1);
	fl_issues_free(&is);
	graph_free(g);
}

static void
test_cycle(void)
{
	fl_graph   *g;
	fl_issues	is = {0};

	/* t -> a -> b -> a */
	g = fl_graph_create(3, 3);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_PLAIN);
	N(g, 2, "b", K_PLAIN);
	E(g, 0, "e1", "t", "a", NULL);
	E(g, 1, "e2", "a", "b", NULL);
	E(g, 2, "e3", "b", "a", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "CYCLE", "a", NULL, NULL);
	CHECK_MSG(&is, 0, "\"a\"");
	fl_issues_free(&is);
	graph_free(g);

	/* self-loop */
	g = fl_graph_create(2, 2);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_PLAIN);
	E(g, 0, "e1", "t", "a", NULL);
	E(g, 1, "e2", "a", "a", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "CYCLE", "a", NULL, NULL);
	fl_issues_free(&is);
	graph_free(g);

	/*
	 * x (index 1) is only downstream of the cycle b <-> c: the issue must
	 * name a node on the cycle, not the first node Kahn's algorithm left.
	 */
	g = fl_graph_create(5, 5);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "x", K_PLAIN);
	N(g, 2, "y", K_PLAIN);
	N(g, 3, "c", K_PLAIN);
	N(g, 4, "b", K_PLAIN);
	E(g, 0, "e1", "t", "b", NULL);
	E(g, 1, "e2", "b", "c", NULL);
	E(g, 2, "e3", "c", "b", NULL);
	E(g, 3, "e4", "b", "y", NULL);
	E(g, 4, "e5", "y", "x", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "CYCLE", "c", NULL, NULL);	/* lowest index on it */
	CHECK_MSG(&is, 0, "\"c\"");
	fl_issues_free(&is);
	graph_free(g);

	/* two separate cycles: one issue */
	g = fl_graph_create(5, 5);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_PLAIN);
	N(g, 2, "b", K_PLAIN);
	N(g, 3, "c", K_PLAIN);
	N(g, 4, "d", K_PLAIN);
	E(g, 0, "e1", "t", "a", NULL);
	E(g, 1, "e2", "a", "b", NULL);
	E(g, 2, "e3", "b", "a", NULL);
	E(g, 3, "e4", "c", "d", NULL);
	E(g, 4, "e5", "d", "c", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "CYCLE", "a", NULL, NULL);
	fl_issues_free(&is);
	graph_free(g);

	/*
	 * A long tail hanging off a ring, the tail first in the nodes array:
	 * the named node is on the ring (its lowest index), not in the tail.
	 */
	{
		enum
		{
			TAIL = 50, RING = 30, NN = TAIL + RING + 1, NE = TAIL + RING + 1
		};
		static char ids[NN][8];
		static char eids[NE][8];
		int			ne = 0;
		int			named;

		g = fl_graph_create(NN, NE);
		for (int i = 0; i < NN; i++)
		{
			snprintf(ids[i], sizeof(ids[i]), "n%d", i);
			N(g, i, ids[i], i == NN - 1 ? K_TRIGGER : K_PLAIN);
		}
		for (int i = 0; i < NE; i++)
			snprintf(eids[i], sizeof(eids[i]), "e%d", i);
		/* trigger -> ring TAIL .. TAIL+RING-1 -> back to TAIL */
		E(g, ne, eids[ne], ids[NN - 1], ids[TAIL], NULL);
		ne++;
		for (int i = TAIL; i < TAIL + RING - 1; i++, ne++)
			E(g, ne, eids[ne], ids[i], ids[i + 1], NULL);
		E(g, ne, eids[ne], ids[TAIL + RING - 1], ids[TAIL], NULL);
		ne++;
		/* ring -> TAIL-1 -> ... -> 0 */
		E(g, ne, eids[ne], ids[TAIL + RING - 1], ids[TAIL - 1], NULL);
		ne++;
		for (int i = TAIL - 1; i > 0; i--, ne++)
			E(g, ne, eids[ne], ids[i], ids[i - 1], NULL);
		CHECK(ne == NE);
		CHECK(!fl_graph_finish(g, &is));
		CHECK(is.n == 1);
		CHECK_ISSUE(&is, 0, "CYCLE", "n50", NULL, NULL);
		named = is.n ? fl_graph_find(g, is.items[0].node_id) : -1;
		CHECK(named >= TAIL && named < TAIL + RING);
		fl_issues_free(&is);
		graph_free(g);
	}
}

static void
test_reserved_node_id(void)
{
	static const char *const roots[] = {
		"trigger", "variables", "input", "loop", "item", "execution",
		"workflow", "credentials", "nodes"
	};
	static const char *const fine[] = {
		"Trigger", "triggers", "node", "loops", "inputs", "x.input", "", "trigger "
	};
	fl_issues	is = {0};

	for (int r = 0; r < 9; r++)
	{
		fl_graph   *g = fl_graph_create(3, 2);

		CHECK(fl_is_reserved_root(roots[r]));
		N(g, 0, "t", K_TRIGGER);
		N(g, 1, roots[r], K_PLAIN);
		N(g, 2, "z", K_SINK);
		E(g, 0, "e1", "t", roots[r], NULL);
		E(g, 1, "e2", roots[r], "z", NULL);
		CHECK(!fl_graph_finish(g, &is));
		CHECK(is.n == 1);
		CHECK_ISSUE(&is, 0, "RESERVED_NODE_ID", roots[r], NULL, "id");
		/* the node still resolves: no edge error on top */
		CHECK(g->edges[0].target == 1 && g->edges[1].source == 1);
		fl_issues_free(&is);
		graph_free(g);
	}
	for (int r = 0; r < 8; r++)
		CHECK(!fl_is_reserved_root(fine[r]));

	/* a trigger called "trigger" is reserved too */
	{
		fl_graph   *g = fl_graph_create(2, 1);

		N(g, 0, "trigger", K_TRIGGER);
		N(g, 1, "o", K_SINK);
		E(g, 0, "e1", "trigger", "o", NULL);
		CHECK(!fl_graph_finish(g, &is));
		CHECK(is.n == 1);
		CHECK_ISSUE(&is, 0, "RESERVED_NODE_ID", "trigger", NULL, "id");
		fl_issues_free(&is);
		graph_free(g);
	}
	/* near misses are fine */
	{
		fl_graph   *g = fl_graph_create(3, 2);

		N(g, 0, "Trigger", K_TRIGGER);
		N(g, 1, "nodes_x", K_PLAIN);
		N(g, 2, "loops", K_SINK);
		E(g, 0, "e1", "Trigger", "nodes_x", NULL);
		E(g, 1, "e2", "nodes_x", "loops", NULL);
		finish_valid(g);
		graph_free(g);
	}
}

static void
test_invalid_loop_body(void)
{
	fl_graph   *g;
	fl_issues	is = {0};

	/* leaving: l.body -> a -> b, l.done -> b */
	g = fl_graph_create(4, 4);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "l", K_LOOP);
	N(g, 2, "a", K_PLAIN);
	N(g, 3, "b", K_SINK);
	E(g, 0, "e1", "t", "l", NULL);
	E(g, 1, "e2", "l", "a", "body");
	E(g, 2, "e3", "a", "b", NULL);
	E(g, 3, "e4", "l", "b", "done");
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "INVALID_LOOP_BODY", "a", "e3", NULL);
	CHECK_MSG(&is, 0, "leaves the body of loop \"l\"");
	/* b is reachable from body but also from done: not in the body */
	CHECK(fl_graph_in_body(g, 1, 2));
	CHECK(!fl_graph_in_body(g, 1, 3));
	CHECK(g->nodes[2].scope_slot == 1);
	CHECK(g->nodes[3].scope_slot == 0);
	fl_issues_free(&is);
	graph_free(g);

	/* baseline: a well-formed loop (and an unrelated branch) is valid */
	g = fl_graph_create(5, 4);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "l", K_LOOP);
	N(g, 2, "a", K_PLAIN);
	N(g, 3, "d", K_SINK);
	N(g, 4, "x", K_SINK);
	E(g, 0, "e1", "t", "l", NULL);
	E(g, 1, "e2", "l", "a", "body");
	E(g, 2, "e3", "l", "d", "done");
	E(g, 3, "e4", "t", "x", NULL);
	CHECK(fl_graph_finish(g, &is));
	CHECK(is.n == 0);
	fl_issues_free(&is);
	graph_free(g);

	/* entering: t -> x -> a where a is in l's body */
	g = fl_graph_create(5, 5);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "l", K_LOOP);
	N(g, 2, "a", K_SINK);
	N(g, 3, "d", K_SINK);
	N(g, 4, "x", K_PLAIN);
	E(g, 0, "e1", "t", "l", NULL);
	E(g, 1, "e2", "l", "a", "body");
	E(g, 2, "e3", "l", "d", "done");
	E(g, 3, "e4", "t", "x", NULL);
	E(g, 4, "e5", "x", "a", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 1);
	CHECK_ISSUE(&is, 0, "INVALID_LOOP_BODY", "a", "e5", NULL);
	CHECK_MSG(&is, 0, "enters the body of loop \"l\"");
	fl_issues_free(&is);
	graph_free(g);

	/*
	 * nested: o.body -> i, p; i.body -> a; i.done -> c; o.done -> d.
	 * a -> c leaves the inner body into the outer one; p -> a enters the
	 * inner body from the outer one.
	 */
	g = fl_graph_create(7, 8);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "o", K_LOOP);
	N(g, 2, "i", K_LOOP);
	N(g, 3, "a", K_PLAIN);
	N(g, 4, "c", K_SINK);
	N(g, 5, "p", K_PLAIN);
	N(g, 6, "d", K_SINK);
	E(g, 0, "e1", "t", "o", NULL);
	E(g, 1, "e2", "o", "i", "body");
	E(g, 2, "e3", "o", "p", "body");
	E(g, 3, "e4", "i", "a", "body");
	E(g, 4, "e5", "i", "c", "done");
	E(g, 5, "e6", "a", "c", NULL);	/* leaves i's body */
	E(g, 6, "e7", "p", "a", NULL);	/* enters i's body */
	E(g, 7, "e8", "o", "d", "done");
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 2);
	CHECK_ISSUE(&is, 0, "INVALID_LOOP_BODY", "a", "e6", NULL);
	CHECK_MSG(&is, 0, "leaves the body of loop \"i\"");
	CHECK_ISSUE(&is, 1, "INVALID_LOOP_BODY", "a", "e7", NULL);
	CHECK_MSG(&is, 1, "enters the body of loop \"i\"");
	CHECK(g->nodes[3].scope_slot == g->nodes[2].loop_slot);
	CHECK(g->nodes[4].scope_slot == g->nodes[1].loop_slot);
	CHECK(g->nodes[5].scope_slot == g->nodes[1].loop_slot);
	fl_issues_free(&is);
	graph_free(g);

	/* leaving the body back to the loop node itself is a cycle as well */
	g = fl_graph_create(4, 4);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "l", K_LOOP);
	N(g, 2, "a", K_PLAIN);
	N(g, 3, "d", K_SINK);
	E(g, 0, "e1", "t", "l", NULL);
	E(g, 1, "e2", "l", "a", "body");
	E(g, 2, "e3", "a", "l", NULL);
	E(g, 3, "e4", "l", "d", "done");
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 2);
	CHECK_ISSUE(&is, 0, "CYCLE", "l", NULL, NULL);
	CHECK_ISSUE(&is, 1, "INVALID_LOOP_BODY", "a", "e3", NULL);
	fl_issues_free(&is);
	graph_free(g);
}

/* Several faults at once come out in a fixed order. */
static void
test_issue_order(void)
{
	fl_graph   *g = fl_graph_create(4, 4);
	fl_issues	is = {0};

	N(g, 0, "a", K_PLAIN);
	N(g, 1, "a", K_COND);
	N(g, 2, "input", K_PLAIN);
	N(g, 3, "b", K_SINK);
	E(g, 0, "e1", "a", "input", NULL);
	E(g, 1, "e1", "input", "b", "nope");
	E(g, 2, "e3", "a", "zzz", NULL);
	E(g, 3, "e4", "input", "a", NULL);
	CHECK(!fl_graph_finish(g, &is));
	CHECK(is.n == 7);
	CHECK_ISSUE(&is, 0, "DUPLICATE_NODE_ID", "a", NULL, "id");
	CHECK_ISSUE(&is, 1, "DUPLICATE_EDGE_ID", NULL, "e1", "id");
	CHECK_ISSUE(&is, 2, "RESERVED_NODE_ID", "input", NULL, "id");
	CHECK_ISSUE(&is, 3, "NO_TRIGGER", NULL, NULL, NULL);
	CHECK_ISSUE(&is, 4, "UNKNOWN_HANDLE", "input", "e1", "sourceHandle");
	CHECK_ISSUE(&is, 5, "EDGE_TARGET_NOT_FOUND", NULL, "e3", "target");
	CHECK_ISSUE(&is, 6, "CYCLE", "a", NULL, NULL);
	/* fl_issue_add grows past its first allocation */
	for (int i = 0; i < 40; i++)
		fl_issue_add(&is, "X", NULL, NULL, NULL, "%d", i);
	CHECK(is.n == 47);
	CHECK_STR(is.items[46].message, "39");
	CHECK_ISSUE(&is, 6, "CYCLE", "a", NULL, NULL);
	fl_issues_free(&is);
	graph_free(g);
}

/* ---- loop scopes ---- */

/*
 * t -> o; o.body -> i, p; i.body -> a -> b; i.done -> c; o.done -> d.
 * (The inner loop i sits inside the outer body.)
 */
static fl_graph *
nested_loops(void)
{
	fl_graph   *g = fl_graph_create(9, 9);

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "o", K_LOOP);
	N(g, 2, "p", K_SINK);
	N(g, 3, "i", K_LOOP);
	N(g, 4, "b", K_SINK);
	N(g, 5, "a", K_PLAIN);
	N(g, 6, "c", K_SINK);
	N(g, 7, "d", K_SINK);
	N(g, 8, "u", K_TRIGGER);	/* a second trigger, unconnected */
	E(g, 0, "e1", "t", "o", NULL);
	E(g, 1, "e2", "o", "i", "body");
	E(g, 2, "e3", "o", "p", "body");
	E(g, 3, "e4", "i", "a", "body");
	E(g, 4, "e5", "a", "b", NULL);
	E(g, 5, "e6", "i", "c", "done");
	E(g, 6, "e7", "o", "d", "done");
	E(g, 7, "e8", "t", "d", NULL);
	E(g, 8, "e9", "u", "d", NULL);
	finish_valid(g);
	return g;
}

static void
test_loop_scopes(void)
{
	fl_graph   *g = nested_loops();
	int			t = ix(g, "t"),
				o = ix(g, "o"),
				p = ix(g, "p"),
				i = ix(g, "i"),
				a = ix(g, "a"),
				b = ix(g, "b"),
				c = ix(g, "c"),
				d = ix(g, "d");

	CHECK(g->nloops == 2);
	CHECK(g->nodes[o].loop_slot == 1);
	CHECK(g->nodes[i].loop_slot == 2);
	CHECK(g->slot_loop[0] == -1 && g->slot_loop[1] == o && g->slot_loop[2] == i);
	CHECK(g->nodes[t].loop_slot == -1);

	/* scope and innermost owner */
	CHECK(g->nodes[t].scope_slot == 0 && g->nodes[t].loop_owner == -1);
	CHECK(g->nodes[o].scope_slot == 0 && g->nodes[o].loop_owner == -1);
	CHECK(g->nodes[d].scope_slot == 0 && g->nodes[d].loop_owner == -1);
	CHECK(g->nodes[i].scope_slot == 1 && g->nodes[i].loop_owner == o);
	CHECK(g->nodes[p].scope_slot == 1 && g->nodes[p].loop_owner == o);
	CHECK(g->nodes[c].scope_slot == 1 && g->nodes[c].loop_owner == o);
	CHECK(g->nodes[a].scope_slot == 2 && g->nodes[a].loop_owner == i);
	CHECK(g->nodes[b].scope_slot == 2 && g->nodes[b].loop_owner == i);

	/* body membership at any depth */
	CHECK(fl_graph_in_body(g, o, i));
	CHECK(fl_graph_in_body(g, o, p));
	CHECK(fl_graph_in_body(g, o, a));
	CHECK(fl_graph_in_body(g, o, b));
	CHECK(fl_graph_in_body(g, o, c));
	CHECK(!fl_graph_in_body(g, o, o));
	CHECK(!fl_graph_in_body(g, o, d));
	CHECK(!fl_graph_in_body(g, o, t));
	CHECK(fl_graph_in_body(g, i, a));
	CHECK(fl_graph_in_body(g, i, b));
	CHECK(!fl_graph_in_body(g, i, i));
	CHECK(!fl_graph_in_body(g, i, c));	/* after the inner done */
	CHECK(!fl_graph_in_body(g, i, p));
	CHECK(!fl_graph_in_body(g, a, b));	/* a is no loop */
	CHECK(!fl_graph_in_body(g, -1, b));
	graph_free(g);

	/* a loop with nothing on its body handle */
	g = fl_graph_create(3, 2);
	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "l", K_LOOP);
	N(g, 2, "d", K_SINK);
	E(g, 0, "e1", "t", "l", NULL);
	E(g, 1, "e2", "l", "d", "done");
	finish_valid(g);
	CHECK(g->nloops == 1 && g->nodes[1].loop_slot == 1);
	CHECK(!fl_graph_in_body(g, 1, 2));
	CHECK(g->nodes[2].scope_slot == 0);
	graph_free(g);
}

/* ---- scheduler ---- */

/* trigger -> condition(true,false) -> a / b -> join */
static void
test_sched_diamond(void)
{
	fl_graph   *g = fl_graph_create(5, 5);
	fl_sched   *s;
	int			skipped[8];
	int			t,
				c,
				a,
				b,
				j;

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "c", K_COND);
	N(g, 2, "a", K_PLAIN);
	N(g, 3, "b", K_PLAIN);
	N(g, 4, "j", K_SINK);
	E(g, 0, "e1", "t", "c", NULL);
	E(g, 1, "e2", "c", "a", "true");
	E(g, 2, "e3", "c", "b", "false");
	E(g, 3, "e4", "a", "j", NULL);
	E(g, 4, "e5", "b", "j", NULL);
	finish_valid(g);
	t = ix(g, "t");
	c = ix(g, "c");
	a = ix(g, "a");
	b = ix(g, "b");
	j = ix(g, "j");

	s = fl_sched_create(g);
	for (int v = 0; v < 5; v++)
		CHECK(s->nstate[v] == FL_PENDING);
	fl_sched_start(s);
	CHECK(s->nstate[t] == FL_READY);
	CHECK(fl_sched_next_skipped(s) == -1);
	CHECK(fl_sched_next(s, 0) == t);
	CHECK(s->nstate[t] == FL_RUNNING);
	CHECK(fl_sched_next(s, 0) == -1);
	fl_sched_complete(s, t, H_OUT);
	CHECK(s->nstate[t] == FL_DONE);
	CHECK(s->estate[0] == FL_EDGE_LIVE);
	CHECK(fl_sched_next(s, 0) == c);
	fl_sched_complete(s, c, fl_graph_handle_index(&g->nodes[c], "true"));
	CHECK(s->estate[1] == FL_EDGE_LIVE);
	CHECK(s->estate[2] == FL_EDGE_DEAD);
	CHECK(s->estate[4] == FL_EDGE_DEAD);	/* b's edge died with b */
	CHECK(s->nstate[a] == FL_READY);
	CHECK(s->nstate[b] == FL_SKIPPED);
	CHECK(s->nstate[j] == FL_PENDING);	/* still waits for a */
	CHECK(drain_skipped(s, skipped, 8) == 1);
	CHECK(skipped[0] == b);
	CHECK(fl_sched_next_skipped(s) == -1);
	CHECK(fl_sched_next(s, 0) == a);
	CHECK(fl_sched_next(s, 0) == -1);	/* j is not ready yet */
	fl_sched_complete(s, a, H_OUT);
	CHECK(s->nstate[j] == FL_READY);
	CHECK(fl_sched_next(s, 0) == j);
	CHECK(fl_sched_next(s, 0) == -1);	/* exactly once */
	fl_sched_complete(s, j, -1);
	CHECK(fl_sched_next(s, 0) == -1);
	CHECK(fl_sched_next_skipped(s) == -1);
	for (int v = 0; v < 5; v++)
		CHECK(s->nstate[v] == (v == b ? FL_SKIPPED : FL_DONE));
	sched_free(s);

	/* the other branch */
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == t);
	fl_sched_complete(s, t, H_OUT);
	CHECK(fl_sched_next(s, 0) == c);
	fl_sched_complete(s, c, H_FALSE);
	CHECK(drain_skipped(s, skipped, 8) == 1 && skipped[0] == a);
	CHECK(fl_sched_next(s, 0) == b);
	fl_sched_complete(s, b, H_OUT);
	CHECK(fl_sched_next(s, 0) == j);
	CHECK(fl_sched_next(s, 0) == -1);
	sched_free(s);

	/* the condition stops (no live handle): everything after it is skipped */
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == t);
	fl_sched_complete(s, t, H_OUT);
	CHECK(fl_sched_next(s, 0) == c);
	fl_sched_complete(s, c, -1);
	CHECK(drain_skipped(s, skipped, 8) == 3);
	CHECK(skipped[0] == a && skipped[1] == b && skipped[2] == j);
	CHECK(fl_sched_next(s, 0) == -1);
	sched_free(s);
	graph_free(g);
}

/* A join with two live inputs waits for both; error handles kill "out". */
static void
test_sched_join_and_error(void)
{
	fl_graph   *g = fl_graph_create(7, 7);
	fl_sched   *s;
	int			skipped[8];

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_PLAIN);
	N(g, 2, "h", K_OUTERR);
	N(g, 3, "j", K_PLAIN);
	N(g, 4, "ok", K_PLAIN);
	N(g, 5, "err", K_PLAIN);
	N(g, 6, "z", K_SINK);
	E(g, 0, "e1", "t", "a", NULL);
	E(g, 1, "e2", "t", "h", NULL);
	E(g, 2, "e3", "a", "j", NULL);
	E(g, 3, "e4", "h", "j", NULL);
	E(g, 4, "e5", "j", "ok", NULL);
	E(g, 5, "e6", "h", "err", "error");
	E(g, 6, "e7", "ok", "z", NULL);
	finish_valid(g);
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == 0);
	fl_sched_complete(s, 0, H_OUT);
	CHECK(fl_sched_next(s, 0) == 1);
	fl_sched_complete(s, 1, H_OUT);
	CHECK(s->nstate[3] == FL_PENDING);	/* j still waits for h */
	CHECK(fl_sched_next(s, 0) == 2);
	fl_sched_complete(s, 2, H_ERROR);	/* h failed, onError: branch */
	CHECK(s->nstate[5] == FL_READY);
	CHECK(s->nstate[3] == FL_READY);	/* a's input is live */
	CHECK(s->live_in[3] == 1);
	CHECK(fl_sched_next_skipped(s) == -1);
	CHECK(fl_sched_next(s, 0) == 3);
	CHECK(fl_sched_next(s, 0) == 5);
	CHECK(fl_sched_next(s, 0) == -1);
	fl_sched_complete(s, 5, -1);
	fl_sched_complete(s, 3, H_OUT);
	CHECK(fl_sched_next(s, 0) == 4);
	fl_sched_complete(s, 4, H_OUT);
	CHECK(fl_sched_next(s, 0) == 6);
	CHECK(fl_sched_next(s, 0) == -1);
	sched_free(s);

	/* h succeeds: "error" dies */
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == 0);
	fl_sched_complete(s, 0, H_OUT);
	CHECK(fl_sched_next(s, 0) == 1);
	CHECK(fl_sched_next(s, 0) == 2);
	fl_sched_complete(s, 2, H_OUT);
	CHECK(drain_skipped(s, skipped, 8) == 1 && skipped[0] == 5);
	CHECK(s->nstate[3] == FL_PENDING);
	fl_sched_complete(s, 1, H_OUT);
	CHECK(s->nstate[3] == FL_READY && s->live_in[3] == 2);
	sched_free(s);
	graph_free(g);
}

/* Build a chain trigger -> n1 -> ... -> n(len-1); ids in one buffer. */
static fl_graph *
chain(int len, char **idbuf)
{
	fl_graph   *g = fl_graph_create(len, len - 1);
	char	   *buf = fl_alloc((size_t) len * 2 * 12);

	for (int i = 0; i < len; i++)
	{
		char	   *nid = buf + (size_t) i * 24;
		char	   *eid = nid + 12;

		snprintf(nid, 12, "n%d", i);
		snprintf(eid, 12, "e%d", i);
		N(g, i, nid, i == 0 ? K_TRIGGER : (i == len - 1 ? K_SINK : K_PLAIN));
	}
	for (int i = 1; i < len; i++)
		E(g, i - 1, buf + (size_t) i * 24 + 12, buf + (size_t) (i - 1) * 24, buf + (size_t) i * 24, NULL);
	*idbuf = buf;
	return g;
}

/* All-dead inputs skip a 100,000-node chain iteratively. */
static void
test_sched_long_dead_chain(void)
{
	enum
	{
		LEN = 100000
	};
	char	   *buf;
	fl_graph   *g = chain(LEN, &buf);
	fl_sched   *s;
	int			v,
				count = 0;
	bool		in_order = true;

	finish_valid(g);
	CHECK(fl_graph_find(g, "n99999") == LEN - 1);
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next_skipped(s) == -1);
	CHECK(fl_sched_next(s, 0) == 0);
	fl_sched_complete(s, 0, -1);	/* the trigger stops: every edge dies */
	while ((v = fl_sched_next_skipped(s)) >= 0)
	{
		if (v != count + 1)
			in_order = false;
		count++;
	}
	CHECK(count == LEN - 1);
	CHECK(in_order);
	CHECK(fl_sched_next(s, 0) == -1);
	CHECK(s->nstate[LEN - 1] == FL_SKIPPED);
	CHECK(s->estate[LEN - 2] == FL_EDGE_DEAD);
	sched_free(s);
	graph_free(g);
	fl_free(buf);

	/* a node with no inputs that is not a trigger heads a dead chain too */
	g = chain(LEN, &buf);
	g->nodes[0].flags = 0;
	g->nodes[0].type = "transform";
	{
		fl_issues	is = {0};

		CHECK(!fl_graph_finish(g, &is));	/* NO_TRIGGER, but it schedules */
		CHECK(is.n == 1);
		CHECK_ISSUE(&is, 0, "NO_TRIGGER", NULL, NULL, NULL);
		fl_issues_free(&is);
	}
	s = fl_sched_create(g);
	fl_sched_start(s);
	count = 0;
	while ((v = fl_sched_next_skipped(s)) >= 0)
		count++;
	CHECK(count == LEN);
	CHECK(fl_sched_next(s, 0) == -1);
	sched_free(s);
	graph_free(g);
	fl_free(buf);
}

/* A 10,000-node chain validates and runs node by node. */
static void
test_sched_chain_10000(void)
{
	enum
	{
		LEN = 10000
	};
	char	   *buf;
	fl_graph   *g = chain(LEN, &buf);
	fl_sched   *s;
	int			v,
				ran = 0;
	bool		in_order = true;

	finish_valid(g);
	s = fl_sched_create(g);
	fl_sched_start(s);
	while ((v = fl_sched_next(s, 0)) >= 0)
	{
		if (v != ran)
			in_order = false;
		ran++;
		fl_sched_complete(s, v, g->nodes[v].nout > 0 ? H_OUT : -1);
		if (fl_sched_next_skipped(s) != -1)
			in_order = false;
		if (ran > LEN)
			break;
	}
	CHECK(ran == LEN);
	CHECK(in_order);
	CHECK(s->nstate[LEN - 1] == FL_DONE);
	sched_free(s);
	graph_free(g);
	fl_free(buf);
}

/* small LCG for deterministic shuffles */
static uint32_t rng = 12345;

static uint32_t
rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/*
 * Ready nodes come out lowest index first whatever the order they became
 * ready in: t fans out to K middles (edges in shuffled order), middle k
 * feeds sink m(k) with shuffled indexes; completions are shuffled and
 * interleaved with pops, checked against a reference set.
 */
static void
test_sched_index_order(void)
{
	enum
	{
		K = 300
	};
	static char ids[2 * K + 1][8];
	static char eids[2 * K][8];
	static int	perm[2 * K + 1];
	static bool	ref_ready[2 * K + 1];
	fl_graph   *g = fl_graph_create(2 * K + 1, 2 * K);
	fl_sched   *s;
	int			order[K];
	int			ne = 0;
	bool		ok = true;
	int			popped = 0;

	/* node index 0 is the trigger; the rest get shuffled positions */
	for (int i = 0; i <= 2 * K; i++)
		perm[i] = i;
	for (int i = 2 * K; i > 1; i--)
	{
		int			r = 1 + rnd(i);
		int			tmp = perm[i];

		perm[i] = perm[r];
		perm[r] = tmp;
	}
	/* logical node L (1..K middles, K+1..2K sinks) sits at index perm[L] */
	for (int i = 0; i <= 2 * K; i++)
		snprintf(ids[i], 8, "v%d", i);
	N(g, 0, ids[0], K_TRIGGER);
	for (int L = 1; L <= 2 * K; L++)
		N(g, perm[L], ids[perm[L]], L <= K ? K_PLAIN : K_SINK);
	for (int k = 0; k < K; k++)
		order[k] = k + 1;
	for (int k = K - 1; k > 0; k--)
	{
		int			r = rnd(k + 1),
					tmp = order[k];

		order[k] = order[r];
		order[r] = tmp;
	}
	for (int k = 0; k < K; k++)
	{
		snprintf(eids[ne], 8, "e%d", ne);
		E(g, ne, eids[ne], ids[0], ids[perm[order[k]]], NULL);
		ne++;
	}
	for (int L = 1; L <= K; L++)
	{
		snprintf(eids[ne], 8, "e%d", ne);
		E(g, ne, eids[ne], ids[perm[L]], ids[perm[L + K]], NULL);
		ne++;
	}
	finish_valid(g);

	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == 0);
	fl_sched_complete(s, 0, H_OUT);
	/* all middles are ready; they come out ascending */
	{
		int			prev = 0,
					got = 0,
					v;
		int			mids[K];

		while ((v = fl_sched_next(s, 0)) >= 0)
		{
			if (v <= prev)
				ok = false;
			prev = v;
			mids[got++] = v;
		}
		CHECK(got == K);
		CHECK(ok);
		/* complete them in shuffled order, popping now and then */
		for (int k = K - 1; k > 0; k--)
		{
			int			r = rnd(k + 1),
						tmp = mids[k];

			mids[k] = mids[r];
			mids[r] = tmp;
		}
		ok = true;
		for (int k = 0; k < K; k++)
		{
			int			sink = g->edges[g->out_edges[g->out_start[mids[k]]]].target;

			fl_sched_complete(s, mids[k], H_OUT);
			ref_ready[sink] = true;
			if (rnd(3) == 0)
			{
				int			want = -1;

				for (int i = 0; i <= 2 * K; i++)
					if (ref_ready[i])
					{
						want = i;
						break;
					}
				v = fl_sched_next(s, 0);
				if (v != want)
					ok = false;
				if (v >= 0)
				{
					ref_ready[v] = false;
					popped++;
				}
			}
		}
		CHECK(ok);
		prev = -1;
		ok = true;
		while ((v = fl_sched_next(s, 0)) >= 0)
		{
			if (v <= prev || !ref_ready[v])
				ok = false;
			ref_ready[v] = false;
			prev = v;
			popped++;
		}
		CHECK(ok);
		CHECK(popped == K);
	}
	sched_free(s);
	graph_free(g);
}

/* fl_sched_take picks a particular ready node; the rest keep their order. */
static void
test_sched_take(void)
{
	fl_graph   *g = fl_graph_create(6, 5);
	fl_sched   *s;

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "a", K_PLAIN);
	N(g, 2, "b", K_PLAIN);
	N(g, 3, "c", K_PLAIN);
	N(g, 4, "d", K_PLAIN);
	N(g, 5, "z", K_SINK);
	E(g, 0, "e1", "t", "d", NULL);
	E(g, 1, "e2", "t", "c", NULL);
	E(g, 2, "e3", "t", "b", NULL);
	E(g, 3, "e4", "t", "a", NULL);
	E(g, 4, "e5", "a", "z", NULL);
	finish_valid(g);
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(!fl_sched_take(s, 1));	/* pending */
	CHECK(fl_sched_take(s, 0));
	CHECK(s->nstate[0] == FL_RUNNING);
	CHECK(!fl_sched_take(s, 0));	/* running */
	CHECK(fl_sched_next(s, 0) == -1);
	fl_sched_complete(s, 0, H_OUT);
	CHECK(!fl_sched_take(s, 0));	/* done */
	CHECK(fl_sched_take(s, 3));
	CHECK(s->nstate[3] == FL_RUNNING);
	CHECK(!fl_sched_take(s, 3));
	CHECK(fl_sched_take(s, 1));
	CHECK(fl_sched_next(s, 0) == 2);
	CHECK(fl_sched_next(s, 0) == 4);
	CHECK(fl_sched_next(s, 0) == -1);
	CHECK(!fl_sched_take(s, 5));
	fl_sched_complete(s, 1, H_OUT);
	CHECK(fl_sched_take(s, 5));
	CHECK(fl_sched_next(s, 0) == -1);
	sched_free(s);
	graph_free(g);
}

/* fl_sched_wait suspends a node: its successors stay pending. */
static void
test_sched_wait(void)
{
	fl_graph   *g = fl_graph_create(5, 4);
	fl_sched   *s;

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "w", K_NEXT);
	N(g, 2, "x", K_PLAIN);
	N(g, 3, "y", K_PLAIN);
	N(g, 4, "j", K_SINK);
	E(g, 0, "e1", "t", "w", NULL);
	E(g, 1, "e2", "t", "y", NULL);
	E(g, 2, "e3", "w", "x", NULL);
	E(g, 3, "e4", "x", "j", NULL);
	finish_valid(g);
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == 0);
	fl_sched_complete(s, 0, H_OUT);
	CHECK(fl_sched_next(s, 0) == 1);
	fl_sched_wait(s, 1);
	CHECK(s->nstate[1] == FL_WAITING);
	CHECK(s->estate[2] == FL_EDGE_UNSET);
	CHECK(s->nstate[2] == FL_PENDING);
	CHECK(s->nstate[4] == FL_PENDING);
	CHECK(!fl_sched_take(s, 1));
	CHECK(fl_sched_next_skipped(s) == -1);
	/* the other branch runs on */
	CHECK(fl_sched_next(s, 0) == 3);
	fl_sched_complete(s, 3, H_OUT);
	CHECK(fl_sched_next(s, 0) == -1);
	CHECK(s->nstate[2] == FL_PENDING);
	/* resumed: completing it settles its edges */
	fl_sched_complete(s, 1, 0);
	CHECK(s->nstate[1] == FL_DONE);
	CHECK(s->estate[2] == FL_EDGE_LIVE);
	CHECK(fl_sched_next(s, 0) == 2);
	fl_sched_complete(s, 2, H_OUT);
	CHECK(fl_sched_next(s, 0) == 4);
	CHECK(fl_sched_next(s, 0) == -1);
	sched_free(s);
	graph_free(g);
}

/* Nodes without inputs: triggers are ready, anything else is skipped. */
static void
test_sched_start(void)
{
	fl_graph   *g = fl_graph_create(7, 4);
	fl_sched   *s;
	int			sk[8];

	N(g, 0, "x", K_PLAIN);		/* orphan, not a trigger */
	N(g, 1, "t2", K_TRIGGER);
	N(g, 2, "y", K_PLAIN);		/* only fed by x */
	N(g, 3, "t1", K_TRIGGER);
	N(g, 4, "j", K_PLAIN);		/* fed by x and t1 */
	N(g, 5, "z", K_SINK);
	N(g, 6, "q", K_SINK);		/* orphan */
	E(g, 0, "e1", "x", "y", NULL);
	E(g, 1, "e2", "x", "j", NULL);
	E(g, 2, "e3", "t1", "j", NULL);
	E(g, 3, "e4", "y", "z", NULL);
	finish_valid(g);
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(s->nstate[0] == FL_SKIPPED);
	CHECK(s->nstate[2] == FL_SKIPPED);
	CHECK(s->nstate[5] == FL_SKIPPED);
	CHECK(s->nstate[6] == FL_SKIPPED);
	CHECK(s->nstate[4] == FL_PENDING);
	CHECK(s->nstate[1] == FL_READY && s->nstate[3] == FL_READY);
	{
		int			n = drain_skipped(s, sk, 8);
		bool		has[7] = {false};

		CHECK(n == 4);
		for (int i = 0; i < n && i < 8; i++)
			has[sk[i]] = true;
		CHECK(has[0] && has[2] && has[5] && has[6]);
		CHECK(sk[0] == 0);		/* x itself comes first */
	}
	CHECK(fl_sched_next(s, 0) == 1);	/* two triggers, index order */
	CHECK(fl_sched_next(s, 0) == 3);
	CHECK(fl_sched_next(s, 0) == -1);
	fl_sched_complete(s, 3, H_OUT);
	CHECK(fl_sched_next(s, 0) == 4);	/* one live input is enough */
	fl_sched_complete(s, 1, H_OUT);
	fl_sched_complete(s, 4, H_OUT);
	CHECK(fl_sched_next(s, 0) == -1);
	CHECK(fl_sched_next_skipped(s) == -1);
	sched_free(s);
	graph_free(g);
}

/*
 * One loop: t -> l; l.body -> c(cond) -> a (true) / b (false) -> k (join);
 * l.done -> d.  Each iteration resets the body; body nodes come out of the
 * loop's slot only; the branch taken can change per iteration.
 */
static void
test_sched_loop(void)
{
	fl_graph   *g = fl_graph_create(7, 7);
	fl_sched   *s;
	int			t,
				l,
				c,
				a,
				b,
				k,
				d,
				slot;
	int			sk[8];
	int			runs[7] = {0};

	N(g, 0, "t", K_TRIGGER);
	N(g, 1, "l", K_LOOP);
	N(g, 2, "c", K_COND);
	N(g, 3, "a", K_PLAIN);
	N(g, 4, "b", K_PLAIN);
	N(g, 5, "k", K_SINK);
	N(g, 6, "d", K_SINK);
	E(g, 0, "e1", "t", "l", NULL);
	E(g, 1, "e2", "l", "c", "body");
	E(g, 2, "e3", "c", "a", "true");
	E(g, 3, "e4", "c", "b", "false");
	E(g, 4, "e5", "a", "k", NULL);
	E(g, 5, "e6", "b", "k", NULL);
	E(g, 6, "e7", "l", "d", "done");
	finish_valid(g);
	t = ix(g, "t");
	l = ix(g, "l");
	c = ix(g, "c");
	a = ix(g, "a");
	b = ix(g, "b");
	k = ix(g, "k");
	d = ix(g, "d");
	slot = g->nodes[l].loop_slot;
	CHECK(slot == 1);
	for (int v = c; v <= k; v++)
		CHECK(g->nodes[v].scope_slot == slot && g->nodes[v].loop_owner == l);

	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next_skipped(s) == -1);	/* body nodes are not orphans */
	CHECK(s->nstate[c] == FL_PENDING);
	CHECK(fl_sched_next(s, 0) == t);
	fl_sched_complete(s, t, H_OUT);
	CHECK(fl_sched_next(s, 0) == l);
	for (int it = 0; it < 4; it++)
	{
		int			live = (it % 2 == 0) ? H_TRUE : H_FALSE;
		int			v;

		fl_sched_reset_body(s, l);
		for (int u = c; u <= k; u++)
			CHECK(s->nstate[u] == FL_PENDING);
		CHECK(s->estate[1] == FL_EDGE_UNSET);
		fl_sched_fire(s, l, H_BODY);
		CHECK(s->estate[1] == FL_EDGE_LIVE);
		CHECK(s->estate[6] == FL_EDGE_UNSET);	/* done waits */
		CHECK(s->nstate[l] == FL_RUNNING);
		CHECK(s->nstate[d] == FL_PENDING);
		CHECK(fl_sched_next(s, 0) == -1);	/* not from the top slot */
		CHECK(fl_sched_next(s, slot) == c);
		runs[c]++;
		fl_sched_complete(s, c, live);
		CHECK(drain_skipped(s, sk, 8) == 1);
		CHECK(sk[0] == (live == H_TRUE ? b : a));
		CHECK(fl_sched_next(s, 0) == -1);
		v = fl_sched_next(s, slot);
		CHECK(v == (live == H_TRUE ? a : b));
		if (v >= 0)
		{
			runs[v]++;
			fl_sched_complete(s, v, H_OUT);
		}
		CHECK(fl_sched_next(s, slot) == k);
		runs[k]++;
		fl_sched_complete(s, k, -1);
		CHECK(fl_sched_next(s, slot) == -1);
		CHECK(fl_sched_next_skipped(s) == -1);
	}
	fl_sched_complete(s, l, H_DONE);
	CHECK(s->nstate[l] == FL_DONE);
	CHECK(fl_sched_next_skipped(s) == -1);	/* the body edges were live */
	CHECK(fl_sched_next(s, slot) == -1);
	CHECK(fl_sched_next(s, 0) == d);
	CHECK(fl_sched_next(s, 0) == -1);
	CHECK(runs[c] == 4 && runs[a] == 2 && runs[b] == 2 && runs[k] == 4);
	sched_free(s);

	/* zero iterations: done without firing skips the whole body */
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == t);
	fl_sched_complete(s, t, H_OUT);
	CHECK(fl_sched_next(s, 0) == l);
	fl_sched_complete(s, l, H_DONE);
	CHECK(drain_skipped(s, sk, 8) == 4);
	CHECK(sk[0] == c);
	for (int v = c; v <= k; v++)
		CHECK(s->nstate[v] == FL_SKIPPED);
	CHECK(fl_sched_next(s, slot) == -1);
	CHECK(fl_sched_next(s, 0) == d);
	sched_free(s);

	/* a body reset drops what was ready but not run */
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == t);
	fl_sched_complete(s, t, H_OUT);
	CHECK(fl_sched_next(s, 0) == l);
	fl_sched_reset_body(s, l);
	fl_sched_fire(s, l, H_BODY);
	CHECK(s->nstate[c] == FL_READY);
	fl_sched_reset_body(s, l);
	CHECK(s->nstate[c] == FL_PENDING);
	CHECK(fl_sched_next(s, slot) == -1);
	fl_sched_fire(s, l, H_BODY);
	CHECK(fl_sched_take(s, c));
	CHECK(fl_sched_next(s, slot) == -1);
	sched_free(s);
	graph_free(g);
}

/* Nested loops run the inner body per outer iteration, each in its slot. */
static void
test_sched_nested_loops(void)
{
	fl_graph   *g = nested_loops();
	fl_sched   *s = fl_sched_create(g);
	int			t = ix(g, "t"),
				o = ix(g, "o"),
				p = ix(g, "p"),
				i = ix(g, "i"),
				a = ix(g, "a"),
				b = ix(g, "b"),
				c = ix(g, "c"),
				d = ix(g, "d"),
				u = ix(g, "u");
	int			so = g->nodes[o].loop_slot,
				si = g->nodes[i].loop_slot;
	int			runs[9] = {0};

	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == t);
	fl_sched_complete(s, t, H_OUT);
	CHECK(fl_sched_next(s, 0) == o);
	CHECK(fl_sched_next(s, 0) == u);
	fl_sched_complete(s, u, H_OUT);
	for (int oi = 0; oi < 3; oi++)
	{
		fl_sched_reset_body(s, o);
		for (int v = 0; v < g->nnodes; v++)
			if (fl_graph_in_body(g, o, v))
				CHECK(s->nstate[v] == FL_PENDING);
		fl_sched_fire(s, o, H_BODY);
		CHECK(fl_sched_next(s, 0) == -1);
		CHECK(fl_sched_next(s, si) == -1);
		CHECK(fl_sched_next(s, so) == p);	/* p (2) before i (3) */
		runs[p]++;
		fl_sched_complete(s, p, -1);
		CHECK(fl_sched_next(s, so) == i);
		for (int ii = 0; ii < 2; ii++)
		{
			fl_sched_reset_body(s, i);
			CHECK(s->nstate[a] == FL_PENDING && s->nstate[b] == FL_PENDING);
			CHECK(s->nstate[c] == FL_PENDING);
			fl_sched_fire(s, i, H_BODY);
			CHECK(fl_sched_next(s, so) == -1);
			CHECK(fl_sched_next(s, 0) == -1);
			CHECK(fl_sched_next(s, si) == a);
			runs[a]++;
			fl_sched_complete(s, a, H_OUT);
			CHECK(fl_sched_next(s, si) == b);
			runs[b]++;
			fl_sched_complete(s, b, -1);
			CHECK(fl_sched_next(s, si) == -1);
			CHECK(s->nstate[c] == FL_PENDING);
		}
		fl_sched_complete(s, i, H_DONE);
		CHECK(fl_sched_next(s, si) == -1);
		CHECK(fl_sched_next(s, so) == c);
		runs[c]++;
		fl_sched_complete(s, c, -1);
		CHECK(fl_sched_next(s, so) == -1);
		CHECK(fl_sched_next_skipped(s) == -1);
		CHECK(s->nstate[d] == FL_PENDING);
	}
	fl_sched_complete(s, o, H_DONE);
	CHECK(fl_sched_next(s, 0) == d);
	CHECK(fl_sched_next(s, 0) == -1);
	CHECK(runs[p] == 3 && runs[a] == 6 && runs[b] == 6 && runs[c] == 3);
	sched_free(s);

	/* the inner loop runs zero times in one outer iteration */
	s = fl_sched_create(g);
	fl_sched_start(s);
	CHECK(fl_sched_next(s, 0) == t);
	fl_sched_complete(s, t, H_OUT);
	CHECK(fl_sched_next(s, 0) == o);
	fl_sched_reset_body(s, o);
	fl_sched_fire(s, o, H_BODY);
	CHECK(fl_sched_next(s, so) == p);
	CHECK(fl_sched_next(s, so) == i);
	fl_sched_complete(s, i, H_DONE);
	{
		int			sk[8];

		CHECK(drain_skipped(s, sk, 8) == 2);
		CHECK(sk[0] == a && sk[1] == b);
	}
	CHECK(fl_sched_next(s, so) == c);
	/* the next outer iteration brings them back */
	fl_sched_reset_body(s, o);
	CHECK(s->nstate[a] == FL_PENDING && s->nstate[i] == FL_PENDING);
	fl_sched_fire(s, o, H_BODY);
	CHECK(fl_sched_next(s, so) == p);
	CHECK(fl_sched_next(s, so) == i);
	fl_sched_reset_body(s, i);
	fl_sched_fire(s, i, H_BODY);
	CHECK(fl_sched_next(s, si) == a);
	sched_free(s);
	graph_free(g);
}

int
main(void)
{
	test_valid_graph();
	test_duplicate_node_id();
	test_duplicate_edge_id();
	test_edge_endpoint_not_found();
	test_unknown_handle();
	test_missing_handle();
	test_no_trigger();
	test_cycle();
	test_reserved_node_id();
	test_invalid_loop_body();
	test_issue_order();
	test_loop_scopes();
	test_sched_diamond();
	test_sched_join_and_error();
	test_sched_long_dead_chain();
	test_sched_chain_10000();
	test_sched_index_order();
	test_sched_take();
	test_sched_wait();
	test_sched_start();
	test_sched_loop();
	test_sched_nested_loops();
	UNIT_DONE();
}
