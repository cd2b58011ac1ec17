/*
 * static_files.c
 *	  Files under the web directory only: a path with a "..", a NUL or a
 *	  backslash segment is refused, and symlinks out of the directory are
 *	  not followed (realpath must stay inside it).
 */
#include "gateway/static_files.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/path.h"
#include "gateway/util.h"

static char *root;				/* realpath of the web directory, or NULL */

void
gw_static_init(const char *dir)
{
	char		buf[PATH_MAX];

	if (dir == NULL)
		return;
	if (realpath(dir, buf) == NULL)
	{
		gw_log("--web %s: not found; the dashboard is not served until it is built (make web)", dir);
		root = gw_strdup(dir);
		return;
	}
	root = gw_strdup(buf);
}

static const char *
content_type(const char *path)
{
	static const char *const types[][2] = {
		{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
		{".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
		{".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".woff", "font/woff"},
		{".txt", "text/plain; charset=utf-8"}, {".map", "application/json"}, {".wasm", "application/wasm"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

/* open root + rel if it is a regular file inside root */
static int
open_inside(const char *rel, size_t *size)
{
	char	   *full = gw_printf("%s/%s", root, rel);
	char		real[PATH_MAX];
	int			fd = -1;
	struct stat st;
	size_t		rl = strlen(root);

	if (realpath(full, real) != NULL && strncmp(real, root, rl) == 0 && real[rl] == '/' &&
		stat(real, &st) == 0 && S_ISREG(st.st_mode))
	{
		fd = open(real, O_RDONLY | O_CLOEXEC);
		*size = (size_t) st.st_size;
	}
	free(full);
	return fd;
}

const char *
gw_static_serve(gw_req *r)
{
	const char *path = gw_req_path(r);
	const char *rel = path[0] == '/' ? path + 1 : path;
	const char *method = gw_req_method(r);
	size_t		size = 0;
	int			fd = -1;
	bool		index = false;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
	{
		gw_req_error(r, 405, "METHOD_NOT_ALLOWED", "web files are read with GET", NULL);
		return "(web)";
	}
	if (!gw_path_safe(path))
	{
		gw_req_error(r, 400, "INVALID_INPUT", "a path may not contain \"..\", \"//\" or \"\\\"", NULL);
		return "(web)";
	}
	if (root && *rel)
		fd = open_inside(rel, &size);
	if (fd < 0 && root && strrchr(rel, '.') == NULL)
	{
		fd = open_inside("index.html", &size);
		index = true;
	}
	if (fd < 0)
	{
		gw_req_error(r, 404, "NOT_FOUND",
					 root ? "no such file, and no index.html: build the dashboard (make web)"
					 : "this gateway serves no web files (start it with --web DIR)", NULL);
		return "(web)";
	}
	gw_req_respond_fd(r, 200, content_type(index ? "index.html" : rel), fd, size);
	/* hashed asset names may be cached; the page itself never is */
	if (!index && strncmp(rel, "assets/", 7) == 0)
		gw_req_add_header(r, "Cache-Control", "public, max-age=31536000, immutable");
	gw_req_add_header(r, "Content-Security-Policy",
					  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
	return "(web)";
}
