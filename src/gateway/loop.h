/*
 * loop.h
 *	  The gateway's one event loop: epoll over every socket (HTTP, libpq,
 *	  WebSocket), plus one-shot timers.  Single-threaded: callbacks run one
 *	  at a time and must not block.
 */
#ifndef GW_LOOP_H
#define GW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*gw_io_fn) (void *arg, uint32_t events);
typedef void (*gw_timer_fn) (void *arg);

typedef struct gw_watch gw_watch;
typedef struct gw_timer gw_timer;

void		gw_loop_init(void);
/* watch fd for events (EPOLLIN/EPOLLOUT...); returns a handle to change or drop it */
gw_watch   *gw_watch_add(int fd, uint32_t events, gw_io_fn fn, void *arg);
void		gw_watch_set(gw_watch *w, uint32_t events);
void		gw_watch_drop(gw_watch *w);

/* run fn once, after ms; gw_timer_cancel before it fires frees it */
gw_timer   *gw_timer_add(int64_t ms, gw_timer_fn fn, void *arg);
void		gw_timer_cancel(gw_timer *t);

int64_t		gw_now_ms(void);
/* called before every wait: returns the longest the loop may sleep (ms, -1 = no limit) */
typedef int64_t (*gw_prepare_fn) (void *arg);
void		gw_loop_on_prepare(gw_prepare_fn fn, void *arg);
void		gw_loop_run(volatile bool *stop);

#endif
