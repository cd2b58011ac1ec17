/*
 * path.c
 *	  Request paths: matching a route's pattern, and refusing paths that
 *	  could leave the web directory.
 */
#include "gateway/path.h"

#include <string.h>

bool
gw_path_match(const char *pattern, const char *path, char *buf, size_t bufsize, char **params,
			  int max_params, int *nparams)
{
	const char *p = pattern,
			   *s = path;
	char	   *out = buf;

	*nparams = 0;
	while (*p && *s)
	{
		size_t		pl,
					sl;

		if (*p != '/' || *s != '/')
			return false;
		p++, s++;
		pl = strcspn(p, "/");
		sl = strcspn(s, "/");
		if (*p == ':')
		{
			if (sl == 0 || *nparams == max_params || (size_t) (out - buf) + sl + 1 > bufsize)
				return false;
			memcpy(out, s, sl);
			out[sl] = '\0';
			params[(*nparams)++] = out;
			out += sl + 1;
		}
		else if (pl != sl || strncmp(p, s, pl) != 0)
			return false;
		p += pl;
		s += sl;
	}
	return *p == '\0' && (*s == '\0' || strcmp(s, "/") == 0);
}

bool
gw_path_safe(const char *p)
{
	if (strstr(p, "\\") || strstr(p, "//"))
		return false;
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return false;
	return true;
}
