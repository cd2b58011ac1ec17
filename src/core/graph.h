/*
 * graph.h
 *	  Workflow graphs: structure, validation and the ready-node scheduler.
 *
 * The PostgreSQL side fills a graph from the React Flow JSON (ids, types,
 * declared output handles per node), then calls fl_graph_finish(), which
 * resolves edges, checks the structure and computes loop bodies.  The
 * scheduler implements dead-path elimination: a node becomes ready when all
 * its incoming edges are settled and at least one is live; when all are dead
 * it is skipped and its outgoing edges die too.
 */
#ifndef FL_GRAPH_H
#define FL_GRAPH_H

/* node ids are stored in varchar(100) columns (node logs, approvals) */
#define FL_NODE_ID_MAX 100

#include <stdbool.h>
#include <stdint.h>

/* node flags */
#define FL_NODE_TRIGGER			0x01
#define FL_NODE_LOOP			0x02
#define FL_NODE_UNKNOWN_TYPE	0x04

typedef struct fl_node
{
	const char *id;
	const char *type;
	int			flags;
	int			nout;			/* declared output handles */
	const char **out_handles;
	int			loop_owner;		/* innermost loop whose body holds it, or -1 */
	int			scope_slot;		/* heap slot of its scope: 0 top, else 1 + loop ordinal */
	int			loop_slot;		/* for loop nodes: the slot of its own body */
} fl_node;

typedef struct fl_edge
{
	const char *id;
	const char *source_id;
	const char *target_id;
	const char *source_handle;	/* NULL when absent */
	const char *target_handle;
	int			source;			/* node index, -1 if not found */
	int			target;
	int			handle;			/* index into source's out_handles, -1 if unknown */
} fl_edge;

typedef struct fl_issue
{
	const char *code;
	const char *node_id;
	const char *edge_id;
	const char *field;
	char	   *message;
} fl_issue;

typedef struct fl_issues
{
	fl_issue   *items;
	int			n;
	int			cap;
} fl_issues;

typedef struct fl_graph
{
	int			nnodes;
	int			nedges;
	fl_node    *nodes;
	fl_edge    *edges;
	/* CSR adjacency, in edges-array order */
	int		   *out_start;
	int		   *out_edges;
	int		   *in_start;
	int		   *in_edges;
	/* id -> node index, open addressing */
	int			hash_size;
	int		   *hash;
	int			nloops;			/* scope slots = nloops + 1 */
	int		   *slot_loop;		/* slot -> loop node index (-1 for slot 0) */
	uint8_t    *in_body;		/* nloops x nnodes: node in body of loop slot */
	bool		finished;
	bool		valid;
} fl_graph;

extern fl_graph *fl_graph_create(int nnodes, int nedges);
extern void fl_graph_set_node(fl_graph *g, int i, const char *id, const char *type,
							  int flags, const char **out_handles, int nout);
extern void fl_graph_set_edge(fl_graph *g, int i, const char *id,
							  const char *source, const char *target,
							  const char *source_handle, const char *target_handle);
/* Resolve, check, and index the graph; appends problems to issues. */
extern bool fl_graph_finish(fl_graph *g, fl_issues *issues);
extern int	fl_graph_find(const fl_graph *g, const char *id);
extern int	fl_graph_handle_index(const fl_node *n, const char *handle);
/* is node n inside the body of loop node `loop` (at any depth)? */
extern bool fl_graph_in_body(const fl_graph *g, int loop, int n);
/* is `n` reachable from `from` (n == from counts) */
extern bool fl_graph_reaches(const fl_graph *g, int from, int n, uint8_t *scratch);
extern void fl_graph_mark_reachable(const fl_graph *g, int from, uint8_t *mark);
extern bool fl_is_reserved_root(const char *name);

extern void fl_issue_add(fl_issues *issues, const char *code, const char *node_id,
						 const char *edge_id, const char *field, const char *fmt,...)
			__attribute__((format(printf, 6, 7)));
extern void fl_issues_free(fl_issues *issues);

/* ---- scheduler ---- */

typedef enum fl_node_state
{
	FL_PENDING = 0,
	FL_READY,
	FL_RUNNING,
	FL_DONE,
	FL_SKIPPED,
	FL_WAITING
} fl_node_state;

typedef enum fl_edge_state
{
	FL_EDGE_UNSET = 0,
	FL_EDGE_LIVE,
	FL_EDGE_DEAD
} fl_edge_state;

typedef struct fl_heap
{
	int		   *v;
	int			n;
	int			cap;
} fl_heap;

typedef struct fl_sched
{
	const fl_graph *g;
	uint8_t    *nstate;
	uint8_t    *estate;
	int		   *unsettled;
	int		   *live_in;
	fl_heap    *ready;			/* one min-heap per scope slot */
	int		   *skipped;		/* nodes skipped since the last drain */
	int			nskipped;
	int			skip_head;
	int		   *stack;			/* propagation work list */
} fl_sched;

extern fl_sched *fl_sched_create(const fl_graph *g);
/* Top scope: nodes without incoming edges become ready (triggers) or skipped. */
extern void fl_sched_start(fl_sched *s);
/* Lowest-index ready node of the scope slot (marked running), or -1. */
extern int	fl_sched_next(fl_sched *s, int slot);
/* Take a specific ready node (e.g. to resume it); false if not ready. */
extern bool fl_sched_take(fl_sched *s, int n);
/*
 * Node n finished: its unset outgoing edges become live when their handle is
 * live_handle (-1: none), dead otherwise.
 */
extern void fl_sched_complete(fl_sched *s, int n, int live_handle);
/* Only the edges of one handle become live (a loop firing its body). */
extern void fl_sched_fire(fl_sched *s, int n, int handle);
/* Mark a running node as waiting (suspended); its edges stay unset. */
extern void fl_sched_wait(fl_sched *s, int n);
/* Reset the body of loop node `loop` for a new iteration. */
extern void fl_sched_reset_body(fl_sched *s, int loop);
/* Next node skipped by propagation since the last call, or -1. */
extern int	fl_sched_next_skipped(fl_sched *s);

#endif
