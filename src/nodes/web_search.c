/*
 * web_search.c
 *	  The web-search node: one query to Brave, DuckDuckGo or Google, the
 *	  results normalised to {results: [{title, url, snippet}]}.
 *
 * provider brave (GET <baseUrl>?q=&count=, header X-Subscription-Token; the
 * credential a string or {apiKey}), duckduckgo (the Instant Answer API,
 * GET <baseUrl>?q=&format=json&no_html=1&skip_disambig=1, no key: the
 * abstract, then the related topics, nested ones flattened) or google (the
 * Custom Search JSON API, GET <baseUrl>?key=&cx=&q=&num=, the credential
 * {apiKey, cx}); baseUrl defaults to the provider's own; count (1-50,
 * default 10; Google gives at most 10 a call); timeoutMs.  Output {results,
 * provider, query}.  Errors as for every JSON API node (fl_http_api_answer):
 * 401/403 CREDENTIAL_INVALID, 429/5xx and unreachable HTTP_ERROR
 * (retryable), another refusal INVALID_CONFIG; a body that is not the
 * provider's format HTTP_ERROR naming what was missing.  Asynchronous runs
 * make the call in the worker's curl multi loop.
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "nodes/fl_nodes.h"
#include "pg/http.h"
#include "pg/http_async.h"
#include "pg/jsonb_util.h"

typedef enum
{
	BRAVE,
	DUCKDUCKGO,
	GOOGLE
} Provider;

static const char *const provider_names[] = {"brave", "duckduckgo", "google"};
static const char *const default_urls[] = {
	"https://api.search.brave.com/res/v1/web/search",
	"https://api.duckduckgo.com/",
	"https://www.googleapis.com/customsearch/v1",
};

static bool
provider_of(FlNodeCall *call, FlNodeResult *res, Provider *p)
{
	char	   *name;

	if (!fl_cfg_string(call, res, "provider", true, &name))
		return false;
	for (int i = 0; i < 3; i++)
		if (strcmp(name, provider_names[i]) == 0)
		{
			*p = (Provider) i;
			return true;
		}
	fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"provider\" must be brave, duckduckgo or google, got \"%s\"",
			call->def->id, name);
	return false;
}

/* a credential's string, or its `key` member */
static char *
credential_part(JsonbValue *cred, const char *key)
{
	JsonbValue	v;

	if (cred->type == jbvString && strcmp(key, "apiKey") == 0)
		return jbv_cstring(cred);
	if (jbv_is_object(cred) && jbv_get_key(cred, key, &v) && v.type == jbvString && v.val.string.len > 0)
		return jbv_cstring(&v);
	return NULL;
}

static void
add_param(StringInfo q, const char *name, const char *value)
{
	appendStringInfoChar(q, q->len > 0 ? '&' : '?');
	fl_http_append_urlencoded(q, name);
	appendStringInfoChar(q, '=');
	fl_http_append_urlencoded(q, value);
}

static bool
search_prepare(FlNodeCall *call, FlHttpRequest *reqp, FlNodeResult *res)
{
	const char *id = call->def->id;
	FlHttpRequest req;
	Provider	p;
	char	   *query,
			   *base,
			   *cred_name,
			   *key = NULL,
			   *cx = NULL;
	int64		count;
	StringInfoData q;

	memset(&req, 0, sizeof(req));
	memset(reqp, 0, sizeof(*reqp));
	req.node_id = id;
	req.method = pstrdup("GET");
	req.max_response_bytes = fl_http_max_response_bytes;
	req.idempotency_key = fl_http_idempotency_key(call);
	if (!provider_of(call, res, &p) ||
		!fl_cfg_string(call, res, "query", true, &query) ||
		!fl_cfg_string(call, res, "baseUrl", false, &base) ||
		!fl_cfg_string(call, res, "credential", false, &cred_name) ||
		!fl_cfg_int(call, res, "count", 10, 1, 50, &count) ||
		!fl_http_config_timeout(call, res, &req))
		return false;
	if (query[0] == '\0')
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"query\" must not be empty", id);
		return false;
	}
	if (cred_name)
	{
		JsonbValue	cred;

		if (!fl_node_credential(call, res, cred_name, &cred))
			return false;
		key = credential_part(&cred, "apiKey");
		cx = credential_part(&cred, "cx");
	}
	if (p == BRAVE && key == NULL)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": provider brave needs \"credential\": the name of a credential with the API key (a string or {apiKey})", id);
		return false;
	}
	if (p == GOOGLE && (key == NULL || cx == NULL))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": provider google needs \"credential\": the name of a credential {apiKey, cx}", id);
		return false;
	}

	initStringInfo(&q);
	if (p == GOOGLE)
	{
		add_param(&q, "key", key);
		add_param(&q, "cx", cx);
	}
	add_param(&q, "q", query);
	if (p == BRAVE)
		add_param(&q, "count", psprintf(INT64_FORMAT, count));
	else if (p == GOOGLE)
		add_param(&q, "num", psprintf(INT64_FORMAT, Min(count, 10)));
	else
	{
		add_param(&q, "format", "json");
		add_param(&q, "no_html", "1");
		add_param(&q, "skip_disambig", "1");
	}
	if (!fl_http_parse_url(call, res, "baseUrl", psprintf("%s%s", base ? base : default_urls[p], q.data), &req.url))
		return false;
	req.headers = fl_http_set_header(req.headers, "Accept", "application/json");
	if (p == BRAVE)
		req.headers = fl_http_set_header(req.headers, "X-Subscription-Token", key);
	*reqp = req;
	return true;
}

static void
add_result(JB *b, const char *title, const char *url, const char *snippet)
{
	jb_obj_begin(b);
	jb_kv_str(b, "title", title ? title : "");
	jb_kv_str(b, "url", url ? url : "");
	jb_kv_str(b, "snippet", snippet ? snippet : "");
	jb_obj_end(b);
}

static char *
str_key(JsonbValue *obj, const char *key)
{
	JsonbValue	v;

	return jbv_is_object(obj) && jbv_get_key(obj, key, &v) && v.type == jbvString ? jbv_cstring(&v) : NULL;
}

/* DuckDuckGo's related topics, nested groups ({Name, Topics}) flattened; up to *left */
static void
ddg_topics(JB *b, JsonbValue *topics, int *left)
{
	JsonbValue	t,
				sub;

	for (int i = 0; *left > 0 && jbv_get_index(topics, i, &t); i++)
	{
		char	   *text,
				   *dash;

		if (jbv_is_object(&t) && jbv_get_key(&t, "Topics", &sub) && jbv_is_array(&sub))
		{
			ddg_topics(b, &sub, left);
			continue;
		}
		text = str_key(&t, "Text");
		if (text == NULL || str_key(&t, "FirstURL") == NULL)
			continue;
		/* "Title - what it is": the part before the dash is the title */
		dash = strstr(text, " - ");
		add_result(b, dash ? pnstrdup(text, dash - text) : text, str_key(&t, "FirstURL"), text);
		(*left)--;
	}
}

static void
search_result(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res)
{
	const char *id = call->def->id;
	Provider	p;
	Jsonb	   *body;
	JsonbValue	list,
				web,
				it;
	int64		count;
	int			left;
	JB			b = {0};
	const char *missing = NULL;

	if (!provider_of(call, res, &p) || !fl_cfg_int(call, res, "count", 10, 1, 50, &count))
		return;
	if (!fl_http_api_answer(req, resp, code, res, psprintf("%s search API", provider_names[p]), "HTTP_ERROR", &body))
		return;
	left = (int) count;
	jb_obj_begin(&b);
	jb_key(&b, "results");
	jb_arr_begin(&b);
	if (body == NULL)
		missing = "a JSON body";
	else if (p == BRAVE)
	{
		if (!jb_get(body, "web", &web) || !jbv_is_object(&web) || !jbv_get_key(&web, "results", &list) || !jbv_is_array(&list))
			missing = "web.results";
		else
			for (int i = 0; left > 0 && jbv_get_index(&list, i, &it); i++, left--)
				add_result(&b, str_key(&it, "title"), str_key(&it, "url"), str_key(&it, "description"));
	}
	else if (p == GOOGLE)
	{
		/* no items: Google's way of saying nothing matched */
		if (jb_get(body, "items", &list) && jbv_is_array(&list))
			for (int i = 0; left > 0 && jbv_get_index(&list, i, &it); i++, left--)
				add_result(&b, str_key(&it, "title"), str_key(&it, "link"), str_key(&it, "snippet"));
		else if (!jb_get(body, "searchInformation", &it) && !jb_get(body, "queries", &it))
			missing = "items";
	}
	else
	{
		char	   *abstract_url = jb_get_cstring(body, "AbstractURL");

		if (!jb_get(body, "RelatedTopics", &list) || !jbv_is_array(&list))
			missing = "RelatedTopics";
		else
		{
			if (abstract_url && abstract_url[0])
			{
				add_result(&b, jb_get_cstring(body, "Heading"), abstract_url, jb_get_cstring(body, "AbstractText"));
				left--;
			}
			ddg_topics(&b, &list, &left);
		}
	}
	if (missing)
	{
		fl_fail(res, "HTTP_ERROR", "node \"%s\": the %s search API's answer is not its search response (no %s): %.200s",
				id, provider_names[p], missing, resp->body ? pnstrdup(resp->body, Min(resp->body_len, 200)) : "(empty)");
		return;
	}
	jb_arr_end(&b);
	jb_kv_str(&b, "provider", provider_names[p]);
	jb_kv_str(&b, "query", jb_get_cstring(call->config, "query"));
	jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), NULL);
}

static void
search_execute(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_sync(call, res, search_prepare, search_result);
}

static void
search_resume(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_resume(call, res, search_prepare, search_result);
}

const FlNodeType fl_node_web_search = {
	.type = "web-search",
	.flags = FL_NT_EXTERNAL,
	.sql_error_code = NULL,
	.execute = search_execute,
	.resume = search_resume,
	.prepare_http = search_prepare,
};
