/*
 * llm_tools.c
 *	  An llm-agent's tools (llm_tools.h): workflows offered to the model as
 *	  functions in the OpenAI tools format, and a tool call run as a child
 *	  execution of the agent's node.
 *
 * A tool is {workflowId, name?, description?, parameters?}.  Its name is
 * given, else made from the workflow's name (letters, digits, _ and -, at
 * most 64, as the API takes them); its description is given, else the
 * workflow's, else says which workflow runs; its parameters (a JSON Schema
 * object) are given, else the child's trigger `schema`, else any object.
 * The workflow must be visible to the run's user when the tools are built,
 * so a bad tool fails the node before any model call.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "nodes/llm_tools.h"
#include "pg/jsonb_util.h"

#define TOOL_NAME_MAX 64

static bool
tool_name_ok(const char *s)
{
	size_t		len = strlen(s);

	if (len == 0 || len > TOOL_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
			return false;
	return true;
}

/* A function name made from a workflow's name: "Look up order" -> "look_up_order". */
static char *
tool_name_from(const char *wf_name, int index)
{
	StringInfoData b;

	initStringInfo(&b);
	for (const char *p = wf_name ? wf_name : ""; *p && b.len < TOOL_NAME_MAX; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (isalnum(c) && c < 128)
			appendStringInfoChar(&b, (char) tolower(c));
		else if (b.len > 0 && b.data[b.len - 1] != '_')
			appendStringInfoChar(&b, '_');
	}
	while (b.len > 0 && b.data[b.len - 1] == '_')
		b.data[--b.len] = '\0';
	if (b.len == 0)
		appendStringInfo(&b, "tool_%d", index + 1);
	return b.data;
}

/* The workflow's description, or NULL. */
static char *
workflow_description(pg_uuid_t *id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {UUIDOID};
	Datum		a[1];

	a[0] = UUIDPGetDatum(id);
	if (fl_owner_query(&plan, "SELECT nullif(description, '') FROM flowent.workflows WHERE id = $1",
					   1, types, a, NULL, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read a workflow's description");
	if (SPI_processed != 1)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* The child's trigger schema (data.schema of its trigger node), or NULL. */
static Jsonb *
trigger_schema(FlWorkflow *wf)
{
	JsonbValue	v;

	for (int i = 0; i < wf->nnodes; i++)
		if (strcmp(wf->nodes[i].type, "trigger") == 0 &&
			jb_get(wf->nodes[i].data, "schema", &v) && jbv_is_object(&v))
			return jbv_to_jsonb(&v);
	return NULL;
}

static bool
tool_string(FlNodeCall *call, FlNodeResult *res, JsonbValue *tool, int i, const char *key, char **out)
{
	JsonbValue	v;

	*out = NULL;
	if (!jbv_get_key(tool, key, &v) || v.type == jbvNull)
		return true;
	if (v.type != jbvString)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": tools[%d].%s must be a string, got %s",
				call->def->id, i, key, jbv_type_name(&v));
		return false;
	}
	*out = jbv_cstring(&v);
	return true;
}

bool
fl_llm_tools(FlNodeCall *call, FlNodeResult *res, FlLlmTools *tools)
{
	const char *id = call->def->id;
	JsonbValue	arr,
				tool,
				params;
	JB			b = {0};
	int			n;

	memset(tools, 0, sizeof(*tools));
	if (!fl_cfg_value(call, "tools", &arr) || arr.type == jbvNull)
		return true;
	if (!jbv_is_array(&arr))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"tools\" must be an array of {workflowId, name?, description?}, got %s",
				id, jbv_type_name(&arr));
		return false;
	}
	n = jbv_array_size(&arr);
	if (n == 0)
		return true;
	tools->items = palloc0(sizeof(FlLlmTool) * n);
	jb_arr_begin(&b);
	for (int i = 0; i < n; i++)
	{
		FlLlmTool  *t = &tools->items[i];
		char	   *wf_text,
				   *desc;
		pg_uuid_t  *wf_id;
		FlWorkflow *wf;
		Jsonb	   *schema = NULL;

		jbv_get_index(&arr, i, &tool);
		if (!jbv_is_object(&tool))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": tools[%d] must be an object {workflowId, name?, description?}, got %s",
					id, i, jbv_type_name(&tool));
			return false;
		}
		if (!tool_string(call, res, &tool, i, "workflowId", &wf_text) ||
			!tool_string(call, res, &tool, i, "name", &t->name) ||
			!tool_string(call, res, &tool, i, "description", &desc))
			return false;
		if (wf_text == NULL || !fl_is_uuid(wf_text))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": tools[%d].workflowId must be a workflow id (a uuid), got %s",
					id, i, wf_text ? psprintf("\"%s\"", wf_text) : "nothing");
			return false;
		}
		wf_id = DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(wf_text)));
		wf = fl_workflow_load_for(wf_id, 0, call->ex->user_id, true);
		if (wf == NULL)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": tools[%d]: workflow %s does not exist or is not visible to %s",
					id, i, wf_text, call->ex->user_id);
			return false;
		}
		if (jbv_get_key(&tool, "parameters", &params) && params.type != jbvNull)
		{
			if (!jbv_is_object(&params))
			{
				fl_fail(res, "INVALID_CONFIG", "node \"%s\": tools[%d].parameters must be a JSON Schema object, got %s",
						id, i, jbv_type_name(&params));
				return false;
			}
			schema = jbv_to_jsonb(&params);
		}
		else
			schema = trigger_schema(wf);
		if (t->name == NULL)
			t->name = tool_name_from(wf->name, i);
		else if (!tool_name_ok(t->name))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": tools[%d].name must be 1 to %d letters, digits, _ or -, got \"%s\"",
					id, i, TOOL_NAME_MAX, t->name);
			return false;
		}
		for (int j = 0; j < i; j++)
			if (strcmp(tools->items[j].name, t->name) == 0)
			{
				fl_fail(res, "INVALID_CONFIG", "node \"%s\": tools[%d] and tools[%d] are both named \"%s\"; give one a name",
						id, j, i, t->name);
				return false;
			}
		t->workflow_id = wf_text;
		if (desc == NULL)
			desc = workflow_description(wf_id);
		if (desc == NULL)
			desc = psprintf("Runs the workflow \"%s\" with the arguments as its payload and returns its output.",
							wf->name ? wf->name : wf_text);

		jb_obj_begin(&b);
		jb_kv_str(&b, "type", "function");
		jb_key(&b, "function");
		jb_obj_begin(&b);
		jb_kv_str(&b, "name", t->name);
		jb_kv_str(&b, "description", desc);
		if (schema)
			jb_kv_jsonb(&b, "parameters", schema);
		else
		{
			jb_key(&b, "parameters");
			jb_obj_begin(&b);
			jb_kv_str(&b, "type", "object");
			jb_kv_bool(&b, "additionalProperties", true);
			jb_obj_end(&b);
		}
		jb_obj_end(&b);
		jb_obj_end(&b);
	}
	jb_arr_end(&b);
	tools->n = n;
	tools->defs = jb_finish(&b);
	return true;
}

/* {"error": {code, message}} as a tool's answer. */
static Jsonb *
tool_error(const char *code, const char *message)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_key(&b, "error");
	jb_obj_begin(&b);
	jb_kv_str(&b, "code", code);
	jb_kv_str(&b, "message", message);
	jb_obj_end(&b);
	jb_obj_end(&b);
	return jb_finish(&b);
}

Jsonb *
fl_llm_tool_answer(Jsonb *child)
{
	char	   *status = jb_get_cstring(child, "status");
	JsonbValue	v;

	if (status && strcmp(status, "success") == 0)
	{
		if (!jb_get(child, "output", &v))
			return jsonb_null();
		return jbv_to_jsonb(&v);
	}
	if (jb_get(child, "error", &v) && jbv_is_object(&v))
	{
		Jsonb	   *err = jbv_to_jsonb(&v);

		return tool_error(jb_get_cstring(err, "code"), jb_get_cstring(err, "message"));
	}
	return tool_error(status ? status : "UNKNOWN", "the workflow did not finish");
}

Jsonb *
fl_llm_run_tool(FlNodeCall *call, FlLlmTools *tools, const char *name, const char *arguments,
				char **child_id)
{
	FlNodeResult res;
	Jsonb	   *payload;
	Jsonb	   *child;
	FlLlmTool  *t = NULL;

	*child_id = NULL;
	for (int i = 0; i < tools->n; i++)
		if (name && strcmp(tools->items[i].name, name) == 0)
			t = &tools->items[i];
	if (t == NULL)
		return tool_error("UNKNOWN_TOOL", psprintf("there is no tool named \"%s\"", name ? name : ""));
	payload = fl_http_try_parse_json(arguments && arguments[0] ? arguments : "{}");
	if (payload == NULL)
		return tool_error("INVALID_ARGUMENTS", psprintf("the arguments are not JSON: %.200s", arguments));
	memset(&res, 0, sizeof(res));
	child = fl_run_child_workflow(call, &res, t->workflow_id, payload);
	if (child == NULL)
		return tool_error(res.error_code, res.error_message);
	*child_id = jb_get_cstring(child, "executionId");
	return child;
}
