/*
 * loop.c
 *	  epoll and a sorted list of timers.  Watches are freed only between
 *	  rounds of epoll_wait, so an event already fetched for a watch dropped
 *	  by an earlier callback of the same round is ignored, not a use after free.
 */
#include "gateway/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "gateway/util.h"

struct gw_watch
{
	int			fd;
	gw_io_fn	fn;
	void	   *arg;
	bool		dead;
	gw_watch   *next_dead;
};

struct gw_timer
{
	int64_t		due;
	gw_timer_fn fn;
	void	   *arg;
	gw_timer   *next;
};

static int	epfd = -1;
static gw_watch *dead_watches;
static gw_timer *timers;		/* sorted by due */
static gw_prepare_fn prepare_fn;
static void *prepare_arg;

int64_t
gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
gw_loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		gw_die("epoll_create1: %m");
}

gw_watch *
gw_watch_add(int fd, uint32_t events, gw_io_fn fn, void *arg)
{
	gw_watch   *w = gw_alloc(sizeof(*w));
	struct epoll_event ev = {.events = events,.data.ptr = w};

	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		gw_die("epoll_ctl add fd %d: %m", fd);
	return w;
}

void
gw_watch_set(gw_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events,.data.ptr = w};

	if (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		gw_die("epoll_ctl mod fd %d: %m", w->fd);
}

void
gw_watch_drop(gw_watch *w)
{
	if (w == NULL || w->dead)
		return;
	/* the fd may be closed already (libpq closes its own): ignore errors */
	epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = true;
	w->next_dead = dead_watches;
	dead_watches = w;
}

gw_timer *
gw_timer_add(int64_t ms, gw_timer_fn fn, void *arg)
{
	gw_timer   *t = gw_alloc(sizeof(*t));
	gw_timer  **p = &timers;

	t->due = gw_now_ms() + ms;
	t->fn = fn;
	t->arg = arg;
	while (*p && (*p)->due <= t->due)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	return t;
}

void
gw_timer_cancel(gw_timer *t)
{
	for (gw_timer **p = &timers; *p; p = &(*p)->next)
		if (*p == t)
		{
			*p = t->next;
			free(t);
			return;
		}
}

void
gw_loop_on_prepare(gw_prepare_fn fn, void *arg)
{
	prepare_fn = fn;
	prepare_arg = arg;
}

static void
run_due_timers(void)
{
	int64_t		now = gw_now_ms();

	while (timers && timers->due <= now)
	{
		gw_timer   *t = timers;

		timers = t->next;
		t->fn(t->arg);
		free(t);
	}
}

void
gw_loop_run(volatile bool *stop)
{
	struct epoll_event evs[128];

	while (!*stop)
	{
		int64_t		wait = -1;
		int			n;

		if (prepare_fn)
			wait = prepare_fn(prepare_arg);
		if (timers)
		{
			int64_t		t = timers->due - gw_now_ms();

			if (t < 0)
				t = 0;
			if (wait < 0 || t < wait)
				wait = t;
		}
		if (wait > 1000 || wait < 0)
			wait = 1000;		/* a signal sets *stop; look at it at least each second */
		n = epoll_wait(epfd, evs, 128, (int) wait);
		if (n < 0 && errno != EINTR)
			gw_die("epoll_wait: %m");
		for (int i = 0; i < n; i++)
		{
			gw_watch   *w = evs[i].data.ptr;

			if (!w->dead)
				w->fn(w->arg, evs[i].events);
		}
		run_due_timers();
		while (dead_watches)
		{
			gw_watch   *w = dead_watches;

			dead_watches = w->next_dead;
			free(w);
		}
	}
}
