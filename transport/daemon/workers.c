/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	workers 3
 * SUMMARY
 *	rrelay-cache's delivery workers: start, replace, stop
 * SYNOPSIS
 *	#include "daemon/workers.h"
 *
 *	int	workers_init(w, conf, listen_fd, forget, forget_ctx)
 *
 *	void	workers_fill(w)
 *
 *	int	workers_reaped(w, pid, status)
 *
 *	void	workers_stop(w)
 * DESCRIPTION
 *	rrelay-cache keeps conf->delivery_workers worker processes
 *	(worker.c), pre-forked, each blocked in accept() on listen_fd.
 *
 *	workers_fill() starts the ones missing, at most twice their number
 *	in one second, so that a worker that dies at once cannot make the
 *	daemon fork without end; the rest wait for a later call. A new
 *	worker first calls forget(forget_ctx), which wipes what the daemon
 *	holds (its tables of connections and TLS sessions), then closes
 *	every descriptor but listen_fd, the log's and its standard ones.
 *
 *	workers_reaped() tells whether pid (just reaped, with status) was
 *	a worker, logs how it ended if not by SIGTERM or exit 0, and
 *	leaves its place for workers_fill(). workers_stop() sends every
 *	worker SIGTERM: each one ends after the delivery in hand.
 * DIAGNOSTICS
 *	workers_init() returns -1 when out of memory.
 *--*/

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "daemon/worker.h"
#include "daemon/workers.h"
#include "net/netio.h"

/* workers_init - no worker yet */

int     workers_init(struct workers *w, const struct rrconfig *conf,
		             int listen_fd, void (*forget) (void *),
		             void *forget_ctx)
{
    memset(w, 0, sizeof(*w));
    w->conf = conf;
    w->listen_fd = listen_fd;
    w->count = (int) conf->delivery_workers;
    w->forget = forget;
    w->forget_ctx = forget_ctx;
    w->pids = calloc((size_t) w->count + 1, sizeof(*w->pids));
    return (w->pids ? 0 : -1);
}

/* close_except - close every descriptor from 3 up but a and b (-1: none) */

static void close_except(int a, int b)
{
    int     lo = a < b ? a : b;
    int     hi = a < b ? b : a;
    unsigned from = 3;

    if (lo >= (int) from) {
	if ((unsigned) lo > from)
	    (void) close_range(from, (unsigned) lo - 1, 0);
	from = (unsigned) lo + 1;
    }
    if (hi >= (int) from && hi != lo) {
	if ((unsigned) hi > from)
	    (void) close_range(from, (unsigned) hi - 1, 0);
	from = (unsigned) hi + 1;
    }
    (void) close_range(from, ~0U, 0);
}

/* become_worker - in the child: forget the daemon, then serve */

static void become_worker(struct workers *w)
{
    w->forget(w->forget_ctx);
    close_except(w->listen_fd, log_file_fd());
    log_reconnect();
    worker_main(w->listen_fd);
}

/* workers_fill - start the missing workers, within the rate */

void    workers_fill(struct workers *w)
{
    long long second = netio_now_ms() / 1000;
    pid_t   pid;
    int     i;

    if (second != w->second) {
	w->second = second;
	w->started = 0;
    }
    for (i = 0; i < w->count && w->running < w->count; i++) {
	if (w->pids[i] != 0)
	    continue;
	if (w->started >= 2 * w->count)
	    return;
	if ((pid = fork()) < 0) {
	    log_warn("cannot start a delivery worker: %s", strerror(errno));
	    return;
	}
	if (pid == 0)
	    become_worker(w);
	w->pids[i] = pid;
	w->running++;
	w->started++;
    }
}

/* workers_reaped - was pid a worker? its place is free again */

int     workers_reaped(struct workers *w, pid_t pid, int status)
{
    int     i;

    for (i = 0; i < w->count; i++) {
	if (w->pids[i] != pid)
	    continue;
	w->pids[i] = 0;
	w->running--;
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
	    log_warn("delivery worker %ld was killed by signal %d; "
		     "starting another", (long) pid, WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
	    log_warn("delivery worker %ld exited with status %d; "
		     "starting another", (long) pid, WEXITSTATUS(status));
	return (1);
    }
    return (0);
}

/* workers_stop - SIGTERM to each: it ends after its delivery */

void    workers_stop(struct workers *w)
{
    int     i;

    for (i = 0; i < w->count; i++)
	if (w->pids[i] > 0)
	    (void) kill(w->pids[i], SIGTERM);
}
