/*
 * http.c
 *	  Outbound HTTP with libcurl: settings, outbound address policy, request
 *	  building, easy-handle setup, response mapping and the synchronous
 *	  transfer used by flowent.run.
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

#if LIBCURL_VERSION_NUM < 0x075500
#error "flowent needs libcurl 7.85.0 or later (CURLOPT_PROTOCOLS_STR)"
#endif

#define FL_HTTP_MAX_REDIRS 5
#define FL_HTTP_MAX_HEADER_BYTES (1024 * 1024)
#define FL_HTTP_EXCERPT 512
#define FL_HTTP_USER_AGENT "flowent/0.1"

char	   *fl_http_allow_hosts = NULL;
int			fl_http_timeout_ms = 30000;
int			fl_http_max_response_bytes = 10 * 1024 * 1024;

/* ---------------------------------------------------------------- policy */

typedef enum AllowKind
{
	ALLOW_HOST,
	ALLOW_V4,
	ALLOW_V6
} AllowKind;

typedef struct AllowEntry
{
	AllowKind	kind;
	int			prefix;			/* bits */
	uint8		addr[16];		/* network, host bits cleared */
	char		host[256];		/* lower case, no trailing dot */
} AllowEntry;

/* The parsed allow list: one malloc'd block (GUC "extra") */
typedef struct AllowList
{
	int			n;
	AllowEntry	e[FLEXIBLE_ARRAY_MEMBER];
} AllowList;

static const AllowList *allow_list = NULL;
static uint64 policy_generation = 1;

/* Clear the bits past prefix. */
static void
mask_bits(uint8 *a, int len, int prefix)
{
	for (int i = 0; i < len; i++)
	{
		int			keep = prefix - i * 8;

		if (keep >= 8)
			continue;
		a[i] &= keep <= 0 ? 0 : (uint8) (0xFF << (8 - keep));
	}
}

/* Does address a (len bytes) lie in network net/prefix? */
static bool
in_net(const uint8 *a, const uint8 *net, int prefix)
{
	int			full = prefix / 8;
	int			rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ net[full]) & (uint8) (0xFF << (8 - rest))) == 0;
}

/* Is s a dotted-decimal-looking string (digits and dots only)? */
static bool
all_digits_dots(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char) *s) && *s != '.')
			return false;
	return true;
}

/*
 * Parse one allow-list entry into *e.  On failure returns false with a
 * reason in *why (static text).
 */
static bool
parse_allow_entry(const char *tok, AllowEntry *e, const char **why)
{
	char		buf[300];
	char	   *slash;
	char	   *addr;
	size_t		len = strlen(tok);

	memset(e, 0, sizeof(*e));
	if (len >= sizeof(buf))
	{
		*why = "entry is too long";
		return false;
	}
	memcpy(buf, tok, len + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	addr = buf;
	if (addr[0] == '[')
	{
		size_t		al = strlen(addr);

		if (al < 3 || addr[al - 1] != ']')
		{
			*why = "unbalanced [ ] around an IPv6 address";
			return false;
		}
		addr[al - 1] = '\0';
		addr++;
	}

	if (inet_pton(AF_INET, addr, e->addr) == 1)
	{
		e->kind = ALLOW_V4;
		e->prefix = 32;
	}
	else if (inet_pton(AF_INET6, addr, e->addr) == 1)
	{
		e->kind = ALLOW_V6;
		e->prefix = 128;
	}
	else if (slash)
	{
		*why = "the part before / is not an IPv4 or IPv6 address";
		return false;
	}
	else if (addr != buf || strchr(addr, ':'))
	{
		*why = "not a valid IPv6 address";
		return false;
	}
	else if (all_digits_dots(addr))
	{
		*why = "not a valid IPv4 address (write all four parts in decimal)";
		return false;
	}
	else
	{
		size_t		hl = strlen(addr);
		const char *label = addr;

		if (hl > 0 && addr[hl - 1] == '.')
			addr[--hl] = '\0';
		if (hl == 0 || hl > 253)
		{
			*why = "not a valid host name";
			return false;
		}
		for (char *p = addr;; p++)
		{
			if (*p == '.' || *p == '\0')
			{
				if (p == label || p - label > 63)
				{
					*why = "not a valid host name (empty or over-long label)";
					return false;
				}
				if (*p == '\0')
					break;
				label = p + 1;
				continue;
			}
			if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_')
			{
				*why = "not a host name, IP address or CIDR (host names have letters, digits, '-', '_' and '.')";
				return false;
			}
			*p = pg_ascii_tolower((unsigned char) *p);
		}
		e->kind = ALLOW_HOST;
		strlcpy(e->host, addr, sizeof(e->host));
		return true;
	}

	if (slash)
	{
		char	   *end;
		long		bits;
		int			max = e->kind == ALLOW_V4 ? 32 : 128;

		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || bits < 0 || bits > max ||
			!isdigit((unsigned char) slash[1]))
		{
			*why = e->kind == ALLOW_V4 ? "the prefix length after / must be 0 to 32"
				: "the prefix length after / must be 0 to 128";
			return false;
		}
		e->prefix = (int) bits;
	}
	mask_bits(e->addr, e->kind == ALLOW_V4 ? 4 : 16, e->prefix);
	return true;
}

/* Check hook of flowent.http_allow_hosts: parse into a malloc'd AllowList. */
static bool
check_allow_hosts(char **newval, void **extra, GucSource source)
{
	const char *s = *newval ? *newval : "";
	int			max = 1;
	AllowList  *list;
	const char *p;

	for (p = s; *p; p++)
		if (*p == ',')
			max++;
	list = malloc(offsetof(AllowList, e) + sizeof(AllowEntry) * max);
	if (list == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errmsg("out of memory");
		return false;
	}
	list->n = 0;
	p = s;
	while (*p)
	{
		const char *start,
				   *end;
		char		tok[300];
		size_t		len;
		const char *why = NULL;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		if (*p == ',')
			p++;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
			end--;
		len = end - start;
		if (len == 0)
			continue;
		if (len >= sizeof(tok))
			why = "entry is too long";
		else
		{
			memcpy(tok, start, len);
			tok[len] = '\0';
			if (parse_allow_entry(tok, &list->e[list->n], &why))
			{
				list->n++;
				continue;
			}
		}
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("invalid entry \"%.*s\" in flowent.http_allow_hosts: %s",
						 (int) Min(len, 200), start, why);
		GUC_check_errhint("Give a comma-separated list of host names, IP addresses and CIDR ranges, e.g. 'api.internal, 10.0.0.0/8, fd00::/8'.");
		free(list);
		return false;
	}
	*extra = list;
	return true;
}

/* Assign hook: the parsed list becomes current; connections made earlier are suspect. */
static void
assign_allow_hosts(const char *newval, void *extra)
{
	allow_list = (const AllowList *) extra;
	policy_generation++;
}

uint64
fl_http_policy_generation(void)
{
	return policy_generation;
}

/* Why an IPv4 address (network order bytes) is not public, or NULL. */
static const char *
classify_v4(const uint8 *a)
{
	if (a[0] == 0)
		return "unspecified (0.0.0.0/8)";
	if (a[0] == 127)
		return "loopback";
	if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168))
		return "private";
	if (a[0] == 100 && (a[1] & 0xC0) == 64)
		return "carrier-grade NAT (100.64.0.0/10)";
	if (a[0] == 169 && a[1] == 254)
		return "link-local";
	if (a[0] == 192 && a[1] == 0 && a[2] == 0)
		return "IETF protocol (192.0.0.0/24)";
	if (a[0] == 198 && (a[1] & 0xFE) == 18)
		return "benchmarking (198.18.0.0/15)";
	if (a[0] >= 224 && a[0] <= 239)
		return "multicast";
	if (a[0] >= 240)
		return "reserved or broadcast";
	return NULL;
}

/*
 * Why an IPv6 address is not public, or NULL.  Addresses that embed an IPv4
 * address (mapped, compatible, NAT64, 6to4) are judged by it: *v4 points at
 * the embedded bytes then.
 */
static const char *
classify_v6(const uint8 *a, const uint8 **v4)
{
	static const uint8 zero[16] = {0};
	static const uint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	static const uint8 nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};

	*v4 = NULL;
	if (memcmp(a, zero, 16) == 0)
		return "unspecified (::)";
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return "loopback (::1)";
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0)
	{
		*v4 = a + 12;
		return classify_v4(a + 12);
	}
	if (a[0] == 0x20 && a[1] == 0x02)	/* 6to4: 2002:AABB:CCDD::/48 */
	{
		*v4 = a + 2;
		return classify_v4(a + 2);
	}
	if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)
		return "link-local (fe80::/10)";
	if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0)
		return "site-local (fec0::/10)";
	if ((a[0] & 0xFE) == 0xFC)
		return "unique-local (fc00::/7)";
	if (a[0] == 0xFF)
		return "multicast";
	return NULL;
}

/* Is host (or address) exempted by the allow list? */
static bool
allow_matches(const uint8 *v4, const uint8 *v6, const char *host)
{
	const AllowList *l = allow_list;
	char		h[256];

	if (l == NULL || l->n == 0)
		return false;
	h[0] = '\0';
	if (host)
	{
		size_t		hl = strlen(host);

		if (hl < sizeof(h))
		{
			for (size_t i = 0; i < hl; i++)
				h[i] = pg_ascii_tolower((unsigned char) host[i]);
			h[hl] = '\0';
			if (hl > 0 && h[hl - 1] == '.')
				h[hl - 1] = '\0';
		}
	}
	for (int i = 0; i < l->n; i++)
	{
		const AllowEntry *e = &l->e[i];

		if (e->kind == ALLOW_HOST && h[0] && strcmp(e->host, h) == 0)
			return true;
		if (e->kind == ALLOW_V4 && v4 && in_net(v4, e->addr, e->prefix))
			return true;
		if (e->kind == ALLOW_V6 && v6 && in_net(v6, e->addr, e->prefix))
			return true;
	}
	return false;
}

bool
fl_http_address_allowed(const struct sockaddr *sa, const char *host, const char **why)
{
	const uint8 *v4 = NULL;
	const uint8 *v6 = NULL;
	const char *w;

	*why = NULL;
	if (sa->sa_family == AF_INET)
	{
		v4 = (const uint8 *) &((const struct sockaddr_in *) sa)->sin_addr;
		w = classify_v4(v4);
	}
	else if (sa->sa_family == AF_INET6)
	{
		v6 = (const uint8 *) &((const struct sockaddr_in6 *) sa)->sin6_addr;
		w = classify_v6(v6, &v4);
	}
	else
	{
		*why = "not an IP";
		return false;
	}
	if (w == NULL)
		return true;
	if (allow_matches(v4, v6, host))
		return true;
	*why = w;
	return false;
}

/* ---------------------------------------------------------------- GUCs */

void
fl_http_init(void)
{
	DefineCustomStringVariable("flowent.http_allow_hosts",
							   "Hosts, IP addresses and CIDR ranges HTTP nodes may reach although they are private, loopback or link-local.",
							   "Comma-separated. Outbound connections to private, loopback, link-local, unique-local, "
							   "carrier-grade NAT, multicast and unspecified addresses (and IPv6 forms embedding them) "
							   "are refused unless listed here.",
							   &fl_http_allow_hosts, "",
							   PGC_SIGHUP, 0,
							   check_allow_hosts, assign_allow_hosts, NULL);
	DefineCustomIntVariable("flowent.http_timeout_ms",
							"Default timeout of an HTTP node's request, redirects included.",
							NULL, &fl_http_timeout_ms, 30000, 100, 3600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("flowent.http_max_response_bytes",
							"Largest HTTP response body an HTTP node accepts.",
							NULL, &fl_http_max_response_bytes, 10 * 1024 * 1024, 1024,
							(int) MaxAllocSize - 1,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
}

void
fl_http_global_init(void)
{
	static bool done = false;

	if (done)
		return;
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not initialise libcurl")));
	done = true;
}

/* ---------------------------------------------------------------- request */

/* Percent-encode s (RFC 3986 unreserved characters kept) onto buf. */
static void
append_urlencoded(StringInfo buf, const char *s)
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

/*
 * `auth: {type: bearer|basic, credential: NAME}` → Authorization header.
 * bearer: the credential is a string, or an object with token / apiKey / key.
 * basic: an object {username (or user), password}, or a "user:password" string.
 */
static bool
config_auth(FlNodeCall *call, FlNodeResult *res, FlHttpRequest *req)
{
	static const char *const token_keys[] = {"token", "apiKey", "key", "secret", NULL};
	static const char *const user_keys[] = {"username", "user", NULL};
	static const char *const pass_keys[] = {"password", NULL};
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
	if (!fl_lookup_credential(call->ex, name, &cred))
	{
		fl_fail(res, "CREDENTIAL_NOT_FOUND", "node \"%s\": credential \"%s\" does not exist for the workflow owner",
				id, name);
		return false;
	}
	fl_remember_secret(call->ex, &cred);

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
		char	   *pair = NULL;
		int			elen;
		char	   *enc;

		if (cred.type == jbvString && strchr(jbv_cstring(&cred), ':'))
			pair = jbv_cstring(&cred);
		else if (jbv_is_object(&cred))
		{
			char	   *user = cred_member(&cred, user_keys);
			char	   *pass = cred_member(&cred, pass_keys);

			if (user && pass)
				pair = psprintf("%s:%s", user, pass);
		}
		if (pair == NULL)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be an object {username, password} or a \"user:password\" string for basic auth",
					id, name);
			return false;
		}
		elen = pg_b64_enc_len(strlen(pair));
		enc = palloc(elen + 1);
		elen = pg_b64_encode(pair, strlen(pair), enc, elen);
		if (elen < 0)
			elog(ERROR, "could not encode basic auth credentials");
		enc[elen] = '\0';
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
				append_urlencoded(&q, name);
				appendStringInfoChar(&q, '=');
				append_urlencoded(&q, text);
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
	free(resp->body);
	free(resp->hdr);
	free(resp->effective_url);
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
	SETOPT(CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	SETOPT(CURLOPT_OPENSOCKETDATA, resp);
	SETOPT(CURLOPT_PREREQFUNCTION, prereq_cb);
	SETOPT(CURLOPT_PREREQDATA, resp);
	SETOPT(CURLOPT_ERRORBUFFER, resp->errbuf);
	resp->errbuf[0] = '\0';

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
static Jsonb *
try_parse_json(const char *text)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Jsonb	   *volatile out = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		out = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		MemoryContextSwitchTo(oldcxt);
		ed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (ed->sqlerrcode == ERRCODE_QUERY_CANCELED || ed->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(ed);
		FreeErrorData(ed);
		out = NULL;
	}
	PG_END_TRY();
	return out;
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
		Jsonb	   *j = try_parse_json(body);

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
		return;
	}
	fl_succeed(res, fl_http_response_output(resp), NULL);
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
	if (sync_handle && sync_generation != policy_generation)
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
		sync_generation = policy_generation;
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
