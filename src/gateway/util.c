/*
 * util.c
 *	  Allocation, logging and buffers for the gateway.
 */
#include "gateway/util.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void *
gw_alloc(size_t n)
{
	void	   *p = calloc(1, n ? n : 1);

	if (p == NULL)
		gw_die("out of memory (%zu bytes)", n);
	return p;
}

void *
gw_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		gw_die("out of memory (%zu bytes)", n);
	return p;
}

char *
gw_strdup(const char *s)
{
	return gw_strndup(s, strlen(s));
}

char *
gw_strndup(const char *s, size_t n)
{
	char	   *p = gw_alloc(n + 1);

	memcpy(p, s, n);
	return p;
}

char *
gw_printf(const char *fmt,...)
{
	va_list		ap;
	char	   *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		gw_die("out of memory");
	va_end(ap);
	return p;
}

static void
vlog(const char *fmt, va_list ap)
{
	struct timeval tv;
	struct tm	tm;
	char		ts[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03d UTC [%d] ", ts, (int) (tv.tv_usec / 1000), (int) getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
gw_log(const char *fmt,...)
{
	va_list		ap;
	int			save = errno;

	va_start(ap, fmt);
	errno = save;
	vlog(fmt, ap);
	va_end(ap);
}

void
gw_die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(1);
}

void
gw_buf_add(gw_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = gw_realloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
gw_buf_str(gw_buf *b, const char *s)
{
	gw_buf_add(b, s, strlen(s));
}

void
gw_buf_printf(gw_buf *b, const char *fmt,...)
{
	va_list		ap;
	char	   *p;
	int			n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		gw_die("out of memory");
	gw_buf_add(b, p, n);
	free(p);
}

void
gw_buf_free(gw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
gw_buf_array_element(gw_buf *b, const char *s)
{
	if (b->len > 1)
		gw_buf_str(b, ",");
	if (s == NULL)
	{
		gw_buf_str(b, "NULL");
		return;
	}
	gw_buf_str(b, "\"");
	for (const char *p = s; *p;)
	{
		size_t		n = strcspn(p, "\"\\");

		gw_buf_add(b, p, n);
		p += n;
		if (*p)
		{
			char		esc[2] = {'\\', *p};

			gw_buf_add(b, esc, 2);
			p++;
		}
	}
	gw_buf_str(b, "\"");
}

void
gw_buf_json_str(gw_buf *b, const char *s)
{
	gw_buf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				gw_buf_add(b, "\\\"", 2);
				break;
			case '\\':
				gw_buf_add(b, "\\\\", 2);
				break;
			case '\n':
				gw_buf_add(b, "\\n", 2);
				break;
			case '\r':
				gw_buf_add(b, "\\r", 2);
				break;
			case '\t':
				gw_buf_add(b, "\\t", 2);
				break;
			default:
				if (*p < 0x20)
					gw_buf_printf(b, "\\u%04x", *p);
				else
					gw_buf_add(b, p, 1);
		}
	}
	gw_buf_add(b, "\"", 1);
}

bool
gw_is_uuid(const char *s)
{
	static const int dash[] = {8, 13, 18, 23};
	int			d = 0;

	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (d < 4 && i == dash[d])
		{
			if (s[i] != '-')
				return false;
			d++;
		}
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	}
	return true;
}

void
gw_buf_message(gw_buf *b, const char *type, const char *key, const char *id,
			   const char *code, const char *message)
{
	gw_buf_str(b, "{\"type\": ");
	gw_buf_json_str(b, type);
	if (key)
	{
		gw_buf_str(b, ", ");
		gw_buf_json_str(b, key);
		gw_buf_str(b, ": ");
		gw_buf_json_str(b, id);
	}
	if (code)
	{
		gw_buf_str(b, ", \"code\": ");
		gw_buf_json_str(b, code);
		gw_buf_str(b, ", \"message\": ");
		gw_buf_json_str(b, message ? message : "");
	}
	gw_buf_str(b, "}");
}

bool
gw_list_has(const char *list, const char *item, bool ignore_case)
{
	size_t		n = strlen(item);

	for (const char *p = list; p && *p;)
	{
		size_t		len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ",");
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == n && (ignore_case ? strncasecmp(p, item, n) : strncmp(p, item, n)) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

bool
gw_origin_allowed(const char *list, const char *origin)
{
	return gw_list_has(list, "*", false) || gw_list_has(list, origin, false);
}

void
gw_sha256_hex(const char *s, char out[65])
{
	uint8_t		d[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";

	SHA256((const unsigned char *) s, strlen(s), d);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
	{
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
