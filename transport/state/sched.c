/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	sched 3
 * SUMMARY
 *	choose among hosts by weight, tier, rate, quota and saturation
 * SYNOPSIS
 *	#include "state/sched.h"
 *
 *	int	sched_avail(host, lim, nrcpt, now_us)
 *	int	sched_swrr(hosts, lims, eligible, count)
 *
 *	void	sched_rate_take(host, lim, now_us)
 *	int64_t	sched_rate_interval(lim)
 *	int64_t	sched_rate_slot(host, lim)
 *
 *	void	sched_quota_roll(host, lim, now)
 *	int64_t	sched_window_start(lim, now)
 *	int64_t	sched_quota_end(lim, window)
 * DESCRIPTION
 *	The pure part of the capacity scheduler: functions of the host
 *	records that rrstate.c keeps in the shared state file, of each
 *	host's limits from host_policy_file, and of a clock that the
 *	caller passes in (so that the unit tests can set it). rrstate.c
 *	calls them inside its locked transactions.
 *
 *	sched_avail() tells whether a host can take a message of nrcpt
 *	recipients now, or why not: down (its backoff), saturated (it
 *	said it is full, or its quota for the current window would be
 *	exceeded), or at its rate limit.
 *
 *	sched_swrr() is nginx's smooth weighted round-robin over the
 *	hosts whose eligible[] is set: each adds its weight to its
 *	current value, the largest current wins (the first in list order
 *	on a tie) and gives back the sum of the eligible weights. Over
 *	any sum(weights) consecutive choices among the same hosts, each
 *	gets exactly its weight, interleaved: 3:1 gives a a b a. A host
 *	that is not eligible keeps its current value, so its share goes
 *	to the others in proportion to their weights.
 *
 *	sched_rate_take() claims one delivery start under a rate limit:
 *	GCRA with no burst, so starts are at least per/rate apart and no
 *	interval of per seconds holds more than rate of them. The spacing
 *	is sched_rate_interval(): per/rate and 2% more, because a start
 *	that is a few milliseconds late (a busy machine) followed by one
 *	on time would otherwise put rate + 1 of them into one interval at
 *	the server; a host is used to 98% of its rate. The one
 *	value kept is the theoretical arrival time: a process killed with
 *	-9 leaks nothing. sched_rate_slot() is when the next start may be.
 *
 *	sched_quota_roll() starts a new quota window when the current one
 *	has ended: the clock hour, or the calendar day in UTC.
 *	sched_window_start() and sched_quota_end() give a window's bounds.
 *--*/

#include "state/sched.h"

#define US	1000000LL
#define RATE_MARGIN	50		/* an interval 1/50 wider */

const char *const sched_avail_name[] = {
    "ok", "down", "saturated", "busy", "busy", "tried",
};

/* window_len - a quota window: the clock hour, else the day */

static int64_t window_len(const struct host_limits *lim)
{
    return (lim->quota_per == 3600 ? 3600 : 86400);
}

/* sched_window_start - the start of the quota window that holds now */

int64_t sched_window_start(const struct host_limits *lim, int64_t now)
{
    int64_t per = window_len(lim);

    return (now - (now % per + per) % per);
}

/* sched_quota_end - when the window that starts at window ends */

int64_t sched_quota_end(const struct host_limits *lim, int64_t window)
{
    return (window > INT64_MAX - 86400 ? INT64_MAX : window + window_len(lim));
}

/* sched_quota_roll - a new window: the count starts again */

void    sched_quota_roll(struct rr_host *host, const struct host_limits *lim,
			         int64_t now)
{
    int64_t start;

    if (lim->quota <= 0)
	return;
    start = sched_window_start(lim, now);
    if (host->quota_window != start) {
	host->quota_window = start;
	host->quota_used = 0;
    }
}

/* quota_full - nrcpt more recipients would pass the window's quota */

static int quota_full(const struct rr_host *host,
		              const struct host_limits *lim, int nrcpt,
		              int64_t now)
{
    uint64_t used;

    if (lim->quota <= 0)
	return (0);
    used = host->quota_window == sched_window_start(lim, now) ?
	host->quota_used : 0;
    return (used + (uint64_t) nrcpt > (uint64_t) lim->quota);
}

/* sched_avail - whether the host can take a message now, or why not */

int     sched_avail(const struct rr_host *host, const struct host_limits *lim,
		            int nrcpt, int64_t now_us)
{
    int64_t now = now_us / US;

    if (host->down_until > now)
	return (AVAIL_DOWN);
    if (host->saturated_until > now || quota_full(host, lim, nrcpt, now))
	return (AVAIL_SATURATED);
    if (lim->rate > 0 && host->rate_tat_us > now_us)
	return (AVAIL_RATE);
    return (AVAIL_OK);
}

/* sched_swrr - smooth weighted round-robin among the eligible hosts */

int     sched_swrr(struct rr_host *hosts, const struct host_limits *lims,
		           const int *eligible, int count)
{
    int64_t total = 0;
    int     best = -1;
    int     i;

    for (i = 0; i < count; i++) {
	if (!eligible[i])
	    continue;
	hosts[i].swrr_current += lims[i].weight;
	total += lims[i].weight;
	if (best < 0 || hosts[i].swrr_current > hosts[best].swrr_current)
	    best = i;
    }
    if (best >= 0)
	hosts[best].swrr_current -= total;
    return (best);
}

/*
 * sched_rate_interval - microseconds between two starts under the rate
 * (0 without one): per/rate, 2% wider, so that the scheduling jitter of a busy machine (a
 * start a few milliseconds late, the next one on time) never puts rate + 1
 * starts into one interval of per seconds at the server.
 */

int64_t sched_rate_interval(const struct host_limits *lim)
{
    int64_t exact;

    if (lim->rate <= 0)
	return (0);
    exact = (lim->rate_per * US + lim->rate - 1) / lim->rate;
    return (exact + (exact + RATE_MARGIN - 1) / RATE_MARGIN);
}

/* sched_rate_take - claim one delivery start under the rate limit */

void    sched_rate_take(struct rr_host *host, const struct host_limits *lim,
			        int64_t now_us)
{
    int64_t interval;

    if (lim->rate <= 0)
	return;
    interval = sched_rate_interval(lim);
    if (host->rate_tat_us < now_us)
	host->rate_tat_us = now_us;
    host->rate_tat_us += interval;
}

/* sched_rate_slot - when the next delivery may start */

int64_t sched_rate_slot(const struct rr_host *host,
			        const struct host_limits *lim)
{
    return (lim->rate > 0 ? host->rate_tat_us : 0);
}
