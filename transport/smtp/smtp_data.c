/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_data 3
 * SUMMARY
 *	MAIL, RCPT, DATA, the body and the final dot
 * SYNOPSIS
 *	#include "smtp/smtp_session.h"
 *
 *	void	smtp_step_mail(s)
 *	void	smtp_step_rcpt(s)
 *	void	smtp_step_data(s)
 *	void	smtp_step_body(s)
 *	void	smtp_step_dot(s)
 * DESCRIPTION
 *	The mail transaction: MAIL FROM with SIZE=, BODY= and SMTPUTF8
 *	(and, when the server pipelines, RCPT TO and DATA in the same
 *	write), each RCPT TO's reply per recipient, DATA, the body
 *	streamed from the spool through wire_convert() with its last
 *	block and the final dot in one write, and the reply to the dot,
 *	which decides; no reply to the dot is final for the recipients
 *	(another host could duplicate the message).
 *--*/

#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg/address.h"
#include "ipc/cache_client.h"
#include "net/netio.h"
#include "smtp/resolve.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_session.h"
#include "net/smtp_reply.h"
#include "tls/tls.h"
#include "tls/tls_resume.h"
#include "conf/tlspolicy.h"
#include "smtp/wire.h"

static char body_in[BODY_BLOCK];
static char body_out[WIRE_OUT_MAX(BODY_BLOCK) + WIRE_OUT_MAX(0)];

/* needs_utf8 - an envelope address needs SMTPUTF8 */

static int needs_utf8(const struct session *s)
{
    int     i;

    if (address_needs_utf8(s->req->sender))
	return (1);
    for (i = 0; i < s->npart; i++)
	if (address_needs_utf8(s->req->rcpts[s->part[i]].addr))
	    return (1);
    return (0);
}

/* mail_params - SIZE=, BODY= and SMTPUTF8 for MAIL FROM */

static void mail_params(struct session *s, char *buf, size_t len)
{
    size_t  used = 0;

    buf[0] = 0;
    if (s->feat.size)
	used += snprintf(buf + used, len - used, " SIZE=%lld",
			 (long long) spool_wire_estimate(s->req->spool));
    if (s->req->spool->eightbit && s->feat.eightbitmime && used < len)
	used += snprintf(buf + used, len - used, " BODY=8BITMIME");
    if (needs_utf8(s) && used < len)
	snprintf(buf + used, len - used, " SMTPUTF8");
}

/* smtp_step_mail - MAIL FROM (and, when pipelining, RCPT TO and DATA too) */

void    smtp_step_mail(struct session *s)
{
    struct smtp_reply reply;
    char    params[128];
    char    why[RCPT_REASON_MAX];
    int     i;

    if (s->feat.size && s->feat.size_limit > 0
	&& spool_wire_estimate(s->req->spool) > s->feat.size_limit) {
	snprintf(why, sizeof(why), "message size %lld exceeds size limit "
		 "%lld of server %s", (long long)
		 spool_wire_estimate(s->req->spool), s->feat.size_limit,
		 s->res->relay);
	smtp_unable_all(s, "5.3.4", why);
	return;
    }
    if (needs_utf8(s) && !s->feat.smtputf8) {
	snprintf(why, sizeof(why), "SMTPUTF8 is required, but was not "
		 "offered by host %s", s->res->relay);
	smtp_unable_all(s, "5.6.7", why);
	return;
    }
    mail_params(s, params, sizeof(params));
    if (s->req->before_mail)
	s->req->before_mail(s->req->mail_ctx);
    if (smtp_queue_cmd(s, "MAIL FROM:<%s>%s\r\n", s->req->sender, params) < 0)
	return;
    if (s->feat.pipelining) {
	for (i = 0; i < s->npart; i++)
	    if (smtp_queue_cmd(s, "RCPT TO:<%s>%s\r\n",
			  s->req->rcpts[s->part[i]].addr, "") < 0)
		return;
	if (smtp_queue_cmd(s, "DATA\r\n%s%s", "", "") < 0)
	    return;
    }
    if (smtp_flush(s) < 0 || smtp_get_reply(s, &reply) < 0
	|| (reply.code == 421 && s->cache.reused)) {
	if ((s->cache.stale = s->cache.reused) != 0)
	    s->state = S_DONE;			/* smtp_deliver() connects */
	return;
    }
    if (reply.code / 100 == 2) {
	s->state = S_RCPT;
	return;
    }
    for (i = 0; i < s->npart; i++)
	smtp_rcpt_reply(s, &s->req->rcpts[s->part[i]], &reply);
    if (reply.code == 421)
	smtp_host_down(s, "host %s said: %s (in reply to MAIL FROM command)",
		  reply.text);
    else
	s->state = S_QUIT;
}

/* pending_reply - a 421: it is the reply of every recipient still pending here */

static void pending_reply(struct session *s, const struct smtp_reply *reply)
{
    struct rcpt *r;
    int     i;

    for (i = 0; i < s->npart; i++) {
	r = &s->req->rcpts[s->part[i]];
	if (r->state == RCPT_PENDING)
	    smtp_rcpt_reply(s, r, reply);
    }
}

/* smtp_step_rcpt - one RCPT TO per recipient (already sent if pipelining) */

void    smtp_step_rcpt(struct session *s)
{
    struct smtp_reply reply;
    int     i;

    for (i = 0; i < s->npart; i++) {
	if (!s->feat.pipelining && smtp_queue_cmd(s, "RCPT TO:<%s>%s\r\n",
				      s->req->rcpts[s->part[i]].addr, "") < 0)
	    return;
	if (smtp_flush(s) < 0 || smtp_get_reply(s, &reply) < 0)
	    return;
	if (reply.code == 421) {
	    pending_reply(s, &reply);
	    smtp_host_down(s, "host %s said: %s (in reply to RCPT TO command)",
		      reply.text);
	    return;
	}
	if (reply.code / 100 == 2) {
	    s->accepted[i] = 1;
	    s->naccepted++;
	} else {
	    smtp_rcpt_reply(s, &s->req->rcpts[s->part[i]], &reply);
	}
    }
    s->state = S_DATA;
}

/* smtp_step_data - DATA; with no recipient accepted, only clean up */

void    smtp_step_data(struct session *s)
{
    struct smtp_reply reply;

    if (s->naccepted == 0 && !s->feat.pipelining) {
	s->state = S_QUIT;
	return;
    }
    if (!s->feat.pipelining && smtp_queue_cmd(s, "DATA\r\n%s%s", "", "") < 0)
	return;
    if (smtp_flush(s) < 0 || smtp_get_reply(s, &reply) < 0)
	return;
    if (s->naccepted == 0) {
	/* Pipelined DATA that a broken server accepted with no recipient. */
	if (reply.code == 354) {
	    s->state = S_DOT;
	    (void) (smtp_queue_cmd(s, ".\r\n%s%s", "", "") == 0 && smtp_flush(s) == 0
		    && smtp_get_reply(s, &reply) == 0);
	}
	if (s->state != S_DONE)
	    s->state = S_QUIT;
	return;
    }
    if (reply.code == 354) {
	s->state = S_BODY;
	return;
    }
    if (reply.code == 421 || reply.code / 100 < 4) {
	if (reply.code == 421)
	    pending_reply(s, &reply);
	smtp_host_down(s, "host %s said: %s (in reply to DATA command)",
		  reply.text);
	return;
    }
    smtp_accepted_reply(s, &reply);
    s->state = S_QUIT;
}

/* abandoned - nobody waits for this delivery: no final dot, no other host */

static int abandoned(struct session *s)
{
    if (s->req->before_dot == 0 || s->req->before_dot(s->req->dot_ctx) == 0)
	return (0);
    s->res->local_error = 1;
    snprintf(s->res->error, sizeof(s->res->error), "the rrelay process that "
	     "handed this delivery over is gone; the final dot was not sent");
    log_warn("%s: %s; the host is not blamed", s->req->queue_id,
	     s->res->error);
    s->state = S_DONE;
    return (1);
}

/* smtp_step_body - stream the spooled message, converted for the wire */

void    smtp_step_body(struct session *s)
{
    struct wire wire;
    off_t   offset = 0;
    ssize_t n;
    size_t  len;
    int     status;
    int     finished = 0;

    wire_init(&wire, WIRE_LINE_LIMIT);
    for (;;) {
	n = pread(s->req->spool->fd, body_in, sizeof(body_in), offset);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0) {
	    snprintf(s->res->error, sizeof(s->res->error), "read spool file: "
		     "%s", strerror(errno));
	    s->state = S_DONE;
	    return;
	}
	if (n == 0)
	    break;
	offset += n;
	len = wire_convert(&wire, body_in, (size_t) n, body_out);
	if (offset == s->req->spool->size) {	/* the end: one write */
	    if (abandoned(s))
		return;
	    len += wire_finish(&wire, body_out + len);
	    finished = 1;
	}
	status = netio_write(&s->io, body_out, len, smtp_state_deadline(s));
	if (status != NETIO_OK) {
	    smtp_io_fail(s, status);
	    return;
	}
	if (finished)
	    break;
    }
    if (!finished && abandoned(s))
	return;
    if (!finished && (status = netio_write(&s->io, body_out,
					   wire_finish(&wire, body_out),
					   smtp_state_deadline(s))) != NETIO_OK) {
	smtp_io_fail(s, status);
	return;
    }
    s->state = S_DOT;
}

/* unknown_after_dot - no reply to the final dot: defer, try no other host */

static void unknown_after_dot(struct session *s)
{
    struct rcpt *r;
    int     i;

    for (i = 0; i < s->npart; i++) {
	if (!s->accepted[i])
	    continue;
	r = &s->req->rcpts[s->part[i]];
	rcpt_set(r, RCPT_TEMP, "4.4.2", "%s; the message may already be "
		 "delivered, so no other host is tried", s->res->error);
	r->final = 1;
	smtp_log_rcpt(s, r, "deferred", r->reason);
    }
}

/* smtp_step_dot - the reply to the final dot decides */

void    smtp_step_dot(struct session *s)
{
    struct smtp_reply reply;
    struct rcpt *r;
    int     i;

    if (smtp_get_reply(s, &reply) < 0) {
	unknown_after_dot(s);
	return;
    }
    if (reply.code / 100 != 2) {
	smtp_accepted_reply(s, &reply);
	if (reply.code == 421)
	    smtp_host_down(s, "host %s said: %s (in reply to end of DATA command)",
		      reply.text);
	else
	    s->state = S_QUIT;
	return;
    }
    for (i = 0; i < s->npart; i++) {
	if (!s->accepted[i])
	    continue;
	r = &s->req->rcpts[s->part[i]];
	rcpt_set(r, RCPT_SENT, reply.dsn, "%s", reply.text);
	smtp_log_rcpt(s, r, "sent", reply.text);
    }
    s->res->delivered = 1;
    s->state = S_QUIT;
}

