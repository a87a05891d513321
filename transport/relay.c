/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	relay 3
 * SUMMARY
 *	choose hosts for one message and fail over between them
 * SYNOPSIS
 *	#include "relay.h"
 *
 *	void	relay_message(relay)
 * DESCRIPTION
 *	relay_message() is the failover policy. It takes the next live
 *	host from the shared round-robin state (or, when every host is
 *	down, probes the one whose backoff ends first), and offers the
 *	message to it. What happened there decides what comes next:
 *
 *	Host trouble (no address, connect failure, a greeting or EHLO
 *	that is not 2xx, 421, lost connection, timeout, broken replies):
 *	the host is marked down and the next live host is tried.
 *
 *	A slow host (no greeting after greeting_grace) while another live
 *	host is left for the message: host trouble, as above. So a host
 *	that accepts connections but never greets costs each delivery that
 *	meets it greeting_grace, not command_timeout, and Postfix's
 *	delivery slots don't all end up waiting for it. With no other
 *	host left, the wait goes on up to command_timeout.
 *
 *	Message trouble (4xx to MAIL, RCPT, DATA or the final dot): the
 *	recipients that got it are offered to the next live host; the
 *	host is not marked down.
 *
 *	Permanent (5xx) and sent recipients are done. A recipient left
 *	unknown after the final dot is deferred and offered nowhere else.
 *
 *	Trouble of rrelay's own in a session (a TLS set-up that fails
 *	locally) stops the run: the message is deferred with 4.3.5 and no
 *	host is blamed.
 *
 *	Each host is tried at most once per message. When no live host is
 *	left, the recipients still pending become temporary failures,
 *	with the last reply they got, or the reason the hosts were down.
 *	Every skip, every host that goes down or comes back up, and every
 *	recipient's result is logged.
 *--*/

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "netio.h"
#include "relay.h"

/* lease - how long a process may probe a host alone */

static long lease(const struct rrconfig *conf)
{
    return (conf->connect_timeout + 2 * conf->command_timeout);
}

/* when - a time stamp for the log */

static const char *when(time_t t, char *buf, size_t len)
{
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    return (buf);
}

/* struct slow - what the slow-host hook needs to know */

struct slow {
    struct relay *relay;
    int     index;			/* the host being waited for */
    const int *tried;			/* hosts this message has tried */
};

/* slow_host - no greeting yet: leave the host if another one is live */

static int slow_host(void *ctx)
{
    struct slow *slow = ctx;

    return (rrstate_other_live(slow->relay->state, slow->index, slow->tried,
			       time((time_t *) 0)));
}

/* log_skips - one line for each down host that was passed over */

static void log_skips(struct relay *relay, const struct rr_pick *pick)
{
    const struct rr_host *host;
    char    buf[32];
    int     i;

    for (i = 0; i < pick->nskipped; i++) {
	host = &relay->state->hosts[pick->skipped[i]];
	log_info("%s: host=%s, status=skipped (down until %s, failures=%lu: "
		 "%s)", relay->req->queue_id, host->dest,
		 when((time_t) host->down_until, buf, sizeof(buf)),
		 (unsigned long) host->failures, host->last_error);
    }
}

/* pending - recipients that another host could still take */

static int pending(const struct smtp_request *req)
{
    int     i;
    int     count = 0;

    for (i = 0; i < req->nrcpt; i++)
	if (req->rcpts[i].state == RCPT_PENDING && !req->rcpts[i].final)
	    count++;
    return (count);
}

/* refused - recipients refused for good so far */

static int refused(const struct smtp_request *req)
{
    int     i;
    int     count = 0;

    for (i = 0; i < req->nrcpt; i++)
	count += (req->rcpts[i].state == RCPT_PERM);
    return (count);
}

/* record - put one session's result into the shared state and the log */

static void record(struct relay *relay, int index,
		           const struct smtp_result *res, time_t since,
		           int bounced)
{
    const struct rrconfig *conf = relay->req->conf;
    const char *dest = relay->list->dests[index].text;
    struct rr_change change;
    time_t  now = time((time_t *) 0);

    if (res->reached && res->host != SMTP_HOST_DOWN) {
	rrstate_mark_up(relay->state, index, res->addr,
			(res->tls_active ? RR_TLS_USED : 0)
			| (res->tls_verified ? RR_TLS_VERIFIED : 0),
			res->delivered ? 1 : 0, now, &change);
	if (change.changed)
	    log_info("%s: host=%s, addr=%s, status=up (answered again after "
		     "%lu failure%s)", relay->req->queue_id, dest, res->addr,
		     (unsigned long) change.failures,
		     change.failures == 1 ? "" : "s");
    }
    if (res->host == SMTP_HOST_DOWN && !res->deadline && !res->local_error) {
	rrstate_mark_down(relay->state, index, res->addr, res->error, since,
			  now, conf->backoff, conf->max_backoff, &change);
	log_info("%s: host=%s, addr=%s, status=down, failures=%lu, "
		 "backoff=%lds%s (%s)", relay->req->queue_id, dest,
		 res->addr[0] ? res->addr : "none",
		 (unsigned long) change.failures, change.backoff,
		 change.counted ? "" : ", counted by another delivery",
		 res->error);
    } else if (res->error[0]) {
	rrstate_note_error(relay->state, index, res->error, now);
    }
    if (res->delivered) {
	if (!res->reached || res->host == SMTP_HOST_DOWN)
	    rrstate_count_sent(relay->state, index, now);
	snprintf(relay->delivered_via, sizeof(relay->delivered_via), "%s",
		 res->relay);
    } else if (!res->local_error && !res->deadline) {
	rrstate_count_result(relay->state, index, bounced ?
			     RR_RESULT_BOUNCED : RR_RESULT_DEFERRED, now);
    }
}

/* give_up - what is still pending becomes a temporary failure */

static void give_up(struct relay *relay, const char *dsn, const char *why)
{
    struct smtp_request *req = relay->req;
    char    reason[RCPT_REASON_MAX];
    struct rcpt *r;
    int     i;

    for (i = 0; i < req->nrcpt; i++) {
	r = &req->rcpts[i];
	if (r->state != RCPT_PENDING)
	    continue;
	if (r->reason[0]) {
	    snprintf(reason, sizeof(reason), "%s", r->reason);
	    rcpt_set(r, RCPT_TEMP, r->dsn, "%s", reason);
	    continue;
	}
	rcpt_set(r, RCPT_TEMP, dsn, "%s", why);
	log_info("%s: to=<%s>, relay=none, delay=%.2f, dsn=%s, "
		 "status=deferred (%s)", req->queue_id, r->addr,
		 (netio_now_ms() - req->start_ms) / 1000.0, r->dsn, r->reason);
    }
}

/* relay_message - offer the message to live hosts until it is placed */

void    relay_message(struct relay *relay)
{
    struct smtp_request *req = relay->req;
    struct smtp_result res;
    struct rr_pick pick;
    int     tried[HOSTLIST_MAX] = {0};
    int     index;
    char    why[RCPT_REASON_MAX];
    char    dsn[16] = "4.4.1";
    int     deadline = 0;
    struct slow slow = {relay, -1, tried};
    time_t  since;
    int     bounced;

    req->slow_host = slow_host;
    req->slow_ctx = &slow;

    rrstate_pick(relay->state, time((time_t *) 0), lease(req->conf), &pick);
    log_skips(relay, &pick);
    if (pick.probe)
	log_info("%s: all %d hosts are down; probing host=%s, whose backoff "
		 "ends first", req->queue_id, relay->list->count,
		 relay->list->dests[pick.index].text);
    snprintf(why, sizeof(why), "no host was tried");
    for (index = pick.index; index >= 0; index = pick.index) {
	tried[index] = 1;
	slow.index = index;
	since = time((time_t *) 0);
	bounced = refused(req);
	smtp_deliver(&relay->list->dests[index], req, &res);
	record(relay, index, &res, since, refused(req) > bounced);
	if (res.host == SMTP_HOST_DOWN || res.local_error) {
	    snprintf(why, sizeof(why), "%s", res.error);
	    snprintf(dsn, sizeof(dsn), "%s", res.local_error ? "4.3.5" :
		     res.dsn[0] ? res.dsn : "4.4.1");
	}
	if ((deadline = res.deadline) != 0 || res.local_error
	    || pending(req) == 0)
	    break;
	rrstate_next(relay->state, index, tried, time((time_t *) 0),
		     lease(req->conf), &pick);
	log_skips(relay, &pick);
    }
    if (deadline)
	give_up(relay, "4.4.7", "delivery deadline reached before a host "
		"took the message");
    else
	give_up(relay, dsn, why);
    req->slow_host = 0;
    req->slow_ctx = 0;
}
