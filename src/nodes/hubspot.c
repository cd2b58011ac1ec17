/*
 * hubspot.c
 *	  The four HubSpot nodes, CRM v3 API shapes:
 *	    hubspot-create-contact  POST  /crm/v3/objects/contacts {properties}
 *	    hubspot-update-deal     PATCH /crm/v3/objects/deals/<dealId> {properties}
 *	    hubspot-add-note        POST  /crm/v3/objects/notes {properties: {hs_note_body,
 *	                            hs_timestamp}, associations to contactId / dealId}
 *	    hubspot-search-contacts POST  /crm/v3/objects/contacts/search {filterGroups,
 *	                            properties, limit, after}
 * baseUrl (default https://api.hubapi.com), credential (a private app's
 * token: a string, or {token} / {accessToken}; sent as a bearer token),
 * timeoutMs.  Output: HubSpot's response body.  Errors as for every JSON API
 * node (fl_http_api_answer) with HubSpot's message, its correlationId in the
 * error details: 401/403 CREDENTIAL_INVALID, 429 and 5xx HTTP_ERROR
 * (retryable: the node's retry setting retries them), another refusal
 * INVALID_CONFIG.  Asynchronous runs make the call in the worker's curl loop.
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "nodes/fl_nodes.h"
#include "pg/http.h"
#include "pg/jsonb_util.h"

#define HUBSPOT_DEFAULT_URL "https://api.hubapi.com"
/* HubSpot-defined association types of a note */
#define NOTE_TO_CONTACT 202
#define NOTE_TO_DEAL 214

/* an object field, or absent; false (res failed) when it is not an object */
static bool
cfg_object(FlNodeCall *call, FlNodeResult *res, const char *field, bool required, JsonbValue *out, bool *given)
{
	*given = fl_cfg_value(call, field, out) && out->type != jbvNull;
	if (!*given && required)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" is required", call->def->id, field);
		return false;
	}
	if (*given && !jbv_is_object(out))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be an object, got %s",
				call->def->id, field, jbv_type_name(out));
		return false;
	}
	return true;
}

/* an id field: a string or an integer, as text */
static bool
cfg_id(FlNodeCall *call, FlNodeResult *res, const char *field, bool required, char **out)
{
	JsonbValue	v;

	*out = NULL;
	if (!fl_cfg_value(call, field, &v) || v.type == jbvNull)
	{
		if (required)
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" is required", call->def->id, field);
		return !required;
	}
	if (v.type == jbvString && v.val.string.len > 0)
		*out = jbv_cstring(&v);
	else if (v.type == jbvNumeric)
		*out = jbv_to_text(&v);
	else
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be a HubSpot id (a string or a number), got %s",
				call->def->id, field, jbv_type_name(&v));
		return false;
	}
	return true;
}

static void
note_association(JB *b, const char *id, int type)
{
	jb_obj_begin(b);
	jb_key(b, "to");
	jb_obj_begin(b);
	jb_kv_str(b, "id", id);
	jb_obj_end(b);
	jb_key(b, "types");
	jb_arr_begin(b);
	jb_obj_begin(b);
	jb_kv_str(b, "associationCategory", "HUBSPOT_DEFINED");
	jb_kv_int(b, "associationTypeId", type);
	jb_obj_end(b);
	jb_arr_end(b);
	jb_obj_end(b);
}

/* the method, path and body of each node */
static bool
operation(FlNodeCall *call, FlNodeResult *res, const char **method, char **path, Jsonb **body)
{
	const char *type = call->def->type;
	const char *id = call->def->id;
	JsonbValue	v;
	bool		given;
	JB			b = {0};

	if (strcmp(type, "hubspot-create-contact") == 0 || strcmp(type, "hubspot-update-deal") == 0)
	{
		char	   *deal = NULL;

		if (strcmp(type, "hubspot-update-deal") == 0 && !cfg_id(call, res, "dealId", true, &deal))
			return false;
		if (!cfg_object(call, res, "properties", true, &v, &given))
			return false;
		jb_obj_begin(&b);
		jb_key(&b, "properties");
		jb_val(&b, &v);
		jb_obj_end(&b);
		*method = deal ? "PATCH" : "POST";
		*path = deal ? psprintf("/crm/v3/objects/deals/%s", deal) : pstrdup("/crm/v3/objects/contacts");
	}
	else if (strcmp(type, "hubspot-add-note") == 0)
	{
		char	   *text,
				   *contact,
				   *deal;

		if (!fl_cfg_string(call, res, "body", true, &text) ||
			!cfg_id(call, res, "contactId", false, &contact) || !cfg_id(call, res, "dealId", false, &deal))
			return false;
		if (contact == NULL && deal == NULL)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": a note needs \"contactId\" or \"dealId\" (or both) to be attached to", id);
			return false;
		}
		jb_obj_begin(&b);
		jb_key(&b, "properties");
		jb_obj_begin(&b);
		jb_kv_str(&b, "hs_note_body", text);
		/* Unix milliseconds, one of the forms HubSpot takes */
		jb_kv_str(&b, "hs_timestamp",
				  psprintf(INT64_FORMAT, GetCurrentTimestamp() / 1000 +
						   (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000));
		jb_obj_end(&b);
		jb_key(&b, "associations");
		jb_arr_begin(&b);
		if (contact)
			note_association(&b, contact, NOTE_TO_CONTACT);
		if (deal)
			note_association(&b, deal, NOTE_TO_DEAL);
		jb_arr_end(&b);
		jb_obj_end(&b);
		*method = "POST";
		*path = pstrdup("/crm/v3/objects/notes");
	}
	else
	{
		int64		limit;
		char	   *after;

		if (!fl_cfg_int(call, res, "limit", 10, 1, 200, &limit) || !fl_cfg_string(call, res, "after", false, &after))
			return false;
		jb_obj_begin(&b);
		jb_key(&b, "filterGroups");
		jb_arr_begin(&b);
		if (fl_cfg_value(call, "filters", &v) && v.type != jbvNull)
		{
			if (!jbv_is_array(&v))
			{
				fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"filters\" must be an array of {propertyName, operator, value}, got %s",
						id, jbv_type_name(&v));
				return false;
			}
			jb_obj_begin(&b);
			jb_key(&b, "filters");
			jb_val(&b, &v);
			jb_obj_end(&b);
		}
		jb_arr_end(&b);
		if (fl_cfg_value(call, "properties", &v) && v.type != jbvNull)
		{
			if (!jbv_is_array(&v))
			{
				fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"properties\" must be an array of property names, got %s",
						id, jbv_type_name(&v));
				return false;
			}
			jb_key(&b, "properties");
			jb_val(&b, &v);
		}
		jb_kv_int(&b, "limit", limit);
		if (after)
			jb_kv_str(&b, "after", after);
		jb_obj_end(&b);
		*method = "POST";
		*path = pstrdup("/crm/v3/objects/contacts/search");
	}
	*body = jb_finish(&b);
	return true;
}

static bool
hubspot_prepare(FlNodeCall *call, FlHttpRequest *reqp, FlNodeResult *res)
{
	const char *id = call->def->id;
	FlHttpRequest req;
	const char *method;
	char	   *path,
			   *base,
			   *cred_name,
			   *token = NULL;
	Jsonb	   *body;
	JsonbValue	cred,
				t;
	size_t		blen;

	memset(&req, 0, sizeof(req));
	memset(reqp, 0, sizeof(*reqp));
	req.node_id = id;
	req.max_response_bytes = fl_http_max_response_bytes;
	req.idempotency_key = fl_http_idempotency_key(call);
	if (!fl_cfg_string(call, res, "baseUrl", false, &base) ||
		!fl_cfg_string(call, res, "credential", true, &cred_name) ||
		!fl_http_config_timeout(call, res, &req) ||
		!operation(call, res, &method, &path, &body))
		return false;
	if (!fl_node_credential(call, res, cred_name, &cred))
		return false;
	if (cred.type == jbvString)
		token = jbv_cstring(&cred);
	else if (jbv_is_object(&cred) && ((jbv_get_key(&cred, "token", &t) && t.type == jbvString) ||
									  (jbv_get_key(&cred, "accessToken", &t) && t.type == jbvString)))
		token = jbv_cstring(&t);
	if (token == NULL || token[0] == '\0')
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be a HubSpot token: a string, or {token} or {accessToken}",
				id, cred_name);
		return false;
	}
	if (base == NULL)
		base = HUBSPOT_DEFAULT_URL;
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (!fl_http_parse_url(call, res, "baseUrl", psprintf("%.*s%s", (int) blen, base, path), &req.url))
		return false;
	req.method = pstrdup(method);
	req.body = jsonb_to_compact(body);
	req.body_len = strlen(req.body);
	req.headers = fl_http_set_header(req.headers, "Content-Type", "application/json");
	req.headers = fl_http_set_header(req.headers, "Authorization", psprintf("Bearer %s", token));
	*reqp = req;
	return true;
}

static void
hubspot_result(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res)
{
	Jsonb	   *body;
	JsonbValue	v;

	if (!fl_http_api_answer(req, resp, code, res, "HubSpot API", "HTTP_ERROR", &body))
	{
		/* HubSpot's correlation id, for its support */
		if (body && jb_get(body, "correlationId", &v) && v.type == jbvString)
		{
			JB			b = {0};

			jb_obj_begin(&b);
			jb_kv_int(&b, "status", resp->status);
			jb_kv_str(&b, "correlationId", jbv_cstring(&v));
			if (jb_get(body, "category", &v) && v.type == jbvString)
				jb_kv_str(&b, "category", jbv_cstring(&v));
			jb_obj_end(&b);
			res->error_details = jb_finish(&b);
		}
		return;
	}
	if (body == NULL)
	{
		fl_fail(res, "HTTP_ERROR", "node \"%s\": the HubSpot API answered HTTP %ld without a JSON body",
				call->def->id, resp->status);
		return;
	}
	fl_succeed(res, body, NULL);
}

static void
hubspot_execute(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_sync(call, res, hubspot_prepare, hubspot_result);
}

static void
hubspot_resume(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_resume(call, res, hubspot_prepare, hubspot_result);
}

#define HUBSPOT_NODE(sym, name) \
	const FlNodeType sym = { \
		.type = name, \
		.flags = FL_NT_EXTERNAL, \
		.sql_error_code = NULL, \
		.execute = hubspot_execute, \
		.resume = hubspot_resume, \
		.prepare_http = hubspot_prepare, \
	}

HUBSPOT_NODE(fl_node_hubspot_create_contact, "hubspot-create-contact");
HUBSPOT_NODE(fl_node_hubspot_update_deal, "hubspot-update-deal");
HUBSPOT_NODE(fl_node_hubspot_add_note, "hubspot-add-note");
HUBSPOT_NODE(fl_node_hubspot_search_contacts, "hubspot-search-contacts");
