/*
 * errors.c
 *	  How a database error reaches an HTTP client.
 */
#include "gateway/errors.h"

#include <jansson.h>
#include <string.h>

#include "gateway/util.h"

static const struct
{
	const char *sqlstate;		/* exact, or a two-character class */
	unsigned	status;
	const char *code;
} map[] = {
	{"22023", 400, "INVALID_INPUT"},
	{"22P02", 400, "INVALID_INPUT"},	/* text that is not JSON, a uuid, a number */
	{"42704", 404, "NOT_FOUND"},
	{"P0002", 404, "NOT_FOUND"},
	{"42501", 403, "FORBIDDEN"},
	{"55000", 409, "CONFLICT"},
	{"54000", 413, "LIMIT_EXCEEDED"},
	{"28000", 401, "UNAUTHORIZED"},
	{"28P01", 401, "UNAUTHORIZED"},
	{"57014", 504, "TIMEOUT"},
	{"40001", 503, "UNAVAILABLE"},
	{"40P01", 503, "UNAVAILABLE"},
	{"53400", 429, "BUDGET_EXCEEDED"},	/* a model call over a budget (flowent.generate) */
	{"58000", 502, "UPSTREAM_FAILED"},	/* an outside service failed (flowent.generate's model) */
	{"22", 400, "INVALID_INPUT"},
	{"23", 409, "CONFLICT"},
	{"08", 503, "UNAVAILABLE"},
	{"57", 503, "UNAVAILABLE"},
	{"53", 503, "UNAVAILABLE"},
};

gw_sql_status
gw_map_sqlstate(const char *sqlstate)
{
	gw_sql_status s = {500, "INTERNAL"};

	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return s;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(sqlstate, map[i].sqlstate, strlen(map[i].sqlstate)) == 0)
		{
			s.status = map[i].status;
			s.code = map[i].code;
			return s;
		}
	return s;
}

char *
gw_error_details(const char *sqlstate, const char *detail, unsigned status)
{
	gw_buf		b = {0};
	json_t	   *j;

	(void) sqlstate;
	if (detail == NULL || status >= 500)
		return gw_strdup("null");
	/* validate() JSON and conflict details pass through as the database wrote them */
	j = json_loads(detail, JSON_DECODE_ANY, NULL);
	if (j && (json_is_object(j) || json_is_array(j)))
	{
		json_decref(j);
		return gw_strdup(detail);
	}
	json_decref(j);
	gw_buf_json_str(&b, detail);
	return b.data;
}
