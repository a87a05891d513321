/* SPDX-License-Identifier: MIT */
#ifndef RR_WORKERS_H
#define RR_WORKERS_H

/* workers.h - rrelay-cache's delivery workers: start, replace, stop */

#include <sys/types.h>

#include "conf/rrconfig.h"

struct workers {
    const struct rrconfig *conf;
    int     listen_fd;			/* delivery_socket */
    pid_t  *pids;			/* 0: a place to fill */
    int     count;			/* delivery_workers */
    int     running;
    long long second;			/* rate of starts: this second */
    int     started;			/* ... and how many in it */
    void    (*forget) (void *);		/* in a new worker: the daemon's secrets */
    void   *forget_ctx;
};

extern int workers_init(struct workers *w, const struct rrconfig *conf,
			        int listen_fd, void (*forget) (void *),
			        void *forget_ctx);
extern void workers_fill(struct workers *w);
extern int workers_reaped(struct workers *w, pid_t pid, int status);
extern void workers_stop(struct workers *w);

#endif
