/*
 * errors.h
 *	  SQLSTATE -> HTTP status and error code (DESIGN Appendix B), and the
 *	  error object's details.  No libpq or MHD here: unit-tested alone.
 */
#ifndef GW_ERRORS_H
#define GW_ERRORS_H

typedef struct gw_sql_status
{
	unsigned	status;
	const char *code;
} gw_sql_status;

gw_sql_status gw_map_sqlstate(const char *sqlstate);
/* the DETAIL as JSON when it is a JSON object or array, else a JSON string, else null (malloc'd) */
char	   *gw_error_details(const char *sqlstate, const char *detail, unsigned status);

#endif
