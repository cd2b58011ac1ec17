/*
 * init.c
 *	  Module load: settings and hooks.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "nodes/fl_nodes.h"
#include "pg/budget.h"
#include "pg/engine.h"
#include "pg/http.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

int			fl_max_nodes = 10000;
int			fl_max_payload_bytes = 8 * 1024 * 1024;
int			fl_max_output_bytes = 8 * 1024 * 1024;
int			fl_node_timeout_ms = 300000;
int			fl_max_depth = 10;
int			fl_retention_days = 30;
int			fl_prune_interval_s = 3600;

void		_PG_init(void);

/* Define the settings every backend has, preloaded or not. */
void
_PG_init(void)
{
	DefineCustomIntVariable("flowent.max_nodes",
							"Largest number of nodes a workflow may have.",
							NULL, &fl_max_nodes, 10000, 1, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.max_payload_bytes",
							"Largest trigger payload accepted, in bytes.",
							NULL, &fl_max_payload_bytes, 8 * 1024 * 1024, 1024, INT_MAX,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.max_output_bytes",
							"Largest output of one node, in bytes; a larger one fails the node with LIMIT_EXCEEDED.",
							NULL, &fl_max_output_bytes, 8 * 1024 * 1024, 1024, 512 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.max_depth",
							"Deepest nesting of sub-workflows.",
							NULL, &fl_max_depth, 10, 1, 100,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.node_timeout_ms",
							"Longest a node that runs SQL may take, unless its timeoutMs says otherwise (0: no limit).",
							NULL, &fl_node_timeout_ms, 300000, 0, 86400000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.retention_days",
							"Days executions are kept before flowent.prune() removes them (0: keep everything); a workflow's retention_days overrides it.",
							NULL, &fl_retention_days, 30, 0, 36500,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.prune_interval",
							"How often the workers prune each database's history (0: never on their own).",
							NULL, &fl_prune_interval_s, 3600, 0, 7 * 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomStringVariable("flowent.llm_base_url",
							   "The llm-agent's default baseUrl: an OpenAI-compatible API, up to before /chat/completions.",
							   NULL, &fl_llm_base_url, "https://api.openai.com/v1",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.llm_max_tokens",
							"The completion a model call without maxTokens may write when a budget or a run's cap holds it.",
							NULL, &fl_llm_max_tokens, 4096, 1, 10000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	fl_context_init();
	fl_registry_init();
	fl_http_init();
	fl_worker_init();
	/* SET flowent.<anything else> is an error, not a silent placeholder */
	MarkGUCPrefixReserved("flowent");
}
