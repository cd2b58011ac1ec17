/*
 * subxact.h
 *	  Run a piece of work in an internal subtransaction and trap its error.
 */
#ifndef FL_SUBXACT_H
#define FL_SUBXACT_H

#include "utils/elog.h"

typedef void (*FlSubxactFn) (void *arg);

extern ErrorData *fl_subxact_try(FlSubxactFn fn, void *arg);

#endif
