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
 *	A host that can't take this message (no SMTPUTF8 for a UTF-8
 *	address, a SIZE limit below the message) is not in trouble: the
 *	message goes on to the next host, and bounces (5.6.7, 5.3.4) only
 *	when no host left in the list could take it.
 *
 *	A reply that says the host is full (saturation.c: throttling,
 *	too many connections, a quota), 4xx or 5xx, is not permanent: the
 *	host is skipped for a while (capacity.c), not marked down, and its
 *	recipients go on to the next host; with none left they are
 *	deferred, never bounced.
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
#include <unistd.h>

#include "log.h"
#include "conf/saturation.h"
#include "net/netio.h"
#include "relay.h"
#include "state/sched.h"

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
	if (host->saturated_until > host->down_until)
	    log_info("%s: host=%s, status=skipped (saturated until %s: %s)",
		     relay->req->queue_id, host->dest,
		     when((time_t) host->saturated_until, buf, sizeof(buf)),
		     host->sat_reply);
	else
	    log_info("%s: host=%s, status=skipped (down until %s, "
		     "failures=%lu: %s)", relay->req->queue_id, host->dest,
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
	relay->changed |= change.changed;
	if (change.changed)
	    log_info("%s: host=%s, addr=%s, status=up (answered again after "
		     "%lu failure%s)", relay->req->queue_id, dest, res->addr,
		     (unsigned long) change.failures,
		     change.failures == 1 ? "" : "s");
    }
    if (res->saturated) {
	relay->changed |= capacity_saturate(relay->cap, relay->state,
					    relay->req, index, res);
    } else if (res->host == SMTP_HOST_DOWN && !res->deadline
	       && !res->local_error) {
	rrstate_mark_down(relay->state, index, res->addr, res->error, since,
			  now, conf->backoff, conf->max_backoff, &change);
	relay->changed |= change.changed;
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

/*
 * give_up - what is still pending becomes a temporary failure; but one that
 * the last host could not take (SMTPUTF8, SIZE), with no host left that
 * could, bounces with that DSN
 */

static void give_up(struct relay *relay, const char *dsn, const char *why,
		            int deadline)
{
    struct smtp_request *req = relay->req;
    char    reason[RCPT_REASON_MAX];
    char    dsn_buf[16];
    struct rcpt *r;
    int     i;

    for (i = 0; i < req->nrcpt; i++) {
	r = &req->rcpts[i];
	if (r->state != RCPT_PENDING)
	    continue;
	if (r->unable[0] && !deadline) {
	    snprintf(dsn_buf, sizeof(dsn_buf), "%s", r->unable);
	    snprintf(reason, sizeof(reason), "%s", r->reason);
	    rcpt_set(r, RCPT_PERM, dsn_buf, "%s; no host in the list could "
		     "take it", reason);
	    log_info("%s: to=<%s>, relay=none, delay=%.2f, dsn=%s, "
		     "status=bounced (%s)", req->queue_id, r->addr,
		     (netio_now_ms() - req->start_ms) / 1000.0, r->dsn,
		     r->reason);
	    continue;
	}
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

/* sent - recipients delivered so far */

static int sent(const struct smtp_request *req)
{
    int     i;
    int     count = 0;

    for (i = 0; i < req->nrcpt; i++)
	count += (req->rcpts[i].state == RCPT_SENT);
    return (count);
}

/* choose - the next host: the first of the message when after is -1 */

static void choose(struct relay *relay, int after, const int *tried,
		           struct rr_pick *pick)
{
    long    lim = lease(relay->req->conf);

    if (relay->cap)
	relay->changed |= capacity_pick(relay->cap, relay->state, relay->req,
					tried, after < 0, lim, pick);
    else if (after < 0)
	rrstate_pick(relay->state, time((time_t *) 0), lim, pick);
    else
	rrstate_next(relay->state, after, tried, time((time_t *) 0), lim,
		     pick);
    log_skips(relay, pick);
}

/* attempt - one session with one host, and what it tells the state */

static void attempt(struct relay *relay, int index, struct smtp_result *res)
{
    struct smtp_request *req = relay->req;
    time_t  since = time((time_t *) 0);
    int     bounced = refused(req);
    int     reserved = pending(req);
    int     before = sent(req);
    struct mail_gate gate = {relay->cap, relay->state, index};

    req->no_keep = relay->cap && relay->cap->lims[index].max_conn > 0;
    req->before_mail = relay->cap && relay->cap->lims[index].rate > 0 ?
	capacity_mail_gate : 0;
    req->mail_ctx = &gate;
    smtp_deliver(&relay->list->dests[index], req, res);
    req->before_mail = 0;
    if (relay->cap)
	capacity_done(relay->cap, relay->state, index, reserved,
		      sent(req) - before);
    record(relay, index, res, since, refused(req) > bounced);
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

    req->slow_host = slow_host;
    req->slow_ctx = &slow;
    if (relay->cap)
	capacity_start(relay->cap, req);
    snprintf(why, sizeof(why), "no host was tried");
    choose(relay, -1, tried, &pick);
    if (pick.probe)
	log_info("%s: all %d hosts are down; probing host=%s, whose backoff "
		 "ends first", req->queue_id, relay->list->count,
		 relay->list->dests[pick.index].text);
    if (pick.index < 0)
	capacity_nowhere(relay->cap, relay->state, &pick, dsn, sizeof(dsn),
			 why, sizeof(why));
    for (index = pick.index; index >= 0; index = pick.index) {
	tried[index] = 1;
	slow.index = index;
	attempt(relay, index, &res);
	if (res.saturated) {
	    snprintf(why, sizeof(why), "%s", res.sat_reply);
	    snprintf(dsn, sizeof(dsn), "4.4.5");
	} else if (res.host == SMTP_HOST_DOWN || res.local_error) {
	    snprintf(why, sizeof(why), "%s", res.error);
	    snprintf(dsn, sizeof(dsn), "%s", res.local_error ? "4.3.5" :
		     res.dsn[0] ? res.dsn : "4.4.1");
	}
	if ((deadline = res.deadline) != 0 || res.local_error
	    || pending(req) == 0)
	    break;
	choose(relay, index, tried, &pick);
	if (pick.index < 0 && relay->cap && relay->cap->busy_out)
	    capacity_nowhere(relay->cap, relay->state, &pick, dsn,
			     sizeof(dsn), why, sizeof(why));
    }
    if (deadline)
	give_up(relay, "4.4.7", "delivery deadline reached before a host "
		"took the message", 1);
    else
	give_up(relay, dsn, why, 0);
    req->slow_host = 0;
    req->slow_ctx = 0;
}
