/*
 * graph.c
 *	  Workflow graph structure and validation (no PostgreSQL headers).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/fl_alloc.h"
#include "core/graph.h"

static const char *const reserved_roots[] = {
	"trigger", "variables", "input", "loop", "item", "execution",
	"workflow", "credentials", "nodes", NULL
};

/* Is name one of the reserved variable roots? */
bool
fl_is_reserved_root(const char *name)
{
	for (int i = 0; reserved_roots[i]; i++)
		if (strcmp(reserved_roots[i], name) == 0)
			return true;
	return false;
}

/* FNV-1a over a NUL-terminated string */
static uint32_t
hash_str(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= 16777619u;
	}
	return h;
}

/* Append an issue; the message is formatted into fresh memory. */
void
fl_issue_add(fl_issues *issues, const char *code, const char *node_id,
			 const char *edge_id, const char *field, const char *fmt,...)
{
	va_list		ap;
	char		buf[512];
	fl_issue   *it;

	if (issues->n == issues->cap)
	{
		int			ncap = issues->cap ? issues->cap * 2 : 8;
		fl_issue   *items = fl_alloc(sizeof(fl_issue) * ncap);

		if (issues->n)
			memcpy(items, issues->items, sizeof(fl_issue) * issues->n);
		fl_free(issues->items);
		issues->items = items;
		issues->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	it = &issues->items[issues->n++];
	it->code = code;
	it->node_id = node_id;
	it->edge_id = edge_id;
	it->field = field;
	it->message = fl_strndup(buf, strlen(buf));
}

/* Release the issue list's memory. */
void
fl_issues_free(fl_issues *issues)
{
	for (int i = 0; i < issues->n; i++)
		fl_free(issues->items[i].message);
	fl_free(issues->items);
	memset(issues, 0, sizeof(*issues));
}

/* Allocate an empty graph with room for the given counts. */
fl_graph *
fl_graph_create(int nnodes, int nedges)
{
	fl_graph   *g = fl_alloc(sizeof(fl_graph));

	g->nnodes = nnodes;
	g->nedges = nedges;
	g->nodes = fl_alloc(sizeof(fl_node) * (nnodes + 1));
	g->edges = fl_alloc(sizeof(fl_edge) * (nedges + 1));
	return g;
}

/* Describe node i; strings are borrowed, they must outlive the graph. */
void
fl_graph_set_node(fl_graph *g, int i, const char *id, const char *type,
				  int flags, const char **out_handles, int nout)
{
	fl_node    *n = &g->nodes[i];

	n->id = id;
	n->type = type;
	n->flags = flags;
	n->out_handles = out_handles;
	n->nout = nout;
	n->loop_owner = -1;
	n->scope_slot = 0;
	n->loop_slot = -1;
}

/* Describe edge i; strings are borrowed. */
void
fl_graph_set_edge(fl_graph *g, int i, const char *id,
				  const char *source, const char *target,
				  const char *source_handle, const char *target_handle)
{
	fl_edge    *e = &g->edges[i];

	e->id = id;
	e->source_id = source;
	e->target_id = target;
	e->source_handle = source_handle;
	e->target_handle = target_handle;
	e->source = e->target = e->handle = -1;
}

/* Node index for an id, or -1. */
int
fl_graph_find(const fl_graph *g, const char *id)
{
	uint32_t	mask;
	uint32_t	h;

	if (g->hash_size == 0 || id == NULL)
		return -1;
	mask = (uint32_t) g->hash_size - 1;
	for (h = hash_str(id) & mask;; h = (h + 1) & mask)
	{
		int			i = g->hash[h];

		if (i < 0)
			return -1;
		if (strcmp(g->nodes[i].id, id) == 0)
			return i;
	}
}

/* Index of a named output handle of a node, or -1. */
int
fl_graph_handle_index(const fl_node *n, const char *handle)
{
	for (int i = 0; i < n->nout; i++)
		if (strcmp(n->out_handles[i], handle) == 0)
			return i;
	return -1;
}

/* Build the id index; reports duplicate ids (the first occurrence wins). */
/* Characters of a UTF-8 string (what a varchar length counts). */
static size_t
utf8_length(const char *s)
{
	size_t		n = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			n++;
	return n;
}

static void
build_index(fl_graph *g, fl_issues *issues)
{
	int			size = 16;

	while (size < g->nnodes * 2)
		size <<= 1;
	g->hash_size = size;
	g->hash = fl_alloc(sizeof(int) * size);
	for (int i = 0; i < size; i++)
		g->hash[i] = -1;
	for (int i = 0; i < g->nnodes; i++)
	{
		uint32_t	mask = (uint32_t) size - 1;
		uint32_t	h;

		if (fl_graph_find(g, g->nodes[i].id) >= 0)
		{
			fl_issue_add(issues, "DUPLICATE_NODE_ID", g->nodes[i].id, NULL, "id",
						 "node id \"%s\" is used more than once", g->nodes[i].id);
			continue;
		}
		for (h = hash_str(g->nodes[i].id) & mask; g->hash[h] >= 0; h = (h + 1) & mask)
			;
		g->hash[h] = i;
	}
}

/* Check duplicate edge ids with a temporary hash set. */
static void
check_edge_ids(fl_graph *g, fl_issues *issues)
{
	int			size = 16;
	int		   *set;
	uint32_t	mask;

	while (size < g->nedges * 2)
		size <<= 1;
	set = fl_alloc(sizeof(int) * size);
	for (int i = 0; i < size; i++)
		set[i] = -1;
	mask = (uint32_t) size - 1;
	for (int i = 0; i < g->nedges; i++)
	{
		uint32_t	h = hash_str(g->edges[i].id) & mask;
		bool		dup = false;

		for (; set[h] >= 0; h = (h + 1) & mask)
			if (strcmp(g->edges[set[h]].id, g->edges[i].id) == 0)
			{
				dup = true;
				break;
			}
		if (dup)
			fl_issue_add(issues, "DUPLICATE_EDGE_ID", NULL, g->edges[i].id, "id",
						 "edge id \"%s\" is used more than once", g->edges[i].id);
		else
			set[h] = i;
	}
	fl_free(set);
}

/* Resolve edge endpoints and handles. */
static void
resolve_edges(fl_graph *g, fl_issues *issues)
{
	for (int i = 0; i < g->nedges; i++)
	{
		fl_edge    *e = &g->edges[i];
		fl_node    *src;

		e->source = fl_graph_find(g, e->source_id);
		e->target = fl_graph_find(g, e->target_id);
		if (e->source < 0)
			fl_issue_add(issues, "EDGE_SOURCE_NOT_FOUND", NULL, e->id, "source",
						 "edge \"%s\": source node \"%s\" does not exist", e->id, e->source_id);
		if (e->target < 0)
			fl_issue_add(issues, "EDGE_TARGET_NOT_FOUND", NULL, e->id, "target",
						 "edge \"%s\": target node \"%s\" does not exist", e->id, e->target_id);
		if (e->source < 0)
			continue;
		src = &g->nodes[e->source];
		if (src->flags & FL_NODE_UNKNOWN_TYPE)
			continue;			/* already reported; its handles are unknown */
		if (e->source_handle == NULL)
		{
			int			regular = src->nout;

			/* "error" exists only for onError=branch and never counts as ambiguous */
			if (regular > 0 && strcmp(src->out_handles[regular - 1], "error") == 0)
				regular--;
			e->handle = fl_graph_handle_index(src, "out");
			if (e->handle < 0 && regular == 1)
				e->handle = 0;
			if (e->handle < 0)
			{
				if (regular == 0)
					fl_issue_add(issues, "UNKNOWN_HANDLE", src->id, e->id, "sourceHandle",
								 "edge \"%s\": node \"%s\" (%s) has no outputs", e->id, src->id, src->type);
				else
					fl_issue_add(issues, "MISSING_HANDLE", src->id, e->id, "sourceHandle",
								 "edge \"%s\" leaves node \"%s\" (%s) which has several outputs: sourceHandle is required",
								 e->id, src->id, src->type);
			}
		}
		else
		{
			e->handle = fl_graph_handle_index(src, e->source_handle);
			if (e->handle < 0)
				fl_issue_add(issues, "UNKNOWN_HANDLE", src->id, e->id, "sourceHandle",
							 "edge \"%s\": node \"%s\" (%s) has no output handle \"%s\"",
							 e->id, src->id, src->type, e->source_handle);
		}
	}
}

/* Build CSR adjacency lists from resolved edges. */
static void
build_adjacency(fl_graph *g)
{
	int			n = g->nnodes;
	int		   *fill;

	g->out_start = fl_alloc(sizeof(int) * (n + 1));
	g->in_start = fl_alloc(sizeof(int) * (n + 1));
	g->out_edges = fl_alloc(sizeof(int) * (g->nedges + 1));
	g->in_edges = fl_alloc(sizeof(int) * (g->nedges + 1));
	for (int i = 0; i < g->nedges; i++)
	{
		if (g->edges[i].source < 0 || g->edges[i].target < 0)
			continue;
		g->out_start[g->edges[i].source + 1]++;
		g->in_start[g->edges[i].target + 1]++;
	}
	for (int i = 0; i < n; i++)
	{
		g->out_start[i + 1] += g->out_start[i];
		g->in_start[i + 1] += g->in_start[i];
	}
	fill = fl_alloc(sizeof(int) * (n + 1) * 2);
	for (int i = 0; i < g->nedges; i++)
	{
		int			s = g->edges[i].source,
					t = g->edges[i].target;

		if (s < 0 || t < 0)
			continue;
		g->out_edges[g->out_start[s] + fill[s]++] = i;
		g->in_edges[g->in_start[t] + fill[n + 1 + t]++] = i;
	}
	fl_free(fill);
}

/* The first predecessor of v that Kahn's algorithm left behind. */
static int
left_predecessor(const fl_graph *g, const int *indeg, int v)
{
	for (int k = g->in_start[v]; k < g->in_start[v + 1]; k++)
	{
		int			s = g->edges[g->in_edges[k]].source;

		if (indeg[s] > 0)
			return s;
	}
	return v;					/* unreachable: a node left behind has one */
}

/*
 * Kahn's algorithm; reports one CYCLE issue naming a node on a cycle.
 *
 * The nodes Kahn leaves behind are on a cycle or downstream of one, so the
 * first of them need not be on a cycle itself.  Each of them has a
 * predecessor that was left behind too, so walking back along those must
 * come round to a node already visited, which lies on a cycle; the issue
 * names the lowest-indexed node of that cycle.
 */
static void
check_cycles(fl_graph *g, fl_issues *issues)
{
	int			n = g->nnodes;
	int		   *indeg = fl_alloc(sizeof(int) * (n + 1));
	int		   *queue = fl_alloc(sizeof(int) * (n + 1));
	int			head = 0,
				tail = 0,
				seen = 0;

	for (int i = 0; i < n; i++)
		indeg[i] = g->in_start[i + 1] - g->in_start[i];
	for (int i = 0; i < n; i++)
		if (indeg[i] == 0)
			queue[tail++] = i;
	while (head < tail)
	{
		int			v = queue[head++];

		seen++;
		for (int k = g->out_start[v]; k < g->out_start[v + 1]; k++)
		{
			int			t = g->edges[g->out_edges[k]].target;

			if (--indeg[t] == 0)
				queue[tail++] = t;
		}
	}
	if (seen < n)
	{
		int		   *visited = queue;	/* the queue is no longer needed */
		int			v = 0,
					best;

		memset(visited, 0, sizeof(int) * (n + 1));
		while (indeg[v] == 0)
			v++;
		while (!visited[v])
		{
			visited[v] = 1;
			v = left_predecessor(g, indeg, v);
		}
		/* v is on a cycle: go round it once for its lowest index */
		best = v;
		for (int u = left_predecessor(g, indeg, v); u != v; u = left_predecessor(g, indeg, u))
			if (u < best)
				best = u;
		fl_issue_add(issues, "CYCLE", g->nodes[best].id, NULL, NULL,
					 "the graph has a cycle through node \"%s\"; loops are expressed with a loop-controller node",
					 g->nodes[best].id);
	}
	fl_free(indeg);
	fl_free(queue);
}

/* Mark everything reachable from the targets of node v's edges with handle h. */
static void
mark_from_handle(const fl_graph *g, int v, int h, uint8_t *mark, int *stack)
{
	int			sp = 0;

	for (int k = g->out_start[v]; k < g->out_start[v + 1]; k++)
	{
		const fl_edge *e = &g->edges[g->out_edges[k]];

		if (e->handle == h && !mark[e->target] && e->target != v)
		{
			mark[e->target] = 1;
			stack[sp++] = e->target;
		}
	}
	while (sp > 0)
	{
		int			u = stack[--sp];

		for (int k = g->out_start[u]; k < g->out_start[u + 1]; k++)
		{
			int			t = g->edges[g->out_edges[k]].target;

			if (!mark[t] && t != v)
			{
				mark[t] = 1;
				stack[sp++] = t;
			}
		}
	}
}

/*
 * Loop bodies: reachable from "body" and not from "done".  Edges may not
 * leave or enter a body except through its loop node.
 */
static void
compute_loops(fl_graph *g, fl_issues *issues)
{
	int			n = g->nnodes;
	int			nloops = 0;
	uint8_t    *done_mark;
	int		   *stack;

	for (int i = 0; i < n; i++)
		if (g->nodes[i].flags & FL_NODE_LOOP)
			nloops++;
	g->nloops = nloops;
	g->slot_loop = fl_alloc(sizeof(int) * (nloops + 1));
	g->slot_loop[0] = -1;
	if (nloops == 0)
		return;
	g->in_body = fl_alloc((size_t) nloops * n + 1);
	done_mark = fl_alloc(n + 1);
	stack = fl_alloc(sizeof(int) * (n + 1));

	nloops = 0;
	for (int i = 0; i < n; i++)
	{
		fl_node    *l = &g->nodes[i];
		uint8_t    *body;
		int			hb = fl_graph_handle_index(l, "body");
		int			hd = fl_graph_handle_index(l, "done");

		if (!(l->flags & FL_NODE_LOOP))
			continue;
		l->loop_slot = ++nloops;
		g->slot_loop[nloops] = i;
		body = g->in_body + (size_t) (nloops - 1) * n;
		memset(done_mark, 0, n);
		if (hb >= 0)
			mark_from_handle(g, i, hb, body, stack);
		if (hd >= 0)
			mark_from_handle(g, i, hd, done_mark, stack);
		for (int j = 0; j < n; j++)
			if (done_mark[j])
				body[j] = 0;
	}

	/* innermost owner: the loop with the smallest body containing the node */
	for (int s = 1; s <= nloops; s++)
	{
		const uint8_t *body = g->in_body + (size_t) (s - 1) * n;

		stack[s] = 0;
		for (int k = 0; k < n; k++)
			stack[s] += body[k];
	}
	for (int j = 0; j < n; j++)
	{
		int			best = -1,
					best_size = n + 1;

		for (int s = 1; s <= nloops; s++)
		{
			const uint8_t *body = g->in_body + (size_t) (s - 1) * n;
			int			size = stack[s];

			if (!body[j])
				continue;
			if (size < best_size)
			{
				best = s;
				best_size = size;
			}
		}
		if (best > 0)
		{
			g->nodes[j].loop_owner = g->slot_loop[best];
			g->nodes[j].scope_slot = best;
		}
	}

	/* edges crossing a body boundary other than loop -> its body */
	for (int k = 0; k < g->nedges; k++)
	{
		fl_edge    *e = &g->edges[k];
		int			so,
					to;

		if (e->source < 0 || e->target < 0)
			continue;
		so = g->nodes[e->source].scope_slot;
		to = g->nodes[e->target].scope_slot;
		if (so == to)
			continue;
		/* entering a body from its own loop node */
		if (to > 0 && g->slot_loop[to] == e->source)
			continue;
		/* a nested loop node leaving into its enclosing body? no: it is in that body */
		if (to > 0 && !fl_graph_in_body(g, g->slot_loop[to], e->source))
			fl_issue_add(issues, "INVALID_LOOP_BODY", g->nodes[e->target].id, e->id, NULL,
						 "edge \"%s\" enters the body of loop \"%s\" from outside it; only the loop's \"body\" handle may",
						 e->id, g->nodes[g->slot_loop[to]].id);
		else
			fl_issue_add(issues, "INVALID_LOOP_BODY", g->nodes[e->source].id, e->id, NULL,
						 "edge \"%s\" leaves the body of loop \"%s\"; connect what follows the loop to its \"done\" handle",
						 e->id, g->nodes[g->slot_loop[so]].id);
	}
	fl_free(done_mark);
	fl_free(stack);
}

/* Is node n inside the body of loop node `loop` (at any depth)? */
bool
fl_graph_in_body(const fl_graph *g, int loop, int n)
{
	int			slot;

	if (loop < 0 || !(g->nodes[loop].flags & FL_NODE_LOOP) || g->in_body == NULL)
		return false;
	slot = g->nodes[loop].loop_slot;
	return g->in_body[(size_t) (slot - 1) * g->nnodes + n] != 0;
}

/* Mark every node reachable from `from`, itself included (mark: nnodes bytes, zeroed). */
void
fl_graph_mark_reachable(const fl_graph *g, int from, uint8_t *mark)
{
	int		   *stack = fl_alloc(sizeof(int) * (g->nnodes + 1));
	int			sp = 0;

	stack[sp++] = from;
	mark[from] = 1;
	while (sp > 0)
	{
		int			u = stack[--sp];

		for (int k = g->out_start[u]; k < g->out_start[u + 1]; k++)
		{
			int			t = g->edges[g->out_edges[k]].target;

			if (!mark[t])
			{
				mark[t] = 1;
				stack[sp++] = t;
			}
		}
	}
	fl_free(stack);
}

/* Is `n` reachable from `from`?  scratch: nnodes bytes, zeroed by the caller. */
bool
fl_graph_reaches(const fl_graph *g, int from, int n, uint8_t *scratch)
{
	fl_graph_mark_reachable(g, from, scratch);
	return scratch[n] != 0;
}

/* Resolve, check and index the graph. Returns true when no issue was found. */
bool
fl_graph_finish(fl_graph *g, fl_issues *issues)
{
	int			before = issues->n;
	bool		has_trigger = false;

	build_index(g, issues);
	check_edge_ids(g, issues);
	for (int i = 0; i < g->nnodes; i++)
	{
		fl_node    *n = &g->nodes[i];

		if (fl_is_reserved_root(n->id))
			fl_issue_add(issues, "RESERVED_NODE_ID", n->id, NULL, "id",
						 "node id \"%s\" is a reserved variable root; rename the node", n->id);
		if (utf8_length(n->id) > FL_NODE_ID_MAX)
			fl_issue_add(issues, "INVALID_FIELD_TYPE", n->id, NULL, "id",
						 "node id \"%.40s...\" has %zu characters; at most %d",
						 n->id, utf8_length(n->id), FL_NODE_ID_MAX);
		if (n->flags & FL_NODE_TRIGGER)
			has_trigger = true;
	}
	if (!has_trigger)
		fl_issue_add(issues, "NO_TRIGGER", NULL, NULL, NULL,
					 "the workflow has no trigger node");
	resolve_edges(g, issues);
	build_adjacency(g);
	check_cycles(g, issues);
	compute_loops(g, issues);
	g->finished = true;
	g->valid = (issues->n == before);
	return g->valid;
}
