/*
 * http_policy.c
 *	  Settings of outbound HTTP and the address policy: loopback, private,
 *	  link-local and similar targets are refused unless
 *	  flowent.http_allow_hosts names them.  The check runs on the numeric
 *	  peer address of every connection (http.c calls it from curl's socket
 *	  callbacks).
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

