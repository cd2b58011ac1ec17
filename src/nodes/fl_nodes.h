/*
 * nodes.h
 *	  The executor interface every node type implements.
 *
 * The engine resolves the node's {{…}} templates (unless the type resolves
 * its own fields, as condition/switch/filter do), computes its input, and
 * calls execute().  The executor fills an FlNodeResult: success with an
 * output and the live handle, a runtime error with a stable code, or a
 * suspension.  Executors that run SQL are isolated in a subtransaction by
 * the engine (FL_NT_SQL), so an SQL error becomes the node's error.
 */
#ifndef FL_NODES_H
#define FL_NODES_H

#include "pg/engine.h"

typedef enum FlOutcome
{
	FL_SUCCESS,
	FL_ERROR,
	FL_SUSPEND
} FlOutcome;

typedef struct FlNodeResult
{
	FlOutcome	outcome;
	Jsonb	   *output;
	const char *handle;			/* live handle; NULL: the node's first */
	/* FL_ERROR */
	const char *error_code;
	char	   *error_message;
	Jsonb	   *error_details;
	int64		retry_after_ms;	/* the server's Retry-After for a retry, 0: none */
	/* FL_SUSPEND */
	const char *wait_kind;
	char	   *approval_id;
	Jsonb	   *suspend_info;	/* merged into the node:suspended event */
	struct FlHttpRequest *http_request; /* a request a worker sends, the node waiting on it */
	/* accounting */
	int64		tokens;
	Numeric		cost;
} FlNodeResult;

typedef struct FlNodeCall
{
	FlExec	   *ex;
	int			node;
	FlNodeDef  *def;
	Jsonb	   *config;			/* resolved data (raw for FL_NT_SELF_RESOLVE) */
	Jsonb	   *input;
	Jsonb	   *resume_data;	/* set when a suspended node continues */
	int			attempt;
	void	   *state;			/* the executor's own, kept from one attempt to the next */
} FlNodeCall;

/* flags */
#define FL_NT_SQL			0x01	/* runs SQL: isolate in a subtransaction */
#define FL_NT_SELF_RESOLVE	0x02	/* resolves its own templates */
#define FL_NT_SUSPENDS		0x04	/* may suspend; resume() continues it */
#define FL_NT_RUN_AS		0x08	/* runs SQL as the workflow's run_as role */
#define FL_NT_EXTERNAL 0x10 /* has an external effect */

struct FlHttpRequest;

typedef struct FlNodeType
{
	const char *type;
	int			flags;
	const char *sql_error_code;	/* code of an SQL error; NULL: SQL_ERROR */
	void		(*execute) (FlNodeCall *call, FlNodeResult *res);
	/* a suspended node continues with call->resume_data */
	void		(*resume) (FlNodeCall *call, FlNodeResult *res);
	/* re-apply side effects on the run state when an earlier output is reused */
	void		(*replay) (FlExec *ex, int node, Jsonb *output);

	/*
	 * Outbound HTTP nodes: describe the request without sending it, so a
	 * worker can run it in its curl multi loop while the execution waits
	 * (false with res failed on bad config, or with res succeeded when the
	 * node decided without a request: condition's rules).  The worker's
	 * response comes back through resume() (fl_http_completion set).
	 */
	bool		(*prepare_http) (FlNodeCall *call, struct FlHttpRequest *req, FlNodeResult *res);

	/*
	 * Nodes that run other nodes themselves (loop-controller: its body per
	 * item) are driven instead of executed: called with NULL to start, and
	 * with their suspension info to go on from where they waited.
	 */
	void		(*drive) (FlExec *ex, int node, Jsonb *resume_info);

	/* without a `retry` of its own: attempts in all (0: one) and the backoff before the second */
	int			default_attempts;
	int			default_backoff_ms;
} FlNodeType;

extern const FlNodeType *fl_builtin_node_type(const char *type);

/* helpers for executors */
extern void fl_fail(FlNodeResult *res, const char *code, const char *fmt,...) pg_attribute_printf(3, 4);
extern void fl_succeed(FlNodeResult *res, Jsonb *output, const char *handle);
/* config accessors; on a wrong type they fail the node with INVALID_CONFIG */
extern bool fl_cfg_string(FlNodeCall *call, FlNodeResult *res, const char *field,
						  bool required, char **out);
extern bool fl_cfg_int(FlNodeCall *call, FlNodeResult *res, const char *field,
					   int64 dflt, int64 min, int64 max, int64 *out);
extern bool fl_cfg_bool(FlNodeCall *call, FlNodeResult *res, const char *field,
						bool dflt, bool *out);
extern bool fl_cfg_value(FlNodeCall *call, const char *field, JsonbValue *out);
extern bool fl_node_credential(FlNodeCall *call, FlNodeResult *res, const char *name, JsonbValue *out);
extern bool fl_contains_template(const char *s);

/*
 * Run workflow wf_text (a uuid) as a child execution of this node with the
 * payload: its result ({status, executionId, output, error, waiting}), or
 * NULL with res failed (not visible, archived, invalid, too deep).
 */
extern Jsonb *fl_run_child_workflow(FlNodeCall *call, FlNodeResult *res, const char *wf_text, Jsonb *payload);

/* the builtin executors, one per file in src/nodes */
extern const FlNodeType fl_node_trigger;
extern const FlNodeType fl_node_output;
extern const FlNodeType fl_node_set_variable;
extern const FlNodeType fl_node_data_transform;
extern const FlNodeType fl_node_condition;
extern const FlNodeType fl_node_switch;
extern const FlNodeType fl_node_merge;
extern const FlNodeType fl_node_loop;
extern const FlNodeType fl_node_filter;
extern const FlNodeType fl_node_delay;
extern const FlNodeType fl_node_wait;
extern const FlNodeType fl_node_approval;
extern const FlNodeType fl_node_sub_workflow;
extern const FlNodeType fl_node_stop_error;
extern const FlNodeType fl_node_database_query;
extern const FlNodeType fl_node_notify;
extern const FlNodeType fl_node_http_request;
extern const FlNodeType fl_node_webhook;
extern const FlNodeType fl_node_llm_agent;
extern const FlNodeType fl_node_web_search;
extern const FlNodeType fl_node_email;
extern const FlNodeType fl_node_hubspot_create_contact;
extern const FlNodeType fl_node_hubspot_update_deal;
extern const FlNodeType fl_node_hubspot_add_note;
extern const FlNodeType fl_node_hubspot_search_contacts;

/* flowent.llm_base_url: the llm-agent's default baseUrl */
extern char *fl_llm_base_url;
extern const FlNodeType fl_node_custom;

#endif
