/*
 * api.h
 *	  SQL-callable entry points that other C code of the extension calls
 *	  directly (DirectFunctionCall), with the same checks as from SQL.
 */
#ifndef FL_PG_API_H
#define FL_PG_API_H

#include "fmgr.h"

extern PGDLLEXPORT Datum flowent_run(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum flowent_execute(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum flowent_set_acting_user(PG_FUNCTION_ARGS);

#endif
