/*
 * routes.c
 *	  The route table.  A route's SQL takes its arguments as text parameters
 *	  ($1, $2 ...) in the order its `args` string names them:
 *	    i  the first path parameter, a uuid      j  the second one
 *	    u  the second path parameter, any text
 *	    q  the query string as a JSON object
 *	    b  the body, JSON, required              o  the body, JSON, '{}' when absent
 *	  The database does the rest: parsing the JSON, checking types, who may
 *	  see what.  Request bodies go to it as text, so numbers stay exact.
 */
#include "gateway/routes.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/cached_route.h"
#include "gateway/events.h"
#include "gateway/metrics.h"
#include "gateway/path.h"
#include "gateway/sse.h"
#include "gateway/static_files.h"
#include "gateway/util.h"
#include "gateway/webhook.h"
#include "gateway/ws.h"

typedef void (*gw_custom_fn) (gw_req *r, char **params);

typedef struct gw_route_def
{
	const char *method;
	const char *pattern;
	const char *sql;			/* NULL: custom handles it */
	const char *args;
	unsigned	ok_status;
	bool		auth;
	gw_custom_fn custom;
	const char *summary;
	/*
	 * its answer depends only on the user, the arguments and what
	 * flowent.change_stamp() counts: kept while the stamp holds
	 */
	bool		cached;
} gw_route_def;

static void health(gw_req *r, char **params);
static void metrics(gw_req *r, char **params);
static void openapi(gw_req *r, char **params);

static void
ws(gw_req *r, char **params)
{
	(void) params;
	gw_ws_upgrade(r);
}

static void
sse(gw_req *r, char **params)
{
	if (!gw_is_uuid(params[0]))
	{
		gw_req_error(r, 400, "INVALID_INPUT", "id: expected a uuid in the path", NULL);
		return;
	}
	gw_sse_start(r, params[0]);
}

static void
hook(gw_req *r, char **params)
{
	gw_webhook(r, params[0]);
}

#define MAX_PARAMS 4

static const gw_route_def routes[] = {
	{"GET", "/health", "SELECT to_json(extversion) FROM pg_extension WHERE extname = 'flowent'", "", 200, false, health,
	"liveness: the database answers, the events connection listens"},
	{"GET", "/metrics", NULL, "", 200, false, metrics, "Prometheus metrics"},
	{"GET", "/api/openapi.json", NULL, "", 200, false, openapi, "this description"},
	{"GET", "/ws", NULL, "", 101, true, ws,
	"WebSocket of events (?token=): join:execution {executionId, since}, leave:execution, join:workflow"},
	{"GET", "/api/executions/:id/events", NULL, "", 200, true, sse,
	"an execution's events as SSE, from the start or after Last-Event-ID"},
	{"POST", "/api/hooks/:id", NULL, "", 202, false, hook,
	"signed webhook (X-Flowent-Timestamp, X-Flowent-Signature); ?wait=true answers the run's result"},

	{"GET", "/api/pipelines", "SELECT flowent.api_list_pipelines($1::jsonb)", "q", 200, true, NULL,
	"pipelines with stats (status, search, limit, offset)", true},
	{"POST", "/api/pipelines", "SELECT flowent.api_create_pipeline($1::jsonb)", "b", 201, true, NULL,
	"create a pipeline {name, description, nodes, edges, ...}"},
	{"GET", "/api/pipelines/templates", "SELECT flowent.api_templates($1::jsonb)", "q", 200, true, NULL,
	"templates (category, starterKit)"},
	{"POST", "/api/pipelines/templates/clone", "SELECT flowent.api_clone_template($1::jsonb)", "b", 201, true, NULL,
	"clone a template {templateId, name?}"},
	{"GET", "/api/pipelines/analytics", "SELECT flowent.api_analytics($1::jsonb)", "q", 200, true, NULL,
	"analytics (from, to, workflowId)"},
	{"POST", "/api/pipelines/generate", "SELECT flowent.api_generate($1::jsonb)", "b", 200, true, NULL,
	"generate a pipeline from a sentence {prompt, model?, credential?, baseUrl?, save?, name?}: {nodes, edges, explanation}"},
	{"GET", "/api/pipelines/context/:id", "SELECT flowent.api_execution_context($1::uuid)", "i", 200, true, NULL,
	"an execution's context"},
	{"GET", "/api/pipelines/:id", "SELECT flowent.api_get_pipeline($1::uuid)", "i", 200, true, NULL,
	"a pipeline with its latest executions"},
	{"PATCH", "/api/pipelines/:id", "SELECT flowent.api_update_pipeline($1::uuid, $2::jsonb)", "ib", 200, true, NULL,
	"save a new version (expectedVersion: 409 on conflict)"},
	{"DELETE", "/api/pipelines/:id", "SELECT flowent.api_delete_pipeline($1::uuid)", "i", 200, true, NULL,
	"delete a pipeline"},
	{"POST", "/api/pipelines/:id/execute", "SELECT flowent.api_execute($1::uuid, $2::jsonb)", "io", 200, true, NULL,
	"run a pipeline {payload, variables, skipBudgetCheck, mode}"},
	{"POST", "/api/pipelines/:id/approve", "SELECT flowent.api_approve($1::uuid, $2::jsonb)", "ib", 200, true, NULL,
	"decide an approval of the pipeline {executionId | approvalId, approved, comment}"},
	{"POST", "/api/pipelines/:id/schedule", "SELECT flowent.api_schedule($1::uuid, $2::jsonb)", "ib", 200, true, NULL,
	"schedule {cron, payload}"},
	{"DELETE", "/api/pipelines/:id/schedule", "SELECT flowent.api_unschedule($1::uuid)", "i", 200, true, NULL,
	"remove the schedule"},
	{"GET", "/api/pipelines/:id/webhooks", "SELECT flowent.api_webhooks($1::uuid)", "i", 200, true, NULL,
	"webhook state (never the secret)"},
	{"POST", "/api/pipelines/:id/webhooks", "SELECT flowent.api_rotate_webhook_secret($1::uuid)", "i", 200, true, NULL,
	"rotate the webhook secret (answered once)"},

	{"POST", "/api/workflows/estimate", "SELECT flowent.api_estimate($1::jsonb)", "b", 200, true, NULL,
	"cost estimate {workflowId, payload}: {totalTokens, totalCost, nodes}"},
	{"GET", "/api/workflows/approvals", "SELECT flowent.api_pending_approvals()", "", 200, true, NULL,
	"approvals I may decide"},
	{"GET", "/api/workflows/executions/recent", "SELECT flowent.api_recent_executions($1::jsonb)", "q", 200, true, NULL,
	"latest executions (limit, offset, workflowId, status): {executions, hasMore}"},
	{"POST", "/api/workflows/executions/:id/approve", "SELECT flowent.api_approve_execution($1::uuid, $2::jsonb)", "ib", 200, true, NULL,
	"decide an execution's approval {approved, comment}"},
	{"POST", "/api/workflows/executions/:id/cancel", "SELECT flowent.api_cancel($1::uuid, $2::jsonb)", "io", 200, true, NULL,
	"cancel {reason?}"},
	{"POST", "/api/workflows/executions/:id/rerun", "SELECT flowent.api_rerun($1::uuid, $2::jsonb)", "ib", 200, true, NULL,
	"rerun from a node {fromNode, mode?}"},
	{"GET", "/api/workflows/executions/:id/logs", "SELECT flowent.api_execution_logs($1::uuid, ($2::jsonb->>'since')::int)", "iq", 200, true, NULL,
	"node logs (since: seq)"},
	{"POST", "/api/workflows/executions/:id/resume", "SELECT flowent.resume($1::uuid, $2::jsonb)", "io", 200, true, NULL,
	"continue a suspended execution (a breakpoint, a wait) with {data}"},
	{"POST", "/api/workflows/validate", "SELECT flowent.validate($1::jsonb->'nodes', $1::jsonb->'edges')", "b", 200, true, NULL,
	"validate a graph {nodes, edges}: {valid, errors}"},
	{"GET", "/api/workflows/:id/table-triggers", "SELECT flowent.api_table_triggers($1::uuid)", "i", 200, true, NULL,
	"the table triggers (flowent.on_change) that start this workflow"},
	{"POST", "/api/workflows/:id/execute", "SELECT flowent.api_execute($1::uuid, $2::jsonb)", "io", 200, true, NULL,
	"run a workflow"},
	{"POST", "/api/workflows/:id/deploy", "SELECT flowent.publish($1::uuid)", "i", 200, true, NULL,
	"publish the latest version (answers webhookSecret)"},
	{"GET", "/api/workflows/:id/versions", "SELECT flowent.api_versions($1::uuid)", "i", 200, true, NULL,
	"versions"},
	{"GET", "/api/workflows/:id/versions/:version", "SELECT flowent.api_version($1::uuid, $2)", "iu", 200, true, NULL,
	"one version's graph {version, name, nodes, edges, message, createdBy, createdAt, published}"},
	{"GET", "/api/workflows/:id/diff", "SELECT flowent.api_diff($1::uuid, $2::jsonb)", "iq", 200, true, NULL,
	"diff of two versions (from, to)"},

	{"GET", "/api/node-types", "SELECT flowent.api_node_types()", "", 200, true, NULL, "the node palette"},
	{"GET", "/api/credentials", "SELECT flowent.api_credentials()", "", 200, true, NULL, "credential names"},
	{"GET", "/api/workspaces", "SELECT flowent.api_workspaces()", "", 200, true, NULL, "my workspaces"},
	{"POST", "/api/workspaces", "SELECT flowent.api_create_workspace($1::jsonb->>'name')", "b", 201, true, NULL,
	"create a workspace {name}"},
	{"POST", "/api/workspaces/:id/members", "SELECT flowent.api_add_member($1::uuid, $2::jsonb->>'userId', $2::jsonb->>'role')", "ib", 200, true, NULL,
	"add or change a member {userId, role}"},
	{"DELETE", "/api/workspaces/:id/members/:user", "SELECT flowent.api_remove_member($1::uuid, $2)", "iu", 200, true, NULL,
	"remove a member"},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static void
health_done(gw_req *r, gw_result *res)
{
	gw_buf		b = {0};
	bool		events = gw_events_listening();

	if (!res->ok)
	{
		gw_req_sql_error(r, res);
		return;
	}
	/* the database's own answer, with the events connection's state added */
	gw_buf_str(&b, "{\"status\": \"ok\", \"database\": true, \"events\": ");
	gw_buf_str(&b, events ? "true" : "false");
	gw_buf_str(&b, ", \"extension\": ");
	gw_buf_str(&b, res->value ? res->value : "null");
	gw_buf_str(&b, ", \"version\": \"" GW_VERSION "\"}\n");
	gw_req_respond(r, 200, "application/json", b.data, b.len);
}

static void
health(gw_req *r, char **params)
{
	(void) params;
	gw_req_sql_then(r, false, routes[0].sql, 0, NULL, health_done);
}

static void
metrics(gw_req *r, char **params)
{
	char	   *t = gw_metrics_text();

	(void) params;
	gw_req_respond(r, 200, "text/plain; version=0.0.4", t, strlen(t));
}

static void
openapi(gw_req *r, char **params)
{
	char	   *t = gw_openapi_json();

	(void) params;
	gw_req_respond(r, 200, "application/json", t, strlen(t));
}

static bool
is_json_ws(const char *s)
{
	for (; *s; s++)
		if (!strchr(" \t\r\n", *s))
			return false;
	return true;
}

static void
call(gw_req *r, const gw_route_def *rt, char **params, int nparams)
{
	const char *vals[8];
	char	   *owned[8] = {0};
	int			n = 0;

	for (const char *a = rt->args; *a; a++, n++)
	{
		const char *body;

		switch (*a)
		{
			case 'i':
			case 'j':
				{
					const char *v = params[*a - 'i'];

					if (!gw_is_uuid(v))
					{
						char	   *m = gw_printf("%s: expected a uuid in the path, got \"%.60s\"",
												  *a == 'i' ? "id" : "second id", v);

						gw_req_error(r, 400, "INVALID_INPUT", m, NULL);
						free(m);
						goto out;
					}
					vals[n] = v;
					break;
				}
			case 'u':
				vals[n] = nparams > 1 ? params[1] : "";
				break;
			case 'q':
				vals[n] = owned[n] = gw_req_args_json(r);
				break;
			case 'b':
			case 'o':
				body = gw_req_body(r, NULL);
				if (body == NULL || is_json_ws(body))
				{
					if (*a == 'b')
					{
						gw_req_error(r, 400, "INVALID_INPUT", "this route needs a JSON body", NULL);
						goto out;
					}
					body = "{}";
				}
				vals[n] = body;
				break;
		}
	}
	if (rt->cached)
		gw_cached_sql(r, rt->pattern, rt->sql, n, vals);
	else
		gw_req_sql(r, rt->auth, rt->sql, n, vals, rt->ok_status);
out:
	for (int i = 0; i < 8; i++)
		free(owned[i]);
}

const char *
gw_route(gw_req *r)
{
	const char *path = gw_req_path(r);
	const char *method = gw_req_method(r);
	bool		path_matched = false;
	char		buf[1024];
	char	   *params[MAX_PARAMS];
	int			nparams;

	if (strcmp(method, "OPTIONS") == 0)
	{
		gw_req_respond(r, 204, NULL, gw_strdup(""), 0);
		gw_req_add_header(r, "Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
		gw_req_add_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID");
		return "OPTIONS";
	}
	for (size_t i = 0; i < NROUTES; i++)
	{
		const gw_route_def *rt = &routes[i];

		if (!gw_path_match(rt->pattern, path, buf, sizeof(buf), params, MAX_PARAMS, &nparams))
			continue;
		path_matched = true;
		if (strcmp(rt->method, method) != 0)
			continue;
		if (rt->custom)
			rt->custom(r, params);
		else
			call(r, rt, params, nparams);
		return rt->pattern;
	}
	if (path_matched)
	{
		gw_req_error(r, 405, "METHOD_NOT_ALLOWED", "this path does not take that method", NULL);
		return "(method not allowed)";
	}
	if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0)
	{
		gw_req_error(r, 404, "NOT_FOUND", "no such route", NULL);
		return "(no route)";
	}
	return gw_static_serve(r);
}

char *
gw_openapi_json(void)
{
	gw_buf		b = {0};
	const char *last = NULL;

	gw_buf_str(&b, "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"Flowent gateway\", \"version\": \"" GW_VERSION "\"},"
			   " \"components\": {\"securitySchemes\": {\"bearer\": {\"type\": \"http\", \"scheme\": \"bearer\"}}},"
			   " \"paths\": {");
	/* the table groups a path's methods together */
	for (size_t i = 0; i < NROUTES; i++)
	{
		const gw_route_def *rt = &routes[i];
		char		path[256];
		char	   *o = path;

		for (const char *p = rt->pattern; *p && o < path + sizeof(path) - 3; p++)
		{
			if (*p == ':')
			{
				size_t		n = strcspn(p + 1, "/");

				*o++ = '{';
				memcpy(o, p + 1, n);
				o += n;
				*o++ = '}';
				p += n;
			}
			else
				*o++ = *p;
		}
		*o = '\0';
		if (last == NULL || strcmp(last, rt->pattern) != 0)
		{
			bool		seen = false;

			for (size_t k = 0; k < i; k++)
				if (strcmp(routes[k].pattern, rt->pattern) == 0)
					seen = true;
			if (seen)
				continue;		/* listed with its first method */
			if (last)
				gw_buf_str(&b, "},");
			gw_buf_json_str(&b, path);
			gw_buf_str(&b, ": {");
			for (size_t k = i; k < NROUTES; k++)
			{
				const gw_route_def *m = &routes[k];
				char		lower[8];
				size_t		l;

				if (strcmp(m->pattern, rt->pattern) != 0)
					continue;
				for (l = 0; m->method[l] && l < sizeof(lower) - 1; l++)
					lower[l] = m->method[l] - 'A' + 'a';
				lower[l] = '\0';
				if (k != i)
					gw_buf_str(&b, ", ");
				gw_buf_printf(&b, "\"%s\": {\"summary\": ", lower);
				gw_buf_json_str(&b, m->summary);
				gw_buf_printf(&b, ", \"security\": %s, \"responses\": {\"%u\": {\"description\": \"OK\"}}}",
							  m->auth ? "[{\"bearer\": []}]" : "[]", m->ok_status);
			}
			last = rt->pattern;
		}
	}
	if (last)
		gw_buf_str(&b, "}");
	gw_buf_str(&b, "}}\n");
	return b.data;
}
