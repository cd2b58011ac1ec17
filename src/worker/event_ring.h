/*
 * event_ring.h
 *	  The per-database ring of committed events (event_ring.c) and what its
 *	  events process (events_worker.c) reads from it.
 */
#ifndef FL_EVENT_RING_H
#define FL_EVENT_RING_H

#include "postgres.h"

#include "storage/latch.h"
#include "storage/lwlock.h"

#define FL_ID_LEN 40

/*
 * Records are [uint32 length][payload]; head and tail count bytes written
 * and read since startup.  All fields under lock, but consumer_* which its
 * events process sets.
 */
typedef struct FlEventRing
{
	LWLock	   *lock;
	Oid			dboid;			/* the database its events process serves */
	uint64		head;
	uint64		tail;
	Size		size;
	pid_t		consumer_pid;
	Latch	   *consumer_latch;
	uint64		lost_untracked; /* events skipped when not even a skip record fit */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} FlEventRing;

extern int	fl_event_buffer_kb;

extern Size fl_event_ring_shmem_size(void);
extern void fl_event_ring_shmem_init(void);
extern FlEventRing *fl_event_ring(int slot);
extern void fl_event_ring_read(FlEventRing *r, uint64 pos, void *dst, Size n);
extern bool fl_event_handover_active(void);
extern bool fl_event_enqueue(const char *exec_id, const char *wf_id, int seq,
							 const char *payload, int len);

#endif
