/*
 * events.h
 *	  Execution events for WebSocket and SSE clients.  One connection
 *	  LISTENs on `flowent`; each event goes to the sinks subscribed to its
 *	  execution (with the step's output, read from the node log as the
 *	  subscriber's user) or to its workflow (without outputs).  A sink that
 *	  joins with `since` first gets what it missed, from the node logs, then
 *	  the live events after it: no gap, no duplicate.
 */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_sink gw_sink;

struct gw_sink
{
	/* deliver one event envelope, or a {"type": ...} reply of the gateway */
	void		(*send) (gw_sink *s, const char *json, size_t len, int seq, bool complete);
	char	   *token;			/* the client's API token: its user reads the outputs */
	int			nsubs;			/* subscriptions held (events.c) */
};

void		gw_events_start(const char *conninfo);
void		gw_events_stop(void);
/* is the LISTEN connection up? */
bool		gw_events_listening(void);
/* since < 0: live events only; every reply is sent through s->send */
void		gw_events_join_execution(gw_sink *s, const char *execution_id, int since);
void		gw_events_leave_execution(gw_sink *s, const char *execution_id);
void		gw_events_join_workflow(gw_sink *s, const char *workflow_id);
void		gw_events_leave_workflow(gw_sink *s, const char *workflow_id);
/* the feed of user_id (the sink's own user): its executions finishing, approvals for it */
void		gw_events_join_feed(gw_sink *s, const char *user_id);
/* the sink is going away: drop every subscription (pending replies are discarded) */
void		gw_events_forget(gw_sink *s);

/* the size past which an output is left out and the event flagged truncated */
#define GW_OUTPUT_CAP 65536

#endif
