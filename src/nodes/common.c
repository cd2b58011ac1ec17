/*
 * common.c
 *	  Helpers shared by node executors, and the table of builtin types.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "nodes/fl_nodes.h"
#include "pg/jsonb_util.h"

static const FlNodeType *const builtins[] = {
	&fl_node_trigger, &fl_node_output, &fl_node_set_variable,
	&fl_node_data_transform, &fl_node_condition, &fl_node_switch,
	&fl_node_merge, &fl_node_loop, &fl_node_filter, &fl_node_delay,
	&fl_node_wait, &fl_node_approval, &fl_node_sub_workflow,
	&fl_node_stop_error, &fl_node_database_query, &fl_node_notify,
	&fl_node_http_request, &fl_node_webhook, &fl_node_llm_agent, &fl_node_web_search, &fl_node_email,
	&fl_node_hubspot_create_contact, &fl_node_hubspot_update_deal, &fl_node_hubspot_add_note,
	&fl_node_hubspot_search_contacts,
	NULL
};

/* The C executor of a builtin type, or NULL. */
const FlNodeType *
fl_builtin_node_type(const char *type)
{
	for (int i = 0; builtins[i]; i++)
		if (strcmp(builtins[i]->type, type) == 0)
			return builtins[i];
	return NULL;
}

/* Fail the node with a runtime error code. */
void
fl_fail(FlNodeResult *res, const char *code, const char *fmt,...)
{
	va_list		ap;
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(ap, fmt);
		needed = appendStringInfoVA(&buf, fmt, ap);
		va_end(ap);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	res->outcome = FL_ERROR;
	res->error_code = code;
	res->error_message = buf.data;
}

/* Succeed with an output and the live handle (NULL: first handle). */
void
fl_succeed(FlNodeResult *res, Jsonb *output, const char *handle)
{
	res->outcome = FL_SUCCESS;
	res->output = output ? output : jsonb_null();
	res->handle = handle;
}

/* Does a string hold an unescaped {{ ? */
bool
fl_contains_template(const char *s)
{
	for (const char *p = s; (p = strstr(p, "{{")) != NULL; p += 2)
		if (p == s || p[-1] != '\\')
			return true;
	return false;
}

/* A config field as a value; false when absent. */
bool
fl_cfg_value(FlNodeCall *call, const char *field, JsonbValue *out)
{
	return jb_get(call->config, field, out);
}

/* A string field; absent -> *out NULL (an error when required). */
bool
fl_cfg_string(FlNodeCall *call, FlNodeResult *res, const char *field,
			  bool required, char **out)
{
	JsonbValue	v;

	*out = NULL;
	if (!fl_cfg_value(call, field, &v) || v.type == jbvNull)
	{
		if (required)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" is required",
					call->def->id, field);
			return false;
		}
		return true;
	}
	if (v.type != jbvString)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be a string, got %s",
				call->def->id, field, jbv_type_name(&v));
		return false;
	}
	*out = jbv_cstring(&v);
	return true;
}

/* An integer field within [min, max]; numeric strings are accepted. */
bool
fl_cfg_int(FlNodeCall *call, FlNodeResult *res, const char *field,
		   int64 dflt, int64 min, int64 max, int64 *out)
{
	JsonbValue	v;
	int64		x;

	*out = dflt;
	if (!fl_cfg_value(call, field, &v) || v.type == jbvNull)
		return true;
	if (v.type == jbvNumeric || v.type == jbvString)
	{
		char	   *s = v.type == jbvNumeric ? numeric_normalize(v.val.numeric) : jbv_cstring(&v);
		char	   *end;

		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno != 0 || *s == '\0' || *end != '\0')
			goto bad;
	}
	else
		goto bad;
	if (x < min || x > max)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be between " INT64_FORMAT " and " INT64_FORMAT ", got " INT64_FORMAT,
				call->def->id, field, min, max, x);
		return false;
	}
	*out = x;
	return true;
bad:
	fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be an integer, got %s",
			call->def->id, field, jbv_type_name(&v));
	return false;
}

/* A boolean field. */
bool
fl_cfg_bool(FlNodeCall *call, FlNodeResult *res, const char *field,
			bool dflt, bool *out)
{
	JsonbValue	v;

	*out = dflt;
	if (!fl_cfg_value(call, field, &v) || v.type == jbvNull)
		return true;
	if (v.type != jbvBool)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be a boolean, got %s",
				call->def->id, field, jbv_type_name(&v));
		return false;
	}
	*out = v.val.boolean;
	return true;
}

/* Credential `name` of the workflow owner (remembered for scrubbing); false, with CREDENTIAL_NOT_FOUND, when it has none. */
bool
fl_node_credential(FlNodeCall *call, FlNodeResult *res, const char *name, JsonbValue *out)
{
	if (fl_lookup_credential(call->ex, name, out))
		return true;
	fl_fail(res, "CREDENTIAL_NOT_FOUND", "node \"%s\": credential \"%s\" does not exist for the workflow owner",
			call->def->id, name);
	return false;
}
