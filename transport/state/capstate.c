/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	capstate 3
 * SUMMARY
 *	the capacity scheduler's transactions on the shared state
 * SYNOPSIS
 *	#include "state/rrstate.h"
 *
 *	void	rrstate_pick_cap(st, cap, tried, probe, now_us, lease, pick)
 *	void	rrstate_saturate(st, index, cls, until, reply, now, change)
 *	void	rrstate_quota_settle(st, index, lim, reserved, used, now)
 *	int64_t	rrstate_mail_gate(st, index, lim, now_us)
 * DESCRIPTION
 *	rrstate_pick_cap() is rrstate_pick() and rrstate_next() when
 *	host_policy_file gives hosts weights, tiers and limits (cap): in
 *	one transaction it finds what each host can take (sched.c), makes
 *	the weighted choice among the primary hosts that can take the
 *	message, else among the backup hosts, and claims it: a rate slot,
 *	the recipients against its quota, a connection slot through
 *	cap->slot_take() (a host whose slots are all taken is passed
 *	over). Hosts the message has tried (tried) are left out. When none
 *	can take it now but some are only busy (rate or connections),
 *	pick->wait_us says when to ask again; when all are down and probe
 *	is set, the one whose backoff ends first is probed. pick->busy
 *	lists hosts that have become busy after a minute without being
 *	busy (a host at its rate is busy again after every slot it gives,
 *	so this is when it starts to turn mail away), pick->why says for
 *	each host why it was passed over, so that each change is logged
 *	once.
 *	The cursor is not used.
 *
 *	rrstate_saturate() records a reply that says the host is full: it
 *	is skipped until "until", neither marked down nor counted as a
 *	failure. rrstate_quota_settle() gives back the recipients that a
 *	choice reserved against a quota and the host did not take.
 *
 *	rrstate_mail_gate() claims a MAIL FROM slot under the host's
 *	rate and returns the wait until it, in microseconds.
 *
 *	Each is one transaction of rrstate.c (rrstate_begin() to
 *	rrstate_commit()); the rules themselves are sched.c's.
 *--*/

#include <stdio.h>
#include <string.h>

#include "conf/saturation.h"
#include "state/rrstate.h"
#include "state/sched.h"

#define SWRR_MAX	(1000000LL)	/* far beyond sum(weights) * hosts */
#define BUSY_QUIET	60		/* seconds not busy before "busy" is news */

/* cap_avail - each host's availability for this message, with slots */

static void cap_avail(struct rrstate *st, const struct rr_cap *cap,
		              const int *tried, int64_t now_us, int *why)
{
    const struct host_limits *lim;
    struct rr_host *host;
    uint32_t i;

    for (i = 0; i < st->head.count; i++) {
	host = &st->hosts[i];
	lim = &cap->lims[i];
	/* A slot claimed beyond one interval ahead: the clock went back. */
	if (lim->rate > 0 && host->rate_tat_us > now_us
	    + sched_rate_interval(lim))
	    host->rate_tat_us = now_us;
	/* Values no run of the scheduler makes: a damaged file. */
	if (host->swrr_current > SWRR_MAX || host->swrr_current < -SWRR_MAX)
	    host->swrr_current = 0;
	if (lim->quota > 0 && host->quota_used > (uint64_t) lim->quota)
	    host->quota_used = (uint64_t) lim->quota;
	sched_quota_roll(host, lim, now_us / 1000000LL);
	host->weight = (uint32_t) lim->weight;
	host->backup = (uint32_t) lim->backup;
	host->rate = lim->rate;
	host->rate_per = lim->rate_per;
	host->max_conn = lim->max_conn;
	host->quota = lim->quota;
	host->quota_per = lim->quota_per;
	why[i] = tried && tried[i] ? AVAIL_TRIED :
	    sched_avail(host, lim, cap->nrcpt, now_us);
    }
}

/* cap_choose - weighted choice in one tier; skip hosts with no free slot */

static int cap_choose(struct rrstate *st, const struct rr_cap *cap,
		              int *why, int backup)
{
    int64_t saved[HOSTLIST_MAX];
    int     eligible[HOSTLIST_MAX];
    int     count = (int) st->head.count;
    int     best;
    int     i;

    for (i = 0; i < count; i++) {
	saved[i] = st->hosts[i].swrr_current;
	eligible[i] = why[i] == AVAIL_OK && cap->lims[i].backup == backup;
    }
    for (;;) {
	if ((best = sched_swrr(st->hosts, cap->lims, eligible, count)) < 0)
	    return (-1);
	if (cap->lims[best].max_conn <= 0 || cap->slot_take == 0
	    || cap->slot_take(cap->slot_ctx, best))
	    return (best);
	why[best] = AVAIL_CONN;
	eligible[best] = 0;
	for (i = 0; i < count; i++)
	    st->hosts[i].swrr_current = saved[i];
    }
}

/* cap_claim - the chosen host: a rate slot, the quota, a probe's lease */

static void cap_claim(struct rrstate *st, const struct rr_cap *cap,
		              struct rr_pick *pick, int64_t now_us, long lease)
{
    struct rr_host *host = &st->hosts[pick->index];
    const struct host_limits *lim = &cap->lims[pick->index];

    rrstate_take(host, (time_t) (now_us / 1000000LL), lease);
    sched_rate_take(host, lim, now_us);
    if (lim->quota > 0) {
	host->quota_used += (uint64_t) cap->nrcpt;
	pick->quota_now_full = host->quota_used >= (uint64_t) lim->quota;
	if (pick->quota_now_full) {
	    host->sat_quota++;
	    host->sat_class = SAT_QUOTA;
	    host->saturated_until = sched_quota_end(lim, host->quota_window);
	    snprintf(host->sat_reply, sizeof(host->sat_reply), "quota=%ld/%s "
		     "used up", lim->quota, lim->quota_per == 3600 ? "h" : "d");
	}
    }
}

/* cap_busy - note busy hosts; when none can take it, when to try again */

static void cap_busy(struct rrstate *st, const struct rr_cap *cap,
		             struct rr_pick *pick, int64_t now_us)
{
    struct rr_host *host;
    int64_t slot;
    int     first = -1;
    uint32_t i;

    for (i = 0; i < st->head.count; i++) {
	if (pick->why[i] != AVAIL_RATE && pick->why[i] != AVAIL_CONN)
	    continue;
	host = &st->hosts[i];
	/* At its limit after a quiet spell: one log line, not one a slot. */
	if (host->busy_last + BUSY_QUIET < now_us / 1000000)
	    pick->busy[pick->nbusy++] = (int) i;
	host->busy_last = now_us / 1000000;
	if (pick->index >= 0) {
	    host->busy_skips++;
	    continue;
	}
	slot = pick->why[i] == AVAIL_RATE ?
	    sched_rate_slot(host, &cap->lims[i]) : now_us + 50000;
	if (pick->wait_us == 0 || slot < pick->wait_us) {
	    pick->wait_us = slot;
	    first = (int) i;
	}
    }
    if (first >= 0 && !cap->waited)
	st->hosts[first].rate_waits++;
}

/* cap_probe - every untried host is down: the one whose backoff ends first */

static void cap_probe(struct rrstate *st, struct rr_pick *pick)
{
    uint32_t i;

    for (i = 0; i < st->head.count; i++)
	if (pick->why[i] == AVAIL_DOWN && (pick->index < 0
		    || st->hosts[i].down_until
			   < st->hosts[pick->index].down_until))
	    pick->index = (int) i;
    pick->probe = pick->index >= 0;
}

/* rrstate_pick_cap - the next host by weight, tier and limits */

void    rrstate_pick_cap(struct rrstate *st, const struct rr_cap *cap,
			         const int *tried, int probe, int64_t now_us,
			         long lease, struct rr_pick *pick)
{
    time_t  now = (time_t) (now_us / 1000000LL);
    uint32_t i;

    memset(pick, 0, sizeof(*pick));
    rrstate_begin(st, now);
    cap_avail(st, cap, tried, now_us, pick->why);
    if ((pick->index = cap_choose(st, cap, pick->why, 0)) < 0)
	pick->backup = (pick->index = cap_choose(st, cap, pick->why, 1)) >= 0;
    cap_busy(st, cap, pick, now_us);
    if (pick->index < 0 && pick->wait_us == 0 && probe)
	cap_probe(st, pick);
    if (pick->index >= 0 && !pick->probe)
	cap_claim(st, cap, pick, now_us, lease);
    for (i = 0; i < st->head.count; i++)
	if (pick->why[i] == AVAIL_DOWN)
	    pick->skipped[pick->nskipped++] = (int) i;
    rrstate_commit(st, now);
}

/* rrstate_saturate - the host said it is full: skip it until then */

void    rrstate_saturate(struct rrstate *st, int index, int cls, time_t until,
			         const char *reply, time_t now,
			         struct rr_change *change)
{
    struct rr_host *host;

    rrstate_begin(st, now);
    host = &st->hosts[index];
    change->changed = host->saturated_until <= (int64_t) now;
    change->failures = host->failures;
    change->backoff = (long) (until - now);
    change->counted = 1;
    if (host->saturated_until < (int64_t) until)
	host->saturated_until = until;
    host->sat_class = (uint32_t) cls;
    if (cls == SAT_QUOTA)
	host->sat_quota++;
    else
	host->sat_throttle++;
    snprintf(host->sat_reply, sizeof(host->sat_reply), "%s", reply);
    rrstate_commit(st, now);
}

/* rrstate_quota_settle - give back what a delivery reserved but did not use */

void    rrstate_quota_settle(struct rrstate *st, int index,
			             const struct host_limits *lim, int reserved,
			             int used, time_t now)
{
    struct rr_host *host;

    if (lim->quota <= 0 || reserved <= used)
	return;
    rrstate_begin(st, now);
    host = &st->hosts[index];
    if (host->quota_window == sched_window_start(lim, now)) {
	host->quota_used -= host->quota_used < (uint64_t) (reserved - used) ?
	    host->quota_used : (uint64_t) (reserved - used);
	/* Room again: end a saturation that the full quota itself set. */
	if (host->quota_used < (uint64_t) lim->quota
	    && host->sat_class == SAT_QUOTA && host->saturated_until
	    == sched_quota_end(lim, host->quota_window))
	    host->saturated_until = 0;
    }
    rrstate_commit(st, now);
}

/*
 * rrstate_mail_gate - a MAIL FROM slot under the host's rate: the wait
 * until it, in microseconds. The choice claimed a slot too, but the
 * connection, greeting and EHLO after it take a varying time; this
 * second GCRA, taken just before the command, spaces the MAIL FROMs
 * themselves as the server sees them.
 */

int64_t rrstate_mail_gate(struct rrstate *st, int index,
			          const struct host_limits *lim, int64_t now_us)
{
    struct rr_host *host;
    int64_t interval;
    int64_t slot;

    if (lim->rate <= 0)
	return (0);
    interval = sched_rate_interval(lim);
    rrstate_begin(st, (time_t) (now_us / 1000000));
    host = &st->hosts[index];
    /* Far ahead (waiters queue up, but not for an hour): the clock went
     * back, or a damaged file. */
    if (host->mail_tat_us > now_us + interval + 3600 * 1000000LL
	|| host->mail_tat_us < 0)
	host->mail_tat_us = now_us;
    slot = host->mail_tat_us > now_us ? host->mail_tat_us : now_us;
    host->mail_tat_us = slot + interval;
    rrstate_commit(st, (time_t) (now_us / 1000000));
    return (slot - now_us);
}
