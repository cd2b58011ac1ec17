/*
 * libFuzzer target: route matching and the web path check.  Input: a
 * pattern, NUL, a path.  Checks that a match's parameters are non-empty
 * single segments inside the buffer, and that a path found safe has no ".."
 * segment, no "//" and no backslash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/path.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size + 2);
	const char *pattern,
			   *path;
	char		buf[64];
	char	   *params[4];
	int			n;

	memcpy(in, data, size);
	in[size] = in[size + 1] = '\0';
	pattern = in;
	path = strlen(in) < size ? in + strlen(in) + 1 : in + size;
	if (gw_path_match(pattern, path, buf, sizeof(buf), params, 4, &n))
		for (int i = 0; i < n; i++)
			if (params[i] < buf || params[i] >= buf + sizeof(buf) || params[i][0] == '\0' || strchr(params[i], '/'))
				abort();
	if (gw_path_safe(path))
	{
		char	   *copy = strdup(path);

		if (strstr(path, "//") || strchr(path, '\\'))
			abort();
		for (char *seg = strtok(copy, "/"); seg; seg = strtok(NULL, "/"))
			if (strcmp(seg, "..") == 0)
				abort();
		free(copy);
	}
	free(in);
	return 0;
}
