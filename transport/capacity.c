/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	capacity 3
 * SUMMARY
 *	each upstream's limits: choose, wait, log, count
 * SYNOPSIS
 *	#include "capacity.h"
 *
 *	void	capacity_init(cap, conf, list)
 *	void	capacity_close(cap)
 *	void	capacity_start(cap, req)
 *
 *	int	capacity_pick(cap, st, req, tried, probe, lease, pick)
 *	void	capacity_mail_gate(gate)
 *	void	capacity_done(cap, st, index, reserved, used)
 *	int	capacity_saturate(cap, st, req, index, res)
 *	void	capacity_nowhere(cap, st, pick, dsn, dsnlen, why, whylen)
 * DESCRIPTION
 *	The part of the failover policy (relay.c) that host_policy_file
 *	adds: weights, backup hosts, rate, connection and quota limits;
 *	and, with or without the file, replies that say a host is full.
 *
 *	capacity_init() looks up each host's limits and, when one has
 *	max_connections, opens the list's slot file (slots.c).
 *	capacity_start() begins a message: it may wait for a rate or
 *	connection slot for rate_wait, once in all.
 *
 *	capacity_pick() asks the shared state for the next host
 *	(rrstate_pick_cap()). When every host that could take the message
 *	is only busy, it sleeps until the earliest slot and asks again,
 *	until rate_wait has passed; then cap->busy_out is set. It logs,
 *	once per change of state, a host that has become busy
 *	(status=busy) or used up its quota (status=saturated), and says
 *	when and why a message goes to a backup host. It returns whether
 *	a host changed state (busy, or its quota used up).
 *
 *	capacity_mail_gate() is the SMTP session's hook just before MAIL
 *	FROM for a host with a rate: the choice claimed a slot already,
 *	but connect, greeting and EHLO take a varying time after it, so a
 *	second slot, at the wire, spaces the MAIL FROMs themselves as the
 *	server counts them (rrstate_mail_gate()). It waits no longer than
 *	what is left of rate_wait.
 *
 *	capacity_done() ends a session: its connection slot is released,
 *	and the recipients reserved against a quota that the host did
 *	not take are given back.
 *
 *	capacity_saturate() records a reply that said the host is full:
 *	saturated for throttle_backoff (class throttle), or for
 *	quota_backoff, or until the end of its quota window when it has a
 *	quota= (class quota); status=saturated is logged when it was not
 *	saturated before, and then it returns 1. The host is not marked
 *	down.
 *
 *	capacity_nowhere() words the deferral when no host could take the
 *	message: 4.4.5 and all hosts at their limits, or all saturated,
 *	with the reply that said so.
 *--*/

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "conf/saturation.h"
#include "net/netio.h"
#include "capacity.h"
#include "state/sched.h"

/* now_us - the wall clock in microseconds, as every process sees it */

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* stamp - a time for the log */

static const char *stamp(time_t t, char *buf, size_t len)
{
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    return (buf);
}

/* capacity_init - each host's limits; the slot file when one has any */

void    capacity_init(struct capacity *cap, const struct rrconfig *conf,
		              const struct hostlist *list)
{
    int     i;

    /* Not a memset of all: the slot file's paths are 8 KB. */
    cap->limited = 0;
    cap->slots.fd = -1;
    cap->slots.held = -1;
    for (i = 0; i < list->count; i++) {
	hostpolicy_limits(conf->host_policy, list->dests[i].text,
			  &cap->lims[i]);
	cap->limited |= cap->lims[i].max_conn > 0;
    }
    if (cap->limited)
	slots_open(&cap->slots, conf->state_directory, hostlist_hash(list));
}

/* capacity_close - release the slot file */

void    capacity_close(struct capacity *cap)
{
    if (cap->limited)
	slots_close(&cap->slots);
}

/* capacity_start - a new message: its wait for a slot starts now */

void    capacity_start(struct capacity *cap, const struct smtp_request *req)
{
    cap->rate_wait = req->conf->rate_wait;
    cap->wait_until_ms = netio_now_ms() + cap->rate_wait * 1000LL;
    if (cap->wait_until_ms > req->deadline_ms)
	cap->wait_until_ms = req->deadline_ms;
    cap->waited = 0;
    cap->busy_out = 0;
}

/* slot_take - the rr_cap hook: hold one of host index's session slots */

static int slot_take(void *ctx, int index)
{
    struct capacity *cap = ctx;

    return (slots_take(&cap->slots, index, cap->lims[index].max_conn));
}

/* pending_count - recipients that this host will be offered */

static int pending_count(const struct smtp_request *req)
{
    int     i;
    int     count = 0;

    for (i = 0; i < req->nrcpt; i++)
	count += req->rcpts[i].state == RCPT_PENDING && !req->rcpts[i].final;
    return (count);
}

/* log_busy - one line for each host that has just become busy */

static void log_busy(const struct capacity *cap, const struct rrstate *st,
		             const struct smtp_request *req,
		             const struct rr_pick *pick)
{
    const struct host_limits *lim;
    int     i;
    int     j;

    for (i = 0; i < pick->nbusy; i++) {
	j = pick->busy[i];
	lim = &cap->lims[j];
	if (pick->why[j] == AVAIL_RATE)
	    log_info("%s: host=%s, status=busy (at its rate limit, rate=%ld/%s)",
		     req->queue_id, st->hosts[j].dest, lim->rate,
		     lim->rate_per == 1 ? "s" : lim->rate_per == 60 ? "m" : "h");
	else
	    log_info("%s: host=%s, status=busy (all max_connections=%ld "
		     "sessions in use)", req->queue_id, st->hosts[j].dest,
		     lim->max_conn);
    }
}

/* log_choice - a backup's turn, or a quota just used up */

static void log_choice(const struct capacity *cap, const struct rrstate *st,
		               const struct smtp_request *req,
		               const struct rr_pick *pick)
{
    char    why[512] = "";
    char    buf[32];
    size_t  len = 0;
    const struct rr_host *host = &st->hosts[pick->index];
    int64_t end;
    int     i;

    for (i = 0; pick->backup && i < (int) st->head.count; i++)
	if (!cap->lims[i].backup && len < sizeof(why))
	    len += (size_t) snprintf(why + len, sizeof(why) - len, "%s%s %s",
				     len ? ", " : "", st->hosts[i].dest,
				     sched_avail_name[pick->why[i]]);
    if (pick->backup)
	log_info("%s: host=%s, status=backup (no primary host can take it: "
		 "%s)", req->queue_id, host->dest, why);
    if (pick->quota_now_full) {
	end = sched_quota_end(&cap->lims[pick->index], host->quota_window);
	log_info("%s: host=%s, status=saturated, class=quota (quota=%ld/%s "
		 "used up; until %s)", req->queue_id, host->dest,
		 cap->lims[pick->index].quota,
		 cap->lims[pick->index].quota_per == 3600 ? "h" : "d",
		 stamp((time_t) end, buf, sizeof(buf)));
    }
}

/* capacity_pick - the next host within the limits; wait for a slot */

int     capacity_pick(struct capacity *cap, struct rrstate *st,
		              const struct smtp_request *req, const int *tried,
		              int probe, long lease, struct rr_pick *pick)
{
    struct rr_cap rc = {cap->lims, pending_count(req), 0, slot_take, cap};
    long long wait_ms;
    int     changed = 0;

    for (;;) {
	rc.waited = cap->waited;
	rrstate_pick_cap(st, &rc, tried, probe, now_us(), lease, pick);
	log_busy(cap, st, req, pick);
	changed |= pick->nbusy > 0;
	if (pick->index >= 0 || pick->wait_us == 0)
	    break;
	wait_ms = pick->wait_us / 1000 - now_us() / 1000;
	if (netio_now_ms() + wait_ms > cap->wait_until_ms) {
	    cap->busy_out = 1;
	    break;
	}
	cap->waited = 1;
	if (wait_ms > 0)
	    usleep((useconds_t) (wait_ms * 1000));
    }
    if (pick->index >= 0 && !pick->probe)
	log_choice(cap, st, req, pick);
    return (changed || (pick->index >= 0 && pick->quota_now_full));
}

/* capacity_mail_gate - smtp_request's hook: wait for the MAIL FROM's slot */

void    capacity_mail_gate(void *ctx)
{
    struct mail_gate *gate = ctx;
    struct capacity *cap = gate->cap;
    int64_t wait_us = rrstate_mail_gate(gate->st, gate->index,
					&cap->lims[gate->index], now_us());
    long long left_ms = cap->wait_until_ms - netio_now_ms();

    /* Jitter of connect and EHLO, normally; never beyond rate_wait. */
    if (wait_us / 1000 > left_ms)
	wait_us = left_ms > 0 ? left_ms * 1000 : 0;
    if (wait_us > 0)
	(void) usleep((useconds_t) wait_us);
}

/* capacity_done - the session ended: its slot and unused quota back */

void    capacity_done(struct capacity *cap, struct rrstate *st, int index,
		              int reserved, int used)
{
    if (cap->limited)
	slots_release(&cap->slots);
    rrstate_quota_settle(st, index, &cap->lims[index], reserved, used,
			 time((time_t *) 0));
}

/* capacity_saturate - the host said it is full: skip it, don't blame it */

int     capacity_saturate(const struct capacity *cap, struct rrstate *st,
			          const struct smtp_request *req, int index,
			          const struct smtp_result *res)
{
    struct host_limits none = {1, 0, 0, 1, 0, 0, 86400};
    const struct host_limits *lim = cap ? &cap->lims[index] : &none;
    time_t  now = time((time_t *) 0);
    time_t  until = now + req->conf->throttle_backoff;
    struct rr_change change;
    char    buf[32];

    if (res->saturated == SAT_QUOTA)
	until = lim->quota > 0 ? (time_t) sched_quota_end(lim,
				   sched_window_start(lim, (int64_t) now))
	    : now + req->conf->quota_backoff;
    rrstate_saturate(st, index, res->saturated, until, res->sat_reply, now,
		     &change);
    if (change.changed)
	log_info("%s: host=%s, status=saturated, class=%s, until=%s "
		 "(rule: %s; %s)", req->queue_id, st->hosts[index].dest,
		 saturation_class_name(res->saturated),
		 stamp(until, buf, sizeof(buf)), res->sat_rule, res->sat_reply);
    return (change.changed);
}

/* busy_kind - "rate", "connection" or both, for the hosts at a limit */

static const char *busy_kind(const struct rr_pick *pick, int count)
{
    int     rate = 0;
    int     conn = 0;
    int     i;

    for (i = 0; i < count; i++) {
	rate |= pick->why[i] == AVAIL_RATE;
	conn |= pick->why[i] == AVAIL_CONN;
    }
    return (rate && conn ? "rate or connection" : rate ? "rate" : "connection");
}

/* capacity_nowhere - why no host could take the message */

void    capacity_nowhere(const struct capacity *cap, const struct rrstate *st,
			         const struct rr_pick *pick, char *dsn,
			         size_t dsnlen, char *why, size_t whylen)
{
    const char *reply = "";
    int     count = (int) st->head.count;
    int     i;

    for (i = 0; i < count; i++)
	if (st->hosts[i].saturated_until > (int64_t) time((time_t *) 0))
	    reply = st->hosts[i].sat_reply;
    snprintf(dsn, dsnlen, "4.4.5");
    if (cap && cap->busy_out)
	snprintf(why, whylen, "all %d hosts are at their %s limit (waited "
		 "%lds, rate_wait)", count, busy_kind(pick, count),
		 cap->rate_wait);
    else if (reply[0])
	snprintf(why, whylen, "no host can take it now: all %d hosts are "
		 "saturated or down; the last said it is full: %s", count,
		 reply);
    else
	snprintf(why, whylen, "no host can take it now: all %d hosts are "
		 "down", count);
}
