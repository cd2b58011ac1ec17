/*
 * spi.c
 *	  SPI helpers, and the engine's own statements: prepared once per
 *	  backend and run as the owner of the flowent schema.
 */
#include "postgres.h"

#include "executor/spi.h"

#include "pg/context.h"
#include "pg/engine.h"

/*
 * SPI leaves its procedure context current after every call; the engine
 * allocates in its caller's context, so restore it each time.
 */
int
fl_spi_plan(SPIPlanPtr plan, Datum *args, const char *nulls, bool ro, long count)
{
	MemoryContext mc = CurrentMemoryContext;
	int			ret = SPI_execute_plan(plan, args, nulls, ro, count);

	MemoryContextSwitchTo(mc);
	return ret;
}

int
fl_spi_args(const char *sql, int nargs, Oid *types, Datum *args,
			const char *nulls, bool ro, long count)
{
	MemoryContext mc = CurrentMemoryContext;
	int			ret = SPI_execute_with_args(sql, nargs, types, args, nulls, ro, count);

	MemoryContextSwitchTo(mc);
	return ret;
}

SPIPlanPtr
fl_spi_prepare(const char *sql, int nargs, Oid *types)
{
	MemoryContext mc = CurrentMemoryContext;
	SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

	MemoryContextSwitchTo(mc);
	return p;
}

int
fl_spi(const char *sql, bool ro, long count)
{
	MemoryContext mc = CurrentMemoryContext;
	int			ret = SPI_execute(sql, ro, count);

	MemoryContextSwitchTo(mc);
	return ret;
}

/*
 * Prepare once per backend and keep; parsed as the owner with the owner's
 * fixed search_path, like every run of it.
 */
SPIPlanPtr
fl_owner_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	if (*slot == NULL)
	{
		FlOwner		own;
		SPIPlanPtr	p;

		fl_owner_begin(&own);
		p = fl_spi_prepare(sql, nargs, types);
		fl_owner_end(&own);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*slot = p;
	}
	return *slot;
}

/* Run a prepared write as the schema owner. */
void
fl_owner_exec(SPIPlanPtr plan, Datum *args, const char *nulls, int expect)
{
	FlOwner		own;
	int			ret;

	fl_owner_begin(&own);
	ret = fl_spi_plan(plan, args, nulls, false, 0);
	fl_owner_end(&own);
	if (ret != expect)
		elog(ERROR, "flowent bookkeeping write failed: %s", SPI_result_code_string(ret));
}

/*
 * A statement of the engine's own, prepared once per backend (in *slot) and
 * run as the schema owner; returns the SPI result code.
 */
int
fl_owner_query(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types,
			   Datum *args, const char *nulls, long count)
{
	FlOwner		own;
	int			ret;

	fl_owner_plan(slot, sql, nargs, types);
	fl_owner_begin(&own);
	ret = fl_spi_plan(*slot, args, nulls, false, count);
	fl_owner_end(&own);
	return ret;
}

