/*
 * http.c
 *	  Outbound HTTP with libcurl: easy-handle setup, response mapping and the
 *	  synchronous transfer used by flowent.run (settings and the address
 *	  policy are in http_policy.c, requests from config in http_config.c).
 *
 * Memory: the callbacks curl calls never palloc and never ereport; they
 * malloc into FlHttpResponse, which fl_http_response_free() releases.  Code
 * that may ereport between a transfer and that free wraps it in PG_FINALLY
 * (fl_http_execute).  The policy check runs in CURLOPT_OPENSOCKETFUNCTION, on
 * the address curl is about to connect to, for every connection of the
 * transfer: redirects, every DNS answer, IPv6 and the IPv4 forms embedded in
 * it are all seen as the numeric peer address.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include "access/xact.h"
#include "core/mail.h"
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
#include "pg/http_async.h"
#include "pg/jsonb_util.h"
#include "pg/subxact.h"

#define FL_HTTP_MAX_REDIRS 5
#define FL_HTTP_MAX_HEADER_BYTES (1024 * 1024)
#define FL_HTTP_EXCERPT 512
#define FL_HTTP_USER_AGENT "flowent/0.1"


/* ---------------------------------------------------------------- transfer */

void
fl_http_response_init(FlHttpResponse *resp)
{
	memset(resp, 0, sizeof(*resp));
}

void
fl_http_response_free(FlHttpResponse *resp)
{
	if (resp->req_headers)
		curl_slist_free_all(resp->req_headers);
	if (resp->mail_rcpts)
		curl_slist_free_all(resp->mail_rcpts);
	free(resp->body);
	free(resp->hdr);
	free(resp->effective_url);
	free(resp->upload);
	resp->mail_rcpts = NULL;
	resp->upload = NULL;
	resp->upload_len = resp->upload_pos = 0;
	resp->req_headers = NULL;
	resp->body = NULL;
	resp->hdr = NULL;
	resp->effective_url = NULL;
	resp->body_len = resp->body_cap = resp->hdr_len = resp->hdr_cap = 0;
}

/* Grow a malloc'd buffer to hold need bytes (+1 for a NUL); false on OOM. */
static bool
buf_reserve(char **buf, size_t *cap, size_t need)
{
	size_t		ncap;
	char	   *nb;

	if (need + 1 <= *cap)
		return true;
	ncap = *cap ? *cap : 16384;
	while (ncap < need + 1)
		ncap *= 2;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		return false;
	*buf = nb;
	*cap = ncap;
	return true;
}

/* CURLOPT_WRITEFUNCTION: append to the body, up to the cap. */
static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	FlHttpResponse *resp = ud;
	size_t		n = size * nmemb;

	if (resp->body_len + n > resp->max_body)
	{
		resp->too_large = true;
		return 0;
	}
	if (!buf_reserve(&resp->body, &resp->body_cap, resp->body_len + n))
	{
		resp->oom = true;
		return 0;
	}
	memcpy(resp->body + resp->body_len, ptr, n);
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return n;
}

/* CURLOPT_HEADERFUNCTION: keep the header lines of the latest response. */
static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	FlHttpResponse *resp = ud;
	size_t		n = size * nmemb;

	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
	{
		/* a new response (redirect, 100 Continue): forget the previous one */
		resp->hdr_len = 0;
		resp->body_len = 0;
	}
	if (resp->hdr_len + n > FL_HTTP_MAX_HEADER_BYTES)
	{
		resp->too_large = true;
		return 0;
	}
	if (!buf_reserve(&resp->hdr, &resp->hdr_cap, resp->hdr_len + n))
	{
		resp->oom = true;
		return 0;
	}
	memcpy(resp->hdr + resp->hdr_len, ptr, n);
	resp->hdr_len += n;
	resp->hdr[resp->hdr_len] = '\0';
	return n;
}

/*
 * The host of the URL curl is working on (malloc'd by curl, or NULL); an
 * IPv6 literal without its brackets.
 */
static char *
current_host(CURL *h)
{
	char	   *url = NULL;
	char	   *host = NULL;
	CURLU	   *u;

	if (h == NULL || curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL)
		return NULL;
	u = curl_url();
	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		host = NULL;
	curl_url_cleanup(u);
	if (host && host[0] == '[')
	{
		size_t		l = strlen(host);

		memmove(host, host + 1, l - 1);
		host[l - 2] = '\0';
	}
	return host;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: the policy check on the resolved peer address
 * of every connection.  A refusal is remembered (first one) and curl sees a
 * failed socket, so it tries the next address or fails the transfer.
 */
static curl_socket_t
opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *address)
{
	FlHttpResponse *resp = ud;
	const char *why = NULL;
	char	   *host;
	bool		ok;

	host = current_host(resp->easy);
	ok = purpose == CURLSOCKTYPE_IPCXN &&
		fl_http_address_allowed(&address->addr, host, &why);
	if (!ok)
	{
		if (!resp->refused)
		{
			const void *a = NULL;

			resp->refused = true;
			resp->refused_why = purpose == CURLSOCKTYPE_IPCXN ? why : "not a plain connection";
			strlcpy(resp->refused_host, host ? host : "?", sizeof(resp->refused_host));
			if (address->family == AF_INET)
				a = &((struct sockaddr_in *) &address->addr)->sin_addr;
			else if (address->family == AF_INET6)
				a = &((struct sockaddr_in6 *) &address->addr)->sin6_addr;
			if (a == NULL || inet_ntop(address->family, a, resp->refused_addr,
									   sizeof(resp->refused_addr)) == NULL)
				strlcpy(resp->refused_addr, "?", sizeof(resp->refused_addr));
		}
		curl_free(host);
		return CURL_SOCKET_BAD;
	}
	curl_free(host);
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/*
 * CURLOPT_PREREQFUNCTION: the same check just before each request is sent,
 * so a connection reused from the cache (opened under an older allow list)
 * is judged again by the current one.
 */
static int
prereq_cb(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	FlHttpResponse *resp = ud;
	struct sockaddr_storage ss;
	const char *why = NULL;
	char	   *host;
	bool		ok;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, primary_ip, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, primary_ip, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		ss.ss_family = AF_UNSPEC;
	host = current_host(resp->easy);
	ok = fl_http_address_allowed((struct sockaddr *) &ss, host, &why);
	if (!ok && !resp->refused)
	{
		resp->refused = true;
		resp->refused_why = why;
		strlcpy(resp->refused_host, host ? host : "?", sizeof(resp->refused_host));
		strlcpy(resp->refused_addr, primary_ip, sizeof(resp->refused_addr));
	}
	curl_free(host);
	return ok ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

#define SETOPT(opt, val) \
	do { if ((rc = curl_easy_setopt(h, opt, val)) != CURLE_OK) return rc; } while (0)

/* Every connection under the outbound policy (opensocket_cb, prereq_cb); errors into resp. */
static CURLcode
policy_setup(CURL *h, FlHttpResponse *resp)
{
	CURLcode	rc;

	SETOPT(CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	SETOPT(CURLOPT_OPENSOCKETDATA, resp);
	SETOPT(CURLOPT_PREREQFUNCTION, prereq_cb);
	SETOPT(CURLOPT_PREREQDATA, resp);
	SETOPT(CURLOPT_ERRORBUFFER, resp->errbuf);
	resp->errbuf[0] = '\0';
	return CURLE_OK;
}

/* A mail's message, read by curl as it uploads it. */
static size_t
upload_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	FlHttpResponse *resp = ud;
	size_t		n = Min(size * nitems, resp->upload_len - resp->upload_pos);

	memcpy(buf, resp->upload + resp->upload_pos, n);
	resp->upload_pos += n;
	return n;
}

/*
 * A mail (req->smtp): MAIL FROM, RCPT TO each recipient, the body as the
 * message (curl escapes its dots); STARTTLS when an smtp:// server offers
 * it; the connection under the outbound policy, as for HTTP.
 */
static CURLcode
smtp_setup(CURL *h, FlHttpRequest *req, FlHttpResponse *resp)
{
	CURLcode	rc;
	ListCell   *lc;

	if (resp->mail_rcpts)
		curl_slist_free_all(resp->mail_rcpts);
	resp->mail_rcpts = NULL;
	foreach(lc, req->smtp->rcpts)
	{
		struct curl_slist *n = curl_slist_append(resp->mail_rcpts, (const char *) lfirst(lc));

		if (n == NULL)
			return CURLE_OUT_OF_MEMORY;
		resp->mail_rcpts = n;
	}
	free(resp->upload);
	resp->upload = malloc(req->body_len + 1);
	if (resp->upload == NULL)
		return CURLE_OUT_OF_MEMORY;
	memcpy(resp->upload, req->body, req->body_len);
	resp->upload_len = req->body_len;
	resp->upload_pos = 0;

	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_TIMEOUT_MS, (long) (req->timeout_ms > 0 ? req->timeout_ms : fl_http_timeout_ms));
	if ((rc = policy_setup(h, resp)) != CURLE_OK)
		return rc;
	SETOPT(CURLOPT_MAIL_FROM, req->smtp->from);
	SETOPT(CURLOPT_MAIL_RCPT, resp->mail_rcpts);
	SETOPT(CURLOPT_READFUNCTION, upload_cb);
	SETOPT(CURLOPT_READDATA, resp);
	SETOPT(CURLOPT_UPLOAD, 1L);
	SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t) resp->upload_len);
	if (strncmp(req->url, "smtp://", 7) == 0)
		SETOPT(CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
	if (req->smtp->username)
	{
		SETOPT(CURLOPT_USERNAME, req->smtp->username);
		SETOPT(CURLOPT_PASSWORD, req->smtp->password ? req->smtp->password : "");
	}
	return CURLE_OK;
}

CURLcode
fl_http_easy_setup(CURL *h, FlHttpRequest *req, FlHttpResponse *resp)
{
	CURLcode	rc;
	ListCell   *lc;
	struct curl_slist *sl = NULL;
	bool		has_body = req->body != NULL;
	bool		sends_body = has_body || strcmp(req->method, "POST") == 0 ||
		strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0;

	resp->easy = h;
	resp->max_body = req->max_response_bytes > 0 ? (size_t) req->max_response_bytes
		: (size_t) fl_http_max_response_bytes;
	if (req->smtp)
		return smtp_setup(h, req, resp);

	/* headers: the request's, then what we add unless it set them */
	foreach(lc, req->headers)
	{
		struct curl_slist *n = curl_slist_append(sl, (const char *) lfirst(lc));

		if (n == NULL)
			goto oom;
		sl = n;
	}
#define ADD_HEADER(line) \
	do { struct curl_slist *n_ = curl_slist_append(sl, (line)); if (n_ == NULL) goto oom; sl = n_; } while (0)
	if (req->idempotency_key && !fl_http_has_header(req->headers, "Idempotency-Key"))
	{
		char	   *line = psprintf("Idempotency-Key: %s", req->idempotency_key);

		ADD_HEADER(line);
		pfree(line);
	}
	if (!fl_http_has_header(req->headers, "Expect"))
		ADD_HEADER("Expect:");	/* no 100-continue round trip */
	if (sends_body && !fl_http_has_header(req->headers, "Content-Type"))
		ADD_HEADER("Content-Type:");	/* not curl's form default */
#undef ADD_HEADER
	if (resp->req_headers)
		curl_slist_free_all(resp->req_headers);
	resp->req_headers = sl;

	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(CURLOPT_MAXREDIRS, (long) FL_HTTP_MAX_REDIRS);
	SETOPT(CURLOPT_PROXY, "");	/* the policy is about the real peer */
	SETOPT(CURLOPT_TIMEOUT_MS, (long) (req->timeout_ms > 0 ? req->timeout_ms : fl_http_timeout_ms));
	SETOPT(CURLOPT_USERAGENT, FL_HTTP_USER_AGENT);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");	/* the cap applies to decoded bytes */
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) resp->max_body);
	SETOPT(CURLOPT_HTTPHEADER, resp->req_headers);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, resp);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, resp);
	if ((rc = policy_setup(h, resp)) != CURLE_OK)
		return rc;

	if (strcmp(req->method, "GET") == 0 && !has_body)
		SETOPT(CURLOPT_HTTPGET, 1L);
	else
	{
		if (strcmp(req->method, "POST") == 0)
			SETOPT(CURLOPT_POST, 1L);
		else
			SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
		if (sends_body)
		{
			SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (has_body ? req->body_len : 0));
			SETOPT(CURLOPT_COPYPOSTFIELDS, has_body ? req->body : "");
		}
	}
	return CURLE_OK;

oom:
	if (sl)
		curl_slist_free_all(sl);
	return CURLE_OUT_OF_MEMORY;
}

#undef SETOPT

void
fl_http_finish(CURL *h, FlHttpResponse *resp)
{
	long		status = 0;
	char	   *url = NULL;

	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
		resp->status = status;
	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
	{
		free(resp->effective_url);
		resp->effective_url = strdup(url);
	}
}

/* ---------------------------------------------------------------- response */

typedef struct HeaderPair
{
	char	   *name;			/* lower case */
	char	   *value;
	int			order;
} HeaderPair;

static int
header_pair_cmp(const void *a, const void *b)
{
	const HeaderPair *x = a,
			   *y = b;
	int			c = strcmp(x->name, y->name);

	return c != 0 ? c : x->order - y->order;
}

/* Text that is valid in the database encoding (bytes ≥ 0x80 become '?' otherwise). */
static char *
safe_text(const char *s, size_t len)
{
	char	   *out = pnstrdup(s, len);

	if (!pg_verifymbstr(out, strlen(out), true))
		for (char *p = out; *p; p++)
			if ((unsigned char) *p >= 0x80)
				*p = '?';
	return out;
}

/* Parse the raw header block into pairs; returns the count. */
static int
parse_headers(FlHttpResponse *resp, HeaderPair **out)
{
	HeaderPair *pairs;
	int			n = 0,
				max = 16;
	const char *p = resp->hdr;
	const char *end = resp->hdr ? resp->hdr + resp->hdr_len : NULL;

	pairs = palloc(sizeof(HeaderPair) * max);
	while (p && p < end)
	{
		const char *eol = memchr(p, '\n', end - p);
		const char *lend = eol ? eol : end;
		const char *colon;
		size_t		llen;

		while (lend > p && (lend[-1] == '\r' || lend[-1] == '\n'))
			lend--;
		llen = lend - p;
		if (llen == 0 || (llen >= 5 && memcmp(p, "HTTP/", 5) == 0))
			goto next;
		if ((*p == ' ' || *p == '\t') && n > 0)
		{
			/* obsolete line folding: continue the previous value */
			HeaderPair *last = &pairs[n - 1];

			last->value = psprintf("%s %s", last->value, safe_text(p, llen));
			goto next;
		}
		colon = memchr(p, ':', llen);
		if (colon == NULL || colon == p)
			goto next;
		if (n == max)
		{
			max *= 2;
			pairs = repalloc(pairs, sizeof(HeaderPair) * max);
		}
		pairs[n].name = safe_text(p, colon - p);
		for (char *c = pairs[n].name; *c; c++)
			*c = pg_ascii_tolower((unsigned char) *c);
		colon++;
		while (colon < lend && (*colon == ' ' || *colon == '\t'))
			colon++;
		pairs[n].value = safe_text(colon, lend - colon);
		{
			/* trailing blanks */
			char	   *v = pairs[n].value;
			size_t		vl = strlen(v);

			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				v[--vl] = '\0';
		}
		pairs[n].order = n;
		n++;
next:
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	*out = pairs;
	return n;
}

/* Is a content type JSON (application/json, anything+json)? */
static bool
is_json_type(const char *ct)
{
	size_t		len;

	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	len = strcspn(ct, "; \t");
	if (len == 16 && pg_strncasecmp(ct, "application/json", 16) == 0)
		return true;
	if (len == 9 && pg_strncasecmp(ct, "text/json", 9) == 0)
		return true;
	return len > 5 && pg_strncasecmp(ct + len - 5, "+json", 5) == 0;
}

/*
 * jsonb from text, or NULL when it is not valid JSON (or not storable as
 * jsonb).  jsonb_in raises on bad input, so it runs in a subtransaction;
 * cancel and termination still end the statement.
 */
typedef struct JsonParse
{
	const char *text;
	Jsonb	   *out;
} JsonParse;

static void
parse_json(void *arg)
{
	JsonParse  *p = arg;

	p->out = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(p->text)));
}

Jsonb *
fl_http_try_parse_json(const char *text)
{
	JsonParse	p = {text, NULL};
	ErrorData  *ed = fl_subxact_try(parse_json, &p);

	if (ed == NULL)
		return p.out;
	if (ed->sqlerrcode == ERRCODE_QUERY_CANCELED || ed->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		ReThrowError(ed);
	FreeErrorData(ed);
	return NULL;
}

Jsonb *
fl_http_response_output(FlHttpResponse *resp)
{
	HeaderPair *pairs;
	int			n = parse_headers(resp, &pairs);
	const char *ctype = NULL;
	JB			b = {0};
	const char *body = resp->body ? resp->body : "";
	size_t		blen = resp->body ? resp->body_len : 0;
	bool		text_ok;

	if (n > 1)
		qsort(pairs, n, sizeof(HeaderPair), header_pair_cmp);

	jb_obj_begin(&b);
	jb_kv_int(&b, "status", resp->status);
	jb_key(&b, "headers");
	jb_obj_begin(&b);
	for (int i = 0; i < n;)
	{
		StringInfoData v;
		int			j = i + 1;

		initStringInfo(&v);
		appendStringInfoString(&v, pairs[i].value);
		for (; j < n && strcmp(pairs[j].name, pairs[i].name) == 0; j++)
		{
			appendStringInfoString(&v, ", ");
			appendStringInfoString(&v, pairs[j].value);
		}
		if (strcmp(pairs[i].name, "content-type") == 0)
			ctype = pairs[j - 1].value;
		jb_kv_str(&b, pairs[i].name, v.data);
		i = j;
	}
	jb_obj_end(&b);

	/* text: valid in the database encoding, no NUL bytes */
	text_ok = memchr(body, '\0', blen) == NULL && pg_verifymbstr(body, blen, true);
	jb_key(&b, "body");
	if (text_ok && blen > 0 && is_json_type(ctype))
	{
		Jsonb	   *j = fl_http_try_parse_json(body);

		if (j)
			jb_jsonb(&b, j);
		else
			jb_strn(&b, body, blen);
	}
	else if (text_ok)
		jb_strn(&b, body, blen);
	else
	{
		int			elen = pg_b64_enc_len(blen);
		char	   *enc = palloc(elen + 1);

		elen = pg_b64_encode(body, blen, enc, elen);
		if (elen < 0)
			elog(ERROR, "could not base64-encode a response body");
		jb_strn(&b, enc, elen);
		jb_kv_str(&b, "bodyEncoding", "base64");
	}
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* The URL for messages: no user info, query or fragment. */
static char *
url_for_message(const char *url)
{
	CURLU	   *u;
	char	   *s = NULL;
	char	   *out;

	if (url == NULL)
		return pstrdup("?");
	u = curl_url();
	if (u == NULL)
		return pstrdup("?");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
	{
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
		curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
		if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
			s = NULL;
	}
	out = pstrdup(s ? s : "?");
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

/* Is status accepted by the request? */
static bool
status_accepted(FlHttpRequest *req, long status)
{
	if (req->accept == NULL)
		return status >= 200 && status <= 299;
	for (int i = 0; i < req->naccept; i++)
		if (status >= req->accept[i].lo && status <= req->accept[i].hi)
			return true;
	return false;
}

/* At most FL_HTTP_EXCERPT bytes of the body as text, cut on a character. */
static char *
body_excerpt(FlHttpResponse *resp, bool *cut)
{
	size_t		len = resp->body ? resp->body_len : 0;
	size_t		take = Min(len, FL_HTTP_EXCERPT);
	int			valid;

	*cut = take < len;
	if (take == 0)
		return pstrdup("");
	/* a cut inside the last character drops that character */
	valid = pg_encoding_verifymbstr(GetDatabaseEncoding(), resp->body, (int) take);
	if (*cut && valid >= (int) take - (pg_database_encoding_max_length() - 1))
		return pnstrdup(resp->body, valid);
	return safe_text(resp->body, take);
}

/*
 * The wait a 429 or 503 response asks for (Retry-After: seconds or an
 * HTTP date) in ms; 0 when it asks none.
 */
static int64
retry_after_ms(FlHttpResponse *resp)
{
	const char *v;
	size_t		vlen;
	long		secs;

	if (resp->hdr == NULL || (resp->status != 429 && resp->status != 503) ||
		!fl_retry_after_header(resp->hdr, resp->hdr_len, &v, &vlen))
		return 0;
	if (fl_retry_after_seconds(v, vlen, 86400, &secs))
		return (int64) secs * 1000;
	{
		char	   *date = pnstrdup(v, vlen);
		time_t		at = curl_getdate(date, NULL);
		time_t		now = time(NULL);

		pfree(date);
		return at > now ? (int64) Min(at - now, 86400) * 1000 : 0;
	}
}

void
fl_http_result(FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res)
{
	const char *id = req->node_id ? req->node_id : "?";

	if (code != CURLE_OK && resp->refused)
	{
		fl_fail(res, "OUTBOUND_REFUSED",
				"node \"%s\": refused to connect to \"%s\" (address %s): %s addresses are not allowed; "
				"list the host or address in flowent.http_allow_hosts to allow it",
				id, resp->refused_host, resp->refused_addr, resp->refused_why);
		return;
	}
	if (code == CURLE_OPERATION_TIMEDOUT)
	{
		fl_fail(res, "TIMEOUT", "node \"%s\": HTTP request %s %s timed out after %d ms",
				id, req->method, url_for_message(req->url),
				req->timeout_ms > 0 ? req->timeout_ms : fl_http_timeout_ms);
		return;
	}
	if (resp->too_large || code == CURLE_FILESIZE_EXCEEDED)
	{
		fl_fail(res, "LIMIT_EXCEEDED",
				"node \"%s\": the response of %s %s is larger than %zu bytes (flowent.http_max_response_bytes)",
				id, req->method, url_for_message(req->url), resp->max_body);
		return;
	}
	if (code != CURLE_OK)
	{
		JB			b = {0};

		fl_fail(res, "HTTP_ERROR", "node \"%s\": HTTP request %s %s failed: %s",
				id, req->method, url_for_message(req->url),
				resp->oom ? "out of memory" :
				resp->errbuf[0] ? resp->errbuf : curl_easy_strerror(code));
		jb_obj_begin(&b);
		jb_kv_int(&b, "curlCode", (int64) code);
		jb_obj_end(&b);
		res->error_details = jb_finish(&b);
		return;
	}
	if (!status_accepted(req, resp->status))
	{
		JB			b = {0};
		bool		cut;
		char	   *excerpt = body_excerpt(resp, &cut);

		fl_fail(res, "HTTP_ERROR", "node \"%s\": %s %s returned HTTP %ld",
				id, req->method, url_for_message(resp->effective_url ? resp->effective_url : req->url),
				resp->status);
		jb_obj_begin(&b);
		jb_kv_int(&b, "status", resp->status);
		jb_kv_str(&b, "body", excerpt);
		if (cut)
			jb_kv_bool(&b, "bodyTruncated", true);
		jb_obj_end(&b);
		res->error_details = jb_finish(&b);
		res->retry_after_ms = retry_after_ms(resp);
		return;
	}
	fl_succeed(res, fl_http_response_output(resp), NULL);
}

/* The provider's own message: error.message (or .detail, or error as a string) of a JSON body, else an excerpt. */
static char *
provider_message(Jsonb *body, FlHttpResponse *resp)
{
	JsonbValue	e,
				m;

	if (body && jb_get(body, "error", &e))
	{
		if (e.type == jbvString)
			return jbv_cstring(&e);
		if (jbv_is_object(&e) && jbv_get_key(&e, "message", &m) && m.type == jbvString)
			return jbv_cstring(&m);
		if (jbv_is_object(&e) && jbv_get_key(&e, "detail", &m) && m.type == jbvString)
			return jbv_cstring(&m);	/* Brave's */
	}
	if (body && jb_get(body, "message", &m) && m.type == jbvString)
		return jbv_cstring(&m);
	if (resp->body && resp->body_len > 0)
	{
		bool		cut;

		return body_excerpt(resp, &cut);
	}
	return pstrdup("no message");
}

bool
fl_http_api_answer(FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res,
				   const char *api, const char *unavailable, Jsonb **body)
{
	const char *id = req->node_id ? req->node_id : "?";

	*body = NULL;
	if (code != CURLE_OK && !resp->refused && code != CURLE_OPERATION_TIMEDOUT && !resp->too_large &&
		code != CURLE_FILESIZE_EXCEEDED)
	{
		fl_fail(res, unavailable, "node \"%s\": the %s at %s could not be reached: %s",
				id, api, url_for_message(req->url), resp->errbuf[0] ? resp->errbuf : curl_easy_strerror(code));
		return false;
	}
	if (code != CURLE_OK || resp->too_large)
	{
		fl_http_result(req, resp, code, res);	/* OUTBOUND_REFUSED, TIMEOUT, LIMIT_EXCEEDED */
		return false;
	}
	if (resp->body && resp->body_len > 0)
	{
		Jsonb	   *out = fl_http_response_output(resp);
		JsonbValue	bv;

		if (jb_get(out, "body", &bv) && (jbv_is_object(&bv) || jbv_is_array(&bv)))
			*body = jbv_to_jsonb(&bv);
	}
	if (resp->status == 401 || resp->status == 403)
	{
		fl_fail(res, "CREDENTIAL_INVALID", "node \"%s\": the %s refused the credential (HTTP %ld): %s",
				id, api, resp->status, provider_message(*body, resp));
		return false;
	}
	if (resp->status == 429 || resp->status >= 500)
	{
		fl_fail(res, unavailable, "node \"%s\": the %s answered HTTP %ld: %s",
				id, api, resp->status, provider_message(*body, resp));
		res->retry_after_ms = retry_after_ms(resp);
		return false;
	}
	if (resp->status < 200 || resp->status > 299)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": the %s refused the request (HTTP %ld): %s",
				id, api, resp->status, provider_message(*body, resp));
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- sync */

static CURL *sync_handle = NULL;
static uint64 sync_generation = 0;

/* Progress callback: abort on cancel, statement_timeout or termination. */
static int
xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

CURLcode
fl_http_perform_sync(FlHttpRequest *req, FlHttpResponse *resp)
{
	CURLcode	code;
	CURL	   *h;

	fl_http_global_init();
	CHECK_FOR_INTERRUPTS();
	if (sync_handle && sync_generation != fl_http_policy_generation())
	{
		/* connections opened under another allow list are not reused */
		curl_easy_cleanup(sync_handle);
		sync_handle = NULL;
	}
	if (sync_handle == NULL)
	{
		sync_handle = curl_easy_init();
		if (sync_handle == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
							errmsg("could not create a libcurl handle")));
		sync_generation = fl_http_policy_generation();
	}
	else
		curl_easy_reset(sync_handle);
	h = sync_handle;

	code = fl_http_easy_setup(h, req, resp);
	if (code == CURLE_OK)
		code = curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (code == CURLE_OK)
		code = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	if (code == CURLE_OK)
		code = curl_easy_setopt(h, CURLOPT_XFERINFODATA, resp);
	if (code != CURLE_OK)
		return code;

	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	code = curl_easy_perform(h);
	pgstat_report_wait_end();
	fl_http_finish(h, resp);
	/* drop references into resp and req before anything can longjmp */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);

	if (code == CURLE_ABORTED_BY_CALLBACK && (QueryCancelPending || ProcDiePending))
	{
		fl_http_response_free(resp);
		CHECK_FOR_INTERRUPTS();
	}
	return code;
}

void
fl_http_execute(FlHttpRequest *req, FlNodeResult *res)
{
	FlHttpResponse resp;

	fl_http_response_init(&resp);
	PG_TRY();
	{
		CURLcode	code = fl_http_perform_sync(req, &resp);

		fl_http_result(req, &resp, code, res);
	}
	PG_FINALLY();
	{
		fl_http_response_free(&resp);
	}
	PG_END_TRY();
}

/* A node's own request and mapping, run here (flowent.run). */
void
fl_http_call_sync(FlNodeCall *call, FlNodeResult *res, FlHttpPrepareFn prepare, FlHttpMapFn map)
{
	FlHttpRequest req;
	FlHttpResponse resp;

	if (!prepare(call, &req, res))
		return;
	fl_http_response_init(&resp);
	PG_TRY();
	{
		CURLcode	code = fl_http_perform_sync(&req, &resp);

		map(call, &req, &resp, code, res);
	}
	PG_FINALLY();
	{
		fl_http_response_free(&resp);
	}
	PG_END_TRY();
}

/* Its resume: the worker's response mapped, or (no response) the call made here. */
void
fl_http_call_resume(FlNodeCall *call, FlNodeResult *res, FlHttpPrepareFn prepare, FlHttpMapFn map)
{
	FlHttpCompletion *c = fl_http_completion;

	if (c == NULL)
	{
		fl_http_call_sync(call, res, prepare, map);
		return;
	}
	map(call, c->req, c->resp, c->code, res);
}
