/*
 * table_changes.h
 *	  The rows an async table trigger's statement changed, kept until a
 *	  worker queues their executions (table_changes.c).
 */
#ifndef FL_TABLE_CHANGES_H
#define FL_TABLE_CHANGES_H

#include "postgres.h"

#include "commands/trigger.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

struct FlExec;
struct FlWorkflow;

/* what a firing stores besides the rows: who runs what, and who reads the rows */
typedef struct FlTableChange
{
	const char *trigger_id;
	pg_uuid_t  *workflow_id;
	int			version;
	const char *created_by;
	Oid			reader;			/* the table's owner: to_jsonb of the rows runs as it */
	Datum		columns;		/* options.columns (text[]) of an update, or 0 */
	Jsonb	   *when;			/* options.when, or NULL */
} FlTableChange;

extern int64 fl_table_changes_store(const FlTableChange *c, const char *op, const char *table,
									TriggerData *td);
extern bool fl_table_changes_queue_next(int64 *batch_id);
extern void fl_table_changes_failed(int64 batch_id, const char *message);

/* table_trigger.c: the workflow started and the `when` option, in the statement (sync) or the worker (async) */
extern struct FlWorkflow *fl_table_workflow(pg_uuid_t *workflow_id, int version, const char *created_by);
extern struct FlExec *fl_table_when_state(void);
extern bool fl_table_when_keeps(struct FlExec *ex, Jsonb *when, Jsonb *new_row, Jsonb *old_row,
								const char *trigger_id);

#endif
