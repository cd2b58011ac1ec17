/*
 * event_ring.c
 *	  Events off the commit path: a transaction's events are handed over at
 *	  its commit to a ring in shared memory, one per served database, which
 *	  the database's events process (events_worker.c) sends as batched
 *	  notifications.
 *
 * A pg_notify in the run's own transaction makes every run take
 * PostgreSQL's cluster-wide NOTIFY lock at commit and hold it until its
 * commit record is flushed: concurrent runs commit one after another.  Here
 * only the events process takes that lock, once per batch.
 *
 * A transaction collects its events in backend memory (dropped with an
 * aborted subtransaction, as NOTIFY does) and copies them into the ring from
 * its commit callback, so a rolled-back run emits nothing.  An event that
 * does not fit (the ring is full, the events process is behind or down) is
 * not lost silently: an "events:skipped" record {event, executionId,
 * workflowId, fromSeq, toSeq} takes its place in the stream, from a reserve
 * of the ring kept for them, so it arrives before any later event of that
 * execution.  Clients catch up from the node logs, which carry the same seq.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "worker/event_ring.h"
#include "worker/worker.h"

int			fl_event_buffer_kb = 256;

static FlEventRing *rings = NULL;	/* FL_MAX_DBS of them, ring_bytes each */
static Size ring_bytes = 0;

/* The events of this transaction not yet handed over. */
typedef struct PendingEvent
{
	char		exec_id[FL_ID_LEN];
	char		wf_id[FL_ID_LEN];
	int			seq;
	int			nest;			/* subtransaction level that emitted it */
	int			len;
	char	   *payload;
} PendingEvent;

static PendingEvent *pending = NULL;	/* in TopTransactionContext */
static int	npending = 0;
static int	pending_cap = 0;
static bool callbacks_registered = false;
static FlEventRing *my_ring = NULL;
static int	my_ring_slot = -1;
static TimestampTz last_skip_log = 0;

static Size
ring_stride(void)
{
	return MAXALIGN(offsetof(FlEventRing, data) + ring_bytes);
}

Size
fl_event_ring_shmem_size(void)
{
	ring_bytes = (Size) fl_event_buffer_kb * 1024;
	return mul_size(FL_MAX_DBS, ring_stride());
}

void
fl_event_ring_shmem_init(void)
{
	bool		found;
	LWLockPadded *locks;

	ring_bytes = (Size) fl_event_buffer_kb * 1024;
	rings = ShmemInitStruct("flowent events", fl_event_ring_shmem_size(), &found);
	if (found)
		return;
	locks = GetNamedLWLockTranche("flowent events");
	for (int i = 0; i < FL_MAX_DBS; i++)
	{
		FlEventRing *r = fl_event_ring(i);

		memset(r, 0, offsetof(FlEventRing, data));
		r->lock = &locks[i].lock;
		r->size = ring_bytes;
	}
}

FlEventRing *
fl_event_ring(int slot)
{
	return (FlEventRing *) ((char *) rings + slot * ring_stride());
}

/*
 * The ring of this backend's database, when its events process runs; NULL
 * means: send from the transaction (not preloaded, database not served).
 */
static FlEventRing *
ring_of_my_database(void)
{
	if (rings == NULL || !fl_worker_available())
		return NULL;
	if (my_ring_slot < 0 || fl_shared->slots[my_ring_slot].dboid != MyDatabaseId)
	{
		my_ring_slot = -1;
		SpinLockAcquire(&fl_shared->mutex);
		for (int i = 0; i < FL_MAX_DBS; i++)
			if (fl_shared->slots[i].dboid == MyDatabaseId)
				my_ring_slot = i;
		SpinLockRelease(&fl_shared->mutex);
		if (my_ring_slot < 0)
			return NULL;
	}
	my_ring = fl_event_ring(my_ring_slot);
	return my_ring->consumer_pid != 0 ? my_ring : NULL;
}

/* Are this database's events handed over to its events process? */
bool
fl_event_handover_active(void)
{
	return ring_of_my_database() != NULL;
}

/* Copy bytes into the ring at a position, wrapping around. */
static void
ring_write(FlEventRing *r, uint64 pos, const void *src, Size n)
{
	Size		off = pos % r->size;
	Size		first = Min(n, r->size - off);

	memcpy(r->data + off, src, first);
	if (first < n)
		memcpy(r->data, (const char *) src + first, n - first);
}

void
fl_event_ring_read(FlEventRing *r, uint64 pos, void *dst, Size n)
{
	Size		off = pos % r->size;
	Size		first = Min(n, r->size - off);

	memcpy(dst, r->data + off, first);
	if (first < n)
		memcpy((char *) dst + first, r->data, n - first);
}

/* Write one record [uint32 length][payload] at the head (ring lock held). */
static void
ring_put(FlEventRing *r, const char *payload, uint32 len)
{
	ring_write(r, r->head, &len, sizeof(uint32));
	ring_write(r, r->head + sizeof(uint32), payload, len);
	r->head += sizeof(uint32) + len;
}

static uint64
ring_free(FlEventRing *r)
{
	return r->size - (r->head - r->tail);
}

/*
 * A run of one execution's events that did not fit: an "events:skipped"
 * record where they would have stood, from the ring's reserve; when even
 * that is full, only counted (ring lock held).
 */
static void
put_skip(FlEventRing *r, const PendingEvent *first, int to_seq)
{
	char		text[256];
	int			len = snprintf(text, sizeof(text),
							   "{\"event\":\"events:skipped\",\"executionId\":\"%s\",\"workflowId\":\"%s\",\"fromSeq\":%d,\"toSeq\":%d}",
							   first->exec_id, first->wf_id, first->seq, to_seq);

	if (ring_free(r) >= sizeof(uint32) + len)
		ring_put(r, text, len);
	else
		r->lost_untracked += to_seq - first->seq + 1;
}

/*
 * Commit: the transaction's events go into the ring, in order.  Events use
 * the ring up to its reserve (an eighth), which is kept for skip records.
 */
static void
hand_over(void)
{
	FlEventRing *r = my_ring;
	int			skipped = 0;
	PendingEvent *skip_first = NULL;	/* the first event of a run being skipped */
	int			skip_to = 0;

	if (r == NULL)
		return;
	LWLockAcquire(r->lock, LW_EXCLUSIVE);
	for (int i = 0; i < npending; i++)
	{
		PendingEvent *e = &pending[i];
		Size		need = sizeof(uint32) + e->len;
		bool		same = skip_first && strcmp(skip_first->exec_id, e->exec_id) == 0;

		/* once an event of an execution is skipped, its later ones here are too */
		if (same || r->consumer_pid == 0 || ring_free(r) < need + r->size / 8)
		{
			if (skip_first && !same)
				put_skip(r, skip_first, skip_to);
			if (!same)
				skip_first = e;
			skip_to = e->seq;
			skipped++;
			continue;
		}
		ring_put(r, e->payload, e->len);
	}
	if (skip_first)
		put_skip(r, skip_first, skip_to);
	LWLockRelease(r->lock);
	if (r->consumer_latch)
		SetLatch(r->consumer_latch);
	if (skipped > 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (TimestampDifferenceExceeds(last_skip_log, now, 1000))
		{
			last_skip_log = now;
			ereport(LOG,
					(errmsg("flowent: the event buffer is full or its events process is not running: %d events of a committed transaction were skipped",
							skipped),
					 errhint("Listeners get an \"events:skipped\" notification with the seq range; raise flowent.event_buffer_kb if this recurs.")));
		}
	}
}

static void
forget_pending(void)
{
	pending = NULL;
	npending = pending_cap = 0;
}

static void
ring_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (npending > 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that ran workflow steps (their events wait for the commit)")));
			break;
		case XACT_EVENT_COMMIT:
			if (npending > 0)
				hand_over();
			forget_pending();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			forget_pending();
			break;
		default:
			break;
	}
}

/* Events of an aborted subtransaction go with it; a committed one's move up. */
static void
ring_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (npending > 0 && pending[npending - 1].nest >= level)
			npending--;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = npending - 1; i >= 0 && pending[i].nest >= level; i--)
			pending[i].nest = level - 1;
	}
}

/*
 * Hand an event over at commit when this database's events process runs;
 * false: the caller sends it from the transaction instead.
 */
bool
fl_event_enqueue(const char *exec_id, const char *wf_id, int seq, const char *payload, int len)
{
	PendingEvent *e;
	MemoryContext old;

	if (npending == 0 && ring_of_my_database() == NULL)
		return false;
	if (!callbacks_registered)
	{
		RegisterXactCallback(ring_xact_callback, NULL);
		RegisterSubXactCallback(ring_subxact_callback, NULL);
		callbacks_registered = true;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	if (npending == pending_cap)
	{
		pending_cap = Max(32, pending_cap * 2);
		pending = pending ? repalloc(pending, sizeof(PendingEvent) * pending_cap)
			: palloc(sizeof(PendingEvent) * pending_cap);
	}
	e = &pending[npending++];
	strlcpy(e->exec_id, exec_id, FL_ID_LEN);
	strlcpy(e->wf_id, wf_id, FL_ID_LEN);
	e->seq = seq;
	e->nest = GetCurrentTransactionNestLevel();
	e->len = len;
	e->payload = pnstrdup(payload, len);
	MemoryContextSwitchTo(old);
	return true;
}
