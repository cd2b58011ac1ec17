/*
 * ws.h
 *	  WebSocket clients (/ws): the handshake, framing by wslay, the client's
 *	  messages (join/leave an execution or workflow), pings, and a cap on
 *	  what may wait to be sent to one socket.
 */
#ifndef GW_WS_H
#define GW_WS_H

#include "gateway/http.h"

void		gw_ws_upgrade(gw_req *r);
int			gw_ws_count(void);
/* close every socket with 1001 (going away) */
void		gw_ws_close_all(void);

/* bytes that may wait for one slow client before it is closed (1008) */
#define GW_WS_SEND_CAP (4 << 20)

#endif
