/*
 * mail.c
 *	  Mail addresses and Retry-After values (mail.h).
 */
#include "core/mail.h"

#include <ctype.h>
#include <string.h>

bool
fl_mail_address(const char *s, size_t len, const char **addr, size_t *addr_len,
				const char **name, size_t *name_len)
{
	const char *a = s;
	size_t		alen = len;
	const char *at = NULL;

	*name = NULL;
	*name_len = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return false;
	if (len > 0 && s[len - 1] == '>')
	{
		const char *lt = NULL;

		for (size_t i = len - 1; i-- > 0;)
			if (s[i] == '<')
			{
				lt = s + i;
				break;
			}
		if (lt == NULL)
			return false;
		a = lt + 1;
		alen = (size_t) (s + len - 1 - a);
		*name = s;
		*name_len = (size_t) (lt - s);
		while (*name_len > 0 && (*name)[*name_len - 1] == ' ')
			(*name_len)--;
		if (*name_len == 0)
			*name = NULL;
	}
	for (size_t i = 0; i < alen; i++)
	{
		unsigned char c = (unsigned char) a[i];

		if (c <= ' ' || c == 0x7f || strchr("<>,;\"()[]\\", c) != NULL)
			return false;
		if (c == '@')
		{
			if (at != NULL)
				return false;
			at = a + i;
		}
	}
	if (at == NULL || at == a || at == a + alen - 1)
		return false;
	*addr = a;
	*addr_len = alen;
	return true;
}

bool
fl_retry_after_header(const char *hdr, size_t len, const char **value, size_t *value_len)
{
	static const char name[] = "retry-after:";
	const size_t nlen = sizeof(name) - 1;
	size_t		pos = 0;

	while (pos < len)
	{
		const char *line = hdr + pos;
		const char *eol = memchr(line, '\n', len - pos);
		size_t		llen = eol ? (size_t) (eol - line) : len - pos;

		if (llen >= nlen)
		{
			size_t		k = 0;

			while (k < nlen && tolower((unsigned char) line[k]) == name[k])
				k++;
			if (k == nlen)
			{
				const char *v = line + nlen;
				size_t		vlen = llen - nlen;

				while (vlen > 0 && (*v == ' ' || *v == '\t'))
					v++, vlen--;
				while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
					vlen--;
				if (vlen == 0)
					return false;
				*value = v;
				*value_len = vlen;
				return true;
			}
		}
		pos += llen + 1;
	}
	return false;
}

bool
fl_retry_after_seconds(const char *value, size_t len, long cap, long *secs)
{
	long		n = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (value[i] < '0' || value[i] > '9')
			return false;
		if (n < cap)
			n = n * 10 + (value[i] - '0');
	}
	*secs = n < cap ? n : cap;
	return true;
}
