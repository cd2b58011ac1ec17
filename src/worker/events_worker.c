/*
 * events_worker.c
 *	  The events process of a database: sends the events that committed
 *	  transactions handed over (event_ring.c) as notifications on channel
 *	  "flowent", many per payload and many payloads per transaction.
 *
 * A payload is one event (a JSON object) or an array of events, always
 * under 8000 bytes.  The ring keeps commit order, so the events of an
 * execution arrive in seq order; an "events:skipped" event {event,
 * executionId, workflowId, fromSeq, toSeq} stands where events that did not
 * fit the ring would have been.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/async.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "worker/event_ring.h"
#include "worker/worker.h"

#define CHANNEL "flowent"
#define PAYLOAD_MAX 7900		/* NOTIFY refuses 8000 bytes and more */
#define CHUNK_BYTES (256 * 1024)	/* read from the ring per transaction */

static FlEventRing *ring = NULL;
static int	my_slot = -1;

static void
events_detach(int code, Datum arg)
{
	if (ring)
	{
		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		ring->consumer_pid = 0;
		ring->consumer_latch = NULL;
		LWLockRelease(ring->lock);
	}
	if (fl_shared && my_slot >= 0)
	{
		SpinLockAcquire(&fl_shared->mutex);
		fl_shared->slots[my_slot].pids[FL_EVENTS_INDEX] = 0;
		SpinLockRelease(&fl_shared->mutex);
	}
}

/* Payloads being built: "[" and events joined by ",", under PAYLOAD_MAX. */
typedef struct Batch
{
	StringInfoData buf;
	int			nevents;
	int64		sent;
} Batch;

/* Send the batch: one event bare, several as an array. */
static void
batch_flush(Batch *b)
{
	if (b->nevents == 1)
		Async_Notify(CHANNEL, b->buf.data + 1);
	else if (b->nevents > 1)
	{
		appendStringInfoChar(&b->buf, ']');
		Async_Notify(CHANNEL, b->buf.data);
	}
	b->sent += b->nevents;
	b->nevents = 0;
	resetStringInfo(&b->buf);
}

static void
batch_add(Batch *b, const char *event, int len)
{
	if (b->nevents > 0 && b->buf.len + 1 + len + 1 > PAYLOAD_MAX)
		batch_flush(b);
	appendStringInfoChar(&b->buf, b->nevents == 0 ? '[' : ',');
	appendBinaryStringInfo(&b->buf, event, len);
	b->nevents++;
}

/*
 * Send what the ring holds, up to CHUNK_BYTES, in one transaction; returns
 * the number of events and notices sent.
 */
static int64
drain_once(MemoryContext cxt)
{
	uint64		start,
				end;
	char	   *bytes;
	uint64		lost;
	Batch		b;

	MemoryContextReset(cxt);
	MemoryContextSwitchTo(cxt);
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	start = end = ring->tail;
	while (end < ring->head && end - start < CHUNK_BYTES)
	{
		uint32		len;

		fl_event_ring_read(ring, end, &len, sizeof(uint32));
		end += sizeof(uint32) + len;
	}
	bytes = palloc(end - start + 1);
	fl_event_ring_read(ring, start, bytes, end - start);
	lost = ring->lost_untracked;
	ring->lost_untracked = 0;
	ring->tail = end;
	LWLockRelease(ring->lock);

	if (start == end && lost == 0)
		return 0;
	memset(&b, 0, sizeof(b));
	initStringInfo(&b.buf);
	StartTransactionCommand();
	for (uint64 pos = start; pos < end;)
	{
		uint32		len;

		memcpy(&len, bytes + (pos - start), sizeof(uint32));
		batch_add(&b, bytes + (pos - start) + sizeof(uint32), len);
		pos += sizeof(uint32) + len;
	}
	if (lost > 0)
	{
		char	   *e = psprintf("{\"event\":\"events:skipped\",\"executionId\":null,\"lost\":" UINT64_FORMAT "}", lost);

		batch_add(&b, e, strlen(e));
		ereport(LOG, (errmsg("flowent: " UINT64_FORMAT " events were skipped without a record of their executions (the event buffer was full)", lost)));
	}
	batch_flush(&b);
	CommitTransactionCommand();
	return b.sent;
}

/* Is PostgreSQL's notification queue over half full?  Logged every 10 s. */
static bool
queue_nearly_full(void)
{
	static TimestampTz logged = 0;
	bool		full;

	StartTransactionCommand();
	full = DatumGetFloat8(DirectFunctionCall1(pg_notification_queue_usage, (Datum) 0)) > 0.5;
	CommitTransactionCommand();
	if (full && TimestampDifferenceExceeds(logged, GetCurrentTimestamp(), 10000))
	{
		logged = GetCurrentTimestamp();
		ereport(LOG, (errmsg("flowent: the notification queue is over half full (listeners are behind): events wait")));
	}
	return full;
}

/* Events process entry point (fl_worker_attach says what it is given). */
void
fl_events_main(Datum arg)
{
	MemoryContext cxt;
	int			index;

	my_slot = fl_worker_attach(arg, "flowent events", &index);

	/*
	 * Sending a notification assigns an xid, so every batch commits with a
	 * commit record.  Waiting for its flush would only queue this process
	 * behind the runs' own WAL flushes: notifications do not outlive a crash
	 * anyway, and they are delivered at commit, flushed or not.
	 */
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	ring = fl_event_ring(my_slot);
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	if (ring->dboid != MyDatabaseId)
	{
		/* the slot served another database before: nothing of it is ours */
		ring->tail = ring->head;
		ring->lost_untracked = 0;
		ring->dboid = MyDatabaseId;
	}
	ring->consumer_pid = MyProcPid;
	ring->consumer_latch = MyLatch;
	LWLockRelease(ring->lock);
	SpinLockAcquire(&fl_shared->mutex);
	fl_shared->slots[my_slot].pids[FL_EVENTS_INDEX] = MyProcPid;
	SpinLockRelease(&fl_shared->mutex);
	before_shmem_exit(events_detach, (Datum) 0);
	cxt = AllocSetContextCreate(TopMemoryContext, "flowent events", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		ResetLatch(MyLatch);
		if (queue_nearly_full())
		{
			/* listeners are far behind: wait; the ring fills, runs record skips */
			(void) WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100, PG_WAIT_EXTENSION);
			continue;
		}
		pgstat_report_activity(STATE_RUNNING, "flowent: sending events");
		while (drain_once(cxt) > 0 && !queue_nearly_full())
			CHECK_FOR_INTERRUPTS();
		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000, PG_WAIT_EXTENSION);
	}
}
