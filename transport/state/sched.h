/* SPDX-License-Identifier: MIT */
#ifndef RR_SCHED_H
#define RR_SCHED_H

/* sched.h - choose among hosts by weight, tier, rate, quota and saturation */

#include <stdint.h>

#include "conf/hostpolicy.h"
#include "state/rrfile.h"

/* Why a host cannot take a message now. */
enum sched_avail {
    AVAIL_OK,				/* it can */
    AVAIL_DOWN,				/* in its backoff */
    AVAIL_SATURATED,			/* said it is full, or used its quota */
    AVAIL_RATE,				/* at its rate limit until a slot */
    AVAIL_CONN,				/* every max_connections slot is taken */
    AVAIL_TRIED,			/* this message has tried it */
};

extern const char *const sched_avail_name[];

extern int sched_avail(const struct rr_host *host,
		               const struct host_limits *lim, int nrcpt,
		               int64_t now_us);
extern int sched_swrr(struct rr_host *hosts, const struct host_limits *lims,
		              const int *eligible, int count);
extern void sched_rate_take(struct rr_host *host,
			            const struct host_limits *lim, int64_t now_us);
extern int64_t sched_rate_interval(const struct host_limits *lim);
extern int64_t sched_rate_slot(const struct rr_host *host,
			               const struct host_limits *lim);
extern void sched_quota_roll(struct rr_host *host,
			             const struct host_limits *lim, int64_t now);
extern int64_t sched_quota_end(const struct host_limits *lim,
			               int64_t window);
extern int64_t sched_window_start(const struct host_limits *lim,
				          int64_t now);

#endif
