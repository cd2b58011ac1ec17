/*
 * http_config.c
 *	  Building an FlHttpRequest from a node's resolved config: method, URL
 *	  and query, headers, body, auth from credentials, timeout, accepted
 *	  statuses, Idempotency-Key.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include "access/xact.h"
#include "common/base64.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/wait_event.h"

#include "nodes/fl_nodes.h"
#include "pg/engine.h"
#include "pg/http.h"
#include "pg/jsonb_util.h"



/* ---------------------------------------------------------------- request */

/* Percent-encode s (RFC 3986 unreserved characters kept) onto buf. */
void
fl_http_append_urlencoded(StringInfo buf, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			appendStringInfoChar(buf, (char) *p);
		else
		{
			appendStringInfoChar(buf, '%');
			appendStringInfoChar(buf, hex[*p >> 4]);
			appendStringInfoChar(buf, hex[*p & 15]);
		}
	}
}

/* Is a header name a valid HTTP token? */
static bool
valid_header_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char) *s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

bool
fl_http_has_header(List *headers, const char *name)
{
	ListCell   *lc;
	size_t		nl = strlen(name);

	foreach(lc, headers)
	{
		const char *h = lfirst(lc);

		if (pg_strncasecmp(h, name, nl) == 0 && h[nl] == ':')
			return true;
	}
	return false;
}

/* Replace (or add) a header. */
List *
fl_http_set_header(List *headers, const char *name, const char *value)
{
	ListCell   *lc;
	size_t		nl = strlen(name);

	foreach(lc, headers)
	{
		const char *h = lfirst(lc);

		if (pg_strncasecmp(h, name, nl) == 0 && h[nl] == ':')
			headers = foreach_delete_current(headers, lc);
	}
	return lappend(headers, psprintf("%s: %s", name, value));
}

/*
 * Check a URL: absolute, http or https, with a host.  *out is the URL as
 * curl normalises it (palloc'd).
 */
bool
fl_http_parse_url(FlNodeCall *call, FlNodeResult *res, const char *field,
				  const char *url, char **out)
{
	CURLU	   *u = curl_url();
	CURLUcode	uc;
	char	   *scheme = NULL;
	char	   *host = NULL;
	char	   *norm = NULL;
	bool		ok = false;
	const char *why = NULL;

	*out = NULL;
	if (u == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK)
		why = curl_url_strerror(uc);
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
			 (pg_strcasecmp(scheme, "http") != 0 && pg_strcasecmp(scheme, "https") != 0))
		why = "only http and https URLs are allowed";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0')
		why = "the URL has no host";
	else if (curl_url_get(u, CURLUPART_URL, &norm, 0) != CURLUE_OK)
		why = "the URL cannot be used";
	else
		ok = true;
	if (ok)
		*out = pstrdup(norm);
	curl_free(scheme);
	curl_free(host);
	curl_free(norm);
	curl_url_cleanup(u);
	if (!ok)
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" is not a valid http(s) URL: %s",
				call->def->id, field, why);
	return ok;
}

/* Text of a scalar for headers and query strings; false for containers. */
static bool
scalar_text(const JsonbValue *v, char **out)
{
	if (v->type == jbvBinary || v->type == jbvObject || v->type == jbvArray)
		return false;
	*out = jbv_to_text(v);
	return true;
}

/* `headers`: an object of scalar values (null skipped). */
bool
fl_http_config_headers(FlNodeCall *call, FlNodeResult *res, List **headers)
{
	JsonbValue	v;
	JsonbIterator *it;
	JsonbValue	k,
				val;
	JsonbIteratorToken tok;

	if (!fl_cfg_value(call, "headers", &v) || v.type == jbvNull)
		return true;
	if (!jbv_is_object(&v) || v.type != jbvBinary)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"headers\" must be an object of header names and values, got %s",
				call->def->id, jbv_type_name(&v));
		return false;
	}
	it = JsonbIteratorInit(v.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *name;
		char	   *value;

		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &val, true);
		name = jbv_cstring(&k);
		if (val.type == jbvNull)
			continue;
		if (!valid_header_name(name))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": header name \"%s\" is not a valid HTTP header name",
					call->def->id, name);
			return false;
		}
		if (!scalar_text(&val, &value))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": header \"%s\" must be a string, number or boolean, got %s",
					call->def->id, name, jbv_type_name(&val));
			return false;
		}
		if (strpbrk(value, "\r\n") != NULL)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": header \"%s\" must not contain line breaks",
					call->def->id, name);
			return false;
		}
		*headers = fl_http_set_header(*headers, name, value);
	}
	return true;
}

/* One acceptStatus element: an integer 100..599, or "Nxx". */
static bool
parse_accept(const JsonbValue *el, FlHttpStatusRange *r)
{
	if (el->type == jbvNumeric)
	{
		char	   *s = numeric_normalize(el->val.numeric);
		char	   *end;
		long		x;

		errno = 0;
		x = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0' || x < 100 || x > 599)
			return false;
		r->lo = r->hi = (int) x;
		return true;
	}
	if (el->type == jbvString)
	{
		char	   *s = jbv_cstring(el);

		if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
			(s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X'))
		{
			r->lo = (s[0] - '0') * 100;
			r->hi = r->lo + 99;
			return true;
		}
		if (strlen(s) == 3 && isdigit((unsigned char) s[0]) && isdigit((unsigned char) s[1]) &&
			isdigit((unsigned char) s[2]) && atoi(s) >= 100 && atoi(s) <= 599)
		{
			r->lo = r->hi = atoi(s);
			return true;
		}
	}
	return false;
}

/* `acceptStatus`: list of statuses (or "4xx" classes); default 2xx. */
bool
fl_http_config_accept(FlNodeCall *call, FlNodeResult *res, FlHttpRequest *req)
{
	JsonbValue	v;
	int			n;

	req->accept = NULL;
	req->naccept = 0;
	if (!fl_cfg_value(call, "acceptStatus", &v) || v.type == jbvNull)
		return true;
	if (!jbv_is_array(&v) || v.type != jbvBinary)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"acceptStatus\" must be an array of HTTP statuses, got %s",
				call->def->id, jbv_type_name(&v));
		return false;
	}
	n = jbv_array_size(&v);
	req->accept = palloc0(sizeof(FlHttpStatusRange) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		JsonbValue	el;

		jbv_get_index(&v, i, &el);
		if (!parse_accept(&el, &req->accept[i]))
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"acceptStatus\" element %d must be a status 100 to 599 or a class like \"4xx\", got %s",
					call->def->id, i, el.type == jbvString || el.type == jbvNumeric ? jbv_to_text(&el) : jbv_type_name(&el));
			return false;
		}
	}
	req->naccept = n;
	return true;
}

/* `timeoutMs`: default flowent.http_timeout_ms (0 too). */
bool
fl_http_config_timeout(FlNodeCall *call, FlNodeResult *res, FlHttpRequest *req)
{
	int64		t;

	if (!fl_cfg_int(call, res, "timeoutMs", 0, 0, 3600000, &t))
		return false;
	req->timeout_ms = t > 0 ? (int) t : fl_http_timeout_ms;
	return true;
}

/* <executionId>:<nodeId>:<iteration> ("0" outside loops) */
char *
fl_http_idempotency_key(FlNodeCall *call)
{
	FlExec	   *ex = call->ex;

	return psprintf("%s:%s:%s", ex->id_str, call->def->id,
					ex->iteration[0] ? ex->iteration : "0");
}

/* Remember a derived secret (e.g. an encoded Authorization value) for scrubbing. */
static void
remember_text(FlExec *ex, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	fl_remember_secret(ex, &v);
}

/* A string member of a credential object, or NULL. */
static char *
cred_member(const JsonbValue *cred, const char *const *names)
{
	JsonbValue	m;

	for (int i = 0; names[i]; i++)
		if (jbv_get_key(cred, names[i], &m) && m.type == jbvString)
			return jbv_cstring(&m);
	return NULL;
}

/* base64("user:password") of a credential fit for basic auth, or NULL. */
static char *
basic_auth_value(const JsonbValue *cred)
{
	static const char *const user_keys[] = {"username", "user", NULL};
	static const char *const pass_keys[] = {"password", NULL};
	char	   *pair = NULL;
	int			elen;
	char	   *enc;

	if (cred->type == jbvString && strchr(jbv_cstring(cred), ':'))
		pair = jbv_cstring(cred);
	else if (jbv_is_object(cred))
	{
		char	   *user = cred_member(cred, user_keys);
		char	   *pass = cred_member(cred, pass_keys);

		if (user && pass)
			pair = psprintf("%s:%s", user, pass);
	}
	if (pair == NULL)
		return NULL;
	elen = pg_b64_enc_len(strlen(pair));
	enc = palloc(elen + 1);
	elen = pg_b64_encode(pair, strlen(pair), enc, elen);
	if (elen < 0)
		elog(ERROR, "could not encode basic auth credentials");
	enc[elen] = '\0';
	return enc;
}

/*
 * A continuation scrubs what the request derived from a credential too:
 * its basic-auth encoding (a bearer header contains the credential itself).
 */
void
fl_http_remember_derived(FlExec *ex, const JsonbValue *cred)
{
	char	   *enc = basic_auth_value(cred);

	if (enc)
		remember_text(ex, enc);
}

/*
 * `auth: {type: bearer|basic, credential: NAME}` → Authorization header.
 * bearer: the credential is a string, or an object with token / apiKey / key.
 * basic: an object {username (or user), password}, or a "user:password" string.
 */
static bool
config_auth(FlNodeCall *call, FlNodeResult *res, FlHttpRequest *req)
{
	static const char *const token_keys[] = {"token", "apiKey", "key", "secret", NULL};
	const char *id = call->def->id;
	JsonbValue	auth,
				m,
				cred;
	char	   *type;
	char	   *name;
	char	   *value;

	if (!fl_cfg_value(call, "auth", &auth) || auth.type == jbvNull)
		return true;
	if (!jbv_is_object(&auth))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"auth\" must be an object {type, credential}, got %s",
				id, jbv_type_name(&auth));
		return false;
	}
	if (!jbv_get_key(&auth, "type", &m) || m.type != jbvString ||
		(strcmp(type = jbv_cstring(&m), "bearer") != 0 && strcmp(type, "basic") != 0))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"auth.type\" must be \"bearer\" or \"basic\"", id);
		return false;
	}
	if (!jbv_get_key(&auth, "credential", &m) || m.type != jbvString || m.val.string.len == 0)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"auth.credential\" must be the name of a credential (see flowent.set_credential)", id);
		return false;
	}
	name = jbv_cstring(&m);
	if (!fl_node_credential(call, res, name, &cred))
		return false;

	if (strcmp(type, "bearer") == 0)
	{
		char	   *token = cred.type == jbvString ? jbv_cstring(&cred) :
			jbv_is_object(&cred) ? cred_member(&cred, token_keys) : NULL;

		if (token == NULL || token[0] == '\0')
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be a string or an object with \"token\" for bearer auth",
					id, name);
			return false;
		}
		value = psprintf("Bearer %s", token);
	}
	else
	{
		char	   *enc = basic_auth_value(&cred);

		if (enc == NULL)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be an object {username, password} or a \"user:password\" string for basic auth",
					id, name);
			return false;
		}
		remember_text(call->ex, enc);
		value = psprintf("Basic %s", enc);
	}
	if (strpbrk(value, "\r\n"))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must not contain line breaks", id, name);
		return false;
	}
	remember_text(call->ex, value);
	req->headers = fl_http_set_header(req->headers, "Authorization", value);
	return true;
}

bool
fl_http_request_from_config(FlNodeCall *call, FlHttpRequest *req, FlNodeResult *res)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
	const char *id = call->def->id;
	char	   *method;
	char	   *url;
	JsonbValue	v;

	memset(req, 0, sizeof(*req));
	req->node_id = id;
	req->max_response_bytes = fl_http_max_response_bytes;
	req->idempotency_key = fl_http_idempotency_key(call);

	if (!fl_cfg_string(call, res, "method", false, &method))
		return false;
	if (method == NULL)
		method = "GET";
	req->method = NULL;
	for (int i = 0; methods[i]; i++)
		if (pg_strcasecmp(method, methods[i]) == 0)
			req->method = pstrdup(methods[i]);
	if (req->method == NULL)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"method\" must be GET, POST, PUT, PATCH or DELETE, got \"%s\"",
				id, method);
		return false;
	}

	if (!fl_cfg_string(call, res, "url", true, &url))
		return false;
	if (!fl_http_parse_url(call, res, "url", url, &req->url))
		return false;

	/* query: appended URL-encoded; arrays repeat the key, null is left out */
	if (fl_cfg_value(call, "query", &v) && v.type != jbvNull)
	{
		StringInfoData q;
		JsonbIterator *it;
		JsonbValue	k,
					val;
		JsonbIteratorToken tok;
		char	   *hash;
		char	   *base;

		if (!jbv_is_object(&v) || v.type != jbvBinary)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"query\" must be an object of parameter names and values, got %s",
					id, jbv_type_name(&v));
			return false;
		}
		initStringInfo(&q);
		it = JsonbIteratorInit(v.val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			char	   *name;
			int			n;

			if (tok != WJB_KEY)
				continue;
			JsonbIteratorNext(&it, &val, true);
			name = jbv_cstring(&k);
			n = jbv_is_array(&val) ? jbv_array_size(&val) : 1;
			for (int i = 0; i < n; i++)
			{
				JsonbValue	el = val;
				char	   *text;

				if (jbv_is_array(&val))
					jbv_get_index(&val, i, &el);
				if (el.type == jbvNull)
					continue;
				text = jbv_to_text(&el);	/* objects: compact JSON */
				if (q.len > 0)
					appendStringInfoChar(&q, '&');
				fl_http_append_urlencoded(&q, name);
				appendStringInfoChar(&q, '=');
				fl_http_append_urlencoded(&q, text);
			}
		}
		if (q.len > 0)
		{
			base = req->url;
			hash = strchr(base, '#');
			if (hash)
				*hash = '\0';
			req->url = psprintf("%s%s%s", base, strchr(base, '?') ? (base[strlen(base) - 1] == '?' ? "" : "&") : "?",
								q.data);
		}
	}

	if (!fl_http_config_headers(call, res, &req->headers))
		return false;

	/* body: containers and numbers as JSON, strings as they are */
	if (fl_cfg_value(call, "body", &v) && v.type != jbvNull)
	{
		if (v.type == jbvString)
		{
			req->body = jbv_cstring(&v);
			if (!fl_http_has_header(req->headers, "Content-Type"))
				req->headers = lappend(req->headers, pstrdup("Content-Type: text/plain; charset=utf-8"));
		}
		else
		{
			req->body = jsonb_to_compact(jbv_to_jsonb(&v));
			if (!fl_http_has_header(req->headers, "Content-Type"))
				req->headers = lappend(req->headers, pstrdup("Content-Type: application/json"));
		}
		req->body_len = strlen(req->body);
	}

	if (!config_auth(call, res, req))
		return false;
	if (!fl_http_config_timeout(call, res, req))
		return false;
	if (!fl_http_config_accept(call, res, req))
		return false;
	return true;
}

