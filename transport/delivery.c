/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	delivery 3
 * SUMMARY
 *	one message from rrelay's command line to its outcome
 * SYNOPSIS
 *	#include "delivery.h"
 *
 *	int	delivery_args(argc, argv, d, err, errlen)
 *
 *	int	delivery_setup(d, argc, argv, out)
 *
 *	void	delivery_run(d, in_fd, start_ms, deadline_ms, out)
 *
 *	void	delivery_free(d)
 * DESCRIPTION
 *	The whole of a delivery, as rrelay runs it alone and as a worker
 *	of rrelay-cache runs it for a thin rrelay (worker.c): the same
 *	code either way, so round-robin, failover, hand-back, TLS policy
 *	and the capacity limits behave the same.
 *
 *	delivery_args() only parses the command line (see rrelay(8)):
 *	0, or -1 with the reason.
 *
 *	delivery_setup() parses the delivery command line,
 *	loads the settings it names (rrconfig_load_base(): not yet the
 *	files they name) and opens the log. It returns 0,
 *	or -1 with a deferral in out, logged, for a bad command line or
 *	configuration, or a missing sender, list or recipient.
 *
 *	delivery_run() finishes the configuration (rrconfig_finish(): the
 *	HELO name, the TLS, auth and capacity files; a mistake there is a
 *	deferral too), reads the message from in_fd, relays it, hands back
 *	what must go back to Postfix, logs the result and fills out with
 *	the exit status and the text pipe(8) must see. When d->gone says
 *	that nobody waits for the outcome (the thin rrelay that asked for
 *	this delivery was killed), the final dot is not sent and nothing
 *	is handed back: Postfix retries the message, so sending it here
 *	as well could only duplicate it.
 *
 *	delivery_free() releases the configuration.
 *--*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "capacity.h"
#include "delivery.h"
#include "handback.h"
#include "relay.h"
#include "conf/hostlist.h"
#include "msg/address.h"
#include "msg/spool.h"
#include "state/prom.h"
#include "state/rrstate.h"

static const char usage_text[] =
"usage: rrelay [-c FILE] [-o NAME=VALUE]... [-q QUEUE_ID] -f SENDER "
"-n DESTINATIONS -- RECIPIENT...";

/* refuse - trouble of our own before the delivery: a logged deferral */

static int refuse(const struct delivery *d, struct outcome *out,
		          const char *dsn, const char *why)
{
    outcome_defer(out, dsn, "%s", why);
    log_error("%s: %s", d->queue_id, out->text);
    return (-1);
}

/* delivery_args - the delivery command line */

int     delivery_args(int argc, char **argv, struct delivery *d, char *err,
		              size_t errlen)
{
    int     ch;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    memset(d, 0, sizeof(*d));
    d->config = RRELAY_CONFIG;
    d->queue_id = "NOQUEUE";
    opterr = 0;
    optind = 0;					/* glibc: start afresh */
    while ((ch = getopt(argc, argv, "+c:o:q:f:n:")) != -1) {
	switch (ch) {
	case 'c':
	    d->config = optarg;
	    d->config_given = 1;
	    break;
	case 'o':
	    if (d->n_overrides >= DELIVERY_OVERRIDES_MAX) {
		snprintf(err, errlen, "too many -o options");
		return (-1);
	    }
	    d->overrides[d->n_overrides++] = optarg;
	    break;
	case 'q':
	    d->queue_id = optarg;
	    break;
	case 'f':
	    d->sender = optarg;
	    break;
	case 'n':
	    d->destinations = optarg;
	    break;
	default:
	    snprintf(err, errlen, "bad option -%c; %s", optopt, usage_text);
	    return (-1);
	}
    }
    d->rcpts = argv + optind;
    d->nrcpt = argc - optind;
    return (0);
}

/* load_config - settings and the log target */

static int load_config(struct delivery *d, char *err, size_t errlen)
{
    char    why[CF_ERR_MAX];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    d->conf_loaded = 1;			/* rrconfig_free() even after a failure */
    if (rrconfig_load_base(&d->conf, d->config, d->config_given,
			   d->overrides, d->n_overrides, why, sizeof(why)) < 0) {
	snprintf(err, errlen, "configuration error: %s", why);
	return (-1);
    }
    if (log_open("rrelay", d->conf.log, why, sizeof(why)) < 0) {
	snprintf(err, errlen, "configuration error: %s", why);
	return (-1);
    }
    return (0);
}

/* delivery_setup - the command line, the configuration, the log */

int     delivery_setup(struct delivery *d, int argc, char **argv,
		               struct outcome *out)
{
    char    err[1024];

    memset(out, 0, sizeof(*out));
    if (delivery_args(argc, argv, d, err, sizeof(err)) < 0
	|| load_config(d, err, sizeof(err)) < 0)
	return (refuse(d, out, "4.3.5", err));
    if (d->sender == 0)
	return (refuse(d, out, "4.3.5", "no -f SENDER given (use -f '' "
		       "for the null sender)"));
    if (d->destinations == 0)
	return (refuse(d, out, "4.3.5", "no -n DESTINATIONS given"));
    if (d->nrcpt == 0)
	return (refuse(d, out, "4.3.0", "no recipients given"));
    return (0);
}

/* check_addresses - bad syntax is permanent (RFC 3463: 5.1.7 sender, 5.1.3 recipient) */

static void check_addresses(const struct delivery *d, struct rcpt *rcpts)
{
    const char *why;
    const char *sender_why = address_check(d->sender, 1);
    const char *dsn = sender_why ? "5.1.7" : "5.1.3";
    int     i;

    for (i = 0; i < d->nrcpt; i++) {
	rcpts[i].addr = d->rcpts[i];
	why = sender_why ? sender_why : address_check(rcpts[i].addr, 0);
	if (why == 0)
	    continue;
	rcpt_set(&rcpts[i], RCPT_PERM, dsn, "bad %s address syntax: %s",
		 sender_why ? "sender" : "recipient", why);
	log_info("%s: to=<%s>, relay=none, delay=0, dsn=%s, "
		 "status=bounced (%s)", d->queue_id, rcpts[i].addr, dsn,
		 rcpts[i].reason);
    }
}

/* relay_all - the hosts, the state file and the limits, for one message */

static void relay_all(struct delivery *d, struct smtp_request *req,
		              const struct hostlist *list, struct relay *relay)
{
    struct rrstate state;
    struct capacity cap;
    char    why[1024];

    memset(relay, 0, sizeof(*relay));
    relay->list = list;
    relay->state = &state;
    relay->req = req;
    rrstate_open(&state, d->conf.state_directory, list);
    rrstate_limit(&state, d->conf.max_backoff);
    if (d->conf.host_policy) {
	capacity_init(&cap, &d->conf, list);
	relay->cap = &cap;
    }
    relay_message(relay);
    if (relay->cap)
	capacity_close(relay->cap);
    relay->cap = 0;
    relay->state = 0;
    rrstate_close(&state);
    if (prom_flush(d->conf.state_directory, relay->changed, why,
		   sizeof(why)) < 0)
	log_warn("%s: metrics file not written: %s", d->queue_id, why);
}

/* settle - hand back what must go back, and word the result */

static void settle(struct delivery *d, const struct spool *spool,
		           struct rcpt *rcpts, const struct relay *relay,
		           struct outcome *out)
{
    const struct rrconfig *conf = &d->conf;
    char    why[1024];

    outcome_decide(rcpts, d->nrcpt, out);
    if ((out->handback_perm || out->handback_temp)
	&& d->gone && d->gone(d->gone_ctx))
	outcome_defer(out, "4.3.0", "the rrelay process that handed this "
		      "delivery over is gone; nothing was handed back");
    else if ((out->handback_perm
	      && handback(conf, d->queue_id, spool, d->sender, rcpts,
			  d->nrcpt, RCPT_PERM, why, sizeof(why)) < 0)
	     || (out->handback_temp
		 && handback(conf, d->queue_id, spool, d->sender, rcpts,
			     d->nrcpt, RCPT_TEMP, why, sizeof(why)) < 0))
	outcome_defer(out, "4.3.0", "could not hand recipients back to "
		      "Postfix: %s", why);
    else if (out->status == EXIT_SENT && relay->delivered_via[0])
	snprintf(out->text, sizeof(out->text), "delivered via %s",
		 relay->delivered_via);
}

/* delivery_run - relay to the hosts, then hand back what must go back */

void    delivery_run(struct delivery *d, int in_fd, long long start_ms,
		             long long deadline_ms, struct outcome *out)
{
    struct hostlist list;
    struct spool spool;
    struct smtp_request req;
    struct relay relay;
    struct rcpt *rcpts = 0;
    char    why[1024];
    char    err[1100];

    memset(out, 0, sizeof(*out));
    if (rrconfig_finish(&d->conf, d->config, d->overrides, d->n_overrides,
			why, sizeof(why)) < 0) {
	snprintf(err, sizeof(err), "configuration error: %s", why);
	(void) refuse(d, out, "4.3.5", err);
	return;
    }
    if (hostlist_parse(d->destinations, &list, why, sizeof(why)) < 0) {
	(void) refuse(d, out, "4.3.5", why);
	return;
    }
    if (spool_read(&spool, in_fd, d->conf.state_directory, why,
		   sizeof(why)) < 0) {
	(void) refuse(d, out, spool.full ? "4.3.1" : "4.3.0", why);
	return;
    }
    if ((rcpts = calloc((size_t) d->nrcpt, sizeof(*rcpts))) == 0) {
	(void) refuse(d, out, "4.3.0", "out of memory");
	spool_close(&spool);
	return;
    }
    check_addresses(d, rcpts);
    memset(&req, 0, sizeof(req));
    req.conf = &d->conf;
    req.queue_id = d->queue_id;
    req.sender = d->sender;
    req.rcpts = rcpts;
    req.nrcpt = d->nrcpt;
    req.spool = &spool;
    req.start_ms = start_ms;
    req.deadline_ms = deadline_ms;
    req.before_dot = d->gone;
    req.dot_ctx = d->gone_ctx;
    relay_all(d, &req, &list, &relay);
    settle(d, &spool, rcpts, &relay, out);
    log_info("%s: result=%s, exit=%d (%s)", d->queue_id,
	     out->status == EXIT_SENT ? "sent" :
	     out->status == EXIT_BOUNCE ? "bounced" : "deferred",
	     out->status, out->text[0] ? out->text : "-");
    spool_close(&spool);
    free(rcpts);
}

/* delivery_free - release what delivery_setup() loaded */

void    delivery_free(struct delivery *d)
{
    if (d->conf_loaded)
	rrconfig_free(&d->conf);
    d->conf_loaded = 0;
}
