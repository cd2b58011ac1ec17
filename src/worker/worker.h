/*
 * worker.h
 *	  The background worker: a launcher and a pool of workers per database.
 */
#ifndef FL_WORKER_H
#define FL_WORKER_H

#include "postgres.h"

#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/spin.h"

#define FL_MAX_DBS 64
#define FL_MAX_WORKERS 16
#define FL_EVENTS_INDEX FL_MAX_WORKERS	/* the events process, after the workers */

/* One served database. */
typedef struct FlDbSlot
{
	Oid			dboid;
	int			nworkers;		/* running */
	pid_t		pids[FL_MAX_WORKERS + 1];	/* workers, then the events process */
	Latch	   *latches[FL_MAX_WORKERS];
	pg_atomic_uint32 pending;	/* work was queued since the last look */
	bool		no_extension;	/* workers found no extension here */
	TimestampTz retry_at;		/* when to look again */
	TimestampTz dropping_until; /* DROP DATABASE in progress */
} FlDbSlot;

#define FL_CANCEL_SLOTS 64
#define FL_SETTLE_SLOTS 256
#define FL_CANCEL_REASON_MAX 256

/* A cancel of an execution a worker runs right now, kept until it sees it. */
typedef struct FlCancelRequest
{
	char		exec_id[40];
	char		reason[FL_CANCEL_REASON_MAX];
	bool		has_reason;
} FlCancelRequest;

/* An execution a worker settled in a unit that has not committed yet. */
typedef struct FlSettling
{
	char		exec_id[40];
	pid_t		pid;
} FlSettling;

typedef struct FlShared
{
	slock_t		mutex;
	FlCancelRequest cancels[FL_CANCEL_SLOTS];	/* a ring */
	int			cancel_next;
	FlSettling	settling[FL_SETTLE_SLOTS];
	Latch	   *launcher_latch;
	pg_atomic_uint32 rescan;
	FlDbSlot	slots[FL_MAX_DBS];
	/* committed changes to what cached answers show (src/pg/change_stamp.c) */
	pg_atomic_uint64 changes;
	uint64		changes_epoch;
} FlShared;

extern FlShared *fl_shared;

/* GUCs of the worker (exist only when preloaded) */
extern char *fl_worker_databases;
extern int	fl_worker_count;
extern int	fl_max_inflight_http;

extern void fl_worker_init(void);
extern bool fl_worker_available(void);
/* ask the workers of this database to look for work once we commit */
extern void fl_wake_at_commit(void);
extern void fl_wake_db(Oid dboid);
extern void fl_rescan_at_commit(void);
extern bool fl_request_cancel(const char *exec_id, const char *reason);
extern bool fl_cancel_requested(const char *exec_id, char **reason);
extern bool fl_cancel_pending(const char *exec_id);
extern bool fl_cancel_or_settle(const char *exec_id, char **reason);
extern void fl_settled(void);

/* worker.c */
extern int	fl_worker_attach(Datum arg, const char *appname, int *index);
/* a unit of work is one transaction with SPI connected */
extern void fl_unit_begin(const char *what);
extern void fl_unit_commit(void);
extern void fl_unit_failed(const char *exec_id);
extern void fl_unit_abandon(void);

/* lease.c */
extern bool fl_lease_try(const char *exec_id);
extern void fl_lease_hold(const char *exec_id);
extern void fl_lease_release(const char *exec_id);
extern void fl_lease_return(const char *exec_id);

/* http_multi.c */
extern void fl_http_multi_init(void);
extern void fl_http_multi_start_pending(void);
extern void fl_http_multi_drop_pending(void);
extern void fl_http_multi_drop_pending_for(const char *exec_id);
extern int	fl_http_multi_inflight(void);
extern bool fl_http_multi_wait(long timeout_ms);
extern void fl_http_multi_reap_cancelled(void);

PGDLLEXPORT void fl_launcher_main(Datum arg);
PGDLLEXPORT void fl_worker_main(Datum arg);
PGDLLEXPORT void fl_events_main(Datum arg);

#endif
