/*
 * engine.h
 *	  The execution engine: workflows, executions, node calls.
 */
#ifndef FL_ENGINE_H
#define FL_ENGINE_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
#include "executor/spi.h"
#include "nodes/pg_list.h"

#include "core/graph.h"
#include "pg/context.h"

/* GUCs (init.c) */
extern int	fl_max_nodes;
extern int	fl_max_payload_bytes;
extern int	fl_max_output_bytes;
extern int	fl_max_depth;
extern int	fl_retention_days;
extern int	fl_prune_interval_s;
extern int	fl_node_timeout_ms;

/* error handling per node */
typedef enum FlOnError
{
	FL_ONERROR_STOP,
	FL_ONERROR_CONTINUE,
	FL_ONERROR_BRANCH
} FlOnError;

struct FlNodeType;

/* One registered node type (registry.c). */
typedef struct FlTypeInfo
{
	char	   *type;
	char	   *category;
	const char **handles;
	int			nhandles;
	Jsonb	   *schema;
	Oid			handler;		/* custom SQL handler, else InvalidOid */
	const struct FlNodeType *impl;
} FlTypeInfo;

/* A node of a parsed workflow. */
typedef struct FlNodeDef
{
	char	   *id;
	char	   *type;
	char	   *label;
	Jsonb	   *data;			/* node.data, unresolved */
	const FlTypeInfo *info;		/* NULL: unknown type */
	int			retry_max;		/* attempts in all, >= 1 */
	int			retry_backoff_ms;
	int			timeout_ms;		/* 0: none, -1: flowent.node_timeout_ms */
	FlOnError	on_error;
	bool		breakpoint;
	const char **handles;
	int			nhandles;
	int			error_handle;	/* index of "error", or -1 */
} FlNodeDef;

/* A parsed, validated workflow version; cached per backend. */
typedef struct FlWorkflow
{
	pg_uuid_t	id;
	int			version;
	char	   *name;
	char	   *owner;			/* user_id */
	Oid			run_as;
	bool		archived;		/* from the row, like name and run_as */
	int			nnodes;
	FlNodeDef  *nodes;
	fl_graph   *graph;
	fl_issues	issues;
	bool		valid;
	uint64		registry_generation;
	MemoryContext cxt;
} FlWorkflow;

/* Kinds of suspension */
#define FL_WAIT_APPROVAL "approval"
#define FL_WAIT_DELAY "delay"
#define FL_WAIT_WAIT "wait"
#define FL_WAIT_BREAKPOINT "breakpoint"
#define FL_WAIT_SUB "sub-workflow"
#define FL_WAIT_HTTP "http"
#define FL_WAIT_LOOP "loop"
#define FL_WAIT_RETRY "retry"			/* backoff before the next attempt (async runs) */
extern const char *fl_wait_kind(const char *name);

typedef struct FlWaiting
{
	char	   *execution_id;
	char	   *node_id;
	const char *kind;
	char	   *approval_id;	/* NULL unless approval */
} FlWaiting;

/* What an earlier run left for a node (resume, rerun). */
typedef struct FlPrior
{
	char		status;			/* 's' success, 'w' waiting, 'k' skipped */
	Jsonb	   *output;
	char	   *handle;
	int			seq;
	int			node;			/* for loop-body rows */
	char	   *iteration;
} FlPrior;

/* A loop iteration in progress */
typedef struct FlLoopFrame
{
	int			node;
	Jsonb	   *item;
	int			index;
	int			count;
} FlLoopFrame;

/* An execution in progress (one call of run/approve/resume/rerun). */
typedef struct FlExec
{
	FlWorkflow *wf;
	pg_uuid_t	id;
	char		id_str[UUID_LEN * 2 + 5];
	char		wf_id_str[UUID_LEN * 2 + 5];
	/* the stored context (DESIGN Appendix B "Identity and security") */
	char	   *user_id;		/* acting user */
	char	   *run_as;			/* role SQL nodes run as (NULL: none) */
	Oid			run_as_oid;
	bool		sync;
	bool		is_test;
	const char *trigger_type;
	int			depth;
	char	   *parent_id;		/* parent execution, or NULL */
	char	   *parent_node_id;
	char	   *root_id;		/* outermost execution (itself at the top) */
	List	   *credential_names;	/* credentials resolved so far */
	char	   *rerun_of;
	bool		row_written;	/* the execution row exists */
	Jsonb	   *payload;
	Jsonb	   *options;
	TimestampTz started_at;
	Jsonb	   *trigger;		/* {type, payload, timestamp} */
	fl_sched   *sched;
	Jsonb	  **outputs;		/* per node, current iteration */
	/* variables: names and values, in first-set order */
	List	   *var_names;
	List	   *var_values;
	struct HTAB *var_hash;
	struct FlLogBuf *logbuf;	/* node log rows not yet written */
	/* loop stack, innermost last */
	FlLoopFrame *loops;
	int			nloops;
	char		iteration[256];
	Jsonb	   *cur_input;		/* input of the node being resolved */
	List	   *secrets;		/* resolved secret strings, scrubbed from logs */
	bool		events_off;		/* notification queue nearly full */
	int			live_triggers;	/* triggers matching the trigger type */
	/* filter: the element being tested, as {{item}} */
	Jsonb	   *item;
	int			item_index;
	/* breakpoints from options */
	List	   *breakpoints;
	bool		breakpoints_given;
	/* resume / rerun */
	FlPrior   **prior;			/* per node (top level) or NULL */
	List	   *body_prior;		/* FlPrior rows of loop iterations being resumed */
	int			resume_node;	/* node being continued, or -1 */
	char	   *resume_iteration;	/* and its iteration ("" at top level) */
	Jsonb	   *resume_data;
	/* results */
	int			seq;
	int			last_completed;
	int			last_output_node;
	bool		failed;
	char	   *error_code;
	char	   *error_message;
	char	   *error_node;
	Jsonb	   *error_details;
	bool		cancelled;
	char	   *cancel_reason;	/* as flowent.cancel gave it, or NULL */
	List	   *waiting;		/* FlWaiting* */
	Numeric		total_cost;
	int64		total_tokens;
	MemoryContext cxt;
} FlExec;

/* registry.c */
extern const FlTypeInfo *fl_registry_lookup(const char *type);
extern uint64 fl_registry_generation(void);
extern void fl_registry_init(void);

/* workflow.c */
extern FlWorkflow *fl_workflow_build(Jsonb *nodes, Jsonb *edges, MemoryContext parent);
extern FlWorkflow *fl_workflow_load(pg_uuid_t *id, int version, bool published);
extern FlWorkflow *fl_workflow_load_for(pg_uuid_t *id, int version, const char *user_id,
										bool missing_ok);
extern Jsonb *fl_issues_to_jsonb(FlWorkflow *wf);
extern void fl_workflow_check_runnable(FlWorkflow *wf);
extern void fl_workflow_check_startable(FlWorkflow *wf);

/* resolve.c */
extern bool fl_lookup_root(FlExec *ex, const char *root, JsonbValue *out, bool *is_credential);
/* Resolve all templates in v; false on failure with code/message set in ex-less form */
typedef struct FlResolveError
{
	const char *code;
	char	   *message;
} FlResolveError;
extern bool fl_resolve(FlExec *ex, int node, const JsonbValue *in, JsonbValue *out,
					   bool lenient, bool *missing, FlResolveError *err);
extern Jsonb *fl_node_input(FlExec *ex, int node);
extern bool fl_lookup_credential(FlExec *ex, const char *name, JsonbValue *out);
extern void fl_remember_secret(FlExec *ex, const JsonbValue *v);
extern void fl_restore_secrets(FlExec *ex, List *names);
extern char *fl_scrub_text(FlExec *ex, const char *text);
extern Jsonb *fl_scrub_jsonb(FlExec *ex, Jsonb *j);
extern void fl_set_current_item(FlExec *ex, Jsonb *item, int index);
extern void fl_clear_current_item(FlExec *ex);

/* exec.c */
extern Jsonb *fl_run_node_alone(Jsonb *node, Jsonb *payload);
extern Jsonb *fl_run_workflow(FlWorkflow *wf, Jsonb *payload, Jsonb *options,
							  const char *trigger_type, FlExec *parent,
							  const char *parent_node_id, char **exec_id_out);
extern Jsonb *fl_continue_execution(const char *exec_id, const char *node_id, const char *at,
									Jsonb *data, bool is_approval, bool *finished_out);
extern Jsonb *fl_continue_if_waiting(const char *exec_id, const char *node_id, const char *at,
									 Jsonb *data, bool is_approval);
extern Jsonb *fl_start_execution(const char *exec_id);
extern char *fl_queue_execution(FlWorkflow *wf, Jsonb *payload, Jsonb *options,
								const char *trigger_type);
extern void fl_queue_continue(const char *exec_id, const char *node_id, const char *at,
							  Jsonb *data);
extern Jsonb *fl_rerun_execution(const char *exec_id, const char *from_node, Jsonb *options,
								 char **new_id, bool async);
extern void fl_set_variable(FlExec *ex, const char *name, Jsonb *value);
extern Jsonb *fl_variables_object(FlExec *ex);
extern Jsonb *fl_get_variable(FlExec *ex, const char *name);
extern Jsonb *fl_state_object(FlExec *ex);
extern Jsonb *fl_nodes_object(FlExec *ex);
extern Jsonb *fl_result_object(FlExec *ex, const char *status, Jsonb *output);

/* SPI calls that keep the caller's memory context current */
extern int	fl_spi_plan(SPIPlanPtr plan, Datum *args, const char *nulls, bool ro, long count);
extern int	fl_spi_args(const char *sql, int nargs, Oid *types, Datum *args,
						const char *nulls, bool ro, long count);
extern int	fl_spi(const char *sql, bool ro, long count);
extern SPIPlanPtr fl_spi_prepare(const char *sql, int nargs, Oid *types);

/* store.c: bookkeeping writes, run as the extension owner */
extern void fl_new_uuid(pg_uuid_t *u);
extern SPIPlanPtr fl_owner_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types);
extern void fl_owner_exec(SPIPlanPtr plan, Datum *args, const char *nulls, int expect);
extern int	fl_owner_query(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types,
						   Datum *args, const char *nulls, long count);
extern void fl_store_execution_insert(FlExec *ex);
extern void fl_store_queue_many(FlExec *tmpl, Datum ids, Datum payloads);
extern void fl_store_execution_finish(FlExec *ex, const char *status, Jsonb *output);
extern bool fl_lock_execution_root(const char *exec_id, bool wait);
extern int	fl_store_cancel_tree(const char *exec_id, const char *reason);
extern void fl_exec_cancelled(FlExec *ex);
extern void fl_store_node_log(FlExec *ex, int node, const char *status, Jsonb *input,
							  Jsonb *output, const char *error_code, const char *error,
							  const char *handle, TimestampTz started, int attempts,
							  int64 tokens, Numeric cost);
extern void fl_store_flush_logs(FlExec *ex);
extern void fl_store_resume_log(FlExec *ex, int node, const char *status, Jsonb *output,
								const char *error_code, const char *error, const char *handle,
								int attempts,
								int64 tokens, Numeric cost);
extern char *fl_store_approval(FlExec *ex, int node, Jsonb *config, TimestampTz expires_at,
							   const char *on_expire);
extern void fl_store_timer(FlExec *ex, int node, const char *kind, TimestampTz fire_at,
						   Jsonb *payload);

/* events.c */
extern void fl_log_node_step(FlExec *ex, int n, int step, Jsonb *output, TimestampTz started,
							 int64 tokens, Numeric cost);
extern void fl_emit(FlExec *ex, const char *event, int node, const char *status,
					Jsonb *output, int duration_ms, Jsonb *extra);
extern void fl_send_event(const char *exec_id, const char *wf_id, int seq,
						  const char *payload, int len);
extern void fl_send_progress_event(const char *exec_id, const char *wf_id, const char *node_id,
								   const char *node_type, const char *iteration, int64 bytes);
extern void fl_send_complete_event(const char *exec_id, const char *wf_id, int seq,
								   const char *status, const char *error_code);
extern bool fl_events_paused(void);

/* run as the workflow's run_as role (security-restricted) */
extern void fl_run_as_begin(FlExec *ex, Oid *saved_uid, int *saved_sec);
extern void fl_run_as_end(Oid saved_uid, int saved_sec);

#define FL_UUID_STR(u) DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(u)))

#endif
