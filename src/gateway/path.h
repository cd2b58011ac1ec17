/*
 * path.h
 *	  Request paths, without HTTP or the database: unit-tested and fuzzed alone.
 */
#ifndef GW_PATH_H
#define GW_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Does path match pattern ("/api/pipelines/:id/execute")?  The ":name"
 * segments' values are copied into buf and pointed to by params.
 */
bool		gw_path_match(const char *pattern, const char *path, char *buf, size_t bufsize, char **params,
						  int max_params, int *nparams);
/* no "..", "//" or backslash: the path cannot name anything outside the web directory */
bool		gw_path_safe(const char *path);

#endif
